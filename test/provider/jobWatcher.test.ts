import * as assert from "node:assert/strict";
import { Sim, startSim } from "./helpers";
import { connect, closeAllEngines, stableCorrelationId } from "../../provider/client";
import { jobWatcher, predictEnd, jobPercent } from "../../provider/client/jobWatcher";
import { lostWhen, waitForJob } from "../../provider/resources/jobs";

const quiet = { update() {}, info() {}, warn() {} } as any;

describe("shared job watcher", function () {
  this.timeout(120_000);
  let sim: Sim;
  before(async () => {
    // slow copies (4 MiB/s): web-01 (32 MiB), app-01 (16 MiB), db-01 export in parallel for several seconds
    sim = await startSim({ bandwidthMiBps: 4 });
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
});
