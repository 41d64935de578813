/**
 * VmImport: a VM or template (`kind`) imported from an export domain into a cluster and storage domain.
 *
 * - `collapseSnapshots` ("collapse snapshots"), per-disk allocation (thin | preallocated) and storage domain,
 *   `cpuProfile`, and `permissions` re-applied after the import (an export keeps no roles/permissions). The engine
 *   applies a VM disk's allocation only to a collapsed copy, so an allocation collapses the VM (said at preview); a
 *   template import reads no allocation at all: refused at preview. Per-disk domains are sent where the engine reads
 *   them for both kinds (`<vm><disk_attachments>`), for every disk once one is placed
 *   (client/services/exportDomainContents.ts).
 * - A thin VM imported without collapse stays linked to its template's disks: its disks must land on a domain that
 *   holds the template — where the template really is, or where this stack imports it (`expectTemplateDomains`).
 * - Conflicts like the admin portal: `onConflict: "fail" | "skip" | "clone"`; a clone gets `newName` or the name plus
 *   `cloneSuffix` (else the name, or name + "-clone" when the name is taken). A clone always collapses snapshots (the portal's Clone does the same).
 * - A thin, template-based VM needs its template in the target data center first, or `collapseSnapshots`; the
 *   error says which template to import (or list it in `expectTemplates` when this stack imports it first).
 * - `batch`: the VMs imported together; `check` rejects a batch that mixes CPU architectures (at preview).
 * - create adopts an import of an interrupted attempt (same VM id in the target cluster, or the clone found by
 *   name plus our stable correlation id); delete removes only a VM this resource created.
 * - `expectExportDomain`: the export domain is brought to the target by this stack (from a data center, of this or
 *   another engine): `check` then reads the copy where the domain is now (or the source when the copy is not made
 *   yet) instead of failing because the domain is not in the target engine yet (a cross-engine preview).
 * - Within one engine the source keeps its id: the import is a clone (new id, new MACs, collapsed snapshots, no
 *   template link); `check` says so on the resource's line and the checked inputs carry `collapseSnapshots: true`.
 */
import { z } from "zod";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Vm, Template, Cluster, StorageDomain, Disk } from "../client";
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
  suggest,
  userInputs,
  normalizeArgs,
  validate,
  zKind,
  zName,
} from "./common";
import { progressFor, Progress } from "../progress";
import { tap as tapPlan } from "../plan/live";
import { poll, timeoutMsForBytes } from "../client/wait";
import { sleep } from "../../lib/sleep";
import { waitForJob, failureReason, lostWhen } from "./jobs";
import { applyPermissions, checkPermissions } from "./permissions";
import { Ownership, adoptionNote, createdBy, guardReplace, mayRemove, ownershipOf, resourceCorrelationId } from "./ownership";

/** The correlation id of this resource's import of `copyId` as `name` into `clusterId` (see ownership.ts). */
function importCorrelationId(urn: string | undefined, exportSdId: string, copyId: string, name: string, clusterId: string): string {
  return resourceCorrelationId(urn, "import", exportSdId, copyId, name, clusterId);
}
import { mixedArchitectures } from "./vmExport";
import { isMacDuplicatesRefusal, macRefusal, previewMacConflict } from "./macConflicts";
import { attachedDomain, attachedDomains, clusterById, clusterNamed, engineKey, exportContents, exportListing, followedDisks, storageDomainNamed, vmById, vmsNamed } from "./reads";

export const DiskMappingArgs = z
  .object({
    alias: z.string().min(1).optional(),
    id: z.string().min(1).optional(),
    allocation: z.enum(["thin", "preallocated"], { error: 'allocation must be "thin" or "preallocated"' }).optional(),
    storageDomain: zName("disks[].storageDomain").optional(),
  })
  .refine((d) => !!d.alias !== !!d.id, { message: "give exactly one of alias or id for each disk" });

export const PermissionArgs = z
  .object({
    user: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    role: z.string().min(1, "role must not be empty"),
  })
  .refine((p) => !!p.user !== !!p.group, { message: "give exactly one of user or group for each permission" });
export type PermissionArgs = z.infer<typeof PermissionArgs>;

/**
 * What this stack does before the import (a cross-engine preview cannot see it yet): it brings the export domain to
 * the target from `dataCenter` (of `engine`, default the import's engine), after exporting the copy there, flat when
 * `discardSnapshots`, and the `templates` named (exported to the domain by this stack).
 */
export const ExpectExportDomainArgs = z.object({
  dataCenter: zName("expectExportDomain.dataCenter"),
  engine: EngineArgs.optional(),
  discardSnapshots: z.boolean().optional(),
  templates: z.array(zName("expectExportDomain.templates[]")).optional(),
});
export type ExpectExportDomainArgs = z.infer<typeof ExpectExportDomainArgs>;

/** Hidden input `check` sets when it turned `collapseSnapshots` on because the import will be a clone. */
export const COLLAPSE_IMPLIED_KEY = "__collapseImplied";

/** The preview line of a VM that is imported as a clone (issue 13). */
export const CLONE_NOTE = "imported as a clone: new id, new MACs, snapshots collapsed, template link dropped";

