// /datacenters/{dc}/storagedomains: attach, activate, deactivate (force), detach; the per-DC status.
// Export domains are active in one data center at a time; POOL_UUID in dom_md/metadata makes an attachment held by
// another engine visible (VDSM StorageDomainAlreadyAttached).
import type { Engine } from "../engine";
import { Ctx, Router } from "../router";
import { EngineFaults } from "../engineFaults";
import { DataCenterRec, EngineState, JobKind, JobRec, StorageDomainRec, StorageDomainStatus } from "../model/types";
import { actionComplete, byIdOr404, list, notFound, one, requireBody, resolveSd } from "./common";
import { ref } from "../xml/xml";
import { readDomainMetadata } from "../storage/exportDomain";
import { usedBytes } from "../storage/contents";
import { beforeDataDomainDeactivate, checkDataDomainDetach, onDataDomainAttach, removeDomainEntities } from "./registration";

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

type StorageOp = NonNullable<StorageDomainRec["pending"]>["op"];

/**
 * The command a storage job stands for, persisted with the job (state.json) so that a restart can undo it the way
 * the engine's start-up compensation does (compensateAtStart, below): which domain, and its status before.
 */
interface StorageCommandMark {
  storageCommand?: { op: StorageOp; sdId: string; dcId: string; before?: StorageDomainStatus };
}

/**
 * The four commands are monitored actions (common/action/ActionType: AttachStorageDomainToPool,
 * DetachStorageDomainFromPool, ActivateStorageDomain and DeactivateStorageDomainWithOvfUpdate are declared without
 * `isActionMonitored = false`), so ExecutionHandler gives each REST call a job listed in /jobs, described by
 * dal/bundles/ExecutionMessages.properties `job.<ActionType>`, with the steps VALIDATING and EXECUTING
 * (DeactivateStorageDomainWithOvfUpdateCommand.createStepsContext adds the sub-step DEACTIVATE_STORAGE_DOMAIN, which
 * has no text: ExecutionMessageDirector.resolveStepMessage answers the enum name; StepMapper maps its type to
 * UNKNOWN). The commands call VDSM synchronously: no step carries a VDSM task (`external_id`), so a restart in the
 * middle makes the job `unknown` (jobs.ts finalizeAtStart).
 */
function commandJob(ctx: Ctx, sd: StorageDomainRec, dc: DataCenterRec, op: StorageOp): JobRec {
  const text: Record<StorageOp, string> = {
    attach: `Attaching Storage Domain ${sd.name} to Data Center ${dc.name}`,
    detach: `Detaching Storage Domain ${sd.name} from Data Center ${dc.name}`,
    activate: `Activating Storage Domain ${sd.name} on Data Center ${dc.name}`,
    deactivate: `Deactivating Storage Domain ${sd.name} in Data Center ${dc.name}`,
  };
  // storageDomainIds stays empty: these jobs are not the "tasks running on the domain" that block its deactivation
  // (the command's own exclusive lock on the domain answers "Related operation is currently in progress" meanwhile)
  const job = ctx.jobs.create({ kind: "other", description: text[op], correlationId: ctx.correlationId, storageDomainIds: [] });
  (job as JobRec & StorageCommandMark).storageCommand = { op, sdId: sd.id, dcId: dc.id, before: sd.status };
  const exec = ctx.jobs.addStep(job, "executing", "Executing");
  if (op === "deactivate") ctx.jobs.addStep(job, "unknown", "DEACTIVATE_STORAGE_DOMAIN", exec);
  ctx.engine.markDirty();
  return job;
}

/** Ends a storage command's job (the command returned: ExecutionHandler.endJob), unless a restart already ended it. */
function endCommandJob(ctx: Ctx, job: JobRec): void {
  if (job.status !== "started" || !ctx.engine.state.jobs.includes(job)) return;
  ctx.jobs.end(job, "finished");
}

/**
 * The engine's refresh of the storage pool (IrsProxyImpl, every StoragePoolRefreshTimeInSeconds = 10 in
 * packaging/dbscripts/upgrade/pre_upgrade/0000_config.sql), in real ms at the engine's time scale.
 */
function poolRefreshMs(e: Engine): number {
  const scale = e.opts.timeScale ?? 1;
  return 10_000 / (scale > 0 ? scale : 1);
}

/** What VDSM holds for a domain the engine's compensation left `unknown` (see compensateAtStart). */
interface VdsmView {
  vdsmStatus?: "active" | "maintenance";
}

