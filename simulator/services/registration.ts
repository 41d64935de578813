// Moving a DATA domain between data centers (or engines) and registering what is on it: the engine's zero-copy path.
//
// Followed (ovirt-engine, read, not copied):
// - restapi BackendStorageDomainVmsResource.list / BackendStorageDomainTemplatesResource.list (`unregistered`:
//   GetUnregisteredVms / GetUnregisteredVmTemplates = the unregistered_ovf_of_entities rows of the domain, no lookup
//   of the domain itself).
// - restapi BackendStorageDomainVmResource.register: registration_configuration mappings need `from` and `to`
//   (badRequest "Cluster name is missing from source." ...); `cluster` (by id or name), `reassign_bad_macs`,
//   `allow_partial_import`, `clone`, the action's `name` (ImportVmParameters.name: the new name); async false by
//   default (PollingType.JOB: the answer comes when the command is done); `clone` with `<vm><name>` dereferences the
//   parameters' VM, which is null on this path (NullPointerException: 500).
//   BackendStorageDomainTemplateResource.register: no mapping validation; `clone` renames only when `<vm>` is set
//   too (`action.isSetVm() && action.getTemplate().isSetName()`), `<vm>` without `<template>` is a NullPointerException.
// - bll ImportVmFromConfigurationCommand (init: initUnregisteredVM; validate: isValidDisks -> ImportVmCommand.validate
//   -> validateEntityPropertiesWhenImagesOnTarget; executeVmCommand), ImportVmCommandBase (cluster, MAC duplicates,
//   shouldReassignMac, addVmInterfaces), ImportVmCommand (validateBeforeCloneVm, validateAfterCloneVm: duplicate VM,
//   templateExists, checkTemplateInStorageDomain, checkImagesGUIDsLegal, unique name, architecture, free MACs),
//   ImportValidator (validateDiskImagesNotExistOrShareable, validateStorageExistForUnregisteredEntity),
//   VnicWithBadMacPredicate, DrMappingHelper.getMappedCluster.
// - bll ImportVmTemplateFromConfigurationCommand (validateUnregisteredEntity: disks, source storage domains, images),
//   ImportVmTemplateCommand(Base).validate (cluster, pool, architecture, source domain, duplicate id/name, disks).
// - Detach: DetachStorageDomainFromPoolCommand.validate (StorageHandlingCommandBase.canDetachStorageDomainWithVmsAndDisks,
//   StorageDomainCommandBase.canDetachDomain / isDetachAllowed / checkMasterDomainIsUp) and detachNonMasterStorageDomain
//   -> detachStorageDomainWithEntities -> storages_sp.sql Remove_Entities_From_storage_domain.
// - Deactivate of the master: DeactivateStorageDomainCommand.validateMasterDeactivationAllowed, electNewMaster.
// - Texts: AppErrors.properties, AuditLogMessages.properties (174 VM_IMPORT_FROM_CONFIGURATION_EXECUTED_SUCCESSFULLY,
//   180 TEMPLATE_IMPORT_FROM_CONFIGURATION_SUCCESS, 1188/1197 IMPORTEXPORT_PARTIAL_*_MISSING_ENTITIES, 925
//   MAC_ADDRESS_IS_EXTERNAL), ExecutionMessages.properties (job.ImportVmFromConfiguration,
//   job.ImportVmTemplateFromConfiguration).
import * as fs from "node:fs";
import { Ctx, Reply, Router } from "../router";
import { EngineFault, EngineFaults } from "../engineFaults";
import type { Engine } from "../engine";
import {
  BLANK_TEMPLATE_ID, ClusterRec, DataCenterRec, DiskRec, NicRec, StorageDomainRec, TemplateRec, UnregisteredOvfRec, VmRec, VolumeRec,
} from "../model/types";
import { actionComplete, list, resolveCluster } from "./common";
import { bool, child, list as xlist, ref, str, XNode } from "../xml/xml";
import { OvfDisk, OvfEntity } from "../xml/ovf";
import { forgetUnregistered, loadUnregisteredFromStore, parseStoreOvf, readDataVolumeMeta, unregisteredOf, updateOvfStore, volumeExists } from "../storage/ovfStore";
import { allocateMacs, availableMacs, engineList, isMacInRange, macsInUse, poolOfCluster } from "../model/macPools";
import { pools, reportExternalMacs } from "./macPools";
import { volumePath } from "../storage/exportDomain";

