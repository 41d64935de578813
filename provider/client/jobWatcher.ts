/**
 * One shared job-polling loop per engine (all resources of a `pulumi up` run in one provider process).
 *
 * Resources register the job they wait for (`observe(jobId, correlationId)`); ONE loop lists every watched job in
 * one request per tick (`GET /jobs?search=correlation_id=a or correlation_id=b ...&follow=steps`: the engine's job
 * search knows only `correlation_id`, and the job XML carries no correlation id, so results are matched by job id)
 * and wakes every observer with a fresh snapshot of its job (or `gone` when the engine no longer lists it: purged).
 * Jobs without a correlation id are read one by one (`GET /jobs/{id}?follow=steps`). When nobody observes, the loop
 * stops.
 *
 * Tick timing: the progress (percent) of each job's top-level executing step, sampled at every tick, predicts when
 * the job ends; the loop sleeps until the earliest predicted end (bounded to 100 ms ... 5 s), so a long copy costs a
 * handful of polls and an ended job is noticed shortly after it ends (ends predicted within 150 ms of each other
 * share one tick). A new job is first looked at after 250 ms; without a prediction yet the loop backs off from
 * 250 ms (x1.5); past a predicted end (finalizing) it polls at 100 ms growing x1.5 to 2 s. Never a fixed sleep.
 */
import type { EngineHttp } from "./http";
import { Job } from "./types";
import { encodeId } from "./services/util";

export interface JobSnapshot {
  job?: Job;
  /** The engine did not list the job (purged, or never there). */
  gone: boolean;
  /** When the request that produced this snapshot was sent (epoch ms). */
  at: number;
}

interface Entry {
  jobId: string;
  correlationId?: string;
  waiters: Array<{ resolve: (s: JobSnapshot) => void; reject: (e: unknown) => void }>;
  /** first and latest (time, percent) samples of a running job */
  first?: { t: number; p: number };
  last?: { t: number; p: number };
  /** back-off state when no prediction is possible, or the prediction is overdue */
  idleMs: number;
  overdueMs: number;
  lastSeen: number;
}

export const WATCH_MIN_MS = 100;
export const WATCH_MAX_MS = 5000;
/** predicted ends this close to the earliest one share its tick */
const COALESCE_MS = 150;
/** first look at a job never seen yet */
const FIRST_LOOK_MS = 250;
/** correlation ids per search request (keeps the URL short) */
const CHUNK = 25;

/** Percent done of a job: its top-level executing step, else the most advanced started step. */
export function jobPercent(job: Job | undefined): number | undefined {
  const steps = job?.steps ?? [];
  const top = steps.find((s) => !s.parent_step && s.type === "executing" && s.progress !== undefined);
  if (top) return top.progress;
  const ps = steps.filter((s) => s.progress !== undefined).map((s) => s.progress!);
  return ps.length ? Math.max(...ps) : undefined;
}

/**
 * Predicted end (epoch ms) from two progress samples; undefined when the rate is unknown. The engine reports whole
 * percents rounded down, so the progress at a sample lies in [p, p + 1): the remaining part is taken from its middle
 * (p + 0.5), which halves the worst error (1% of a 16 s copy is 160 ms of late or early polling).
 */
export function predictEnd(first: { t: number; p: number } | undefined, last: { t: number; p: number } | undefined): number | undefined {
  if (!first || !last || last.t <= first.t || last.p <= first.p) return undefined;
  const rate = (last.p - first.p) / (last.t - first.t); // percent per ms
  return last.t + Math.max(0, 100 - last.p - 0.5) / rate;
}

export class JobWatcher {
  private entries = new Map<string, Entry>();
  private timer?: NodeJS.Timeout;
  private nextAt = 0;
  private running = false;
  /** requests sent by this watcher (tests) */
  requests = 0;
  ticks = 0;

  constructor(private readonly http: EngineHttp) {}

  /** A snapshot of the job taken by a request sent after this call (the next tick). */
  observe(jobId: string, correlationId?: string): Promise<JobSnapshot> {
    let e = this.entries.get(jobId);
    if (!e) {
      e = { jobId, correlationId, waiters: [], idleMs: 250, overdueMs: 100, lastSeen: Date.now() };
      this.entries.set(jobId, e);
    }
    if (correlationId && !e.correlationId) e.correlationId = correlationId;
    const entry = e;
    const p = new Promise<JobSnapshot>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    // a job never seen yet: look soon; else the planned tick stands
    this.schedule(entry.last ? this.delay() : FIRST_LOOK_MS);
    return p;
  }

