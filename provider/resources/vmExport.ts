/**
 * VmExport: a VM or template (`kind`) exported to an export domain.
 *
 * - `exclusive` = the admin portal's "force override"; `discardSnapshots` = "collapse snapshots" (VMs only).
 * - The VM must be down: by default a running VM fails with a clear error (at preview already); with
 *   `shutdownIfRunning: true` it is shut down first (ACPI shutdown; a guest still running after
 *   `shutdownTimeoutSeconds`, default 300, is powered off with `stop`).
 * - create adopts a copy that is already on the domain and current (same disks), and an export still running from
 *   an interrupted attempt (found by its stable correlation id or the VM's lock).
 * - The source fingerprint (disk ids + sizes + image ids + snapshot ids) is kept in the outputs; with `exclusive`
 *   a later `pulumi up` re-exports (force override) only when the source changed (detected in `diff`).
 * - delete removes the copy from the export domain unless `keepOnDelete`.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Vm, Template, Disk, StorageDomain } from "../client";
import { BLANK_TEMPLATE_ID } from "../client/types";
import { EngineError } from "../client/errors";
import {
  ArgError,
  BatchArgs,
  CheckFailure,
  EngineArgs,
  PROGRESS_URN_KEY,
  cachedRead,
  clientFor,
  connectionFailure,
  engineText,
  jsonEqual,
  sameEngine,
  sameEngineLive,
  sameEngineProbe,
  checkConnectionChange,
  containsUnknown,
  suggest,
  userInputs,
  normalizeArgs,
  validate,
  zKind,
  zName,
} from "./common";
import { progressFor, Progress } from "../progress";
import { tap as tapPlan } from "../plan/live";
import { poll, timeoutMsForBytes, WaitTimeoutError } from "../client/wait";
import { sleep } from "../../lib/sleep";
import { waitForJob, lostWhen } from "./jobs";
import { Ownership, adoptionNote, createdBy, mayRemove, ownershipOf, resourceCorrelationId } from "./ownership";
import { attachedDomain, clusterById, dataCenterById, engineKey, exportContents, exportListing, followedDisks, storageDomainNamed, vmById, vmsNamed } from "./reads";

export const VmExportArgs = z
  .object({
    engine: EngineArgs,
    exportDomain: zName("exportDomain"),
    kind: zKind.default("vm"),
    name: zName("name"),
    /** Data center of the source (names are unique per data center only); required when the name is not unique in the engine. */
    dataCenter: zName("dataCenter").optional(),
    exclusive: z.boolean().default(false),
    discardSnapshots: z.boolean().default(false),
    shutdownIfRunning: z.boolean().default(false),
    /** grace for the guest's ACPI shutdown before a hard power-off (with shutdownIfRunning) */
    shutdownTimeoutSeconds: z.number().positive().max(24 * 3600).default(300),
    keepOnDelete: z.boolean().default(false),
    /** Use a copy already on the domain that this resource did not make, as it is (never overwritten, kept on destroy). */
    adopt: z.boolean().default(false),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
    batch: BatchArgs.optional(),
  })
  .refine((a) => !(a.kind === "template" && a.discardSnapshots), {
    message: "discardSnapshots: templates have no snapshots to collapse; remove discardSnapshots for kind \"template\"",
    path: ["discardSnapshots"],
  })
  .refine((a) => !(a.kind === "template" && a.shutdownIfRunning), {
    message: "shutdownIfRunning: applies to VMs only (kind \"vm\")",
    path: ["shutdownIfRunning"],
  });
export type VmExportArgs = z.infer<typeof VmExportArgs>;

export interface ExportedDisk {
  id: string;
  alias?: string;
  provisionedBytes: number;
  actualBytes: number;
}

