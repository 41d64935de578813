// /datacenters/{dc}/storagedomains: attach, activate, deactivate (force), detach; the per-DC status.
// Export domains are active in one data center at a time; POOL_UUID in dom_md/metadata makes an attachment held by
// another engine visible (VDSM StorageDomainAlreadyAttached).
import { Ctx, Router } from "../router";
import { F } from "../faults";
import { DataCenterRec, JobKind, StorageDomainRec } from "../model/types";
import { actionComplete, byIdOr404, list, notFound, one, requireBody, resolveSd } from "./common";
import { ref } from "../xml/xml";
import { readDomainMetadata } from "../storage/exportDomain";
import { usedBytes } from "../storage/contents";

const ACTION_TYPES: Record<JobKind, string> = {
  export_vm: "ExportVm",
  export_template: "ExportVmTemplate",
  import_vm: "ImportVm",
  import_template: "ImportVmTemplate",
  external_import: "ImportVmFromExternalUrl",
  create_snapshot: "CreateSnapshotForVm",
  other: "Unknown",
};

/** Statuses of a storage operation in flight: every other operation on the domain gets "Related operation ...". */
const TRANSITIONAL = ["locked", "activating", "preparing_for_maintenance", "detaching"];

function busy(sd: StorageDomainRec): boolean {
  return !!sd.pending || TRANSITIONAL.includes(sd.status ?? "");
}

function runningTasks(ctx: Ctx, sd: StorageDomainRec): string[] {
  return [...new Set(ctx.jobs.runningJobs().filter((j) => j.storageDomainIds.includes(sd.id)).map((j) => ACTION_TYPES[j.kind]))];
}

function scoped(ctx: Ctx): { dc: DataCenterRec; sd: StorageDomainRec } {
  const dc = byIdOr404(ctx.engine.state.dataCenters, ctx.params.dc);
  const sd = ctx.engine.sd(ctx.params.sd);
  if (!sd || sd.dataCenterId !== dc.id) throw notFound();
  return { dc, sd };
}

export function register(r: Router): void {
  r.get("datacenters/:dc/storagedomains", (ctx) => {
    const dc = byIdOr404(ctx.engine.state.dataCenters, ctx.params.dc);
    const sds = ctx.engine.state.storageDomains.filter((s) => s.dataCenterId === dc.id);
    for (const sd of sds) if (sd.type === "export") ctx.engine.exportUsedCache.set(sd.id, usedBytes(sd));
    return list(ctx, "storage_domains", "storage_domain", sds, (s) => ctx.w.storageDomain(s, dc));
  });
  r.get("datacenters/:dc/storagedomains/:sd", (ctx) => {
    const { dc, sd } = scoped(ctx);
    return one("storage_domain", ctx.w.storageDomain(sd, dc));
  });

  r.post("datacenters/:dc/storagedomains", (ctx) => {
    const e = ctx.engine;
    const dc = byIdOr404(e.state.dataCenters, ctx.params.dc);
    const n = requireBody(ctx, "storage_domain", "add");
    const rf = { id: (n["@_id"] as string | undefined) ?? ref({ x: n }, "x")?.id, name: ref({ x: n }, "x")?.name };
    if (!rf.id && !rf.name) throw F.incomplete("StorageDomain", ["id|name"], "add");
    const sd = resolveSd(ctx, rf)!;
    if (busy(sd)) throw F.objectLocked("attach", "Storage");
    if (sd.dataCenterId === dc.id) throw F.storageStatusIllegal("attach", "Storage", sd.status ?? "active");
    if (sd.type === "export") {
      const other = e.exportDomainOf(dc.id);
      if (other) throw F.moreThanOneExport();
      if (sd.dataCenterId) throw F.domainAlreadyAttached();
      const md = readDomainMetadata(sd.root);
      if (md && md.poolUUID && md.poolUUID !== dc.id) {
        e.event({ code: 963, severity: "error", description: `Failed to attach Storage Domain ${sd.name} to Data Center ${dc.name}. (User: admin@internal-authz)`, correlationId: ctx.correlationId, storageDomainId: sd.id, dataCenterId: dc.id });
        throw F.domainAlreadyAttached();
      }
    } else if (sd.dataCenterId) {
      throw F.storageStatusIllegal("attach", "Storage", sd.status ?? "active");
    }
    // the engine's flow: map row `locked` -> VDSM attach -> `maintenance` -> auto-activate (`activating`) -> `active`
    sd.dataCenterId = dc.id;
    sd.status = "locked";
    e.syncDomainMetadata(sd);
    e.markDirty();
    const cid = ctx.correlationId;
    e.exportUsedCache.set(sd.id, usedBytes(sd));
    e.storageTransition(sd, "attach", ["locked", "maintenance", "activating"], "active", () => {
      e.event({ code: 962, description: `Storage Domain ${sd.name} was attached to Data Center ${dc.name} by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
      e.event({ code: 966, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was activated by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    });
    const content = ctx.w.storageDomain(sd, dc);
    return { status: 201, root: "storage_domain", content, headers: { Location: String(content["@_href"]) } };
  });

  r.action("datacenters/:dc/storagedomains/:sd/activate", (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw F.objectLocked("activate", "Storage");
    if (sd.status !== "maintenance" && sd.status !== "inactive") throw F.storageStatusIllegal("activate", "Storage", sd.status ?? "unattached");
    const cid = ctx.correlationId;
    e.storageTransition(sd, "activate", ["activating"], "active", () =>
      e.event({ code: 966, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was activated by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id }),
    );
    return actionComplete(ctx);
  });

  r.action("datacenters/:dc/storagedomains/:sd/deactivate", (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw F.objectLocked("deactivate", "Storage");
    if (sd.status !== "active") throw F.storageStatusIllegal("deactivate", "Storage", sd.status ?? "unattached");
    const tasks = runningTasks(ctx, sd);
    if (tasks.length) throw F.deactivateWithTasks(tasks);
    if (sd.type === "data") {
      const using = e.state.vms.filter((v) => v.status !== "down" && v.disks.some((d) => d.storageDomainId === sd.id));
      if (using.length) throw F.detectedActiveVms("deactivate");
    }
    e.storageTransition(sd, "deactivate", ["preparing_for_maintenance"], "maintenance");
    e.event({ code: 968, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was deactivated and has moved to 'Preparing for maintenance' until it will no longer be accessed by any Host of the Data Center.`, correlationId: ctx.correlationId, storageDomainId: sd.id, dataCenterId: dc.id });
    return actionComplete(ctx);
  });

  r.delete("datacenters/:dc/storagedomains/:sd", (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw F.objectLocked("detach", "Storage");
    const tasks = runningTasks(ctx, sd);
    if (tasks.length) throw F.tasksRunning("detach", tasks);
    if (sd.status !== "maintenance") throw F.storageStatusIllegal("detach", "Storage", sd.status ?? "unattached");
    const cid = ctx.correlationId;
    e.storageTransition(sd, "detach", ["detaching"], "detached", () =>
      e.event({ code: 964, description: `Storage Domain ${sd.name} was detached from Data Center ${dc.name} by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id }),
    );
    return { status: 200, root: "action", content: { status: "complete" } };
  });
}
