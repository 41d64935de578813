// /vms: list (search), get (follow), update (PUT: cpu_profile, description, comment), disk attachments, nics,
// snapshots (list, get, create as an async job), export, stop/shutdown/start, remove.
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Ctx, Router } from "../router";
import { backend, EngineFaults } from "../engineFaults";
import { CpuProfileRec, SnapshotRec, VmRec, VolumeRec } from "../model/types";
import { actionComplete, actionJob, byIdOr404, flag, list, notFound, one, refuseUnmodelled, requireBody, resolveSd, sdRef } from "./common";
import { follows } from "../xml/write";
import { readEntities, usedBytes as exportUsed } from "../storage/contents";
import { exportVmBytes, runExportVm, unlockVm } from "../storage/transfer";
import { overlayRecordsFor, writeOverlay, forgetChecksums } from "../storage/volumes";
import { volumePath } from "../storage/exportDomain";
import { ref, str } from "../xml/xml";
import { Engine } from "../engine";
import { Jobs } from "../jobs";

export function vmSearchFields(e: Engine) {
  return {
    name: (v: VmRec) => v.name,
    id: (v: VmRec) => v.id,
    status: (v: VmRec) => v.status,
    description: (v: VmRec) => v.description,
    cluster: (v: VmRec) => e.cluster(v.clusterId)?.name,
    datacenter: (v: VmRec) => e.dcOfCluster(v.clusterId)?.name,
    template: (v: VmRec) => e.template(v.templateId)?.name ?? (v.templateId.startsWith("00000000-0000-0000-0000-000000000000") ? "Blank" : undefined),
    storage: (v: VmRec) => v.disks.map((d) => e.sd(d.storageDomainId)?.name),
    architecture: (v: VmRec) => v.cpuArchitecture,
    os: (v: VmRec) => v.osType,
  };
}

function vmOr404(ctx: Ctx): VmRec {
  return byIdOr404(ctx.engine.state.vms, ctx.params.vm);
}

/**
 * `<cpu_profile id>` of a PUT body: the profile must exist (ACTION_TYPE_FAILED_CPU_PROFILE_NOT_FOUND) and belong to
 * the entity's cluster (ACTION_TYPE_CPU_PROFILE_NOT_MATCH_CLUSTER).
 */
export function cpuProfileOf(e: Engine, body: import("../xml/xml").XNode, clusterId: string, type: "VM" | "Template"): CpuProfileRec | undefined {
  const r = ref(body, "cpu_profile");
  if (!r) return undefined;
  const p = r.id ? e.cpuProfile(r.id) : undefined;
  // profiles/CpuProfileHelper.setAndValidateCpuProfile: ACTION_TYPE_FAILED_CPU_PROFILE_NOT_FOUND is raised without a
  // $cpuProfileId replacement, so the engine's text keeps the placeholder (ErrorTranslatorImpl / StrSubstitutor)
  if (!p) throw backend(400, `Cannot edit ${type}. CPU profile with id \${cpuProfileId} doesn't exist.`);
  if (p.clusterId !== clusterId) throw backend(400, `Cannot edit ${type}. CPU Profile doesn't match provided Cluster.`);
  return p;
}

/** What PUT /vms/{id} and PUT /templates/{id} apply; everything else answers 400 naming the field. */
export const UPDATABLE: Record<string, true | string[]> = { name: true, description: true, comment: true, cpu_profile: ["id"] };

/** Delay of a simulated snapshot creation (the engine's CreateSnapshotForVm runs as an async task). */
const SNAPSHOT_MS = 150;
/** How long a guest takes to react to an ACPI shutdown; one that ignores it goes back to `up` after this. */
const SHUTDOWN_MS = 100;

