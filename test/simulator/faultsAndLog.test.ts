// Fault rules at the HTTP front (transport: status, reset, delay; max, skip, probability), job failures, and the
// request log. Rules at operation points (entity, name, engine faults, guest): faultRules.test.ts.
import * as assert from "node:assert/strict";
import { arr, withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, startExport } from "./helpers";

describe("simulator: fault injection and request log", function () {
  this.timeout(30_000);
  withSimulator({ bandwidthMiBps: 400 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });
    afterEach(async () => {
      await t().admin("DELETE", "faults");
    });

    it("status rule with max: answers 503 twice, then normally; the log shows it", async () => {
      await t().admin("DELETE", "requests");
      await t().admin("PUT", "faults", { rules: [{ match: { method: "GET", path: "/ovirt-engine/api/clusters$" }, effect: { transport: "status", status: 503 }, max: 2 }] });
      const a = await t().api("GET", "clusters");
      const b = await t().api("GET", "clusters");
      const c = await t().api("GET", "clusters");
      assert.deepEqual([a.status, b.status, c.status], [503, 503, 200]);
      const other = await t().api("GET", "hosts");
      assert.equal(other.status, 200);
      const log = await t().admin("GET", "requests");
      assert.deepEqual(log.log.filter((e: any) => e.path === "/ovirt-engine/api/clusters").map((e: any) => e.status), [503, 503, 200]);
      const rules = await t().admin("GET", "faults");
      assert.equal(rules.rules[0].hits, 2);
    });

    it("skip lets the first matches through; probability 0 never fires", async () => {
      await t().admin("PUT", "faults", {
        rules: [
          { match: { path: "/datacenters$" }, effect: { transport: "status", status: 500 }, max: 1, skip: 1 },
          { match: { path: "/hosts$" }, effect: { transport: "status", status: 500 }, probability: 0 },
        ],
      });
      const s = [];
      for (let i = 0; i < 3; i++) s.push((await t().api("GET", "datacenters")).status);
      assert.deepEqual(s, [200, 500, 200]);
      for (let i = 0; i < 5; i++) assert.equal((await t().api("GET", "hosts")).status, 200);
    });

    it("reset drops the connection; delay adds latency", async () => {
      await t().admin("PUT", "faults", { rules: [{ match: { method: "GET", path: "/ovirt-engine/api/hosts$" }, effect: { transport: "reset" }, max: 1 }, { match: { path: "/clusters$" }, effect: { transport: "delay", delayMs: 300 } }] });
      await assert.rejects(t().api("GET", "hosts"), /socket|closed|ECONNRESET|other side/i);
      assert.equal((await t().api("GET", "hosts")).status, 200);
      const t0 = Date.now();
      assert.equal((await t().api("GET", "clusters")).status, 200);
      assert.ok(Date.now() - t0 >= 290);
    });

    it("rejects an invalid rule set with 400", async () => {
      await assert.rejects(t().admin("PUT", "faults", { rules: [{ effect: { transport: "explode" } }] }), /400 [\s\S]*rules\.0\.effect\.transport/);
    });

    it("a job failure rule: the export job fails, the VM is unlocked, event 1151, no copy left on the export domain", async () => {
      const vm = await idOf(t(), "vms", "web-01");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", operation: "export" }, effect: { jobFailure: { reason: "VDSM copy failed: injected" } }, max: 1 }] });
      const job = await startExport(t(), vm, I.export1);
      assert.equal(await t().waitJob(job), "failed");
      assert.equal((await t().api("GET", `vms/${vm}`)).xml.vm.status, "down");
      const ev = arr((await t().api("GET", `events?search=${encodeURIComponent(`type=1151 and vm.id=${vm}`)}`)).xml.events?.event);
      assert.equal(ev.length, 1);
      assert.equal(ev[0].severity, "error");
      assert.equal(ev[0].description, "Failed to export Vm web-01 to export1");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${vm}`)).status, 404);
      const stats = await t().admin("GET", "stats");
      assert.equal(stats.jobs.find((j: any) => j.id === job).failureReason, "VDSM copy failed: injected");
      // the next export succeeds
      const ok = await startExport(t(), vm, I.export1);
      assert.equal(await t().waitJob(ok), "finished");
    });

    it("a job failure rule on import: the half-imported VM is removed, event 1153", async () => {
      const vm = await idOf(t(), "vms", "web-01");
      // set-up: web-01's copy on export1 (the test before leaves one; exclusive replaces it)
      await exportAndWait(t(), vm, I.export1, "<exclusive>true</exclusive>");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", operation: "import" }, effect: { jobFailure: { reason: "injected import failure" } }, max: 1 }] });
      const r = await t().api("POST", `storagedomains/${I.export1}/vms/${vm}/import`, `<action><storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>true</clone><vm><name>web-copy</name></vm><async>false</async></action>`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "failed", "a late failure is HTTP 200 with status failed");
      assert.equal(arr((await t().api("GET", "vms?search=name%3Dweb-copy")).xml.vms?.vm).length, 0);
      const ev = arr((await t().api("GET", "events?search=type%3D1153")).xml.events?.event);
      assert.equal(ev.length, 1);
    });

    it("request log: counts by method and normalised path, mutating count excludes GET and SSO, `since`", async () => {
      await t().admin("DELETE", "requests");
      const vm = await idOf(t(), "vms", "web-01");
      await t().api("GET", `vms/${vm}`);
      await t().api("GET", `vms/${vm}/diskattachments`);
      await t().raw("POST", "/ovirt-engine/sso/oauth/token", "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=secret", { "content-type": "application/x-www-form-urlencoded" });
      const first = await t().admin("GET", "requests");
      assert.equal(first.mutating, 0);
      const t0 = performance.now();
      await t().api("POST", `vms/${vm}/shutdown`, "<action/>");
      const took = performance.now() - t0;
      const log = await t().admin("GET", "requests");
      assert.equal(log.mutating, 1);
      assert.equal(log.byPath["GET /ovirt-engine/api/vms/{id}"], 1);
      assert.equal(log.byPath["GET /ovirt-engine/api/vms/{id}/diskattachments"], 1);
      assert.equal(log.byPath["POST /ovirt-engine/api/vms/{id}/shutdown"], 1);
      assert.equal(log.byMethod.POST, 2);
      const since = await t().admin("GET", `requests?since=${first.log[first.log.length - 1].seq}`);
      assert.deepEqual(since.log.map((e: any) => e.method), ["POST"]);
      // the logged duration is the server's time for that request: within what the client measured around it
      assert.ok(Number.isFinite(since.log[0].ms) && since.log[0].ms >= 0 && since.log[0].ms <= took + 1, `logged ${since.log[0].ms} ms, the request took ${took.toFixed(1)} ms`);
      assert.equal(since.log[0].status, 409, "web-01 is down: shutdown is refused");
    });
  });
});