type Kind = "vm" | "template";

// ------------------------------------------------------------------ storage-domain lifecycle hooks

/**
 * Before a data domain goes to maintenance (DeactivateStorageDomainWithOvfUpdateCommand -> UpdateOvfStoreForStorageDomain,
 * then DeactivateStorageDomainCommand): the master rules, the OVF store update, and the master role moving to another
 * active data domain (electNewMaster). Called by attachedStorageDomains.ts after its own checks.
 */
export function beforeDataDomainDeactivate(e: Engine, dc: DataCenterRec, sd: StorageDomainRec): void {
  if (sd.type !== "data") return;
  const others = e.state.storageDomains.filter((s) => s.dataCenterId === dc.id && s.id !== sd.id);
  const activeOthers = others.filter((s) => s.status === "active");
  if (sd.master) {
    // validateMasterDeactivationAllowed: active domains besides the master, none of them a data domain
    if (activeOthers.length > 0 && !activeOthers.some((s) => s.type === "data")) throw EngineFaults.deactivateMasterWithNonData();
  }
  updateOvfStore(e, sd);
  if (sd.master) {
    const next = activeOthers.find((s) => s.type === "data");
    if (next) {
      sd.master = false;
      next.master = true;
      e.syncDomainMetadata(next);
      e.syncDomainMetadata(sd);
      e.markDirty();
    }
  }
}

/**
 * DetachStorageDomainFromPoolCommand.validate for a data domain (after the status check): the master with other domains
 * still attached (isDetachAllowed), a non-master while the master is not active (checkMasterDomainIsUp).
 */
export function checkDataDomainDetach(e: Engine, dc: DataCenterRec, sd: StorageDomainRec): void {
  if (sd.type !== "data") return;
  const others = e.state.storageDomains.filter((s) => s.dataCenterId === dc.id && s.id !== sd.id);
  if (sd.master) {
    if (others.length > 0) throw EngineFaults.detachMasterWithOthers();
  } else if (!others.some((s) => s.master && s.status === "active")) throw EngineFaults.masterNotActive("detach");
}

/**
 * DetachStorageDomainFromPoolCommand.detachNonMasterStorageDomain -> Remove_Entities_From_storage_domain: the engine
 * forgets what lives on the domain. VMs and templates whose disks are all there are removed (with the VMs based on
 * such a template); an entity with disks on other domains too keeps them and loses the disks of this domain.
 * Their MACs go back to the pool (releaseStorageDomainMacPool; here MACs in use are derived from the VMs there are).
 * The OVF store on the domain still has them: the next data center lists them as unregistered.
 */
export function removeDomainEntities(e: Engine, sd: StorageDomainRec): { vms: string[]; templates: string[] } {
  if (sd.type !== "data") return { vms: [], templates: [] };
  const only = (disks: DiskRec[]) => disks.length > 0 && disks.some((d) => d.storageDomainId === sd.id) && disks.every((d) => d.storageDomainId === sd.id);
  const goneTemplates = new Set(e.state.templates.filter((t) => only(t.disks)).map((t) => t.id));
  const goneVms = new Set(e.state.vms.filter((v) => only(v.disks) || goneTemplates.has(v.templateId)).map((v) => v.id));
  const removed = { vms: e.state.vms.filter((v) => goneVms.has(v.id)).map((v) => v.name), templates: e.state.templates.filter((t) => goneTemplates.has(t.id)).map((t) => t.name) };
  e.state.vms = e.state.vms.filter((v) => !goneVms.has(v.id));
  e.state.templates = e.state.templates.filter((t) => !goneTemplates.has(t.id));
  for (const x of [...e.state.vms, ...e.state.templates]) {
    if (x.disks.some((d) => d.storageDomainId === sd.id)) x.disks = x.disks.filter((d) => d.storageDomainId !== sd.id);
  }
  if (sd.master) {
    // the master's detach destroys the pool (masterDomainDetachWithDestroyPool): the domain leaves as a plain one
    sd.master = false;
  }
  e.markDirty();
  return removed;
}

