// Disk copies of export and import jobs: real file copies at the storage domains' bandwidth, job steps with
// progress, the OVF written when the copy ends (ExportVmCommand.endSuccessfully), VM/template locks and events.
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Engine } from "../engine";
import { Jobs } from "../jobs";
import {
  BLANK_TEMPLATE_ID, DiskRec, JobRec, JobResumePlan, NicRec, SnapshotRec, StepRec, StorageDomainRec, TemplateRec, VmRec, VolumeRec,
} from "../model/types";
import { OvfDisk, OvfEntity, OvfVolume, writeOvf as renderOvf } from "../xml/ovf";
import { volumePath, writeOvf, writeVolumeMeta } from "./exportDomain";
import { ChainLink, copyFlattened, copyVolume, fileSize, forgetChecksums, Throttle } from "./volumes";
import { domainBandwidth } from "./bandwidth";
import { exportedChain, readEntity } from "./contents";
import { newMac } from "../model/inventory";
import { newMacsFor } from "../services/macPools";

const ZERO = BLANK_TEMPLATE_ID;

interface CopyItem {
  label: string;
  bytes: number;
  run: (hooks: { throttle: Throttle; onBytes: (n: number) => void; aborted: () => string | undefined }) => Promise<number>;
}

/**
 * Runs copy items one after another with a "Copying Image" sub-step each; updates progress and job bytes. Each copy
 * draws its bytes from the throughput of `domains` (the job's source and destination domains, storage/bandwidth.ts),
 * shared with every other copy reading or writing them, and from the optional per-copy cap.
 */
async function runCopies(engine: Engine, jobs: Jobs, job: JobRec, exec: StepRec, items: CopyItem[], domains: (string | undefined)[]): Promise<void> {
  const total = items.reduce((a, i) => a + i.bytes, 0) || 1;
  // a job resumed after a restart skips the copies that had ended; the one interrupted starts over
  const skip = Math.min(job.resume?.done ?? 0, items.length);
  let done = items.slice(0, skip).reduce((a, i) => a + i.bytes, 0);
  job.bytes = done;
  // a job failure injected by a fault rule (faultInjection.ts): at the start, before any byte is copied, or halfway
  // through the last copy
  const fault = jobs.takeInjectedFailure(job);
  if (fault?.at === "start") throw new Error(fault.reason);
  const injected = fault?.reason;
  for (const [i, item] of items.entries()) {
    if (i < skip) continue;
    const step = copyStep(engine, jobs, job, exec, i);
    jobs.progress(job, step, 0);
    let mine = 0;
    const throttle = domainBandwidth(engine).open(domains, () => jobs.abortReason(job.id));
    engine.copyStarted();
    try {
      await item.run({
        throttle,
        onBytes: (n) => {
          mine += n;
          job.bytes += n;
          jobs.progress(job, step, item.bytes ? (mine / item.bytes) * 100 : 100);
          jobs.progress(job, exec, ((done + mine) / total) * 100);
          if (injected && i === items.length - 1 && mine >= item.bytes / 2) throw new Error(injected);
        },
        aborted: () => jobs.abortReason(job.id),
      });
    } finally {
      engine.copyEnded();
    }
    if (injected && i === items.length - 1 && item.bytes === 0) throw new Error(injected);
    done += item.bytes;
    jobs.endStep(job, step, "finished");
    if (job.resume) job.resume.done = i + 1;
    engine.markDirty();
  }
  if (injected && items.length === 0) throw new Error(injected);
}

/**
 * The "Copying Image" sub-step of copy `i`: the step of an SPM task (CopyImageGroupCommand -> MoveImageGroup /
 * CopyImage), so it carries the task's id (CoCoAsyncTaskHelper.createTask -> ExecutionHandler.updateStepExternalId),
 * which keeps the job `started` over an engine restart (jobs.ts finalizeAtStart). A resumed job reuses its step.
 */
function copyStep(engine: Engine, jobs: Jobs, job: JobRec, exec: StepRec, i: number): StepRec {
  let step = job.steps.find((s) => s.parentStepId === exec.id && s.number === i);
  if (step) {
    step.status = "started";
    step.endTime = undefined;
  } else step = jobs.addStep(job, "executing", "Copying Image", exec);
  step.externalId ??= engine.uuid();
  return step;
}

