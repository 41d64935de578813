/**
 * Computes a migration plan from a `PlanSpec` by reading the engines (GET only: a preview sends no mutating request).
 *
 * Reads (shared with the resources' checks through `cachedRead` and the batched name/id searches of reads.ts, so a
 * preview of N VMs costs a few requests more than the checks alone): data centers, clusters, storage domains (with
 * free space and `critical_space_action_blocker`), the migration's VMs by name in both engines (disks and snapshots
 * followed), the templates, the export domain's listing, the engines' import/export events (throughput; and the
 * proof that an entity in the target was imported by this stack, ownership.ts's rule).
 *
 * Sizing follows the engine's own space validation (bll `StorageDomainValidator`, `ImagesHandler.getTotalActualSizeOfDisk`,
 * `StorageConstants.QCOW_OVERHEAD_FACTOR` = 1.1): an export or import that collapses snapshots ("copy collapse":
 * `ExportVmCommand`/`MoveOrCopyTemplateCommand.validateSpaceRequirements`, `ImportValidator.validateSpaceRequirements`)
 * needs the cloned size (sparse on a file domain or COW on a block domain: min(virtual size, actual size with
 * snapshots); else the virtual size; COW x 1.1); without collapse every volume is copied (COW or sparse on file:
 * actual size with snapshots; else the virtual size; COW x 1.1). The plan adds up what lands on each domain over the
 * whole move (the engine checks each command alone, against the space left by the ones before it).
 */
import { z } from "zod";
import type { OvirtClient, Vm, Template, Disk, StorageDomain, Cluster, DataCenter, Event } from "../client";
import { zNum, BLANK_TEMPLATE_ID, StorageDomain as zStorageDomain } from "../client/types";
import { cachedRead, clientFor, connectionFailure, engineIdentity } from "../resources/common";
import { vmsNamed, followedDisks, exportContents, engineKey } from "../operations/reads";
import { resourceCorrelationId } from "../resources/ownership";
import { mixedArchitectures } from "../operations/rules";
import { PlanSpec, PlanEntitySpec, Plan, PlanEntity, PlanDisk, PlanPhase, PlanSpace, Throughput, MiB, GiB, childName, planHeader, formatBytes, formatDuration } from "./model";

const QCOW_OVERHEAD_FACTOR = 1.1;
const TTL = 10_000;
/** Storage types of file domains (StorageType.isFileDomain); the others (iscsi, fcp) are block domains. */
const FILE_TYPES = new Set(["nfs", "posixfs", "glusterfs", "localfs"]);
/** Export domain events the throughput is measured from (AuditLogType): start -> end of the same correlation id. */
const STARTS = { export: [1162, 1164], import: [1165, 1163] };
const ENDS = { export: [1150, 1156], import: [1152, 1158] };

const PlanStorageDomain = zStorageDomain.extend({ critical_space_action_blocker: zNum.optional() });
type PlanStorageDomain = z.infer<typeof PlanStorageDomain>;

export interface Side {
  c: OvirtClient;
  key: string;
  url: string;
  dcs: DataCenter[];
  clusters: Cluster[];
  sds: PlanStorageDomain[];
  templates: Template[];
  dc?: DataCenter;
}

/** One engine's identity listings (cached like the checks' reads), and the data center named `dcName` in it. */
export async function side(engine: PlanSpec["engine"], dcName: string): Promise<Side> {
  const c = clientFor(engine);
  const key = engineKey(engine);
  const [dcs, clusters, sds, templates] = await Promise.all([
    cachedRead(`${key}|dcs`, TTL, () => c.datacenters.list()),
    cachedRead(`${key}|clusters`, TTL, () => c.clusters.list()),
    // the resources' `${key}|sds` read lacks the space blocker: one listing of our own
    cachedRead(`${key}|plan-sds`, TTL, () => c.http.list("/storagedomains", "storage_domains", "storage_domain", PlanStorageDomain)),
    cachedRead(`${key}|templates`, TTL, () => c.templates.list()),
  ]);
  return { c, key, url: engine.url, dcs, clusters, sds, templates, dc: dcs.find((d) => d.name === dcName) };
}

const dcOfCluster = (s: Side, id?: string) => s.clusters.find((c) => c.id === id)?.data_center?.id;

