// /templates: list (search), get (follow), disk attachments, nics, export, remove. Includes the Blank template.
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Ctx, Router } from "../router";
import { backend, EngineFaults } from "../engineFaults";
import { BLANK_TEMPLATE_ID, StorageDomainRec, TemplateRec } from "../model/types";
import { actionJob, byIdOr404, flag, list, notFound, one, refuseUnmodelled, requireBody, resolveSd, sdRef } from "./common";
import { cpuProfileOf, UPDATABLE, vmSearchFields } from "./vms";
import { str } from "../xml/xml";
import { follows, Obj } from "../xml/write";
import { readEntities, usedBytes as exportUsed } from "../storage/contents";
import { runExportTemplate, unlockTemplate } from "../storage/transfer";
import { Engine } from "../engine";
import { Jobs } from "../jobs";

function tplOr404(ctx: Ctx): TemplateRec {
  return byIdOr404(ctx.engine.state.templates, ctx.params.t);
}

export function registerCompensation(engine: () => Engine, jobs: Jobs): void {
  jobs.compensators.set("export_template", (job, reason) => {
    const e = engine();
    const t = e.template(job.templateId);
    const sd = e.sd(job.storageDomainIds[0]);
    if (t) unlockTemplate(e, t, job);
    e.event({ code: 1157, severity: "error", description: `Failed to export Template ${t?.name ?? job.templateId} to ${sd?.name ?? "export domain"}`, correlationId: job.correlationId, templateId: job.templateId, storageDomainId: sd?.id, jobId: job.id });
    job.failureReason = reason;
  });
}

