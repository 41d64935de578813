/**
 * The one wait of the provider: an engine job (export, import, V2V conversion) followed to its end, with the entity
 * state deciding when the job is gone or `unknown`, and failures turned into clear errors (`failureReason`,
 * `lostWhen`). Storage-domain commands (attach/activate/deactivate/detach) judge their domain's status instead
 * (resources/exportDomainAttachment), but name a failure with `failureReason` too.
 */
import type { OvirtClient, Job } from "../client";
import { EngineUnavailableError } from "../client/errors";
import { poll, formatBytes, WaitTimeoutError } from "../client/wait";
import { jobWatcher, jobPercent } from "../client/jobWatcher";
import type { Progress } from "../progress";
import { sleep } from "../../lib/sleep";

export class JobFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JobFailedError";
  }
}

export interface JobWait {
  c: OvirtClient;
  jobId?: string;
  correlationId?: string;
  /** "export of VM web-01" */
  what: string;
  deadline: number;
  progress: Progress;
  totalBytes?: number;
  /** Entity-side completion check (used when the job is gone, and to confirm a finished job). */
  entityDone: () => Promise<boolean>;
  /** Entity-side failure hint when the job is gone (e.g. the imported VM vanished); called right after entityDone
   * answered false, so it may judge from the read entityDone just made. */
  entityFailed?: () => Promise<string | undefined>;
  timeoutHint?: string;
}

/** The engine's reason for a failed job: the newest error event with our correlation id, or the job text. */
export async function failureReason(c: OvirtClient, correlationId: string | undefined, job?: Job): Promise<string> {
  if (correlationId) {
    try {
      const events = await c.events.byCorrelationId(correlationId);
      // every distinct error event of our correlation id, oldest first: the engine's summary ("Failed to export Vm
      // web-01 to export1") and its cause ("VDSM command failed: <reason>"); the summary alone hid the reason
      const errs = events.filter((e) => e.severity === "error" || e.severity === "alert").sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      const texts = [...new Set(errs.map((e) => e.description).filter((d): d is string => !!d))];
      if (texts.length) return texts.join("; ");
      const pick = [...events].sort((a, b) => (b.index ?? 0) - (a.index ?? 0))[0];
      if (pick?.description) return pick.description;
    } catch {
      // fall through
    }
  }
  return job?.description ? `job "${job.description}" ${job.status}` : "the engine job failed";
}

/** How long "no job and no trace of the operation" must last before the operation counts as lost. */
export const LOST_AFTER_MS = 10_000;

/**
 * An `entityFailed` check for operations the engine records before it answers (an import adds the VM, an export
 * locks the source, both before the 202): once the job is gone (or was never found) and `noTrace()` stays true for
 * `afterMs`, the engine has lost the operation (it restarted before committing it, or the request never reached
 * it). Waiting for the deadline would only hide that for minutes; failing lets the next `pulumi up` start it anew.
 */
export function lostWhen(noTrace: () => Promise<boolean>, what: string, afterMs = LOST_AFTER_MS): () => Promise<string | undefined> {
  let since: number | undefined;
  return async () => {
    if (!(await noTrace())) {
      since = undefined;
      return undefined;
    }
    since ??= Date.now();
    if (Date.now() - since < afterMs) return undefined;
    return (
      `the engine lists no job for the ${what} and has shown no trace of it for ${Math.round(afterMs / 1000)} s ` +
      `(it may have restarted before recording it); run pulumi up again to start it anew`
    );
  };
}

/**
 * The engine is away for now (restarting: connections dropped, 503 while it starts, its SSO answering 503), after the
 * client's own retries: the work it runs goes on meanwhile (the copies are VDSM tasks), so a wait keeps waiting.
 */
function engineAway(e: unknown): e is EngineUnavailableError {
  return e instanceof EngineUnavailableError;
}

/** Pause between looks while the engine is away: 500 ms growing x1.5 to 5 s. */
const AWAY_MIN_MS = 500;
const AWAY_MAX_MS = 5000;

