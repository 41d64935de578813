// Issue 11, item 5 (provider side): a plain import across engines whose MACs are already in use in the target
// cluster's MAC pool. The engine refuses it (ImportVmCommandBase: "would create duplicates in target MAC pool");
// the provider says so at preview (check) naming the VM, the MACs, who holds them and the fix, and turns the engine's
// refusal at apply into the same explanation. A clone (clone: true, or onConflict: "clone") gets new MACs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

/** MACs of a VM's NICs read from the engine (API), lower-case, NIC order. */
async function macsOf(sim: TestSimulator, vmName: string): Promise<string[]> {
  const c = connect(sim.engine);
  const vm = await c.vms.findByName(vmName);
  assert.ok(vm, `no VM ${vmName}`);
  const nics = await c.http.list(`/vms/${vm!.id}/nics`, "nics", "nic", z.any());
  return nics.map((n: any) => String(n.mac.address).toLowerCase());
}

describe("provider: MAC conflicts of a plain cross-engine import (VmImport)", function () {
  this.timeout(300_000);
  let a: TestSimulator;
  let b: TestSimulator;
  let webMac: string;
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-mac-export-"));
  const base = () => ({ engine: b.engine, exportDomain: "export1", cluster: "cl-b", storageDomain: "data-b", expectExportDomain: { dataCenter: "dc-a", engine: a.engine } });

  before(async () => {
    a = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: {
        macPools: [{ name: "Default", ranges: [{ from: "56:6f:0a:0a:00:00", to: "56:6f:0a:0a:00:ff" }] }],
        dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a", sizeGiB: 20 }] }],
        exportDomains: [{ name: "export1", path: path.join(shared, "export1"), attachedTo: "dc-a" }],
        vms: [
          { name: "web", cluster: "cl-a", disks: [{ sizeMiB: 4 }] },
          { name: "free", cluster: "cl-a", disks: [{ sizeMiB: 4 }] },
        ],
      },
    });
    webMac = (await macsOf(a, "web"))[0];
    b = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: {
        macPools: [
          { name: "Default", ranges: [{ from: "56:6f:0b:0b:00:00", to: "56:6f:0b:0b:00:ff" }] },
          { name: "lenient", allowDuplicates: true, ranges: [{ from: "56:6f:0c:0c:00:00", to: "56:6f:0c:0c:00:ff" }] },
        ],
        dataCenters: [
          {
            name: "dc-b",
            clusters: [{ name: "cl-b" }, { name: "cl-lenient", macPool: "lenient" }],
            hosts: [{ name: "host-b", cluster: "cl-b" }],
            storageDomains: [{ name: "data-b", sizeGiB: 20 }],
          },
        ],
        // a VM of engine B that already has web's MAC (e.g. an earlier plain import of another copy of it)
        vms: [{ name: "holder", cluster: "cl-b", nics: [{ name: "eth0", mac: webMac }], disks: [{ sizeMiB: 4 }] }],
      },
    });
    for (const name of ["web", "free"]) await checkAndCreate("VmExport", { engine: a.engine, exportDomain: "export1", name });
    await checkAndCreate("ExportDomainAttachment", { engine: b.engine, exportDomain: "export1", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a", engine: a.engine } });
  });
  after(async () => {
    await closeAllEngines();
    await a?.close();
    await b?.close();
    fs.rmSync(shared, { recursive: true, force: true });
  });
  beforeEach(() => clearReadCache());

  it("preview: the conflict under `clone`, naming the VM, the MAC, the VM holding it and the fixes; nothing sent", async () => {
    await b.resetRequests();
    const r = await providerOf("VmImport").check({}, { ...base(), name: "web" });
    const f = (r.failures ?? []).find((x: any) => x.property === "clone");
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.reason, /VM web/);
    assert.match(f.reason, new RegExp(`${webMac} \\(nic1\\) is used by VM holder \\(eth0\\)`));
    assert.match(f.reason, /MAC pool "Default" of cluster cl-b/);
    assert.match(f.reason, /clone: true/);
    assert.match(f.reason, /onConflict: "clone"/);
    assert.equal(await b.mutating(), 0, "check sent engine B a mutating request");
    // a VM whose MACs are free in the pool, and a pool that allows duplicates: no MAC failure
    const ok = await providerOf("VmImport").check({}, { ...base(), name: "free" });
    assert.deepEqual(ok.failures ?? [], []);
    const lenient = await providerOf("VmImport").check({}, { ...base(), name: "web", cluster: "cl-lenient" });
    assert.deepEqual(lenient.failures ?? [], []);
  });

  it("apply (no preview): the engine's refusal becomes an error naming the VM, MAC, holder and fix; nothing imported", async () => {
    const before = (await connect(b.engine).vms.list()).map((v) => v.id).sort();
    await assert.rejects(providerOf("VmImport").create({ ...base(), name: "web" }), (e: any) => {
      assert.match(e.message, /^clone: the engine refused the plain import of VM web into cluster cl-b/);
      assert.match(e.message, new RegExp(`${webMac} \\(nic1\\) is used by VM holder \\(eth0\\)`));
      assert.match(e.message, /Set clone: true/);
      assert.match(e.message, /would create duplicates in target MAC pool/, "the engine's own text is quoted");
      return true;
    });
    const log = (await b.admin("GET", "/requests")).log as Array<{ method: string; path: string; status: number }>;
    assert.ok(log.some((x) => x.method === "POST" && /\/import$/.test(x.path) && x.status === 409), "the engine was asked and refused (409)");
    assert.deepEqual((await connect(b.engine).vms.list()).map((v) => v.id).sort(), before, "a VM was imported");
  });

  it("apply without a known source engine: still names the VM, the NIC, the pool and the fix", async () => {
    const { expectExportDomain: _x, ...noSource } = base();
    await assert.rejects(providerOf("VmImport").create({ ...noSource, name: "web" }), (e: any) => {
      assert.match(e.message, /plain import of VM web/);
      assert.match(e.message, /NIC nic1/);
      assert.match(e.message, /MAC pool "Default"/);
      assert.match(e.message, /Set clone: true/);
      return true;
    });
  });

  it('onConflict: "clone" clones on a MAC conflict (preview says so); the clone gets a new MAC from engine B\'s pool', async () => {
    const inputs = { ...base(), name: "web", onConflict: "clone" };
    const r = await providerOf("VmImport").check({}, inputs);
    assert.deepEqual(r.failures ?? [], []);
    assert.equal(r.inputs.collapseSnapshots, true, "the preview shows the clone's collapse");
    const imp = await providerOf("VmImport").create(r.inputs);
    assert.equal(imp.outs.cloned, true);
    assert.notEqual(imp.outs.vmId, imp.outs.sourceId, "a clone has a new id");
    const macs = await macsOf(b, imp.outs.vmName);
    assert.equal(macs.length, 1);
    assert.notEqual(macs[0], webMac);
    assert.match(macs[0], /^56:6f:0b:0b:/, "the clone's MAC comes from the target cluster's pool");
    await providerOf("VmImport").delete(imp.id, imp.outs);
  });

  it("clone: true imports it with a new MAC; a plain import of a VM whose MACs are free keeps them", async () => {
    const imp = await checkAndCreate("VmImport", { ...base(), name: "web", clone: true, newName: "web-b" });
    const macs = await macsOf(b, "web-b");
    assert.notEqual(macs[0], webMac);
    assert.match(macs[0], /^56:6f:0b:0b:/);
    const free = await checkAndCreate("VmImport", { ...base(), name: "free" });
    assert.equal(free.outs.vmId, free.outs.sourceId);
    // expectExportDomain (engine A's connection, a secret) is read by the preview only: not recorded, and the next
    // run's inputs, which still hold it, are no change
    assert.equal("expectExportDomain" in free.outs, false, JSON.stringify(Object.keys(free.outs)));
    const again = await providerOf("VmImport").check(free.outs, { ...base(), name: "free" });
    assert.equal((await providerOf("VmImport").diff!(free.id, free.outs, again.inputs)).changes, false);
    assert.deepEqual(await macsOf(b, "free"), await macsOf(a, "free"), "a plain import keeps the MACs");
    assert.equal(imp.outs.cloned, true);
  });
});