/** The job's top-level "Executing" step: the one a job resumed after a restart has, else a new one. */
function executingStep(jobs: Jobs, job: JobRec): StepRec {
  return job.steps.find((s) => !s.parentStepId && s.type === "executing" && s.status === "started") ?? jobs.addStep(job, "executing", "Executing");
}

function meta(sd: StorageDomainRec, diskId: string, vol: { id: string; parent?: string; format: "cow" | "raw"; sparse: boolean; leaf: boolean; kind: "base" | "overlay" }, capacity: number, desc = "") {
  writeVolumeMeta(sd.root, diskId, vol.id, {
    capacity,
    format: vol.format === "raw" ? "RAW" : "COW",
    type: vol.sparse ? "SPARSE" : "PREALLOCATED",
    voltype: vol.leaf ? "LEAF" : "INTERNAL",
    puuid: vol.parent ?? ZERO,
    domain: sd.id,
    image: diskId,
    description: desc,
    legality: "LEGAL",
    simKind: vol.kind,
  });
}

// ------------------------------------------------------------------ export

export interface ExportVmPlan {
  vm: VmRec;
  exportSd: StorageDomainRec;
  discardSnapshots: boolean;
}

export function ovfOfVm(engine: Engine, vm: VmRec, disks: OvfDisk[], discard: boolean): OvfEntity {
  const tpl = engine.template(vm.templateId);
  const cl = engine.cluster(vm.clusterId);
  const snaps = discard ? vm.snapshots.filter((s) => s.type === "active") : vm.snapshots;
  return {
    kind: "vm",
    id: vm.id,
    name: vm.name,
    description: vm.description,
    comment: vm.comment,
    memoryBytes: vm.memoryBytes,
    cpus: vm.cpus,
    osType: vm.osType,
    cpuArchitecture: vm.cpuArchitecture,
    origin: vm.origin,
    vmType: vm.type,
    creationDate: vm.creationTime,
    exportDate: new Date().toISOString(),
    clusterName: cl?.name ?? "",
    templateId: discard ? ZERO : vm.templateId,
    templateName: discard ? "Blank" : (tpl?.name ?? "Blank"),
    snapshots: snaps.map((s) => ({ id: s.id, description: s.description, date: s.date, type: s.type })),
    disks,
    nics: vm.nics.map((n) => ({ ...n })),
  };
}

/** Plans the copies of a VM's or template's disks to the export domain, and the OVF disks describing them. */
function planExportDisks(engine: Engine, disks: DiskRec[], exportSd: StorageDomainRec, collapse: boolean, snapshotIds: string[]): { items: CopyItem[]; ovfDisks: OvfDisk[]; diskIds: string[] } {
  const items: CopyItem[] = [];
  const ovfDisks: OvfDisk[] = [];
  for (const d of disks) {
    const chain = engine.chainOf(d);
    const destDir = path.join(exportSd.root, "images", d.id);
    const leaf = d.volumes[d.volumes.length - 1];
    if (collapse || (chain.length === 1 && !d.templateDisk)) {
      const volId = leaf.id;
      const format = collapse ? (d.sparse ? "cow" : "raw") : leaf.format;
      items.push({
        label: d.alias,
        bytes: d.provisionedSize,
        run: async (h) => {
          await fsp.rm(destDir, { recursive: true, force: true });
          const n = chain.length === 1 ? await copyVolume(chain[0], volumePath(exportSd.root, d.id, volId), h) : await copyFlattened(chain, volumePath(exportSd.root, d.id, volId), h);
          meta(exportSd, d.id, { id: volId, format, sparse: d.sparse, leaf: true, kind: "base" }, d.provisionedSize, d.alias);
          return n;
        },
      });
      ovfDisks.push({
        diskId: d.id, alias: d.alias, description: d.description ?? "", provisionedSize: d.provisionedSize, sparse: d.sparse, format,
        bootable: d.bootable, interface: d.interface, storageDomainId: d.storageDomainId,
        volumes: [{ id: volId, parentId: ZERO, format, sparse: d.sparse, snapshotId: snapshotIds[snapshotIds.length - 1] }],
      });
      continue;
    }
    // the chain as it is: own volumes only (a thin disk keeps pointing at its template's volume)
    const own = chain.slice(chain.length - d.volumes.length);
    const vols: OvfVolume[] = d.volumes.map((v, i) => {
      const parent = i === 0 ? d.templateDisk?.volumeId : d.volumes[i - 1].id;
      return {
        id: v.id,
        parentId: parent ?? ZERO,
        parentDiskId: i === 0 && d.templateDisk ? d.templateDisk.diskId : parent ? d.id : undefined,
        format: v.format,
        sparse: d.sparse || v.kind === "overlay",
        snapshotId: snapshotIds[Math.min(i, snapshotIds.length - 1)],
      };
    });
    const bytes = own.reduce((a, l) => a + (l.kind === "base" ? l.size : fileSize(l.path)), 0);
    items.push({
      label: d.alias,
      bytes,
      run: async (h) => {
        await fsp.rm(destDir, { recursive: true, force: true });
        let n = 0;
        for (const [i, l] of own.entries()) {
          const v = d.volumes[i];
          n += await copyVolume(l, volumePath(exportSd.root, d.id, v.id), h);
          meta(exportSd, d.id, { id: v.id, parent: vols[i].parentId, format: v.format, sparse: vols[i].sparse, leaf: i === own.length - 1, kind: v.kind }, d.provisionedSize, d.alias);
        }
        return n;
      },
    });
    ovfDisks.push({
      diskId: d.id, alias: d.alias, description: d.description ?? "", provisionedSize: d.provisionedSize, sparse: d.sparse, format: d.format,
      bootable: d.bootable, interface: d.interface, storageDomainId: d.storageDomainId, volumes: vols,
    });
  }
  return { items, ovfDisks, diskIds: disks.map((d) => d.id) };
}

