// The simulated engine: state, lookups, events, persistence. Services and jobs operate on it.
import * as crypto from "node:crypto";
import * as path from "node:path";
import {
  ClusterRec, CpuProfileRec, DataCenterRec, DiskRec, EngineState, EventRec, HostRec, StorageDomainRec, TemplateRec, VmRec,
} from "./model/types";
import { saveState } from "./model/store";
import { ChainLink } from "./storage/volumes";
import { volumePath, writeDomainMetadata } from "./storage/exportDomain";

export interface EngineOptions {
  stateDir: string;
  password: string;
  tokenLifetimeSeconds: number;
  bandwidthMiBps: number;
  engineName: string;
  /** Duration of each transitional storage-domain status (ms); 0 = transitions are instantaneous. */
  storageTransitionMs?: number;
  /**
   * How many times faster than real time the engine's own clock-driven housekeeping runs (default 1): today the job
   * purge of JobRepositoryCleanupManager (10 engine minutes = 10 min / timeScale).
   */
  timeScale?: number;
}

export interface EventInput {
  code: number;
  severity?: EventRec["severity"];
  description: string;
  correlationId?: string;
  vmId?: string;
  templateId?: string;
  storageDomainId?: string;
  dataCenterId?: string;
  clusterId?: string;
  hostId?: string;
  jobId?: string;
}

const MAX_EVENTS = 20000;

/** Every cluster has a default CPU profile named like the cluster (engine: created with the cluster). */
export function ensureCpuProfiles(state: EngineState): boolean {
  state.cpuProfiles ??= [];
  let changed = false;
  for (const c of state.clusters) {
    if (!state.cpuProfiles.some((p) => p.clusterId === c.id && p.name === c.name)) {
      state.cpuProfiles.unshift({ id: crypto.randomUUID(), name: c.name, description: `Default CPU profile of cluster ${c.name}`, clusterId: c.id });
      changed = true;
    }
  }
  return changed;
}

export class Engine {
  state: EngineState;
  private dirty = false;
  private saveTimer: NodeJS.Immediate | undefined;
  /** Busy intervals of disk copies (for /__admin/stats). */
  busy = { activeCopies: 0, since: 0, totalMs: 0 };
  /** Bytes under each export domain's images/ (refreshed when its contents change or are listed). */
  exportUsedCache = new Map<string, number>();

  /** Timers of in-flight simulated work (storage transitions, guest shutdowns): cancelled by dispose(). */
  private timers = new Set<NodeJS.Timeout>();
  private disposed = false;

  constructor(public readonly opts: EngineOptions, state: EngineState) {
    this.state = state;
    let changed = ensureCpuProfiles(state);
    // storage operations in flight when the engine stopped: the engine finishes (or forgets) them at start-up
    for (const sd of state.storageDomains) {
      if (!sd.pending) continue;
      if (sd.pending.final === "detached") {
        sd.dataCenterId = undefined;
        sd.status = undefined;
      } else sd.status = sd.pending.final;
      sd.pending = undefined;
      changed = true;
    }
    if (changed) this.markDirty();
  }