/**
 * Waits for an engine job. With a job id (from the action answer, or found once by correlation id) the job is
 * followed by the engine's shared job watcher (`client/jobWatcher.ts`: one polling loop per engine for every
 * resource, ticks timed by the jobs' predicted ends). The entity state decides (adaptive polling of
 * `entityDone`/`entityFailed`) when:
 * - the job is gone: purged by the engine (JobRepositoryCleanupManager), or never found;
 * - the job is `unknown`: the engine restarted while it ran and its command had no VDSM task
 *   (JobRepositoryImpl.finalizeJobs); the status says nothing about the outcome, the entity does.
 * A job still `started` after a restart (its copies are VDSM tasks that went on) is simply followed further. While the
 * engine does not answer (restarting), the wait goes on until the deadline; nothing is submitted again.
 */
export async function waitForJob(w: JobWait): Promise<void> {
  const started = Date.now();
  let jobId = w.jobId;
  if (!jobId && w.correlationId) {
    // an engine that does not answer now (restarting) leaves the entity to decide, which tolerates that
    const jobs = await w.c.jobs.byCorrelationId(w.correlationId).catch((e: unknown) => {
      if (engineAway(e)) return [] as Job[];
      throw e;
    });
    const j = jobs.sort((a, b) => String(b.start_time ?? "").localeCompare(String(a.start_time ?? "")))[0];
    if (j) jobId = j.id;
  }
  const size = w.totalBytes ? ` of ${formatBytes(w.totalBytes)}` : "";
  const line = (job?: Job) => {
    const secs = Math.round((Date.now() - started) / 1000);
    const pct = jobPercent(job);
    return `${w.what}: ${pct !== undefined ? `${pct}%${size}` : `running${size}`}, ${secs} s`;
  };
  // the status line starts at once (the first look at the job comes with the watcher's next tick)
  w.progress.update(line());
  let awayMs = AWAY_MIN_MS;
  /** The engine is away: say so, wait a little longer each time (never past the deadline). */
  const away = async (e: EngineUnavailableError): Promise<string> => {
    const msg = `${w.what}: the engine does not answer (${e.message}); still waiting, ${Math.round((Date.now() - started) / 1000)} s`;
    w.progress.update(msg);
    await sleep(Math.max(0, Math.min(awayMs, w.deadline - Date.now())));
    awayMs = Math.min(AWAY_MAX_MS, awayMs * 1.5);
    return msg;
  };
  if (jobId) {
    const watcher = jobWatcher(w.c.http);
    let lastProgress = "";
    for (;;) {
      const remaining = w.deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      let snap: Awaited<ReturnType<typeof watcher.observe>> | undefined;
      try {
        snap = await Promise.race([
          watcher.observe(jobId, w.correlationId),
          new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), Math.max(0, remaining)))),
        ]).finally(() => clearTimeout(timer));
      } catch (e) {
        if (!engineAway(e) || Date.now() >= w.deadline) throw e;
        lastProgress = await away(e);
        continue;
      }
      awayMs = AWAY_MIN_MS;
      if (!snap) {
        throw new WaitTimeoutError(
          `timed out after ${Math.round((Date.now() - started) / 1000)} s waiting for ${w.what}` +
            (lastProgress ? ` (last state: ${lastProgress})` : "") +
            `; ${w.timeoutHint ?? "raise timeoutMinutes"}`,
        );
      }
      const job = snap.job;
      if (!job) break; // purged: the entity state decides below
      if (job.status === "unknown") break; // finalized by an engine restart: the entity state decides below
      if (job.status === "failed" || job.status === "aborted") {
        const reason = await failureReason(w.c, w.correlationId, job);
        throw new JobFailedError(`${w.what} failed in the engine: ${reason}`);
      }
      if (job.status === "finished") {
        if (await w.entityDone()) return;
        lastProgress = "finishing";
      } else {
        lastProgress = line(job);
      }
      w.progress.update(lastProgress);
    }
  }
  // no job (never found, purged, or `unknown` after an engine restart): entity state
  await poll<true>(
    async () => {
      try {
        if (await w.entityDone()) return { done: true, value: true };
        // right after entityDone, so it can judge from the same read
        if (w.entityFailed) {
          const f = await w.entityFailed();
          if (f) throw new JobFailedError(`${w.what} failed in the engine: ${f}`);
        }
      } catch (e) {
        if (!engineAway(e)) throw e;
        return { done: false, progress: `${w.what}: the engine does not answer (${e.message}); still waiting` };
      }
      return { done: false, progress: line() };
    },
    {
      what: w.what,
      deadline: w.deadline,
      onProgress: (m) => w.progress.update(m),
      timeoutHint: w.timeoutHint ?? "raise timeoutMinutes",
    },
  );
}
