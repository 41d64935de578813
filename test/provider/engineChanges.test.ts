// The gaps closed after the first pass, each asserted on the engine's state:
// - re-export with `exclusive` only when the source changed (a snapshot created on the source),
// - shutdownIfRunning: clean ACPI shutdown, and the hard `stop` after shutdownTimeoutSeconds for a guest that
//   ignores it; no opt-in = refused at preview,
// - ExportDomainAttachment through the engine's transitional statuses (adaptive waiting, no request storm),
// - VmImport.cpuProfile resolved in the target cluster (preview error listing the cluster's profiles, set after the
//   import, changed in place).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { Agent, request } from "undici";
import { XMLParser } from "fast-xml-parser";
import { TestSimulator, startTestSimulator, diskReport, shas } from "../support/simulator";
import { providerOf, checkAndCreate, PASSWORD, PROVIDER_SIM } from "./helpers";
import type { Inventory } from "../../simulator";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const EDA = "ExportDomainAttachment";

const inventory: Inventory = {
  dataCenters: [
    {
      name: "dc-a",
      clusters: [{ name: "cl-a" }],
      hosts: [{ name: "host-a", cluster: "cl-a" }],
      storageDomains: [{ name: "data-a", sizeGiB: 20 }],
    },
    {
      name: "dc-b",
      clusters: [{ name: "cl-b", cpuProfiles: ["gold", "silver"] }],
      hosts: [{ name: "host-b", cluster: "cl-b" }],
      storageDomains: [{ name: "data-b", sizeGiB: 20 }],
    },
  ],
  exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a" }],
  vms: [
    { name: "src-01", cluster: "cl-a", disks: [{ sizeMiB: 8 }, { sizeMiB: 4, sparse: false }] },
    { name: "stubborn-01", cluster: "cl-a", status: "up", disks: [{ sizeMiB: 2 }] },
    { name: "polite-01", cluster: "cl-a", status: "up", disks: [{ sizeMiB: 2 }] },
  ],
};

