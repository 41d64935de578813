// V2V targets as the engine validates them (ImportVmFromExternalProviderCommand, ImportVmFromExternalUrlCommand,
// restapi BackendExternalVmImportsResource), against vcsim: block domains are valid targets (sparse -> cow,
// preallocated -> raw), a drivers ISO needs an active ISO domain (none here: 400 "Invalid ISO image path"), an
// inactive target domain is "inaccessible" (409), and the answer is the request minus the password.
import * as assert from "node:assert/strict";
import { VSphereClient } from "../../lib/vsphere";
import { RunningVcsim, seedVcsim, startVcsim } from "../support/vcsim";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";
import { idOf } from "./helpers";

describe("simulator: V2V targets and answer (ImportVmFromExternalProviderCommand, BackendExternalVmImportsResource)", function () {
  this.timeout(600_000);
  let vc: RunningVcsim;
  let t: TestSimulator;
  before(async () => {
    vc = await startVcsim();
    const c = await VSphereClient.connect({ host: vc.host, username: vc.username, password: vc.password, tls: { insecure: true } });
    await seedVcsim(c, [{ name: "v2v-blk", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] }]);
    await c.logout();
    t = await startTestSimulator({ bandwidthMiBps: 4000 });
  });
  after(async () => {
    await t?.close();
    await vc?.close();
  });

  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const body = async (sdName: string, target: string, extra = "") => {
    const cl = await idOf(t, "clusters", "cl-target");
    const sd = await idOf(t, "storagedomains", sdName);
    const url = `vpx://${vc.username}@${vc.host}/Region%20A/DC%20East/Prod%20Cluster/DC0_C0_H0?no_verify=1`;
    return (
      `<external_vm_import><name>v2v-blk</name><provider>vmware</provider><url>${esc(url)}</url>` +
      `<username>${vc.username}</username><password>${esc(vc.password)}</password>` +
      `<cluster id="${cl}"/><storage_domain id="${sd}"/><vm><name>${target}</name></vm>${extra}</external_vm_import>`
    );
  };
  const waitDone = async (vmId: string) => {
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      const jobs = arr((await t.api("GET", "jobs")).xml.jobs?.job);
      const vm = await t.api("GET", `vms/${vmId}?follow=disk_attachments.disk`);
      if (vm.status === 200 && arr(vm.xml.vm.disk_attachments?.disk_attachment).every((d: any) => d.disk.status === "ok") && !jobs.some((j: any) => j.status === "started")) return vm.xml.vm;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("V2V import did not finish");
  };

  it("a block (iSCSI) domain is a valid target: sparse disks become cow, preallocated ones raw", async () => {
    const sparse = await t.api("POST", "externalvmimports", await body("block-target", "blk-sparse"));
    assert.equal(sparse.status, 201, sparse.text);
    const a = await waitDone(sparse.xml.external_vm_import.vm["@_id"]);
    assert.deepEqual(arr(a.disk_attachments.disk_attachment).map((d: any) => [d.disk.format, d.disk.sparse]), [["cow", "true"]]);
    const pre = await t.api("POST", "externalvmimports", await body("block-target", "blk-pre", "<sparse>false</sparse>"));
    assert.equal(pre.status, 201, pre.text);
    const b = await waitDone(pre.xml.external_vm_import.vm["@_id"]);
    assert.deepEqual(arr(b.disk_attachments.disk_attachment).map((d: any) => [d.disk.format, d.disk.sparse]), [["raw", "false"]]);
    // a file domain: raw whatever the allocation (getDiskVolumeFormat)
    const nfs = await t.api("POST", "externalvmimports", await body("data-target", "nfs-sparse"));
    assert.equal(nfs.status, 201, nfs.text);
    const c = await waitDone(nfs.xml.external_vm_import.vm["@_id"]);
    assert.deepEqual(arr(c.disk_attachments.disk_attachment).map((d: any) => [d.disk.format, d.disk.sparse]), [["raw", "true"]]);
  });

  it("the answer: the request without the password, id links, no host link unless one was given, no Location", async () => {
    const r = await t.api("POST", "externalvmimports", await body("data-target", "echo-1", "<sparse>true</sparse>"));
    assert.equal(r.status, 201, r.text);
    const x = r.xml.external_vm_import;
    assert.equal(x.password, undefined);
    assert.equal(x.name, "v2v-blk");
    assert.equal(x.username, vc.username);
    assert.equal(x.sparse, "true");
    assert.equal(x.host, undefined);
    assert.ok(x.vm["@_id"] && x.vm["@_href"]);
    assert.equal(r.headers.location, undefined);
    await waitDone(x.vm["@_id"]);
  });

  it("a drivers ISO for a VMware source without an active ISO domain: 400 [Invalid ISO image path]; nothing created", async () => {
    const before = arr((await t.api("GET", "vms")).xml.vms.vm).length;
    const r = await t.api("POST", "externalvmimports", await body("data-target", "iso-1", `<drivers_iso id="virtio-win-1.9.iso"/>`));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.fault.detail, "[Invalid ISO image path]");
    assert.equal(arr((await t.api("GET", "vms")).xml.vms.vm).length, before);
  });

  it("an inactive target domain: 409 'The relevant Storage Domain is inaccessible'", async () => {
    const dc = await idOf(t, "datacenters", "dc-target");
    const sd = await idOf(t, "storagedomains", "block-target");
    assert.equal((await t.api("POST", `datacenters/${dc}/storagedomains/${sd}/deactivate`, "<action/>")).status, 200);
    try {
      const r = await t.api("POST", "externalvmimports", await body("block-target", "inactive-1"));
      assert.equal(r.status, 409, r.text);
      assert.equal(r.xml.fault.detail, "[Cannot import VM. The relevant Storage Domain is inaccessible.\n-Please handle Storage Domain issues and retry the operation.]");
    } finally {
      assert.equal((await t.api("POST", `datacenters/${dc}/storagedomains/${sd}/activate`, "<action/>")).status, 200);
    }
  });
});
