// The conversion an external import runs on its proxy host, as a job of kind external_import: virt-v2v is not run,
// the job draws the disks' bytes from the target domain's throughput while the source's power state is watched; a
// failure removes the half-made VM.
//
// Followed (ovirt-engine, read, not copied): ConvertVmCommand (VDSCommandType.ConvertVm on the proxy host, a
// VdsBrokerCommand), ImportVmFromExternalProviderCommand's events (1165 starting, 1193 converting, 1152 imported;
// 1194 + 1153 on failure) and its endWithFailure (the VM and its disks removed). virt-v2v's own text for a running
// source: "libvirt domain '<name>' is running or paused. It must be shut down in order to perform virt-v2v conversion".
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx } from "../../router";
import { Engine } from "../../engine";
import { Jobs, JobFailure } from "../../jobs";
import { HostRec, JobRec, VmRec } from "../../model/types";
import { volumePath } from "../../storage/exportDomain";
import { domainBandwidth } from "../../storage/bandwidth";
import { ImportRequest } from "./request";
import { SourceVm, SourceWatch, sourcePoweredOn } from "./vcenter";

/** Shortest conversion (ms), and the bytes accounted at a time against the target domain's throughput. */
const MIN_CONVERT_MS = 300;
const CONVERT_CHUNK = 1024 * 1024;

/**
 * The import's job, with the VM row created at once behind it (locked by the job), then the conversion started:
 * a source already running fails the job as virt-v2v would. Answers the job.
 */
export function startConversion(ctx: Ctx, req: ImportRequest, proxy: HostRec, vm: VmRec, src: SourceVm, bytes: number): JobRec {
  const e = ctx.engine;
  const { cl, sd, dc } = req;
  const fault = ctx.faults.atOperation("vm", req.name, "import");
  const job = ctx.jobs.create({
    kind: "external_import",
    injectedFailure: fault.jobFailure,
    description: `Importing VM ${vm.name} to Cluster ${cl.name}`,
    correlationId: ctx.correlationId,
    storageDomainIds: [sd.id],
    vmId: vm.id,
    // ConvertVmCommand runs VDSCommandType.ConvertVm on the proxy host (a VdsBrokerCommand)
    vdsmCommand: { name: "ConvertVmVDS", host: proxy.name },
  });
  vm.lockJobId = job.id;
  e.state.vms.push(vm);
  e.markDirty();
  e.event({ code: 1165, description: `Starting to import Vm ${vm.name} to Data Center ${dc.name}, Cluster ${cl.name}`, correlationId: ctx.correlationId, vmId: vm.id, clusterId: cl.id, dataCenterId: dc.id, jobId: job.id });

  if (src.running) {
    // the conversion starts on the proxy and virt-v2v refuses the running guest
    void ctx.jobs.run(job, async () => {
      await new Promise((r) => setTimeout(r, 200));
      throw new JobFailure(
        `virt-v2v: error: internal error: libvirt domain '${src.name}' is running or paused. It must be shut down in order to perform virt-v2v conversion`,
      );
    });
  } else {
    void ctx.jobs.run(job, () => convert(e, ctx.jobs, job, vm, bytes, src.watch));
  }
  return job;
}

