/**
 * VmExport's create: find the source, wait for an export of ours still running, keep or adopt a copy already on the
 * domain, shut the VM down when asked, then submit the export (operations/submit.ts) and wait for it (operations/wait.ts).
 */
import type { OvirtClient, StorageDomain, Vm } from "../../client";
import { BLANK_TEMPLATE_ID } from "../../client/types";
import { EngineError } from "../../client/errors";
import { ArgError, clientFor, engineText } from "../common";
import { Progress } from "../../progress";
import { poll, timeoutMsForBytes, WaitTimeoutError } from "../../client/wait";
import { waitForJob, lostWhen } from "../../operations/wait";
import { submitWithRecovery } from "../../operations/submit";
import { COMPLETION_WINDOW_MS } from "../../operations/readCache";
import { Ownership, adoptionNote, createdBy, resourceCorrelationId } from "../ownership";
import { attachedDomains, attachedDomainsActive, engineKey, exportListing, vmById, vmsNamed } from "../../operations/reads";
import { VmExportArgs } from "./args";
import { Source, architectureOf, copyIsCurrent, dcOfSource, exportDomainByName, findSource, fingerprint, foreignCopyError } from "./source";
import { VmExportOutputs } from "./outputs";

async function waitVmDown(c: OvirtClient, vmId: string, deadline: number, progress: Progress, what: string): Promise<void> {
  await poll(
    async () => {
      const v = await c.vms.get(vmId);
      if (!v) throw new Error(`VM ${vmId} disappeared while waiting for ${what}`);
      if (v.status === "down") return { done: true, value: true };
      return { done: false, progress: `${what} (status ${v.status})` };
    },
    { what, deadline, onProgress: (m) => progress.update(m) },
  );
}

/** Correlation id of this resource's shutdown/stop of its source: how a re-run knows the stack shut the VM down. */
function shutdownCorrelationId(urn: string | undefined, sourceId: string): string {
  return resourceCorrelationId(urn, "shutdown-for-export", sourceId);
}

async function ensureDown(c: OvirtClient, a: VmExportArgs, src: Source, deadline: number, progress: Progress, urn?: string): Promise<Source> {
  if (a.kind !== "vm") return src;
  let vm = src as Vm;
  // an operation of ours or someone else's holds the VM: wait for it first
  if (vm.status === "image_locked" || vm.status === "locked") return vm;
  if (vm.status === "down") return vm;
  if (!a.shutdownIfRunning) {
    throw new ArgError(
      "shutdownIfRunning",
      `name: VM ${vm.name} is ${vm.status}; the engine exports only VMs that are down. Shut it down first, or set ` +
        `shutdownIfRunning: true to let the export shut it down.`,
    );
  }
  progress.update(`shutting down ${vm.name}`);
  const cid = shutdownCorrelationId(urn, vm.id);
  try {
    await c.vms.shutdown(vm.id, cid);
  } catch (e) {
    if (!(e instanceof EngineError && e.status === 409)) throw e;
  }
  const grace = a.shutdownTimeoutSeconds;
  const soft = Math.min(deadline, Date.now() + grace * 1000);
  try {
    await waitVmDown(c, vm.id, soft, progress, `shutdown of ${vm.name}`);
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    progress.warn(`${vm.name} did not shut down within ${grace} s (shutdownTimeoutSeconds); powering it off`);
    try {
      await c.vms.stop(vm.id, cid);
    } catch (err) {
      // went down by itself meanwhile
      if (!(err instanceof EngineError && err.status === 409 && (await c.vms.get(vm.id))?.status === "down")) throw err;
    }
    await waitVmDown(c, vm.id, deadline, progress, `power-off of ${vm.name}`);
  }
  progress.info(`${vm.name} shut down for export (destroy does not start it again: its migrated copy may be running)`);
  vm = (await c.vms.get(vm.id)) ?? vm;
  return vm;
}

interface RunOpts {
  args: VmExportArgs;
  progress: Progress;
  /** Export even if a copy exists (update: source changed, or collapse setting changed). */
  force?: boolean;
  /** The resource's URN (correlation ids). */
  urn?: string;
  /** The source recorded in the state: re-resolved by this id, never by name. */
  sourceId?: string;
}