describe("provider: re-export on change, shutdown fallback, storage transitions, CPU profiles", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let engine: any;
  let agent: Agent;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", parseTagValue: false });
  /** A raw API call (Basic auth), independent of the client under test. */
  const api = async (method: string, p: string, body?: string) => {
    const r = await request(`${sim.engine.url}/${p}`, {
      method: method as any,
      dispatcher: agent,
      body,
      headers: {
        authorization: `Basic ${Buffer.from(`admin@internal:${PASSWORD}`).toString("base64")}`,
        "content-type": "application/xml",
        accept: "application/xml",
        version: "4",
      },
    });
    const text = await r.body.text();
    return { status: r.statusCode, text, xml: text ? parser.parse(text) : undefined };
  };
  const events = async (code: number, vmName: string) => {
    const r = await api("GET", `events?search=${encodeURIComponent(`type=${code} and vm.name=${vmName}`)}`);
    const e = r.xml?.events?.event;
    return e === undefined ? [] : Array.isArray(e) ? e : [e];
  };

  // a new simulator for every test: each sets up the copies and moves it needs (none relies on an earlier test)
  beforeEach(async () => {
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory, bandwidthMiBps: 500 });
    engine = sim.engine;
    agent = new Agent({ connect: { ca: fs.readFileSync(sim.engine.caFile, "utf8") } });
  });
  afterEach(async () => {
    await closeAllEngines();
    await agent?.close();
    await sim?.close();
  });
  beforeEach(() => clearReadCache());

  describe("VmExport with exclusive re-exports only when the source changed", () => {
    const args = () => ({ engine, exportDomain: "exp", name: "src-01", exclusive: true });

    it("export, then diff says no change (twice: the fingerprint is stable)", async () => {
      const exp = await checkAndCreate("VmExport", args());
      const rep = await diskReport(sim);
      const src = rep.vms.find((v) => v.name === "src-01");
      const copy = rep.exportDomains.find((e) => e.name === "exp")!.vms.find((v) => v.id === exp.outs.sourceId);
      assert.deepEqual(shas(copy), shas(src));
      for (let i = 0; i < 2; i++) {
        const d = await providerOf("VmExport").diff(exp.id, exp.outs, args());
        assert.equal(d.changes, false, JSON.stringify(d));
      }
    });

    it("a snapshot created on the source: diff says update; update re-exports; the copy equals the new source content", async () => {
      const exp = await checkAndCreate("VmExport", args()); // set-up: the export whose source then changes
      const before = shas((await diskReport(sim)).vms.find((v) => v.name === "src-01"));
      const vmId = exp.outs.sourceId;
      const r = await api("POST", `vms/${vmId}/snapshots`, "<snapshot><description>after-export</description></snapshot>");
      assert.equal(r.status, 201, r.text);
      const c = connect(engine);
      const { poll } = require("../../provider/client/wait");
      await poll(async () => ((await c.vms.get(vmId))?.status === "down" ? { done: true, value: 1 } : { done: false }), { what: "snapshot", deadline: Date.now() + 30_000 });
      const now = shas((await diskReport(sim)).vms.find((v) => v.name === "src-01"));
      assert.notDeepEqual(now, before, "the snapshot changed the source content");

      const d = await providerOf("VmExport").diff(exp.id, exp.outs, args());
      assert.equal(d.changes, true);
      assert.deepEqual(d.replaces, []);
      await sim.resetRequests();
      const u = await providerOf("VmExport").update(exp.id, exp.outs, args());
      const log = await sim.admin("GET", "/requests");
      assert.equal(log.byPath["POST /ovirt-engine/api/vms/{id}/export"], 1, "exactly one export");
      assert.notEqual(u.outs.sourceFingerprint, exp.outs.sourceFingerprint);
      const rep = await diskReport(sim);
      const copy = rep.exportDomains.find((e) => e.name === "exp")!.vms.find((v: any) => v.id === vmId) as any;
      assert.deepEqual(shas(copy), now, "export domain holds the new content");
      assert.equal(copy.snapshots, 1, "the new snapshot is in the exported OVF");
      // and now it is current again
      const d2 = await providerOf("VmExport").diff(exp.id, u.outs, args());
      assert.equal(d2.changes, false);
    });
  });

  describe("shutdownIfRunning", () => {
    it("without the opt-in a running VM is refused at preview, naming shutdownIfRunning; nothing is sent", async () => {
      await sim.resetRequests();
      const r = await providerOf("VmExport").check({}, { engine, exportDomain: "exp", name: "polite-01" });
      assert.ok(r.failures.some((f: any) => f.property === "shutdownIfRunning" && /polite-01 is up/.test(f.reason)), JSON.stringify(r.failures));
      assert.equal(await sim.mutating(), 0);
      assert.equal((await connect(engine).vms.findByName("polite-01"))?.status, "up");
    });

    it("a guest that shuts down cleanly: ACPI shutdown only, no hard stop", async () => {
      const r = await checkAndCreate("VmExport", { engine, exportDomain: "exp", name: "polite-01", shutdownIfRunning: true, shutdownTimeoutSeconds: 2 });
      assert.equal((await connect(engine).vms.findByName("polite-01"))?.status, "down");
      assert.equal((await events(73, "polite-01")).length, 1, "shutdown requested");
      assert.equal((await events(33, "polite-01")).length, 0, "no power-off");
      assert.ok((await diskReport(sim)).exportDomains[0].vms.some((v) => v.id === r.outs.sourceId));
    });

    it("a guest that ignores the ACPI shutdown is powered off after shutdownTimeoutSeconds, then exported", async () => {
      await sim.admin("PUT", "/faults", { rules: [{ match: { entity: "vm", name: "stubborn-01" }, effect: { guest: "ignore-shutdown" } }] });
      const t0 = Date.now();
      const r = await checkAndCreate("VmExport", { engine, exportDomain: "exp", name: "stubborn-01", shutdownIfRunning: true, shutdownTimeoutSeconds: 2 });
      const took = Date.now() - t0;
      assert.ok(took >= 2000, `waited the grace first (${took} ms)`);
      assert.ok(took < 30_000, `did not wait the 300 s default (${took} ms)`);
      assert.equal((await connect(engine).vms.findByName("stubborn-01"))?.status, "down");
      assert.equal((await events(73, "stubborn-01")).length, 1, "shutdown requested first");
      assert.equal((await events(33, "stubborn-01")).length, 1, "then powered off");
      assert.ok((await diskReport(sim)).exportDomains[0].vms.some((v) => v.id === r.outs.sourceId));
    });
  });

  describe("ExportDomainAttachment through the engine's transitional statuses", () => {
    it("moves exp from dc-a to dc-b (preparing_for_maintenance, detaching, locked, maintenance, activating) with adaptive polling", async () => {
      await sim.admin("PUT", "/storage-transition", { ms: 250 });
      const src = await checkAndCreate(EDA, { engine, exportDomain: "exp", dataCenter: "dc-a", handOffTo: { dataCenter: "dc-b" } });
      assert.equal(src.outs.status, "active");
      await sim.resetRequests();
      const t0 = Date.now();
      const dst = await checkAndCreate(EDA, { engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
      const took = Date.now() - t0;
      assert.equal(dst.outs.status, "active");
      // deactivate (1 step) + detach (1) + attach (3) transitional statuses of 250 ms each
      assert.ok(took >= 5 * 250, `waited through the transitions (${took} ms)`);
      const c = connect(engine);
      const dcB = (await c.datacenters.findByName("dc-b"))!;
      const dcA = (await c.datacenters.findByName("dc-a"))!;
      assert.equal((await c.attachedStorageDomains.get(dcB.id, dst.id))?.status, "active");
      assert.equal(await c.attachedStorageDomains.get(dcA.id, dst.id), undefined);
      const log = await sim.admin("GET", "/requests");
      const gets = log.byPath["GET /ovirt-engine/api/datacenters/{id}/storagedomains/{id}"] ?? 0;
      assert.ok(gets < 60, `adaptive polling, not a storm: ${gets} status reads in ${took} ms`);
      assert.ok((log.byPath["POST /ovirt-engine/api/datacenters/{id}/storagedomains/{id}/activate"] ?? 0) <= 3, JSON.stringify(log.byPath));
      assert.equal(log.byPath["POST /ovirt-engine/api/datacenters/{id}/storagedomains"], 1, "one attach");
      const failed = log.log.filter((l: any) => l.method !== "GET" && l.status >= 400 && !/activate$/.test(l.path));
      assert.deepEqual(failed, [], "no refused operation besides an activate racing the engine's auto-activation");
      await sim.admin("PUT", "/storage-transition", { ms: 150 });
    });
  });

  describe("VmImport.cpuProfile", () => {
    const base = () => ({ engine, exportDomain: "exp", name: "src-01", cluster: "cl-b", storageDomain: "data-b", onConflict: "clone" });
    beforeEach(async () => {
      // set-up: src-01's copy on exp, and exp moved from dc-a to dc-b (cl-b's data center)
      await checkAndCreate("VmExport", { engine, exportDomain: "exp", name: "src-01", exclusive: true });
      await checkAndCreate(EDA, { engine, exportDomain: "exp", dataCenter: "dc-a", handOffTo: { dataCenter: "dc-b" } });
      await checkAndCreate(EDA, { engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
    });

    it("an unknown profile fails at preview naming cpuProfile and listing the target cluster's profiles", async () => {
      await sim.resetRequests();
      const r = await providerOf("VmImport").check({}, { ...base(), cpuProfile: "platinum" });
      const f = r.failures.find((x: any) => x.property === "cpuProfile");
      assert.ok(f, JSON.stringify(r.failures));
      assert.match(f.reason, /cluster cl-b has no CPU profile "platinum"/);
      assert.match(f.reason, /"cl-b".*"gold".*"silver"|"gold".*"silver".*"cl-b"|"cl-b".*"silver".*"gold"/);
      assert.equal(await sim.mutating(), 0);
    });

    it("imports with cpuProfile gold: the engine VM runs with gold of cl-b; changing it is an in-place update", async () => {
      const c = connect(engine);
      const cl = (await c.clusters.findByName("cl-b"))!;
      const profiles = await c.clusters.cpuProfiles(cl.id);
      const id = (n: string) => profiles.find((p) => p.name === n)!.id;
      const imp = await checkAndCreate("VmImport", { ...base(), cpuProfile: "gold" });
      assert.equal((await c.vms.get(imp.outs.vmId))?.cpu_profile?.id, id("gold"));
      assert.equal(imp.outs.cpuProfileId, id("gold"));

      const news = { ...base(), cpuProfile: "silver" };
      const d = await providerOf("VmImport").diff(imp.id, imp.outs, news);
      assert.equal(d.changes, true);
      assert.deepEqual(d.replaces ?? [], []);
      const u = await providerOf("VmImport").update(imp.id, imp.outs, news);
      assert.equal((await c.vms.get(imp.outs.vmId))?.cpu_profile?.id, id("silver"));
      assert.equal(u.outs.cpuProfileId, id("silver"));
      await providerOf("VmImport").delete(imp.id, u.outs);
      assert.equal(await c.vms.get(imp.outs.vmId), undefined);
    });
  });
});
