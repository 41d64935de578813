/**
 * Where and as what a copy lands, shared by `check` and `run`: the target cluster and data domains (and the errors
 * naming the data center that does not fit), the entity's name, the template a VM depends on, the per-disk
 * allocation, and `resolve` (everything `run` needs, read once).
 */
import type { OvirtClient, Vm, Template, Cluster, StorageDomain, Disk } from "../../client";
import { BLANK_TEMPLATE_ID } from "../../client/types";
import { ArgError, CheckFailure, cachedRead, clientFor, sameEngine, suggest } from "../common";
import { EngineError } from "../../client/errors";
import { attachedDomain, attachedDomains, attachedDomainsActive, clusterById, clusterNamed, engineKey, exportListing, exportListingWith, storageDomainNamed, vmById, vmsNamed } from "../../operations/reads";
import { resourceCorrelationId } from "../ownership";
import { VmImportArgs } from "./args";

export type Entity = Vm | Template;

async function resolveCluster(c: OvirtClient, key: string, name: string): Promise<Cluster> {
  const { found: cl, all: cls } = await clusterNamed(c, key, name);
  if (!cl) {
    const all = cls.map((x) => x.name);
    throw new ArgError("cluster", `cluster: cluster "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  if (!cl.data_center?.id) throw new ArgError("cluster", `cluster: cluster "${name}" belongs to no data center`);
  return cl;
}

/**
 * A data domain that is not attached to the data center of the import's cluster: the pair points at two data
 * centers, and the import goes to the cluster's. Reported with both names and both fixes, under the field that
 * points at the data center the VM comes FROM (`originDcId`, see `originDc` in check): a cluster of that data center is
 * reported under `cluster`, a storage domain of that data center under `storageDomain`; `cluster` when the
 * source is not known. A domain attached nowhere is the storage domain's fault; a disk's domain is the disk's.
 * `property` is the storage-domain field that was checked (`storageDomain`, `disks[0].storageDomain`).
 */
export function wrongDataCenter(
  property: string,
  sd: StorageDomain,
  cluster: { name: string },
  clusterDcId: string,
  dcs: Array<{ id: string; name: string }>,
  domainsOfClusterDc: string[],
  originDcId?: string,
): CheckFailure {
  const dcName = (id: string) => dcs.find((d) => d.id === id)?.name ?? id;
  const sdDcs = [...new Set([...(sd.data_centers ?? []).map((d) => d.id), sd.data_center?.id].filter((x): x is string => !!x))];
  const here = dcName(clusterDcId);
  const known = domainsOfClusterDc.length ? ` Data domains of ${here}: ${domainsOfClusterDc.map((n) => JSON.stringify(n)).join(", ")}.` : "";
  if (sdDcs.length === 0) {
    return { property, reason: `${property}: storage domain "${sd.name}" is not attached to any data center; attach it to ${here} (the data center of cluster ${cluster.name}) or choose another.${known}` };
  }
  const there = sdDcs.map(dcName).join(", ");
  if (property !== "storageDomain") {
    return { property, reason: `${property}: storage domain "${sd.name}" is attached to data center ${there}, not to ${here} (the data center of cluster ${cluster.name}).${known}` };
  }
  const both = `cluster ${cluster.name} is in data center ${here}, but storage domain "${sd.name}" is attached to data center ${there}, not attached to ${here}; a VM is imported into the data center of its cluster.`;
  if (originDcId && sdDcs.includes(originDcId) && originDcId !== clusterDcId) {
    // the storage domain is the source's: the cluster names the target
    return { property: "storageDomain", reason: `storageDomain: ${both} ${there} is where the VM comes from: choose a storage domain attached to ${here}.${known}` };
  }
  const whence = originDcId === clusterDcId ? ` ${here} is where the VM comes from.` : "";
  return { property: "cluster", reason: `cluster: ${both}${whence} Choose a cluster of ${there}, or a storage domain attached to ${here}.${known}` };
}

async function resolveDataDomain(c: OvirtClient, key: string, name: string, cluster: Cluster, property: string, attached?: StorageDomain[], originDcId?: string): Promise<StorageDomain> {
  const dcId = cluster.data_center!.id!;
  const { found: sd, all: sds } = await storageDomainNamed(c, key, name);
  if (!sd) {
    const all = sds.filter((d) => d.type === "data").map((d) => d.name);
    throw new ArgError(property, `${property}: storage domain "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  if (sd.type && sd.type !== "data") throw new ArgError(property, `${property}: "${name}" is a ${sd.type} domain; imports go to a data domain`);
  // status matters: a fresh (shared) listing of the data center's domains
  const att = attached ? attached.find((d) => d.id === sd.id) : await attachedDomain(c, dcId, sd.id);
  if (!att) {
    const dcs = (await cachedRead(`${key}|dcs`, 60_000, () => c.datacenters.list())) as Array<{ id: string; name: string }>;
    const f = wrongDataCenter(property, sd, cluster, dcId, dcs, (attached ?? []).filter((d) => d.type === "data").map((d) => d.name), originDcId);
    throw new ArgError(f.property, f.reason);
  }
  if (att.status && att.status !== "active") throw new ArgError(property, `${property}: storage domain "${name}" is ${att.status}, not active`);
  return sd;
}

/**
 * Name of the imported entity. A clone keeps the name when only the id conflicts (e.g. the source VM of the same
 * engine, in another data center; names are unique per data center), gets `newName`, or name + `cloneSuffix`
 * (always when a suffix is given, else "-clone" only when the name is taken in the target data center).
 */
export function targetName(a: VmImportArgs, clone: boolean, nameTakenInDc: boolean): string {
  if (!clone) return a.name;
  if (a.newName) return a.newName;
  if (a.cloneSuffix) return `${a.name}${a.cloneSuffix}`;
  return nameTakenInDc ? `${a.name}-clone` : a.name;
}

/** Fresh reads, shared with the other imports asking at the same time (one search for all names / ids). */
export async function entityByName(c: OvirtClient, kind: "vm" | "template", name: string, windowMs?: number): Promise<Entity[]> {
  if (kind === "template") return c.templates.findByName(name);
  return vmsNamed(c, name, windowMs);
}

export async function getEntity(c: OvirtClient, kind: "vm" | "template", id: string, windowMs?: number): Promise<Entity | undefined> {
  return kind === "vm" ? vmById(c, id, windowMs) : c.templates.get(id);
}

export async function dcOfCluster(c: OvirtClient, clusterId: string | undefined, cache: Map<string, string | undefined>): Promise<string | undefined> {
  if (!clusterId) return undefined;
  // identity (the data center of a cluster): the 10 s read cache, read again on a miss
  if (!cache.has(clusterId)) {
    cache.set(clusterId, (await clusterById(c, engineKey({ url: c.url, username: c.http.username }), clusterId)).found?.data_center?.id);
  }
  return cache.get(clusterId);
}

export async function entityDc(c: OvirtClient, e: Entity, cache: Map<string, string | undefined>): Promise<string | undefined> {
  const viaCluster = await dcOfCluster(c, e.cluster?.id, cache);
  if (viaCluster) return viaCluster;
  if (e.storage_domain?.id) {
    const sd = await c.storageDomains.get(e.storage_domain.id);
    return sd?.data_centers?.[0]?.id ?? sd?.data_center?.id;
  }
  return undefined;
}

/** The template a copy depends on (thin VM), or undefined. */
function templateDependency(copy: Entity, kind: "vm" | "template"): string | undefined {
  if (kind !== "vm") return undefined;
  const t = (copy as Vm).template?.id;
  return t && t !== BLANK_TEMPLATE_ID ? t : undefined;
}

/** Where the template of a thin copy can be found (the export domain where it is now, and names from either engine). */
export interface TemplateLookup {
  /** the template on the export domain the copy is on (wherever the domain is now) */
  onDomain(id: string): Promise<Entity | undefined>;
  /** the template's name when neither the domain nor the target engine knows it (e.g. the source engine) */
  nameOf(id: string): Promise<string | undefined>;
  /** templates this stack exports to the domain before the import (`expectExportDomain.templates`) */
  exported: string[];
}

export function domainLookup(c: OvirtClient, exportDomainId: string | undefined, a: VmImportArgs): TemplateLookup {
  return {
    onDomain: async (id) => (exportDomainId ? await c.exportTemplates.get(exportDomainId, id).catch(() => undefined) : undefined),
    nameOf: async () => undefined,
    exported: a.expectExportDomain?.templates ?? [],
  };
}

/**
 * The template problem of a thin copy, or undefined. Collapsing on import (a clone always collapses) reads the
 * template's volumes from the export domain: the engine refuses it when the template is not on the domain
 * ("Template is missing in domain"), even when the template is in the engine. Without collapse the template must be
 * in the target data center (or imported first by this stack: `expectTemplates`).
 */
export async function templateProblem(
  c: OvirtClient,
  a: VmImportArgs,
  copy: Entity,
  look: TemplateLookup,
  dcId: string,
  collapse: boolean,
  copyDisks?: Disk[],
): Promise<{ property: string; reason: string } | undefined> {
  const tId = templateDependency(copy, a.kind);
  if (!tId) return undefined;
  const onDomain = await look.onDomain(tId);
  const inEngine = await c.templates.get(tId).catch(() => undefined);
  const tName = onDomain?.name ?? inEngine?.name ?? (await look.nameOf(tId).catch(() => undefined)) ?? tId;
  if (collapse) return onDomain || look.exported.includes(tName) ? undefined : collapseWithoutTemplate(a, copy, tName);
  const found = await templateDomains(c, a, copy, tId, tName, inEngine, dcId);
  if ("reason" in found) return found;
  return found.lands.length ? thinDiskPlacement(a, copy, tName, found, copyDisks) : undefined;
}

/** A collapsed import of a thin VM reads its template from the export domain: the template is not there. */
function collapseWithoutTemplate(a: VmImportArgs, copy: Entity, tName: string): { property: string; reason: string } {
  // collapsed only because of disks[].allocation: that is the field to change
  const alloc = !a.collapseSnapshots && !(a.clone || a.onConflict === "clone") ? allocationIndex(a) : -1;
  const property = alloc >= 0 ? `disks[${alloc}].allocation` : "collapseSnapshots";
  const why = alloc >= 0 ? ` (${property} is applied only to a collapsed copy, so it collapses the VM)` : a.clone || a.onConflict === "clone" ? " (a clone always collapses)" : "";
  return {
    property,
    reason:
      `${property}: VM ${copy.name} is a thin VM based on template ${tName}; collapsing it on import${why} ` +
      `reads the template from export domain ${a.exportDomain}, and template ${tName} is not there. Export the VM with discardSnapshots: true (a flat copy), or export template ${tName} to ${a.exportDomain} too` +
      `${alloc >= 0 ? `, or remove ${property} (the VM is then imported thin, its disk chain as it is)` : ""}.`,
  };
}

/**
 * Where the template of a thin VM imported as it is lands in the target: the domains of its disks when it is in the
 * target data center already, else the domains this stack imports it to (`expectTemplateDomains`, empty when not
 * told); a problem when it is neither there nor imported by this stack.
 */
async function templateDomains(
  c: OvirtClient,
  a: VmImportArgs,
  copy: Entity,
  tId: string,
  tName: string,
  inEngine: Template | undefined,
  dcId: string,
): Promise<{ lands: string[]; where: string } | { property: string; reason: string }> {
  if (inEngine) {
    const dc = await entityDc(c, inEngine, new Map());
    if (!dc || dc === dcId) {
      // where the template really is: its disks' domains
      const sds = await cachedRead(`${engineKey({ url: c.url, username: c.http.username })}|sds`, 10_000, () => c.storageDomains.list());
      const ids = new Set((await c.templates.disks(tId).catch(() => [] as Disk[])).flatMap((d) => (d.storage_domains ?? []).map((x) => x.id).concat(d.storage_domain?.id ?? [])));
      return { lands: sds.filter((d) => ids.has(d.id)).map((d) => d.name), where: "in the target data center" };
    }
  }
  if (!(a.expectTemplates && a.expectTemplates.includes(tName))) {
    return {
      property: "collapseSnapshots",
      reason:
        `collapseSnapshots: VM ${copy.name} is a thin VM based on template ${tName}, which is not in the target data center. ` +
        `Import template ${tName} first (a VmImport with kind: "template", name: "${tName}", and make this import depend on it — ` +
        `list it in expectTemplates), or set collapseSnapshots: true to import a self-contained copy.`,
    };
  }
  return { lands: a.expectTemplateDomains?.[tName] ?? [], where: "where this stack imports it (expectTemplateDomains)" };
}

/**
 * ImportVmCommand.checkTemplateInStorageDomain, and VDSM's copy of a chain: a thin disk stays linked to its template's
 * disk, so it must land on a domain holding the template. The first disk that would not, with the field that placed it.
 */
function thinDiskPlacement(
  a: VmImportArgs,
  copy: Entity,
  tName: string,
  t: { lands: string[]; where: string },
  copyDisks?: Disk[],
): { property: string; reason: string } | undefined {
  const off = diskDestinations(a, copyDisks).find((d) => !t.lands.includes(d.name));
  if (!off) return undefined;
  const on = t.lands.map((n) => JSON.stringify(n)).join(", ");
  return {
    property: off.property,
    reason:
      `${off.property}: VM ${copy.name} is a thin VM based on template ${tName}; imported without collapse its disks stay linked to the template's disks, ` +
      `so they must land on a storage domain holding the template. Template ${tName} is on ${on} (${t.where}); ${off.property} is "${off.name}". ` +
      `Set ${off.property}: ${JSON.stringify(t.lands[0])}, import template ${tName} onto "${off.name}" (its VmImport's storageDomain or disks[].storageDomain), ` +
      `or set collapseSnapshots: true to import a self-contained copy.`,
  };
}

/**
 * The data domains a VM's disks land on, each with the field that chose it: `disks[i].storageDomain`, and
 * `storageDomain` for the disks no entry places (all of them when the copy's disks are not known).
 */
function diskDestinations(a: VmImportArgs, copyDisks?: Disk[]): Array<{ property: string; name: string }> {
  const out: Array<{ property: string; name: string }> = [];
  const placed = new Set<string>();
  (a.disks ?? []).forEach((d, i) => {
    if (!d.storageDomain) return;
    out.push({ property: `disks[${i}].storageDomain`, name: d.storageDomain });
    const disk = copyDisks?.find((x) => (d.id ? x.id === d.id : (x.alias ?? x.name) === d.alias));
    if (disk) placed.add(disk.id);
  });
  if (!copyDisks || copyDisks.some((x) => !placed.has(x.id))) out.unshift({ property: "storageDomain", name: a.storageDomain });
  return out;
}

/** The first `disks[]` entry with an allocation, or -1. */
export function allocationIndex(a: VmImportArgs): number {
  return (a.disks ?? []).findIndex((d) => !!d.allocation);
}

/**
 * Per-disk allocation is applied by the engine only to a collapsed copy (bll ImportVmCommand: format/sparse are taken
 * when isCopyCollapseOrNoSnapshots; a chain copied as it is keeps its volumes' own): a VM import with an allocation
 * is therefore collapsed (snapshots and template chain), which the preview says.
 */
export function allocationCollapses(a: Pick<VmImportArgs, "kind" | "disks">): boolean {
  return a.kind === "vm" && (a.disks ?? []).some((d) => !!d.allocation);
}

/**
 * A template's disks are imported with the format and allocation they have on the export domain: the restapi's
 * template import reads no allocation (BackendStorageDomainTemplateResource.doImport has no setVolumesTypeFormat),
 * so the engine would silently ignore it. One failure per entry that gives one.
 */
export function templateAllocationFailures(a: Pick<VmImportArgs, "kind" | "disks" | "name">): CheckFailure[] {
  if (a.kind !== "template") return [];
  return (a.disks ?? []).flatMap((d, i) =>
    d.allocation
      ? [
          {
            property: `disks[${i}].allocation`,
            reason:
              `disks[${i}].allocation: "${d.allocation}" cannot be applied to template ${a.name}: the engine imports a template's disks with the format and allocation ` +
              `they have on the export domain and ignores any other (only a VM import reads allocation). Remove allocation from disks[${i}] ` +
              `(disks[${i}].storageDomain still places the disk), or change the template's disks in the source before exporting it.`,
          },
        ]
      : [],
  );
}

export function diskSpecs(a: VmImportArgs, copyDisks: Disk[], sdIds: Map<string, string>, defaultSdId: string): Array<{ id: string; sparse?: boolean; format?: "cow" | "raw"; storageDomainId?: string }> {
  if (!a.disks) return [];
  const specs = a.disks.map((d, i) => {
    const disk = d.id ? copyDisks.find((x) => x.id === d.id) : copyDisks.find((x) => (x.alias ?? x.name) === d.alias);
    if (!disk) {
      throw new ArgError(
        `disks[${i}]`,
        `disks[${i}]: ${a.name} on ${a.exportDomain} has no disk ${d.id ? `with id ${d.id}` : `with alias "${d.alias}"`}. Disks: ${copyDisks.map((x) => x.alias ?? x.name ?? x.id).join(", ")}`,
      );
    }
    return {
      id: disk.id,
      // a template import reads no allocation (refused at preview: templateAllocationFailures)
      sparse: d.allocation && a.kind === "vm" ? d.allocation === "thin" : undefined,
      format: d.allocation && a.kind === "vm" ? (d.allocation === "thin" ? ("cow" as const) : ("raw" as const)) : undefined,
      storageDomainId: d.storageDomain ? sdIds.get(d.storageDomain) : undefined,
    };
  });
  // ensureDomainMap (ImportVmCommandBase, MoveOrCopyTemplateCommand) fills in storageDomain only when NO disk has a
  // destination: once one has, every disk must have one, or the engine finds no domain for the others
  if (specs.some((x) => x.storageDomainId)) {
    for (const d of copyDisks) {
      const x = specs.find((y) => y.id === d.id);
      if (!x) specs.push({ id: d.id, sparse: undefined, format: undefined, storageDomainId: defaultSdId });
      else if (!x.storageDomainId) x.storageDomainId = defaultSdId;
    }
  }
  return specs;
}

export interface Resolved {
  c: OvirtClient;
  cluster: Cluster;
  dcId: string;
  sd: StorageDomain;
  exportSd: StorageDomain;
  copy: Entity;
  copyDisks: Disk[];
  diskSdIds: Map<string, string>;
}

/**
 * The cluster, the domains and the copy an import works with. `fresh`: every read sent now (an engine refusal is
 * judged on these); else the domains' status and the export domain's listing may be recent ones that let the import
 * go on (`recentRead`: the engine checks both again when the import is submitted).
 */
export async function resolve(a: VmImportArgs, fresh = false): Promise<Resolved> {
  try {
    return await resolveOnce(a, fresh);
  } catch (e) {
    // the engine refused a read after a recent answer (e.g. the export domain's listing, once the domain left the
    // active state): judged again on fresh reads, which name the problem as the check does
    if (fresh || !(e instanceof EngineError && e.status < 500)) throw e;
    return resolveOnce(a, true);
  }
}

async function resolveOnce(a: VmImportArgs, fresh: boolean): Promise<Resolved> {
  const c = clientFor(a.engine);
  const key = engineKey(a.engine);
  const cluster = await resolveCluster(c, key, a.cluster);
  const dcId = cluster.data_center!.id!;
  // one listing of the data center's domains (status) for the data domains and the export domain
  const needed: string[] = [];
  for (const n of new Set([a.storageDomain, a.exportDomain, ...(a.disks ?? []).map((d) => d.storageDomain)])) {
    const id = n ? (await storageDomainNamed(c, key, n)).found?.id : undefined;
    if (id) needed.push(id);
  }
  const attached = fresh ? await attachedDomains(c, dcId) : await attachedDomainsActive(c, dcId, needed);
  // where the VM comes from (this engine), to name the right field when cluster and storage domain disagree
  const exp = a.expectExportDomain;
  const originDcId =
    exp && (!exp.engine || sameEngine(exp.engine, a.engine))
      ? ((await cachedRead(`${key}|dcs`, 60_000, () => c.datacenters.list())) as Array<{ id: string; name: string }>).find((d) => d.name === exp.dataCenter)?.id
      : undefined;
  const sd = await resolveDataDomain(c, key, a.storageDomain, cluster, "storageDomain", attached, originDcId);
  const diskSdIds = new Map<string, string>();
  for (const [i, d] of (a.disks ?? []).entries()) {
    if (d.storageDomain && !diskSdIds.has(d.storageDomain)) {
      diskSdIds.set(d.storageDomain, (await resolveDataDomain(c, key, d.storageDomain, cluster, `disks[${i}].storageDomain`, attached)).id);
    }
  }
  const exportSd = (await storageDomainNamed(c, key, a.exportDomain)).found;
  if (!exportSd) throw new ArgError("exportDomain", `exportDomain: export domain "${a.exportDomain}" does not exist in engine ${c.url}`);
  const att = attached.find((d) => d.id === exportSd.id);
  if (!att || att.status !== "active") {
    throw new ArgError(
      "exportDomain",
      `exportDomain: export domain ${a.exportDomain} is ${att ? att.status : "not attached"} in the data center of cluster ${a.cluster}. ` +
        `Declare an ExportDomainAttachment of ${a.exportDomain} to that data center and make this import depend on it.`,
    );
  }
  const content = c.exportContent(a.kind);
  // the domain's listing: one request shared by the imports asking at the same time, or a recent one holding the copy
  const listing = fresh ? await exportListing(c, a.kind, exportSd.id) : await exportListingWith(c, a.kind, exportSd.id, a.name);
  const copy = listing.find((x) => x.name === a.name);
  if (!copy) {
    const all = listing.map((x) => x.name);
    throw new ArgError("name", `name: export domain ${a.exportDomain} holds no ${a.kind} named "${a.name}".${suggest(a.name, all)}`);
  }
  const copyDisks = await content.disks(exportSd.id, copy.id).catch(() => [] as Disk[]);
  return { c, cluster, dcId, sd, exportSd, copy, copyDisks, diskSdIds };
}

/** The correlation id of this resource's import of `copyId` as `name` into `clusterId` (see ownership.ts). */
export function importCorrelationId(urn: string | undefined, exportSdId: string, copyId: string, name: string, clusterId: string): string {
  return resourceCorrelationId(urn, "import", exportSdId, copyId, name, clusterId);
}
