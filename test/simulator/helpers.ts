// Shared helpers of the simulator tests.
import * as assert from "node:assert/strict";
import { arr, TestSimulator } from "../support/simulator";

export async function idOf(t: TestSimulator, coll: string, name: string): Promise<string> {
  const single = coll === "datacenters" ? "data_center" : coll === "storagedomains" ? "storage_domain" : coll.replace(/s$/, "");
  const plural = coll === "datacenters" ? "data_centers" : coll === "storagedomains" ? "storage_domains" : coll;
  const r = await t.api("GET", `${coll}?search=name%3D${encodeURIComponent(name)}`);
  assert.equal(r.status, 200, r.text);
  const items = arr(r.xml[plural]?.[single]);
  assert.equal(items.length, 1, `exactly one ${single} named ${name}`);
  return items[0]["@_id"];
}

export interface Ids {
  dcSource: string;
  dcTarget: string;
  export1: string;
  dataSource: string;
  dataTarget: string;
  blockTarget: string;
  clSource: string;
  clTarget: string;
}

export async function ids(t: TestSimulator): Promise<Ids> {
  return {
    dcSource: await idOf(t, "datacenters", "dc-source"),
    dcTarget: await idOf(t, "datacenters", "dc-target"),
    export1: await idOf(t, "storagedomains", "export1"),
    dataSource: await idOf(t, "storagedomains", "data-source"),
    dataTarget: await idOf(t, "storagedomains", "data-target"),
    blockTarget: await idOf(t, "storagedomains", "block-target"),
    clSource: await idOf(t, "clusters", "cl-source"),
    clTarget: await idOf(t, "clusters", "cl-target"),
  };
}

export function xmlAction(inner: string): string {
  return `<action>${inner}</action>`;
}

/** Starts an export and returns the job id (asserting 202 + job link). */
export async function startExport(t: TestSimulator, vmId: string, sdId: string, extra = "", headers: Record<string, string> = {}): Promise<string> {
  const r = await t.api("POST", `vms/${vmId}/export`, xmlAction(`<storage_domain id="${sdId}"/>${extra}`), headers);
  assert.equal(r.status, 202, r.text);
  assert.equal(r.xml.action.status, "pending");
  return r.xml.action.job["@_id"];
}

export async function exportAndWait(t: TestSimulator, vmId: string, sdId: string, extra = ""): Promise<void> {
  const job = await startExport(t, vmId, sdId, extra);
  assert.equal(await t.waitJob(job), "finished");
}

/** Moves the export domain from one DC to another in the same engine (deactivate, detach, attach). */
export async function moveExportDomain(t: TestSimulator, sdId: string, fromDc: string, toDc: string): Promise<void> {
  let r = await t.api("POST", `datacenters/${fromDc}/storagedomains/${sdId}/deactivate`, "<action/>");
  assert.equal(r.status, 200, r.text);
  r = await t.api("DELETE", `datacenters/${fromDc}/storagedomains/${sdId}`);
  assert.equal(r.status, 200, r.text);
  r = await t.api("POST", `datacenters/${toDc}/storagedomains`, `<storage_domain id="${sdId}"/>`);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.xml.storage_domain.status, "active");
}

export async function vmByName(t: TestSimulator, name: string): Promise<any | undefined> {
  const r = await t.api("GET", `vms?search=name%3D${encodeURIComponent(name)}`);
  return arr(r.xml.vms?.vm)[0];
}

export async function diskSums(t: TestSimulator): Promise<any> {
  return t.admin("GET", "disks");
}

export function sumsOf(report: { disks: { sha256: string | null }[] }): string[] {
  return report.disks.map((d) => d.sha256 ?? "null").sort();
}