/** AttachStorageDomainToPoolCommand (data domain): the OVF store read into unregistered rows; the pool's first data domain is its master. */
export function onDataDomainAttach(e: Engine, dc: DataCenterRec, sd: StorageDomainRec): void {
  if (sd.type !== "data") return;
  if (!e.state.storageDomains.some((s) => s.id !== sd.id && s.dataCenterId === dc.id && s.master)) sd.master = true;
  loadUnregisteredFromStore(e, sd);
}

/** RemoveStorageDomain: the domain's unregistered rows go with it (FK on storage_domain_static). */
export function onDomainRemoved(e: Engine, sdId: string): void {
  const n = e.state.unregisteredOvfs?.length ?? 0;
  e.state.unregisteredOvfs = (e.state.unregisteredOvfs ?? []).filter((u) => u.storageDomainId !== sdId);
  if (e.state.unregisteredOvfs.length !== n) e.markDirty();
}

// ------------------------------------------------------------------ unregistered listings

/** `unregistered=true` on /storagedomains/{sd}/vms|templates: the domain's rows (none for an unknown id). */
export function listUnregistered(ctx: Ctx, kind: Kind): Reply {
  const coll = kind === "vm" ? "vms" : "templates";
  const sd = ctx.engine.sd(ctx.params.sd);
  const rows = sd ? unregisteredOf(ctx.engine, sd.id, kind) : [];
  const ents: OvfEntity[] = [];
  for (const r of rows) {
    try {
      ents.push(parseStoreOvf(sd!, kind, r.ovf));
    } catch {
      // GetUnregisteredVmsQuery: an OVF it cannot parse is left out (the query still succeeds)
    }
  }
  return list(ctx, coll, kind, ents, (x, f) => ctx.w.ovfVm(sd!, x, f));
}

// ------------------------------------------------------------------ register

interface Common {
  sd: StorageDomainRec | undefined;
  row: UnregisteredOvfRec | undefined;
  ent: OvfEntity | undefined;
  cluster: ClusterRec | undefined;
  clone: boolean;
  allowPartial: boolean;
}

const nameOf = (c: XNode | undefined) => str(c, "name");

/** registration_configuration/cluster_mappings as name -> name (ExternalRegistrationConfigurationMapper). */
function clusterMap(node: XNode): Map<string, string> {
  const m = new Map<string, string>();
  const rc = child(node, "registration_configuration");
  for (const mp of xlist(rc, "cluster_mappings", "registration_cluster_mapping")) {
    const from = nameOf(child(mp, "from"));
    const to = nameOf(child(mp, "to"));
    if (from && to) m.set(from, to);
  }
  return m;
}

/** BackendStorageDomainVmResource.register: each mapping of the registration configuration needs from and to. */
function validateMappings(node: XNode): void {
  const rc = child(node, "registration_configuration");
  if (!rc) return;
  const groups: Array<[string, string, string, string]> = [
    ["cluster_mappings", "registration_cluster_mapping", "Cluster name is missing from source.", "Cluster name is missing from destination."],
    ["role_mappings", "registration_role_mapping", "Role name is missing from source.", "Role is missing from destination."],
    ["domain_mappings", "registration_domain_mapping", "Domain name is missing from source.", "Domain name is missing from destination."],
    ["affinity_group_mappings", "registration_affinity_group_mapping", "AffinityGroup name is missing from source.", "AffinityGroup name is missing from destination."],
    ["affinity_label_mappings", "registration_affinity_label_mapping", "AffinityLabel name is missing from source.", "AffinityLabel name is missing from destination."],
    ["lun_mappings", "registration_lun_mapping", "Lun id is missing from source.", "Lun is missing from destination."],
  ];
  for (const [plural, single, noFrom, noTo] of groups) {
    for (const mp of xlist(rc, plural, single)) {
      if (!child(mp, "from")) throw EngineFaults.badRequest(noFrom);
      if (!child(mp, "to")) throw EngineFaults.badRequest(noTo);
    }
  }
}

