// /storagedomains/{sd}/vms and /storagedomains/{sd}/templates: on an export domain, the entities read from the OVFs
// (list, get, disks, import, remove); on a data domain, the registered entities with disks there.
//
// Followed (ovirt-engine, read, not copied):
// - restapi BackendStorageDomainVmsResource / BackendStorageDomainTemplatesResource.list: `unregistered` (query or
//   matrix parameter, ParametersHelper.getBooleanParameter: empty = true, t/true/y/yes/1, f/false/n/no/0, anything
//   else ignored) switches to GetUnregisteredVms / GetUnregisteredVmTemplates, which read the domain's OVF-store rows
//   (unregistered_ovf_of_entities) and never an export domain's files; without it, an export domain is read with
//   GetVmsFromExportDomain / GetTemplatesFromExportDomain in the domain's OWN data center
//   (AbstractBackendStorageDomainContentsResource.getDataCenterId).
// - bll GetAllFromExportDomainQuery: the domain is looked up in that data center (storageDomainDao.getForStoragePool);
//   not there (unattached) -> no entities, 200 with an empty list; there, VDSM getVmsInfo reads the files on the SPM,
//   which fails for a domain that is not connected (maintenance: DeactivateStorageDomainCommand disconnected it):
//   StorageDomainDoesNotExist (358), audit events IRS_BROKER_COMMAND_FAILURE (10803) and
//   IMPORTEXPORT_GET_VMS_INFO_FAILED (200), and the restapi answers 400 "Storage domain cannot be reached...".
// - BackendStorageDomainVmResource / BackendStorageDomainTemplateResource: get, disks, remove and import all start
//   with getEntity(), the same read (404 when the entity is not in the list).
import { Ctx, Router } from "../router";
import { EngineFaults } from "../engineFaults";
import { BLANK_TEMPLATE_ID, JobRec, StorageDomainRec, StorageDomainStatus, TemplateRec, VmRec } from "../model/types";
import { actionJob, boolParam, byIdOr404, list, notFound, one, resolveCluster, resolveSd, sdRef } from "./common";
import { follows } from "../xml/write";
import { bool, child, list as xlist, ref, str } from "../xml/xml";
import { findByName, readEntities, readEntity, usedBytes } from "../storage/contents";
import { DiskOverride, ImportPlan, isThinDisk, prepareImport, removeDiskFiles, runImport, templateDiskOf } from "../storage/transfer";
import { removeOvfAndImages } from "../storage/exportDomain";
import { forgetChecksums } from "../storage/volumes";
import { OvfEntity } from "../xml/ovf";
import { Engine } from "../engine";
import { Jobs } from "../jobs";
import { checkCloneHasMacs, checkImportMacDuplicates, reportExternalMacs } from "./macPools";
import * as registration from "./registration";

type Kind = "vm" | "template";

function exportSdOr404(ctx: Ctx): StorageDomainRec {
  return byIdOr404(ctx.engine.state.storageDomains, ctx.params.sd);
}

/**
 * Statuses in which the export domain is connected on the SPM, so VDSM's getVmsInfo can read it: active, and
 * preparing_for_maintenance (DeactivateStorageDomainCommand disconnects the storage only when it is done). In
 * maintenance, detaching, locked (attach in progress) and activating the simulator answers like a disconnected domain.
 */
const READABLE: StorageDomainStatus[] = ["active", "preparing_for_maintenance"];

/** VDSM getVmsInfo failed on a domain that is not connected: the engine's two audit events and the restapi fault. */
function getVmsInfoFailed(e: Engine, sd: StorageDomainRec) {
  // IrsBrokerCommand.logToAudit (10803), then GetAllFromExportDomainQuery.executeVerb's catch (200); VDSM's message is
  // its exception text: StorageDomainDoesNotExist.msg + repr of the argument tuple
  e.event({ code: 10803, severity: "error", description: `VDSM command GetVmsInfoVDS failed: Storage domain does not exist: ('${sd.id}',)`, storageDomainId: sd.id });
  e.event({ code: 200, severity: "error", description: `Failed to retrieve VM/Templates information from export domain ${sd.name}`, storageDomainId: sd.id });
  return EngineFaults.storageDomainUnreachable();
}