export function exportVmBytes(engine: Engine, vm: VmRec, collapse: boolean): number {
  let n = 0;
  for (const d of vm.disks) {
    if (collapse) n += d.provisionedSize;
    else for (const l of engine.chainOf(d).slice(-d.volumes.length)) n += l.kind === "base" ? l.size : fileSize(l.path);
  }
  return n;
}

export async function runExportVm(engine: Engine, jobs: Jobs, job: JobRec, plan: ExportVmPlan): Promise<void> {
  const { vm, exportSd } = plan;
  job.resume ??= { kind: "export_vm", vmId: vm.id, exportSdId: exportSd.id, discardSnapshots: plan.discardSnapshots, done: 0 };
  const exec = executingStep(jobs, job);
  const snapIds = vm.snapshots.map((s) => s.id);
  const { items, ovfDisks } = planExportDisks(engine, vm.disks, exportSd, plan.discardSnapshots, plan.discardSnapshots ? snapIds.slice(-1) : snapIds);
  await runCopies(engine, jobs, job, exec, items, [exportSd.id, ...vm.disks.map((d) => d.storageDomainId)]);
  jobs.endStep(job, exec, "finished");
  const fin = jobs.addStep(job, "finalizing", "Finalizing");
  const dc = engine.dcOfCluster(vm.clusterId);
  await writeOvf(exportSd.root, "vms", vm.id, renderOvf(ovfOfVm(engine, vm, ovfDisks, plan.discardSnapshots), dc?.id ?? ZERO));
  forgetChecksums(exportSd.root);
  engine.exportUsedCache.delete(exportSd.id);
  unlockVm(engine, vm, job);
  jobs.endStep(job, fin, "finished");
  engine.event({ code: 1150, description: `Vm ${vm.name} was exported successfully to ${exportSd.name}`, correlationId: job.correlationId, vmId: vm.id, storageDomainId: exportSd.id, dataCenterId: dc?.id, jobId: job.id });
  jobs.end(job, "finished");
}

export function unlockVm(engine: Engine, vm: VmRec, job: JobRec): void {
  if (vm.lockJobId === job.id) {
    vm.lockJobId = undefined;
    if (vm.status === "image_locked") vm.status = "down";
    for (const d of vm.disks) if (d.status === "locked") d.status = "ok";
    engine.markDirty();
  }
}

export function unlockTemplate(engine: Engine, t: TemplateRec, job: JobRec): void {
  if (t.lockJobId === job.id) {
    t.lockJobId = undefined;
    if (t.status === "locked") t.status = "ok";
    for (const d of t.disks) if (d.status === "locked") d.status = "ok";
    engine.markDirty();
  }
}

export interface ExportTemplatePlan {
  template: TemplateRec;
  exportSd: StorageDomainRec;
}