export function registerCompensation(engine: () => Engine, jobs: Jobs): void {
  jobs.compensators.set("create_snapshot", (job, reason) => {
    const e = engine();
    const vm = e.vm(job.vmId);
    if (vm) {
      // the half-made snapshot is removed with its new volumes
      const snap = vm.snapshots.find((s) => s.status === "locked" && s.type === "regular");
      if (snap) {
        vm.snapshots = vm.snapshots.filter((s) => s !== snap);
        for (const d of vm.disks) {
          const leaf = d.volumes[d.volumes.length - 1];
          if (leaf && (leaf as VolumeRec & { snapshotJobId?: string }).snapshotJobId === job.id) d.volumes.pop();
        }
      }
      unlockVm(e, vm, job);
    }
    e.event({ code: 69, severity: "error", description: `Failed to complete snapshot '${snap_desc(vm)}' creation for VM '${vm?.name ?? job.vmId}'.`, correlationId: job.correlationId, vmId: job.vmId, jobId: job.id });
    job.failureReason = reason;
  });
  jobs.compensators.set("export_vm", (job, reason) => {
    const e = engine();
    const vm = e.vm(job.vmId);
    const sd = e.sd(job.storageDomainIds[0]);
    if (vm) unlockVm(e, vm, job);
    e.event({ code: 1151, severity: "error", description: `Failed to export Vm ${vm?.name ?? job.vmId} to ${sd?.name ?? "export domain"}`, correlationId: job.correlationId, vmId: job.vmId, storageDomainId: sd?.id, jobId: job.id });
    job.failureReason = reason;
  });
}

