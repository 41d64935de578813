/**
 * V2VImport's create: per source VM, resume or clean up an earlier import of ours, or submit the import
 * (operations/submit.ts) and wait for it (operations/wait.ts) while watching the source's power state; then the
 * CPU profile and the permissions (operations/permissions.ts).
 */
import type { OvirtClient, Vm } from "../../client";
import { EngineError } from "../../client/errors";
import { ArgError, clientFor, engineText } from "../common";
import { Ownership, adoptionNote, createdBy } from "../ownership";
import { Progress } from "../../progress";
import { VSphereClient, VmInfo, withVSphere } from "../../../lib/vsphere";
import { sleep } from "../../../lib/sleep";
import type { ExternalVmImportSpec } from "../../client";
import { timeoutMsForBytes } from "../../client/wait";
import { JobFailedError, waitForJob } from "../../operations/wait";
import { submitWithRecovery } from "../../operations/submit";
import { applyPermissions } from "../../operations/permissions";
import { V2VImportArgs } from "./args";
import { proxyFailures, vcenterFailures, vsphereOptions } from "./preflight";
import { Target, conflictFailure, resolveTarget, vmsNamedInDc } from "./target";
import { ImportedVm, V2VImportOutputs, importedVm } from "./outputs";
import { sourceIdentity, sourceUrlOf, targetName, v2vCorrelationId } from "./source";

/** Watches the source power state; resolves with a message as soon as the VM is powered on. */
function powerWatch(a: V2VImportArgs, info: VmInfo | undefined): { stop(): void; tripped: Promise<string> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let client: VSphereClient | undefined;
  const tripped = new Promise<string>((resolve) => {
    if (a.provider !== "vmware" || !info) return;
    const tick = async () => {
      if (stopped) return;
      try {
        client ??= await VSphereClient.connect(vsphereOptions(a.vcenter!));
        const st = await client.powerState(info.ref);
        if (st !== "poweredOff") {
          resolve(
            `VM "${info.name}" was powered on in vCenter ${a.vcenter!.host} during its import (state ${st}); the import was stopped ` +
              `to protect its data, and the partially imported VM was removed. Shut it down in VMware and run again.`,
          );
          return;
        }
      } catch {
        client = undefined; // transient vCenter trouble: try again on the next tick
      }
      if (!stopped) timer = setTimeout(tick, a.watchIntervalMs);
    };
    timer = setTimeout(tick, a.watchIntervalMs);
  });
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      void client?.logout();
    },
    tripped,
  };
}

export async function removeVm(c: OvirtClient, id: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await c.vms.remove(id);
      return;
    } catch (e) {
      if (e instanceof EngineError && e.status === 409 && Date.now() < deadline) {
        await sleep(500); // still locked by the failing job
        continue;
      }
      throw e;
    }
  }
}

async function waitGone(c: OvirtClient, id: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const vm = await c.vms.get(id);
    if (!vm) return;
    if (vm.status !== "image_locked" && vm.status !== "locked") {
      await removeVm(c, id, deadline).catch(() => undefined);
    }
    await sleep(300);
  }
}

/** CPU profile and permissions on a VM of this resource (created or adopted); answers its outputs. Never stops it. */
async function configure(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  vm: Vm,
  sourceName: string,
  ownership: Ownership,
  progress: Progress,
): Promise<ImportedVm> {
  let cur = vm;
  if (t.cpuProfile && vm.cpu_profile?.id !== t.cpuProfile.id) {
    cur = await c.vms.update(vm.id, { cpu_profile: { id: t.cpuProfile.id } });
    progress.info(`set CPU profile ${t.cpuProfile.name} on ${vm.name} (${vm.id})`);
  }
  const perms = await applyPermissions(c, "vm", vm.id, a.permissions, [], progress);
  return importedVm(c, cur, sourceName, ownership, perms.ours);
}

