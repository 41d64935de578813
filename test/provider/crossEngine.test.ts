import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator, diskReport, shas } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const EDA = "ExportDomainAttachment";

describe("cross-engine move (engine A -> engine B through one export domain) and take-over", function () {
  this.timeout(300_000);
  let a: TestSimulator;
  let b: TestSimulator;
  // Every test starts from two fresh engines and makes the stages it needs itself (export, move), so that each runs
  // alone (mocha --grep) and in any order.
  beforeEach(async () => {
    clearReadCache();
    const exportPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-shared-export-")), "export1");
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
          {
            name: "dc-a2",
            clusters: [{ name: "cl-a2", cpuArchitecture: "x86_64" }],
            hosts: [{ name: "host-a2", cluster: "cl-a2", status: "up" }],
            storageDomains: [{ name: "data-a2", type: "data", storageType: "nfs", sizeGiB: 50 }],
          },
        ],
        exportDomains: [{ name: "export1", path: exportPath, attachedTo: "dc-a", status: "active" }],
        vms: [
          { name: "vm-a1", cluster: "cl-a", memoryMiB: 1024, cpus: 1, disks: [{ alias: "vm-a1_disk0", sizeMiB: 8, storageDomain: "data-a" }] },
          { name: "vm-a2", cluster: "cl-a", memoryMiB: 1024, cpus: 1, snapshots: [{ description: "s1" }], disks: [{ alias: "vm-a2_disk0", sizeMiB: 8, storageDomain: "data-a" }] },
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
              { name: "data-b", type: "data", storageType: "nfs", sizeGiB: 50 },
              { name: "data-b2", type: "data", storageType: "nfs", sizeGiB: 50 },
            ],
          },
        ],
        exportDomains: [],
        vms: [],
      },
    });
  });
  afterEach(async () => {
    await closeAllEngines();
    await a?.close();
    await b?.close();
  });

  /** Stage 1: vm-a1 (exclusive) and vm-a2 exported from engine A to export1. */
  const exportBoth = async () => ({
    e1: await checkAndCreate("VmExport", { engine: a.engine, exportDomain: "export1", name: "vm-a1", exclusive: true }),
    e2: await checkAndCreate("VmExport", { engine: a.engine, exportDomain: "export1", name: "vm-a2" }),
  });
  const moveInputs = () => ({ engine: b.engine, exportDomain: "export1", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a", engine: a.engine } });
  /** Stage 2: the exports, then export1 moved from engine A's dc-a to engine B's dc-b. */
  const exportAndMove = async () => {
    await exportBoth();
    return checkAndCreate(EDA, moveInputs());
  };

  it("take-over: refused without takeOver, moves within engine A with takeOver, and back", async () => {
    await assert.rejects(providerOf(EDA).create({ engine: a.engine, exportDomain: "export1", dataCenter: "dc-a2" }), /takeOver/);
    const t = await checkAndCreate(EDA, { engine: a.engine, exportDomain: "export1", dataCenter: "dc-a2", takeOver: true });
    assert.equal(t.outs.status, "active");
    // update back to dc-a: an in-place move (this resource manages the domain)
    const d = await providerOf(EDA).diff(t.id, t.outs, { engine: a.engine, exportDomain: "export1", dataCenter: "dc-a", takeOver: true });
    assert.equal(d.changes, true);
    assert.deepEqual(d.replaces, []);
    const u = await providerOf(EDA).update(t.id, t.outs, { engine: a.engine, exportDomain: "export1", dataCenter: "dc-a", takeOver: true });
    assert.equal(u.outs.dataCenter, "dc-a");
    const c = connect(a.engine);
    const dcA = await c.datacenters.findByName("dc-a");
    assert.equal((await c.attachedStorageDomains.get(dcA!.id, t.id))?.status, "active");
  });

  it("exports from engine A: both copies on export1 with the sources' content", async () => {
    const { e1, e2 } = await exportBoth();
    const rep = await diskReport(a);
    const ed = rep.exportDomains.find((e) => e.name === "export1")!;
    for (const [exp, name] of [[e1, "vm-a1"], [e2, "vm-a2"]] as const) {
      const src = rep.vms.find((v) => v.name === name)!;
      assert.equal(exp.outs.sourceId, src.id, `${name}: the export names its source`);
      const copy = ed.vms.find((v) => v.id === src.id);
      assert.ok(copy, `${name}: no copy on export1`);
      assert.equal(copy!.name, name);
      assert.deepEqual(shas(copy), shas(src), `${name}: the copy's content differs from the source`);
    }
  });

  /** The copies on engine A's export1 (read from the engine, not handed over by an earlier test). */
  const copiesInA = async () => ((await diskReport(a)).exportDomains.find((e) => e.name === "export1")?.vms ?? []).map((v) => v.id).sort();

  it("moves the domain: detach + remove (no format) from A, import into B with a host, attach, activate", async () => {
    await exportBoth();
    const copies = await copiesInA();
    assert.equal(copies.length, 2, "export1 holds both copies in engine A");
    const att = await checkAndCreate(EDA, moveInputs());
    assert.equal(att.outs.status, "active");
    assert.equal(await connect(a.engine).storageDomains.findByName("export1"), undefined, "removed from engine A");
    const repB = await diskReport(b);
    const ed = repB.exportDomains.find((e) => e.name === "export1");
    assert.deepEqual(ed?.vms.map((v) => v.id).sort(), copies, "every copy is visible in engine B");
    // a second create adopts
    const again = await checkAndCreate(EDA, moveInputs());
    assert.equal(again.id, att.id);
  });

  it("imports into engine B with per-disk allocation and storage domain; checksums match engine A", async () => {
    await exportAndMove();
    const imp = await checkAndCreate("VmImport", {
      engine: b.engine,
      exportDomain: "export1",
      name: "vm-a1",
      cluster: "cl-b",
      storageDomain: "data-b",
      disks: [{ alias: "vm-a1_disk0", allocation: "thin", storageDomain: "data-b2" }],
    });
    assert.equal(imp.outs.vmId, imp.outs.sourceId, "a plain import keeps the VM id");
    assert.equal(imp.outs.importedDisks[0].storageDomainId, (await connect(b.engine).storageDomains.findByName("data-b2"))!.id);
    const src = (await diskReport(a)).vms.find((v) => v.name === "vm-a1");
    const dst = (await diskReport(b)).vms.find((v) => v.id === imp.outs.vmId);
    assert.deepEqual(shas(dst), shas(src));
    const again = await checkAndCreate("VmImport", { engine: b.engine, exportDomain: "export1", name: "vm-a1", cluster: "cl-b", storageDomain: "data-b", disks: [{ alias: "vm-a1_disk0", allocation: "thin", storageDomain: "data-b2" }] });
    assert.equal(again.outs.vmId, imp.outs.vmId, "adopted, not duplicated");
  });

  it("imports a VM with snapshots with collapse; clone without collapse is collapsed automatically", async () => {
    await exportAndMove();
    const imp = await checkAndCreate("VmImport", { engine: b.engine, exportDomain: "export1", name: "vm-a2", cluster: "cl-b", storageDomain: "data-b", collapseSnapshots: true });
    const src = (await diskReport(a)).vms.find((v) => v.name === "vm-a2");
    const dst = (await diskReport(b)).vms.find((v) => v.id === imp.outs.vmId);
    assert.deepEqual(shas(dst), shas(src));
    const cl = await checkAndCreate("VmImport", { engine: b.engine, exportDomain: "export1", name: "vm-a2", cluster: "cl-b", storageDomain: "data-b", clone: true, newName: "vm-a2-copy" });
    assert.equal(cl.outs.vmName, "vm-a2-copy");
    assert.equal(cl.outs.collapsed, true);
  });

  it("accepts at preview an import batch whose members share the cluster's CPU architecture", async () => {
    await exportAndMove();
    // vm-a1 and vm-a2 share x86_64: accepted
    const ok = await providerOf("VmImport").check({}, { engine: b.engine, exportDomain: "export1", name: "vm-a1", cluster: "cl-b", storageDomain: "data-b", onConflict: "skip", batch: { id: "b", members: ["vm-a1", "vm-a2"] } });
    assert.ok(!ok.failures.some((f: any) => f.property === "batch"), JSON.stringify(ok.failures));
  });

  it("moving back to engine A with an engine change is an update, not a replace", async () => {
    const att = await exportAndMove();
    const d = await providerOf(EDA).diff(att.id, att.outs, { engine: a.engine, exportDomain: "export1", dataCenter: "dc-a" });
    assert.deepEqual(d.replaces, []);
    assert.equal(d.changes, true);
  });
});
