/**
 * The one submit of the provider: a POST that starts an engine operation (export, import, V2V conversion), sent so
 * that an answer lost on the way never starts the operation twice and never gives up on one that started.
 *
 * The client retries only what is safe to retry; a non-idempotent POST whose answer is lost (connection reset,
 * 502/503/504) comes back as `EngineUnavailableError` with `ambiguous: true`: it may or may not have reached the
 * engine. Then, after a pause, the engine is asked for the operation's trace, in this order:
 *  1. a job carrying the operation's correlation id (the engine records it before it answers): it started;
 *  2. the caller's own trace (`trace`: e.g. the export's source locked, the imported entity present, the V2V VM
 *     proven ours by the audit log): it started, and `traced` carries what the trace found;
 *  3. neither: it never reached the engine, so the same POST is sent again (with the same correlation id), until
 *     `deadline`; then the ambiguous error is thrown.
 * Any other error is thrown as it is: the caller turns the engine's refusals into argument errors.
 */
import type { OvirtClient } from "../client";
import { EngineUnavailableError } from "../client/errors";
import { sleep } from "../../lib/sleep";

export interface Submission<A, T> {
  c: OvirtClient;
  /** The operation's correlation id (sent with the POST; its job and events carry it). */
  correlationId: string;
  /** Until when a POST whose answer was lost is sent again. */
  deadline: number;
  /** Sends the POST (the same request each time). */
  post: () => Promise<A>;
  /** The operation's trace in the engine when no job of its correlation id is listed; undefined: no trace. */
  trace: () => Promise<T | undefined>;
  /** Pause before looking for the trace (the engine records the job and the entity before it answers). */
  pauseMs?: number;
}

export interface Submitted<A, T> {
  /** The engine's answer, when it arrived. */
  answer?: A;
  /** The job of the operation: from the answer, or found by correlation id after a lost answer. */
  jobId?: string;
  /** What `trace` found after a lost answer with no job listed. */
  traced?: T;
}

/** A POST whose answer was lost: it may have reached the engine. */
export function ambiguous(e: unknown): e is EngineUnavailableError {
  return e instanceof EngineUnavailableError && e.ambiguous;
}

export async function submitWithRecovery<A, T>(s: Submission<A, T>): Promise<Submitted<A, T>> {
  for (;;) {
    try {
      const answer = await s.post();
      return { answer, jobId: (answer as { job?: { id?: string } } | undefined)?.job?.id };
    } catch (e) {
      if (!ambiguous(e)) throw e;
      await sleep(s.pauseMs ?? 500);
      const jobs = await s.c.jobs.byCorrelationId(s.correlationId).catch(() => []);
      if (jobs.length > 0) return { jobId: jobs[0].id };
      const traced = await s.trace();
      if (traced !== undefined) return { traced };
      if (Date.now() > s.deadline) throw e;
    }
  }
}
