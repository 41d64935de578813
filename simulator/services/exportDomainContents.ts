// /storagedomains/{sd}/vms and /storagedomains/{sd}/templates: on an export domain, the entities read from the OVFs
// (list, get, disks, import, remove); on a data domain, the registered entities with disks there.
import { Ctx, Router } from "../router";
import { F } from "../faults";
import { BLANK_TEMPLATE_ID, JobRec, StorageDomainRec, TemplateRec, VmRec } from "../model/types";
import { actionJob, byIdOr404, flag, list, notFound, one, resolveCluster, resolveSd, sdRef } from "./common";
import { follows } from "../xml/write";
import { bool, child, list as xlist, ref, str } from "../xml/xml";
import { findByName, readEntities, readEntity, usedBytes } from "../storage/contents";
import { DiskOverride, ImportPlan, prepareImport, removeDiskFiles, runImport } from "../storage/transfer";
import { removeOvfAndImages } from "../storage/exportDomain";
import { forgetChecksums } from "../storage/volumes";
import { OvfEntity } from "../xml/ovf";
import { Engine } from "../engine";
import { Jobs } from "../jobs";

type Kind = "vm" | "template";

function exportSdOr404(ctx: Ctx): StorageDomainRec {
  return byIdOr404(ctx.engine.state.storageDomains, ctx.params.sd);
}

/** Entities visible on the domain: an unattached export domain lists nothing (GetAllFromExportDomainQuery). */
function entities(ctx: Ctx, sd: StorageDomainRec, kind: Kind): OvfEntity[] {
  if (sd.type !== "export" || !sd.dataCenterId) return [];
  return readEntities(sd, kind);
}