export interface VmExportOutputs extends VmExportArgs {
  sourceId: string;
  exportDomainId: string;
  dataCenterId: string;
  sourceFingerprint: string;
  disks: ExportedDisk[];
  diskBytes: number;
  architecture?: string;
  /** The template a thin VM still depends on in this export (not collapsed), else absent. */
  templateId?: string;
  templateName?: string;
  exportedAt: string;
  /** the copy was there and taken as it is (adopt: true): never overwritten or removed */
  adopted: boolean;
  /** created: this resource's export made the copy (its correlation id); adopted: kept on destroy */
  ownership: Ownership;
  /** the export shut the source VM down (shutdownIfRunning) */
  shutDownForExport?: boolean;
}

type Source = Vm | Template;

/** Template versions share a name: the base version (or the only one) stands for the template. */
function baseVersions<T extends Source>(ts: T[]): T[] {
  const bases = ts.filter((t) => !(t as Template).version?.version_number || (t as Template).version!.version_number === 1);
  return bases.length ? bases : ts.slice(0, 1);
}

/**
 * The one source named `name` in `dataCenter` (or in the engine, when no data center is given). Names are unique
 * per data center only: after a same-engine migration two VMs share a name, one per data center. Absent in the data
 * center but present elsewhere, or several matches: an error listing what was found (name, id, data center).
 */
export function pickSource<T extends { id: string; name: string }>(
  kind: "vm" | "template",
  name: string,
  dataCenter: string | undefined,
  found: Array<{ s: T; dc?: string }>,
  engineUrl: string,
): { source?: T; failure?: CheckFailure } {
  const what = kind === "vm" ? "VM" : "template";
  const list = (xs: Array<{ s: T; dc?: string }>) => xs.map((x) => `${x.s.name} (id ${x.s.id}, data center ${x.dc ?? "unknown"})`).join(", ");
  const inScope = dataCenter ? found.filter((x) => x.dc === dataCenter) : found;
  if (inScope.length === 1) return { source: inScope[0].s };
  if (inScope.length === 0 && found.length > 0) {
    return {
      failure: {
        property: "dataCenter",
        reason: `dataCenter: no ${what} named "${name}" in data center ${dataCenter}; found ${list(found)}. Set dataCenter to the data center of the source you mean.`,
      },
    };
  }
  if (inScope.length === 0) return { failure: { property: "name", reason: `name: ${what} "${name}" does not exist in engine ${engineUrl}.` } };
  return {
    failure: {
      property: dataCenter ? "name" : "dataCenter",
      reason: dataCenter
        ? `name: ${inScope.length} ${what}s named "${name}" in data center ${dataCenter}: ${list(inScope)}. Rename one of them.`
        : `dataCenter: ${inScope.length} ${what}s are named "${name}" in engine ${engineUrl}: ${list(inScope)}. Set dataCenter to the data center of the source to export.`,
    },
  };
}

async function findSource(c: OvirtClient, key: string, kind: "vm" | "template", name: string, dataCenter?: string): Promise<Source> {
  // VMs: fresh, shared with the other exports starting now (one search for all names, disks and snapshots followed)
  const candidates: Source[] = kind === "vm" ? await vmsNamed(c, name) : baseVersions(await c.templates.findByName(name));
  const found = await Promise.all(candidates.filter((s) => s.name === name).map(async (s) => ({ s, dc: (await dcOfSource(c, key, s).catch(() => undefined))?.name })));
  const { source, failure } = pickSource(kind, name, dataCenter, found, c.url);
  if (source) return source;
  if (failure!.property === "name" && found.length === 0) {
    const all = (kind === "vm" ? await c.vms.list() : await c.templates.list()).map((v) => v.name);
    throw new ArgError("name", `${failure!.reason}${suggest(name, all)}`);
  }
  throw new ArgError(failure!.property, failure!.reason);
}

async function sourceDisks(c: OvirtClient, kind: "vm" | "template", id: string): Promise<Disk[]> {
  return kind === "vm" ? c.vms.disks(id) : c.templates.disks(id);
}

