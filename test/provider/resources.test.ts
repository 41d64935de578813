import * as assert from "node:assert/strict";
import { TestSimulator, startTestSimulator, diskReport, shas } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const EDA = "ExportDomainAttachment";

describe("resources against the simulator (one engine, dc-source -> dc-target)", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let engine: any;
  // a new simulator for every test: each runs the steps of the migration that come before it (set-up below), so
  // that none relies on what an earlier test left in the engine
  beforeEach(async () => {
    clearReadCache();
    sim = await startTestSimulator(PROVIDER_SIM);
    engine = sim.engine;
  });
  afterEach(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  // set-up steps
  const exportVm = (name: string) => checkAndCreate("VmExport", { engine, exportDomain: "export1", name, exclusive: true });
  const exportTemplate = (name: string) => checkAndCreate("VmExport", { engine, exportDomain: "export1", kind: "template", name, exclusive: true });
  /** the source stage adopted, then export1 moved to dc-target (what the migration does after its exports) */
  const moved = async () => {
    const att = await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-source", handOffTo: { dataCenter: "dc-target" } });
    const target = await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-target", moveFrom: { dataCenter: "dc-source" } });
    return { att, target };
  };
  const importWebArgs = () => ({ engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone", disks: [{ alias: "web-01_disk0", allocation: "preallocated" }] });
  /** web-01 exported, export1 moved, web-01 imported as a clone in dc-target */
  const webImported = async () => {
    await exportVm("web-01");
    await moved();
    return checkAndCreate("VmImport", importWebArgs());
  };

  const dcStatus = async (dc: string, sd = "export1") => {
    const c = connect(engine);
    const d = await c.datacenters.findByName(dc);
    const s = await c.storageDomains.findByName(sd);
    return (await c.attachedStorageDomains.get(d!.id, s!.id))?.status;
  };

  describe("checks at preview (read-only)", () => {
    it("name the field and the fix, and send no mutating request", async () => {
      await sim.resetRequests();
      const eda = providerOf(EDA);
      let r = await eda.check({}, { engine, exportDomain: "export1", dataCenter: "dc-nope" });
      assert.ok(r.failures.some((f: any) => f.property === "dataCenter" && /dc-nope/.test(f.reason)), JSON.stringify(r.failures));
      r = await eda.check({}, { engine, exportDomain: "export1", dataCenter: "dc-target" });
      assert.ok(r.failures.some((f: any) => f.property === "takeOver" && /dc-source/.test(f.reason)), JSON.stringify(r.failures));
      r = await eda.check({}, { engine, exportDomain: "data-target", dataCenter: "dc-target" });
      assert.ok(r.failures.some((f: any) => f.property === "exportDomain" && /not an export domain/.test(f.reason)));

      const exp = providerOf("VmExport");
      r = await exp.check({}, { engine, exportDomain: "export1", name: "run-01" });
      assert.ok(r.failures.some((f: any) => f.property === "shutdownIfRunning" && /run-01 is up/.test(f.reason)), JSON.stringify(r.failures));
      r = await exp.check({}, { engine, exportDomain: "export1", name: "nope-01" });
      assert.ok(r.failures.some((f: any) => f.property === "name" && /nope-01/.test(f.reason)));
      r = await exp.check({}, { engine, exportDomain: "export1", name: "web-01", batch: { id: "b1", members: ["web-01", "ppc-01"] } });
      assert.ok(r.failures.some((f: any) => f.property === "batch" && /ppc-01 \(ppc64\)/.test(f.reason) && /web-01 \(x86_64\)/.test(f.reason)), JSON.stringify(r.failures));
      r = await exp.check({}, { engine, exportDomain: "export1", kind: "template", name: "rhel9-base", discardSnapshots: true });
      assert.ok(r.failures.some((f: any) => f.property === "discardSnapshots"));

      const imp = providerOf("VmImport");
      r = await imp.check({}, { engine, exportDomain: "export1", name: "web-01", cluster: "cl-nope", storageDomain: "data-target" });
      assert.ok(r.failures.some((f: any) => f.property === "cluster"));
      r = await imp.check({}, { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-source" });
      assert.ok(r.failures.some((f: any) => f.property === "storageDomain" && /not attached/.test(f.reason)), JSON.stringify(r.failures));
      r = await imp.check({}, { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "maybe" });
      assert.ok(r.failures.some((f: any) => f.property === "onConflict"));
      r = await imp.check({}, { engine: { ...engine, url: "ftp://x" }, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target" });
      assert.ok(r.failures.some((f: any) => f.property === "engine.url"));
      assert.equal(await sim.mutating(), 0);
    });

    it("reports a wrong CA as a failure on engine.caFile without touching the engine", async () => {
      const r = await providerOf("VmExport").check({}, { engine: { ...engine, caFile: undefined, caPem: require("node:tls").rootCertificates[0] }, exportDomain: "export1", name: "web-01" });
      assert.ok(r.failures.some((f: any) => f.property === "engine.caFile"), JSON.stringify(r.failures));
    });
  });

  describe("ExportDomainAttachment + VmExport in the source data center", () => {
    it("adopts the existing active attachment", async () => {
      await sim.resetRequests();
      const att = await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-source", handOffTo: { dataCenter: "dc-target" } });
      assert.equal(att.outs.status, "active");
      assert.equal(await sim.mutating(), 0, "adoption sends no mutating request");
      const r = await providerOf(EDA).read(att.id, att.outs);
      assert.equal(r.id, att.id);
    });

    it("exports a VM; the copy on the export domain has the source's disk content", async () => {
      const web = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "web-01", exclusive: true });
      assert.equal(web.outs.ownership, "created");
      // only what differs from the defaults is recorded: adopted (false) and keepOnDelete (false) are not
      assert.equal("adopted" in web.outs, false);
      assert.equal("keepOnDelete" in web.outs, false);
      assert.equal(web.outs.exclusive, true, "an argument the user set is recorded");
      const rep = await diskReport(sim);
      const src = rep.vms.find((v) => v.name === "web-01" && v.dataCenter === "dc-source");
      const copy = rep.exportDomains.find((e) => e.name === "export1")!.vms.find((v) => v.id === web.outs.sourceId);
      assert.ok(copy, "copy on the export domain");
      assert.deepEqual(shas(copy), shas(src));
      assert.ok(web.outs.sourceFingerprint.length > 10);
    });

    it("a second create of the same resource (state lost) finds its own current copy without exporting again; diff is empty", async () => {
      const web = await exportVm("web-01");
      await sim.resetRequests();
      const again = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "web-01", exclusive: true });
      // proven its own by the correlation id on the engine's export event: still "created" (removed on destroy)
      assert.equal(again.outs.ownership, "created");
      assert.notEqual(again.outs.adopted, true);
      assert.equal(await sim.mutating(), 0);
      const d = await providerOf("VmExport").diff(web.id, web.outs, { engine, exportDomain: "export1", name: "web-01", exclusive: true });
      assert.equal(d.changes, false);
      assert.deepEqual(d.replaces, []);
    });

    it("fails clearly for a running VM, and exports it with shutdownIfRunning", async () => {
      await assert.rejects(providerOf("VmExport").create({ engine, exportDomain: "export1", name: "run-01" }), /run-01 is up.*shutdownIfRunning/s);
      const r = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "run-01", shutdownIfRunning: true });
      const c = connect(engine);
      assert.equal((await c.vms.findByName("run-01"))?.status, "down");
      const rep = await diskReport(sim);
      assert.ok(rep.exportDomains[0].vms.some((v) => v.id === r.outs.sourceId));
    });

    it("exports a VM with snapshots collapsed, and a template", async () => {
      const s = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "snap-01", discardSnapshots: true, exclusive: true });
      const t = await checkAndCreate("VmExport", { engine, exportDomain: "export1", kind: "template", name: "rhel9-base", exclusive: true });
      const thin = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "thin-01" });
      assert.equal(thin.outs.templateName, "rhel9-base");
      const rep = await diskReport(sim);
      const ed = rep.exportDomains[0];
      assert.deepEqual(shas(ed.vms.find((v) => v.id === s.outs.sourceId)), shas(rep.vms.find((v) => v.name === "snap-01")));
      assert.ok(ed.templates.some((x) => x.id === t.outs.sourceId));
    });

    it("a job that fails in the engine gives a clear error with the engine's reason; the next create succeeds", async () => {
      await sim.admin("PUT", "/faults", { rules: [{ match: { entity: "vm", name: "app-01", operation: "export" }, effect: { jobFailure: { reason: "simulated storage error" } }, max: 1 }] });
      await assert.rejects(checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "app-01" }), (e: any) => /app-01/.test(e.message) && /failed/.test(e.message));
      const ok = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "app-01" });
      assert.notEqual(ok.outs.adopted, true);
    });

    it("delete removes the copy from the export domain (and keepOnDelete keeps it)", async () => {
      const db = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "db-01" });
      await providerOf("VmExport").delete(db.id, db.outs);
      let rep = await diskReport(sim);
      assert.ok(!rep.exportDomains[0].vms.some((v) => v.id === db.outs.sourceId));
      assert.deepEqual(await providerOf("VmExport").read(db.id, db.outs), {});
      const kept = await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "db-01", keepOnDelete: true });
      await providerOf("VmExport").delete(kept.id, kept.outs);
      rep = await diskReport(sim);
      assert.ok(rep.exportDomains[0].vms.some((v) => v.id === kept.outs.sourceId));
    });

    it("moves the export domain to the target data center (moveFrom), then refresh of the source stage keeps it", async () => {
      const att = await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-source", handOffTo: { dataCenter: "dc-target" } });
      const target = await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-target", moveFrom: { dataCenter: "dc-source" } });
      assert.equal(target.outs.status, "active");
      assert.equal(await dcStatus("dc-target"), "active");
      assert.equal(await dcStatus("dc-source"), undefined);
      const r = await providerOf(EDA).read(att.id, att.outs);
      assert.equal(r.id, att.id, "handed-off source attachment stays in state");
    });

    describe("VmImport in the target data center", () => {
      it("refuses a thin VM whose template is missing, naming the template and both fixes", async () => {
        await exportTemplate("rhel9-base");
        await exportVm("thin-01");
        await moved();
        const p = providerOf("VmImport");
        const args = { engine, exportDomain: "export1", name: "thin-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone" };
        const r = await p.check({}, args);
        // clone collapses: the template is on the export domain, so this is fine; without clone the id conflicts
        assert.equal(r.failures.length, 0, JSON.stringify(r.failures));
      });

      it("refuses an id conflict with onConflict fail (the source VM of this engine)", async () => {
        await exportVm("web-01");
        await moved();
        const args = { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target" };
        const r = await providerOf("VmImport").check({}, args);
        assert.ok(r.failures.some((f: any) => f.property === "onConflict"), JSON.stringify(r.failures));
        await assert.rejects(providerOf("VmImport").create(args), /onConflict/);
      });

      it("imports as a clone keeping the name in the target DC; disks identical; permissions applied", async () => {
        await exportVm("web-01");
        await moved();
        const c = connect(engine);
        // the simulator may not serve /roles: then the permission part is not exercised here
        const roles = await c.permissions.roles().catch(() => []);
        const role = roles.find((r) => /UserRole/.test(r.name)) ?? roles[0];
        const imp = await checkAndCreate("VmImport", {
          ...importWebArgs(),
          permissions: role ? [{ user: "alice@internal-authz", role: role.name }] : undefined,
        });
        assert.equal(imp.outs.vmName, "web-01");
        assert.equal(imp.outs.cloned, true);
        assert.notEqual(imp.outs.vmId, imp.outs.sourceId);
        const rep = await diskReport(sim);
        const src = rep.vms.find((v) => v.name === "web-01" && v.dataCenter === "dc-source");
        const dst = rep.vms.find((v) => v.id === imp.outs.vmId);
        assert.equal(dst?.dataCenter, "dc-target");
        assert.deepEqual(shas(dst), shas(src));
        if (role) {
          const perms = await c.permissions.list("vm", imp.outs.vmId);
          assert.ok(perms.some((p) => p.role?.id === role.id));
        }
      });

      it("a connection reset on the import POST: the import is sent again, and the same-named source VM in dc-source is not taken for it", async () => {
        // the reset comes before the engine handles the request, so the engine never saw it: the provider must find
        // no job and no app-01 in dc-target, and send the import again (before the fix it took the source VM app-01
        // for the import and waited for it until the deadline)
        await exportVm("app-01");
        await moved();
        await sim.admin("PUT", "/faults", { rules: [{ match: { method: "POST", path: "/vms/[^/]+/import$" }, effect: { transport: "reset" }, max: 1 }] });
        try {
          const t0 = Date.now();
          const r = await checkAndCreate("VmImport", { engine, exportDomain: "export1", name: "app-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone" });
          assert.equal((await sim.admin("GET", "/faults")).rules[0].hits, 1, "the import POST was not reset");
          assert.ok(Date.now() - t0 < 60_000, `took ${Date.now() - t0} ms`);
          const rep = await diskReport(sim);
          const dst = rep.vms.filter((v) => v.name === "app-01" && v.dataCenter === "dc-target");
          assert.equal(dst.length, 1);
          assert.equal(dst[0].id, r.outs.vmId);
          assert.deepEqual(shas(dst[0]), shas(rep.vms.find((v) => v.name === "app-01" && v.dataCenter === "dc-source")));
        } finally {
          await sim.admin("DELETE", "/faults");
        }
      });

      it("a second create adopts the import (no duplicate VM)", async () => {
        const imp = await webImported();
        const again = await checkAndCreate("VmImport", importWebArgs());
        assert.equal(again.outs.vmId, imp.outs.vmId);
        const rep = await diskReport(sim);
        assert.equal(rep.vms.filter((v) => v.name === "web-01" && v.dataCenter === "dc-target").length, 1);
      });

      it("skip keeps the existing VM and its delete leaves it alone", async () => {
        const imp = await webImported();
        const sk = await checkAndCreate("VmImport", { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "skip" });
        assert.equal(sk.outs.imported, false);
        await providerOf("VmImport").delete(sk.id, sk.outs);
        assert.ok(await connect(engine).vms.get(imp.outs.vmId));
      });

      it("clone with a suffix gives a second copy under a new name", async () => {
        await exportVm("web-01");
        await moved();
        const cl = await checkAndCreate("VmImport", { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target", clone: true, cloneSuffix: "-b" });
        assert.equal(cl.outs.vmName, "web-01-b");
        await providerOf("VmImport").delete(cl.id, cl.outs);
        assert.equal(await connect(engine).vms.get(cl.outs.vmId), undefined);
      });

      it("template import, then the thin VM without collapse is accepted when the template is expected", async () => {
        await exportTemplate("rhel9-base");
        await moved();
        const t = await checkAndCreate("VmImport", { engine, exportDomain: "export1", kind: "template", name: "rhel9-base", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone" });
        assert.ok(t.outs.vmId);
        // the source template (same id) stays in dc-source, so the import is a clone (new id); names are unique per
        // data center, so the clone keeps the name in dc-target
        assert.equal(t.outs.cloned, true);
        assert.equal(t.outs.vmName, "rhel9-base");
        const rep = await diskReport(sim);
        assert.ok(rep.templates.some((x) => x.id === t.outs.vmId && x.dataCenter === "dc-target"));
      });

      it("refresh notices a VM deleted out of band; delete removes only the VM it created", async () => {
        const imp = await webImported();
        const c = connect(engine);
        await c.vms.remove(imp.outs.vmId);
        const { poll } = require("../../provider/client/wait");
        await poll(async () => ((await c.vms.get(imp.outs.vmId)) ? { done: false } : { done: true, value: 1 }), { what: "removal", deadline: Date.now() + 30000 });
        assert.deepEqual(await providerOf("VmImport").read(imp.id, imp.outs), {});
        const again = await checkAndCreate("VmImport", { engine, exportDomain: "export1", name: "web-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone" });
        await providerOf("VmImport").delete(again.id, again.outs);
        assert.equal(await c.vms.get(again.outs.vmId), undefined);
        assert.ok(await c.vms.findByName("web-01"), "the source VM is untouched");
      });
    });

    describe("teardown", () => {
      it("deleting the target attachment deactivates and detaches it", async () => {
        const { target } = await moved();
        await providerOf(EDA).delete(target.id, target.outs);
        assert.equal(await dcStatus("dc-target"), undefined);
        assert.deepEqual(await providerOf(EDA).read(target.id, target.outs), {});
      });
    });
  });

  describe("an in-place update records the new arguments whole", () => {
    it("an argument the new inputs no longer carry (batch, which Migration stopped setting) leaves the state, and the next diff is clean", async () => {
      const news = { engine, exportDomain: "export1", kind: "vm", name: "web-01", dataCenter: "dc-source", exclusive: false, discardSnapshots: false };
      // the state of an export made by an earlier version, which carried the migration's VM list
      const olds = { ...news, batch: { id: "main", members: ["web-01", "db-01"] }, sourceId: "0f1e2d3c-0000-4000-8000-000000000001", sourceFingerprint: "fp", ownership: "created", adopted: false };
      const exp = providerOf("VmExport");
      const d1 = await exp.diff("x", olds, news);
      assert.equal(d1.changes, true, "batch removed is a change");
      assert.deepEqual(d1.replaces ?? [], [], "and no replace");
      const { outs } = await exp.update("x", olds, news);
      assert.equal(outs.batch, undefined, JSON.stringify(outs));
      assert.equal(outs.sourceId, olds.sourceId, "the outputs of the export stay");
      const d2 = await exp.diff("x", outs, news);
      assert.equal(d2.changes, false, "converged: no change at the next preview");
    });
  });
});
