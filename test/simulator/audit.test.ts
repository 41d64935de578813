// Audit log (/__admin/audit): every mutating API request with the entities it addressed, created or removed, and
// the asynchronous effects of jobs as entries of their own.
import * as assert from "node:assert/strict";
import { freshSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, moveExportDomain, xmlAction } from "./helpers";

import type { AuditEntity as Entity, AuditEntry as Entry } from "../../simulator/audit";

const A = "/ovirt-engine/api";

function roles(e: Entry, kind: string): string[] {
  return e.entities.filter((x) => x.kind === kind).map((x) => x.role).sort();
}

describe("simulator: audit log", function () {
  this.timeout(60_000);
  // a new simulator for every test: each sets up the copies and moves it audits (none relies on an earlier test)
  freshSimulator({ bandwidthMiBps: 400 }, (t) => {
    let I: Ids;
    const audit = async (since = 0): Promise<Entry[]> => (await t().admin("GET", `audit${since ? `?since=${since}` : ""}`)).entries;
    const last = async (): Promise<number> => {
      const all = await audit();
      return all.length ? all[all.length - 1].seq : 0;
    };
    beforeEach(async () => {
      I = await ids(t());
    });
    /** set-up: `name` exported to export1 (in dc-source), then export1 moved to dc-target */
    const exportedAndMoved = async (name: string) => {
      await exportAndWait(t(), await idOf(t(), "vms", name), I.export1);
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
    };

    it("lists mutating requests only (no GET, no SSO), in order, with the shape, status and correlation id", async () => {
      await t().admin("DELETE", "audit");
      const run = await idOf(t(), "vms", "run-01");
      const t0 = Date.now();
      await t().api("GET", "vms");
      const r = await t().api("POST", `vms/${run}/shutdown`, xmlAction(""), { "Correlation-Id": "audit-shutdown-1" });
      assert.equal(r.status, 200, r.text);
      const again = await t().api("POST", `vms/${run}/shutdown?correlation_id=audit-shutdown-2`, xmlAction(""));
      assert.equal(again.status, 409);
      const start = await t().api("POST", `vms/${run}/start`, xmlAction(""));
      assert.equal(start.status, 200);
      const es = await audit();
      assert.deepEqual(es.map((e) => [e.method, e.path, e.status, e.action]), [
        ["POST", `${A}/vms/${run}/shutdown`, 200, "shutdown"],
        ["POST", `${A}/vms/${run}/shutdown`, 409, "shutdown"],
        ["POST", `${A}/vms/${run}/start`, 200, "start"],
      ]);
      assert.deepEqual(Object.keys(es[0]).sort(), ["action", "at", "correlationId", "entities", "method", "path", "seq", "status"]);
      assert.ok(es[0].seq < es[1].seq && es[1].seq < es[2].seq);
      assert.ok(es[0].at >= t0 && es[0].at <= Date.now());
      assert.equal(es[0].correlationId, "audit-shutdown-1");
      assert.equal(es[1].correlationId, "audit-shutdown-2");
      assert.equal(es[2].correlationId, start.headers["correlation-id"]);
      assert.deepEqual(es[0].entities, [{ kind: "vm", id: run, name: "run-01", role: "target" }]);
      // ?since= and the reset
      assert.deepEqual((await audit(es[1].seq)).map((e) => e.seq), [es[2].seq]);
      await t().admin("DELETE", "audit");
      assert.deepEqual(await audit(), []);
    });

    it("export: the VM is the source, the copy (sdId:vm:vmId) is created, the domain is the parent; the job adds its own entry", async () => {
      const vm = await idOf(t(), "vms", "web-01");
      const since = await last();
      const r = await t().api("POST", `vms/${vm}/export`, xmlAction(`<storage_domain><name>export1</name></storage_domain>`), { "Correlation-Id": "audit-export-1" });
      assert.equal(r.status, 202, r.text);
      assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
      const es = await audit(since);
      assert.equal(es.length, 2);
      const [post, job] = es;
      assert.equal(post.action, "export");
      assert.equal(post.status, 202);
      const copy = `${I.export1}:vm:${vm}`;
      assert.deepEqual(post.entities, [
        { kind: "vm", id: vm, name: "web-01", role: "source" },
        { kind: "exportcopy", id: copy, name: "web-01", role: "created" },
        { kind: "storagedomain", id: I.export1, name: "export1", role: "parent" },
      ]);
      assert.ok(!post.entities.some((e) => e.kind === "vm" && e.role === "target"), "the VM is not the target of an export");
      assert.equal(job.method, "JOB");
      assert.equal(job.path, `${A}/jobs/${r.xml.action.job["@_id"]}`);
      assert.equal(job.status, 200);
      assert.equal(job.action, "export");
      assert.equal(job.correlationId, "audit-export-1");
      assert.deepEqual(roles(job, "exportcopy"), ["created"]);
      assert.deepEqual(roles(job, "vm"), ["source"]);
    });

    it("attach/detach/activate/deactivate: the storage domain is the target, the data center the parent", async () => {
      const since = await last();
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      const es = await audit(since);
      assert.deepEqual(es.map((e) => e.action), ["deactivate", "detach", "attach"]);
      assert.deepEqual(es[0].entities, [
        { kind: "datacenter", id: I.dcSource, name: "dc-source", role: "parent" },
        { kind: "storagedomain", id: I.export1, name: "export1", role: "target" },
      ]);
      assert.deepEqual(es[1].entities.map((e) => [e.kind, e.id, e.role]), [["datacenter", I.dcSource, "parent"], ["storagedomain", I.export1, "target"]]);
      assert.deepEqual(es[2].entities.map((e) => [e.kind, e.id, e.role]), [["storagedomain", I.export1, "target"], ["datacenter", I.dcTarget, "parent"]]);
      for (const e of es) assert.ok(!e.entities.some((x) => x.role === "removed" || x.role === "created"));
    });

    it("import: the copy is the target (not the VM of that id), the new VM is created on the answer and again when the job completes", async () => {
      await exportedAndMoved("web-01");
      const vm = await idOf(t(), "vms", "web-01");
      const since = await last();
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${vm}/import`,
        xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>web-01-audit</name></vm>`),
        { "Correlation-Id": "audit-import-1" },
      );
      assert.equal(r.status, 202, r.text);
      assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
      const newId = await idOf(t(), "vms", "web-01-audit");
      const [post, job] = await audit(since);
      assert.equal(post.action, "import");
      assert.deepEqual(post.entities, [
        { kind: "exportcopy", id: `${I.export1}:vm:${vm}`, name: "web-01", role: "target" },
        { kind: "storagedomain", id: I.export1, name: "export1", role: "parent" },
        { kind: "vm", id: newId, name: "web-01-audit", role: "created" },
      ]);
      assert.ok(!post.entities.some((e) => e.kind === "vm" && e.id === vm), "the source VM of the copy is not touched");
      assert.equal(job.method, "JOB");
      assert.equal(job.correlationId, "audit-import-1");
      assert.deepEqual(job.entities.filter((e) => e.kind === "vm"), [{ kind: "vm", id: newId, name: "web-01-audit", role: "created" }]);
    });

    it("a failed import: the job entry removes the half-made VM (status 500); a refused request is recorded without effects", async () => {
      await exportedAndMoved("web-01");
      const vm = await idOf(t(), "vms", "web-01");
      const since = await last();
      const refused = await t().api("POST", `storagedomains/${I.export1}/vms/${vm}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/>`));
      assert.equal(refused.status, 409, "same id already in the engine");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", operation: "import" }, effect: { jobFailure: { reason: "injected" } }, max: 1 }] });
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${vm}/import`,
        xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>web-01-doomed</name></vm>`),
        { "Correlation-Id": "audit-import-2" },
      );
      assert.equal(r.status, 202, r.text);
      const jobId = r.xml.action.job["@_id"];
      assert.equal(await t().waitJob(jobId), "failed");
      const es = await audit(since);
      assert.equal(es.length, 3);
      assert.equal(es[0].status, 409);
      assert.deepEqual(es[0].entities.map((e) => e.role), ["target", "parent"]);
      const created = es[1].entities.find((e) => e.role === "created")!;
      assert.equal(created.name, "web-01-doomed");
      assert.deepEqual(
        { method: es[2].method, status: es[2].status, action: es[2].action, cid: es[2].correlationId },
        { method: "JOB", status: 500, action: "import", cid: "audit-import-2" },
      );
      assert.deepEqual(es[2].entities, [
        { kind: "job", id: jobId, name: "Importing VM web-01-doomed to Cluster cl-target", role: "target" },
        { kind: "vm", id: created.id, name: "web-01-doomed", role: "removed" },
      ]);
    });

    it("<async>false</async>: the request's entry comes before the entry of the job it waited for", async () => {
      const vm = await idOf(t(), "vms", "app-01");
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
      const since = await last();
      const r = await t().api("POST", `vms/${vm}/export`, xmlAction(`<storage_domain id="${I.export1}"/><async>false</async>`), { "Correlation-Id": "audit-blocking" });
      assert.equal(r.status, 200, r.text);
      const es = await audit(since);
      assert.deepEqual(es.map((e) => e.method), ["POST", "JOB"]);
      assert.deepEqual(es.map((e) => e.correlationId), ["audit-blocking", "audit-blocking"]);
    });

    it("removing a copy from the export domain is the copy's removal, not the VM's", async () => {
      const vm = await idOf(t(), "vms", "app-01");
      await exportAndWait(t(), vm, I.export1);
      const since = await last();
      const r = await t().api("DELETE", `storagedomains/${I.export1}/vms/${vm}`);
      assert.equal(r.status, 200, r.text);
      const [e] = await audit(since);
      assert.equal(e.action, "remove");
      assert.deepEqual(e.entities, [
        { kind: "exportcopy", id: `${I.export1}:vm:${vm}`, name: "app-01", role: "target" },
        { kind: "storagedomain", id: I.export1, name: "export1", role: "parent" },
        { kind: "exportcopy", id: `${I.export1}:vm:${vm}`, name: "app-01", role: "removed" },
      ]);
      assert.ok(!e.entities.some((x) => x.kind === "vm"));
    });

    it("permissions: add creates the permission under the VM; remove removes it; PUT is an update; DELETE /vms/{id} removes the VM", async () => {
      // set-up: web-01-audit, a clone imported from web-01's copy
      await exportedAndMoved("web-01");
      const imp = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${await idOf(t(), "vms", "web-01")}/import`,
        xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>web-01-audit</name></vm>`),
      );
      assert.equal(imp.status, 202, imp.text);
      assert.equal(await t().waitJob(imp.xml.action.job["@_id"]), "finished");
      const vm = await idOf(t(), "vms", "web-01-audit");
      const since = await last();
      const add = await t().api("POST", `vms/${vm}/permissions`, `<permission><role><name>UserVmManager</name></role><user id="5c0fa4e1-0000-4000-8000-00000000a11c"/></permission>`);
      assert.equal(add.status, 201, add.text);
      const permId = add.xml.permission["@_id"];
      const del = await t().api("DELETE", `vms/${vm}/permissions/${permId}`);
      assert.equal(del.status, 200);
      const put = await t().api("PUT", `vms/${vm}`, `<vm><description>audited</description></vm>`);
      assert.equal(put.status, 200);
      const rm = await t().api("DELETE", `vms/${vm}`);
      assert.equal(rm.status, 200, rm.text);
      const es = await audit(since);
      assert.deepEqual(es.map((e) => e.action), ["add", "remove", "update", "remove"]);
      assert.deepEqual(es[0].entities, [
        { kind: "vm", id: vm, name: "web-01-audit", role: "parent" },
        { kind: "permission", id: permId, role: "created" },
      ]);
      assert.deepEqual(es[1].entities, [
        { kind: "vm", id: vm, name: "web-01-audit", role: "parent" },
        { kind: "permission", id: permId, role: "target" },
        { kind: "permission", id: permId, role: "removed" },
      ]);
      assert.deepEqual(es[2].entities, [{ kind: "vm", id: vm, name: "web-01-audit", role: "target" }]);
      assert.deepEqual(es[3].entities, [
        { kind: "vm", id: vm, name: "web-01-audit", role: "target" },
        { kind: "vm", id: vm, name: "web-01-audit", role: "removed" },
      ]);
    });

    it("storage domain remove and import: target + removed / target + created; injected faults are recorded with their status", async () => {
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      let r = await t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, xmlAction(""));
      assert.equal(r.status, 200, r.text);
      r = await t().api("DELETE", `datacenters/${I.dcTarget}/storagedomains/${I.export1}`);
      assert.equal(r.status, 200, r.text);
      const sd = await t().api("GET", `storagedomains/${I.export1}`);
      const p = sd.xml.storage_domain.storage.path;
      const since = await last();
      r = await t().api("DELETE", `storagedomains/${I.export1}?host=host-target-1&format=false`);
      assert.equal(r.status, 200, r.text);
      r = await t().api(
        "POST",
        "storagedomains",
        `<storage_domain><type>export</type><import>true</import><host><name>host-target-1</name></host><storage><type>nfs</type><address>127.0.0.1</address><path>${p}</path></storage></storage_domain>`,
      );
      assert.equal(r.status, 201, r.text);
      await t().admin("PUT", "faults", { rules: [{ match: { method: "POST", path: "/shutdown$" }, effect: { transport: "status", status: 503 }, max: 1 }] });
      const run = await idOf(t(), "vms", "run-01");
      assert.equal((await t().api("POST", `vms/${run}/shutdown`, xmlAction(""))).status, 503);
      await t().admin("DELETE", "faults");
      const es = await audit(since);
      assert.deepEqual(es.map((e) => [e.action, e.status]), [["remove", 200], ["import", 201], ["shutdown", 503]]);
      assert.deepEqual(es[0].entities.map((e) => [e.kind, e.id, e.role]), [["storagedomain", I.export1, "target"], ["storagedomain", I.export1, "removed"]]);
      assert.deepEqual(es[1].entities, [
        { kind: "storagedomain", id: I.export1, name: "export1", role: "target" },
        { kind: "storagedomain", id: I.export1, name: "export1", role: "created" },
      ]);
      assert.deepEqual(es[2].entities.map((e) => e.role), ["target"]);
    });

    it("survives a restart of the simulator process (kept in <state>/audit.jsonl), sequence numbers go on", async () => {
      await exportedAndMoved("web-01"); // set-up: some entries to keep
      const before = await audit();
      const lastSeq = before[before.length - 1].seq;
      await t().reopen();
      const after = await audit();
      assert.deepEqual(after, before);
      const run = await idOf(t(), "vms", "run-01");
      await t().api("POST", `vms/${run}/stop`, xmlAction(""));
      const next = await audit(lastSeq);
      assert.equal(next.length, 1);
      assert.equal(next[0].seq, lastSeq + 1);
    });
  });
});