/** Bytes a copy reads and writes: the allocated data (with snapshots unless collapsed), at most the virtual size when collapsed. */
function copyBytes(d: Disk, collapse: boolean): number {
  const prov = d.provisioned_size ?? 0;
  const withSnaps = d.total_size ?? d.actual_size ?? prov;
  const allocated = d.sparse || d.format === "cow" ? withSnaps : prov;
  return collapse ? Math.min(prov, allocated) : allocated;
}

/** Space a copy takes on its destination domain (StorageDomainValidator, see the header). */
function spaceFor(d: Disk, collapse: boolean, fileDomain: boolean): number {
  const prov = d.provisioned_size ?? 0;
  const withSnaps = d.total_size ?? d.actual_size ?? prov;
  let size: number;
  if (collapse) {
    size = (fileDomain && d.sparse) || (!fileDomain && d.format === "cow") ? Math.min(prov, withSnaps) : prov;
  } else {
    size = (fileDomain && d.sparse) || d.format === "cow" ? withSnaps : prov;
  }
  return d.format === "cow" ? Math.ceil(QCOW_OVERHEAD_FACTOR * size) : size;
}

const isFile = (sd?: PlanStorageDomain) => !sd?.storage?.type || FILE_TYPES.has(String(sd.storage.type).toLowerCase());

/** The engine's event search in chunks of `n` (`a or b or ...`), newest first. */
async function eventsOr(c: OvirtClient, terms: string[], n = 25, max?: number): Promise<Event[]> {
  const out: Event[] = [];
  for (let i = 0; i < terms.length; i += n) out.push(...(await c.events.list({ search: terms.slice(i, i + n).join(" or "), max })));
  return out;
}

/**
 * The copy throughput: declared, else measured from the engine's recent export/import events (start and end of the
 * same correlation id; sizes of the entities they name): total bytes over the wall time during which at least one
 * of those copies ran (copies on shared storage share its throughput).
 */
async function measureThroughput(spec: PlanSpec, sides: Side[]): Promise<Throughput> {
  if (spec.throughputMiBps) return { bytesPerSecond: spec.throughputMiBps * MiB, basis: `declared: throughputMiBps ${spec.throughputMiBps}` };
  const samples: Array<{ start: number; end: number; bytes: number }> = [];
  // one engine read once (within one engine the source and target sides are the same engine)
  for (const s of [...new Map(sides.map((x) => [x.key, x])).values()]) {
    const codes = [...STARTS.export, ...STARTS.import, ...ENDS.export, ...ENDS.import];
    let events: Event[];
    try {
      events = await cachedRead(`${s.key}|plan-events`, TTL, () => eventsOr(s.c, codes.map((x) => `type=${x}`), 25, 400));
    } catch {
      continue;
    }
    const starts = new Map<string, Event>();
    for (const e of events) if (e.correlation_id && [...STARTS.export, ...STARTS.import].includes(e.code ?? -1)) starts.set(`${e.correlation_id}|${e.vm?.id ?? e.template?.id}`, e);
    const done = events.filter((e) => e.correlation_id && [...ENDS.export, ...ENDS.import].includes(e.code ?? -1)).slice(0, 40);
    const vmIds = [...new Set(done.map((e) => e.vm?.id).filter((x): x is string => !!x))];
    const vms = new Map<string, Vm>();
    for (let i = 0; i < vmIds.length; i += 40) {
      const chunk = vmIds.slice(i, i + 40);
      for (const v of await s.c.vms.list(chunk.map((id) => `id=${id}`).join(" or "), "disk_attachments.disk").catch(() => [] as Vm[])) vms.set(v.id, v);
    }
    for (const e of done) {
      const st = starts.get(`${e.correlation_id}|${e.vm?.id ?? e.template?.id}`);
      const vm = e.vm?.id ? vms.get(e.vm.id) : undefined;
      if (!st || !vm || !st.time || !e.time) continue;
      const bytes = (followedDisks(vm) ?? []).reduce((a, d) => a + copyBytes(d, false), 0);
      const [t0, t1] = [Date.parse(st.time), Date.parse(e.time)];
      if (bytes > 0 && t1 > t0) samples.push({ start: t0, end: t1, bytes });
    }
  }
  if (samples.length === 0) {
    return { basis: "no estimate: the engines list no finished export or import with a known size; declare throughputMiBps" };
  }
  samples.sort((a, b) => a.start - b.start);
  let wall = 0;
  let [cs, ce] = [samples[0].start, samples[0].end];
  for (const x of samples.slice(1)) {
    if (x.start > ce) {
      wall += ce - cs;
      [cs, ce] = [x.start, x.end];
    } else ce = Math.max(ce, x.end);
  }
  wall += ce - cs;
  const bytes = samples.reduce((a, x) => a + x.bytes, 0);
  const bps = bytes / Math.max(wall / 1000, 0.001);
  return {
    bytesPerSecond: bps,
    basis: `measured: ${samples.length} recent export/import job${samples.length > 1 ? "s" : ""}, ${formatBytes(bytes)} in ${formatDuration(wall / 1000)} of copying (${(bps / MiB).toFixed(1)} MiB/s)`,
  };
}

