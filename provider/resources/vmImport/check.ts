/** VmImport's `check` (preview): arguments, where the copy is read (`copyView.ts`), the target, conflicts, templates, MACs, permissions; reads only. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Cluster, StorageDomain } from "../../client";
import { CheckFailure, PROGRESS_URN_KEY, cachedRead, clientFor, connectionFailure, jsonEqual, sameEngine, sameEngineProbe, checkConnectionChange, suggest, userInputs, validate } from "../common";
import { Progress, progressFor } from "../../progress";
import { checkPermissions } from "../../operations/permissions";
import { batchFailures, unknownCpuProfile } from "../../operations/rules";
import { adoptionNote, createdBy } from "../ownership";
import { previewMacConflict } from "./macConflicts";
import { exportContents } from "../../operations/reads";
import { Entity, allocationCollapses, importCorrelationId, allocationIndex, dcOfCluster, targetName, templateAllocationFailures, templateProblem, wrongDataCenter } from "./target";
import { CLONE_NOTE, COLLAPSE_IMPLIED_KEY, VmImportArgs } from "./args";
import { CopyView, copyView } from "./copyView";

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  // collapseSnapshots turned on by an earlier check (a clone): the user's own value was false
  if (prev && olds[COLLAPSE_IMPLIED_KEY] === true) prev.collapseSnapshots = false;
  const unchanged = await onlyInPlaceFieldsChanged(prev, news);
  if (hasUnknowns || unchanged) {
    await checkKnownOrInPlace(args, prev, hasUnknowns, fs);
    return { inputs: news, failures: [...failures, ...fs] };
  }
  const urn = news[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `import ${args.name}`);
  let implied = false;
  // what the engine would ignore is refused before anything is read
  fs.push(...templateAllocationFailures(args));
  try {
    implied = await checkAgainstEngine(args, urn, progress, fs);
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  // the preview shows what will happen: a clone's snapshots are collapsed (create decides again: COLLAPSE_IMPLIED_KEY)
  const inputs = implied ? { ...news, collapseSnapshots: true, [COLLAPSE_IMPLIED_KEY]: true } : news;
  return { inputs, failures: [...failures, ...fs] };
}

/** The fields that change in place (and the preview-only `expectExportDomain`): any other change is a new import. */
const IN_PLACE = {
  permissions: undefined,
  cpuProfile: undefined,
  engine: undefined,
  adopt: undefined,
  keepOnDelete: undefined,
  timeoutMinutes: undefined,
  // what the stack does before the import: read by the preview only, never a change of the import
  expectExportDomain: undefined,
};

/** A resource in the state whose import identity is unchanged, on the same engine (probed when its URL changed). */
async function onlyInPlaceFieldsChanged(prev: any, news: any): Promise<boolean> {
  return !!(prev && jsonEqual({ ...prev, ...IN_PLACE }, { ...userInputs(news), ...IN_PLACE }) && (await sameEngineProbe(prev.engine, userInputs(news).engine)));
}

/** Unknown values (a preview before their producers run), or only in-place fields changed: check what can be checked. */
async function checkKnownOrInPlace(args: VmImportArgs, prev: any, hasUnknowns: boolean, fs: CheckFailure[]): Promise<void> {
  // what the engine would ignore (known values only)
  if (hasUnknowns) fs.push(...templateAllocationFailures(args));
  // only the in-place fields (and the connection) can have changed: validate those
  if (!hasUnknowns && prev) {
    await checkConnectionChange(prev.engine, args.engine, fs);
    if (fs.length === 0) await checkPermissionsAndProfile(args, fs);
  }
}

/** What `check` reads of the target engine once, and the export domain's whereabouts. */
interface CheckScope {
  c: OvirtClient;
  key: string;
  args: VmImportArgs;
  clusters: Cluster[];
  cluster?: Cluster;
  /** the data center of the target cluster */
  dcId?: string;
  sds: StorageDomain[];
  exp: VmImportArgs["expectExportDomain"];
  /** the export domain comes from another engine (expectExportDomain.engine) */
  otherEngine: boolean;
  exportSd?: StorageDomain;
}