/** sha256 over what an export copies: disk ids, sizes, image ids, snapshot ids. */
export async function fingerprint(c: OvirtClient, kind: "vm" | "template", src: Source): Promise<{ fp: string; disks: ExportedDisk[] }> {
  // a VM read with follow=disk_attachments.disk,snapshots (shared reads) carries both; else read them
  const followed = kind === "vm" ? followedDisks(src) : undefined;
  const followedSnaps = kind === "vm" ? (src as Vm).snapshots : undefined;
  const disks = followed ?? (await sourceDisks(c, kind, src.id));
  const snaps = kind === "vm" ? (followedSnaps ?? (await c.vms.snapshots(src.id))).map((s) => s.id).sort() : [];
  const d = disks
    .map((x) => ({ id: x.id, p: x.provisioned_size ?? 0, a: x.actual_size ?? 0, i: x.image_id ?? "" }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const fp = createHash("sha256").update(JSON.stringify({ d, snaps })).digest("hex").slice(0, 32);
  return {
    fp,
    disks: disks.map((x) => ({ id: x.id, alias: x.alias ?? x.name, provisionedBytes: x.provisioned_size ?? 0, actualBytes: x.actual_size ?? 0 })),
  };
}

async function exportDomainByName(c: OvirtClient, key: string, name: string): Promise<StorageDomain> {
  const { found: sd, all: sds } = await storageDomainNamed(c, key, name);
  if (!sd) {
    const all = sds.filter((d) => d.type === "export").map((d) => d.name);
    throw new ArgError("exportDomain", `exportDomain: export domain "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  if (sd.type && sd.type !== "export") {
    throw new ArgError("exportDomain", `exportDomain: "${name}" is a ${sd.type} domain, not an export domain`);
  }
  return sd;
}

async function dcOfSource(c: OvirtClient, key: string, src: Source): Promise<{ id: string; name: string }> {
  const clId = src.cluster?.id;
  if (clId) {
    // identity (a cluster's data center, a data center's name): the read cache is fine
    const cl = (await clusterById(c, key, clId)).found;
    if (cl?.data_center?.id) {
      const dc = (await dataCenterById(c, key, cl.data_center.id)).found;
      return { id: cl.data_center.id, name: dc?.name ?? cl.data_center.id };
    }
  }
  // templates may carry no cluster: use the data center of their storage domain
  const sdId = src.storage_domain?.id;
  if (sdId) {
    const sd = await c.storageDomains.get(sdId);
    const dcId = sd?.data_centers?.[0]?.id ?? sd?.data_center?.id;
    if (dcId) {
      const dc = await c.datacenters.get(dcId);
      return { id: dcId, name: dc?.name ?? dcId };
    }
  }
  throw new Error(`cannot find the data center of ${src.name}`);
}

async function architectureOf(c: OvirtClient, key: string, src: Source): Promise<string | undefined> {
  if (src.cpu?.architecture && src.cpu.architecture !== "undefined") return src.cpu.architecture;
  if (src.cluster?.id) return (await clusterById(c, key, src.cluster.id)).found?.cpu?.architecture;
  return undefined;
}

/** Mixed CPU architectures in a batch, named VM by VM; undefined when fine. */
export function mixedArchitectures(archs: Array<{ name: string; arch?: string }>): string | undefined {
  const set = new Set(archs.map((a) => a.arch ?? "undefined"));
  if (set.size <= 1) return undefined;
  return archs.map((a) => `${a.name} (${a.arch ?? "undefined"})`).join(", ");
}

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

/** Is the copy on the export domain the current state of the source (same disks and sizes)? */
async function copyIsCurrent(c: OvirtClient, kind: "vm" | "template", sdId: string, copyId: string, disks: ExportedDisk[]): Promise<boolean> {
  let copyDisks: Disk[];
  try {
    copyDisks = await c.exportContent(kind).disks(sdId, copyId);
  } catch {
    return false;
  }
  if (copyDisks.length !== disks.length) return false;
  const byId = new Map(copyDisks.map((d) => [d.id, d]));
  return disks.every((d) => {
    const cd = byId.get(d.id);
    return !!cd && (cd.provisioned_size === undefined || cd.provisioned_size === d.provisionedBytes);
  });
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

async function run(o: RunOpts): Promise<VmExportOutputs> {
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
  // status matters: a fresh (shared) listing of the data center's domains
  const att = await attachedDomain(c, dc.id, sd.id);
  if (!att || att.status !== "active") {
    throw new ArgError(
      "exportDomain",
      `exportDomain: export domain ${sd.name} is ${att ? att.status : "not attached"} in data center ${dc.name} ` +
        `(where ${label} lives). Declare an ExportDomainAttachment of ${sd.name} to ${dc.name} and make this export depend on it.`,
    );
  }
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
  const copyPresent = async () => (await exportListing(c, a.kind, sd.id)).some((x) => x.id === src.id);
  const currentSource = async () =>
    a.kind === "vm" ? (await vmsNamed(c, src.name)).find((v) => v.id === src.id) ?? (await c.vms.get(src.id)) : await c.templates.get(src.id);

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
  const listing = await exportListing(c, a.kind, sd.id);
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
  let jobId: string | undefined;
  for (;;) {
    try {
      const res =
        a.kind === "vm"
          ? await c.vms.export(src.id, { exportDomainId: sd.id, exclusive, discardSnapshots: a.discardSnapshots, correlationId })
          : await c.templates.export(src.id, { exportDomainId: sd.id, exclusive, correlationId });
      jobId = res.job?.id;
      break;
    } catch (e: any) {
      if (e?.name === "EngineUnavailableError" && e.ambiguous) {
        // did the engine start it? look for our job, else try again
        await sleep(500);
        const jobs = await c.jobs.byCorrelationId(correlationId).catch(() => []);
        if (jobs.length > 0) {
          jobId = jobs[0].id;
          break;
        }
        const s = await currentSource();
        if (s && (s.status === "image_locked" || s.status === "locked")) break;
        if (Date.now() > deadline) throw e;
        continue;
      }
      if (e instanceof EngineError && e.status === 409 && /not down/i.test(engineText(e))) {
        throw new ArgError(
          "shutdownIfRunning",
          `name: VM ${src.name} is not down; the engine exports only VMs that are down. Shut it down, or set shutdownIfRunning: true. Engine: ${engineText(e)}`,
        );
      }
      if (e instanceof EngineError) {
        throw new Error(`export of ${label} to ${sd.name} refused by the engine: ${engineText(e)}`);
      }
      throw e;
    }
  }
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

function foreignCopyError(label: string, domain: string, id: string): ArgError {
  return new ArgError(
    "exclusive",
    `exclusive: export domain ${domain} already holds a copy of ${label} (id ${id}) that this resource did not make. ` +
      `Set exclusive: true to overwrite it (force override), or adopt: true to use it as it is (it is then never overwritten and kept on destroy).`,
  );
}

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmExportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  const identityChanged =
    !prev ||
    prev.name !== args.name ||
    (prev.kind ?? "vm") !== args.kind ||
    prev.exportDomain !== args.exportDomain ||
    prev.dataCenter !== args.dataCenter ||
    // the same engine by another URL (alias) is no new identity: the source stays the recorded one
    !(await sameEngineProbe(prev.engine, args.engine));
  const batchChanged = !prev || !jsonEqual(prev.batch, args.batch);
  if (!hasUnknowns && prev && !identityChanged && !batchChanged) await checkConnectionChange(prev.engine, args.engine, fs);
  // facts read below that change what destroy does: a foreign copy taken as it is, a running VM the export shuts down
  const facts: { adoptedCopy?: boolean; shutsDown?: boolean } = {};
  if (!hasUnknowns && (identityChanged || batchChanged)) {
    try {
      const c = clientFor(args.engine);
      const key = `${args.engine.url}|${args.engine.username}`;
      const sds = await cachedRead(`${key}|sds`, 10_000, () => c.storageDomains.list());
      const sd = sds.find((d) => d.name === args.exportDomain);
      if (!sd) {
        fs.push({
          property: "exportDomain",
          reason: `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}.${suggest(args.exportDomain, sds.filter((d) => d.type === "export").map((d) => d.name))}`,
        });
      } else if (sd.type && sd.type !== "export") {
        fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${sd.type} domain, not an export domain` });
      }
      // the data center of every candidate source, from cached listings (names are unique per data center only)
      const clusters = await cachedRead(`${key}|clusters`, 10_000, () => c.clusters.list());
      const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
      const dcName = (s: Source) => {
        const dcId = clusters.find((cl) => cl.id === s.cluster?.id)?.data_center?.id;
        return dcs.find((d) => d.id === dcId)?.name;
      };
      if (args.dataCenter && !dcs.some((d) => d.name === args.dataCenter)) {
        fs.push({ property: "dataCenter", reason: `dataCenter: data center "${args.dataCenter}" does not exist in engine ${args.engine.url}.${suggest(args.dataCenter, dcs.map((d) => d.name))}` });
      }
      const pick = async (all: Source[]): Promise<Source | undefined> => {
        const named = all.filter((s) => s.name === args.name);
        const { source, failure } = pickSource(args.kind, args.name, args.dataCenter, named.map((s) => ({ s, dc: dcName(s) })), args.engine.url);
        if (failure) fs.push(named.length === 0 ? { ...failure, reason: failure.reason + suggest(args.name, all.map((v) => v.name)) } : failure);
        return source;
      };
      // a copy on the domain that this resource did not make: overwritten only with exclusive, taken only with adopt
      const foreignCopy = async (src: Source) => {
        if (!sd || sd.type !== "export" || (args.exclusive && !args.adopt) || !identityChanged) return;
        const contents = await exportContents<Source>(c, key, args.kind, sd);
        if (contents.unreadable) {
          // unknown, not empty: say so (the stack may activate the domain before the export runs)
          progressFor(news[PROGRESS_URN_KEY] as string | undefined, `export ${args.name}`).info(
            `${contents.unreadable}: whether a copy of ${args.kind === "vm" ? "VM" : "template"} ${src.name} is already on it is checked when the export runs`,
          );
          return;
        }
        const listing = contents.items;
        if (!listing.some((x) => x.id === src.id)) return;
        // only when a copy is there (a re-run after a lost state, or someone else's copy): is it this resource's?
        const urn = news[PROGRESS_URN_KEY] as string | undefined;
        const { fp } = await fingerprint(c, args.kind, src);
        const cid = resourceCorrelationId(urn, "export", sd.id, src.id, fp, String(args.discardSnapshots));
        if (!(await createdBy(c, [cid], src.id))) {
          if (args.adopt) {
            facts.adoptedCopy = true;
            progressFor(urn, `export ${args.name}`).info(`${adoptionNote(`copy of ${args.kind === "vm" ? "VM" : "template"} ${src.name} on`, sd.name, src.id)} (adopt: true); nothing is exported`);
            return;
          }
          const e = foreignCopyError(`${args.kind === "vm" ? "VM" : "template"} ${src.name}`, sd.name, src.id);
          fs.push({ property: e.property, reason: e.message });
        }
      };
      if (args.kind === "vm") {
        const vms = await cachedRead(`${key}|vms`, 10_000, () => c.vms.list());
        const vm = await pick(vms);
        if (vm) await foreignCopy(vm);
        if (!vm) {
          // reported by pick
        } else if (identityChanged && vm.status && !["down", "image_locked"].includes(vm.status) && !args.shutdownIfRunning) {
          fs.push({
            property: "shutdownIfRunning",
            reason: `name: VM ${vm.name} is ${vm.status}; the engine exports only VMs that are down. Shut it down first, or set shutdownIfRunning: true.`,
          });
        } else if (identityChanged && vm.status && !["down", "image_locked", "locked"].includes(vm.status) && args.shutdownIfRunning) {
          facts.shutsDown = true;
        }
        if (args.batch) {
          if (!args.batch.members.includes(args.name)) {
            fs.push({ property: "batch.members", reason: `batch.members: must include this VM (${args.name})` });
          }
          const archs: Array<{ name: string; arch?: string }> = [];
          for (const m of args.batch.members) {
            const v = vms.find((x) => x.name === m);
            if (!v) continue;
            const arch =
              v.cpu?.architecture && v.cpu.architecture !== "undefined"
                ? v.cpu.architecture
                : clusters.find((cl) => cl.id === v.cluster?.id)?.cpu?.architecture;
            archs.push({ name: m, arch });
          }
          const mixed = mixedArchitectures(archs);
          if (mixed) {
            fs.push({
              property: "batch",
              reason: `batch: batch "${args.batch.id}" mixes CPU architectures: ${mixed}. One import batch must share one architecture; split it into one batch per architecture.`,
            });
          }
        }
      } else {
        const ts = await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
        const t = await pick(baseVersions(ts.filter((x) => x.name === args.name)).concat(ts.filter((x) => x.name !== args.name)));
        if (t) await foreignCopy(t);
      }
    } catch (e) {
      const f = connectionFailure(e);
      if (f) fs.push(f);
      else throw e;
    }
  }
  // kept from the previous check while nothing it depends on changed (the facts were read when the export was new)
  const same = (k: string) => (prev?.[k] ?? defaults[k]) === ((args as any)[k] ?? defaults[k]);
  const carried =
    prev && !identityChanged && same("keepOnDelete") && same("adopt") && same("shutdownIfRunning") && Array.isArray(prev.onDestroy)
      ? (prev.onDestroy as string[])
      : undefined;
  const known = !hasUnknowns && identityChanged;
  return { inputs: { ...news, onDestroy: carried ?? onDestroyText(args, known ? facts : undefined) }, failures: [...failures, ...fs] };
}

