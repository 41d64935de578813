// /vms: list (search), get (follow), disk attachments, nics, snapshots, export, stop/shutdown/start, remove.
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Ctx, Router } from "../router";
import { backend, F } from "../faults";
import { VmRec } from "../model/types";
import { actionComplete, actionJob, byIdOr404, flag, list, notFound, one, resolveSd, sdRef } from "./common";
import { follows } from "../xml/write";
import { readEntities, usedBytes as exportUsed } from "../storage/contents";
import { exportVmBytes, runExportVm, unlockVm } from "../storage/transfer";
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

export function registerCompensation(engine: () => Engine, jobs: Jobs): void {
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
  r.get("vms/:vm/snapshots/:snap", (ctx) => {
    const vm = vmOr404(ctx);
    return one("snapshot", ctx.w.snapshot(byIdOr404(vm.snapshots, ctx.params.snap), `vms/${vm.id}`, vm.id));
  });

  r.action("vms/:vm/export", async (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    // 1. the VM lock (acquireLock runs before validate)
    if (vm.lockJobId) throw F.objectLocked("export", "VM");
    const ref = sdRef(ctx);
    if (!ref || (!ref.id && !ref.name)) {
      if (ctx.body?.node && (ctx.body.node.directory !== undefined || ctx.body.node.host !== undefined)) {
        throw F.badRequest("Export to a path on a host (OVA) is not supported by the simulator");
      }
      throw F.incomplete("Action", ["storageDomain.id|name"], "export");
    }
    const sd = resolveSd(ctx, ref)!;
    const dc = e.dcOfCluster(vm.clusterId)!;
    // 2. target domain in the VM's data center and active
    if (sd.dataCenterId !== dc.id) throw F.storagePoolNotMatch("export", "VM");
    if (sd.status !== "active") throw F.storageStatusIllegal("export", "VM", sd.status ?? "unattached");
    // 3. disks
    const locked = vm.disks.filter((d) => d.status === "locked").map((d) => d.alias);
    if (locked.length) throw F.disksLocked("export", "VM", locked);
    // 4. export type
    if (sd.type !== "export") throw F.notExportDomain("export", "VM", sd.name);
    const discard = flag(ctx, "discard_snapshots");
    const exclusive = flag(ctx, "exclusive");
    // 5. space
    const need = exportVmBytes(e, vm, discard);
    if (sd.sizeBytes - exportUsed(sd) < need) throw F.diskSpaceLow("export", "VM", sd.name);
    // 6. already on the export domain
    for (const x of readEntities(sd, "vm")) {
      if (x.id === vm.id) {
        if (!exclusive) throw F.guidExists("export");
      } else if (x.name === vm.name) throw F.nameUsed("export", "VM");
    }
    // 7. VM down
    if (vm.status !== "down") throw F.vmNotDown("export");

    const job = ctx.jobs.create({
      kind: "export_vm",
      description: `Exporting VM ${vm.name} To Export Domain ${sd.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [sd.id, ...new Set(vm.disks.map((d) => d.storageDomainId))],
      vmId: vm.id,
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
    if (vm.lockJobId) throw F.vmIsLocked(verb);
    if (vm.status === "down") throw F.vmNotRunning(verb);
    const host = e.host(vm.hostId);
    vm.status = "down";
    vm.hostId = undefined;
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
    if (vm.lockJobId || vm.status === "image_locked") throw F.vmIsLocked("run");
    if (vm.status !== "down") throw F.vmAlreadyRunning();
    const host = e.state.hosts.find((h) => h.clusterId === vm.clusterId && h.status === "up");
    if (!host) throw backend(409, "Cannot run VM. There is no host that satisfies current scheduling constraints. See below for details:");
    vm.status = "up";
    vm.hostId = host.id;
    e.markDirty();
    e.event({ code: 153, description: `VM ${vm.name} was started by admin@internal-authz (Host: ${host.name}).`, correlationId: ctx.correlationId, vmId: vm.id, hostId: host.id });
    return actionComplete(ctx);
  });

  r.delete("vms/:vm", async (ctx) => {
    const e = ctx.engine;
    const vm = vmOr404(ctx);
    if (vm.lockJobId) throw F.objectLocked("remove", "VM");
    if (vm.status !== "down") throw F.vmNotDownRemove();
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
