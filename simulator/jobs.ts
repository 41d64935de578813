// Asynchronous engine jobs: job + steps (validating, executing with per-disk "Copying Image" sub-steps with progress,
// finalizing), failure injection ("fail the next job of a kind"), and the engine's behaviour at restart: every job
// still `started` is marked `failed` (the engine's compensation after a restart), its entities unlocked and the
// failure events written.
import { Engine } from "./engine";
import { JobKind, JobRec, StepRec } from "./model/types";

export interface JobSpec {
  kind: JobKind;
  description: string;
  correlationId: string;
  storageDomainIds: string[];
  vmId?: string;
  templateId?: string;
}

export class JobFailure extends Error {}

export class Jobs {
  /** kind -> reasons for the next jobs of that kind to fail (admin fail-next-job). */
  private failNext = new Map<JobKind, string[]>();
  private aborts = new Map<string, string>();
  private running = new Map<string, Promise<void>>();
  /** Called whenever a job ends (finished or failed). */
  readonly onEnd: ((job: JobRec) => void)[] = [];
  /** Compensation per job kind, run when a job fails (also for jobs found running after a restart). */
  readonly compensators = new Map<JobKind, (job: JobRec, reason: string) => void>();

  constructor(private readonly engine: Engine) {}

  injectFailure(kind: JobKind, reason: string): void {
    const list = this.failNext.get(kind) ?? [];
    list.push(reason);
    this.failNext.set(kind, list);
  }

  takeInjectedFailure(kind: JobKind): string | undefined {
    const list = this.failNext.get(kind);
    return list?.shift();
  }

  create(spec: JobSpec): JobRec {
    const now = new Date().toISOString();
    const job: JobRec = {
      id: this.engine.uuid(),
      kind: spec.kind,
      description: spec.description,
      status: "started",
      startTime: now,
      lastUpdated: now,
      correlationId: spec.correlationId,
      external: false,
      autoCleared: true,
      steps: [],
      storageDomainIds: spec.storageDomainIds,
      vmId: spec.vmId,
      templateId: spec.templateId,
      bytes: 0,
      startMs: Date.now(),
    };
    const v = this.addStep(job, "validating", "Validating");
    this.endStep(job, v, "finished");
    this.engine.state.jobs.push(job);
    this.engine.markDirty();
    return job;
  }

  addStep(job: JobRec, type: StepRec["type"], description: string, parent?: StepRec): StepRec {
    const s: StepRec = {
      id: this.engine.uuid(),
      type,
      number: parent ? job.steps.filter((x) => x.parentStepId === parent.id).length : job.steps.filter((x) => !x.parentStepId).length,
      status: "started",
      description,
      startTime: new Date().toISOString(),
      parentStepId: parent?.id,
    };
    job.steps.push(s);
    job.lastUpdated = s.startTime;
    return s;
  }

  progress(job: JobRec, step: StepRec, pct: number): void {
    step.progress = Math.max(0, Math.min(100, Math.floor(pct)));
    job.lastUpdated = new Date().toISOString();
  }

  endStep(job: JobRec, step: StepRec, status: "finished" | "failed"): void {
    step.status = status;
    step.endTime = new Date().toISOString();
    if (status === "finished" && step.progress !== undefined) step.progress = 100;
    job.lastUpdated = step.endTime;
  }

  end(job: JobRec, status: "finished" | "failed", reason?: string): void {
    for (const s of job.steps) if (s.status === "started") this.endStep(job, s, status);
    job.status = status;
    job.endTime = new Date().toISOString();
    job.endMs = Date.now();
    job.lastUpdated = job.endTime;
    if (reason) job.failureReason = reason;
    if (status === "failed" && reason) {
      // like the engine's "VDSM command ... failed: <reason>" audit event of a failed async task: the reason of the
      // failure is visible over the API (events with the job's correlation id), not only in /__admin/stats
      this.engine.event({ code: 10802, severity: "error", description: `VDSM command failed: ${reason}`, correlationId: job.correlationId, jobId: job.id });
    }
    this.engine.markDirty();
    for (const l of this.onEnd) l(job);
  }

  /**
   * After a restart: the engine fails every job that was still running (its async tasks are gone), runs the
   * command's failure path (unlock, remove half-imported entities, failure events).
   */
  failInterrupted(reason = "Engine was restarted while the job was running"): number {
    const jobs = this.runningJobs();
    for (const job of jobs) {
      try {
        this.compensators.get(job.kind)?.(job, reason);
      } finally {
        this.end(job, "failed", reason);
      }
    }
    return jobs.length;
  }

  /** Abort reason for a running job's copy loops (set on restart/close). */
  abortReason(jobId: string): string | undefined {
    return this.aborts.get(jobId);
  }

  /** Runs the job body in the background; resolves the returned promise when it ends. */
  run(job: JobRec, body: () => Promise<void>): Promise<void> {
    const p = (async () => {
      try {
        await body();
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        if (job.status === "started") {
          try {
            this.compensators.get(job.kind)?.(job, reason);
          } finally {
            this.end(job, "failed", reason);
          }
        }
      } finally {
        this.running.delete(job.id);
        this.aborts.delete(job.id);
      }
    })();
    this.running.set(job.id, p);
    return p;
  }

  runningJobs(): JobRec[] {
    return this.engine.state.jobs.filter((j) => j.status === "started");
  }

  /** Aborts the running copies (restart/shutdown) and waits until their bodies returned. */
  async abortAll(reason: string): Promise<void> {
    for (const id of this.running.keys()) this.aborts.set(id, reason);
    await Promise.allSettled([...this.running.values()]);
  }
}