/**
 * What destroy will do, in words, as the check-time input `onDestroy` (shown by the preview of `pulumi up` and by the
 * preview of `pulumi destroy`, which runs no provider code; see exportDomainAttachment.ts `onDestroyText`).
 */
export function onDestroyText(a: VmExportArgs, facts?: { adoptedCopy?: boolean; shutsDown?: boolean }): string[] {
  const label = `${a.kind === "vm" ? "VM" : "template"} ${a.name}`;
  const copy = a.keepOnDelete
    ? `keeps the copy of ${label} on ${a.exportDomain} (keepOnDelete)`
    : facts?.adoptedCopy
      ? `keeps the copy of ${label} on ${a.exportDomain} (adopted: this stack did not make it)`
      : `removes the copy of ${label} that this resource makes from ${a.exportDomain}${a.adopt ? " (a copy it adopts is kept)" : ""}`;
  if (a.kind !== "vm" || !a.shutdownIfRunning || (facts && !facts.shutsDown)) return [copy];
  return [
    copy,
    facts?.shutsDown
      ? `VM ${a.name} is running now: the export shuts it down, and destroy does not start it again`
      : `if the export shuts VM ${a.name} down (shutdownIfRunning), destroy does not start it again`,
    "(its migrated copy may be running): start it yourself when that is safe",
  ];
}

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = userInputs(olds);
  const n = userInputs(news);
  const oa = normalizeArgs(VmExportArgs, olds);
  const na = normalizeArgs(VmExportArgs, news);
  const replaces: string[] = [];
  // the same engine by another URL (alias, case, default port) is not another engine: no replace
  if (!(await sameEngineLive(oa.engine, na.engine, o.dataCenterId))) replaces.push("engine");
  for (const k of ["exportDomain", "kind"]) if (!jsonEqual(oa[k], na[k])) replaces.push(k);
  // a new name or data center that still means the recorded source (renamed out of band; dataCenter added to an
  // existing stack) is not a new export
  if ((!jsonEqual(oa.name, na.name) || !jsonEqual(oa.dataCenter, na.dataCenter)) && !(await stillTheSource(o, na))) {
    replaces.push(!jsonEqual(oa.name, na.name) ? "name" : "dataCenter");
  }
  const keys = ["engine", "exportDomain", "kind", "name", "dataCenter", "exclusive", "discardSnapshots", "shutdownIfRunning", "shutdownTimeoutSeconds", "keepOnDelete", "adopt", "timeoutMinutes", "batch"];
  const changed = keys.filter((k) => !jsonEqual(oa[k] ?? defaults[k], na[k] ?? defaults[k]));
  // delete first: the new resource must not take over a copy that the old one's delete then removes
  if (replaces.length > 0) return { changes: true, replaces, deleteBeforeReplace: true };
  // force override: re-export only when the source changed since the export (and the domain is still there)
  if (n.exclusive === true && o.sourceFingerprint && o.sourceId && n.engine && typeof n.engine === "object") {
    try {
      const parsed = EngineArgs.safeParse(n.engine);
      if (parsed.success) {
        const c = clientFor(parsed.data);
        const kind = (n.kind ?? "vm") as "vm" | "template";
        const src = kind === "vm" ? await c.vms.get(o.sourceId) : await c.templates.get(o.sourceId);
        if (src && o.dataCenterId && o.exportDomainId) {
          const att = await c.attachedStorageDomains.get(o.dataCenterId, o.exportDomainId);
          if (att?.status === "active") {
            const { fp } = await fingerprint(c, kind, src);
            if (fp !== o.sourceFingerprint) changed.push("sourceFingerprint");
          }
        }
      }
    } catch {
      // diff stays on the inputs when the engine cannot be read
    }
  }
  return { changes: changed.length > 0, replaces: [], stables: ["sourceId", "exportDomainId", "dataCenterId"] };
}