export function ovfOfTemplate(engine: Engine, t: TemplateRec, disks: OvfDisk[]): OvfEntity {
  return {
    kind: "template",
    id: t.id,
    name: t.name,
    description: t.description,
    comment: t.comment,
    memoryBytes: t.memoryBytes,
    cpus: t.cpus,
    osType: t.osType,
    cpuArchitecture: t.cpuArchitecture,
    origin: t.origin,
    vmType: t.type,
    creationDate: t.creationTime,
    exportDate: new Date().toISOString(),
    clusterName: engine.cluster(t.clusterId)?.name ?? "",
    templateId: ZERO,
    templateName: "Blank",
    snapshots: [],
    disks,
    nics: t.nics.map((n) => ({ ...n })),
  };
}

export async function runExportTemplate(engine: Engine, jobs: Jobs, job: JobRec, plan: ExportTemplatePlan): Promise<void> {
  const { template: t, exportSd } = plan;
  job.resume ??= { kind: "export_template", templateId: t.id, exportSdId: exportSd.id, done: 0 };
  const exec = executingStep(jobs, job);
  const { items, ovfDisks } = planExportDisks(engine, t.disks, exportSd, false, []);
  await runCopies(engine, jobs, job, exec, items, [exportSd.id, ...t.disks.map((d) => d.storageDomainId)]);
  jobs.endStep(job, exec, "finished");
  const fin = jobs.addStep(job, "finalizing", "Finalizing");
  const dc = engine.dcOfCluster(t.clusterId);
  await writeOvf(exportSd.root, "templates", t.id, renderOvf(ovfOfTemplate(engine, t, ovfDisks), dc?.id ?? ZERO));
  forgetChecksums(exportSd.root);
  engine.exportUsedCache.delete(exportSd.id);
  unlockTemplate(engine, t, job);
  jobs.endStep(job, fin, "finished");
  engine.event({ code: 1156, description: `Template ${t.name} was exported successfully to ${exportSd.name}`, correlationId: job.correlationId, templateId: t.id, storageDomainId: exportSd.id, dataCenterId: dc?.id, jobId: job.id });
  jobs.end(job, "finished");
}

// ------------------------------------------------------------------ import

export interface DiskOverride {
  sparse?: boolean;
  format?: "cow" | "raw";
  storageDomainId?: string;
}

export interface ImportPlan {
  exportSd: StorageDomainRec;
  entity: OvfEntity;
  clusterId: string;
  defaultSdId: string;
  clone: boolean;
  newName?: string;
  collapse: boolean;
  /**
   * The engine copies the disk chains as they are (ImportVmCommand: !isCopyCollapseOrNoSnapshots — no collapse, and
   * snapshots or a template this engine has): per-disk format/sparse are then not applied (MoveImageGroup keeps the
   * volumes' own; addVmImagesAndSnapshots saves the images as read from the OVF).
   */
  keepChain: boolean;
  overrides: Map<string, DiskOverride>;
  /** target template for thin disks kept as overlays (not collapsed) */
  targetTemplate?: TemplateRec;
}

/** A disk of a thin VM's copy whose base volume is a template's volume (not a disk of its own). */
export function isThinDisk(d: OvfDisk): boolean {
  return !!(d.volumes[0]?.parentDiskId && d.volumes[0].parentDiskId !== d.diskId && !/^0{8}-0{4}/.test(d.volumes[0].parentId));
}

/** The disk of template `t` a thin disk of a copy is based on (by the parent volume, else the parent disk id). */
export function templateDiskOf(d: OvfDisk, t: TemplateRec): DiskRec | undefined {
  return t.disks.find((x) => x.volumes.some((v) => v.id === d.volumes[0].parentId)) ?? t.disks.find((x) => x.id === d.volumes[0].parentDiskId);
}

/**
 * Creates the imported VM/template record right away (VM `image_locked`, template `locked`, disks `locked`) and
 * returns it with the copy items that fill its disks.
 */