export function register(r: Router): void {
  r.get("templates", (ctx) => {
    const e = ctx.engine;
    const blank = { id: BLANK_TEMPLATE_ID, name: "Blank" } as unknown as TemplateRec;
    const all = [blank, ...e.state.templates];
    return list(ctx, "templates", "template", all, (t, f): Obj => (t === blank ? ctx.w.blankTemplate() : ctx.w.template(t, f)), {
      name: (t: TemplateRec) => t.name,
      id: (t) => t.id,
      status: (t) => t.status ?? "ok",
      cluster: (t) => e.cluster(t.clusterId)?.name,
      datacenter: (t) => e.dcOfCluster(t.clusterId)?.name,
      storage: (t) => (t.disks ?? []).map((d) => e.sd(d.storageDomainId)?.name),
    }, {
      // searchbackend TemplateCrossRefAutoCompleter (Vms, Hosts, Events, Users, Storage, Vnic) with the joins of
      // SearchObjectAutoCompleter: templates-vms on vmt_guid (the VMs made from the template; Blank's are the VMs
      // based on no template), templates-storage on storage_id. `vm.<field>` takes the VM search fields.
      vm: { related: (t: TemplateRec) => e.state.vms.filter((v) => v.templateId === t.id), fields: vmSearchFields(e) },
      storage: {
        related: (t: TemplateRec) => [...new Set((t.disks ?? []).map((d) => d.storageDomainId))].map((id) => e.sd(id)).filter((s) => s !== undefined),
        fields: { name: (s: StorageDomainRec) => s.name, id: (s: StorageDomainRec) => s.id },
      },
    });
  });
  r.get("templates/:t", (ctx) => {
    if (ctx.params.t === BLANK_TEMPLATE_ID) return one("template", ctx.w.blankTemplate());
    return one("template", ctx.w.template(tplOr404(ctx), follows(ctx.query.get("follow"))));
  });
  // update: the fields this simulator models (name, cpu_profile, description, comment)
  r.put("templates/:t", (ctx) => {
    const e = ctx.engine;
    const t = tplOr404(ctx);
    const body = requireBody(ctx, "template", "update");
    refuseUnmodelled(ctx, "template", body, UPDATABLE);
    if (t.lockJobId) throw backend(409, "Template is currently locked (temporarily).");
    // UpdateVmTemplateCommand.validate: a new name must be free in the template's data center
    const name = str(body, "name");
    if (name !== undefined && name !== t.name) {
      if (!name.trim()) throw backend(400, "Cannot edit Template. The name field may not be empty."); // ACTION_TYPE_FAILED_NAME_MAY_NOT_BE_EMPTY (text unverified)
      const dcId = e.dcOfCluster(t.clusterId)?.id;
      if (e.state.templates.some((x) => x !== t && x.name === name && e.dcOfCluster(x.clusterId)?.id === dcId)) throw EngineFaults.nameUsed("update", "Template");
    }
    const p = cpuProfileOf(e, body, t.clusterId, "Template");
    if (name !== undefined) t.name = name;
    if (p) t.cpuProfileId = p.id;
    const desc = str(body, "description");
    if (desc !== undefined) t.description = desc;
    const comment = str(body, "comment");
    if (comment !== undefined) t.comment = comment;
    e.markDirty();
    return one("template", ctx.w.template(t));
  });

  r.get("templates/:t/diskattachments", (ctx) => {
    if (ctx.params.t === BLANK_TEMPLATE_ID) return { status: 200, root: "disk_attachments", content: "" };
    const t = tplOr404(ctx);
    const f = follows(ctx.query.get("follow"));
    return list(ctx, "disk_attachments", "disk_attachment", t.disks, (d) => ctx.w.diskAttachment(d, `templates/${t.id}`, t.id, "template", f.has("disk")));
  });
  r.get("templates/:t/nics", (ctx) => {
    const t = tplOr404(ctx);
    return list(ctx, "nics", "nic", t.nics, (n) => ctx.w.nic(n, `templates/${t.id}`, t.id, "template"));
  });

  r.action("templates/:t/export", async (ctx) => {
    const e = ctx.engine;
    if (ctx.params.t === BLANK_TEMPLATE_ID) throw backend(400, "Cannot export Blank Template.");
    const t = tplOr404(ctx);
    if (t.lockJobId) {
      const j = e.state.jobs.find((x) => x.id === t.lockJobId);
      throw j?.kind === "export_template" ? EngineFaults.templateBeingExported(t.name) : EngineFaults.objectLocked("export", "Template");
    }
    const ref = sdRef(ctx);
    if (!ref || (!ref.id && !ref.name)) throw EngineFaults.incomplete("Action", ["storageDomain.id|name"], "export");
    const sd = resolveSd(ctx, ref)!;
    const dc = e.dcOfCluster(t.clusterId)!;
    // ExportVmTemplateCommand.validate: domain active (an unattached one is "Unknown", see vms.ts), export type, ...,
    // then the storage_pool_iso_map row of (domain, template's pool)
    if (sd.status !== "active") throw EngineFaults.storageStatusIllegal("export", "Template", sd.status ?? "unknown");
    if (sd.type !== "export") throw EngineFaults.notExportDomain("export", "Template", sd.name);
    if (sd.dataCenterId !== dc.id) throw EngineFaults.storagePoolNotMatch("export", "Template");
    if (t.status !== "ok" || t.disks.some((d) => d.status === "locked")) throw EngineFaults.templateImageLocked();
    const exclusive = flag(ctx, "exclusive");
    for (const x of readEntities(sd, "template")) {
      if ((x.id === t.id || x.name === t.name) && !(exclusive && x.id === t.id)) throw EngineFaults.nameUsed("export", "Template");
    }
    const need = t.disks.reduce((a, d) => a + d.provisionedSize, 0);
    if (sd.sizeBytes - exportUsed(sd) < need) throw EngineFaults.diskSpaceLow("export", "Template", sd.name);
    const fault = ctx.faults.atOperation("template", t.name, "export");
    const job = ctx.jobs.create({
      kind: "export_template",
      injectedFailure: fault.jobFailure,
      description: `Exporting VM Template ${t.name} To Export Domain ${sd.name}`,
      correlationId: ctx.correlationId,
      storageDomainIds: [sd.id, ...new Set(t.disks.map((d) => d.storageDomainId))],
      templateId: t.id,
      // CopyImageGroupCommand.performStorageOperation: no copy-collapse -> MoveImageGroup (SPM)
      vdsmCommand: { name: "MoveImageGroupVDS" },
    });
    t.status = "locked";
    t.lockJobId = job.id;
    for (const d of t.disks) d.status = "locked";
    e.markDirty();
    e.event({ code: 1164, description: `Starting to export Template ${t.name} to ${sd.name}`, correlationId: ctx.correlationId, templateId: t.id, storageDomainId: sd.id, dataCenterId: dc.id, jobId: job.id });
    void ctx.jobs.run(job, () => runExportTemplate(e, ctx.jobs, job, { template: t, exportSd: sd }));
    return actionJob(ctx, job, "export");
  });

  r.delete("templates/:t", async (ctx) => {
    const e = ctx.engine;
    if (ctx.params.t === BLANK_TEMPLATE_ID) throw backend(409, "Cannot remove Template. Removing the Blank Template is not allowed.");
    const t = tplOr404(ctx);
    if (t.lockJobId || t.status === "locked") throw EngineFaults.templateLocked();
    const derived = e.state.vms.filter((v) => v.templateId === t.id && v.disks.some((d) => d.templateDisk?.templateId === t.id));
    if (derived.length) throw EngineFaults.templateHasDerivedVms(derived.map((v) => v.name));
    e.state.templates = e.state.templates.filter((x) => x !== t);
    for (const d of t.disks) {
      const sd = e.sd(d.storageDomainId);
      if (sd) await fsp.rm(path.join(sd.root, "images", d.id), { recursive: true, force: true });
    }
    e.markDirty();
    e.event({ code: 251, description: `Removal of Template ${t.name} has been completed.`, correlationId: ctx.correlationId, templateId: t.id });
    return { status: 200, root: "action", content: { status: "complete" } };
  });
  void notFound;
}