/**
 * registration_configuration/domain_mappings as the restapi hands them to the command (VMs and templates alike):
 * ExternalRegistrationConfigurationMapper.mapExternalDomainMapping collects them with Collectors.toMap(from/name ->
 * to/name), which throws on a null value (a `<to>` without `<name>`, e.g. by id: NullPointerException) and on a
 * `from` name given twice (IllegalStateException "Duplicate key"): neither is caught, the answer is a 500.
 * The map is applied by the command to the users of the OVF's UserDomainsSection only (ImportVmFromConfigurationCommand
 * / ImportVmTemplateFromConfigurationCommand -> DrMappingHelper.mapDbUsers, which looks the map up by the user's
 * LOGIN NAME, and keeps the OVF's user when the target domain has no such user: an unknown `to` domain fails nothing).
 * The simulator's OVF stores carry no users (the OVF store writes no UserDomainsSection), so a well-formed map changes
 * nothing here, as on an engine whose OVF has no users.
 */
function checkDomainMappings(node: XNode): void {
  const seen = new Set<string | undefined>();
  for (const mp of xlist(child(node, "registration_configuration"), "domain_mappings", "registration_domain_mapping")) {
    const from = child(mp, "from") ? nameOf(child(mp, "from")) : undefined;
    if (nameOf(child(mp, "to")) === undefined) {
      throw new EngineFault(500, "Internal Server Error", "java.lang.NullPointerException (ExternalRegistrationConfigurationMapper.mapExternalDomainMapping: a domain mapping's <to> without <name>)");
    }
    if (seen.has(from)) {
      throw new EngineFault(500, "Internal Server Error", `java.lang.IllegalStateException: Duplicate key ${from ?? "null"} (ExternalRegistrationConfigurationMapper.mapExternalDomainMapping: two domain mappings from the same name)`);
    }
    seen.add(from);
  }
}

/**
 * vNIC profile mappings (deprecated `vnic_profile_mappings`, `registration_configuration/vnic_profile_mappings`): the
 * simulator has no networks or vNIC profiles to map to, so a mapping is refused naming it rather than ignored (the
 * engine would re-point the NICs, or list the mapping as missing in event 1188).
 */
function refuseVnicMappings(node: XNode): void {
  const old = xlist(node, "vnic_profile_mappings", "vnic_profile_mapping");
  const rc = xlist(child(node, "registration_configuration"), "vnic_profile_mappings", "registration_vnic_profile_mapping");
  if (old.length || rc.length) {
    throw EngineFaults.badRequest(`${old.length ? "action.vnic_profile_mappings" : "action.registration_configuration.vnic_profile_mappings"}: the simulator does not model networks or vNIC profiles, so it cannot apply vNIC profile mappings; register without them (the NICs keep the OVF's network)`);
  }
}

/** The cluster of the command: the request's, else the OVF's ClusterName through the mappings (DrMappingHelper.getMappedCluster). */
function pickCluster(ctx: Ctx, node: XNode, ent: OvfEntity | undefined): ClusterRec | undefined {
  const given = resolveCluster(ctx, ref(node, "cluster"));
  if (given || !ent) return given;
  const byName = (n: string | undefined) => (n ? ctx.engine.state.clusters.find((c) => c.name === n) : undefined);
  const original = byName(ent.clusterName);
  const mapped = clusterMap(node).get(ent.clusterName);
  return (mapped ? byName(mapped) : undefined) ?? original;
}

function common(ctx: Ctx, kind: Kind, node: XNode): Common {
  const e = ctx.engine;
  const sd = e.sd(ctx.params.sd);
  const row = sd ? unregisteredOf(e, sd.id, kind).find((u) => u.entityId === ctx.params.id) : undefined;
  let ent: OvfEntity | undefined;
  if (row && sd) {
    try {
      ent = parseStoreOvf(sd, kind, row.ovf);
    } catch {
      // ACTION_TYPE_FAILED_OVF_CONFIGURATION_NOT_SUPPORTED
      throw EngineFaults.badRequest(`Cannot import ${kind === "vm" ? "VM" : "Template"}. The OVF configuration could not be parsed.`);
    }
  }
  return { sd, row, ent, cluster: pickCluster(ctx, node, ent), clone: bool(node, "clone") === true, allowPartial: bool(node, "allow_partial_import") === true };
}