export function register(r: Router): void {
  r.get("vms", (ctx) => list(ctx, "vms", "vm", ctx.engine.state.vms, (v, f) => ctx.w.vm(v, f), vmSearchFields(ctx.engine)));
  r.get("vms/:vm", (ctx) => one("vm", ctx.w.vm(vmOr404(ctx), follows(ctx.query.get("follow")))));

  r.get("vms/:vm/diskattachments", (ctx) => {
    const vm = vmOr404(ctx);
    const f = follows(ctx.query.get("follow"));
    return list(ctx, "disk_attachments", "disk_attachment", vm.disks, (d) => ctx.w.diskAttachment(d, `vms/${vm.id}`, vm.id, "vm", f.has("disk")));
  });
  r.get("vms/:vm/diskattachments/:disk", (ctx) => {
    const vm = vmOr404(ctx);
    const d = byIdOr404(vm.disks, ctx.params.disk);
    return one("disk_attachment", ctx.w.diskAttachment(d, `vms/${vm.id}`, vm.id, "vm", follows(ctx.query.get("follow")).has("disk")));
  });
  r.get("vms/:vm/nics", (ctx) => {
    const vm = vmOr404(ctx);
    return list(ctx, "nics", "nic", vm.nics, (n) => ctx.w.nic(n, `vms/${vm.id}`, vm.id, "vm"));
  });
  r.get("vms/:vm/snapshots", (ctx) => {
    const vm = vmOr404(ctx);
    return list(ctx, "snapshots", "snapshot", vm.snapshots, (s) => ctx.w.snapshot(s, `vms/${vm.id}`, vm.id));
  });
  // create a snapshot: a new (leaf) volume on every disk's chain, like the engine's live/offline snapshot; async job
  r.post("vms/:vm/snapshots", async (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    const body = requireBody(ctx, "snapshot", "add");
    const description = str(body, "description");
    if (!description) throw EngineFaults.incomplete("Snapshot", ["description"], "add");
    if (vm.lockJobId || vm.status === "image_locked") throw EngineFaults.objectLocked("create", "Snapshot");
    const locked = vm.disks.filter((d) => d.status === "locked").map((d) => d.alias);
    if (locked.length) throw EngineFaults.disksLocked("create", "Snapshot", locked);
    const job = ctx.jobs.create({
      kind: "create_snapshot",
      description: `Creating VM Snapshot ${description} for VM ${vm.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [...new Set(vm.disks.map((d) => d.storageDomainId))],
      vmId: vm.id,
      // CreateSnapshotCommand: VDSCommandType.CreateVolume (SPM)
      vdsmCommand: { name: "CreateVolumeVDS" },
    });
    const snap: SnapshotRec = { id: e.uuid(), description, date: new Date().toISOString(), type: "regular", status: "locked" };
    // the new snapshot freezes the current leaves: it goes right before the active one
    const active = vm.snapshots.findIndex((s) => s.type === "active");
    vm.snapshots.splice(active < 0 ? vm.snapshots.length : active, 0, snap);
    const wasStatus = vm.status;
    if (wasStatus === "down") vm.status = "image_locked";
    vm.lockJobId = job.id;
    for (const d of vm.disks) d.status = "locked";
    e.markDirty();
    e.event({ code: 45, description: `Snapshot '${description}' creation for VM '${vm.name}' was initiated by admin@internal-authz.`, correlationId: ctx.correlationId, vmId: vm.id, jobId: job.id });
    void ctx.jobs.run(job, async () => {
      const exec = ctx.jobs.addStep(job, "executing", "Executing");
      await new Promise((r) => setTimeout(r, SNAPSHOT_MS));
      const abort = ctx.jobs.abortReason(job.id);
      if (abort) throw new Error(abort);
      for (const d of vm.disks) {
        const sd = e.sd(d.storageDomainId)!;
        const parent = d.volumes[d.volumes.length - 1];
        const vol: VolumeRec & { snapshotJobId?: string } = { id: e.uuid(), parentId: parent?.id ?? d.templateDisk?.volumeId, format: "cow", kind: "overlay", snapshotJobId: job.id };
        // the new active layer: a small deterministic delta stands in for what the guest writes after the snapshot
        await writeOverlay(volumePath(sd.root, d.id, vol.id), d.provisionedSize, overlayRecordsFor(`${d.id}:${vol.id}`, d.provisionedSize));
        d.volumes.push(vol);
        d.format = "cow";
        forgetChecksums(path.join(sd.root, "images", d.id));
      }
      for (const d of vm.disks) for (const v of d.volumes as (VolumeRec & { snapshotJobId?: string })[]) delete v.snapshotJobId;
      ctx.jobs.endStep(job, exec, "finished");
      snap.status = "ok";
      vm.status = wasStatus === "down" ? "down" : vm.status;
      unlockVm(e, vm, job);
      e.event({ code: 68, description: `Snapshot '${description}' creation for VM '${vm.name}' has been completed.`, correlationId: job.correlationId, vmId: vm.id, jobId: job.id });
      ctx.jobs.end(job, "finished");
    });
    const content = ctx.w.snapshot(snap, `vms/${vm.id}`, vm.id);
    return { status: 201, root: "snapshot", content, headers: { Location: String(content["@_href"] ?? "") } };
  });

  // update: the fields this simulator models (name, cpu_profile, description, comment); any other is refused (400)
  r.put("vms/:vm", (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    const body = requireBody(ctx, "vm", "update");
    refuseUnmodelled(ctx, "vm", body, UPDATABLE);
    if (vm.lockJobId) throw EngineFaults.objectLocked("update", "VM");
    // UpdateVmCommand.validate: a new name must be free in the VM's data center (ACTION_TYPE_FAILED_NAME_ALREADY_USED)
    const name = str(body, "name");
    if (name !== undefined && name !== vm.name) {
      if (!name.trim()) throw backend(400, "Cannot edit VM. The name field may not be empty."); // ACTION_TYPE_FAILED_NAME_MAY_NOT_BE_EMPTY (text unverified)
      const dcId = e.dcOfCluster(vm.clusterId)?.id;
      if (e.state.vms.some((v) => v !== vm && v.name === name && e.dcOfCluster(v.clusterId)?.id === dcId)) throw EngineFaults.nameUsed("update", "VM");
    }
    const p = cpuProfileOf(e, body, vm.clusterId, "VM");
    if (name !== undefined) vm.name = name;
    if (p) vm.cpuProfileId = p.id;
    const desc = str(body, "description");
    if (desc !== undefined) vm.description = desc;
    const comment = str(body, "comment");
    if (comment !== undefined) vm.comment = comment;
    e.markDirty();
    e.event({ code: 35, description: `VM ${vm.name} configuration was updated by admin@internal-authz.`, correlationId: ctx.correlationId, vmId: vm.id });
    return one("vm", ctx.w.vm(vm));
  });

  r.get("vms/:vm/snapshots/:snap", (ctx) => {
    const vm = vmOr404(ctx);
    return one("snapshot", ctx.w.snapshot(byIdOr404(vm.snapshots, ctx.params.snap), `vms/${vm.id}`, vm.id));
  });

  r.action("vms/:vm/export", async (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    // 1. the VM lock (acquireLock runs before validate)
    if (vm.lockJobId) throw EngineFaults.objectLocked("export", "VM");
    const ref = sdRef(ctx);
    if (!ref || (!ref.id && !ref.name)) {
      if (ctx.body?.node && (ctx.body.node.directory !== undefined || ctx.body.node.host !== undefined)) {
        throw EngineFaults.badRequest("Export to a path on a host (OVA) is not supported by the simulator");
      }
      throw EngineFaults.incomplete("Action", ["storageDomain.id|name"], "export");
    }
    const sd = resolveSd(ctx, ref)!;
    const dc = e.dcOfCluster(vm.clusterId)!;
    // 2. ExportVmCommand.validate: the target domain active, as AuditLogableBase.getStorageDomain finds it (in the VM's
    // data center, else its row in whichever data center holds it, else its one row without a pool, whose NULL status
    // StorageDomainDaoImpl's row mapper reads as 0 = Unknown: an unattached domain is "Unknown" here)
    if (sd.status !== "active") throw EngineFaults.storageStatusIllegal("export", "VM", sd.status ?? "unknown");
    // 3. disks
    const locked = vm.disks.filter((d) => d.status === "locked").map((d) => d.alias);
    if (locked.length) throw EngineFaults.disksLocked("export", "VM", locked);
    // then the storage_pool_iso_map row of (domain, VM's pool)
    if (sd.dataCenterId !== dc.id) throw EngineFaults.storagePoolNotMatch("export", "VM");
    // 4. export type
    if (sd.type !== "export") throw EngineFaults.notExportDomain("export", "VM", sd.name);
    const discard = flag(ctx, "discard_snapshots");
    const exclusive = flag(ctx, "exclusive");
    // 5. space
    const need = exportVmBytes(e, vm, discard);
    if (sd.sizeBytes - exportUsed(sd) < need) throw EngineFaults.diskSpaceLow("export", "VM", sd.name);
    // 6. already on the export domain
    for (const x of readEntities(sd, "vm")) {
      if (x.id === vm.id) {
        if (!exclusive) throw EngineFaults.guidExists("export");
      } else if (x.name === vm.name) throw EngineFaults.nameUsed("export", "VM");
    }
    // 7. VM down
    if (vm.status !== "down") throw EngineFaults.vmNotDown("export");

    const fault = ctx.faults.atOperation("vm", vm.name, "export");
    const job = ctx.jobs.create({
      kind: "export_vm",
      injectedFailure: fault.jobFailure,
      description: `Exporting VM ${vm.name} To Export Domain ${sd.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [sd.id, ...new Set(vm.disks.map((d) => d.storageDomainId))],
      vmId: vm.id,
      // CopyImageGroupCommand.performStorageOperation: CopyImage with copy-collapse (discard_snapshots), else MoveImageGroup
      vdsmCommand: { name: discard ? "CopyImageVDS" : "MoveImageGroupVDS" },
    });
    vm.status = "image_locked";
    vm.lockJobId = job.id;
    for (const d of vm.disks) d.status = "locked";
    e.markDirty();
    e.event({ code: 1162, description: `Starting export Vm ${vm.name} to ${sd.name}`, correlationId: ctx.correlationId, vmId: vm.id, storageDomainId: sd.id, dataCenterId: dc.id, jobId: job.id });
    void ctx.jobs.run(job, () => runExportVm(e, ctx.jobs, job, { vm, exportSd: sd, discardSnapshots: discard }));
    return actionJob(ctx, job, "export");
  });

  const powerOff = (verb: "stop" | "shutdown") => (ctx: Ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    if (vm.lockJobId) throw EngineFaults.vmIsLocked(verb);
    if (vm.status === "down") throw EngineFaults.vmNotRunning(verb);
    const fault = ctx.faults.atOperation("vm", vm.name, verb);
    const host = e.host(vm.hostId);
    if (fault.guest === "ignore-shutdown") {
      // a fault rule's guest ignores the ACPI request: powering_down for a moment, then up again (no event 61)
      vm.status = "powering_down";
      e.markDirty();
      e.event({ code: 73, description: `VM shutdown initiated by admin@internal-authz on VM ${vm.name} (Host: ${host?.name ?? ""}).`, correlationId: ctx.correlationId, vmId: vm.id, hostId: host?.id });
      e.later(SHUTDOWN_MS, () => {
        if (vm.status === "powering_down") {
          vm.status = "up";
          e.markDirty();
        }
      });
      return actionComplete(ctx);
    }
    vm.status = "down";
    vm.hostId = undefined;
    // ResourceManager.internalSetVmStatus: a VM that is no longer running gets lastStopTime = now
    vm.stopTime = new Date().toISOString();
    e.markDirty();
    e.event(
      verb === "stop"
        ? { code: 33, description: `VM ${vm.name} powered off by admin@internal-authz (Host: ${host?.name ?? ""}).`, correlationId: ctx.correlationId, vmId: vm.id, hostId: host?.id }
        : { code: 73, description: `VM shutdown initiated by admin@internal-authz on VM ${vm.name} (Host: ${host?.name ?? ""}).`, correlationId: ctx.correlationId, vmId: vm.id, hostId: host?.id },
    );
    e.event({ code: 61, description: `VM ${vm.name} is down. Exit message: User shut down from within the guest`, correlationId: ctx.correlationId, vmId: vm.id });
    return actionComplete(ctx);
  };
  r.action("vms/:vm/stop", powerOff("stop"));
  r.action("vms/:vm/shutdown", powerOff("shutdown"));
  r.action("vms/:vm/start", (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    if (vm.lockJobId || vm.status === "image_locked") throw EngineFaults.vmIsLocked("run");
    if (vm.status !== "down") throw EngineFaults.vmAlreadyRunning();
    const host = e.state.hosts.find((h) => h.clusterId === vm.clusterId && h.status === "up");
    if (!host) throw backend(409, "Cannot run VM. There is no host that satisfies current scheduling constraints. See below for details:");
    vm.status = "up";
    vm.hostId = host.id;
    // CreateVDSCommand: lastStartTime = now when the VM is launched
    vm.startTime = new Date().toISOString();
    e.markDirty();
    e.event({ code: 153, description: `VM ${vm.name} was started by admin@internal-authz (Host: ${host.name}).`, correlationId: ctx.correlationId, vmId: vm.id, hostId: host.id });
    return actionComplete(ctx);
  });

  r.delete("vms/:vm", async (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    if (vm.lockJobId) throw EngineFaults.objectLocked("remove", "VM");
    if (vm.status !== "down") throw EngineFaults.vmNotDownRemove();
    e.state.vms = e.state.vms.filter((x) => x !== vm);
    for (const d of vm.disks) {
      const sd = e.sd(d.storageDomainId);
      if (sd) await fsp.rm(path.join(sd.root, "images", d.id), { recursive: true, force: true });
    }
    e.markDirty();
    e.event({ code: 113, description: `VM ${vm.name} was successfully removed by admin@internal-authz.`, correlationId: ctx.correlationId, vmId: vm.id });
    return { status: 200, root: "action", content: { status: "complete" } };
  });
  void notFound;
}

function snap_desc(vm: VmRec | undefined): string {
  return vm?.snapshots.find((s) => s.status === "locked" && s.type === "regular")?.description ?? "";
}