/**
 * Start-up compensation of the storage-domain commands a stop interrupted, on the state as loaded, before the Engine
 * is built (the engine's Backend.initialize runs CommandCompensator.compensate before JobRepositoryImpl.finalizeJobs).
 * The four commands are `@NonTransactiveCommandAttribute(forceCompensation = true)`: their status changes were
 * snapshotted in business_entity_snapshot, which is only cleared when the command returns
 * (CommandBase.executeWithoutTransaction -> cleanupCompensationDataAfterSuccessfulCommand; for
 * DeactivateStorageDomainWithOvfUpdate, compensationPhase END_COMMAND, in endAction), so a command cut off by the stop
 * is undone from its snapshots, whatever VDSM did meanwhile:
 * - attach (AttachStorageDomainToPoolCommand: snapshotNewEntity of the storage_pool_iso_map row): the row is removed,
 *   the domain is no longer attached to the data center. What VDSM wrote stays (POOL_UUID in the domain's metadata:
 *   attaching it to the same data center again works, to another one VDSM refuses).
 * - activate (ActivateStorageDomainCommand: snapshotEntityStatus, then Activating): the status before (maintenance).
 * - deactivate (DeactivateStorageDomainWithOvfUpdateCommand and its child DeactivateStorageDomainCommand both
 *   snapshot the status as `Unknown`: changeDomainStatusWithCompensation / map.setStatus(Unknown)): `unknown`. The
 *   pool refresh then takes VDSM's view (IrsProxyImpl.proceedStorageDomain: a status that is not in process and
 *   differs from VDSM's is replaced by VDSM's): still active when the stop came before DeactivateStorageDomainVDS
 *   (the `locked` phase), in maintenance ("Attached") after it (`preparing_for_maintenance`). monitorAtStart.
 * - detach (DetachStorageDomainFromPoolCommand: status snapshot Maintenance, then the removed row snapshotted): the
 *   row is back in maintenance.
 * A storage operation whose command had already returned (a deactivated domain waiting for the hosts to report it
 * in maintenance) is not compensated: the engine's constructor settles it as before.
 */
export function compensateAtStart(state: EngineState): number {
  let n = 0;
  for (const job of state.jobs) {
    const mark = (job as JobRec & StorageCommandMark).storageCommand;
    if (job.status !== "started" || !mark) continue;
    const sd = state.storageDomains.find((d) => d.id === mark.sdId);
    if (!sd) continue;
    const at = sd.status;
    sd.pending = undefined;
    n++;
    switch (mark.op) {
      case "attach":
        sd.dataCenterId = undefined;
        sd.status = undefined;
        break;
      case "activate":
        sd.status = mark.before ?? "maintenance";
        break;
      case "deactivate":
        sd.status = "unknown";
        (sd as StorageDomainRec & VdsmView).vdsmStatus = at === "locked" ? "active" : "maintenance";
        break;
      case "detach":
        sd.dataCenterId = mark.dcId;
        sd.status = mark.before ?? "maintenance";
        break;
    }
  }
  return n;
}

/**
 * After start-up: a domain the compensation left `unknown` takes VDSM's status at the next pool refresh
 * (IrsProxyImpl.proceedStorageDomain; see compensateAtStart). Kept in state.json until then, so a second restart
 * meanwhile does not lose it.
 */