export function prepareImport(engine: Engine, job: JobRec, plan: ImportPlan): { record: VmRec | TemplateRec; items: CopyItem[]; bytes: Map<string, number> } {
  const e = plan.entity;
  const newId = () => engine.uuid();
  const flatten = plan.collapse || plan.clone;
  const disks: DiskRec[] = [];
  const items: CopyItem[] = [];
  const bytesBySd = new Map<string, number>();
  const snapshots: SnapshotRec[] = (flatten ? e.snapshots.filter((s) => s.type === "active") : e.snapshots).map((s) => ({
    id: plan.clone ? newId() : s.id,
    description: s.description,
    date: s.date,
    type: s.type,
    status: "ok",
  }));
  if (e.kind === "vm" && !snapshots.some((s) => s.type === "active")) {
    snapshots.push({ id: newId(), description: "Active VM", date: new Date().toISOString(), type: "active", status: "ok" });
  }
  for (const d of e.disks) {
    const given = plan.overrides.get(d.diskId) ?? {};
    // a chain copied as it is keeps its volumes' format and allocation: only the destination applies
    const o: DiskOverride = plan.keepChain ? { storageDomainId: given.storageDomainId } : given;
    const sdId = o.storageDomainId ?? plan.defaultSdId;
    const sd = engine.sd(sdId)!;
    const diskId = plan.clone ? newId() : d.diskId;
    const srcChain = exportedChain(plan.exportSd, e, d.diskId);
    const thin = isThinDisk(d);
    const sparse = o.sparse ?? d.sparse;
    if (flatten || (!thin && d.volumes.length === 1)) {
      const leaf = d.volumes[d.volumes.length - 1];
      const volId = plan.clone ? newId() : leaf.id;
      const format = o.format ?? (flatten ? (sparse ? "cow" : "raw") : leaf.format);
      const vol: VolumeRec = { id: volId, format, kind: "base" };
      disks.push({
        id: diskId, alias: d.alias, description: d.description, provisionedSize: d.provisionedSize, sparse, format,
        storageDomainId: sd.id, bootable: d.bootable, interface: d.interface, status: "locked", volumes: [vol],
      });
      bytesBySd.set(sd.id, (bytesBySd.get(sd.id) ?? 0) + d.provisionedSize);
      items.push({
        label: d.alias,
        bytes: d.provisionedSize,
        run: async (h) => {
          if (!srcChain) throw new Error(`disk ${d.alias}: volumes missing on export domain ${plan.exportSd.name}`);
          const dest = volumePath(sd.root, diskId, volId);
          return srcChain.length === 1 ? copyVolume(srcChain[0], dest, h) : copyFlattened(srcChain, dest, h);
        },
      });
    } else {
      // keep the chain (and the template reference of a thin disk)
      const own = srcChain ? srcChain.slice(srcChain.length - d.volumes.length) : [];
      const vols: VolumeRec[] = d.volumes.map((v, i) => ({
        id: v.id,
        parentId: i === 0 ? (thin ? v.parentId : undefined) : d.volumes[i - 1].id,
        format: i === d.volumes.length - 1 && o.format ? o.format : v.format,
        kind: i === 0 && !thin ? "base" : "overlay",
      }));
      let templateDisk: DiskRec["templateDisk"];
      if (thin) {
        const t = plan.targetTemplate!;
        const td = templateDiskOf(d, t);
        if (!td) throw new Error(`template disk ${d.volumes[0].parentDiskId} not found`);
        templateDisk = { templateId: t.id, diskId: td.id, volumeId: td.volumes[td.volumes.length - 1].id, storageDomainId: td.storageDomainId };
      }
      disks.push({
        id: diskId, alias: d.alias, description: d.description, provisionedSize: d.provisionedSize, sparse, format: o.format ?? d.format,
        storageDomainId: thin && templateDisk ? templateDisk.storageDomainId : sd.id, bootable: d.bootable, interface: d.interface,
        status: "locked", volumes: vols, templateDisk,
      });
      const target = engine.sd(thin && templateDisk ? templateDisk.storageDomainId : sd.id)!;
      const bytes = own.reduce((a, l) => a + (l.kind === "base" ? l.size : fileSize(l.path)), 0);
      bytesBySd.set(target.id, (bytesBySd.get(target.id) ?? 0) + bytes);
      items.push({
        label: d.alias,
        bytes,
        run: async (h) => {
          if (!srcChain) throw new Error(`disk ${d.alias}: volumes missing on export domain ${plan.exportSd.name}`);
          let n = 0;
          for (const [i, l] of own.entries()) n += await copyVolume(l, volumePath(target.root, diskId, vols[i].id), h);
          return n;
        },
      });
    }
  }
  // ImportVmCommandBase.addVmInterfaces: a cloned VM's NICs get new MACs from the target cluster's MAC pool
  // (services/macPools.ts); a plain import keeps the OVF's
  const cloneMacs = plan.clone && e.kind === "vm" ? newMacsFor(engine, plan.clusterId, e.nics.length) : [];
  const nics: NicRec[] = e.nics.map((n, i) => (plan.clone ? { id: newId(), name: n.name, mac: cloneMacs[i] ?? newMac(), interface: n.interface } : { ...n }));
  const now = new Date().toISOString();
  if (e.kind === "vm") {
    const vm: VmRec = {
      id: plan.clone ? newId() : e.id,
      name: plan.newName || e.name, // restapi doImport: a name given with <clone> set (true or false) renames
      description: e.description,
      comment: e.comment,
      clusterId: plan.clusterId,
      status: "image_locked",
      memoryBytes: e.memoryBytes,
      cpus: e.cpus,
      cpuArchitecture: e.cpuArchitecture,
      osType: e.osType,
      templateId: flatten ? ZERO : e.templateId,
      origin: e.origin,
      type: e.vmType,
      // ImportVmCommandBase.addVmStatic sets the creation date to now (clone or not); createVmDynamic gives the new
      // row lastStopTime = now and no start time
      creationTime: now,
      stopTime: now,
      snapshots,
      disks,
      nics,
      lockJobId: job.id,
    };
    return { record: vm, items, bytes: bytesBySd };
  }
  const t: TemplateRec = {
    id: plan.clone ? newId() : e.id,
    name: plan.newName || e.name,
    description: e.description,
    comment: e.comment,
    clusterId: plan.clusterId,
    status: "locked",
    memoryBytes: e.memoryBytes,
    cpus: e.cpus,
    cpuArchitecture: e.cpuArchitecture,
    osType: e.osType,
    origin: e.origin,
    type: e.vmType,
    creationTime: e.creationDate,
    disks,
    nics,
    lockJobId: job.id,
  };
  return { record: t, items, bytes: bytesBySd };
}

