// Persistence and restarts, like the engine at start-up (JobRepositoryImpl.finalizeJobs, job_sp.sql
// UpdateStartedExecutionEntitiesToUnknown): a job whose steps carry VDSM tasks (the disk copies of an export or
// import) stays `started` and ends when its copies end, after an admin restart as after a new process on the same
// state dir; a job without task steps becomes `unknown`; the admin switch failRunning makes the copies fail instead.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { arr, startTestSimulator, TestSimulator, withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, moveExportDomain, startExport, xmlAction } from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job as persisted in state.json (the steps' VDSM task ids are not part of the API's job XML). */
function persistedJob(stateDir: string, jobId: string): any {
  const st = JSON.parse(fs.readFileSync(path.join(stateDir, "state.json"), "utf8"));
  return st.jobs.find((j: any) => j.id === jobId);
}

async function statsJob(t: TestSimulator, jobId: string): Promise<any> {
  return (await t.admin("GET", "stats")).jobs.find((j: any) => j.id === jobId);
}

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

async function eventCount(t: TestSimulator, search: string): Promise<number> {
  return arr((await t.api("GET", `events?search=${encodeURIComponent(search)}`)).xml.events?.event).length;
}

describe("simulator: persistence and restarts", function () {
  this.timeout(120_000);
  withSimulator({ bandwidthMiBps: 1000 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });

    it("admin restart mid-export: the copies go on and the job finishes; the VM stays locked until then; ended copies are not repeated; tokens are invalid", async () => {
      const db = await idOf(t(), "vms", "db-01"); // two disks: 48 + 96 MiB
      const app = await idOf(t(), "vms", "app-01");
      await exportAndWait(t(), app, I.export1);
      await t().admin("PUT", "bandwidth", { MiBps: 40 });
      await t().admin("DELETE", "audit");
      const job = await startExport(t(), db, I.export1);
      // the first disk copied, the second under way
      await until("the second disk copy is under way", async () => (await statsJob(t(), job)).bytes > 60 * 1048576);
      const before = persistedJob(t().stateDir, job);
      const copySteps = before.steps.filter((s: any) => s.description === "Copying Image");
      assert.equal(copySteps.length, 2);
      assert.ok(copySteps.every((s: any) => typeof s.externalId === "string" && s.externalId.length > 0), "every copy step carries its VDSM task id");
      const firstEnd = copySteps[0].endTime;
      assert.equal(copySteps[0].status, "finished");
      const tok = await t().token();
      const port = t().sim.port;
      const r = await t().admin("POST", "restart", {});
      assert.deepEqual(r, { ok: true, resumedJobs: 1, failedJobs: 0, unknownJobs: 0 });
      assert.equal(t().sim.port, port);
      assert.equal((await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 401);
      const mid = await t().api("GET", `jobs/${job}`);
      assert.equal(mid.xml.job.status, "started");
      assert.equal(mid.xml.job.end_time, undefined);
      // restapi StepMapper: a step following a VDSM task shows external_type vdsm (external stays false: that flag is
      // for steps an external client added); the other steps show none
      const midSteps = arr((await t().api("GET", `jobs/${job}/steps`)).xml.steps?.step);
      const copying = midSteps.filter((s: any) => s.description === "Copying Image");
      assert.equal(copying.length, 2);
      assert.deepEqual(copying.map((s: any) => [String(s.external), s.external_type]), [["false", "vdsm"], ["false", "vdsm"]]);
      assert.ok(midSteps.filter((s: any) => s.description !== "Copying Image").every((s: any) => s.external_type === undefined));
      assert.equal((await t().api("GET", `vms/${db}`)).xml.vm.status, "image_locked");
      assert.equal(await t().waitJob(job, 30_000), "finished");
      assert.equal((await t().api("GET", `vms/${db}`)).xml.vm.status, "down");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${db}`)).status, 200, "the copy is on the export domain");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${app}`)).status, 200, "earlier export kept");
      const after = persistedJob(t().stateDir, job);
      const steps = after.steps.filter((s: any) => s.description === "Copying Image");
      assert.equal(steps.length, 2, "the resumed job goes on under its own steps");
      assert.equal(steps[0].endTime, firstEnd, "the copy that had ended was not repeated");
      assert.equal((await statsJob(t(), job)).bytes, 144 * 1048576);
      // the copy equals the source
      const sums = await t().admin("GET", "disks");
      const src = sums.vms.find((v: any) => v.id === db).disks.map((d: any) => d.sha256).sort();
      const exp = sums.exportDomains[0].vms.find((v: any) => v.id === db).disks.map((d: any) => d.sha256).sort();
      assert.deepEqual(exp, src);
      assert.equal(await eventCount(t(), `type=1150 and vm.id=${db}`), 1);
      assert.equal(await eventCount(t(), `type=1151 and vm.id=${db}`), 0);
      // one request started it; the engine ended the job itself
      const audit = (await t().admin("GET", "audit")).entries;
      assert.equal(audit.filter((a: any) => a.method === "POST" && a.action === "export").length, 1);
      assert.equal(audit.filter((a: any) => a.method === "JOB" && a.status === 200).length, 1);
      await t().admin("PUT", "bandwidth", { MiBps: 1000 });
    });

    it("admin restart with failRunning: the copies fail after the restart; the export's failure path runs (VM unlocked, no copy, failure events)", async () => {
      const web = await idOf(t(), "vms", "web-01");
      await t().admin("PUT", "bandwidth", { MiBps: 4 });
      const job = await startExport(t(), web, I.export1);
      await until("the copy is under way", async () => (await statsJob(t(), job)).bytes > 1048576);
      const reason = "Injected: the SPM lost the task";
      const r = await t().admin("POST", "restart", { failRunning: true, reason });
      assert.deepEqual(r, { ok: true, resumedJobs: 0, failedJobs: 1, unknownJobs: 0 });
      assert.equal(await t().waitJob(job, 5000), "failed");
      assert.equal((await t().api("GET", `vms/${web}`)).xml.vm.status, "down");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${web}`)).status, 404);
      assert.equal(await eventCount(t(), `type=1151 and vm.id=${web}`), 1);
      const vdsm = arr((await t().api("GET", `events?search=${encodeURIComponent("type=10803")}`)).xml.events?.event);
      assert.ok(vdsm.some((e: any) => e.description === `VDSM command MoveImageGroupVDS failed: ${reason}`), JSON.stringify(vdsm.map((e: any) => e.description)));
      await assert.rejects(t().admin("POST", "restart", { failRunning: "yes" }), /400/);
      await t().admin("PUT", "bandwidth", { MiBps: 1000 });
    });

    it("admin restart with downMs answers 503 meanwhile", async () => {
      await t().admin("POST", "restart", { downMs: 400 });
      const r = await t().raw("GET", "/ovirt-engine/api");
      assert.equal(r.status, 503);
      await sleep(500);
      assert.equal((await t().api("GET", "")).status, 200);
    });

    it("a new process on the same state dir keeps the inventory (ids, statuses, imports)", async () => {
      const before = (await t().api("GET", "vms")).xml.vms.vm.map((v: any) => [v["@_id"], v.name, v.status]);
      await t().reopen();
      const after = (await t().api("GET", "vms")).xml.vms.vm.map((v: any) => [v["@_id"], v.name, v.status]);
      assert.deepEqual(after, before);
    });
  });

  it("a job without VDSM task steps found started at start-up becomes unknown with an end time (its started steps too); its entity is left alone", async () => {
    const t1 = await startTestSimulator({ keepStateDir: true });
    const stateDir = t1.stateDir;
    const web = await idOf(t1, "vms", "web-01");
    await t1.close();
    // the engine's database after a crash during such a command (an external job added over the API, or a
    // synchronous command such as a storage-domain attach): started, steps without an external_id
    const file = path.join(stateDir, "state.json");
    const st = JSON.parse(fs.readFileSync(file, "utf8"));
    const t0 = new Date(Date.now() - 5000).toISOString();
    st.jobs.push({
      id: "5b1e7a3c-0000-4000-8000-00000000f00d", kind: "other", description: "Task-less command", status: "started", startTime: t0,
      lastUpdated: t0, correlationId: "taskless-1", external: true, autoCleared: true, storageDomainIds: [], vmId: web, bytes: 0, startMs: Date.parse(t0),
      steps: [
        { id: "5b1e7a3c-0000-4000-8000-00000000f001", type: "validating", number: 0, status: "finished", description: "Validating", startTime: t0, endTime: t0 },
        { id: "5b1e7a3c-0000-4000-8000-00000000f002", type: "executing", number: 1, status: "started", description: "Executing", startTime: t0 },
      ],
    });
    fs.writeFileSync(file, JSON.stringify(st));
    const vmBefore = st.vms.find((v: any) => v.id === web).status;
    const t2 = await startTestSimulator({ stateDir });
    try {
      const j = (await t2.api("GET", "jobs/5b1e7a3c-0000-4000-8000-00000000f00d?follow=steps")).xml.job;
      assert.equal(j.status, "unknown");
      assert.ok(j.end_time, "an end time is set");
      const steps = arr(j.steps.step);
      assert.deepEqual(steps.map((s: any) => s.status), ["finished", "unknown"]);
      assert.ok(steps[1].end_time);
      assert.equal((await t2.api("GET", `vms/${web}`)).xml.vm.status, vmBefore);
      const found = arr((await t2.api("GET", `jobs?search=${encodeURIComponent("status=unknown")}`)).xml.jobs?.job);
      assert.deepEqual(found.map((x: any) => x["@_id"]), ["5b1e7a3c-0000-4000-8000-00000000f00d"]);
    } finally {
      await t2.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("a simulator process killed mid-import: the next process goes on with the copies; the VM is imported once, its disks equal to the copy", async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-sim-kill-"));
    // set up: web-01 exported, the export domain moved to the target data center
    const t1 = await startTestSimulator({ stateDir, bandwidthMiBps: 1000 });
    let I: Ids;
    let web: string;
    try {
      I = await ids(t1);
      web = await idOf(t1, "vms", "web-01");
      await exportAndWait(t1, web, I.export1);
      await moveExportDomain(t1, I.export1, I.dcSource, I.dcTarget);
      await t1.admin("DELETE", "audit");
    } finally {
      await t1.close();
    }
    const cli = path.resolve(__dirname, "..", "..", "simulator", "cli.js");
    const child = spawn(process.execPath, [cli, "--port", "0", "--state", stateDir, "--bandwidth", "4"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, OVIRT_SIM_PASSWORD: "secret" },
    });
    const url: string = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b) => {
        out += String(b);
        const m = /API URL: (\S+)/.exec(out);
        if (m && /CA file:/.test(out)) resolve(m[1]);
      });
      child.on("exit", (c) => reject(new Error(`cli exited ${c}`)));
    });
    const { Agent, request } = await import("undici");
    const agent = new Agent({ connect: { ca: fs.readFileSync(path.join(stateDir, "pki", "ca.pem")) } });
    const auth = `Basic ${Buffer.from("admin@internal:secret").toString("base64")}`;
    const get = async (p: string) => (await request(`${url}/${p}`, { headers: { authorization: auth }, dispatcher: agent })).body.text();
    // the import copy goes to the target data center as a clone (the source VM keeps its id there)
    const r = await request(`${url}/storagedomains/${I!.export1}/vms/${web!}/import`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/xml" },
      body: xmlAction(`<storage_domain id="${I!.dataTarget}"/><cluster id="${I!.clTarget}"/><clone>true</clone><vm><name>web-01-imp</name></vm>`),
      dispatcher: agent,
    });
    const answer = await r.body.text();
    assert.equal(r.statusCode, 202, answer);
    const jobId = /<job href="[^"]+" id="([^"]+)"/.exec(answer)![1];
    // some bytes copied, not all (32 MiB at 4 MiB/s)
    await until("the import copied some bytes", async () => /<progress>([1-9]\d?)<\/progress>/.test(await get(`jobs/${jobId}?follow=steps`)));
    assert.match(await get("vms?search=name%3Dweb-01-imp"), /<status>image_locked<\/status>/);
    child.kill("SIGKILL");
    await new Promise((res) => child.on("exit", res));
    await agent.close();
    assert.ok(persistedJob(stateDir, jobId).resume, "the plan to go on with is in state.json");

    const t2 = await startTestSimulator({ stateDir, bandwidthMiBps: 1000 });
    try {
      assert.equal(await t2.waitJob(jobId, 30_000), "finished");
      const vms = arr((await t2.api("GET", "vms?search=name%3Dweb-01-imp")).xml.vms?.vm);
      assert.equal(vms.length, 1, "imported exactly once");
      assert.equal(vms[0].status, "down");
      const sums = await t2.admin("GET", "disks");
      const imp = sums.vms.find((v: any) => v.name === "web-01-imp").disks.map((d: any) => d.sha256);
      const copy = sums.exportDomains[0].vms.find((v: any) => v.id === web!).disks.map((d: any) => d.sha256);
      assert.deepEqual(imp, copy);
      assert.equal(await eventCount(t2, "type=1152"), 1);
      assert.equal(await eventCount(t2, "type=1153"), 0);
      const audit = (await t2.admin("GET", "audit")).entries;
      assert.equal(audit.filter((a: any) => a.method === "POST" && a.action === "import").length, 1, "one import request");
      assert.deepEqual(audit.filter((a: any) => a.method === "JOB").map((a: any) => a.status), [200]);
      assert.equal(persistedJob(stateDir, jobId).resume, undefined, "nothing left to go on with");
    } finally {
      await t2.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("simulator: storage-domain commands (task-less jobs) at an engine restart", function () {
  this.timeout(120_000);
  // timeScale 20: the engine's pool refresh (StoragePoolRefreshTimeInSeconds, 10 s) comes after 0.5 s
  withSimulator({ storageTransitionMs: 0, timeScale: 20 }, (t) => {
    let I: Ids;
    const OP_MS = 4000;
    const attachedStatus = async (dc: string, sd: string) => {
      const r = await t().api("GET", `datacenters/${dc}/storagedomains/${sd}`);
      return r.status === 404 ? "not attached" : (r.xml.storage_domain.status as string);
    };
    const jobOf = async (cid: string) => {
      const found = arr((await t().api("GET", `jobs?search=${encodeURIComponent(`correlation_id=${cid}`)}`)).xml.jobs?.job);
      assert.equal(found.length, 1, `one job for correlation id ${cid}`);
      const j = (await t().api("GET", `jobs/${found[0]["@_id"]}?follow=steps`)).xml.job;
      return { ...j, steps: arr(j.steps?.step) };
    };
    /** Sends a command without waiting for its answer (the restart drops its connection). */
    const fire = (method: string, p: string, body: string | undefined, cid: string) => t().api(method, p, body, { "correlation-id": cid }).catch(() => undefined);
    before(async () => {
      I = await ids(t());
    });
    afterEach(async () => {
      await t().admin("PUT", "storage-operation", { ms: 0 });
    });

    it("attach, deactivate, detach and activate each list a job with the engine's text and the request's correlation id; no step carries a task", async () => {
      const sd = I.export1;
      const call = async (method: string, p: string, body: string | undefined, cid: string, status: number) => {
        const r = await t().api(method, p, body, { "correlation-id": cid });
        assert.equal(r.status, status, r.text);
      };
      await call("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/deactivate`, "<action/>", "sdjob-deactivate", 200);
      await call("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/activate`, "<action/>", "sdjob-activate", 200);
      await call("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/deactivate`, "<action/>", "sdjob-deactivate-2", 200);
      await call("DELETE", `datacenters/${I.dcSource}/storagedomains/${sd}`, undefined, "sdjob-detach", 200);
      await call("POST", `datacenters/${I.dcSource}/storagedomains`, `<storage_domain id="${sd}"/>`, "sdjob-attach", 201);
      const expected: Array<[string, string, string[]]> = [
        ["sdjob-deactivate", "Deactivating Storage Domain export1 in Data Center dc-source", ["Validating", "Executing", "DEACTIVATE_STORAGE_DOMAIN"]],
        ["sdjob-activate", "Activating Storage Domain export1 on Data Center dc-source", ["Validating", "Executing"]],
        ["sdjob-detach", "Detaching Storage Domain export1 from Data Center dc-source", ["Validating", "Executing"]],
        ["sdjob-attach", "Attaching Storage Domain export1 to Data Center dc-source", ["Validating", "Executing"]],
      ];
      for (const [cid, text, steps] of expected) {
        const j = await jobOf(cid);
        assert.equal(j.description, text);
        assert.equal(j.status, "finished", cid);
        assert.ok(j.end_time, `${cid}: an end time`);
        assert.deepEqual(j.steps.map((s: any) => s.description), steps);
        assert.ok(j.steps.every((s: any) => s.status === "finished" && s.external_type === undefined), `${cid}: ${JSON.stringify(j.steps)}`);
      }
      const sub = (await jobOf("sdjob-deactivate")).steps.find((s: any) => s.description === "DEACTIVATE_STORAGE_DOMAIN");
      assert.equal(sub.type, "unknown");
      assert.ok(sub.parent_step, "a sub-step of Executing");
    });

    it("restart mid-attach: the job ends unknown with an end time; the engine's compensation leaves the domain unattached; attaching again works", async () => {
      const sd = I.export1;
      await moveOut(sd, I.dcSource);
      await t().admin("PUT", "storage-operation", { ms: OP_MS });
      const pending = fire("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${sd}"/>`, "restart-attach");
      await until("the attach runs", async () => (await attachedStatus(I.dcTarget, sd)) === "locked");
      const r = await t().admin("POST", "restart", {});
      await pending;
      assert.equal(r.unknownJobs, 1, JSON.stringify(r));
      const j = await jobOf("restart-attach");
      assert.equal(j.status, "unknown");
      assert.ok(j.end_time, "an end time is set");
      assert.deepEqual(j.steps.map((s: any) => s.status), ["finished", "unknown"]);
      assert.equal(await attachedStatus(I.dcTarget, sd), "not attached");
      await t().admin("PUT", "storage-operation", { ms: 0 });
      const again = await t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${sd}"/>`);
      assert.equal(again.status, 201, again.text);
      assert.equal(again.xml.storage_domain.status, "active");
      await moveOut(sd, I.dcTarget);
      await moveIn(sd, I.dcSource);
    });

    it("restart mid-deactivate: unknown, then VDSM's view at the next pool refresh (active before DeactivateStorageDomainVDS, maintenance after)", async () => {
      const sd = I.export1;
      for (const [n, phase, settled] of [[1, "locked", "active"], [2, "preparing_for_maintenance", "maintenance"]] as const) {
        await t().admin("PUT", "storage-operation", { ms: OP_MS });
        const cid = `restart-deactivate-${n}`;
        const pending = fire("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/deactivate`, "<action/>", cid);
        await until(`the deactivation is in ${phase}`, async () => (await attachedStatus(I.dcSource, sd)) === phase);
        await t().admin("POST", "restart", {});
        await pending;
        assert.equal((await jobOf(cid)).status, "unknown");
        assert.equal(await attachedStatus(I.dcSource, sd), "unknown", `${phase}: the compensation's status`);
        await until(`${phase}: the pool refresh settles the domain`, async () => (await attachedStatus(I.dcSource, sd)) !== "unknown", 10_000);
        assert.equal(await attachedStatus(I.dcSource, sd), settled, phase);
        await t().admin("PUT", "storage-operation", { ms: 0 });
      }
      // back to active for the next test
      assert.equal((await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/activate`, "<action/>")).status, 200);
    });

    it("restart mid-detach puts the domain back in maintenance, mid-activate too; both can be sent again", async () => {
      const sd = I.export1;
      assert.equal((await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${sd}/deactivate`, "<action/>")).status, 200);
      for (const [cid, method, p, body, phase] of [
        ["restart-detach", "DELETE", `datacenters/${I.dcSource}/storagedomains/${sd}`, undefined, "detaching"],
        ["restart-activate", "POST", `datacenters/${I.dcSource}/storagedomains/${sd}/activate`, "<action/>", "activating"],
      ] as const) {
        await t().admin("PUT", "storage-operation", { ms: OP_MS });
        const pending = fire(method, p, body, cid);
        await until(`${cid}: the command runs`, async () => (await attachedStatus(I.dcSource, sd)) === phase);
        await t().admin("POST", "restart", {});
        await pending;
        assert.equal((await jobOf(cid)).status, "unknown");
        assert.equal(await attachedStatus(I.dcSource, sd), "maintenance", cid);
      }
      await t().admin("PUT", "storage-operation", { ms: 0 });
      assert.equal((await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${sd}`)).status, 200);
      assert.equal(await attachedStatus(I.dcSource, sd), "not attached");
      await moveIn(sd, I.dcSource);
    });

    async function moveOut(sd: string, dc: string): Promise<void> {
      assert.equal((await t().api("POST", `datacenters/${dc}/storagedomains/${sd}/deactivate`, "<action/>")).status, 200);
      assert.equal((await t().api("DELETE", `datacenters/${dc}/storagedomains/${sd}`)).status, 200);
    }
    async function moveIn(sd: string, dc: string): Promise<void> {
      const r = await t().api("POST", `datacenters/${dc}/storagedomains`, `<storage_domain id="${sd}"/>`);
      assert.equal(r.status, 201, r.text);
    }
  });
});