/**
 * GetVmsFromExportDomain / GetTemplatesFromExportDomain for data center `poolId` (the restapi passes the domain's own
 * one): not an export domain, or not attached to that data center -> nothing; not connected -> the VDSM failure.
 */
function entitiesFromExportDomain(ctx: Ctx, sd: StorageDomainRec, kind: Kind, poolId = sd.dataCenterId): OvfEntity[] {
  if (sd.type !== "export" || !poolId || sd.dataCenterId !== poolId) return [];
  if (!sd.status || !READABLE.includes(sd.status)) throw getVmsInfoFailed(ctx.engine, sd);
  return readEntities(sd, kind);
}

/** getEntity() of the single-entity resources: the entity from that read, else 404. */
function entityOr404(ctx: Ctx, sd: StorageDomainRec, kind: Kind): OvfEntity {
  if (sd.type !== "export" || !sd.dataCenterId) throw notFound();
  if (!sd.status || !READABLE.includes(sd.status)) throw getVmsInfoFailed(ctx.engine, sd);
  let e: OvfEntity | undefined;
  try {
    e = readEntity(sd, kind, ctx.params.id);
  } catch {
    e = undefined; // an unreadable OVF is not in the list
  }
  if (!e) throw notFound();
  return e;
}

export function registerCompensation(engine: () => Engine, jobs: Jobs): void {
  const fail = (job: JobRec, kind: Kind) => {
    const e = engine();
    const rec = kind === "vm" ? e.vm(job.vmId) : e.template(job.templateId);
    const cl = e.cluster(rec?.clusterId);
    const dc = e.dc(cl?.dataCenterId);
    if (rec && rec.lockJobId === job.id) {
      // ImportVmCommand.endWithFailure: the half-imported entity and its images are removed
      if (kind === "vm") e.state.vms = e.state.vms.filter((v) => v !== rec);
      else e.state.templates = e.state.templates.filter((t) => t !== rec);
      void removeDiskFiles(e, rec.disks);
      e.markDirty();
    }
    const name = rec?.name ?? (kind === "vm" ? job.vmId : job.templateId);
    e.event(
      kind === "vm"
        ? { code: 1153, severity: "error", description: `Failed to import Vm ${name} to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`, correlationId: job.correlationId, vmId: job.vmId, clusterId: cl?.id, dataCenterId: dc?.id, jobId: job.id }
        : { code: 1159, severity: "error", description: `Failed to import Template ${name} to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`, correlationId: job.correlationId, templateId: job.templateId, clusterId: cl?.id, dataCenterId: dc?.id, jobId: job.id },
    );
  };
  jobs.compensators.set("import_vm", (job) => fail(job, "vm"));
  jobs.compensators.set("import_template", (job) => fail(job, "template"));
}

