// Issue 11 items 1, 3 and 7 (VmImport against the simulator, which follows the 4.5 engine):
// - a template's per-disk storage domains reach the engine where it reads them (<vm><disk_attachments>), for every
//   disk once one is placed; a template disk's allocation (which the engine ignores) fails the preview;
// - a thin VM imported without collapse is planned against where its template really lands (expected, then real);
// - a VM disk allocation collapses the import (the engine applies allocation only to a collapsed copy), sent as the
//   collapse_snapshots query parameter the engine reads.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator, diskReport, shas } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

describe("VmImport: disk placement, allocation and collapse as the engine reads them (issue 11 items 1, 3, 7)", function () {
  this.timeout(300_000);
  let a: TestSimulator;
  let b: TestSimulator;
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-placement-"));
  const sdId = async (name: string) => (await connect(b.engine).storageDomains.findByName(name))!.id;
  const imp = (name: string, more: any = {}) => ({ engine: b.engine, exportDomain: "export1", name, cluster: "cl-b", storageDomain: "data-b1", ...more });

  before(async () => {
    a = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: {
        dataCenters: [
          {
            name: "dc-a",
            clusters: [{ name: "cl-a", cpuArchitecture: "x86_64" }],
            hosts: [{ name: "host-a", cluster: "cl-a", status: "up" }],
            storageDomains: [{ name: "data-a", type: "data", storageType: "nfs", sizeGiB: 50 }],
          },
        ],
        exportDomains: [{ name: "export1", path: path.join(shared, "export1"), attachedTo: "dc-a", status: "active" }],
        templates: [
          {
            name: "tpl",
            cluster: "cl-a",
            storageDomain: "data-a",
            memoryMiB: 1024,
            cpus: 1,
            disks: [
              { alias: "tpl_os", sizeMiB: 8, sparse: false, format: "raw" },
              { alias: "tpl_data", sizeMiB: 4, sparse: true, format: "cow", bootable: false },
            ],
          },
        ],
        vms: [
          { name: "thin", cluster: "cl-a", memoryMiB: 1024, cpus: 1, template: "tpl" },
          { name: "snappy", cluster: "cl-a", memoryMiB: 1024, cpus: 1, snapshots: [{ description: "s1" }], disks: [{ alias: "snappy_disk", sizeMiB: 8, sparse: true, format: "cow" }] },
          {
            name: "two",
            cluster: "cl-a",
            memoryMiB: 1024,
            cpus: 1,
            disks: [
              { alias: "two_a", sizeMiB: 4, sparse: true, format: "cow" },
              { alias: "two_b", sizeMiB: 4, sparse: true, format: "cow", bootable: false },
            ],
          },
        ],
      },
    });
    b = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: {
        dataCenters: [
          {
            name: "dc-b",
            clusters: [{ name: "cl-b", cpuArchitecture: "x86_64" }],
            hosts: [{ name: "host-b", cluster: "cl-b", status: "up" }],
            storageDomains: [
              { name: "data-b1", type: "data", storageType: "nfs", sizeGiB: 50 },
              { name: "data-b2", type: "data", storageType: "nfs", sizeGiB: 50 },
            ],
          },
        ],
        exportDomains: [],
        vms: [],
      },
    });
    await checkAndCreate("VmExport", { engine: a.engine, exportDomain: "export1", kind: "template", name: "tpl" });
    for (const n of ["thin", "snappy", "two"]) await checkAndCreate("VmExport", { engine: a.engine, exportDomain: "export1", name: n });
    await checkAndCreate("ExportDomainAttachment", { engine: b.engine, exportDomain: "export1", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a", engine: a.engine } });
  });
  after(async () => {
    await closeAllEngines();
    await a?.close();
    await b?.close();
  });
  beforeEach(() => clearReadCache());

  it("a template disk's allocation fails the preview (the engine would ignore it), nothing sent to the engine", async () => {
    await b.resetRequests();
    const r = await providerOf("VmImport").check({}, imp("tpl", { kind: "template", disks: [{ alias: "tpl_os", allocation: "thin", storageDomain: "data-b2" }] }));
    const f = r.failures.find((x: any) => x.property === "disks[0].allocation");
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.reason, /^disks\[0\]\.allocation: "thin" cannot be applied to template tpl: .*Remove allocation from disks\[0\]/);
    await assert.rejects(providerOf("VmImport").create(imp("tpl", { kind: "template", disks: [{ alias: "tpl_os", allocation: "preallocated" }] })), /disks\[0\]\.allocation/);
    assert.equal(await b.mutating(), 0);
  });

  it("a thin VM is planned against where its template will land (expectTemplateDomains) before the template is imported", async () => {
    const r = await providerOf("VmImport").check({}, imp("thin", { expectTemplates: ["tpl"], expectTemplateDomains: { tpl: ["data-b2"] } }));
    const f = r.failures.find((x: any) => x.property === "storageDomain");
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.reason, /thin VM based on template tpl; .*Template tpl is on "data-b2" \(where this stack imports it \(expectTemplateDomains\)\); storageDomain is "data-b1"\. Set storageDomain: "data-b2"/);
    const ok = await providerOf("VmImport").check({}, imp("thin", { storageDomain: "data-b2", expectTemplates: ["tpl"], expectTemplateDomains: { tpl: ["data-b2"] } }));
    assert.deepEqual(ok.failures, []);
  });

  it("a template's per-disk storage domains are honoured (sent under <vm>, every disk mapped)", async () => {
    const t = await checkAndCreate("VmImport", imp("tpl", { kind: "template", disks: [{ alias: "tpl_os", storageDomain: "data-b2" }, { alias: "tpl_data", storageDomain: "data-b2" }] }));
    const b2 = await sdId("data-b2");
    assert.deepEqual(t.outs.importedDisks.map((d: any) => d.storageDomainId), [b2, b2]);
    // one disk placed: the other still goes to storageDomain (the provider sends the full map the engine needs)
    const two = await checkAndCreate("VmImport", imp("two", { disks: [{ alias: "two_b", storageDomain: "data-b2" }] }));
    const byAlias = Object.fromEntries(two.outs.importedDisks.map((d: any) => [d.alias, d.storageDomainId]));
    assert.deepEqual(byAlias, { two_a: await sdId("data-b1"), two_b: b2 });
  });

  it("with the template imported, a thin VM is checked against where it really is, then lands there thin", async () => {
    // set-up: tpl imported into engine B on data-b2 (the test before does it; alone, this test does)
    if ((await connect(b.engine).templates.findByName("tpl")).length === 0) {
      await checkAndCreate("VmImport", imp("tpl", { kind: "template", disks: [{ alias: "tpl_os", storageDomain: "data-b2" }, { alias: "tpl_data", storageDomain: "data-b2" }] }));
    }
    const r = await providerOf("VmImport").check({}, imp("thin", { disks: [{ alias: "thin_Disk1", storageDomain: "data-b1" }] }));
    const f = r.failures.find((x: any) => /storageDomain$/.test(x.property));
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.reason, /Template tpl is on "data-b2" \(in the target data center\)/);
    const v = await checkAndCreate("VmImport", imp("thin", { storageDomain: "data-b2" }));
    assert.equal(v.outs.collapsed, false, "imported thin, linked to tpl");
    const b2 = await sdId("data-b2");
    assert.ok(v.outs.importedDisks.every((d: any) => d.storageDomainId === b2));
    const src = (await diskReport(a)).vms.find((x) => x.name === "thin");
    const dst = (await diskReport(b)).vms.find((x) => x.id === v.outs.vmId);
    assert.deepEqual(shas(dst), shas(src));
  });

  it("a VM disk allocation collapses the import (said at preview), so the engine applies it", async () => {
    const progress = fs.mkdtempSync(path.join(os.tmpdir(), "placement-progress-"));
    const saved = process.env.OVIRT_MIGRATE_PROGRESS_FILE;
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = path.join(progress, "p.jsonl");
    try {
      const p = providerOf("VmImport");
      const c = await p.check({}, imp("snappy", { disks: [{ alias: "snappy_disk", allocation: "preallocated" }], __progressUrn: "urn:pulumi:t::p::pulumi-nodejs:dynamic/ovirt:VmImport::snappy" }));
      assert.deepEqual(c.failures, []);
      assert.equal(c.inputs.collapseSnapshots, true, "the checked inputs say it is collapsed");
      const said = fs.readFileSync(path.join(progress, "p.jsonl"), "utf8");
      assert.match(said, /collapsed on import .*disks\[0\]\.allocation is applied only to a collapsed copy/);
      const v = await p.create(c.inputs);
      assert.equal(v.outs.collapsed, true);
      assert.deepEqual(
        v.outs.importedDisks.map((d: any) => [d.format, d.sparse]),
        [["raw", false]],
        "preallocated: the engine applied it (a chain copied as it is would have stayed cow/sparse)",
      );
      const snaps = await connect(b.engine).vms.snapshots(v.outs.vmId);
      assert.deepEqual(snaps.map((s) => s.snapshot_type), ["active"]);
      const src = (await diskReport(a)).vms.find((x) => x.name === "snappy");
      const dst = (await diskReport(b)).vms.find((x) => x.id === v.outs.vmId);
      assert.deepEqual(shas(dst), shas(src));
      // the collapse implied by the allocation is no change on the next run
      const d = await p.diff(v.id, v.outs, imp("snappy", { disks: [{ alias: "snappy_disk", allocation: "preallocated" }] }));
      assert.deepEqual(d.replaces, []);
    } finally {
      if (saved === undefined) delete process.env.OVIRT_MIGRATE_PROGRESS_FILE;
      else process.env.OVIRT_MIGRATE_PROGRESS_FILE = saved;
    }
  });
});