export function monitorAtStart(e: Engine): void {
  for (const sd of e.state.storageDomains) {
    const view = sd as StorageDomainRec & VdsmView;
    if (sd.status !== "unknown" || !view.vdsmStatus) continue;
    e.later(poolRefreshMs(e), () => {
      if (sd.status !== "unknown" || !view.vdsmStatus) return;
      sd.status = view.vdsmStatus;
      view.vdsmStatus = undefined;
      e.syncDomainMetadata(sd);
      e.markDirty();
    });
  }
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
    if (!rf.id && !rf.name) throw EngineFaults.incomplete("StorageDomain", ["id|name"], "add");
    const sd = resolveSd(ctx, rf)!;
    if (busy(sd)) throw EngineFaults.objectLocked("attach", "Storage");
    if (sd.dataCenterId === dc.id) throw EngineFaults.storageStatusIllegal("attach", "Storage", sd.status ?? "active");
    if (sd.type === "export") {
      const other = e.exportDomainOf(dc.id);
      if (other) throw EngineFaults.moreThanOneExport();
      if (sd.dataCenterId) throw EngineFaults.domainAlreadyAttached();
      const md = readDomainMetadata(sd.root);
      if (md && md.poolUUID && md.poolUUID !== dc.id) {
        e.event({ code: 963, severity: "error", description: `Failed to attach Storage Domain ${sd.name} to Data Center ${dc.name}. (User: admin@internal-authz)`, correlationId: ctx.correlationId, storageDomainId: sd.id, dataCenterId: dc.id });
        throw EngineFaults.domainAlreadyAttached();
      }
    } else if (sd.dataCenterId) {
      throw EngineFaults.storageStatusIllegal("attach", "Storage", sd.status ?? "active");
    }
    ctx.faults.atOperation("storagedomain", sd.name, "attach");
    // the engine's flow: map row `locked` -> VDSM attach -> `maintenance` -> auto-activate (`activating`) -> `active`
    const job = commandJob(ctx, sd, dc, "attach");
    sd.dataCenterId = dc.id;
    sd.status = "locked";
    // data domain: the OVF store's entities become this engine's unregistered ones (services/registration.ts)
    onDataDomainAttach(e, dc, sd);
    e.syncDomainMetadata(sd);
    e.markDirty();
    const cid = ctx.correlationId;
    e.exportUsedCache.set(sd.id, usedBytes(sd));
    const attached = () => {
      endCommandJob(ctx, job);
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
    if (busy(sd)) throw EngineFaults.objectLocked("activate", "Storage");
    if (sd.status !== "maintenance" && sd.status !== "inactive") throw EngineFaults.storageStatusIllegal("activate", "Storage", sd.status ?? "unattached");
    ctx.faults.atOperation("storagedomain", sd.name, "activate");
    const cid = ctx.correlationId;
    const job = commandJob(ctx, sd, dc, "activate");
    const activated = () => {
      endCommandJob(ctx, job);
      e.event({ code: 966, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was activated by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    };
    if (storageOperationMs(e) > 0) {
      await inCommand(e, sd, "activate", "active", [["activating", 1]]);
      e.storageTransition(sd, "activate", [], "active", activated);
    } else e.storageTransition(sd, "activate", ["activating"], "active", activated);
    return actionComplete(ctx);
  });

  r.action("datacenters/:dc/storagedomains/:sd/deactivate", async (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw EngineFaults.objectLocked("deactivate", "Storage");
    if (sd.status !== "active") throw EngineFaults.storageStatusIllegal("deactivate", "Storage", sd.status ?? "unattached");
    const tasks = runningTasks(ctx, sd);
    if (tasks.length) throw EngineFaults.deactivateWithTasks(tasks);
    ctx.faults.atOperation("storagedomain", sd.name, "deactivate");
    if (sd.type === "data") {
      const using = e.state.vms.filter((v) => v.status !== "down" && v.disks.some((d) => d.storageDomainId === sd.id));
      if (using.length) throw EngineFaults.detectedActiveVms("deactivate");
      // master rules, OVF store update, master election (DeactivateStorageDomainWithOvfUpdateCommand; registration.ts)
      beforeDataDomainDeactivate(e, dc, sd);
    }
    const job = commandJob(ctx, sd, dc, "deactivate");
    if (storageOperationMs(e) > 0) {
      // DeactivateStorageDomainWithOvfUpdateCommand (`locked`), then DeactivateStorageDomainCommand
      // (`preparing_for_maintenance`, answered there); `maintenance` follows when the hosts report the domain gone
      await inCommand(e, sd, "deactivate", "maintenance", [["locked", 0.5], ["preparing_for_maintenance", 0.5]]);
    }
    // the command returned (the answer below): what follows, `preparing_for_maintenance` until the hosts report the
    // domain gone, is monitoring, not the command, so a restart meanwhile compensates nothing (compensateAtStart)
    endCommandJob(ctx, job);
    e.storageTransition(sd, "deactivate", ["preparing_for_maintenance"], "maintenance", () => undefined);
    e.event({ code: 968, description: `Storage Domain ${sd.name} (Data Center ${dc.name}) was deactivated and has moved to 'Preparing for maintenance' until it will no longer be accessed by any Host of the Data Center.`, correlationId: ctx.correlationId, storageDomainId: sd.id, dataCenterId: dc.id });
    return actionComplete(ctx);
  });

  r.delete("datacenters/:dc/storagedomains/:sd", async (ctx) => {
    const e = ctx.engine;
    const { dc, sd } = scoped(ctx);
    if (busy(sd)) throw EngineFaults.objectLocked("detach", "Storage");
    const tasks = runningTasks(ctx, sd);
    if (tasks.length) throw EngineFaults.tasksRunning("detach", tasks);
    if (sd.status !== "maintenance") throw EngineFaults.storageStatusIllegal("detach", "Storage", sd.status ?? "unattached");
    // data domain: the master rules (DetachStorageDomainFromPoolCommand.validate; registration.ts)
    checkDataDomainDetach(e, dc, sd);
    ctx.faults.atOperation("storagedomain", sd.name, "detach");
    const cid = ctx.correlationId;
    const job = commandJob(ctx, sd, dc, "detach");
    const detached = () => {
      // data domain: the engine forgets the domain's entities in the transaction that removes the pool map row, after
      // VDSM's detach (Remove_Entities_From_storage_domain; registration.ts): a command cut off before keeps them
      removeDomainEntities(e, sd);
      endCommandJob(ctx, job);
      e.event({ code: 964, description: `Storage Domain ${sd.name} was detached from Data Center ${dc.name} by admin@internal-authz`, correlationId: cid, storageDomainId: sd.id, dataCenterId: dc.id });
    };
    if (storageOperationMs(e) > 0) {
      await inCommand(e, sd, "detach", "detached", [["detaching", 1]]);
      e.storageTransition(sd, "detach", [], "detached", detached);
    } else e.storageTransition(sd, "detach", ["detaching"], "detached", detached);
    return { status: 200, root: "action", content: { status: "complete" } };
  });
}
