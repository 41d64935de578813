/**
 * Adaptive waiting: poll fast at first (100 ms), grow by x1.5 up to a cap (2 s by default), stop at a deadline.
 * Never a fixed 3 s sleep. Deadlines derive from the bytes to copy (overridable per resource).
 */
import { sleep } from "../../lib/sleep";

export type ProbeResult<T> = { done: true; value: T } | { done: false; progress?: string };

export interface WaitOptions {
  /** What we wait for, for the timeout message ("export of VM web-01"). */
  what: string;
  /** Absolute deadline (epoch ms). */
  deadline: number;
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  onProgress?: (message: string) => void;
  /** Hint appended to the timeout error (how to raise the limit). */
  timeoutHint?: string;
}

export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

export async function poll<T>(probe: () => Promise<ProbeResult<T>>, o: WaitOptions): Promise<T> {
  let interval = o.initialMs ?? 100;
  const factor = o.factor ?? 1.5;
  const cap = o.maxMs ?? 2000;
  const started = Date.now();
  let lastProgress = "";
  for (;;) {
    const r = await probe();
    if (r.done) return r.value;
    if (r.progress) {
      lastProgress = r.progress;
      o.onProgress?.(r.progress);
    }
    const now = Date.now();
    if (now >= o.deadline) {
      throw new WaitTimeoutError(
        `timed out after ${Math.round((now - started) / 1000)} s waiting for ${o.what}` +
          (lastProgress ? ` (last state: ${lastProgress})` : "") +
          (o.timeoutHint ? `; ${o.timeoutHint}` : ""),
      );
    }
    await sleep(Math.min(interval, Math.max(10, o.deadline - now)));
    interval = Math.min(cap, interval * factor);
  }
}

/**
 * Deadline for copying `bytes`: at an assumed worst-case 10 MiB/s, times 2, plus 5 minutes of engine overhead;
 * `overrideMinutes` wins when given.
 */
export function timeoutMsForBytes(bytes: number, overrideMinutes?: number): number {
  if (overrideMinutes !== undefined && overrideMinutes > 0) return overrideMinutes * 60_000;
  const copySeconds = bytes / (10 * 1024 * 1024);
  return Math.round((300 + 2 * copySeconds) * 1000);
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