export const VmImportArgs = z
  .object({
    engine: EngineArgs,
    exportDomain: zName("exportDomain"),
    kind: zKind.default("vm"),
    name: zName("name"),
    cluster: zName("cluster"),
    storageDomain: zName("storageDomain"),
    collapseSnapshots: z.boolean().default(false),
    onConflict: z.enum(["fail", "skip", "clone"], { error: 'onConflict must be "fail", "skip" or "clone"' }).default("fail"),
    clone: z.boolean().default(false),
    newName: zName("newName").optional(),
    cloneSuffix: z.string().min(1).max(64).optional(),
    disks: z.array(DiskMappingArgs).optional(),
    cpuProfile: zName("cpuProfile").optional(),
    permissions: z.array(PermissionArgs).optional(),
    expectTemplates: z.array(zName("expectTemplates[]")).optional(),
    /**
     * Where the templates of `expectTemplates` land (their imports' data domains, by template name): a thin VM
     * imported without collapse stays linked to its template's disks, so its disks must land there too.
     */
    expectTemplateDomains: z.record(z.string(), z.array(zName("expectTemplateDomains[]"))).optional(),
    expectExportDomain: ExpectExportDomainArgs.optional(),
    batch: BatchArgs.optional(),
    /**
     * Adopt a VM/template that is already in the target data center with the copy's id or the target name (one this
     * resource did not create): it is then managed (permissions, CPU profile) but never stopped or removed.
     */
    adopt: z.boolean().default(false),
    keepOnDelete: z.boolean().default(false),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
  })
  .refine((a) => !(a.newName && !a.clone && a.onConflict !== "clone"), {
    message: 'newName: a new name is used only for a clone; set clone: true or onConflict: "clone"',
    path: ["newName"],
  })
  .refine((a) => !(a.kind === "template" && a.collapseSnapshots), {
    message: 'collapseSnapshots: applies to VMs only (kind "vm")',
    path: ["collapseSnapshots"],
  });
export type VmImportArgs = z.infer<typeof VmImportArgs>;

export interface ImportedDisk {
  id: string;
  alias?: string;
  sizeBytes: number;
  storageDomainId?: string;
  sparse?: boolean;
  format?: string;
}

export interface VmImportOutputs extends VmImportArgs {
  vmId: string;
  vmName: string;
  sourceId: string;
  exportDomainId: string;
  clusterId: string;
  dataCenterId: string;
  storageDomainId: string;
  importedDisks: ImportedDisk[];
  architecture?: string;
  /** false when onConflict "skip" kept an existing VM or `adopt` took one over (then delete leaves it alone) */
  imported: boolean;
  /** created: this resource imported it (proven by its correlation id); adopted / skipped: never stopped or removed */
  ownership: Ownership;
  cloned: boolean;
  collapsed: boolean;
  /** every grant matching `permissions` on the entity */
  permissionIds: string[];
  /** the grants this resource added: the only ones it ever removes */
  ownPermissionIds?: string[];
  cpuProfileId?: string;
}

type Entity = Vm | Template;

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
function targetName(a: VmImportArgs, clone: boolean, nameTakenInDc: boolean): string {
  if (!clone) return a.name;
  if (a.newName) return a.newName;
  if (a.cloneSuffix) return `${a.name}${a.cloneSuffix}`;
  return nameTakenInDc ? `${a.name}-clone` : a.name;
}

/** Fresh reads, shared with the other imports asking at the same time (one search for all names / ids). */
async function entityByName(c: OvirtClient, kind: "vm" | "template", name: string): Promise<Entity[]> {
  if (kind === "template") return c.templates.findByName(name);
  return vmsNamed(c, name);
}

async function getEntity(c: OvirtClient, kind: "vm" | "template", id: string): Promise<Entity | undefined> {
  return kind === "vm" ? vmById(c, id) : c.templates.get(id);
}

async function dcOfCluster(c: OvirtClient, clusterId: string | undefined, cache: Map<string, string | undefined>): Promise<string | undefined> {
  if (!clusterId) return undefined;
  // identity (the data center of a cluster): the 10 s read cache, read again on a miss
  if (!cache.has(clusterId)) {
    cache.set(clusterId, (await clusterById(c, engineKey({ url: c.url, username: c.http.username }), clusterId)).found?.data_center?.id);
  }
  return cache.get(clusterId);
}