export async function run(o: RunOpts): Promise<VmExportOutputs> {
  const a = o.args;
  const c = clientFor(a.engine);
  const label = `${a.kind === "vm" ? "VM" : "template"} ${a.name}`;
  const key = engineKey(a.engine);
  let src: Source;
  if (o.sourceId) {
    const byId = a.kind === "vm" ? await vmById(c, o.sourceId) : await c.templates.get(o.sourceId);
    if (!byId) throw new ArgError("name", `name: the source ${label} recorded in the state (id ${o.sourceId}) no longer exists in engine ${c.url}`);
    src = byId;
  } else {
    src = await findSource(c, key, a.kind, a.name, a.dataCenter);
  }
  const sd = await exportDomainByName(c, key, a.exportDomain);
  const dc = await dcOfSource(c, key, src);
  // status matters: a recent listing of the data center's domains that says it is active (the engine checks again at
  // the POST, and a refusal after it is judged on a fresh listing: `explained`), else a fresh one
  const notActive = (l: StorageDomain[]): ArgError | undefined => {
    const att = l.find((d) => d.id === sd.id);
    if (att && att.status === "active") return undefined;
    return new ArgError(
      "exportDomain",
      `exportDomain: export domain ${sd.name} is ${att ? att.status : "not attached"} in data center ${dc.name} ` +
        `(where ${label} lives). Declare an ExportDomainAttachment of ${sd.name} to ${dc.name} and make this export depend on it.`,
    );
  };
  const inactive = notActive(await attachedDomainsActive(c, dc.id, [sd.id]));
  if (inactive) throw inactive;
  /** An engine refusal (4xx) after that: the domain's status read fresh explains it when it is no longer active. */
  const explained = async (e: unknown, otherwise: unknown = e): Promise<never> => {
    throw (e instanceof EngineError && e.status < 500 && notActive(await attachedDomains(c, dc.id))) || otherwise;
  };
  let { fp, disks } = await fingerprint(c, a.kind, src);
  const diskBytes = disks.reduce((s, d) => s + Math.max(d.provisionedBytes, d.actualBytes), 0);
  const deadline = Date.now() + timeoutMsForBytes(diskBytes, a.timeoutMinutes);
  // per resource (its URN), never per URL: see ownership.ts
  const correlationId = resourceCorrelationId(o.urn, "export", sd.id, src.id, fp, String(a.discardSnapshots));
  const content = c.exportContent(a.kind);
  const architecture = await architectureOf(c, key, src);
  const templateRef = a.kind === "vm" ? (src as Vm).template : undefined;
  let templateId = templateRef?.id && templateRef.id !== BLANK_TEMPLATE_ID && !a.discardSnapshots ? templateRef.id : undefined;
  let templateName: string | undefined;
  if (templateId) templateName = (await c.templates.get(templateId))?.name;

  let shutDownForExport = false;
  const result = (ownership: Ownership): VmExportOutputs => ({
    ...a,
    sourceId: src.id,
    exportDomainId: sd.id,
    dataCenterId: dc.id,
    sourceFingerprint: fp,
    disks,
    diskBytes,
    architecture,
    templateId,
    templateName,
    exportedAt: new Date().toISOString(),
    adopted: ownership === "adopted",
    ownership,
    shutDownForExport: shutDownForExport || undefined,
  });
  // an earlier, interrupted run of this resource may have shut the VM down: its shutdown event carries our correlation id
  const noteEarlierShutdown = async () => {
    if (!shutDownForExport && a.kind === "vm" && a.shutdownIfRunning) shutDownForExport = await createdBy(c, [shutdownCorrelationId(o.urn, src.id)], src.id);
  };
  // the export domain's listing: fresh, one request shared by the exports asking at the same time
  // (both confirm an end: the completion window lets the exports ending together share them)
  const copyPresent = async () => (await exportListing(c, a.kind, sd.id, COMPLETION_WINDOW_MS)).some((x) => x.id === src.id);
  const currentSource = async () =>
    a.kind === "vm"
      ? (await vmsNamed(c, src.name, COMPLETION_WINDOW_MS)).find((v) => v.id === src.id) ?? (await c.vms.get(src.id))
      : await c.templates.get(src.id);

  // 1. an export of ours still running from an interrupted attempt? (an export locks its VM/template for its whole
  // run, so only a locked source can have one: look for our job then)
  const locked = a.kind === "vm" ? src.status === "image_locked" : src.status === "locked";
  const running = locked ? (await c.jobs.byCorrelationId(correlationId).catch(() => [])).find((j) => j.status === "started") : undefined;
  if (running || locked) {
    o.progress.update(`waiting for the running operation on ${label}`);
    await waitForJob({
      c,
      jobId: running?.id,
      correlationId: running ? correlationId : undefined,
      what: `${running ? "export" : "the operation holding the lock"} of ${label}`,
      deadline,
      progress: o.progress,
      totalBytes: diskBytes,
      entityDone: async () => {
        const s = await currentSource();
        return !!s && s.status !== "image_locked" && s.status !== "locked";
      },
    });
    src = (await currentSource()) ?? src;
    ({ fp, disks } = await fingerprint(c, a.kind, src));
  }

  // 2. a copy already on the domain? (a fresh listing, read after the source: nothing of ours runs on it now)
  const listing = await exportListing(c, a.kind, sd.id).catch((e: unknown) => explained(e));
  const existing = listing.find((x) => x.id === src.id);
  if (!existing) {
    const sameName = listing.find((x) => x.name === src.name);
    if (sameName && sameName.id !== src.id) {
      throw new ArgError(
        "name",
        `name: export domain ${sd.name} already holds a different ${a.kind} named ${src.name} (id ${sameName.id}); ` +
          `the engine refuses the export even with exclusive. Remove that copy from the export domain, or rename the source.`,
      );
    }
  } else if (!o.force) {
    // a copy this resource made (its correlation id on the engine's export event) is its own to keep or redo; any
    // other copy is overwritten only with exclusive (force override), or taken as it is with adopt
    const ours = await createdBy(c, [correlationId], src.id);
    const current = await copyIsCurrent(c, a.kind, sd.id, src.id, disks);
    if (ours && (current || !a.exclusive)) {
      if (!current) o.progress.warn(`the copy of ${label} on ${sd.name} differs from the source; set exclusive: true to overwrite it`);
      else o.progress.info(`the current copy of ${label} on ${sd.name} is this resource's own earlier export`);
      await noteEarlierShutdown();
      return result("created");
    }
    if (!ours && a.adopt) {
      o.progress.info(`${adoptionNote(`copy of ${label} on`, sd.name, src.id)}${current ? "" : " (it differs from the source)"}`);
      return result("adopted");
    }
    if (!ours && !a.exclusive) throw foreignCopyError(label, sd.name, src.id);
  }

  // 3. export
  const before = src.status;
  src = await ensureDown(c, a, src, deadline, o.progress, o.urn);
  shutDownForExport = a.kind === "vm" && before !== "down" && src.status === "down" && before !== "image_locked" && before !== "locked";
  const exclusive = !!existing || a.exclusive;
  o.progress.info(`exporting ${label} to ${sd.name}${a.discardSnapshots ? " (collapsing snapshots)" : ""}`);
  const { jobId } = await submitWithRecovery({
    c,
    correlationId,
    deadline,
    post: () =>
      a.kind === "vm"
        ? c.vms.export(src.id, { exportDomainId: sd.id, exclusive, discardSnapshots: a.discardSnapshots, correlationId })
        : c.templates.export(src.id, { exportDomainId: sd.id, exclusive, correlationId }),
    // the engine locks the source before it answers: a locked source is our export started
    trace: async () => {
      const s = await currentSource();
      return s && (s.status === "image_locked" || s.status === "locked") ? s : undefined;
    },
  }).catch((e: unknown) => explained(e, exportRefusal(e, src, label, sd.name)));
  let look: { unlocked: boolean; present: boolean } | undefined;
  await waitForJob({
    c,
    jobId,
    correlationId,
    what: `export of ${label} to ${sd.name}`,
    deadline,
    progress: o.progress,
    totalBytes: diskBytes,
    entityDone: async () => {
      // both reads are fresh and shared with the other exports finishing now
      const [s, present] = await Promise.all([currentSource(), copyPresent()]);
      const unlocked = !!s && s.status !== "image_locked" && s.status !== "locked";
      look = { unlocked, present };
      return (!s || unlocked) && present;
    },
    // the engine locks the source before it answers and unlocks it after the copy is on the domain: unlocked with no
    // copy and no job means the export was lost (judged from entityDone's read, which waitForJob makes just before)
    entityFailed: lostWhen(async () => !!look && look.unlocked && !look.present, `export of ${label}`),
  });
  // waitForJob answers only once entityDone saw the copy on the domain
  o.progress.info(`exported ${label} to ${sd.name} (${a.keepOnDelete ? "keepOnDelete: destroy keeps this copy" : "destroy removes this copy"})`);
  await noteEarlierShutdown();
  return result("created");
}

/** The engine's refusal of an export, as an error naming the argument and the fix. */
function exportRefusal(e: unknown, src: Source, label: string, domain: string): unknown {
  if (e instanceof EngineError && e.status === 409 && /not down/i.test(engineText(e))) {
    return new ArgError(
      "shutdownIfRunning",
      `name: VM ${src.name} is not down; the engine exports only VMs that are down. Shut it down, or set shutdownIfRunning: true. Engine: ${engineText(e)}`,
    );
  }
  if (e instanceof EngineError) return new Error(`export of ${label} to ${domain} refused by the engine: ${engineText(e)}`);
  return e;
}