async function convert(engine: Engine, jobs: Jobs, job: JobRec, vm: VmRec, bytes: number, w: SourceWatch | undefined): Promise<void> {
  // a job failure injected by a fault rule (faultInjection.ts): when the conversion starts, or halfway through it
  const fault = jobs.takeInjectedFailure(job);
  const injected = fault?.reason;
  const exec = jobs.addStep(job, "executing", "Executing");
  const step = jobs.addStep(job, "executing", `Converting VM ${vm.name}`, exec);
  engine.event({ code: 1193, description: `Starting to convert Vm ${vm.name}`, correlationId: job.correlationId, vmId: vm.id, jobId: job.id });
  // the converted disks are written to the target domain: the conversion draws its bytes from that domain's
  // throughput, shared with the other copies on it, like export/import copies (storage/bandwidth.ts); it lasts at
  // least MIN_CONVERT_MS so that a client can see it running
  const flow = domainBandwidth(engine).open(vm.disks.map((d) => d.storageDomainId), () => jobs.abortReason(job.id));
  const start = Date.now();
  let lastCheck = 0;
  let moved = 0;
  // the source's power state is watched beside the copy (a slow vCenter answer does not slow the conversion)
  let poweredOn: string | undefined;
  let checking: Promise<void> | undefined;
  const watch = () => {
    if (!w || checking || Date.now() - lastCheck < 400) return;
    lastCheck = Date.now();
    checking = sourcePoweredOn(w).then((st) => {
      if (st) poweredOn = st;
    }).finally(() => (checking = undefined));
  };
  const refuseIfRunning = () => {
    if (poweredOn) {
      throw new JobFailure(
        `virt-v2v: error: internal error: libvirt domain '${w!.vmName}' is running or paused. It must be shut down in order to perform virt-v2v conversion`,
      );
    }
  };
  watch();
  await checking; // the first look at the source comes before any byte, as virt-v2v opens the source first
  engine.copyStarted();
  try {
    for (;;) {
      const abort = jobs.abortReason(job.id);
      if (abort) throw new JobFailure(abort);
      if (fault?.at === "start") throw new JobFailure(fault.reason);
      // halfway: through the copy, and not before half the shortest conversion
      if (injected && moved >= bytes / 2 && Date.now() - start >= MIN_CONVERT_MS / 2) throw new JobFailure(injected);
      refuseIfRunning();
      watch();
      if (moved >= bytes) {
        const left = MIN_CONVERT_MS - (Date.now() - start);
        if (left <= 0) break;
        await new Promise((r) => setTimeout(r, Math.min(injected ? 50 : 200, left)));
        continue;
      }
      const n = Math.min(CONVERT_CHUNK, bytes - moved);
      await flow.account(n);
      moved += n;
      job.bytes = moved;
      jobs.progress(job, step, (moved / bytes) * 100);
      await new Promise((r) => setImmediate(r)); // let requests in between chunks that needed no wait
    }
    await checking;
    refuseIfRunning();
  } finally {
    engine.copyEnded();
  }
  if (!engine.vm(vm.id)) throw new JobFailure(`VM ${vm.name} was removed during its import`);
  job.bytes = bytes;
  for (const d of vm.disks) d.status = "ok";
  vm.lockJobId = undefined;
  jobs.endStep(job, step, "finished");
  jobs.endStep(job, exec, "finished");
  const cl = engine.cluster(vm.clusterId);
  const dc = cl ? engine.dc(cl.dataCenterId) : undefined;
  engine.event({
    code: 1152,
    description: `Vm ${vm.name} was imported successfully to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`,
    correlationId: job.correlationId,
    vmId: vm.id,
    clusterId: cl?.id,
    dataCenterId: dc?.id,
    jobId: job.id,
  });
  jobs.end(job, "finished");
}

/** The engine's endWithFailure of an external import: failure events, the half-made VM and its disks removed. */
export function compensateImport(e: Engine, job: JobRec, reason: string): void {
  const vm = e.vm(job.vmId);
  const name = vm?.name ?? job.vmId;
  const cl = vm ? e.cluster(vm.clusterId) : undefined;
  const dc = cl ? e.dc(cl.dataCenterId) : undefined;
  e.event({ code: 1194, severity: "error", description: `Failed to convert VM ${name}: ${reason}`, correlationId: job.correlationId, vmId: job.vmId, jobId: job.id });
  e.event({
    code: 1153,
    severity: "error",
    description: `Failed to import Vm ${name} to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`,
    correlationId: job.correlationId,
    vmId: job.vmId,
    clusterId: cl?.id,
    dataCenterId: dc?.id,
    jobId: job.id,
  });
  removeImported(e, job.vmId);
  job.failureReason = reason;
}

function removeImported(engine: Engine, vmId: string | undefined): void {
  const vm = engine.vm(vmId);
  if (!vm) return;
  engine.state.vms = engine.state.vms.filter((v) => v.id !== vm.id);
  for (const d of vm.disks) {
    const sd = engine.sd(d.storageDomainId);
    if (sd) fs.rmSync(path.dirname(volumePath(sd.root, d.id, d.volumes[0]?.id ?? "x")), { recursive: true, force: true });
  }
  engine.markDirty();
}