async function entityDc(c: OvirtClient, e: Entity, cache: Map<string, string | undefined>): Promise<string | undefined> {
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
interface TemplateLookup {
  /** the template on the export domain the copy is on (wherever the domain is now) */
  onDomain(id: string): Promise<Entity | undefined>;
  /** the template's name when neither the domain nor the target engine knows it (e.g. the source engine) */
  nameOf(id: string): Promise<string | undefined>;
  /** templates this stack exports to the domain before the import (`expectExportDomain.templates`) */
  exported: string[];
}

function domainLookup(c: OvirtClient, exportDomainId: string | undefined, a: VmImportArgs): TemplateLookup {
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
async function templateProblem(
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
  if (collapse) {
    if (onDomain || look.exported.includes(tName)) return undefined;
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
  let lands: string[] | undefined;
  let where = "";
  if (inEngine) {
    const dc = await entityDc(c, inEngine, new Map());
    if (!dc || dc === dcId) {
      // where the template really is: its disks' domains
      const sds = await cachedRead(`${engineKey({ url: c.url, username: c.http.username })}|sds`, 10_000, () => c.storageDomains.list());
      const ids = new Set((await c.templates.disks(tId).catch(() => [] as Disk[])).flatMap((d) => (d.storage_domains ?? []).map((x) => x.id).concat(d.storage_domain?.id ?? [])));
      lands = sds.filter((d) => ids.has(d.id)).map((d) => d.name);
      where = "in the target data center";
    }
  }
  if (!lands) {
    if (!(a.expectTemplates && a.expectTemplates.includes(tName))) {
      return {
        property: "collapseSnapshots",
        reason:
          `collapseSnapshots: VM ${copy.name} is a thin VM based on template ${tName}, which is not in the target data center. ` +
          `Import template ${tName} first (a VmImport with kind: "template", name: "${tName}", and make this import depend on it — ` +
          `list it in expectTemplates), or set collapseSnapshots: true to import a self-contained copy.`,
      };
    }
    lands = a.expectTemplateDomains?.[tName];
    where = "where this stack imports it (expectTemplateDomains)";
  }
  if (!lands || lands.length === 0) return undefined;
  // ImportVmCommand.checkTemplateInStorageDomain, and VDSM's copy of a chain: a thin disk stays linked to its
  // template's disk, so it must land on a domain holding the template
  const off = diskDestinations(a, copyDisks).find((d) => !lands!.includes(d.name));
  if (!off) return undefined;
  const on = lands.map((n) => JSON.stringify(n)).join(", ");
  return {
    property: off.property,
    reason:
      `${off.property}: VM ${copy.name} is a thin VM based on template ${tName}; imported without collapse its disks stay linked to the template's disks, ` +
      `so they must land on a storage domain holding the template. Template ${tName} is on ${on} (${where}); ${off.property} is "${off.name}". ` +
      `Set ${off.property}: ${JSON.stringify(lands[0])}, import template ${tName} onto "${off.name}" (its VmImport's storageDomain or disks[].storageDomain), ` +
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
function allocationIndex(a: VmImportArgs): number {
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

function diskSpecs(a: VmImportArgs, copyDisks: Disk[], sdIds: Map<string, string>, defaultSdId: string): Array<{ id: string; sparse?: boolean; format?: "cow" | "raw"; storageDomainId?: string }> {
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

interface Resolved {
  c: OvirtClient;
  cluster: Cluster;
  dcId: string;
  sd: StorageDomain;
  exportSd: StorageDomain;
  copy: Entity;
  copyDisks: Disk[];
  diskSdIds: Map<string, string>;
}

async function resolve(a: VmImportArgs): Promise<Resolved> {
  const c = clientFor(a.engine);
  const key = engineKey(a.engine);
  const cluster = await resolveCluster(c, key, a.cluster);
  const dcId = cluster.data_center!.id!;
  // one fresh listing of the data center's domains (status) for the data domains and the export domain
  const attached = await attachedDomains(c, dcId);
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
  // the domain's listing: fresh, one request shared by the imports asking at the same time
  const listing = await exportListing(c, a.kind, exportSd.id);
  const copy = listing.find((x) => x.name === a.name);
  if (!copy) {
    const all = listing.map((x) => x.name);
    throw new ArgError("name", `name: export domain ${a.exportDomain} holds no ${a.kind} named "${a.name}".${suggest(a.name, all)}`);
  }
  const copyDisks = await content.disks(exportSd.id, copy.id).catch(() => [] as Disk[]);
  return { c, cluster, dcId, sd, exportSd, copy, copyDisks, diskSdIds };
}

/** The preview/apply error of a CPU profile the target cluster does not have: names the field and lists the cluster's profiles. */
export function unknownCpuProfile(cluster: string, name: string, profiles: Array<{ name: string }>): string {
  const names = profiles.map((p) => p.name);
  return `cpuProfile: cluster ${cluster} has no CPU profile "${name}". Its CPU profiles: ${names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "(none)"}.`;
}

async function outputsFor(r: Resolved, a: VmImportArgs, e: Entity, flags: { imported: boolean; ownership: Ownership; cloned: boolean; collapsed: boolean; permissionIds: string[]; ownPermissionIds?: string[]; cpuProfileId?: string }): Promise<VmImportOutputs> {
  const disks = (a.kind === "vm" ? followedDisks(e) : undefined) ?? (a.kind === "vm" ? await r.c.vms.disks(e.id) : await r.c.templates.disks(e.id));
  return {
    ...a,
    vmId: e.id,
    vmName: e.name,
    sourceId: r.copy.id,
    exportDomainId: r.exportSd.id,
    clusterId: r.cluster.id,
    dataCenterId: r.dcId,
    storageDomainId: r.sd.id,
    importedDisks: disks.map((d) => ({
      id: d.id,
      alias: d.alias ?? d.name,
      sizeBytes: d.provisioned_size ?? 0,
      storageDomainId: d.storage_domains?.[0]?.id ?? d.storage_domain?.id,
      sparse: d.sparse,
      format: d.format,
    })),
    architecture: e.cpu?.architecture ?? r.copy.cpu?.architecture ?? r.cluster.cpu?.architecture,
    ...flags,
    // what happened, not only what was asked: a clone is always collapsed
    collapseSnapshots: a.kind === "vm" ? a.collapseSnapshots || flags.collapsed : a.collapseSnapshots,
  };
}

async function run(a: VmImportArgs, progress: Progress, urn: string | undefined, prev?: VmImportOutputs): Promise<VmImportOutputs> {
  const r = await resolve(a);
  const { c, cluster, dcId, copy } = r;
  const label = `${a.kind === "vm" ? "VM" : "template"} ${a.name}`;
  const dcCache = new Map<string, string | undefined>();
  const bytes = r.copyDisks.reduce((s, d) => s + Math.max(d.provisioned_size ?? 0, d.actual_size ?? 0), 0);
  const deadline = Date.now() + timeoutMsForBytes(bytes, a.timeoutMinutes);

  // architecture of the copy vs the cluster
  const arch = copy.cpu?.architecture;
  if (arch && arch !== "undefined" && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
    throw new ArgError("cluster", `cluster: ${label} is ${arch} but cluster ${cluster.name} is ${cluster.cpu.architecture}; choose a ${arch} cluster`);
  }

  // conflicts: same id anywhere, or same name in the target data center
  // one fresh read per name for this decision (shared with the other imports deciding now)
  const cloneNames = a.clone || a.onConflict === "clone" ? (a.newName ? [a.newName] : a.cloneSuffix ? [a.name + a.cloneSuffix] : [a.name, `${a.name}-clone`]) : [];
  const byName = new Map<string, Promise<Entity[]>>();
  for (const n of new Set([a.name, ...cloneNames])) byName.set(n, entityByName(c, a.kind, n));
  byName.forEach((p) => p.catch(() => undefined));
  const sameId = await getEntity(c, a.kind, copy.id);
  const sameIdDc = sameId ? await entityDc(c, sameId, dcCache) : undefined;
  /**
   * Entities named `n` in the target data center: VM and template names are unique per data center (the engine's
   * ImportVm/ImportVmTemplate validation looks the name up with the target storage pool id), ids in the whole engine.
   * `read` is an answer already asked for; without it the read is fresh.
   */
  const inTargetDc = async (n: string, read?: Promise<Entity[]>): Promise<Entity[]> => {
    const out: Entity[] = [];
    for (const e of await (read ?? entityByName(c, a.kind, n))) if ((await entityDc(c, e, dcCache)) === dcId) out.push(e);
    return out;
  };
  const namedInDc = (await inTargetDc(a.name, byName.get(a.name))).find((e) => e.id !== copy.id);

  // stable per resource (its URN) and per target: an interrupted or state-lost run of this same resource proves its
  // own import; another stack or resource importing the same copy does not (ownership.ts)
  const corrFor = (n: string) => importCorrelationId(urn, r.exportSd.id, copy.id, n, cluster.id);
  /** An entity named `n` in the target data center that an earlier attempt of this resource created. */
  const oursNamed = async (n: string): Promise<Entity | undefined> => {
    for (const e of (await inTargetDc(n, byName.get(n))).filter((x) => x.id !== copy.id)) {
      if (await createdBy(c, [corrFor(n)], e.id)) return e;
    }
    return undefined;
  };

  let clone = a.clone;
  /** resumed: an import this resource started earlier (ours); adopted: taken over because the user said adopt */
  let adopt: Entity | undefined;
  let ownership: Ownership = "created";
  let name = a.name;
  if (sameId && sameIdDc === dcId && !a.clone && (await createdBy(c, [corrFor(a.name)], sameId.id))) {
    adopt = sameId; // our own earlier (interrupted, or state lost) plain import
  }
  if (!adopt && (a.clone || a.onConflict === "clone")) {
    for (const n of cloneNames) {
      const o = await oursNamed(n);
      if (o) {
        adopt = o;
        clone = true;
        name = n;
        break;
      }
    }
  }
  if (!adopt && a.adopt) {
    // the user told us to take over what is there (same id, or the target name, in the target data center)
    const there = sameId && sameIdDc === dcId ? sameId : namedInDc;
    if (there) {
      adopt = there;
      ownership = "adopted";
      name = there.name;
      progress.info(`${label}: ${adoptionNote(a.kind === "vm" ? "VM" : "template", there.name, there.id)}`);
    }
  }
  const nameTaken = !!namedInDc || (!!sameId && sameIdDc === dcId && sameId.name === a.name);
  if (!adopt) {
    if (!clone && (sameId || namedInDc)) {
      const what = sameId
        ? `${a.kind === "vm" ? "a VM" : "a template"} with the same id already exists in engine ${c.url} (${sameId.name}${sameIdDc && sameIdDc !== dcId ? ", in another data center" : ""})`
        : `${a.kind === "vm" ? "a VM" : "a template"} named ${a.name} already exists in the target data center`;
      if (a.onConflict === "skip") {
        const existing = namedInDc ?? sameId!;
        progress.info(`${label}: ${what}; skipped (onConflict: "skip")`);
        return outputsFor(r, a, existing, { imported: false, ownership: "skipped", cloned: false, collapsed: false, permissionIds: [] });
      }
      if (a.onConflict === "fail") {
        throw new ArgError(
          "onConflict",
          `onConflict: cannot import ${label}: ${what} (id ${(sameId ?? namedInDc)!.id}), and this resource did not create it. ` +
            `Set onConflict: "clone" to import a copy (new id and MACs; newName or cloneSuffix for a new name), onConflict: "skip" to leave the existing one alone, ` +
            `or adopt: true to manage the existing one (it is then kept on destroy). Check cluster too: importing into the source's own data center conflicts with the source.`,
        );
      }
      clone = true;
    }
    const macSource = a.expectExportDomain?.engine && !sameEngine(a.expectExportDomain.engine, a.engine) ? a.expectExportDomain.engine : undefined;
    if (!clone && a.kind === "vm" && a.onConflict === "clone" && macSource) {
      // MACs in use in the target cluster's pool: a conflict like the others (macConflicts.ts; check says so too)
      const mf = await previewMacConflict({ c, key: engineKey(a.engine), cluster, vmName: a.name, copyId: copy.id, source: { client: clientFor(macSource), url: macSource.url } });
      if (mf) {
        clone = true;
        progress.info(`${label}: its MAC addresses are in use in the MAC pool of cluster ${cluster.name}; imported as a clone (onConflict: "clone")`);
      }
    }
    name = targetName(a, clone, nameTaken);
  }
  // a clone always collapses (as the admin portal's Clone does); the engine requires it for snapshots/templates.
  // A per-disk allocation is applied only to a collapsed copy: it collapses too (allocationCollapses)
  const collapse = a.collapseSnapshots || (clone && a.kind === "vm") || allocationCollapses(a);
  if (!adopt) {
    const ta = templateAllocationFailures(a)[0];
    if (ta) throw new ArgError(ta.property, ta.reason);
    const tProblem = await templateProblem(c, a, copy, domainLookup(c, r.exportSd.id, a), dcId, collapse, r.copyDisks);
    if (tProblem) throw new ArgError(tProblem.property, tProblem.reason);
  }

  const correlationId = corrFor(name);
  const entityDoneById = async (id: string) => {
    const e = await getEntity(c, a.kind, id);
    return !!e && e.status !== "image_locked" && e.status !== "locked";
  };

  if (clone && !adopt) {
    if ((await inTargetDc(name)).length > 0) {
      throw new ArgError(
        "newName",
        `newName: the clone name ${name} is already taken in the target data center; set newName (or another cloneSuffix).`,
      );
    }
  }

  let entity: Entity | undefined = adopt;
  let adoptedLocked = false;
  if (adopt) {
    if (ownership === "created") progress.info(`${label}: resuming ${adopt.name} (${adopt.id}), imported by an earlier run of this resource`);
    if (adopt.status === "image_locked" || adopt.status === "locked") {
      adoptedLocked = true;
      await waitForJob({
        c,
        correlationId,
        what: `import of ${label}`,
        deadline,
        progress,
        totalBytes: bytes,
        entityDone: () => entityDoneById(adopt!.id),
      });
    }
  } else {
    const specs = diskSpecs(a, r.copyDisks, r.diskSdIds, r.sd.id);
    progress.info(`importing ${label}${clone ? ` as ${name}` : ""} into ${cluster.name}${collapse ? " (collapsing snapshots)" : ""}`);
    /** The entity this import creates: by id, or for a clone by name in the target data center (the source VM of
     * the same name lives in another data center of this engine and must not be taken for it). */
    const find = async (): Promise<Entity | undefined> => {
      if (!clone) {
        const e = await getEntity(c, a.kind, copy.id);
        return e && (await entityDc(c, e, dcCache)) === dcId ? e : undefined;
      }
      return (await inTargetDc(name))[0];
    };
    let jobId: string | undefined;
    for (;;) {
      try {
        const res = await c.exportContent(a.kind).import(r.exportSd.id, copy.id, {
          storageDomainId: r.sd.id,
          clusterId: cluster.id,
          clone,
          newName: clone ? name : undefined,
          collapseSnapshots: collapse,
          disks: specs,
          correlationId,
        });
        jobId = res.job?.id;
        break;
      } catch (e: any) {
        if (e?.name === "EngineUnavailableError" && e.ambiguous) {
          await sleep(500);
          const jobs = await c.jobs.byCorrelationId(correlationId).catch(() => []);
          if (jobs.length > 0) {
            jobId = jobs[0].id;
            break;
          }
          if (await find()) break;
          if (Date.now() > deadline) throw e;
          continue;
        }
        if (e instanceof EngineError) {
          const t = engineText(e);
          if (/must be collapsed/i.test(t)) {
            throw new ArgError("collapseSnapshots", `collapseSnapshots: ${t} Set collapseSnapshots: true.`);
          }
          if (/Template doesn't exist|does not contain the VM Template|Template is missing/i.test(t)) {
            throw new ArgError("collapseSnapshots", `collapseSnapshots: ${t} Import the VM's template first, or set collapseSnapshots: true.`);
          }
          if (a.kind === "vm" && isMacDuplicatesRefusal(t)) {
            // the copy's MACs are in use in the target cluster's MAC pool (macConflicts.ts): name them and the fix
            const src = a.expectExportDomain?.engine && !sameEngine(a.expectExportDomain.engine, a.engine) ? a.expectExportDomain.engine : undefined;
            throw await macRefusal(
              { c, key: engineKey(a.engine), cluster, vmName: a.name, copyId: copy.id, source: src ? { client: clientFor(src), url: src.url } : undefined },
              t,
            );
          }
          if (/already exists/i.test(t)) {
            throw new ArgError("onConflict", `onConflict: ${t}. Set onConflict: "clone" or "skip".`);
          }
          if (/architecture/i.test(t)) throw new ArgError("cluster", `cluster: ${t}`);
          throw new Error(`import of ${label} refused by the engine: ${t}`);
        }
        throw e;
      }
    }
    // entityDone reads; entityFailed judges from that same read (waitForJob calls it right after)
    let seen = false;
    let last: Entity | undefined;
    let done: Entity | undefined;
    const lost = lostWhen(async () => !last, `import of ${label}`);
    await waitForJob({
      c,
      jobId,
      correlationId,
      what: `import of ${label}`,
      deadline,
      progress,
      totalBytes: bytes,
      entityDone: async () => {
        const e = (last = await find());
        if (e) seen = true;
        const ok = !!e && e.status !== "image_locked" && e.status !== "locked";
        if (ok) done = e;
        return ok;
      },
      entityFailed: async () => {
        // seen, then gone: the engine's failure path removed it; never seen: lost after a grace period
        if (!seen) return lost();
        return last ? undefined : await failureReason(c, correlationId);
      },
    });
    // the entity entityDone saw unlocked (a fresh read made after the job ended)
    entity = done ?? (await find());
    if (!entity) throw new Error(`import of ${label} failed in the engine: ${await failureReason(c, correlationId)}`);
    progress.info(`imported ${label} as ${entity.name} (${entity.id})`);
  }

  // CPU profile and permissions
  let cpuProfileId: string | undefined;
  let changed = !entity || adoptedLocked;
  if (a.cpuProfile) {
    const profiles = await c.clusters.cpuProfiles(cluster.id);
    const p = profiles.find((x) => x.name === a.cpuProfile);
    if (!p) throw new ArgError("cpuProfile", unknownCpuProfile(cluster.name, a.cpuProfile, profiles));
    cpuProfileId = p.id;
    if (entity!.cpu_profile?.id !== p.id) {
      if (a.kind === "vm") await c.vms.update(entity!.id, { cpu_profile: { id: p.id } });
      else await c.templates.update(entity!.id, { cpu_profile: { id: p.id } });
      changed = true;
    }
  }
  const granted = await applyPermissions(c, a.kind, entity!.id, a.permissions, prev?.ownPermissionIds ?? [], progress);
  // read again only when we changed the entity (permissions live apart from it)
  if (changed || (a.kind === "vm" && !followedDisks(entity!))) entity = (await getEntity(c, a.kind, entity!.id)) ?? entity!;
  return outputsFor(r, a, entity!, {
    imported: ownership === "created",
    ownership,
    cloned: clone,
    collapsed: collapse,
    permissionIds: granted.ids,
    ownPermissionIds: granted.ours,
    cpuProfileId,
  });
}

/** Where `check` read the copy to import (a preview may run before the export, and before the domain's move). */
interface CopyView {
  /** the copy on the domain, or (`fromSource`) the source itself when the copy is not made yet */
  copy?: Entity;
  fromSource: boolean;
  /** the domain's listing, or the sources of the source data center: the batch's architectures */
  listing: Entity[];
  look: TemplateLookup;
  /** the id of the export domain (the same in every engine: the domain's own UUID) */
  exportSdId?: string;
  /** what could not be read yet, for the preview line */
  note?: string;
}

/**
 * The copy `check` validates against: on the export domain in the target engine; else, when this stack brings the
 * domain (`expectExportDomain`), on the domain where it is now (the source engine, before a cross-engine move); else
 * the source VM/template in `expectExportDomain.dataCenter` (the copy is not made yet: the export is planned too).
 */
async function copyView(c: OvirtClient, key: string, args: VmImportArgs, exportSd: StorageDomain | undefined, otherEngine: boolean): Promise<CopyView> {
  const exp = args.expectExportDomain;
  let listing: Entity[] = [];
  // the engine cannot list a domain attached nowhere or not active: unknown contents, said in the preview line
  let unreadable: string | undefined;
  if (exportSd) {
    const contents = await exportContents<Entity>(c, key, args.kind, exportSd);
    listing = contents.items;
    unreadable = contents.unreadable;
    const copy = listing.find((x) => x.name === args.name);
    if (copy || !exp) {
      const note = unreadable ? `${unreadable}: the copy of ${args.name} is looked for, and checked (conflicts, architecture, template), when the import runs` : undefined;
      return { copy, fromSource: false, listing, look: domainLookup(c, exportSd.id, args), exportSdId: exportSd.id, note };
    }
  }
  const what = args.kind === "vm" ? "VM" : "template";
  const srcEngine = otherEngine ? exp!.engine! : args.engine;
  const sc = otherEngine ? clientFor(srcEngine) : c;
  const skey = otherEngine ? `${srcEngine.url}|${srcEngine.username}` : key;
  const nameOf = async (id: string) => (await sc.templates.get(id).catch(() => undefined))?.name;
  const exported = exp!.templates ?? [];
  const arrives = otherEngine && !exportSd
    ? `export domain ${args.exportDomain} is not in engine ${args.engine.url} yet: this stack brings it from data center ${exp!.dataCenter} of engine ${srcEngine.url}`
    : undefined;
  let srcSd: StorageDomain | undefined;
  if (otherEngine && !exportSd) {
    // before the move: the domain and its listing in the source engine
    const srcSds = await cachedRead(`${skey}|sds`, 10_000, () => sc.storageDomains.list());
    srcSd = srcSds.find((d) => d.name === args.exportDomain && (!d.type || d.type === "export"));
    if (srcSd) {
      const sid = srcSd.id;
      const srcContents = await exportContents<Entity>(sc, skey, args.kind, srcSd);
      const srcListing = srcContents.items;
      unreadable = srcContents.unreadable;
      const copy = srcListing.find((x) => x.name === args.name);
      const look: TemplateLookup = { onDomain: (id) => sc.exportTemplates.get(sid, id).catch(() => undefined), nameOf, exported };
      if (copy) {
        return {
          copy,
          fromSource: false,
          listing: srcListing,
          look,
          exportSdId: sid,
          note: `${arrives}; checked against the copy of ${args.name} on it there (id ${copy.id}). Checked when it arrives: the domain's status in the target data center and the copy's disks`,
        };
      }
    }
  }
  // the copy is not made yet: the source in the data center the domain comes from
  const sdId = exportSd?.id ?? srcSd?.id;
  const look: TemplateLookup = sdId
    ? { onDomain: (id) => (exportSd ? c : sc).exportTemplates.get(sdId, id).catch(() => undefined), nameOf, exported }
    : { onDomain: async () => undefined, nameOf, exported };
  const [all, clusters, dcs] = await Promise.all([
    args.kind === "vm" ? cachedRead(`${skey}|vms`, 10_000, () => sc.vms.list()) : cachedRead(`${skey}|templates`, 10_000, () => sc.templates.list()),
    cachedRead(`${skey}|clusters`, 10_000, () => sc.clusters.list()),
    cachedRead(`${skey}|dcs`, 10_000, () => sc.datacenters.list()),
  ]);
  const dc = dcs.find((d) => d.name === exp!.dataCenter);
  const sources = (all as Entity[]).filter((e) => !!dc && clusters.find((cl) => cl.id === e.cluster?.id)?.data_center?.id === dc.id);
  const source = sources.find((e) => e.name === args.name);
  const unattached = !!exportSd && (exportSd.data_centers ?? []).length === 0 && !exportSd.data_center;
  const head =
    arrives ??
    (unattached
      ? `export domain ${args.exportDomain} is in engine ${args.engine.url} but attached to no data center yet (on its way to the target): its copies cannot be listed`
      : unreadable
        ? `${unreadable} (the copy of ${args.name} may be on it or not exported yet)`
        : `the copy of ${args.name} is not on export domain ${args.exportDomain} yet`);
  const domainGone = otherEngine && !exportSd && !srcSd ? ` (the domain is in neither engine right now: on its way)` : "";
  if (!source) {
    return {
      fromSource: true,
      listing: sources,
      look,
      exportSdId: sdId,
      note: `${head}${domainGone}; there is no ${what} ${args.name} in data center ${exp!.dataCenter} of engine ${srcEngine.url} to check it against (the export's preview says why). Checked at import time: the copy, its disks, conflicts`,
    };
  }
  // a flat export (discardSnapshots) drops the template link
  const copy = exp!.discardSnapshots && args.kind === "vm" ? ({ ...source, template: { id: BLANK_TEMPLATE_ID } } as Entity) : source;
  return {
    copy,
    fromSource: true,
    listing: sources,
    look,
    exportSdId: sdId,
    note:
      `${head}${domainGone}; ${unattached ? "" : "the copy is not made yet: "}checked against the source ${what} ${args.name} (id ${source.id}) in data center ${exp!.dataCenter}. ` +
      `Checked when it is there: ${arrives ? "the domain's status in the target data center, " : ""}the copy's disks`,
  };
}

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  // collapseSnapshots turned on by an earlier check (a clone): the user's own value was false
  if (prev && olds[COLLAPSE_IMPLIED_KEY] === true) prev.collapseSnapshots = false;
  const inPlace = {
    permissions: undefined,
    cpuProfile: undefined,
    engine: undefined,
    adopt: undefined,
    keepOnDelete: undefined,
    timeoutMinutes: undefined,
    // what the stack does before the import: read by the preview only, never a change of the import
    expectExportDomain: undefined,
  };
  const unchanged =
    prev && jsonEqual({ ...prev, ...inPlace }, { ...userInputs(news), ...inPlace }) && (await sameEngineProbe(prev.engine, userInputs(news).engine));
  if (hasUnknowns || unchanged) {
    // what the engine would ignore (known values only)
    if (hasUnknowns) fs.push(...templateAllocationFailures(args));
    // only the in-place fields (and the connection) can have changed: validate those
    if (!hasUnknowns && prev) {
      await checkConnectionChange(prev.engine, args.engine, fs);
      if (fs.length === 0) await checkPermissionsAndProfile(args, fs);
    }
    return { inputs: news, failures: [...failures, ...fs] };
  }
  const urn = news[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `import ${args.name}`);
  const label = `${args.kind === "vm" ? "VM" : "template"} ${args.name}`;
  let implied = false;
  // what the engine would ignore is refused before anything is read
  fs.push(...templateAllocationFailures(args));
  try {
    const c = clientFor(args.engine);
    const key = `${args.engine.url}|${args.engine.username}`;
    const clusters = await cachedRead(`${key}|clusters`, 10_000, () => c.clusters.list());
    const cluster = clusters.find((x) => x.name === args.cluster);
    const sds = await cachedRead(`${key}|sds`, 10_000, () => c.storageDomains.list());
    if (!cluster) {
      fs.push({ property: "cluster", reason: `cluster: cluster "${args.cluster}" does not exist in engine ${args.engine.url}.${suggest(args.cluster, clusters.map((x) => x.name))}` });
    }
    const dcId = cluster?.data_center?.id;
    const checkSd = async (name: string, property: string) => {
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
          const f = wrongDataCenter(property, sd, cluster, dcId, dcs, attached.filter((d) => d.type === "data").map((d) => d.name), await originDc());
          // one failure per field (the main storage domain and a disk's may both point at the other data center)
          if (!fs.some((x) => x.property === f.property)) fs.push(f);
        }
      }
    };
    const exp = args.expectExportDomain;
    const otherEngine = !!exp?.engine && !sameEngine(exp.engine, args.engine);
    const exportSd = sds.find((d) => d.name === args.exportDomain);
    /**
     * The data center (of this engine) the VM comes from, when it can be told: the one this stack exports from
     * (expectExportDomain), else the data center of the copy's source (same id in this engine), else the one the
     * export domain is attached to now (a preview runs before the domain moves). Undefined across engines.
     */
    const originDc = async (): Promise<string | undefined> => {
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
    };
    await checkSd(args.storageDomain, "storageDomain");
    for (const [i, d] of (args.disks ?? []).entries()) if (d.storageDomain) await checkSd(d.storageDomain, `disks[${i}].storageDomain`);
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
    await checkPermissionsAndProfile(args, fs, cluster);
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
        return { inputs: news, failures: [...failures, ...fs] };
      }
      const copy = view.copy;
      if (view.note) progress.info(view.note);
      if (copy) {
        const arch = copy.cpu?.architecture;
        if (arch && arch !== "undefined" && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
          fs.push({ property: "cluster", reason: `cluster: ${args.name} is ${arch} but cluster ${cluster.name} is ${cluster.cpu.architecture}; choose a ${arch} cluster` });
        }
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
                c, key, cluster, vmName: args.name, copyId: copy.id,
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
          const nameTaken = !!sameName || (sameIdInTarget && sameId!.name === args.name);
          const as = targetName(args, true, nameTaken);
          const why = args.clone
            ? "clone: true"
            : sameId && !sameIdInTarget
              ? `${label} (id ${sameId.id}) keeps that id in engine ${args.engine.url}, and ids are unique per engine`
              : macConflict
                ? `its MAC addresses are in use in the MAC pool of cluster ${cluster.name}, and onConflict is "clone"`
              : `${sameName ? `the name ${args.name}` : `the id ${copy.id}`} is taken in the target data center`;
          progress.info(
            args.kind === "vm"
              ? `${label}: ${CLONE_NOTE} (${why}); it arrives as ${as}`
              : `${label}: imported as a clone: new id (${why}); it arrives as ${as}`,
          );
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
        if (!args.clone && args.onConflict === "fail" && conflict) {
          const other = (sameName ?? sameId)!;
          const otherDc = other.cluster?.id ? cache.get(other.cluster.id) : undefined;
          const where = otherDc === dcId ? "in the target data center" : `in engine ${args.engine.url} (same id${otherDc ? `, data center ${otherDc}` : ""})`;
          fs.push({
            property: "onConflict",
            reason:
              `onConflict: ${args.kind} ${args.name} already exists ${where}: ${other.name} (id ${other.id}), not created by this resource` +
              `${sameIdInTarget && !sameName ? " — it is the source itself: is cluster right? (the target cluster is in the source's data center)" : ""}. ` +
              `Set onConflict: "clone" (new id and MACs; newName or cloneSuffix for a new name), "skip" (leave it alone), or adopt: true (manage it; kept on destroy).`,
          });
        }
      }
      if (args.batch) {
        if (!args.batch.members.includes(args.name)) fs.push({ property: "batch.members", reason: `batch.members: must include this VM (${args.name})` });
        const archs = args.batch.members
          .map((m) => view.listing.find((x) => x.name === m))
          .filter((x): x is Entity => !!x)
          .map((x) => ({ name: x.name, arch: x.cpu?.architecture }));
        const mixed = mixedArchitectures(archs);
        if (mixed) {
          fs.push({
            property: "batch",
            reason: `batch: batch "${args.batch.id}" mixes CPU architectures: ${mixed}. One import batch must share one architecture; split it into one batch per architecture.`,
          });
        }
      }
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  // the preview shows what will happen: a clone's snapshots are collapsed (create decides again: COLLAPSE_IMPLIED_KEY)
  const inputs = implied ? { ...news, collapseSnapshots: true, [COLLAPSE_IMPLIED_KEY]: true } : news;
  return { inputs, failures: [...failures, ...fs] };
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

const REPLACE_KEYS = ["exportDomain", "kind", "name", "cluster", "storageDomain", "collapseSnapshots", "onConflict", "clone", "newName", "cloneSuffix", "disks"];
const UPDATE_KEYS = ["permissions", "cpuProfile", "keepOnDelete", "timeoutMinutes", "batch", "expectTemplates", "expectTemplateDomains", "engine", "adopt"];
const defaults: Record<string, unknown> = { kind: "vm", collapseSnapshots: false, onConflict: "fail", clone: false, keepOnDelete: false, adopt: false };

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(VmImportArgs, olds);
  const n = normalizeArgs(VmImportArgs, news);
  const eq = (k: string) => jsonEqual(o[k] ?? defaults[k], n[k] ?? defaults[k]);
  // a clone is collapsed whatever collapseSnapshots says (and its outputs say true): no change for a clone
  // likewise a VM collapsed because a disk has an allocation (allocationCollapses)
  const replaces = REPLACE_KEYS.filter(
    (k) => !eq(k) && !(k === "collapseSnapshots" && (olds?.cloned === true || (olds?.collapsed === true && allocationCollapses(n)))),
  );
  // the same engine reached by another URL (alias, case, default port) is not a new engine
  if (!(await sameEngineLive(o.engine, n.engine, olds?.dataCenterId))) replaces.push("engine");
  const changed = [...replaces, ...UPDATE_KEYS.filter((k) => !eq(k))];
  // a replace removes the VM this resource created first: refused when that VM has run since the import
  const prev = userInputs(olds) as VmImportOutputs;
  if (replaces.length && prev.vmId && mayRemove(prev) && !prev.keepOnDelete && o.engine && typeof o.engine === "object") {
    const parsed = EngineArgs.safeParse(o.engine);
    if (parsed.success) {
      await guardReplace(clientFor(parsed.data), prev.kind ?? "vm", [{ id: prev.vmId, name: prev.vmName }], replaces, `VmImport of ${prev.name}`);
    }
  }
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0, stables: replaces.length ? [] : ["vmId", "vmName", "sourceId"] };
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = VmImportArgs.parse(userInputs(inputs));
  // check turned collapseSnapshots on because it saw a clone coming: the import decides again (a clone collapses)
  if (inputs[COLLAPSE_IMPLIED_KEY] === true) args.collapseSnapshots = false;
  // tapPlan: the job percentages also feed the Migration line (provider/plan/live.ts)
  const progress = tapPlan(progressFor(inputs[PROGRESS_URN_KEY], `import ${args.name}`), inputs[PROGRESS_URN_KEY]);
  const outs = await run(args, progress, inputs[PROGRESS_URN_KEY]);
  return { id: outs.vmId, outs: { ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = VmImportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as VmImportOutputs;
  const progress = tapPlan(progressFor(news[PROGRESS_URN_KEY], `import ${args.name}`), news[PROGRESS_URN_KEY]);
  const c = clientFor(args.engine);
  let cpuProfileId = prev.cpuProfileId;
  let permissionIds = prev.permissionIds ?? [];
  // states written before ownPermissionIds mixed found and added grants: claim none of them (never removes another's)
  let ownPermissionIds = prev.ownPermissionIds ?? [];
  // an adopted entity is managed (profile, permissions); a skipped one is left alone
  if (ownershipOf(prev) !== "skipped") {
    if (!jsonEqual(prev.cpuProfile, args.cpuProfile) && args.cpuProfile) {
      const profiles = await c.clusters.cpuProfiles(prev.clusterId);
      const p = profiles.find((x) => x.name === args.cpuProfile);
      if (!p) throw new ArgError("cpuProfile", unknownCpuProfile(args.cluster, args.cpuProfile, profiles));
      if (args.kind === "vm") await c.vms.update(prev.vmId, { cpu_profile: { id: p.id } });
      else await c.templates.update(prev.vmId, { cpu_profile: { id: p.id } });
      cpuProfileId = p.id;
    }
    if (!jsonEqual(prev.permissions, args.permissions)) {
      const granted = await applyPermissions(c, args.kind, prev.vmId, args.permissions, ownPermissionIds, progress);
      permissionIds = granted.ids;
      ownPermissionIds = granted.ours;
    }
  }
  return { outs: { ...prev, ...args, cpuProfileId, permissionIds, ownPermissionIds, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as VmImportOutputs;
  const c = clientFor(p.engine);
  const e = await getEntity(c, p.kind ?? "vm", p.vmId ?? id);
  if (!e) return {};
  return { id, props: { ...props, vmName: e.name } };
}

async function del(id: string, props: any): Promise<void> {
  const p = userInputs(props) as VmImportOutputs;
  // only what this resource created is ever removed (adopted and skipped entities stay: ownership.ts)
  if (p.keepOnDelete || !mayRemove(p)) return;
  const c = clientFor(p.engine);
  const kind = p.kind ?? "vm";
  // by the recorded id, never by name (a rename out of band does not change what we created)
  const e = await getEntity(c, kind, p.vmId ?? id);
  if (!e) return;
  if (kind === "vm" && e.status && !["down", "image_locked"].includes(e.status)) {
    // never stopped by us: a running VM is someone's production now
    throw new Error(
      `VM ${e.name} (${e.id}) is ${e.status}; destroy never stops a VM. Shut it down yourself and run destroy again, ` +
        `or set keepOnDelete: true and run pulumi up first to keep it.`,
    );
  }
  const progress = progressFor(props[PROGRESS_URN_KEY], `import ${p.name}`);
  const deadline = Date.now() + (p.timeoutMinutes ?? 30) * 60_000;
  if (e.status === "image_locked" || e.status === "locked") {
    await poll(
      async () => {
        const x = await getEntity(c, kind, e.id);
        return !x || (x.status !== "image_locked" && x.status !== "locked") ? { done: true, value: true } : { done: false, progress: `waiting for ${e.name} to unlock` };
      },
      { what: `${e.name} to unlock`, deadline, onProgress: (m) => progress.update(m) },
    );
  }
  progress.update(`removing ${e.name}`);
  if (kind === "vm") await c.vms.remove(e.id);
  else await c.templates.remove(e.id);
  await poll(
    async () => ((await getEntity(c, kind, e.id)) ? { done: false, progress: `removing ${e.name}` } : { done: true, value: true }),
    { what: `removal of ${e.name}`, deadline, onProgress: (m) => progress.update(m) },
  );
}

export const vmImportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