function entityOr404(ctx: Ctx, sd: StorageDomainRec, kind: Kind): OvfEntity {
  if (sd.type !== "export" || !sd.dataCenterId) throw notFound();
  const e = readEntity(sd, kind, ctx.params.id);
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
    return list(ctx, coll, single, entities(ctx, sd, kind), (x, f) => ctx.w.ovfVm(sd, x, f));
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
    if (sd.status !== "active") throw F.storageStatusIllegal("remove", T, sd.status ?? "unattached");
    const busy = ctx.jobs.runningJobs().some((j) => j.storageDomainIds.includes(sd.id) && (j.vmId === x.id || j.templateId === x.id));
    if (busy) throw F.objectLocked("remove", T);
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
    if (sd.type !== "export") throw F.storageTypeIllegal("import", T);
    const x = entityOr404(ctx, sd, kind);
    if (sd.status !== "active") throw F.storageStatusIllegal("import", T, sd.status ?? "unattached");
    const node = ctx.body?.node ?? {};
    const tref = sdRef(ctx);
    if (!tref || (!tref.id && !tref.name)) throw F.incomplete("Action", ["storageDomain.id|name"], "import");
    const target = resolveSd(ctx, tref)!;
    const dc = e.dc(target.dataCenterId);
    let cluster = resolveCluster(ctx, ref(node, "cluster"));
    if (!cluster) cluster = e.state.clusters.find((c) => c.name === x.clusterName && c.dataCenterId === dc?.id);
    if (!cluster || !dc || cluster.dataCenterId !== dc.id) throw F.clusterNotValid("import", T);
    if (target.type !== "data") throw F.storageTypeIllegal("import", T);
    if (target.status !== "active") throw F.storageStatusIllegal("import", T, target.status ?? "unattached");

    const clone = bool(node, "clone") === true;
    const entNode = child(node, single);
    const newName = clone ? str(entNode, "name") : undefined;
    const finalName = newName || x.name;
    const collapse = flag(ctx, "collapse_snapshots");

    // locks held by running imports of the same entity / name
    for (const j of ctx.jobs.runningJobs()) {
      const other = kind === "vm" ? e.vm(j.vmId) : e.template(j.templateId);
      if (j.kind === (kind === "vm" ? "import_vm" : "import_template") && other) {
        if (!clone && other.id === x.id) throw kind === "vm" ? F.vmBeingImported(x.name) : F.objectLocked("import", T);
        if (other.name === finalName) throw F.nameUsed("import", T);
      }
    }

    // per-disk options
    const overrides = new Map<string, DiskOverride>();
    for (const da of xlist(entNode, "disk_attachments", "disk_attachment")) {
      const dn = child(da, "disk");
      const id = (dn?.["@_id"] as string | undefined) ?? str(dn, "id");
      if (!id) throw F.incomplete("DiskAttachment", ["disk.id"], "import");
      if (!x.disks.some((d) => d.diskId === id)) throw F.badRequest(`Cannot import ${T}. The following disk(s) ID(s) does not exist: ${id}.`);
      const o: DiskOverride = {};
      const sp = bool(dn, "sparse");
      if (sp !== undefined) o.sparse = sp;
      const fmt = str(dn, "format")?.toLowerCase();
      if (fmt !== undefined) {
        if (fmt !== "cow" && fmt !== "raw") throw F.invalidEnum(fmt, "DiskFormat");
        o.format = fmt;
      }
      const sds = xlist(dn, "storage_domains", "storage_domain");
      if (sds.length) {
        const s0 = sds[0];
        const dsd = resolveSd(ctx, { id: (s0["@_id"] as string | undefined) ?? str(s0, "id"), name: str(s0, "name") });
        if (!dsd || dsd.type !== "data" || dsd.dataCenterId !== dc.id) throw F.storageNotInPool("import", T);
        if (dsd.status !== "active") throw F.storageStatusIllegal("import", T, dsd.status ?? "unattached");
        o.storageDomainId = dsd.id;
      }
      overrides.set(id, o);
    }

    const thin = x.kind === "vm" && x.templateId !== BLANK_TEMPLATE_ID;
    const hasSnapshots = x.snapshots.filter((s) => s.type !== "active").length > 0 || x.disks.some((d) => d.volumes.length > 1);
    let targetTemplate: TemplateRec | undefined;
    if (kind === "vm") {
      if (clone && !collapse && (hasSnapshots || thin)) throw F.cloneNotCollapsed(x.name);
      if (!clone && e.vm(x.id)) throw F.vmIdExistsOnImport(e.vm(x.id)!.name);
      if (e.state.vms.some((v) => v.name === finalName && e.dcOfCluster(v.clusterId)?.id === dc.id)) throw F.vmNameExistsOnImport();
      if (x.cpuArchitecture !== cluster.cpuArchitecture) throw F.archNotSupported("VM");
      if (thin) {
        if (collapse) {
          if (!readEntity(sd, "template", x.templateId)) throw F.importedTemplateMissing(sd.name);
        } else {
          targetTemplate = e.template(x.templateId);
          if (!targetTemplate || e.dcOfCluster(targetTemplate.clusterId)?.id !== dc.id) throw F.templateMissing("import", "VM");
          if (targetTemplate.status !== "ok") throw F.templateImageLocked();
          const dest = new Set(x.disks.map((d) => overrides.get(d.diskId)?.storageDomainId ?? target.id));
          if (![...dest].every((s) => targetTemplate!.disks.some((td) => td.storageDomainId === s))) throw F.templateNotOnDestination("import", "VM");
        }
      }
    } else {
      if (!clone && (e.template(x.id) || e.vm(x.id))) throw F.templateIdExistsOnImport((e.template(x.id) ?? e.vm(x.id))!.name);
      // ImportVmTemplateCommandBase.isVmTemplateWithSameNameExist: the name is looked up in the target storage pool
      if (e.state.templates.some((t) => t.name === finalName && e.dcOfCluster(t.clusterId)?.id === dc.id)) throw F.templateNameExistsOnImport();
      if (x.cpuArchitecture !== cluster.cpuArchitecture) throw F.archNotSupported("Template");
    }

    const plan: ImportPlan = {
      exportSd: sd, entity: x, clusterId: cluster.id, defaultSdId: target.id, clone, newName, collapse, overrides, targetTemplate,
    };
    const job = ctx.jobs.create({
      kind: kind === "vm" ? "import_vm" : "import_template",
      description: kind === "vm" ? `Importing VM ${finalName} to Cluster ${cluster.name}` : `Importing VM Template ${finalName} to Data Center ${dc.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [sd.id],
    });
    const { record, items, bytes } = prepareImport(e, job, plan);
    // space on every destination domain
    for (const [sdId, need] of bytes) {
      const dsd = e.sd(sdId)!;
      if (dsd.sizeBytes - e.usedBytes(sdId) < need) {
        e.state.jobs = e.state.jobs.filter((j) => j !== job);
        throw F.diskSpaceLow("import", T, dsd.name);
      }
    }
    job.storageDomainIds.push(...bytes.keys());
    if (kind === "vm") {
      job.vmId = record.id;
      e.state.vms.push(record as VmRec);
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
  void findByName;
  void usedBytes;
}