export async function runImport(engine: Engine, jobs: Jobs, job: JobRec, plan: ImportPlan, rec: VmRec | TemplateRec, items: CopyItem[]): Promise<void> {
  job.resume ??= {
    kind: "import", entityKind: plan.entity.kind, entityId: plan.entity.id, exportSdId: plan.exportSd.id, clusterId: plan.clusterId,
    defaultSdId: plan.defaultSdId, clone: plan.clone, newName: plan.newName, collapse: plan.collapse, keepChain: plan.keepChain, overrides: [...plan.overrides],
    targetTemplateId: plan.targetTemplate?.id, recordId: rec.id, done: 0,
  };
  const exec = executingStep(jobs, job);
  await runCopies(engine, jobs, job, exec, items, [plan.exportSd.id, ...rec.disks.map((d) => d.storageDomainId)]);
  jobs.endStep(job, exec, "finished");
  const fin = jobs.addStep(job, "finalizing", "Finalizing");
  const cl = engine.cluster(plan.clusterId)!;
  const dc = engine.dc(cl.dataCenterId)!;
  if (plan.entity.kind === "vm") {
    unlockVm(engine, rec as VmRec, job);
    engine.event({ code: 1152, description: `Vm ${rec.name} was imported successfully to Data Center ${dc.name}, Cluster ${cl.name}`, correlationId: job.correlationId, vmId: rec.id, clusterId: cl.id, dataCenterId: dc.id, storageDomainId: plan.exportSd.id, jobId: job.id });
  } else {
    unlockTemplate(engine, rec as TemplateRec, job);
    engine.event({ code: 1158, description: `Template ${rec.name} was imported successfully to Data Center ${dc.name}, Cluster ${cl.name}`, correlationId: job.correlationId, templateId: rec.id, clusterId: cl.id, dataCenterId: dc.id, storageDomainId: plan.exportSd.id, jobId: job.id });
  }
  jobs.endStep(job, fin, "finished");
  jobs.end(job, "finished");
}