function registerKind(r: Router, kind: Kind): void {
  const coll = kind === "vm" ? "vms" : "templates";
  const single = kind;
  const T = kind === "vm" ? "VM" : "Template";

  r.get(`storagedomains/:sd/${coll}`, (ctx) => {
    // unregistered=true: GetUnregisteredVms/GetUnregisteredVmTemplates(storage domain id), the rows the engine keeps
    // of the domain's OVF store that are not registered (services/registration.ts). An export domain never has any.
    // The restapi does not look the domain up on this path: an unknown id gets an empty list.
    if (boolParam(ctx, "unregistered", true, false)) return registration.listUnregistered(ctx, kind);
    const sd = exportSdOr404(ctx);
    if (sd.type === "data") {
      const e = ctx.engine;
      if (kind === "vm") {
        const vms = e.state.vms.filter((v) => v.disks.some((d) => d.storageDomainId === sd.id));
        return list(ctx, coll, single, vms, (v, f) => ctx.w.vm(v, f));
      }
      const ts = e.state.templates.filter((t) => t.disks.some((d) => d.storageDomainId === sd.id));
      return list(ctx, coll, single, ts, (t, f) => ctx.w.template(t, f));
    }
    return list(ctx, coll, single, entitiesFromExportDomain(ctx, sd, kind), (x, f) => ctx.w.ovfVm(sd, x, f));
  });
  r.get(`storagedomains/:sd/${coll}/:id`, (ctx) => {
    const sd = exportSdOr404(ctx);
    return one(single, ctx.w.ovfVm(sd, entityOr404(ctx, sd, kind), follows(ctx.query.get("follow"))));
  });
  r.get(`storagedomains/:sd/${coll}/:id/disks`, (ctx) => {
    const sd = exportSdOr404(ctx);
    const x = entityOr404(ctx, sd, kind);
    return list(ctx, "disks", "disk", x.disks, (d) => ctx.w.ovfDisk(sd, `storagedomains/${sd.id}/${coll}/${x.id}`, d));
  });
  r.get(`storagedomains/:sd/${coll}/:id/diskattachments`, (ctx) => {
    const sd = exportSdOr404(ctx);
    const x = entityOr404(ctx, sd, kind);
    const p = `storagedomains/${sd.id}/${coll}/${x.id}`;
    return list(ctx, "disk_attachments", "disk_attachment", x.disks, (d) => ({
      "@_href": ctx.w.href(`${p}/diskattachments/${d.diskId}`),
      "@_id": d.diskId,
      active: true,
      bootable: d.bootable,
      interface: d.interface,
      disk: ctx.w.ovfDisk(sd, p, d),
    }));
  });

  r.delete(`storagedomains/:sd/${coll}/:id`, async (ctx) => {
    const e = ctx.engine;
    const sd = exportSdOr404(ctx);
    const x = entityOr404(ctx, sd, kind);
    if (sd.status !== "active") throw EngineFaults.storageStatusIllegal("remove", T, sd.status ?? "unknown");
    const busy = ctx.jobs.runningJobs().some((j) => j.storageDomainIds.includes(sd.id) && (j.vmId === x.id || j.templateId === x.id));
    if (busy) throw EngineFaults.objectLocked("remove", T);
    e.event(kind === "vm"
      ? { code: 1167, description: `Starting to remove Vm ${x.name} remove from ${sd.name}`, correlationId: ctx.correlationId, vmId: x.id, storageDomainId: sd.id }
      : { code: 1166, description: `Starting to remove Template ${x.name} remove ${sd.name}`, correlationId: ctx.correlationId, templateId: x.id, storageDomainId: sd.id });
    await removeOvfAndImages(sd.root, coll, x.id, x.disks.map((d) => d.diskId));
    forgetChecksums(sd.root);
    e.exportUsedCache.delete(sd.id);
    e.event(kind === "vm"
      ? { code: 1160, description: `Vm ${x.name} was removed from ${sd.name}`, correlationId: ctx.correlationId, vmId: x.id, storageDomainId: sd.id }
      : { code: 1154, description: `Template ${x.name} was removed from ${sd.name}`, correlationId: ctx.correlationId, templateId: x.id, storageDomainId: sd.id });
    return { status: 200, root: "action", content: { status: "complete" } };
  });

  r.action(`storagedomains/:sd/${coll}/:id/import`, async (ctx) => {
    const e = ctx.engine;
    const sd = exportSdOr404(ctx);
    const node = ctx.body?.node ?? {};
    // restapi doImport (BackendStorageDomainVmResource / BackendStorageDomainTemplateResource), in its order:
    // storageDomain required, the destination looked up, the cluster looked up when given, then getEntity() read in
    // the export domain's OWN data center (404 unattached/unknown, 400 when the domain cannot be read)
    const tref = sdRef(ctx);
    if (!tref || (!tref.id && !tref.name)) throw EngineFaults.incomplete("Action", ["storageDomain.id|name"], "import");
    const target = resolveSd(ctx, tref)!;
    const cluster = resolveCluster(ctx, ref(node, "cluster"));
    const x = entityOr404(ctx, sd, kind);
    // the command's storage pool is the destination domain's data center (parent.getDataCenterId(destStorageDomainId))
    const dc = e.dc(target.dataCenterId);

    // ImportVmCommandBase.validate / ImportVmTemplateCommandBase.validate: the cluster of the request, with no
    // fallback to the OVF's <ClusterName> (the OVF VM carries no cluster id, so getCluster() finds none)
    if (!cluster) throw EngineFaults.clusterEmpty("import", T);
    if (kind === "vm") {
      // ImportVmCommandBase: compared only when the pool is known; ImportVmCommand.validateBeforeCloneVm then needs it
      if (dc && cluster.dataCenterId !== dc.id) throw EngineFaults.clusterNotValid("import", T);
      // ImportVmCommandBase.validate, next: MACs a plain import would duplicate in the cluster's pool (macPools.ts)
      checkImportMacDuplicates(e, cluster, x.nics, bool(node, "clone") === true);
      if (!dc) throw EngineFaults.storagePoolNotExist();
    } else if (!dc || cluster.dataCenterId !== dc.id) throw EngineFaults.clusterNotValid("import", T);

    // destination domains (ImportVmCommand.validateBeforeCloneVm; ImportVmTemplateCommand.validateSourceStorageDomain):
    // StorageDomainValidator.isDomainExistAndActive, then domainIsValidDestination (no export/ISO domain)
    const destOk = (d: StorageDomainRec) => {
      if (d.dataCenterId !== dc.id) throw EngineFaults.storageDomainNotExist("import", T);
      if (d.status !== "active") throw EngineFaults.storageStatusIllegal("import", T, d.status ?? "unknown");
      if (d.type !== "data") throw EngineFaults.storageTypeIllegal("import", T);
    };
    /**
     * The export domain as the command sees it in the TARGET data center (getSourceDomain / GetVmsFromExportDomain
     * with the destination's pool): an export domain attached to another data center, or unattached, is not there.
     * VM: ImportVmCommand.validateAndSetVmFromExportDomain finds no VM -> ACTION_TYPE_FAILED_VM_NOT_FOUND_ON_EXPORT_DOMAIN.
     * Template: ImportVmTemplateCommand.validateSourceStorageDomain -> isDomainExistAndActive (not exist / status).
     */
    const sourceOk = () => {
      if (kind === "vm") {
        if (sd.dataCenterId !== dc.id || !sd.status || !READABLE.includes(sd.status)) throw EngineFaults.vmNotFoundOnExportDomain();
      } else {
        if (sd.dataCenterId !== dc.id) throw EngineFaults.storageDomainNotExist("import", T);
        if (sd.status !== "active") throw EngineFaults.storageStatusIllegal("import", T, sd.status ?? "unknown");
      }
    };

    // restapi doImport: with <clone> given (true OR false) a <vm><name>/<template><name> renames the entity
    const cloneSet = bool(node, "clone");
    const clone = cloneSet === true;
    const entNode = child(node, single);
    const newName = cloneSet !== undefined ? str(entNode, "name") || undefined : undefined;
    const finalName = newName || x.name;
    // restapi BackendStorageDomainVmResource.doImport reads collapse_snapshots ONLY through
    // ParametersHelper.getBooleanParameter (query or matrix parameter; empty = true): an <action><collapse_snapshots>
    // element (where the official Python SDK's import_() puts it) is parsed and never read, and the template resource
    // has no such parameter at all (ImportVmTemplateCommand always copies collapsed)
    const collapse = kind === "vm" && boolParam(ctx, "collapse_snapshots", true, false);
    if (kind === "template") {
      if (x.cpuArchitecture !== cluster.cpuArchitecture) throw EngineFaults.archNotSupported("Template");
      sourceOk();
      destOk(target);
    } else {
      destOk(target);
    }

    // locks held by running imports of the same entity / name
    for (const j of ctx.jobs.runningJobs()) {
      const other = kind === "vm" ? e.vm(j.vmId) : e.template(j.templateId);
      if (j.kind === (kind === "vm" ? "import_vm" : "import_template") && other) {
        if (!clone && other.id === x.id) throw kind === "vm" ? EngineFaults.vmBeingImported(x.name) : EngineFaults.objectLocked("import", T);
        if (other.name === finalName) throw EngineFaults.nameUsed("import", T);
      }
    }

    // per-disk options: AbstractBackendStorageDomainContentResource.getDiskToDestinationMap reads
    // <action><vm><disk_attachments> for BOTH resources (the template import too: a <template><disk_attachments> is
    // never read), keyed by disk id, and keeps an entry only when the disk has an id and its first storage domain an
    // id (a name is not looked up). Only the VM resource reads allocation (setVolumesTypeFormat: format, sparse; a
    // disk without id is a 400 there). The simulator refuses an id the copy does not have (the engine would leave
    // the copy's own disks out of a non-empty map and fail on them, or ignore the entry: README, known differences).
    const overrides = new Map<string, DiskOverride>();
    const domainMap = new Map<string, StorageDomainRec>();
    for (const da of xlist(child(node, "vm"), "disk_attachments", "disk_attachment")) {
      const dn = child(da, "disk");
      const id = (dn?.["@_id"] as string | undefined) ?? str(dn, "id");
      if (!id) {
        if (kind === "vm" && dn) throw EngineFaults.incomplete("Disk", ["id"], "setVolumesTypeFormat");
        continue;
      }
      if (!x.disks.some((d) => d.diskId === id)) throw EngineFaults.badRequest(`Cannot import ${T}. The following disk(s) ID(s) does not exist: ${id}.`);
      const o: DiskOverride = overrides.get(id) ?? {};
      if (kind === "vm") {
        const sp = bool(dn, "sparse");
        if (sp !== undefined) o.sparse = sp;
        const fmt = str(dn, "format")?.toLowerCase();
        if (fmt !== undefined) {
          if (fmt !== "cow" && fmt !== "raw") throw EngineFaults.invalidEnum(fmt, "DiskFormat");
          o.format = fmt;
        }
      }
      const s0 = xlist(dn, "storage_domains", "storage_domain")[0];
      const sid = s0 ? ((s0["@_id"] as string | undefined) ?? str(s0, "id")) : undefined;
      if (sid) {
        // an id the engine does not know is simply not in the target pool (storageDomainDao.getForStoragePool)
        const dsd = e.sd(sid);
        if (!dsd) throw EngineFaults.storageDomainNotExist("import", T);
        destOk(dsd);
        domainMap.set(id, dsd);
      }
      overrides.set(id, o);
    }
    if (domainMap.size > 0) {
      // ensureDomainMap (ImportVmCommandBase / MoveOrCopyTemplateCommand) fills in the default domain only when the
      // map is EMPTY: a disk missing from a non-empty map has no destination, and the storage-domain validation
      // (ImportVmTemplateCommand.validateSourceStorageDomain; ImportValidator.validateSpaceRequirements for a VM)
      // finds no domain for it
      if (x.disks.some((d) => !domainMap.has(d.diskId))) throw EngineFaults.storageDomainNotExist("import", T);
      for (const [id, dsd] of domainMap) overrides.get(id)!.storageDomainId = dsd.id;
    }

    const thin = x.kind === "vm" && x.templateId !== BLANK_TEMPLATE_ID;
    const hasSnapshots = x.snapshots.filter((s) => s.type !== "active").length > 0 || x.disks.some((d) => d.volumes.length > 1);
    let targetTemplate: TemplateRec | undefined;
    if (kind === "vm") {
      // isCopyCollapseDisabledWithSnapshotsOrWithTemplate: snapshots, or a template that exists in this engine
      if (clone && !collapse && (hasSnapshots || (thin && e.template(x.templateId)))) throw EngineFaults.cloneNotCollapsed(x.name);
      sourceOk();
      if (clone) checkCloneHasMacs(e, cluster, x.nics.length);
      if (!clone && e.vm(x.id)) throw EngineFaults.vmIdExistsOnImport(e.vm(x.id)!.name);
      if (e.state.vms.some((v) => v.name === finalName && e.dcOfCluster(v.clusterId)?.id === dc.id)) throw EngineFaults.vmNameExistsOnImport();
      if (x.cpuArchitecture !== cluster.cpuArchitecture) throw EngineFaults.archNotSupported("VM");
      if (thin) {
        if (collapse) {
          if (!readEntity(sd, "template", x.templateId)) throw EngineFaults.importedTemplateMissing(sd.name);
        } else {
          targetTemplate = e.template(x.templateId);
          if (!targetTemplate || e.dcOfCluster(targetTemplate.clusterId)?.id !== dc.id) throw EngineFaults.templateMissing("import", "VM");
          if (targetTemplate.status !== "ok") throw EngineFaults.templateImageLocked();
          // ImportVmCommand.checkTemplateInStorageDomain refuses when no destination holds the template; a thin disk
          // whose template disk is not on ITS destination would then fail in VDSM's copy (the parent volume is not
          // there): the simulator refuses that at validation too, per disk (README, known differences)
          for (const d of x.disks.filter(isThinDisk)) {
            const td = templateDiskOf(d, targetTemplate);
            if (!td || td.storageDomainId !== (overrides.get(d.diskId)?.storageDomainId ?? target.id)) throw EngineFaults.templateNotOnDestination("import", "VM");
          }
        }
      }
    } else {
      if (!clone && (e.template(x.id) || e.vm(x.id))) throw EngineFaults.templateIdExistsOnImport((e.template(x.id) ?? e.vm(x.id))!.name);
      // ImportVmTemplateCommandBase.isVmTemplateWithSameNameExist: the name is looked up in the target storage pool
      if (e.state.templates.some((t) => t.name === finalName && e.dcOfCluster(t.clusterId)?.id === dc.id)) throw EngineFaults.templateNameExistsOnImport();
    }

    // ImportVmCommand.isCopyCollapseOrNoSnapshots (a template import always copies collapsed:
    // ImportVmTemplateCommand.buildMoveOrCopyImageGroupParameters): false -> the chains are copied as they are
    const keepChain = kind === "vm" && !collapse && (hasSnapshots || (thin && !!e.template(x.templateId)));
    const plan: ImportPlan = {
      exportSd: sd, entity: x, clusterId: cluster.id, defaultSdId: target.id, clone, newName, collapse, keepChain, overrides, targetTemplate,
    };
    const fault = ctx.faults.atOperation(kind, x.name, "import");
    const job = ctx.jobs.create({
      kind: kind === "vm" ? "import_vm" : "import_template",
      injectedFailure: fault.jobFailure,
      description: kind === "vm" ? `Importing VM ${finalName} to Cluster ${cluster.name}` : `Importing VM Template ${finalName} to Data Center ${dc.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [sd.id],
      // CopyImageGroupCommand.performStorageOperation: CopyImage with copy-collapse, else MoveImageGroup (SPM verbs)
      vdsmCommand: { name: keepChain ? "MoveImageGroupVDS" : "CopyImageVDS" },
    });
    const { record, items, bytes } = prepareImport(e, job, plan);
    // space on every destination domain
    for (const [sdId, need] of bytes) {
      const dsd = e.sd(sdId)!;
      if (dsd.sizeBytes - e.usedBytes(sdId) < need) {
        e.state.jobs = e.state.jobs.filter((j) => j !== job);
        throw EngineFaults.diskSpaceLow("import", T, dsd.name);
      }
    }
    job.storageDomainIds.push(...bytes.keys());
    if (kind === "vm") {
      job.vmId = record.id;
      e.state.vms.push(record as VmRec);
      if (!clone) reportExternalMacs(e, record as VmRec, ctx.correlationId);
      e.event({ code: 1165, description: `Starting to import Vm ${record.name} to Data Center ${dc.name}, Cluster ${cluster.name}`, correlationId: ctx.correlationId, vmId: record.id, clusterId: cluster.id, dataCenterId: dc.id, storageDomainId: sd.id, jobId: job.id });
    } else {
      job.templateId = record.id;
      e.state.templates.push(record as TemplateRec);
      e.event({ code: 1163, description: `Starting to import Template ${record.name} to Data Center ${dc.name}, Cluster ${cluster.name}`, correlationId: ctx.correlationId, templateId: record.id, clusterId: cluster.id, dataCenterId: dc.id, storageDomainId: sd.id, jobId: job.id });
    }
    e.markDirty();
    void ctx.jobs.run(job, () => runImport(e, ctx.jobs, job, plan, record, items));
    return actionJob(ctx, job, "import");
  });
}

export function register(r: Router): void {
  registerKind(r, "vm");
  registerKind(r, "template");
  // data domains: register of unregistered VMs/templates (the engine's zero-copy move)
  registration.register(r);
  void findByName;
  void usedBytes;
}
