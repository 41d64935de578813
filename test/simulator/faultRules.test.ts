// Fault rules at operation points (simulator/faultInjection.ts): matched by entity kind, name and operation; engine
// faults by message key, job failures at start/halfway, the guest ignoring shutdown, a lost answer after the command
// ran, skip/max/probability, hit counts, and the 400s of bad rules. The HTTP-front rules are in faultsAndLog.test.ts.
import * as assert from "node:assert/strict";
import { arr, TestSimulator, withSimulator } from "../support/simulator";
import { ids, Ids, idOf, xmlAction } from "./helpers";

const MiB = 1024 * 1024;

describe("simulator: fault rules at operation points", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 200 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });
    afterEach(async () => {
      await t().admin("DELETE", "faults");
    });

    /** POSTs an export (exclusive: a copy left by another test is replaced); returns the raw answer. */
    const exportVm = (s: TestSimulator, vmId: string) =>
      s.api("POST", `vms/${vmId}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`));
    const jobOf = (r: { status: number; text: string; xml: any }) => {
      assert.equal(r.status, 202, r.text);
      return r.xml.action.job["@_id"] as string;
    };
    const stat = async (jobId: string) => (await t().admin("GET", "stats")).jobs.find((j: any) => j.id === jobId);
    const ensureUp = async (vmId: string) => {
      if ((await t().api("GET", `vms/${vmId}`)).xml.vm.status !== "up") assert.equal((await t().api("POST", `vms/${vmId}/start`, "<action/>")).status, 200);
    };

    it("a rule naming one VM fails only that VM's export job; another VM's export goes through", async () => {
      const web = await idOf(t(), "vms", "web-01");
      const app = await idOf(t(), "vms", "app-01");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "web-01", operation: "export" }, effect: { jobFailure: { reason: "VDSM copy failed: injected" } } }] });
      const failed = jobOf(await exportVm(t(), web));
      const ok = jobOf(await exportVm(t(), app));
      assert.equal(await t().waitJob(failed), "failed");
      assert.equal(await t().waitJob(ok), "finished");
      assert.equal((await stat(failed)).failureReason, "VDSM copy failed: injected");
      assert.equal((await t().api("GET", `vms/${web}`)).xml.vm.status, "down", "the failed export unlocked the VM");
      const [rule] = (await t().admin("GET", "faults")).rules;
      assert.deepEqual([rule.seen, rule.hits], [1, 1], "app-01's export did not match the rule");
      // no max: the rule goes on failing web-01's exports
      assert.equal(await t().waitJob(jobOf(await exportVm(t(), web))), "failed");
    });

    it("an engine fault by message key answers the engine's text and status, and changes nothing", async () => {
      const app = await idOf(t(), "vms", "app-01");
      const tpl = await idOf(t(), "templates", "rhel9-base");
      const jobsBefore = (await t().admin("GET", "stats")).jobs.length;
      await t().admin("PUT", "faults", {
        rules: [
          { match: { entity: "vm", operation: "export" }, effect: { engineFault: "ACTION_TYPE_FAILED_VM_IS_LOCKED" } },
          { match: { entity: "template" }, effect: { engineFault: "ACTION_TYPE_FAILED_DISK_SPACE_LOW_ON_STORAGE_DOMAIN", params: { storageName: "export1" } } },
          { match: { entity: "storagedomain", name: "export1", operation: "deactivate" }, effect: { engineFault: "ACTION_TYPE_FAILED_OBJECT_LOCKED" } },
        ],
      });
      let r = await exportVm(t(), app);
      assert.equal(r.status, 409, r.text);
      assert.equal(r.xml.action.status, "failed");
      assert.equal(r.xml.action.fault.reason, "Operation Failed");
      assert.equal(r.xml.action.fault.detail, "[Cannot export VM: VM is locked. Please try again in a few minutes.]");
      r = await t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`));
      assert.equal(r.status, 409, r.text);
      assert.equal(r.xml.action.fault.detail, "[Cannot export Template. Low disk space on Storage Domain export1.]");
      r = await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>");
      assert.equal(r.status, 409, r.text);
      assert.equal(r.xml.action.fault.detail, "[Cannot deactivate Storage. Related operation is currently in progress. Please try again later.]");
      // refused in validation: no job, nothing locked, the domain still active
      assert.equal((await t().admin("GET", "stats")).jobs.length, jobsBefore);
      assert.equal((await t().api("GET", `vms/${app}`)).xml.vm.status, "down");
      assert.equal((await t().api("GET", `templates/${tpl}`)).xml.template.status, "ok");
      assert.equal((await t().api("GET", `datacenters/${I.dcSource}/storagedomains/${I.export1}`)).xml.storage_domain.status, "active");
      assert.deepEqual((await t().admin("GET", "faults")).rules.map((x: any) => x.hits), [1, 1, 1]);
    });

    it("a job failure at start copies nothing; halfway copies about half of the last disk first", async () => {
      const web = await idOf(t(), "vms", "web-01"); // one 32 MiB disk
      await t().admin("PUT", "faults", { rules: [{ match: { name: "web-01" }, effect: { jobFailure: { reason: "refused at start", at: "start" } }, max: 1 }] });
      const atStart = jobOf(await exportVm(t(), web));
      assert.equal(await t().waitJob(atStart), "failed");
      const s1 = await stat(atStart);
      assert.equal(s1.failureReason, "refused at start");
      assert.equal(s1.bytes, 0);
      await t().admin("PUT", "faults", { rules: [{ match: { name: "web-01" }, effect: { jobFailure: { reason: "failed halfway" } }, max: 1 }] });
      const half = jobOf(await exportVm(t(), web));
      assert.equal(await t().waitJob(half), "failed");
      const s2 = await stat(half);
      assert.equal(s2.failureReason, "failed halfway");
      assert.ok(s2.bytes >= 16 * MiB && s2.bytes < 32 * MiB, `copied ${s2.bytes} bytes of 32 MiB`);
      // both rules had max 1: the next export goes through
      assert.equal(await t().waitJob(jobOf(await exportVm(t(), web))), "finished");
    });

    it("the import of the named VM fails and its half-imported VM is removed", async () => {
      const app = await idOf(t(), "vms", "app-01");
      assert.equal(await t().waitJob(jobOf(await exportVm(t(), app))), "finished");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "app-01", operation: "import" }, effect: { jobFailure: { reason: "injected import failure" } } }] });
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${app}/import`,
        xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>true</clone><vm><name>app-copy</name></vm><async>false</async>`),
      );
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "failed");
      assert.equal(arr((await t().api("GET", "vms?search=name%3Dapp-copy")).xml.vms?.vm).length, 0);
    });

    it("guest ignore-shutdown: the named VM's guest stays up, stop still powers it off; another guest shuts down", async () => {
      const run = await idOf(t(), "vms", "run-01");
      const app = await idOf(t(), "vms", "app-01");
      await ensureUp(run);
      await ensureUp(app);
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "run-01" }, effect: { guest: "ignore-shutdown" } }] });
      assert.equal((await t().api("POST", `vms/${run}/shutdown`, "<action/>")).status, 200);
      assert.equal((await t().api("GET", `vms/${run}`)).xml.vm.status, "powering_down");
      await new Promise((res) => setTimeout(res, 300));
      assert.equal((await t().api("GET", `vms/${run}`)).xml.vm.status, "up", "the guest ignored the request");
      assert.equal((await t().api("POST", `vms/${app}/shutdown`, "<action/>")).status, 200);
      assert.equal((await t().api("GET", `vms/${app}`)).xml.vm.status, "down");
      assert.equal((await t().api("POST", `vms/${run}/stop`, "<action/>")).status, 200);
      assert.equal((await t().api("GET", `vms/${run}`)).xml.vm.status, "down");
      const [rule] = (await t().admin("GET", "faults")).rules;
      assert.deepEqual([rule.seen, rule.hits], [1, 1], "stop and app-01's shutdown are not the guest's business");
    });

    it("skip, max and probability at an operation point; seen and hits are listed", async () => {
      const app = await idOf(t(), "vms", "app-01");
      await t().admin("PUT", "faults", {
        rules: [
          { match: { operation: "export" }, effect: { engineFault: "ACTION_TYPE_FAILED_OBJECT_LOCKED" }, probability: 0 },
          { match: { entity: "vm", operation: "export" }, effect: { engineFault: "ACTION_TYPE_FAILED_OBJECT_LOCKED" }, skip: 1, max: 1 },
        ],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await exportVm(t(), app);
        statuses.push(r.status);
        if (r.status === 202) assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
      }
      assert.deepEqual(statuses, [202, 409, 202], "the first match skipped, the second refused, then max reached");
      const rules = (await t().admin("GET", "faults")).rules;
      assert.deepEqual(rules.map((x: any) => [x.seen, x.hits]), [[3, 0], [3, 1]]);
    });

    it("a transport rule at an operation: the export runs but its answer is lost", async () => {
      const app = await idOf(t(), "vms", "app-01");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "app-01", operation: "export" }, effect: { transport: "reset" }, max: 1 }] });
      const before = (await t().admin("GET", "stats")).jobs.length;
      await assert.rejects(exportVm(t(), app), /socket|closed|ECONNRESET|other side/i);
      const jobs = (await t().admin("GET", "stats")).jobs.slice(before);
      assert.equal(jobs.length, 1, "the command ran although its answer never came");
      assert.equal(jobs[0].kind, "export_vm");
      assert.equal(await t().waitJob(jobs[0].id), "finished");
      const [rule] = (await t().admin("GET", "faults")).rules;
      assert.equal(rule.hits, 1);
    });

    it("a bad rule answers 400 naming the field and keeps the rules in place; the old endpoints name the rule to use", async () => {
      const keep = { rules: [{ match: { path: "/clusters$" }, effect: { transport: "delay", delayMs: 1 } }] };
      await t().admin("PUT", "faults", keep);
      const bad: [unknown, RegExp][] = [
        [{ effect: { engineFault: "NO_SUCH_KEY" } }, /rules\.0\.effect\.engineFault/],
        [{ effect: { engineFault: "ACTION_TYPE_FAILED_DISK_SPACE_LOW_ON_STORAGE_DOMAIN" } }, /rules\.0\.effect\.params\.storageName: .*needs/],
        [{ effect: { engineFault: "ACTION_TYPE_FAILED_OBJECT_LOCKED", params: { status: "x" } } }, /rules\.0\.effect\.params\.status: .*no \$\{status\}/],
        [{ effect: { transport: "reset", jobFailure: { reason: "x" } } }, /rules\.0\.effect: exactly one of/],
        [{ match: { entity: "vm", operation: "export" }, effect: { guest: "ignore-shutdown" } }, /rules\.0\.match\.operation: the guest answers shutdown only; found export/],
        [{ match: { entity: "template", operation: "shutdown" }, effect: { transport: "reset" } }, /rules\.0\.match\.operation: a template has no operation shutdown/],
        [{ match: { entity: "storagedomain" }, effect: { jobFailure: { reason: "x" } } }, /rules\.0\.match\.entity: storage domain commands run no copy/],
        [{ match: { path: "([" }, effect: { transport: "reset" } }, /rules\.0\.match\.path: not a regular expression/],
        [{ effect: { transport: "delay" } }, /rules\.0\.effect\.delayMs: a delay needs delayMs/],
        [{ method: "GET", path: "/hosts$", kind: "reset" }, /rules\.0: the flat rule shape .* was replaced/],
      ];
      for (const [rule, re] of bad) await assert.rejects(t().admin("PUT", "faults", { rules: [rule] }), (e: Error) => /: 400 /.test(e.message) && re.test(e.message), JSON.stringify(rule));
      const listed = (await t().admin("GET", "faults")).rules;
      assert.equal(listed.length, 1);
      assert.equal(listed[0].match.path, "/clusters$");
      await assert.rejects(t().admin("POST", "fail-next-job", { kind: "export_vm" }), /410 [\s\S]*effect \{ jobFailure/);
      await assert.rejects(t().admin("POST", "vms/web-01/ignore-shutdown", {}), /410 [\s\S]*guest/);
    });
  });
});
