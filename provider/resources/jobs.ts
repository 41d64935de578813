/** Waiting on an engine job (export/import) with entity-state fallback, and turning failures into clear errors. */
import type { OvirtClient, Job } from "../client";
import { poll, formatBytes } from "../client/wait";
import type { Progress } from "../progress";

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
  /** Entity-side failure hint when the job is gone (e.g. the imported VM vanished). */
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

export async function waitForJob(w: JobWait): Promise<void> {
  const started = Date.now();
  let jobId = w.jobId;
  let jobGone = false;
  await poll<true>(
    async () => {
      if (!jobId && w.correlationId && !jobGone) {
        const jobs = await w.c.jobs.byCorrelationId(w.correlationId);
        const j = jobs.sort((a, b) => String(b.start_time ?? "").localeCompare(String(a.start_time ?? "")))[0];
        if (j) jobId = j.id;
      }
      let job: Job | undefined;
      if (jobId && !jobGone) {
        job = await w.c.jobs.get(jobId);
        if (!job) jobGone = true;
      }
      if (job) {
        if (job.status === "failed" || job.status === "aborted") {
          const reason = await failureReason(w.c, w.correlationId, job);
          throw new JobFailedError(`${w.what} failed in the engine: ${reason}`);
        }
        if (job.status === "finished") {
          if (await w.entityDone()) return { done: true, value: true };
          return { done: false, progress: "finishing" };
        }
      } else {
        if (w.entityFailed) {
          const f = await w.entityFailed();
          if (f) throw new JobFailedError(`${w.what} failed in the engine: ${f}`);
        }
        if (await w.entityDone()) return { done: true, value: true };
      }
      const secs = Math.round((Date.now() - started) / 1000);
      const step = job?.steps?.find((s) => s.status === "started" && s.progress !== undefined);
      const pct = step?.progress !== undefined ? `${step.progress}%` : undefined;
      const size = w.totalBytes ? ` of ${formatBytes(w.totalBytes)}` : "";
      return { done: false, progress: `${w.what}: ${pct ? pct + size : `running${size}`}, ${secs} s` };
    },
    {
      what: w.what,
      deadline: w.deadline,
      onProgress: (m) => w.progress.update(m),
      timeoutHint: w.timeoutHint ?? "raise timeoutMinutes",
    },
  );
}