  /** Active observers (tests). */
  get watching(): number {
    return [...this.entries.values()].filter((e) => e.waiters.length > 0).length;
  }

  private schedule(delayMs: number): void {
    if (this.running) return; // the running tick schedules the next one
    const at = Date.now() + delayMs;
    if (this.timer && this.nextAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = at;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
  }

  /** Time to the next tick: the earliest predicted end among observed jobs, bounded. */
  private delay(): number {
    const now = Date.now();
    let best = WATCH_MAX_MS;
    const ends: number[] = [];
    for (const e of this.entries.values()) {
      if (e.waiters.length === 0) continue;
      const end = predictEnd(e.first, e.last);
      if (end === undefined) best = Math.min(best, e.idleMs);
      else if (end > now) ends.push(end);
      else best = Math.min(best, e.overdueMs);
    }
    if (ends.length) {
      // jobs predicted to end close together (within COALESCE_MS of the first) are seen by one request
      ends.sort((x, y) => x - y);
      let target = ends[0];
      for (const t of ends) if (t <= ends[0] + COALESCE_MS) target = t;
      best = Math.min(best, target - now + 20);
    }
    return Math.max(WATCH_MIN_MS, Math.min(WATCH_MAX_MS, best));
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const active = [...this.entries.values()].filter((e) => e.waiters.length > 0);
    // forget jobs nobody has observed for a minute (their samples are no longer needed)
    for (const [id, e] of this.entries) if (e.waiters.length === 0 && Date.now() - e.lastSeen > 60_000) this.entries.delete(id);
    if (active.length === 0) return; // nobody waits: the loop stops
    this.running = true;
    this.ticks++;
    const at = Date.now();
    // the waiters of this tick; later observers wait for the next one
    const batch = active.map((e) => ({ e, waiters: e.waiters.splice(0) }));
    try {
      const found = new Map<string, Job>();
      const withCid = batch.filter((b) => b.e.correlationId);
      const withoutCid = batch.filter((b) => !b.e.correlationId);
      const reqs: Promise<void>[] = [];
      for (let i = 0; i < withCid.length; i += CHUNK) {
        const cids = [...new Set(withCid.slice(i, i + CHUNK).map((b) => b.e.correlationId!))];
        this.requests++;
        reqs.push(
          this.http
            .list("/jobs", "jobs", "job", Job, { search: cids.map((c) => `correlation_id=${c}`).join(" or "), follow: "steps" })
            .then((jobs) => {
              for (const j of jobs) found.set(j.id, j);
            }),
        );
      }
      for (const b of withoutCid) {
        this.requests++;
        reqs.push(
          this.http.getOptional(`/jobs/${encodeId(b.e.jobId)}`, "job", Job, { follow: "steps" }).then((j) => {
            if (j) found.set(j.id, j);
          }),
        );
      }
      await Promise.all(reqs);
      const now = Date.now();
      for (const { e, waiters } of batch) {
        const job = found.get(e.jobId);
        e.lastSeen = now;
        if (job && job.status === "started") {
          const p = jobPercent(job);
          if (p !== undefined) {
            const sample = { t: now, p };
            if (!e.first || p < e.first.p) e.first = sample;
            e.last = sample;
          }
          const end = predictEnd(e.first, e.last);
          if (end === undefined) e.idleMs = Math.min(WATCH_MAX_MS, e.idleMs * 1.5);
          else if (end <= now) e.overdueMs = Math.min(2000, e.overdueMs * 1.5);
        } else {
          e.overdueMs = Math.min(2000, e.overdueMs * 1.5);
        }
        const snap: JobSnapshot = { job, gone: !job, at };
        for (const w of waiters) w.resolve(snap);
      }
    } catch (err) {
      for (const { waiters } of batch) for (const w of waiters) w.reject(err);
    } finally {
      this.running = false;
    }
    // observers woken by this tick register again within microtasks; give them a moment, then plan the next tick
    setImmediate(() => {
      if ([...this.entries.values()].some((e) => e.waiters.length > 0)) this.schedule(this.delay());
    });
  }
}

const watchers = new WeakMap<EngineHttp, JobWatcher>();

/** The engine's shared job watcher. */
export function jobWatcher(http: EngineHttp): JobWatcher {
  let w = watchers.get(http);
  if (!w) {
    w = new JobWatcher(http);
    watchers.set(http, w);
  }
  return w;
}
