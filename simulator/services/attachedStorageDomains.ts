// /datacenters/{dc}/storagedomains: attach, activate, deactivate (force), detach; the per-DC status.
// Export domains are active in one data center at a time; POOL_UUID in dom_md/metadata makes an attachment held by
// another engine visible (VDSM StorageDomainAlreadyAttached).
import type { Engine } from "../engine";
import { Ctx, Router } from "../router";
import { F } from "../faults";
import { DataCenterRec, JobKind, StorageDomainRec, StorageDomainStatus } from "../model/types";
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

/**
 * How long a storage-domain command runs inside its REST call (`storageOperationMs`, ms; 0 = the call answers at
 * once and the domain walks the transitional statuses afterwards, `storageTransitionMs` apart).
 *
 * On the engine these calls are synchronous: restapi `BackendAttachedStorageDomainsResource.add` (performCreate),
 * `BackendAttachedStorageDomainResource.remove` (performAction), `.activate`/`.deactivate` (doAction: no VDSM
 * async task, so no 202) run the command in the request thread, and the commands call VDSM synchronously
 * (`AttachStorageDomainToPoolCommand`: map row `Locked`, connectStorageServer on the hosts, AttachStorageDomainVDS,
 * `Maintenance`, then `ActivateStorageDomainCommand` inline: `Activating`, ActivateStorageDomainVDS, `Active`;
 * `DeactivateStorageDomainWithOvfUpdateCommand`: `Locked`, then `DeactivateStorageDomainCommand`:
 * `PreparingForMaintenance`, DeactivateStorageDomainVDS, answered there, `Maintenance` later when the hosts report
 * it; `DetachStorageDomainFromPoolCommand`: `Detaching`, DetachStorageDomainVDS, map row removed). The answer comes
 * when VDSM is done: tens of seconds, sometimes minutes. A client that drops the connection does not stop the
 * command (the servlet thread is not interrupted): here the handler goes on and its answer is lost.
 *
 * Kept on the engine options object (like storageTransitionMs) so that it survives an admin restart.
 */
export interface StorageOperationOptions {
  storageOperationMs?: number;
}

export function storageOperationMs(e: Engine): number {
  return (e.opts as StorageOperationOptions).storageOperationMs ?? 0;
}

export function setStorageOperationMs(e: Engine, ms: number): void {
  (e.opts as StorageOperationOptions).storageOperationMs = ms;
}

/**
 * Runs the command's synchronous part: the request waits `storageOperationMs`, the domain showing each status of
 * `phases` for its share of that time (visible to other requests; every other operation on the domain gets the
 * engine's "Related operation is currently in progress", the command's exclusive lock). `pending` carries the
 * outcome over a restart (settled at load, like an engine finishing the command).
 */
async function inCommand(
  e: Engine,
  sd: StorageDomainRec,
  op: NonNullable<StorageDomainRec["pending"]>["op"],
  final: StorageDomainStatus | "detached",
  phases: Array<[StorageDomainStatus, number]>,
): Promise<void> {
  const total = storageOperationMs(e);
  sd.pending = { op, final };
  for (const [status, share] of phases) {
    sd.status = status;
    e.markDirty();
    // a restart or close disposes the engine: the timer never fires and the dropped request is simply forgotten
    await new Promise<void>((resolve) => e.later(Math.round(total * share), resolve));
  }
}

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

  r.post("datacenters/:dc/storagedomains", async (ctx) => {
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
    const attached = () => {
      e.event({ code: 962, description: `Storage Domain ${sd.name} was attached to Data Center ${dc.name} by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
      e.event({ code: 966, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was activated by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    };
    if (storageOperationMs(e) > 0) {
      // answered when the command is done: active (the `maintenance` between attach and activation is brief)
      await inCommand(e, sd, "attach", "active", [["locked", 0.45], ["maintenance", 0.1], ["activating", 0.45]]);
      e.storageTransition(sd, "attach", [], "active", attached);
    } else e.storageTransition(sd, "attach", ["locked", "maintenance", "activating"], "active", attached);
    const content = ctx.w.storageDomain(sd, dc);
    return { status: 201, root: "storage_domain", content, headers: { Location: String(content["@_href"]) } };
  });

  r.action("datacenters/:dc/storagedomains/:sd/activate", async (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw F.objectLocked("activate", "Storage");
    if (sd.status !== "maintenance" && sd.status !== "inactive") throw F.storageStatusIllegal("activate", "Storage", sd.status ?? "unattached");
    const cid = ctx.correlationId;
    const activated = () =>
      e.event({ code: 966, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was activated by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    if (storageOperationMs(e) > 0) {
      await inCommand(e, sd, "activate", "active", [["activating", 1]]);
      e.storageTransition(sd, "activate", [], "active", activated);
    } else e.storageTransition(sd, "activate", ["activating"], "active", activated);
    return actionComplete(ctx);
  });

  r.action("datacenters/:dc/storagedomains/:sd/deactivate", async (ctx) => {
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
    if (storageOperationMs(e) > 0) {
      // DeactivateStorageDomainWithOvfUpdateCommand (`locked`), then DeactivateStorageDomainCommand
      // (`preparing_for_maintenance`, answered there); `maintenance` follows when the hosts report the domain gone
      await inCommand(e, sd, "deactivate", "maintenance", [["locked", 0.5], ["preparing_for_maintenance", 0.5]]);
    }
    e.storageTransition(sd, "deactivate", ["preparing_for_maintenance"], "maintenance");
    e.event({ code: 968, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was deactivated and has moved to 'Preparing for maintenance' until it will no longer be accessed by any Host of the Data Center.`, correlationId: ctx.correlationId, storageDomainId: sd.id, dataCenterId: dc.id });
    return actionComplete(ctx);
  });

  r.delete("datacenters/:dc/storagedomains/:sd", async (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw F.objectLocked("detach", "Storage");
    const tasks = runningTasks(ctx, sd);
    if (tasks.length) throw F.tasksRunning("detach", tasks);
    if (sd.status !== "maintenance") throw F.storageStatusIllegal("detach", "Storage", sd.status ?? "unattached");
    const cid = ctx.correlationId;
    const detached = () =>
      e.event({ code: 964, description: `Storage Domain ${sd.name} was detached from Data Center ${dc.name} by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    if (storageOperationMs(e) > 0) {
      await inCommand(e, sd, "detach", "detached", [["detaching", 1]]);
      e.storageTransition(sd, "detach", [], "detached", detached);
    } else e.storageTransition(sd, "detach", ["detaching"], "detached", detached);
    return { status: 200, root: "action", content: { status: "complete" } };
  });
}