/** One source VM's import: names, correlation id, size and deadline, and the VM this resource's import created. */
interface OneImport {
  sourceName: string;
  /** the VM's name in the target */
  name: string;
  /** the source URL virt-v2v reads */
  url: string;
  correlationId: string;
  bytes: number;
  deadline: number;
  /** the vCenter's view of the source (VMware) */
  info?: VmInfo;
  /** The VM of the target name in the target data center, only when this resource's import created it. */
  ourVmNamed(): Promise<Vm | undefined>;
}

async function importOne(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  sourceName: string,
  info: VmInfo | undefined,
  progress: Progress,
  urn: string | undefined,
): Promise<ImportedVm> {
  const name = targetName(a, sourceName);
  const url = sourceUrlOf(a);
  const source = sourceIdentity(a, sourceName, info);
  if (!source) throw new Error(`VM "${sourceName}" could not be read from vCenter ${a.vcenter?.host}; run pulumi up again`);
  const correlationId = v2vCorrelationId(urn, t.cluster.id, name, source);
  const bytes = info ? info.disks.reduce((s, d) => s + d.capacityBytes, 0) : 0;
  const deadline = Date.now() + timeoutMsForBytes(bytes, a.timeoutMinutes);
  /** The VM of the target name in the target data center, only when this resource's import created it. */
  const ourVmNamed = async (): Promise<Vm | undefined> => {
    const there = (await vmsNamedInDc(c, t.dc.id, [name])).get(name);
    return there && (await createdBy(c, [correlationId], there.vm.id)) ? there.vm : undefined;
  };

  const p: OneImport = { sourceName, name, url, correlationId, bytes, deadline, info, ourVmNamed };
  return (await earlierImport(c, a, t, p, progress)) ?? (await convert(c, a, t, p, progress));
}

/**
 * A VM of the target name already in the target data center: ours (an earlier, interrupted run: waited for and
 * taken, or removed when its import failed), adopted (`adopt: true`), or a conflict. Undefined: import it.
 */
async function earlierImport(c: OvirtClient, a: V2VImportArgs, t: Target, p: OneImport, progress: Progress): Promise<ImportedVm | undefined> {
  const { sourceName, name, correlationId, bytes, deadline } = p;
  const there = (await vmsNamedInDc(c, t.dc.id, [name])).get(name);
  if (there) {
    const existing = there.vm;
    if (!(await createdBy(c, [correlationId], existing.id))) {
      if (!a.adopt) {
        const f = conflictFailure(a, existing, there.cluster, t.dc.name);
        throw new ArgError(f.property, f.reason);
      }
      progress.info(adoptionNote("VM", existing.name, existing.id));
      return configure(c, a, t, existing, sourceName, "adopted", progress);
    }
    const jobs = await c.jobs.byCorrelationId(correlationId).catch(() => []);
    const running = jobs.find((j) => j.status === "started");
    const failed = jobs.length > 0 && jobs.every((j) => j.status === "failed" || j.status === "aborted");
    if (running) {
      progress.update(`waiting for the import of ${name} started by an earlier run`);
      try {
        await waitForJob({ c, jobId: running.id, correlationId, what: `import of ${name}`, deadline, progress, totalBytes: bytes, entityDone: async () => !!(await c.vms.get(existing.id)) });
        const vm = await c.vms.get(existing.id);
        if (vm) {
          progress.info(`resumed ${name} (${vm.id}), imported by an earlier run of this resource`);
          return configure(c, a, t, vm, sourceName, "created", progress);
        }
      } catch (e) {
        if (!(e instanceof JobFailedError)) throw e;
      }
    } else if (!failed && existing.status !== "image_locked") {
      progress.info(`resumed ${name} (${existing.id}), imported by an earlier run of this resource`);
      return configure(c, a, t, existing, sourceName, "created", progress);
    }
    // a half-made VM of ours, from a failed import: remove it and try again
    if (await c.vms.get(existing.id)) {
      progress.warn(`removing ${name} (${existing.id}), left half-made by a failed import of this resource`);
      await waitGone(c, existing.id, deadline);
    }
  }
  return undefined;
}