/** The storage domain `id` as the command sees it in `dcId` (storageDomainDao.getForStoragePool + isDomainExistAndActive). */
function domainUsable(e: Engine, id: string, dcId: string | undefined): { ok: true } | { ok: false; fault: (k: "VM" | "Template") => EngineFault } {
  const d = e.sd(id);
  if (!d || !dcId || d.dataCenterId !== dcId) return { ok: false, fault: (k) => EngineFaults.storageDomainNotExist("import", k) };
  if (d.status !== "active") return { ok: false, fault: (k) => EngineFaults.storageStatusIllegal("import", k, d.status ?? "unknown") };
  return { ok: true };
}

/** An OVF disk's volumes as volume records of the registered disk (kinds and lazy seeds from the volumes' metadata). */
function diskFromOvf(e: Engine, d: OvfDisk, templateId: string): DiskRec {
  const dsd = e.sd(d.storageDomainId)!;
  const vols: VolumeRec[] = d.volumes.map((v, i) => {
    const m = readDataVolumeMeta(dsd.root, d.diskId, v.id);
    const thinBase = i === 0 && !!v.parentDiskId && v.parentDiskId !== d.diskId;
    const kind = m?.kind ?? (i === 0 && !thinBase ? "base" : "overlay");
    const onDisk = fs.existsSync(volumePath(dsd.root, d.diskId, v.id));
    return {
      id: v.id,
      parentId: i === 0 ? (thinBase ? v.parentId : undefined) : d.volumes[i - 1].id,
      format: v.format,
      kind,
      seed: kind === "base" && !onDisk ? m?.seed : undefined,
    };
  });
  const first = d.volumes[0];
  const thin = !!first && !!first.parentDiskId && first.parentDiskId !== d.diskId && first.parentId !== BLANK_TEMPLATE_ID;
  return {
    id: d.diskId,
    alias: d.alias,
    description: d.description,
    provisionedSize: d.provisionedSize,
    sparse: d.sparse,
    format: d.format,
    storageDomainId: d.storageDomainId,
    bootable: d.bootable,
    interface: d.interface,
    status: "ok",
    volumes: vols,
    templateDisk: thin ? { templateId, diskId: first.parentDiskId!, volumeId: first.parentId, storageDomainId: d.storageDomainId } : undefined,
  };
}

/** The images of a disk that VDSM would not find (GetImageInfo per volume). */
function imagesMissing(e: Engine, d: OvfDisk): boolean {
  const dsd = e.sd(d.storageDomainId);
  return !dsd || d.volumes.some((v) => !volumeExists(dsd.root, d.diskId, v.id));
}

/** A disk (image) of the OVF that this engine already has (DiskImageDao.get by image id / BaseDiskDao by disk id). */
function existingDisk(e: Engine, d: OvfDisk): DiskRec | undefined {
  const hit = e.findDisk(d.diskId)?.disk;
  if (hit) return hit;
  const vols = new Set(d.volumes.map((v) => v.id));
  for (const x of [...e.state.vms, ...e.state.templates]) for (const k of x.disks) if (k.volumes.some((v) => vols.has(v.id))) return k;
  return undefined;
}

function partialEvent(e: Engine, kind: Kind, name: string, failed: string[], cid: string, ids: { vmId?: string; templateId?: string; clusterId: string }): void {
  if (!failed.length) return;
  const missing = `Disks: ${failed.join(", ")} `;
  e.event(kind === "vm"
    ? { code: 1188, severity: "warning", description: `The following entities could not be verified and will not be part of the imported VM ${name}: '${missing}' (User: admin@internal-authz).`, correlationId: cid, ...ids }
    : { code: 1197, severity: "warning", description: `The following entities could not be verified and will not be part of the imported Template ${name}: '${missing}' (User: admin@internal-authz).`, correlationId: cid, ...ids });
}

