// Asynchronous engine jobs: job + steps (validating, executing with per-disk "Copying Image" sub-steps with progress,
// finalizing), injected job failures (fault rules, faultInjection.ts), and the engine's start-up finalization of jobs
// found running (finalizeAtStart, below: task-carrying jobs go on, task-less ones become `unknown`). Ended jobs are
// purged like the engine's JobRepositoryCleanupManager does (below).
import { Engine } from "./engine";
import { JobKind, JobRec, JobStatRec, StepRec } from "./model/types";
import type { InjectedJobFailure } from "./faultInjection";

/**
 * The engine's job purge (bll/job/JobRepositoryCleanupManager + the stored procedure
 * DeleteCompletedJobsOlderThanDate in packaging/dbscripts/job_sp.sql), with the defaults of
 * packaging/dbscripts/upgrade/pre_upgrade/0000_config.sql: every JobCleanupRateInMinutes (10; first run 10 minutes
 * after start-up, scheduleWithFixedDelay) it deletes the auto-cleared jobs that ended FINISHED more than
 * SucceededJobCleanupTimeInMinutes (10) ago, and FAILED/ABORTED/UNKNOWN ones more than FailedJobCleanupTimeInMinutes
 * (60) ago. Running jobs are never deleted. Engine minutes pass `timeScale` times faster in the simulator.
 */
export const JOB_CLEANUP = { rateMinutes: 10, succeededMinutes: 10, failedMinutes: 60 };
const MINUTE_MS = 60_000;
/** How many purged jobs /__admin/stats remembers. */
const PURGED_KEEP = 10_000;

export interface JobSpec {
  kind: JobKind;
  description: string;
  correlationId: string;
  storageDomainIds: string[];
  vmId?: string;
  templateId?: string;
  vdsmCommand?: JobRec["vdsmCommand"];
  /** a job failure a fault rule injected at the operation's start (ctx.faults.atOperation) */
  injectedFailure?: InjectedJobFailure;
}

export class JobFailure extends Error {}

export class Jobs {
  /** job id -> the failure a fault rule injected into it (in memory: an engine restart forgets it; the rules stay). */
  private injected = new Map<string, InjectedJobFailure>();
  private aborts = new Map<string, string>();
  private running = new Map<string, Promise<void>>();
  /** Called whenever a job ends (finished or failed). */
  readonly onEnd: ((job: JobRec) => void)[] = [];
  /** Compensation per job kind, run when a job fails (also for jobs found running after a restart). */
  readonly compensators = new Map<JobKind, (job: JobRec, reason: string) => void>();
  /**
   * Per job kind: goes on with a job whose VDSM tasks outlived the engine (the copies of an export/import), from the
   * plan persisted with it (`job.resume`). Installed by index.ts (storage/transfer.ts resumeCopies).
   */
  readonly resumers = new Map<JobKind, (job: JobRec) => void>();
  /**
   * Per job kind: the reason its command fails with when the simulator finds it running at start-up and cannot go on
   * with its work (the work ran in the simulator's process and is gone with it). See finalizeAtStart.
   */
  readonly lostAtStart = new Map<JobKind, string>();

  /** Bumped to cancel the scheduled cleanup (time scale changed, engine disposed). */
  private cleanupGeneration = 0;

  constructor(private readonly engine: Engine) {}

  /** One engine minute in real milliseconds at the engine's current time scale. */
  private minuteMs(): number {
    const scale = this.engine.opts.timeScale ?? 1;
    return MINUTE_MS / (scale > 0 ? scale : 1);
  }

  /**
   * Starts (or restarts, after a time-scale change) the periodic purge: first run one period after now, then every
   * period after the previous run ended (JobRepositoryCleanupManager.initialize: scheduleWithFixedDelay).
   */
  startCleanup(): void {
    const gen = ++this.cleanupGeneration;
    const tick = () => {
      if (gen !== this.cleanupGeneration) return;
      this.purgeCompleted();
      this.engine.later(JOB_CLEANUP.rateMinutes * this.minuteMs(), tick);
    };
    this.engine.later(JOB_CLEANUP.rateMinutes * this.minuteMs(), tick);
  }

  /** JobRepositoryCleanupManager.cleanCompletedJob -> JobDao.deleteCompletedJobs. Returns how many were deleted. */
  purgeCompleted(now = Date.now()): number {
    const succeededBefore = now - JOB_CLEANUP.succeededMinutes * this.minuteMs();
    const failedBefore = now - JOB_CLEANUP.failedMinutes * this.minuteMs();
    const st = this.engine.state;
    const gone: JobRec[] = [];
    st.jobs = st.jobs.filter((j) => {
      if (!j.autoCleared) return true;
      const end = j.endMs ?? (j.endTime ? Date.parse(j.endTime) : NaN);
      if (!Number.isFinite(end)) return true;
      const purge =
        (j.status === "finished" && end < succeededBefore) ||
        ((j.status === "failed" || j.status === "aborted" || j.status === "unknown") && end < failedBefore);
      if (purge) gone.push(j);
      return !purge;
    });
    if (gone.length) {
      st.purgedJobs ??= [];
      for (const j of gone) {
        const rec: JobStatRec = {
          id: j.id, kind: j.kind, description: j.description, status: j.status, correlationId: j.correlationId,
          startMs: j.startMs, endMs: j.endMs ?? null, bytes: j.bytes, failureReason: j.failureReason ?? null, purgedMs: now,
        };
        st.purgedJobs.push(rec);
      }
      if (st.purgedJobs.length > PURGED_KEEP) st.purgedJobs.splice(0, st.purgedJobs.length - PURGED_KEEP);
      this.engine.markDirty();
    }
    return gone.length;
  }