/** Builds the plan. Reads only; connection failures are thrown (the caller reports them under `engine.*`). */
export async function computePlan(spec: PlanSpec, opts: { importUrn?: (kind: string, name: string) => string | undefined } = {}): Promise<Plan> {
  // method "data-domain" has its own plan (dataDomain.ts); the caller picks it, and sdk/migration.ts names the domain
  if (!spec.exportDomain) throw new Error("exportDomain: the export-domain plan needs the export domain's name");
  const crossEngine = spec.crossEngine && !!spec.targetEngine;
  const src = await side(spec.engine, spec.source.dataCenter);
  const tgt = crossEngine ? await side(spec.targetEngine!, spec.target.dataCenter) : { ...src, dc: src.dcs.find((d) => d.name === spec.target.dataCenter) };
  const notes: string[] = [];
  const risks: string[] = [];
  const failures: Plan["failures"] = [];
  if (!src.dc) failures.push({ property: "source.dataCenter", reason: `source.dataCenter: no data center ${spec.source.dataCenter} in ${src.url}` });
  if (!tgt.dc) failures.push({ property: "target.dataCenter", reason: `target.dataCenter: no data center ${spec.target.dataCenter} in ${tgt.url}` });

  // the export domain: where it is now, what it holds
  const expSd = src.sds.find((d) => d.name === spec.exportDomain && d.type === "export") ?? (crossEngine ? tgt.sds.find((d) => d.name === spec.exportDomain && d.type === "export") : undefined);
  let exportDomainState = "not found";
  const onDomain = { vm: new Set<string>(), template: new Set<string>() };
  const copiesOnDomain = new Map<string, Vm>();
  if (expSd) {
    const where = expSd.data_centers?.[0]?.id;
    const dcName = [...src.dcs, ...tgt.dcs].find((d) => d.id === where)?.name;
    exportDomainState = where ? `attached to ${dcName ?? where}` : "not attached";
    for (const kind of ["vm", "template"] as const) {
      const holder = src.sds.includes(expSd) ? src : tgt;
      const listing = await exportContents<Vm | Template>(holder.c, holder.key, kind, expSd);
      if (listing.unreadable) notes.push(`${listing.unreadable} (copies already there are not counted)`);
      for (const x of listing.items) {
        onDomain[kind].add(x.name);
        if (kind === "vm") copiesOnDomain.set(x.name, x as Vm);
      }
    }
  } else {
    notes.push(`export domain ${spec.exportDomain} is not in ${src.url}${crossEngine ? ` nor in ${tgt.url}` : ""}; its free space is unknown`);
  }

  // the sources: VMs by name (batched searches with disks and snapshots), templates from the listing
  const vmSpecs = spec.entities.filter((e) => e.kind === "vm");
  const tplSpecs = spec.entities.filter((e) => e.kind === "template");
  const srcVms = new Map<string, Vm | undefined>();
  await Promise.all(
    vmSpecs.map(async (e) => srcVms.set(e.name, (await vmsNamed(src.c, e.name)).find((v) => dcOfCluster(src, v.cluster?.id) === src.dc?.id))),
  );
  // the migration's VMs are one batch (more than one VM): one CPU architecture, checked here once for the whole
  // batch (a check per export/import resource would read every member for every VM: O(N^2) at preview)
  if (vmSpecs.length > 1) {
    const archs = vmSpecs.flatMap((e) => {
      const v = srcVms.get(e.name) ?? copiesOnDomain.get(e.name);
      if (!v) return [];
      const own = v.cpu?.architecture && v.cpu.architecture !== "undefined" ? v.cpu.architecture : undefined;
      return [{ name: e.name, arch: own ?? src.clusters.find((cl) => cl.id === v.cluster?.id)?.cpu?.architecture }];
    });
    const mixed = mixedArchitectures(archs);
    if (mixed) {
      failures.push({
        property: "vms",
        reason: `vms: batch "${spec.name}" mixes CPU architectures: ${mixed}. One import batch must share one architecture; split the migration into one per architecture.`,
      });
    }
  }
  const tplInDc = (s: Side, name: string) => s.templates.find((t) => t.name === name && t.id !== BLANK_TEMPLATE_ID && dcOfCluster(s, t.cluster?.id) === s.dc?.id);
  const srcTplDisks = new Map<string, Disk[]>();
  await Promise.all(
    tplSpecs.map(async (e) => {
      const t = tplInDc(src, e.name);
      if (t) srcTplDisks.set(e.name, await cachedRead(`${src.key}|tpl-disks|${t.id}`, TTL, () => src.c.templates.disks(t.id)));
    }),
  );
  const travelling = new Set(tplSpecs.filter((t) => t.imported && spec.stage !== "export").map((t) => t.name));

  // the target: entities by name in the target data center (conflicts), and by id across engines
  const cloneNames = (e: PlanEntitySpec) => (e.newName ? [e.newName] : e.cloneSuffix ? [e.name + e.cloneSuffix] : [`${e.name}-clone`]);
  const tgtNamed = new Map<string, Array<Vm | Template>>();
  const namesToRead = new Set<string>();
  for (const e of vmSpecs) if (e.imported) for (const n of [e.name, ...cloneNames(e)]) namesToRead.add(n);
  await Promise.all(
    [...namesToRead].map(async (n) => tgtNamed.set(n, (await vmsNamed(tgt.c, n)).filter((v) => dcOfCluster(tgt, v.cluster?.id) === tgt.dc?.id))),
  );
  const tgtTplNamed = (n: string) => (tgt.templates.filter((t) => t.name === n && dcOfCluster(tgt, t.cluster?.id) === tgt.dc?.id) as Array<Vm | Template>);
  const sameIdInTarget = new Set<string>();
  if (crossEngine) {
    const ids = [...srcVms.values()].filter((v): v is Vm => !!v).map((v) => v.id);
    for (let i = 0; i < ids.length; i += 40) {
      for (const v of await tgt.c.vms.list(ids.slice(i, i + 40).map((id) => `id=${id}`).join(" or "))) sameIdInTarget.add(v.id);
    }
    for (const t of tplSpecs) {
      const st = tplInDc(src, t.name);
      if (st && tgt.templates.some((x) => x.id === st.id)) sameIdInTarget.add(st.id);
    }
  }

  // an entity of the target name in the target data center may be this stack's own earlier import: the audit log
  // names it with the import resource's correlation id (ownership.ts). One batched event search for all of them.
  const tgtCluster = (e: PlanEntitySpec) => tgt.clusters.find((c) => c.name === (e.cluster ?? spec.target.cluster) && c.data_center?.id === tgt.dc?.id);
  const oursCandidates: Array<{ cid: string; id: string; key: string; name: string }> = [];
  const srcOf = (e: PlanEntitySpec): { id: string } | undefined => (e.kind === "vm" ? srcVms.get(e.name) : tplInDc(src, e.name));
  for (const e of spec.entities) {
    const s = srcOf(e);
    const cl = tgtCluster(e);
    const urn = opts.importUrn?.(e.kind, e.name);
    if (!s || !cl || !expSd || !urn || !e.imported) continue;
    for (const n of [e.name, ...cloneNames(e)]) {
      for (const there of (e.kind === "vm" ? tgtNamed.get(n) : tgtTplNamed(n)) ?? []) {
        oursCandidates.push({ cid: resourceCorrelationId(urn, "import", expSd.id, s.id, n, cl.id), id: there.id, key: `${e.kind}:${e.name}`, name: n });
      }
    }
  }
  const ours = new Map<string, string>();
  if (oursCandidates.length) {
    const events = await eventsOr(tgt.c, [...new Set(oursCandidates.map((o) => `correlation_id=${o.cid}`))]).catch(() => [] as Event[]);
    for (const o of oursCandidates) {
      if (events.some((ev) => ev.correlation_id === o.cid && [ev.vm?.id, ev.template?.id].some((x) => x && x.toLowerCase() === o.id.toLowerCase()))) ours.set(o.key, o.name);
    }
  }

  const entities: PlanEntity[] = [];
  for (const e of spec.entities) {
    const isVm = e.kind === "vm";
    const source = isVm ? srcVms.get(e.name) : tplInDc(src, e.name);
    const disksRaw: Disk[] = isVm ? (source ? followedDisks(source as Vm) ?? [] : []) : srcTplDisks.get(e.name) ?? [];
    const vm = isVm ? (source as Vm | undefined) : undefined;
    const snapshots = (vm?.snapshots ?? []).filter((s) => s.snapshot_type !== "active").length;
    const importing = e.imported && spec.stage !== "export";
    const cluster = e.cluster ?? spec.target.cluster;
    const sdName = e.storageDomain ?? spec.target.storageDomain;

    // name in the target and the conflict outcome (VmImport's rules: same id anywhere in the engine, or same name in
    // the target data center; within one engine the source itself has the copy's id, so every import is a clone)
    const namedThere = (isVm ? tgtNamed.get(e.name) : tgtTplNamed(e.name)) ?? [];
    const nameTaken = namedThere.length > 0;
    const sameId = !crossEngine ? !!source : !!source && sameIdInTarget.has(source.id);
    let outcome: PlanEntity["outcome"] = importing ? "import" : "none";
    let targetName = e.name;
    let why: string | undefined;
    const onConflict = e.onConflict ?? (crossEngine ? "fail" : "clone");
    const oursName = ours.get(`${e.kind}:${e.name}`);
    if (importing && oursName) {
      outcome = "done";
      targetName = oursName;
      why = "imported by an earlier run of this stack";
    } else if (importing && (sameId || nameTaken)) {
      const what = nameTaken ? `${e.name} exists in ${spec.target.dataCenter}` : crossEngine ? "its id exists in the target engine" : "the source keeps its id in this engine";
      if (onConflict === "skip") {
        outcome = "skip";
        why = `${what} (onConflict: skip)`;
      } else if (onConflict === "fail") {
        outcome = "conflict";
        why = `${what} (onConflict: fail)`;
      } else {
        outcome = "clone";
        targetName = e.newName ?? (e.cloneSuffix ? e.name + e.cloneSuffix : nameTaken ? `${e.name}-clone` : e.name);
        why = nameTaken ? `${what}: renamed` : what;
      }
    }
    const allocation = (e.diskDomains ?? []).some((d) => d.allocation);
    const importCollapse = isVm && (outcome === "clone" || !!e.collapseSnapshots || allocation);
    const exportCollapse = isVm && !!e.discardSnapshots;
    const collapsed = exportCollapse || importCollapse;

    // template dependency of a thin VM
    let template: PlanEntity["template"];
    const tid = vm?.template?.id;
    if (vm && tid && tid !== BLANK_TEMPLATE_ID) {
      const tname = src.templates.find((t) => t.id === tid)?.name ?? tid;
      const travels = travelling.has(tname);
      const inTarget = tgtTplNamed(tname).length > 0;
      template = { name: tname, travels, inTarget, needed: importing && !collapsed && outcome !== "done" && outcome !== "skip" };
      if (template.needed && !travels && !inTarget) {
        risks.push(`VM ${e.name} is thin on template ${tname}, which is neither in ${spec.target.dataCenter} nor moved by this migration: its import fails (list the template, or collapse the VM)`);
      }
    }

    const tgtSd = (n?: string) => tgt.sds.find((d) => d.name === n);
    const disks: PlanDisk[] = disksRaw.map((d, i) => {
      const m = (e.diskDomains ?? []).find((x, j) => (x.alias ? x.alias === d.alias : j === i));
      return { alias: d.alias ?? d.id, provisioned: d.provisioned_size ?? 0, actual: d.actual_size ?? 0, format: d.format, sparse: d.sparse, storageDomain: m?.storageDomain ?? sdName };
    });
    const onExp = onDomain[e.kind].has(e.name);
    // an entity this stack already imported was exported by it too: nothing is copied again
    const exporting = e.exported && !!source && outcome !== "done";
    const copying = importing && outcome !== "done" && outcome !== "skip" && outcome !== "conflict";
    const exportBytes = exporting ? disksRaw.reduce((a, d) => a + copyBytes(d, exportCollapse), 0) : 0;
    const importBytes = copying ? disksRaw.reduce((a, d) => a + copyBytes(d, collapsed), 0) : 0;
    const exportSpace = exporting && !onExp ? disksRaw.reduce((a, d) => a + spaceFor(d, exportCollapse, true), 0) : 0;
    const importSpace: Record<string, number> = {};
    if (copying) {
      disksRaw.forEach((d, i) => {
        const dom = disks[i].storageDomain ?? "?";
        importSpace[dom] = (importSpace[dom] ?? 0) + spaceFor(d, collapsed, isFile(tgtSd(dom)));
      });
    }
    let shutdown: PlanEntity["shutdown"];
    if (vm && e.exported && vm.status && vm.status !== "down") {
      shutdown = e.shutdownIfRunning ? "will be shut down" : "running: export refused";
      risks.push(
        e.shutdownIfRunning
          ? `VM ${e.name} is ${vm.status}: it is shut down for the export (ACPI, then power-off after the grace) and stays down`
          : `VM ${e.name} is ${vm.status}: the export is refused unless it is shut down first or shutdownIfRunning is set`,
      );
    }
    if (isVm && snapshots > 0 && collapsed && outcome !== "done") {
      risks.push(`VM ${e.name} loses its ${snapshots} snapshot${snapshots > 1 ? "s" : ""}: collapsed on ${exportCollapse ? "export (discardSnapshots)" : outcome === "clone" ? "import (a clone always collapses)" : "import"}`);
    }
    // with its reason: the imports of a Migration leave this line to the plan (vmImport/check.ts inMigration)
    if (isVm && outcome === "clone") risks.push(`VM ${e.name} arrives as a clone named ${targetName}: new id, new MAC addresses${template ? ", template link dropped" : ""}${why ? ` (${why})` : ""}`);
    if (outcome === "conflict") risks.push(`${e.kind} ${e.name}: ${why}: its import fails; set onConflict "clone" or "skip"`);
    if (!source) notes.push(`${e.kind} ${e.name} is not in ${spec.source.dataCenter} (${src.url})${onExp ? "; its copy on the export domain is used" : ""}`);

    entities.push({
      kind: e.kind,
      name: e.name,
      found: !!source,
      status: vm?.status,
      exported: exporting,
      exportDeclared: e.exported,
      imported: importing,
      onExportDomain: onExp,
      outcome,
      targetName,
      why,
      cluster: importing ? cluster : undefined,
      storageDomain: importing ? sdName : undefined,
      disks,
      snapshots,
      collapsed,
      collapsedWhere: exportCollapse ? "export" : importCollapse ? "import" : undefined,
      template,
      shutdown,
      permissions: importing ? (e.permissions ?? []).map((p) => `${p.role} for ${p.user ?? `group ${p.group}`}`) : [],
      exportBytes,
      importBytes,
      exportSpace,
      importSpace,
    });
  }
  const notYet = entities.filter((x) => x.imported && x.found && !x.onExportDomain && x.outcome !== "done").map((x) => x.name);
  if (notYet.length) {
    notes.push(`not on export domain ${spec.exportDomain} yet (exported by this migration first): ${notYet.join(", ")}; the imports are checked against the sources until then`);
  }
  if (crossEngine) risks.push(`cross-engine move: export domain ${spec.exportDomain} leaves ${src.url} (detached and removed without format) and is imported into ${tgt.url}`);

  // space: the export domain and each target domain against what lands there
  const space: PlanSpace[] = [];
  const fitCheck = (sd: PlanStorageDomain | undefined, name: string, role: PlanSpace["role"], needed: number, property: string) => {
    if (needed <= 0) return;
    const available = sd?.available;
    const fits = available === undefined || available >= needed;
    space.push({ domain: name, role, available, needed, blockerGiB: sd?.critical_space_action_blocker, fits });
    if (!sd) notes.push(`${role} ${name} is not found in the ${role === "target" ? "target" : "source"} engine; its free space is unknown`);
    if (!fits) {
      failures.push({
        property,
        reason:
          `${property}: ${role} ${name} cannot hold this migration: it needs ${formatBytes(needed)} and has ${formatBytes(available!)} free ` +
          `(short by ${formatBytes(needed - available!)}). Free space on ${name}, ${role === "target" ? "choose another storage domain" : "use a larger export domain"}, or move fewer VMs at once (stage the migration).`,
      });
    } else if (available !== undefined && sd?.critical_space_action_blocker !== undefined && available - needed < sd.critical_space_action_blocker * GiB) {
      risks.push(
        `${role} ${name} would keep ${formatBytes(available - needed)} free, under its critical space blocker of ${sd.critical_space_action_blocker} GiB: the engine refuses the last copies`,
      );
    }
  };
  fitCheck(expSd, spec.exportDomain, "export domain", entities.reduce((a, x) => a + x.exportSpace, 0), "exportDomain");
  const perTarget = new Map<string, number>();
  for (const x of entities) for (const [d, n] of Object.entries(x.importSpace)) perTarget.set(d, (perTarget.get(d) ?? 0) + n);
  for (const [d, n] of perTarget) fitCheck(tgt.sds.find((s) => s.name === d), d, "target", n, spec.target.storageDomain === d ? "target.storageDomain" : "vms");

  // phases and the estimate
  const throughput = await measureThroughput(spec, [src, tgt]);
  const secs = (bytes: number) => (throughput.bytesPerSecond ? bytes / throughput.bytesPerSecond : undefined);
  const exported = entities.filter((x) => x.exported);
  const tImports = entities.filter((x) => x.kind === "template" && x.imported && x.importBytes > 0);
  const vImports = entities.filter((x) => x.kind === "vm" && x.imported && x.importBytes > 0);
  const sum = (xs: PlanEntity[], f: (x: PlanEntity) => number) => xs.reduce((a, x) => a + f(x), 0);
  const waves = Math.ceil(exported.length / spec.concurrency);
  const phases: PlanPhase[] = [
    { key: "attach", title: `attach ${spec.exportDomain} in ${spec.source.dataCenter}`, entities: 1, bytes: 0, parallel: exportDomainState },
    {
      key: "export",
      title: "export templates, then VMs",
      entities: exported.length,
      bytes: sum(exported, (x) => x.exportBytes),
      parallel: exported.length ? `${waves} wave${waves > 1 ? "s" : ""} of at most ${spec.concurrency} (concurrency)` : "nothing to export",
      seconds: secs(sum(exported, (x) => x.exportBytes)),
    },
  ];
  if (spec.stage !== "export") {
    phases.push(
      { key: "move", title: `move ${spec.exportDomain} to ${spec.target.dataCenter}${crossEngine ? " (another engine)" : ""}`, entities: 1, bytes: 0, parallel: "after every export" },
      { key: "templates", title: "import templates", entities: tImports.length, bytes: sum(tImports, (x) => x.importBytes), parallel: "all at once", seconds: secs(sum(tImports, (x) => x.importBytes)) },
      { key: "vms", title: "import VMs", entities: vImports.length, bytes: sum(vImports, (x) => x.importBytes), parallel: "all at once, after the templates", seconds: secs(sum(vImports, (x) => x.importBytes)) },
      { key: "permissions", title: "re-apply permissions", entities: entities.filter((x) => x.permissions.length && x.importBytes > 0).length, bytes: 0, parallel: "with each import" },
    );
  }
  const copySecs = phases.map((p) => p.seconds).filter((s): s is number => s !== undefined);
  const totals = { entities: entities.filter((x) => x.exported || (x.imported && x.importBytes > 0)).length, exportBytes: sum(entities, (x) => x.exportBytes), importBytes: sum(entities, (x) => x.importBytes) };
  return {
    ...planHeader(spec, src.url, tgt.url, crossEngine),
    exportDomain: spec.exportDomain,
    exportDomainState,
    stage: spec.stage,
    concurrency: spec.concurrency,
    entities,
    phases,
    space,
    throughput,
    totalSeconds: throughput.bytesPerSecond ? copySecs.reduce((a, s) => a + s, 0) : undefined,
    totals,
    risks,
    notes,
    failures,
  };
}

/** Connection failures of the plan's reads, as check failures (`engine.*` / `targetEngine.*`). */
export function planConnectionFailure(e: unknown, target: boolean): { property: string; reason: string } | undefined {
  const f = connectionFailure(e);
  if (!f) return undefined;
  return target ? { property: f.property.replace(/^engine/, "targetEngine"), reason: f.reason } : f;
}

export { engineIdentity, childName };