/** The target, the export domain, permissions and profile, then the copy (conflicts, template, MACs) and the batch. Answers whether the preview implies collapseSnapshots. */
async function checkAgainstEngine(args: VmImportArgs, urn: string | undefined, progress: Progress, fs: CheckFailure[]): Promise<boolean> {
  const c = clientFor(args.engine);
  const key = `${args.engine.url}|${args.engine.username}`;
  const clusters = await cachedRead(`${key}|clusters`, 10_000, () => c.clusters.list());
  const cluster = clusters.find((x) => x.name === args.cluster);
  const sds = await cachedRead(`${key}|sds`, 10_000, () => c.storageDomains.list());
  if (!cluster) {
    fs.push({ property: "cluster", reason: `cluster: cluster "${args.cluster}" does not exist in engine ${args.engine.url}.${suggest(args.cluster, clusters.map((x) => x.name))}` });
  }
  const exp = args.expectExportDomain;
  const s: CheckScope = {
    c, key, args, clusters, cluster, dcId: cluster?.data_center?.id, sds, exp,
    otherEngine: !!exp?.engine && !sameEngine(exp.engine, args.engine),
    exportSd: sds.find((d) => d.name === args.exportDomain),
  };
  await checkStorageDomain(s, args.storageDomain, "storageDomain", fs);
  for (const [i, d] of (args.disks ?? []).entries()) if (d.storageDomain) await checkStorageDomain(s, d.storageDomain, `disks[${i}].storageDomain`, fs);
  checkExportDomain(s, fs);
  await checkPermissionsAndProfile(args, fs, cluster);
  const { exportSd, otherEngine, dcId } = s;
  let implied = false;
  // the copy: on the domain already, or where the domain is now, or (not exported yet) the source
  if ((!exportSd ? otherEngine : exportSd.type === "export" || !exportSd.type) && cluster && dcId) {
    let view: CopyView;
    try {
      view = await copyView(c, key, args, exportSd, otherEngine);
    } catch (e) {
      const f = connectionFailure(e);
      if (!f || !otherEngine) throw e;
      // the source engine cannot be read: name the field that holds its connection
      fs.push({ property: `expectExportDomain.${f.property}`, reason: `expectExportDomain.${f.reason}` });
      return false;
    }
    if (view.note && !inMigration(urn)) progress.info(view.note);
    if (view.copy) implied = await checkCopy(s, cluster, dcId, view, view.copy, urn, progress, fs);
    if (args.batch) checkBatch(args, view, fs);
  }
  return implied;
}

/** A storage domain field: the domain exists, is a data domain, and is attached to the target cluster's data center. */
async function checkStorageDomain(s: CheckScope, name: string, property: string, fs: CheckFailure[]): Promise<void> {
  const { c, key, args, sds, cluster, dcId } = s;
  const sd = sds.find((d) => d.name === name);
  if (!sd) {
    fs.push({ property, reason: `${property}: storage domain "${name}" does not exist in engine ${args.engine.url}.${suggest(name, sds.filter((d) => d.type === "data").map((d) => d.name))}` });
    return;
  }
  if (sd.type && sd.type !== "data") {
    fs.push({ property, reason: `${property}: "${name}" is a ${sd.type} domain; imports go to a data domain` });
    return;
  }
  if (dcId && cluster) {
    const attached = await cachedRead(`${key}|att|${dcId}`, 10_000, () => c.attachedStorageDomains.list(dcId));
    if (!attached.some((d) => d.id === sd.id)) {
      const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
      const f = wrongDataCenter(property, sd, cluster, dcId, dcs, attached.filter((d) => d.type === "data").map((d) => d.name), await originDc(s));
      // one failure per field (the main storage domain and a disk's may both point at the other data center)
      if (!fs.some((x) => x.property === f.property)) fs.push(f);
    }
  }
}

/**
 * The data center (of this engine) the VM comes from, when it can be told: the one this stack exports from
 * (expectExportDomain), else the data center of the copy's source (same id in this engine), else the one the
 * export domain is attached to now (a preview runs before the domain moves). Undefined across engines.
 */
async function originDc(s: CheckScope): Promise<string | undefined> {
  const { c, key, args, clusters, exp, otherEngine, exportSd } = s;
  if (otherEngine) return undefined;
  const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
  if (exp) return dcs.find((d) => d.name === exp.dataCenter)?.id;
  if (!exportSd || (exportSd.type && exportSd.type !== "export")) return undefined;
  const listing = (await exportContents<Entity>(c, key, args.kind, exportSd)).items;
  const copy = listing.find((x) => x.name === args.name);
  if (copy) {
    const all: Entity[] = args.kind === "vm" ? await cachedRead(`${key}|vms`, 10_000, () => c.vms.list()) : await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
    const src = all.find((e) => e.id === copy.id);
    const srcDc = src?.cluster?.id ? clusters.find((cl) => cl.id === src.cluster!.id)?.data_center?.id : undefined;
    if (srcDc) return srcDc;
  }
  return exportSd.data_centers?.[0]?.id ?? exportSd.data_center?.id;
}