  /** The injected failure of a job, once: its copy loop strikes with it (storage/transfer.ts, externalVmImports.ts). */
  takeInjectedFailure(job: JobRec): InjectedJobFailure | undefined {
    const f = this.injected.get(job.id);
    this.injected.delete(job.id);
    return f;
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
      vdsmCommand: spec.vdsmCommand,
      bytes: 0,
      startMs: Date.now(),
    };
    if (spec.injectedFailure) this.injected.set(job.id, spec.injectedFailure);
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

  /**
   * Ends a job. `vdsmFailure`: the failure came from the storage/host work (a copy or conversion that failed), so the
   * VDSM failure event is written, worded like the engine's broker commands: IRS_BROKER_COMMAND_FAILURE (10803)
   * "VDSM command ${CommandName} failed: ${message}" for SPM verbs (irsbroker/IrsBrokerCommand.logToAudit) and
   * VDS_BROKER_COMMAND_FAILURE (10802) "VDSM ${VdsName} command ${CommandName} failed: ${message}" for host verbs
   * (vdsbroker/VdsBrokerCommand.logToAudit), texts of AuditLogMessages.properties. Not for jobs ended by a restart.
   */
  end(job: JobRec, status: "finished" | "failed", reason?: string, vdsmFailure = false): void {
    for (const s of job.steps) if (s.status === "started") this.endStep(job, s, status);
    job.status = status;
    job.endTime = new Date().toISOString();
    job.endMs = Date.now();
    job.lastUpdated = job.endTime;
    if (reason) job.failureReason = reason;
    job.resume = undefined; // nothing left to go on with
    this.injected.delete(job.id);
    if (status === "failed" && reason && vdsmFailure) {
      const cmd = job.vdsmCommand ?? { name: "MoveImageGroupVDS" };
      this.engine.event(
        cmd.host
          ? { code: 10802, severity: "error", description: `VDSM ${cmd.host} command ${cmd.name} failed: ${reason}`, correlationId: job.correlationId, jobId: job.id }
          : { code: 10803, severity: "error", description: `VDSM command ${cmd.name} failed: ${reason}`, correlationId: job.correlationId, jobId: job.id },
      );
    }
    this.engine.markDirty();
    for (const l of this.onEnd) l(job);
  }

  /**
   * The engine's start-up handling of the jobs it finds `started` (Backend.initialize -> JobRepositoryImpl.finalizeJobs
   * -> job_sp.sql DeleteRunningJobsOfTasklessCommands + UpdateStartedExecutionEntitiesToUnknown):
   * - a job one of whose steps carries a VDSM task (`externalId`, the copy of a disk) is left `started`: the async
   *   task manager polls the tasks again and the command ends when they end (CommandAsyncTask / SPMAsyncTask
   *   .handleEndedTask -> endAction). Here the copies go on from the plan persisted with the job (`resumers`); with
   *   `failTasks` (admin switch) the tasks are reported failed instead, and the command's failure path runs
   *   (endWithFailure: unlock, remove the half-imported entity, events).
   * - a job none of whose steps carries a task becomes `unknown` with an end time, its started steps too; nothing else
   *   is done to its entities (a command whose execute phase had not committed is compensated at start-up by
   *   CommandCompensator from its business_entity_snapshot rows; a command waiting on a callback is resumed by it).
   * - kinds in `lostAtStart` (their work ran in the simulator's process): the command fails with that reason.
   * (RunVm/MigrateVm jobs, deleted by DeleteRunningJobsOfTasklessCommands, are not simulated.)
   */
  finalizeAtStart(opts: { failTasks?: string } = {}): { resumed: number; failed: number; unknown: number } {
    const out = { resumed: 0, failed: 0, unknown: 0 };
    const fail = (job: JobRec, reason: string, vdsmFailure: boolean) => {
      try {
        this.compensators.get(job.kind)?.(job, reason);
      } finally {
        this.end(job, "failed", reason, vdsmFailure);
      }
      out.failed++;
    };
    for (const job of this.runningJobs()) {
      const lost = this.lostAtStart.get(job.kind);
      if (lost) {
        fail(job, lost, false);
        continue;
      }
      if (!job.steps.some((s) => s.externalId)) {
        const now = new Date();
        job.status = "unknown";
        job.endTime = job.lastUpdated = now.toISOString();
        job.endMs = now.getTime();
        for (const s of job.steps) {
          if (s.status !== "started") continue;
          s.status = "unknown";
          s.endTime = job.endTime;
        }
        job.resume = undefined;
        out.unknown++;
        continue;
      }
      const resume = this.resumers.get(job.kind);
      if (opts.failTasks !== undefined) fail(job, opts.failTasks, true);
      else if (!resume || !job.resume) fail(job, "Engine was restarted while the job was running", false);
      else {
        resume(job);
        out.resumed++;
      }
    }
    if (out.resumed + out.failed + out.unknown > 0) this.engine.markDirty();
    return out;
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
        // an abort (restart, close, reseed) is the engine going away, not the work failing: the job stays `started`
        // in the persisted state, and the next start decides about it (finalizeAtStart)
        if (job.status === "started" && !this.aborts.has(job.id)) {
          try {
            this.compensators.get(job.kind)?.(job, reason);
          } finally {
            this.end(job, "failed", reason, true);
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
