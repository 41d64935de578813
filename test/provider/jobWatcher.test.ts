import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines, stableCorrelationId } from "../../provider/client";
import { jobWatcher, predictEnd, jobPercent } from "../../provider/client/jobWatcher";
import { lostWhen, waitForJob } from "../../provider/operations/wait";

const quiet = { update() {}, info() {}, warn() {} } as any;

describe("shared job watcher", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    // slow copies at a steady pace: web-01 (32 MiB) and app-01 (16 MiB) export in parallel for several seconds, each
    // capped at 4 MiB/s (fast domains, so the copies do not speed up when the other one ends: this test is about the
    // polling loop, not about predicting a changing rate)
    sim = await startTestSimulator({ ...PROVIDER_SIM, bandwidthMiBps: 1000 });
    await sim.admin("PUT", "/bandwidth", { perCopyMiBps: 4 });
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("predicts the end from two progress samples", () => {
    assert.equal(predictEnd(undefined, { t: 1000, p: 10 }), undefined);
    // 10% per second; at 10% (really 10.0 .. 10.99) 89.5% remain: 8.95 s more
    assert.equal(predictEnd({ t: 0, p: 0 }, { t: 1000, p: 10 }), 9_950);
    assert.equal(predictEnd({ t: 0, p: 10 }, { t: 1000, p: 10 }), undefined);
    assert.equal(jobPercent({ id: "j", steps: [{ id: "a", type: "executing", progress: 40 }, { id: "b", type: "executing", progress: 80, parent_step: { id: "a" } }] }), 40);
  });

  it("one polling loop serves every concurrent wait, and ended jobs are noticed promptly", async () => {
    const c = connect(sim.engine);
    const sd = await c.storageDomains.findByName("export1");
    const names = ["web-01", "app-01"];
    const vms = await Promise.all(names.map((n) => c.vms.findByName(n)));
    await sim.resetRequests();
    const started = Date.now();
    const waits = vms.map(async (vm, i) => {
      const correlationId = stableCorrelationId("watcher-test", vm!.id, String(started));
      const res = await c.vms.export(vm!.id, { exportDomainId: sd!.id, exclusive: true, discardSnapshots: false, correlationId });
      await waitForJob({
        c,
        jobId: res.job?.id,
        correlationId,
        what: `export of ${names[i]}`,
        deadline: Date.now() + 60_000,
        progress: quiet,
        entityDone: async () => (await c.vms.get(vm!.id))?.status === "down",
      });
      return Date.now();
    });
    const ends = await Promise.all(waits);
    const req = await sim.admin("GET", "/requests");
    const jobPolls = (req.byPath["GET /ovirt-engine/api/jobs"] ?? 0) + (req.byPath["GET /ovirt-engine/api/jobs/{id}"] ?? 0);
    const stats = await sim.admin("GET", "/stats");
    const jobs = (stats.jobs as Array<{ kind: string; startMs: number; endMs: number }>).filter((j) => j.kind === "export_vm" && j.startMs >= started);
    assert.equal(jobs.length, 2);
    const longest = Math.max(...jobs.map((j) => j.endMs - j.startMs));
    // a per-resource loop capped at 2 s would need > 2 x longest/2000 polls; the shared loop needs a handful
    assert.ok(jobPolls <= 14, `${jobPolls} job polls for 2 jobs of up to ${longest} ms`);
    assert.equal(req.byPath["GET /ovirt-engine/api/jobs/{id}"] ?? 0, 0, "jobs are listed together, not read one by one");
    // noticed within a second of the end
    const lastEnd = Math.max(...jobs.map((j) => j.endMs));
    assert.ok(Math.max(...ends) - lastEnd < 1500, `lag ${Math.max(...ends) - lastEnd} ms`);
    assert.equal(jobWatcher(c.http).watching, 0);
  });

  it("a copy that speeds up when the copy sharing its storage domain ends is still noticed within 1.5 s of its end", async () => {
    // export1 gives 8 MiB/s in all: web-01 (32 MiB) and app-01 (16 MiB) get 4 each until app-01 ends (~4 s), then
    // web-01 alone gets 8: its average rate since the first sample predicts its end too late
    const shared = await startTestSimulator({ ...PROVIDER_SIM, bandwidthMiBps: 1000 });
    try {
      await shared.admin("PUT", "/bandwidth", { MiBps: 8, storageDomain: "export1" });
      const c = connect(shared.engine);
      const sd = await c.storageDomains.findByName("export1");
      const vm = await c.vms.findByName("web-01");
      const other = await c.vms.findByName("app-01");
      const started = Date.now();
      const correlationId = stableCorrelationId("watcher-speedup", vm!.id, String(started));
      await c.vms.export(other!.id, { exportDomainId: sd!.id, exclusive: true, discardSnapshots: false, correlationId: stableCorrelationId("watcher-speedup", other!.id, String(started)) });
      const res = await c.vms.export(vm!.id, { exportDomainId: sd!.id, exclusive: true, discardSnapshots: false, correlationId });
      await waitForJob({
        c, jobId: res.job?.id, correlationId, what: "export of web-01", deadline: Date.now() + 90_000, progress: quiet,
        entityDone: async () => (await c.vms.get(vm!.id))?.status === "down",
      });
      const seen = Date.now();
      const stats = await shared.admin("GET", "/stats");
      const jobs = (stats.jobs as Array<{ kind: string; startMs: number; endMs: number; bytes: number }>).filter((j) => j.kind === "export_vm" && j.startMs >= started);
      assert.equal(jobs.length, 2);
      const web = jobs.reduce((x, y) => (x.bytes > y.bytes ? x : y));
      const other2 = jobs.find((j) => j !== web)!;
      assert.ok(other2.endMs < web.endMs - 1000, "the small copy ended well before the large one (the large one then sped up)");
      assert.ok(seen - web.endMs < 1500, `noticed ${seen - web.endMs} ms after the end`);
    } finally {
      await closeAllEngines();
      await shared.close();
    }
  });

  it("an operation with no job and no trace in the engine fails as lost after the grace period, not at the deadline", async () => {
    const c = connect(sim.engine);
    let traces = 2; // a trace on the first two looks (the grace restarts), then none
    const t0 = Date.now();
    await assert.rejects(
      waitForJob({
        c,
        what: "import of VM ghost-01",
        deadline: Date.now() + 60_000,
        progress: quiet,
        entityDone: async () => false,
        entityFailed: lostWhen(async () => traces-- <= 0, "import of VM ghost-01", 600),
      }),
      (e: any) => e.name === "JobFailedError" && /import of VM ghost-01 failed in the engine: .*no job.*no trace.*run pulumi up again/.test(e.message),
    );
    const ms = Date.now() - t0;
    assert.ok(ms >= 600 && ms < 10_000, `failed after ${ms} ms`);
  });

  it("its job purged by the engine before the provider saw it end (job gone from /jobs): the export is judged by its entity, and sent once", async () => {
    // the engine's housekeeping 60000 times faster: a finished job is purged ~10 ms after its end, checked every 10 ms
    await sim.admin("PUT", "/time-scale", { scale: 60_000 });
    try {
      await sim.resetRequests();
      const t0 = Date.now();
      // app-01 (16 MiB, 4 s) again over the copy the first test made (exclusive)
      const r = await checkAndCreate("VmExport", { engine: sim.engine, exportDomain: "export1", name: "app-01", exclusive: true });
      assert.equal(r.outs.sourceId !== undefined, true);
      const stats = await sim.admin("GET", "/stats");
      const job = (stats.jobs as Array<{ kind: string; startMs: number; status: string; purgedMs?: number; description: string }>).find((j) => j.kind === "export_vm" && j.startMs >= t0);
      assert.ok(job, "the export job");
      assert.equal(job!.status, "finished");
      assert.ok(job!.purgedMs, "the engine purged the job");
      const req = await sim.admin("GET", "/requests");
      assert.equal(req.byPath["POST /ovirt-engine/api/vms/{id}/export"], 1, "exported once");
      const rep = await sim.admin("GET", "/disks");
      const copy = rep.exportDomains[0].vms.find((v: { name: string }) => v.name === "app-01");
      const src = rep.vms.find((v: { name: string }) => v.name === "app-01");
      assert.deepEqual(copy.disks.map((d: { sha256: string }) => d.sha256), src.disks.map((d: { sha256: string }) => d.sha256));
    } finally {
      await sim.admin("PUT", "/time-scale", { scale: 1 });
    }
  });

  describe("across engine restarts", () => {
    const dirs: string[] = [];
    const sims: TestSimulator[] = [];
    after(async () => {
      for (const s of sims) await s.close().catch(() => undefined);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it("a job the engine finalized as `unknown` at a restart (no VDSM task): the entity decides at once, never taken for running", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prov-unknown-"));
      dirs.push(dir);
      const s1 = await startTestSimulator({ ...PROVIDER_SIM, stateDir: dir });
      await s1.close();
      // the engine's database after it stopped during a command without VDSM tasks: the job started, no external_id
      const file = path.join(dir, "state.json");
      const st = JSON.parse(fs.readFileSync(file, "utf8"));
      const web = st.vms.find((v: { name: string }) => v.name === "web-01");
      const t0 = new Date(Date.now() - 3000).toISOString();
      const job = (id: string, cid: string) => ({
        id, kind: "other", description: `command ${cid}`, status: "started", startTime: t0, lastUpdated: t0, correlationId: cid, external: false,
        autoCleared: true, storageDomainIds: [], vmId: web.id, bytes: 0, startMs: Date.parse(t0),
        steps: [{ id: `${id.slice(0, 24)}00000000000a`, type: "executing", number: 0, status: "started", description: "Executing", startTime: t0 }],
      });
      st.jobs.push(job("7d0c9a52-0000-4000-8000-000000000001", "unknown-done"), job("7d0c9a52-0000-4000-8000-000000000002", "unknown-failed"));
      fs.writeFileSync(file, JSON.stringify(st));
      const s2 = await startTestSimulator({ ...PROVIDER_SIM, stateDir: dir });
      sims.push(s2);
      const c = connect(s2.engine);
      assert.equal((await c.jobs.byCorrelationId("unknown-done"))[0]?.status, "unknown");
      let t = Date.now();
      await waitForJob({
        c,
        jobId: "7d0c9a52-0000-4000-8000-000000000001",
        correlationId: "unknown-done",
        what: "command on VM web-01",
        deadline: Date.now() + 20_000,
        progress: quiet,
        entityDone: async () => (await c.vms.get(web.id))?.status === "down",
      });
      assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms: the unknown job was waited on`);
      t = Date.now();
      await assert.rejects(
        waitForJob({
          c,
          correlationId: "unknown-failed",
          what: "import of VM web-01",
          deadline: Date.now() + 20_000,
          progress: quiet,
          entityDone: async () => false,
          entityFailed: async () => "the imported VM was removed",
        }),
        (e: any) => e.name === "JobFailedError" && /import of VM web-01 failed in the engine: the imported VM was removed/.test(e.message),
      );
      assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms`);
    });

    it("the engine restarts mid-copy and stays away longer than the client's retries (503, connections dropped, token gone): the wait goes on, the copy completes, nothing is sent twice", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prov-restart-"));
      dirs.push(dir);
      const s = await startTestSimulator({ ...PROVIDER_SIM, stateDir: dir, bandwidthMiBps: 8 });
      sims.push(s);
      // one retry only: the outage outlasts the client's own retries, so the wait itself must ride it out. 8 s: longer
      // than the watcher's longest sleep (WATCH_MAX_MS, 5 s), so at least one look falls in it however the polls are
      // spaced (with 4 s a look could sleep across the whole outage on a loaded machine, and there was nothing to see)
      const c = connect({ ...s.engine, maxRetries: 1 });
      const vm = await c.vms.findByName("web-01"); // 32 MiB: 4 s at 8 MiB/s
      const sd = await c.storageDomains.findByName("export1");
      const correlationId = stableCorrelationId("restart-test", vm!.id);
      const res = await c.vms.export(vm!.id, { exportDomainId: sd!.id, exclusive: true, discardSnapshots: false, correlationId });
      const messages: string[] = [];
      let restarted: any;
      const restart = (async () => {
        await new Promise((r) => setTimeout(r, 1000));
        restarted = await s.admin("POST", "/restart", { downMs: 8000 });
      })();
      await waitForJob({
        c,
        jobId: res.job?.id,
        correlationId,
        what: "export of web-01",
        deadline: Date.now() + 60_000,
        progress: { update: (m: string) => messages.push(m), info() {}, warn() {} } as any,
        entityDone: async () => (await c.vms.get(vm!.id))?.status === "down",
      });
      await restart;
      assert.deepEqual(restarted, { ok: true, resumedJobs: 1, failedJobs: 0, unknownJobs: 0 });
      assert.ok(messages.some((m) => /the engine does not answer/.test(m)), "the outage was waited through");
      const stats = await s.admin("GET", "/stats");
      const jobs = (stats.jobs as Array<{ kind: string; status: string }>).filter((j) => j.kind === "export_vm");
      assert.deepEqual(jobs.map((j) => j.status), ["finished"]);
      const req = await s.admin("GET", "/requests");
      assert.equal(req.byPath["POST /ovirt-engine/api/vms/{id}/export"], 1, "exported once");
      assert.ok((await s.admin("GET", "/disks")).exportDomains[0].vms.some((v: { id: string }) => v.id === vm!.id));
    });
  });
});