/** Submits the import (a lost answer recovered, never sent twice) and waits for the conversion while watching the source's power state. */
async function convert(c: OvirtClient, a: V2VImportArgs, t: Target, p: OneImport, progress: Progress): Promise<ImportedVm> {
  const { sourceName, name, url, ourVmNamed, info } = p;
  progress.info(`importing ${sourceName} from ${a.provider === "vmware" ? `vCenter ${a.vcenter!.host}` : url} as ${name} through ${t.host.name}`);
  const watch = powerWatch(a, info);
  /** The VM this import created: the id in the POST answer (or proven by the audit log after an ambiguous POST). */
  let vmId: string | undefined;
  try {
    vmId = await submitImport(c, a, t, p);
    await waitForConversion(c, p, vmId, watch, progress);
  } catch (e) {
    if (e instanceof JobFailedError && vmId) await explainFailedConversion(c, a, p, vmId, watch, e);
    throw e;
  } finally {
    watch.stop();
  }
  const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
  if (!vm) throw new Error(`import of ${sourceName} finished, but VM ${name} is not in engine ${c.url}`);
  progress.info(`imported ${sourceName} as ${name} (${vm.id})`);
  return configure(c, a, t, vm, sourceName, "created", progress);
}

/** What the engine is asked to import (the source's credentials, the target, the proxy host). */
function importSpec(a: V2VImportArgs, t: Target, p: OneImport): ExternalVmImportSpec {
  return {
    sourceName: p.sourceName,
    provider: a.provider,
    url: p.url,
    username: a.provider === "vmware" ? a.vcenter!.username : a.sourceUsername,
    password: a.provider === "vmware" ? a.vcenter!.password : a.sourcePassword,
    clusterId: t.cluster.id,
    storageDomainId: t.sd.id,
    targetName: p.name,
    sparse: a.sparse,
    hostId: t.host.id,
    cpuProfileId: t.cpuProfile?.id,
    driversIsoId: a.driversIso,
  };
}

/**
 * POSTs the import once (a lost answer is recovered by the job or the audit log, never sent again); an engine refusal
 * names the argument to fix. Answers the id of the VM this import created, when it is known yet.
 */
async function submitImport(c: OvirtClient, a: V2VImportArgs, t: Target, p: OneImport): Promise<string | undefined> {
  const { sourceName, correlationId, deadline, ourVmNamed } = p;
  const spec = importSpec(a, t, p);
  const sent = await submitWithRecovery({
    c,
    correlationId,
    deadline,
    post: () => c.externalVmImports.add(spec, { correlationId }),
    // the engine adds the VM before it answers; a VM of that name is ours only when the audit log says so
    trace: ourVmNamed,
    pauseMs: 1000,
  }).catch((e: unknown) => {
    if (e instanceof EngineError) throw refusalFailure(a, t, sourceName, engineText(e));
    throw e;
  });
  // a lost answer with our job listed: the VM is ours when the audit log says so (else found so by entityDone below)
  return sent.answer?.vm?.id ?? sent.traced?.id ?? (sent.jobId ? (await ourVmNamed())?.id : undefined);
}

/** The engine refused the import: the argument to fix (a proxy host that cannot verify the vCenter's certificate has its own advice). */
function refusalFailure(a: V2VImportArgs, t: Target, sourceName: string, text: string): ArgError {
  if (a.provider === "vmware" && /SSL|certificate/i.test(text)) {
    return new ArgError(
      "vcenter.proxySkipVerify",
      `import of ${sourceName} refused by the engine: ${text}. virt-v2v on proxy host ${t.host.name} verifies the certificate of vCenter ` +
        `${a.vcenter!.host} with the proxy host's own trust store (a pinned certificateFingerprint or caPem protects the Pulumi host only): ` +
        `install the vCenter CA on the proxy host (/etc/pki/ca-trust/source/anchors/, then update-ca-trust), or set vcenter.proxySkipVerify: true ` +
        `to skip that check (the vCenter password then travels from the proxy host without certificate verification).`,
    );
  }
  const prop = /storage/i.test(text) ? "storageDomain" : /proxy|host/i.test(text) ? "proxyHost" : "sourceVms";
  return new ArgError(prop, `import of ${sourceName} refused by the engine: ${text}`);
}

