// Disk bandwidth shared per storage domain.
//
// A real storage domain has one throughput for everything that reads or writes it: one NFS export domain on 1 GbE
// gives about 110 MiB/s in total, so twenty concurrent exports to it get about 5.5 MiB/s each, not 110 each. Here
// every domain is a "lane" with a rate (its `bandwidthMiBps`, else the engine's default `bandwidthMiBps`); a copy
// that reads domain A and writes domain B draws every byte from both lanes, and optionally from a private lane of its
// own (the per-copy cap, `copyBandwidthMiBps`). Rates are read at every chunk, so `PUT /__admin/bandwidth` also
// changes the pace of copies already running.
//
// Scheduling: each lane keeps the time at which it is next free. A chunk of n bytes is booked on each of the copy's
// lanes after what is already booked there (n / rate of that lane) and the copy waits until its last booking ends.
// A copy books its next chunk only after the previous one ended, so concurrent copies on a lane alternate chunk by
// chunk (fair share), and lanes are pipelined: a fast lane is not held while a slow one finishes a chunk.
// A lane that fell idle does not bank its idle time; only SLACK_MS of it can be made up (timer and I/O jitter).
//
// Why per domain (ovirt-engine, read, not copied): export and import copies are SPM tasks (CopyImageGroupCommand ->
// MoveImageGroupVDS / CopyImageVDS, IrsCreateCommand), which VDSM runs as `qemu-img convert` from one domain's mount
// to the other's (hsm.moveImage / copyImage -> image.Image._interImagesCopy / copyCollapsed); so every copy of a pool
// goes through the same host and the same mounts, and concurrent copies split what the storage gives. A V2V
// conversion (ConvertVmVDS on the proxy host) writes its target domain.
import type { Engine } from "../engine";

const MiB = 1024 * 1024;
/** How far behind "now" a lane's clock may be when a chunk is booked: credit for timer jitter, not idle time. */
export const SLACK_MS = 100;
/** Longest single sleep of a waiting copy before it looks whether its job is being aborted. */
const ABORT_POLL_MS = 200;

/** The engine options that hold the bandwidth settings (EngineOptions.bandwidthMiBps and the optional per-copy cap). */
export interface BandwidthOptions {
  /** Default throughput of a storage domain (MiB/s), shared by the copies that read or write it. */
  bandwidthMiBps: number;
  /** Optional cap on each single copy (MiB/s), on top of the domains' shared throughput; absent = no cap. */
  copyBandwidthMiBps?: number;
}

/** The engine's bandwidth settings (the same options object survives an admin restart, like the default bandwidth). */
export function bandwidthOptions(engine: Engine): BandwidthOptions {
  return engine.opts;
}

/** Throughput of one storage domain in MiB/s: its own setting, else the engine default. */
export function domainMiBps(engine: Engine, sdId: string): number {
  return engine.sd(sdId)?.bandwidthMiBps ?? bandwidthOptions(engine).bandwidthMiBps;
}

class Lane {
  /** Time (ms since the epoch, fractional) at which the lane has delivered everything booked on it. */
  nextFree = 0;
  /** Books n bytes at `bytesPerSecond`; returns when they are through. */
  book(n: number, bytesPerSecond: number, now: number): number {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return now;
    const start = Math.max(this.nextFree, now - SLACK_MS);
    this.nextFree = start + (n / bytesPerSecond) * 1000;
    return this.nextFree;
  }
}

/** One copy's share: draws its bytes from every domain it reads or writes, and from its own cap. */
export class CopyFlow {
  private readonly own = new Lane();
  private totalBytes = 0;
  constructor(
    private readonly pool: DomainBandwidth,
    readonly domains: readonly string[],
    private readonly aborted: () => unknown = () => undefined,
  ) {}
  get bytes(): number {
    return this.totalBytes;
  }
  /**
   * Accounts n bytes just moved: waits until the domains (and the per-copy cap) have room for them. The wait is cut
   * short when the copy is aborted (a restart waits for its jobs; a busy domain can take seconds per chunk).
   */
  async account(n: number): Promise<void> {
    this.totalBytes += n;
    const due = this.pool.book(this, this.own, n);
    for (;;) {
      const wait = due - Date.now();
      if (wait <= 1 || this.aborted()) return;
      await new Promise((r) => setTimeout(r, Math.min(wait, ABORT_POLL_MS)));
    }
  }
}

/** The lanes of one engine's storage domains. */
export class DomainBandwidth {
  private readonly lanes = new Map<string, Lane>();
  constructor(private readonly engine: Engine) {}

  /**
   * A copy that reads and/or writes these domains (duplicates and unknown ids are ignored); `aborted` (truthy when
   * the copy's job is being aborted) ends its waits early.
   */
  open(domains: Iterable<string | undefined>, aborted?: () => unknown): CopyFlow {
    const ids = [...new Set([...domains].filter((d): d is string => !!d && !!this.engine.sd(d)))];
    return new CopyFlow(this, ids, aborted);
  }

  /** Books n bytes of `flow` on its domains' lanes and its own (per-copy cap) lane; returns when all are through. */
  book(flow: CopyFlow, own: Lane, n: number): number {
    const now = Date.now();
    let due = now;
    for (const id of flow.domains) {
      let lane = this.lanes.get(id);
      if (!lane) this.lanes.set(id, (lane = new Lane()));
      due = Math.max(due, lane.book(n, domainMiBps(this.engine, id) * MiB, now));
    }
    const cap = bandwidthOptions(this.engine).copyBandwidthMiBps;
    if (cap !== undefined && cap > 0) due = Math.max(due, own.book(n, cap * MiB, now));
    return due;
  }
}

const pools = new WeakMap<Engine, DomainBandwidth>();

/** The shared bandwidth of this engine's storage domains (a restarted engine starts with idle lanes). */
export function domainBandwidth(engine: Engine): DomainBandwidth {
  let p = pools.get(engine);
  if (!p) pools.set(engine, (p = new DomainBandwidth(engine)));
  return p;
}

/** What `GET|PUT /__admin/bandwidth` answers: the default, the per-copy cap and every domain's throughput (MiB/s). */
export function describeBandwidth(engine: Engine): {
  MiBps: number;
  perCopyMiBps: number | null;
  storageDomains: Array<{ id: string; name: string; type: string; MiBps: number; own: boolean }>;
} {
  const o = bandwidthOptions(engine);
  return {
    MiBps: o.bandwidthMiBps,
    perCopyMiBps: o.copyBandwidthMiBps && o.copyBandwidthMiBps > 0 ? o.copyBandwidthMiBps : null,
    storageDomains: engine.state.storageDomains.map((sd) => ({
      id: sd.id,
      name: sd.name,
      type: sd.type,
      MiBps: domainMiBps(engine, sd.id),
      own: sd.bandwidthMiBps !== undefined,
    })),
  };
}