function registerVm(ctx: Ctx): Reply {
  const e = ctx.engine;
  const node = ctx.body?.node ?? {};
  // restapi register(), before the command
  validateMappings(node);
  refuseVnicMappings(node);
  checkDomainMappings(node);
  if (bool(node, "clone") !== undefined && str(child(node, "vm"), "name") !== undefined) {
    // params.getVm().setName(...) on ImportVmFromConfParameters whose VM is null
    throw new EngineFault(500, "Internal Server Error", "java.lang.NullPointerException (BackendStorageDomainVmResource.register: <clone> with <vm><name>; rename with the action's <name> instead)");
  }
  const c = common(ctx, "vm", node);
  const { sd, ent, cluster, clone, allowPartial } = c;
  const reassign = bool(node, "reassign_bad_macs") === true;
  if (!sd || !ent) throw EngineFaults.vmNotFound("import", "VM");
  const newName = str(node, "name") || undefined;
  const finalName = newName ?? ent.name;
  const dc = e.dc(cluster?.dataCenterId);

  // isValidDisks (images already on the target): disks this engine has, then each disk's own domain in the pool
  const failed = new Map<string, string>();
  let disks = [...ent.disks];
  for (const d of [...disks]) {
    const ex = existingDisk(e, d);
    if (!ex) continue;
    if (!allowPartial) throw EngineFaults.importDisksExist("VM", [ex.alias]);
    failed.set(d.diskId, d.alias);
    disks = disks.filter((x) => x !== d);
  }
  if (cluster) {
    for (const d of [...disks]) {
      const u = domainUsable(e, d.storageDomainId, dc?.id);
      if (u.ok) continue;
      if (!allowPartial) throw u.fault("VM");
      failed.set(d.diskId, d.alias);
      disks = disks.filter((x) => x !== d);
    }
  }
  // ImportVmCommandBase.validate
  if (!cluster || !dc) throw EngineFaults.clusterEmpty("import", "VM");
  pools(e);
  const pool = poolOfCluster(e.state, cluster.id);
  const inUse = macsInUse(e.state, pool);
  const bad = (mac: string) => (!pool.allowDuplicates && inUse.has(mac.toLowerCase())) || !isMacInRange(pool, mac);
  const reassigned = (n: { mac: string }) => !n.mac || clone || (reassign && bad(n.mac));
  const dupNics = ent.nics.filter((n) => !pool.allowDuplicates && !reassigned(n) && inUse.has(n.mac.toLowerCase())).map((n) => n.name);
  if (dupNics.length) throw EngineFaults.macDuplicates(engineList(dupNics));
  // validateBeforeCloneVm: the destination (every image maps to the registering domain: ensureDomainMap)
  const dest = domainUsable(e, sd.id, dc.id);
  if (!dest.ok) throw dest.fault("VM");
  if (sd.type !== "data") throw EngineFaults.storageTypeIllegal("import", "VM");
  if (clone && ent.nics.length > availableMacs(e.state, pool)) throw EngineFaults.macPoolExhausted("import", "VM");
  // validateAfterCloneVm
  if (!clone) {
    const dup = e.vm(ent.id) ?? e.template(ent.id);
    if (dup) throw EngineFaults.vmIdExistsOnImport(dup.name);
  }
  const thin = ent.templateId !== BLANK_TEMPLATE_ID;
  let template: TemplateRec | undefined;
  if (thin) {
    // templateExists: a thin VM needs its template registered first; checkTemplateInStorageDomain: on the destination
    template = e.template(ent.templateId);
    if (!template) throw EngineFaults.templateMissing("import", "VM");
    const tDomains = new Set(template.disks.map((d) => d.storageDomainId));
    if (tDomains.size > 0 && !tDomains.has(sd.id)) throw EngineFaults.templateNotOnDestination("import", "VM");
  }
  // checkImagesGUIDsLegal: the volumes are on the storage
  for (const d of [...disks]) {
    if (!imagesMissing(e, d)) continue;
    if (!allowPartial) throw EngineFaults.vmImageMissing();
    failed.set(d.diskId, d.alias);
    disks = disks.filter((x) => x !== d);
  }
  if (e.state.vms.some((v) => v.name === finalName && e.dcOfCluster(v.clusterId)?.id === dc.id)) throw EngineFaults.vmNameExistsOnImport();
  if (template && template.status === "locked") throw EngineFaults.templateImageLocked();
  if (ent.cpuArchitecture !== cluster.cpuArchitecture) throw EngineFaults.archNotSupported("VM");
  const needNew = ent.nics.filter((n) => reassigned(n)).length;
  if (!clone && needNew > availableMacs(e.state, pool)) throw EngineFaults.macPoolExhausted("import", "VM");

  // execute (no VDSM task: the images are already there)
  const job = ctx.jobs.create({ kind: "other", description: `Importing VM ${finalName} from configuration to Cluster ${cluster.name}`, correlationId: ctx.correlationId, storageDomainIds: [sd.id] });
  const exec = ctx.jobs.addStep(job, "executing", "Executing");
  const newMacs = allocateMacs(e.state, pool, ent.nics.filter((n) => reassigned(n)).length);
  const nics: NicRec[] = ent.nics.map((n) => ({ id: clone ? e.uuid() : n.id, name: n.name, mac: reassigned(n) ? newMacs.shift()! : n.mac, interface: n.interface }));
  const now = new Date().toISOString();
  const vm: VmRec = {
    id: clone ? e.uuid() : ent.id,
    name: finalName,
    description: ent.description,
    comment: ent.comment,
    clusterId: cluster.id,
    status: "down",
    memoryBytes: ent.memoryBytes,
    cpus: ent.cpus,
    cpuArchitecture: ent.cpuArchitecture,
    osType: ent.osType,
    templateId: ent.templateId,
    origin: ent.origin,
    type: ent.vmType,
    // ImportVmCommandBase.addVmStatic / createVmDynamic: created now, last stop now (as for an import)
    creationTime: now,
    stopTime: now,
    snapshots: ent.snapshots.map((s) => ({ id: s.id, description: s.description, date: s.date, type: s.type, status: "ok" as const })),
    disks: disks.map((d) => diskFromOvf(e, d, ent.templateId)),
    nics,
  };
  if (!vm.snapshots.some((s) => s.type === "active")) vm.snapshots.push({ id: e.uuid(), description: "Active VM", date: now, type: "active", status: "ok" });
  partialEvent(e, "vm", vm.name, [...failed.values()], ctx.correlationId, { vmId: vm.id, clusterId: cluster.id });
  e.state.vms.push(vm);
  job.vmId = vm.id;
  // addVmInterfaces: MAC_ADDRESS_IS_EXTERNAL unless the MACs were reassigned (isExternalMacsToBeReported) or cloned
  if (!clone && !reassign) reportExternalMacs(e, vm, ctx.correlationId);
  forgetUnregistered(e, ent.id);
  e.event({ code: 174, description: `VM ${vm.name} has been successfully imported from the given configuration.`, correlationId: ctx.correlationId, vmId: vm.id, clusterId: cluster.id, dataCenterId: dc.id, storageDomainId: sd.id, jobId: job.id });
  ctx.jobs.endStep(job, exec, "finished");
  ctx.jobs.end(job, "finished");
  e.markDirty();
  return actionComplete(ctx);
}