/** Waits for the conversion's job, or for the source to be powered on: then nothing half-made of ours stays. */
async function waitForConversion(c: OvirtClient, p: OneImport, vmId: string | undefined, watch: ReturnType<typeof powerWatch>, progress: Progress): Promise<void> {
  const { sourceName, name, correlationId, bytes, deadline, ourVmNamed } = p;
  const done = waitForJob({
    c,
    correlationId,
    what: `import of ${sourceName} as ${name}`,
    deadline,
    progress,
    totalBytes: bytes,
    entityDone: async () => {
      const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
      return !!vm && vm.status !== "image_locked";
    },
    entityFailed: async () => (vmId && !(await c.vms.get(vmId)) ? "the imported VM was removed" : undefined),
  }).then(() => undefined);
  const outcome = await Promise.race([done.then(() => ({ kind: "done" as const })), watch.tripped.then((msg) => ({ kind: "powered" as const, msg }))]);
  if (outcome.kind === "powered") {
    // the engine fails its job on its own when it sees the source running; make sure nothing half-made stays —
    // only the VM this import created (the POST's answer, or proven by the audit log), never one of that name
    await done.catch(() => undefined);
    const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
    if (vm) await waitGone(c, vm.id, Date.now() + 120_000);
    throw new Error(outcome.msg);
  }
}

/**
 * The conversion's job failed: the VM it made is removed (the engine does, else we do), and a failure caused by the
 * source being powered on is said so (from the watch, or by asking the vCenter once more). Returns when it was not.
 */
async function explainFailedConversion(c: OvirtClient, a: V2VImportArgs, p: OneImport, vmId: string, watch: ReturnType<typeof powerWatch>, e: JobFailedError): Promise<void> {
  const { info } = p;
  // the engine removes a failed import's VM; do it ourselves if it did not
  await waitGone(c, vmId, Date.now() + 120_000).catch(() => undefined);
  const tripped = await Promise.race([watch.tripped, sleep(a.watchIntervalMs * 2 + 500).then(() => undefined)]);
  if (tripped) throw new Error(tripped);
  // the engine may have seen the power-on before our watch did: ask the vCenter once more
  if (info && a.provider === "vmware") {
    const st = await withVSphere(vsphereOptions(a.vcenter!), (v) => v.powerState(info.ref)).catch(() => undefined);
    if (st && st !== "poweredOff") {
      throw new Error(
        `VM "${info.name}" was powered on in vCenter ${a.vcenter!.host} during its import (state ${st}); the import was stopped ` +
          `to protect its data, and the partially imported VM was removed. Shut it down in VMware and run again. Engine: ${e.message}`,
      );
    }
  }
}

export async function run(a: V2VImportArgs, progress: Progress, urn: string | undefined): Promise<V2VImportOutputs> {
  const c = clientFor(a.engine);
  const t = await resolveTarget(c, a);
  let installed = false;
  if (a.proxySsh) {
    const r = await proxyFailures(a, t.host, true);
    if (r.failures.length) throw new ArgError(r.failures[0].property, r.failures[0].reason);
    installed = r.installed;
    if (installed) progress.info(`installed virt-v2v on proxy host ${t.host.name}`);
  }
  const vc = await vcenterFailures(a);
  const vms: ImportedVm[] = [];
  for (const sourceName of a.sourceVms) {
    const f = vc.failures.find((x) => x.reason.includes(`"${sourceName}"`)) ?? vc.failures.find((x) => x.property !== "sourceVms");
    if (f) throw new ArgError(f.property, f.reason);
    vms.push(await importOne(c, a, t, sourceName, vc.vms.get(sourceName), progress, urn));
  }
  return {
    ...a,
    sourceUrl: sourceUrlOf(a),
    dataCenterId: t.dc.id,
    clusterId: t.cluster.id,
    storageDomainId: t.sd.id,
    proxyHostId: t.host.id,
    vms,
    permissionIds: vms.flatMap((v) => v.permissionIds),
    virtV2vInstalled: installed,
  };
}