const defaults: Record<string, unknown> = { exclusive: false, discardSnapshots: false, shutdownIfRunning: false, shutdownTimeoutSeconds: 300, keepOnDelete: false, adopt: false };

/** Does (name, dataCenter) of the new inputs still resolve to the source recorded in the state? (reads only) */
async function stillTheSource(o: any, na: any): Promise<boolean> {
  if (!o.sourceId || containsUnknown(na)) return false;
  const parsed = EngineArgs.safeParse(na.engine);
  if (!parsed.success) return false;
  try {
    const c = clientFor(parsed.data);
    const kind = (na.kind ?? "vm") as "vm" | "template";
    const src = await findSource(c, engineKey(parsed.data), kind, na.name, na.dataCenter);
    return src.id === o.sourceId;
  } catch {
    return false;
  }
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = VmExportArgs.parse(userInputs(inputs));
  // tapPlan: the job percentages also feed the Migration line (provider/plan/live.ts)
  const progress = tapPlan(progressFor(inputs[PROGRESS_URN_KEY], `export ${args.name}`), inputs[PROGRESS_URN_KEY]);
  const outs = await run({ args, progress, urn: inputs[PROGRESS_URN_KEY] });
  return { id: `${outs.exportDomainId}:${args.kind}:${outs.sourceId}`, outs: { ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = VmExportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as VmExportOutputs;
  const progress = tapPlan(progressFor(news[PROGRESS_URN_KEY], `export ${args.name}`), news[PROGRESS_URN_KEY]);
  const collapseChanged = (prev.discardSnapshots ?? false) !== args.discardSnapshots;
  let needExport = collapseChanged;
  if (ownershipOf(prev) !== "created") {
    // an adopted copy is never overwritten
    if (collapseChanged || args.exclusive) progress.warn(`the copy of ${args.name} on ${args.exportDomain} was adopted (adopt: true); it is not exported again`);
    return { outs: { ...prev, ...args, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
  }
  if (!needExport && args.exclusive) {
    const c = clientFor(args.engine);
    const src = args.kind === "vm" ? await c.vms.get(prev.sourceId) : await c.templates.get(prev.sourceId);
    if (src) needExport = (await fingerprint(c, args.kind, src)).fp !== prev.sourceFingerprint;
  }
  if (!needExport) return { outs: { ...prev, ...args, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
  // the recorded source, by id (a same-named VM that appeared elsewhere since is not it)
  const outs = await run({ args: { ...args }, progress, force: true, urn: news[PROGRESS_URN_KEY], sourceId: prev.sourceId });
  // the stack shut the VM down for an earlier export of this resource: still true after a re-export
  if (prev.shutDownForExport) outs.shutDownForExport = true;
  return { outs: { ...outs, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as VmExportOutputs;
  const c = clientFor(p.engine);
  const sd = await c.storageDomains.get(p.exportDomainId);
  // domain handed to another engine, or unattached: the copy cannot be listed; keep what we know
  if (!sd || ((sd.data_centers ?? []).length === 0 && !sd.data_center)) return { id, props };
  // the engine reads an export domain's contents only while it is active in a data center
  // (GetAllFromExportDomainQuery): in maintenance or moving, keep what we know rather than fail the refresh
  const dcIds = [...(sd.data_centers ?? []).map((d) => d.id), sd.data_center?.id].filter((x): x is string => !!x);
  const statuses = await Promise.all(dcIds.map((dc) => c.attachedStorageDomains.get(dc, sd.id).then((a) => a?.status).catch(() => undefined)));
  if (!statuses.includes("active")) return { id, props };
  try {
    const copy = await c.exportContent(p.kind ?? "vm").get(p.exportDomainId, p.sourceId);
    if (!copy) return {};
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return {};
    if (e instanceof EngineError && /cannot be reached/i.test(engineText(e))) return { id, props };
    throw e;
  }
  return { id, props };
}

/**
 * Destroy removes the copy this resource made (unless `keepOnDelete`; an adopted copy is kept), and never starts the
 * source again: a VM this stack shut down for its export (`shutDownForExport`) stays down, because its migrated copy
 * may be running (two instances of one service, same addresses). The line naming it says so.
 */
async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as VmExportOutputs;
  const label = `${(p.kind ?? "vm") === "vm" ? "VM" : "template"} ${p.name}`;
  const progress = progressFor(props[PROGRESS_URN_KEY], `export ${p.name}`);
  if (p.shutDownForExport) {
    progress.info(
      `VM ${p.name} (id ${p.sourceId}) was shut down by this stack for its export and stays down: destroy never starts a ` +
        `source VM, because its migrated copy may be running. Start it yourself once that is safe.`,
    );
  }
  if (p.keepOnDelete) {
    progress.info(`keepOnDelete: the copy of ${label} stays on ${p.exportDomain}`);
    return;
  }
  // only a copy this resource made is removed; an adopted one stays (ownership.ts)
  if (!mayRemove(p)) {
    progress.info(`the copy of ${p.name} on ${p.exportDomain} was adopted; it stays`);
    return;
  }
  const c = clientFor(p.engine);
  const sd = await c.storageDomains.get(p.exportDomainId);
  const attached = sd && ((sd.data_centers ?? []).length > 0 || sd.data_center);
  if (!attached) {
    progress.warn(`export domain ${p.exportDomain} is not attached in ${p.engine.url}; the copy of ${p.name} stays on it`);
    return;
  }
  const content = c.exportContent(p.kind ?? "vm");
  try {
    await content.remove(p.exportDomainId, p.sourceId);
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) {
      progress.info(`the copy of ${label} is no longer on ${p.exportDomain}`);
      return;
    }
    if (e instanceof EngineError && (e.status === 409 || e.status === 400) && /status|not active|inactive|maintenance|cannot be reached/i.test(engineText(e))) {
      progress.warn(`cannot remove the copy of ${p.name}: ${engineText(e)}; it stays on ${p.exportDomain}`);
      return;
    }
    throw e;
  }
  await poll(
    async () => ((await content.get(p.exportDomainId, p.sourceId)) ? { done: false } : { done: true, value: true }),
    { what: `removal of ${p.name} from ${p.exportDomain}`, deadline: Date.now() + 10 * 60_000 },
  );
  progress.info(`removed the copy of ${label} from ${p.exportDomain}`);
}

export const vmExportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