  /** Runs `fn` after `ms` unless the engine was disposed (restart, reseed, close) meanwhile. */
  later(ms: number, fn: () => void): void {
    if (this.disposed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.disposed) fn();
    }, ms);
    this.timers.add(t);
  }

  /** Cancels the simulated work in flight; the state on disk keeps `pending` markers, settled at the next load. */
  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * Walks a storage domain through transitional statuses, `stepMs` apart, then to its final state
   * (`detached` = no longer attached). Instantaneous when stepMs is 0. `onDone` runs when the final state is reached.
   */
  storageTransition(
    sd: StorageDomainRec,
    op: NonNullable<StorageDomainRec["pending"]>["op"],
    steps: StorageDomainRec["status"][],
    final: NonNullable<StorageDomainRec["status"]> | "detached",
    onDone?: () => void,
  ): void {
    const stepMs = this.opts.storageTransitionMs ?? 0;
    const finish = () => {
      sd.pending = undefined;
      if (final === "detached") {
        sd.dataCenterId = undefined;
        sd.status = undefined;
      } else sd.status = final;
      this.syncDomainMetadata(sd);
      this.markDirty();
      onDone?.();
    };
    if (stepMs <= 0) return finish();
    sd.pending = { op, final };
    const walk = (i: number) => {
      if (i >= steps.length) return finish();
      sd.status = steps[i];
      this.markDirty();
      this.later(stepMs, () => walk(i + 1));
    };
    walk(0);
  }

  // ---------- CPU profiles
  cpuProfilesOf(clusterId: string): CpuProfileRec[] {
    return (this.state.cpuProfiles ?? []).filter((p) => p.clusterId === clusterId);
  }
  cpuProfile(id: string | undefined): CpuProfileRec | undefined {
    return id ? (this.state.cpuProfiles ?? []).find((p) => p.id === id) : undefined;
  }
  /** The cluster's default profile: the one named like the cluster (else its first). */
  defaultCpuProfile(clusterId: string): CpuProfileRec | undefined {
    const ps = this.cpuProfilesOf(clusterId);
    const cl = this.cluster(clusterId);
    return ps.find((p) => p.name === cl?.name) ?? ps[0];
  }
  /** The profile a VM/template runs with: its own if it still belongs to its cluster, else the cluster default. */
  effectiveCpuProfile(e: { clusterId: string; cpuProfileId?: string }): CpuProfileRec | undefined {
    const p = this.cpuProfile(e.cpuProfileId);
    return p && p.clusterId === e.clusterId ? p : this.defaultCpuProfile(e.clusterId);
  }

  // ---------- persistence
  markDirty(): void {
    this.dirty = true;
    if (!this.saveTimer) {
      this.saveTimer = setImmediate(() => {
        this.saveTimer = undefined;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.saveTimer) {
      clearImmediate(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (!this.dirty) return;
    this.dirty = false;
    saveState(this.opts.stateDir, this.state);
  }

  // ---------- ids and time
  uuid(): string {
    return crypto.randomUUID();
  }

  // ---------- lookups
  dc(id: string | undefined): DataCenterRec | undefined {
    return id ? this.state.dataCenters.find((d) => d.id === id) : undefined;
  }
  cluster(id: string | undefined): ClusterRec | undefined {
    return id ? this.state.clusters.find((c) => c.id === id) : undefined;
  }
  host(id: string | undefined): HostRec | undefined {
    return id ? this.state.hosts.find((h) => h.id === id) : undefined;
  }
  sd(id: string | undefined): StorageDomainRec | undefined {
    return id ? this.state.storageDomains.find((s) => s.id === id) : undefined;
  }
  vm(id: string | undefined): VmRec | undefined {
    return id ? this.state.vms.find((v) => v.id === id) : undefined;
  }
  template(id: string | undefined): TemplateRec | undefined {
    return id ? this.state.templates.find((t) => t.id === id) : undefined;
  }
  dcOfCluster(clusterId: string): DataCenterRec | undefined {
    return this.dc(this.cluster(clusterId)?.dataCenterId);
  }
  exportDomainOf(dcId: string): StorageDomainRec | undefined {
    return this.state.storageDomains.find((s) => s.type === "export" && s.dataCenterId === dcId);
  }
  findDisk(diskId: string): { disk: DiskRec; vm?: VmRec; template?: TemplateRec } | undefined {
    for (const vm of this.state.vms) {
      const disk = vm.disks.find((d) => d.id === diskId);
      if (disk) return { disk, vm };
    }
    for (const t of this.state.templates) {
      const disk = t.disks.find((d) => d.id === diskId);
      if (disk) return { disk, template: t };
    }
    return undefined;
  }

  /** Volume chain of a disk on a data domain, base first (thin disks start on the template disk's volume). */
  chainOf(disk: DiskRec): ChainLink[] {
    const sd = this.sd(disk.storageDomainId);
    if (!sd) throw new Error(`disk ${disk.id}: storage domain ${disk.storageDomainId} is gone`);
    const links: ChainLink[] = [];
    if (disk.templateDisk) {
      const t = this.template(disk.templateDisk.templateId);
      const td = t?.disks.find((d) => d.id === disk.templateDisk!.diskId);
      const tsd = this.sd(td?.storageDomainId ?? disk.templateDisk.storageDomainId);
      if (!td || !tsd) throw new Error(`disk ${disk.id}: template disk ${disk.templateDisk.diskId} is gone`);
      links.push(...this.chainOf(td));
    }
    for (const v of disk.volumes) {
      links.push({ path: volumePath(sd.root, disk.id, v.id), kind: v.kind, seed: v.seed, size: disk.provisionedSize });
    }
    return links;
  }

  /** Bytes used on a data domain (provisioned size of preallocated disks, volume sizes of sparse ones). */
  usedBytes(sdId: string): number {
    let used = 0;
    const add = (d: DiskRec) => {
      if (d.storageDomainId === sdId) used += d.provisionedSize;
    };
    for (const vm of this.state.vms) vm.disks.forEach(add);
    for (const t of this.state.templates) t.disks.forEach(add);
    return used;
  }

  syncDomainMetadata(sd: StorageDomainRec): void {
    writeDomainMetadata(sd.root, {
      sdUUID: sd.id,
      description: sd.name,
      poolUUID: sd.dataCenterId ?? "",
      class: sd.type === "export" ? "Backup" : "Data",
      remotePath: `${sd.address || "127.0.0.1"}:${sd.exportPath}`,
      type: sd.storageType === "nfs" ? "NFS" : "ISCSI",
      engineId: sd.dataCenterId ? this.state.engineId : undefined,
      role: sd.master ? "Master" : "Regular",
    });
  }

  // ---------- events
  event(e: EventInput): EventRec {
    const rec: EventRec = {
      index: this.state.nextEventIndex++,
      id: "",
      code: e.code,
      severity: e.severity ?? "normal",
      time: new Date().toISOString(),
      description: e.description,
      correlationId: e.correlationId,
      origin: "oVirt",
      customId: -1,
      vmId: e.vmId,
      templateId: e.templateId,
      storageDomainId: e.storageDomainId,
      dataCenterId: e.dataCenterId,
      clusterId: e.clusterId,
      hostId: e.hostId,
      jobId: e.jobId,
    };
    rec.id = String(rec.index);
    this.state.events.push(rec);
    if (this.state.events.length > MAX_EVENTS) this.state.events.splice(0, this.state.events.length - MAX_EVENTS);
    this.markDirty();
    return rec;
  }

  // ---------- busy accounting of disk copies
  copyStarted(): void {
    if (this.busy.activeCopies++ === 0) this.busy.since = Date.now();
  }
  copyEnded(): void {
    if (--this.busy.activeCopies === 0) this.busy.totalMs += Date.now() - this.busy.since;
  }
  busyMs(): number {
    return this.busy.totalMs + (this.busy.activeCopies > 0 ? Date.now() - this.busy.since : 0);
  }

  relPath(p: string): string {
    return path.relative(this.opts.stateDir, p);
  }
}