function registerTemplate(ctx: Ctx): Reply {
  const e = ctx.engine;
  const node = ctx.body?.node ?? {};
  refuseVnicMappings(node);
  checkDomainMappings(node);
  const vmNode = child(node, "vm");
  const tNode = child(node, "template");
  const cloneSet = bool(node, "clone") !== undefined;
  if (cloneSet && vmNode !== undefined && tNode === undefined) {
    throw new EngineFault(500, "Internal Server Error", "java.lang.NullPointerException (BackendStorageDomainTemplateResource.register: <clone> with <vm> but no <template>)");
  }
  const c = common(ctx, "template", node);
  const { sd, ent, cluster, clone, allowPartial } = c;
  if (!sd || !ent) throw EngineFaults.vmNotFound("import", "Template");
  // the restapi renames only when <vm> is set too (action.isSetVm() && action.getTemplate().isSetName())
  const newName = cloneSet && vmNode !== undefined ? str(tNode, "name") || undefined : undefined;
  const finalName = newName ?? ent.name;
  if (!cluster) throw EngineFaults.clusterEmpty("import", "Template");
  const dc = e.dc(cluster.dataCenterId)!;
  if (ent.cpuArchitecture !== cluster.cpuArchitecture) throw EngineFaults.templateArchNotSupported();
  // validateSourceStorageDomain: the registering domain in the cluster's pool, active
  const src = domainUsable(e, sd.id, dc.id);
  if (!src.ok) throw src.fault("Template");
  if (!clone) {
    const dup = e.vm(ent.id) ?? e.template(ent.id);
    if (dup) throw EngineFaults.templateIdExistsOnImport(dup.name);
  }
  if (e.state.templates.some((t) => t.name === finalName && e.dcOfCluster(t.clusterId)?.id === dc.id)) throw EngineFaults.templateNameExistsOnImport();
  // validateNoDuplicateDiskImages (ImportVmTemplateCommand.validate, before the partial handling)
  if (!clone) {
    const ex = ent.disks.map((d) => existingDisk(e, d)).filter((x): x is DiskRec => !!x);
    if (ex.length) throw EngineFaults.importDisksExist("Template", ex.map((d) => d.alias));
  }
  // validateUnregisteredEntity: source domains of each image, then the images
  const failed = new Map<string, string>();
  let disks = [...ent.disks];
  for (const d of [...disks]) {
    if (domainUsable(e, d.storageDomainId, dc.id).ok) continue;
    if (!allowPartial) throw EngineFaults.diskImageNotInActiveDomains(d.diskId, d.volumes[d.volumes.length - 1]?.id ?? "");
    failed.set(d.diskId, d.alias);
    disks = disks.filter((x) => x !== d);
  }
  for (const d of [...disks]) {
    if (!imagesMissing(e, d)) continue;
    if (!allowPartial) throw EngineFaults.templateImageMissing();
    failed.set(d.diskId, d.alias);
    disks = disks.filter((x) => x !== d);
  }

  const job = ctx.jobs.create({ kind: "other", description: `Importing Template ${finalName} from configuration to Cluster ${cluster.name}`, correlationId: ctx.correlationId, storageDomainIds: [sd.id] });
  const exec = ctx.jobs.addStep(job, "executing", "Executing");
  const t: TemplateRec = {
    id: clone ? e.uuid() : ent.id,
    name: finalName,
    description: ent.description,
    comment: ent.comment,
    clusterId: cluster.id,
    status: "ok",
    memoryBytes: ent.memoryBytes,
    cpus: ent.cpus,
    cpuArchitecture: ent.cpuArchitecture,
    osType: ent.osType,
    origin: ent.origin,
    type: ent.vmType,
    creationTime: ent.creationDate,
    disks: disks.map((d) => diskFromOvf(e, d, BLANK_TEMPLATE_ID)),
    nics: ent.nics.map((n) => ({ id: clone ? e.uuid() : n.id, name: n.name, mac: n.mac, interface: n.interface })),
  };
  e.state.templates.push(t);
  job.templateId = t.id;
  // executeCommand: super (the template is added), then addAuditLogForPartialVMs, the rows forgotten, then the log
  partialEvent(e, "template", t.name, [...failed.values()], ctx.correlationId, { templateId: t.id, clusterId: cluster.id });
  forgetUnregistered(e, ent.id);
  e.event({ code: 180, description: `Template ${t.name} has been successfully imported from the given configuration.`, correlationId: ctx.correlationId, templateId: t.id, clusterId: cluster.id, dataCenterId: dc.id, storageDomainId: sd.id, jobId: job.id });
  ctx.jobs.endStep(job, exec, "finished");
  ctx.jobs.end(job, "finished");
  e.markDirty();
  return actionComplete(ctx);
}

export function register(r: Router): void {
  r.action("storagedomains/:sd/vms/:id/register", (ctx) => registerVm(ctx));
  r.action("storagedomains/:sd/templates/:id/register", (ctx) => registerTemplate(ctx));
}