/** exportDomain: in this engine (unless this stack brings it from another one), and an export domain. */
function checkExportDomain(s: CheckScope, fs: CheckFailure[]): void {
  const { args, sds, otherEngine, exportSd } = s;
  if (!exportSd) {
    if (!otherEngine) {
      fs.push({
        property: "exportDomain",
        reason:
          `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}.${suggest(args.exportDomain, sds.filter((d) => d.type === "export").map((d) => d.name))}` +
          ` If this stack brings it from another engine, set expectExportDomain: { dataCenter, engine } (Migration does).`,
      });
    }
  } else if (exportSd.type && exportSd.type !== "export") {
    fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${exportSd.type} domain, not an export domain` });
  }
}

/** Who holds the copy's id or name in the target engine, and whether this resource's own import made it. */
interface Occupants {
  sameId?: Entity;
  sameIdInTarget: boolean;
  sameName?: Entity;
  oursById: boolean;
  /** cluster id -> data center id */
  cache: Map<string, string | undefined>;
}

async function occupantsOf(s: CheckScope, cluster: Cluster, dcId: string, view: CopyView, copy: Entity, urn: string | undefined): Promise<Occupants> {
  const { c, key, args, clusters } = s;
  const vmsOrTs = args.kind === "vm" ? await cachedRead(`${key}|vms`, 10_000, () => c.vms.list()) : await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
  const sameId = vmsOrTs.find((v) => v.id === copy.id);
  const cache = new Map<string, string | undefined>();
  for (const cl of clusters) cache.set(cl.id, cl.data_center?.id);
  const sameIdInTarget = !!sameId && (await dcOfCluster(c, sameId.cluster?.id, cache)) === dcId;
  const sameName = vmsOrTs.find(
    (v) => v.name === args.name && v.id !== copy.id && cache.get(v.cluster?.id ?? "") === dcId,
  );
  // the same id in the target data center is ours only when this resource's own import made it (a crash
  // before the state was written); otherwise it is someone else's VM — e.g. the source itself, when the
  // target cluster is in the source's data center
  const oursById =
    sameIdInTarget && !!view.exportSdId && (await createdBy(c, [importCorrelationId(urn, view.exportSdId, copy.id, args.name, cluster.id)], sameId!.id));
  return { sameId, sameIdInTarget, sameName, oursById, cache };
}

/**
 * The copy against the target: architecture, who holds its id or name (adopt, clone, skip or fail), MACs, the
 * template it needs, and what the preview says of a clone or a collapse. Answers whether collapseSnapshots is implied.
 */
async function checkCopy(s: CheckScope, cluster: Cluster, dcId: string, view: CopyView, copy: Entity, urn: string | undefined, progress: Progress, fs: CheckFailure[]): Promise<boolean> {
  const { c, args, exp, otherEngine, exportSd } = s;
  const label = `${args.kind === "vm" ? "VM" : "template"} ${args.name}`;
  let implied = false;
  const arch = copy.cpu?.architecture;
  if (arch && arch !== "undefined" && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
    fs.push({ property: "cluster", reason: `cluster: ${args.name} is ${arch} but cluster ${cluster.name} is ${cluster.cpu.architecture}; choose a ${arch} cluster` });
  }
  const { sameId, sameIdInTarget, sameName, oursById, cache } = await occupantsOf(s, cluster, dcId, view, copy, urn);
  const adopted = args.adopt && !oursById ? (sameIdInTarget ? sameId : sameName) : undefined;
  if (adopted) {
    progress.info(`${adoptionNote(args.kind === "vm" ? "VM" : "template", adopted.name, adopted.id)} (adopt: true); nothing is imported`);
  }
  const conflict = !adopted && ((!!sameId && !oursById) || !!sameName);
  // a plain import keeps the copy's MACs: the target cluster's MAC pool must not hold them (macConflicts.ts);
  // readable at preview from the source VM in the source engine (a copy's NICs are not in the API). A MAC
  // conflict is a conflict: onConflict "clone" imports a clone (new MACs), else the preview fails
  const macConflict =
    args.kind === "vm" && !args.clone && !conflict && !adopted && !oursById
      ? await previewMacConflict({
          c, key: s.key, cluster, vmName: args.name, copyId: copy.id,
          source: otherEngine ? { client: clientFor(exp!.engine!), url: exp!.engine!.url } : undefined,
        })
      : undefined;
  if (macConflict && args.onConflict !== "clone") fs.push(macConflict);
  const clone = args.clone || ((conflict || !!macConflict) && args.onConflict === "clone");
  const skip = !args.clone && conflict && args.onConflict === "skip";
  const allocCollapse = !args.collapseSnapshots && !(clone && args.kind === "vm") && allocationCollapses(args);
  const collapse = args.collapseSnapshots || (clone && args.kind === "vm") || allocCollapse;
  if (allocCollapse && !skip && !adopted && !oursById) {
    const i = allocationIndex(args);
    progress.info(
      `${label}: collapsed on import (snapshots and template chain, if any, merged into one volume per disk): disks[${i}].allocation is applied only to a ` +
        `collapsed copy (the engine copies a chain as it is and ignores allocation). Remove allocation to keep the chain`,
    );
    implied = true;
  }
  if (clone && !adopted && !oursById) {
    // say what a clone means, once per import (the same engine: the source keeps its id, ids are unique)
    if (!inMigration(urn)) progress.info(cloneNote(args, label, cluster, copy, { sameId, sameIdInTarget, sameName }, !!macConflict));
    if (args.kind === "vm" && !args.collapseSnapshots) implied = true;
  }
  if (!skip && !adopted && !oursById) {
    // the copy's disks, when a disk entry places one (the others then go to storageDomain)
    const copyDisks =
      !collapse && !view.fromSource && view.exportSdId && exportSd && (args.disks ?? []).some((d) => d.storageDomain)
        ? await c.exportContent(args.kind).disks(view.exportSdId, copy.id).catch(() => undefined)
        : undefined;
    const tp = await templateProblem(c, args, copy, view.look, dcId, collapse, copyDisks);
    if (tp) fs.push(tp);
  }
  if (!args.clone && args.onConflict === "fail" && conflict) fs.push(conflictFailure(args, dcId, sameId, sameIdInTarget, sameName, cache));
  return implied;
}

/**
 * A `Migration`'s child (its URN's type chain): the Migration's plan table says, once for all its VMs, which arrive as
 * clones under which names and which copies are not made yet; the same line under each import was noise.
 */
const inMigration = (urn: string | undefined): boolean => !!urn && urn.includes("ovirt:migrate:Migration$");

/** What the preview says of an import that arrives as a clone: why, and under which name. */
function cloneNote(
  args: VmImportArgs, label: string, cluster: Cluster, copy: Entity, o: Pick<Occupants, "sameId" | "sameIdInTarget" | "sameName">, macConflict: boolean,
): string {
  const { sameId, sameIdInTarget, sameName } = o;
  const nameTaken = !!sameName || (sameIdInTarget && sameId!.name === args.name);
  const as = targetName(args, true, nameTaken);
  const why = args.clone
    ? "clone: true"
    : sameId && !sameIdInTarget
      ? `${label} (id ${sameId.id}) keeps that id in engine ${args.engine.url}, and ids are unique per engine`
      : macConflict
        ? `its MAC addresses are in use in the MAC pool of cluster ${cluster.name}, and onConflict is "clone"`
      : `${sameName ? `the name ${args.name}` : `the id ${copy.id}`} is taken in the target data center`;
  return args.kind === "vm"
    ? `${label}: ${CLONE_NOTE} (${why}); it arrives as ${as}`
    : `${label}: imported as a clone: new id (${why}); it arrives as ${as}`;
}

/** onConflict "fail" and the copy's id or name is taken: the failure names the holder and the three ways out. */
function conflictFailure(
  args: VmImportArgs, dcId: string, sameId: Entity | undefined, sameIdInTarget: boolean, sameName: Entity | undefined, cache: Map<string, string | undefined>,
): CheckFailure {
  const other = (sameName ?? sameId)!;
  const otherDc = other.cluster?.id ? cache.get(other.cluster.id) : undefined;
  const where = otherDc === dcId ? "in the target data center" : `in engine ${args.engine.url} (same id${otherDc ? `, data center ${otherDc}` : ""})`;
  return {
    property: "onConflict",
    reason:
      `onConflict: ${args.kind} ${args.name} already exists ${where}: ${other.name} (id ${other.id}), not created by this resource` +
      `${sameIdInTarget && !sameName ? " — it is the source itself: is cluster right? (the target cluster is in the source's data center)" : ""}. ` +
      `Set onConflict: "clone" (new id and MACs; newName or cloneSuffix for a new name), "skip" (leave it alone), or adopt: true (manage it; kept on destroy).`,
  };
}

/** An import batch includes this VM and shares one CPU architecture (read from the listing the copy came from). */
/** The batch's architectures, from the listing the copy was read in (one verdict per listing and batch: rules.ts). */
function checkBatch(args: VmImportArgs, view: CopyView, fs: CheckFailure[]): void {
  if (args.batch) fs.push(...batchFailures(args.batch, args.name, view.listing, (x) => x.cpu?.architecture));
}

async function checkPermissionsAndProfile(args: VmImportArgs, fs: CheckFailure[], cluster?: Cluster): Promise<void> {
  const c = clientFor(args.engine);
  const key = `${args.engine.url}|${args.engine.username}`;
  try {
    await checkPermissions(c, key, args.permissions, fs);
    if (args.cpuProfile) {
      const cl = cluster ?? (await c.clusters.findByName(args.cluster));
      if (cl) {
        const profiles = await c.clusters.cpuProfiles(cl.id);
        if (!profiles.some((p) => p.name === args.cpuProfile)) {
          fs.push({ property: "cpuProfile", reason: unknownCpuProfile(cl.name, args.cpuProfile, profiles) });
        }
      }
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
}
