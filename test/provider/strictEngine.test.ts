// Issue 11, items 12 and 14 (provider side): the provider against the simulator's strict rules.
// - 12: `PUT /vms/{id}` and `PUT /templates/{id}` answer 400 for any element the simulator does not model; every PUT
//   the provider sends (VmImport's cpu_profile, at create and as an in-place update, for a VM and a template) is
//   accepted (200) and has its effect. (V2VImport's cpu_profile PUTs run against the same simulator in
//   test/v2v/ownership.test.ts.)
// - 14: an export domain attached to no data center gives a clear error naming exportDomain and the fix (export and
//   import), before anything is sent; a failed import's error carries the VDSM failure event's wording; the import
//   always sends the target `cluster` (the engine has no fallback to the OVF's cluster) and never a name with a plain
//   import (`<clone>false</clone>` + a name would rename it).
import * as assert from "node:assert/strict";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";
import { defaultInventory } from "../../simulator/model/defaultInventory";

type LogEntry = { seq: number; method: string; path: string; status: number };

describe("provider against the strict simulator: PUTs, unattached export domains, failure texts, import requests", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  before(async () => {
    const inv = JSON.parse(JSON.stringify(defaultInventory));
    inv.dataCenters.find((d: any) => d.name === "dc-target").clusters[0].cpuProfiles = ["gold", "silver"];
    // an export domain attached to no data center
    inv.exportDomains.push({ name: "export2", path: "exports/export2" });
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory: inv });
    const engine = sim.engine;
    await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "app-01" });
    await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "web-01" });
    await checkAndCreate("VmExport", { engine, exportDomain: "export1", kind: "template", name: "rhel9-base" });
    await checkAndCreate("ExportDomainAttachment", { engine, exportDomain: "export1", dataCenter: "dc-target", moveFrom: { dataCenter: "dc-source" } });
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });
  beforeEach(() => clearReadCache());

  const target = () => ({ engine: sim.engine, exportDomain: "export1", cluster: "cl-target", storageDomain: "data-target" });
  const log = async (): Promise<LogEntry[]> => (await sim.admin("GET", "/requests")).log;

  it("12: every PUT of VmImport (cpu_profile at create and update, VM and template) is accepted and takes effect", async () => {
    const c = connect(sim.engine);
    const cl = await c.clusters.findByName("cl-target");
    const profiles = await c.clusters.cpuProfiles(cl!.id);
    const gold = profiles.find((p) => p.name === "gold")!.id;
    const silver = profiles.find((p) => p.name === "silver")!.id;
    await sim.resetRequests();
    for (const kind of ["vm", "template"] as const) {
      const name = kind === "vm" ? "web-01" : "rhel9-base";
      // within one engine the sources keep their ids: clones
      const args = { ...target(), kind, name, cpuProfile: "gold", onConflict: "clone" as const };
      const imp = await checkAndCreate("VmImport", args);
      const read = () => (kind === "vm" ? c.vms.get(imp.outs.vmId) : c.templates.get(imp.outs.vmId));
      assert.equal((await read())?.cpu_profile?.id, gold, `${kind}: gold after create`);
      const u = await providerOf("VmImport").update(imp.id, imp.outs, { ...args, cpuProfile: "silver" });
      assert.equal(u.outs.cpuProfileId, silver);
      assert.equal((await read())?.cpu_profile?.id, silver, `${kind}: silver after update`);
    }
    const puts = (await log()).filter((x) => x.method === "PUT");
    assert.ok(puts.filter((x) => /\/vms\/[^/]+$/.test(x.path)).length >= 2, JSON.stringify(puts));
    assert.ok(puts.filter((x) => /\/templates\/[^/]+$/.test(x.path)).length >= 2, JSON.stringify(puts));
    assert.deepEqual(puts.filter((x) => x.status !== 200), [], "a PUT of the provider was refused by the strict simulator");
  });

  it("14: an unattached export domain: export and import fail naming exportDomain, the state and the fix; nothing sent", async () => {
    await sim.resetRequests();
    await assert.rejects(providerOf("VmExport").create({ engine: sim.engine, exportDomain: "export2", name: "db-01" }), (e: any) => {
      assert.match(e.message, /^exportDomain: export domain export2 is not attached in data center dc-source/);
      assert.match(e.message, /ExportDomainAttachment of export2 to dc-source/);
      return true;
    });
    await assert.rejects(providerOf("VmImport").create({ ...target(), exportDomain: "export2", name: "db-01" }), (e: any) => {
      assert.match(e.message, /^exportDomain: export domain export2 is not attached in the data center of cluster cl-target/);
      assert.match(e.message, /ExportDomainAttachment of export2/);
      return true;
    });
    assert.equal(await sim.mutating(), 0, "a request was sent for an unattached export domain");
  });

  it("14: a plain import sends the target cluster and no name: the VM lands in cl-target with the copy's name and id", async () => {
    // app-01's source is removed: its id and MACs are free, so the import is a plain one (not a clone)
    const c = connect(sim.engine);
    const src = await c.vms.findByName("app-01");
    await c.vms.remove(src!.id);
    // disks sends a <vm> element with <clone>false</clone>: a name in it would rename the VM
    const imp = await checkAndCreate("VmImport", { ...target(), name: "app-01", disks: [{ alias: "app-01_disk0", allocation: "preallocated" }] });
    assert.equal(imp.outs.cloned, false);
    assert.equal(imp.outs.vmId, src!.id, "a plain import keeps the id");
    const vm = await c.vms.get(imp.outs.vmId);
    assert.equal(vm?.name, "app-01", "the plain import was renamed");
    const cl = await c.clusters.findByName("cl-target");
    // the OVF names cl-source: the engine (and the simulator) never falls back to it; the provider sent cl-target
    assert.equal(vm?.cluster?.id, cl!.id);
    const imports = (await log()).filter((x) => x.method === "POST" && /\/import$/.test(x.path));
    assert.ok(imports.length >= 1 && imports.every((x) => x.status === 202), JSON.stringify(imports));
  });

  it("14: a failed import's error names the VM and quotes the engine's failure events, VDSM wording included", async () => {
    const reason = "simulated copy failure 14";
    await sim.admin("PUT", "/faults", { rules: [{ match: { entity: "vm", name: "web-01", operation: "import" }, effect: { jobFailure: { reason } }, max: 1 }] });
    // web-01's source still exists in this engine: the import is a clone (CopyImageVDS, like the engine's copy-collapse)
    await assert.rejects(checkAndCreate("VmImport", { ...target(), name: "web-01", newName: "web-01-failed", clone: true }), (e: any) => {
      assert.match(e.message, /import of VM web-01/);
      assert.match(e.message, /Failed to import Vm web-01-failed to Data Center dc-target, Cluster cl-target/);
      assert.match(e.message, new RegExp(`VDSM command CopyImageVDS failed: ${reason}`));
      return true;
    });
    assert.equal(await connect(sim.engine).vms.findByName("web-01-failed"), undefined, "the half-imported VM stayed");
  });
});