/**
 * The copies that fill an imported record's disks, rebuilt from the record prepareImport made and the copy on the
 * export domain (for a job resumed after a restart). prepareImport makes one disk per disk of the OVF, in its order:
 * a flattened copy (collapse or clone) writes the chain's content into the record disk's one volume, otherwise each
 * own volume of the chain is copied to the record disk's volume of the same rank.
 */
function importCopyItems(engine: Engine, plan: ImportPlan, rec: VmRec | TemplateRec): CopyItem[] {
  const e = plan.entity;
  if (rec.disks.length !== e.disks.length) throw new Error(`import of ${rec.name}: ${rec.disks.length} disks prepared for the ${e.disks.length} of the copy`);
  const flatten = plan.collapse || plan.clone;
  return e.disks.map((d, i): CopyItem => {
    const rd = rec.disks[i];
    const target = engine.sd(rd.storageDomainId);
    if (!target) throw new Error(`import of ${rec.name}: storage domain ${rd.storageDomainId} of disk ${rd.alias} is gone`);
    const srcChain = exportedChain(plan.exportSd, e, d.diskId);
    const missing = () => new Error(`disk ${d.alias}: volumes missing on export domain ${plan.exportSd.name}`);
    if (flatten) {
      const dest = volumePath(target.root, rd.id, rd.volumes[0].id);
      return {
        label: d.alias,
        bytes: d.provisionedSize,
        run: async (h) => {
          if (!srcChain) throw missing();
          return srcChain.length === 1 ? copyVolume(srcChain[0], dest, h) : copyFlattened(srcChain, dest, h);
        },
      };
    }
    const own = srcChain ? srcChain.slice(srcChain.length - d.volumes.length) : [];
    return {
      label: d.alias,
      bytes: own.reduce((a, l) => a + (l.kind === "base" ? l.size : fileSize(l.path)), 0),
      run: async (h) => {
        if (!srcChain) throw missing();
        let n = 0;
        for (const [j, l] of own.entries()) n += await copyVolume(l, volumePath(target.root, rd.id, rd.volumes[j].id), h);
        return n;
      },
    };
  });
}

/**
 * Goes on with an export/import job found running at start-up (jobs.ts finalizeAtStart): its copies are VDSM tasks
 * that outlived the engine, so the command ends when they end (the OVF written, the entity unlocked, the events).
 * The plan comes from state.json (`job.resume`); the copies that had ended are not repeated.
 */
export function resumeCopies(engine: Engine, jobs: Jobs, job: JobRec): void {
  const r = job.resume as JobResumePlan;
  void jobs.run(job, async () => {
    const exportSd = engine.sd(r.exportSdId);
    if (!exportSd) throw new Error(`export domain ${r.exportSdId} is gone`);
    if (r.kind === "export_vm") {
      const vm = engine.vm(r.vmId);
      if (!vm) throw new Error(`VM ${r.vmId} is gone`);
      return runExportVm(engine, jobs, job, { vm, exportSd, discardSnapshots: r.discardSnapshots });
    }
    if (r.kind === "export_template") {
      const template = engine.template(r.templateId);
      if (!template) throw new Error(`template ${r.templateId} is gone`);
      return runExportTemplate(engine, jobs, job, { template, exportSd });
    }
    const entity = readEntity(exportSd, r.entityKind, r.entityId);
    const rec = r.entityKind === "vm" ? engine.vm(r.recordId) : engine.template(r.recordId);
    if (!entity) throw new Error(`the ${r.entityKind} ${r.entityId} is no longer on export domain ${exportSd.name}`);
    if (!rec) throw new Error(`the imported ${r.entityKind} ${r.recordId} is gone`);
    const plan: ImportPlan = {
      exportSd, entity, clusterId: r.clusterId, defaultSdId: r.defaultSdId, clone: r.clone, newName: r.newName, collapse: r.collapse,
      keepChain: r.keepChain ?? false, overrides: new Map(r.overrides), targetTemplate: engine.template(r.targetTemplateId),
    };
    return runImport(engine, jobs, job, plan, rec, importCopyItems(engine, plan, rec));
  });
}

/** Removes the files of a VM's/template's own volumes from its data domains. */
export async function removeDiskFiles(engine: Engine, disks: DiskRec[]): Promise<void> {
  for (const d of disks) {
    const sd = engine.sd(d.storageDomainId);
    if (sd) await fsp.rm(path.join(sd.root, "images", d.id), { recursive: true, force: true });
  }
}

export type { ChainLink };
