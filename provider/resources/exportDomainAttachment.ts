/**
 * ExportDomainAttachment: an export domain attached and active in a data center.
 *
 * - create: attach + activate, adopting an attachment that already exists; a domain active in another data center
 *   is moved only when allowed (`takeOver`, or `moveFrom` naming that data center); a domain unknown to this
 *   engine is brought over from `moveFrom.engine` (detach + remove without format there, import here with the
 *   storage connection and a host, attach, activate) or imported from `storageConnection`.
 * - update: a new `dataCenter` moves the domain in place (wait for running tasks, deactivate, detach, attach,
 *   activate); a new `engine` moves it across engines the same way as above, using the old engine from state.
 * - delete: undoes what create did, and only that (ownership rule): an attachment found in place at create
 *   (`foundAttached`) is left as it was found; a domain this resource took from another data center (of this engine
 *   or, across engines, of `moveFrom.engine`) is returned there (`takenFrom`: detach + attach + activate, or the
 *   cross-engine move back); a domain found unattached is deactivated and detached. In a `Migration` the target
 *   attachment is deleted before the exports (it depends on them), so the domain is back in the source data center
 *   when the exports remove their copies.
 * - `handOffTo`: marks an attachment as a stage (e.g. the source side of a migration): once the domain sits in the
 *   hand-off data center, refresh and delete leave it alone.
 */
import { z } from "zod";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, StorageDomain, DataCenter, Job } from "../client";
import { EngineError } from "../client/errors";
import { newCorrelationId } from "../client/connection";
import { failureReason } from "./jobs";
import {
  ArgError,
  CheckFailure,
  EngineArgs,
  PROGRESS_URN_KEY,
  clientFor,
  connectionFailure,
  diffKeys,
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
  zName,
} from "./common";
import { progressFor, Progress } from "../progress";
import { poll } from "../client/wait";
import { sleep } from "../../lib/sleep";

const Other = z.object({
  dataCenter: zName("dataCenter"),
  engine: EngineArgs.optional(),
});

export const StorageConnectionArgs = z.object({
  type: z.enum(["nfs", "posixfs", "glusterfs", "localfs"]).default("nfs"),
  address: z.string().optional(),
  path: z.string().min(1, "storageConnection.path must not be empty"),
  nfsVersion: z.string().optional(),
  mountOptions: z.string().optional(),
});

export const ExportDomainAttachmentArgs = z.object({
  engine: EngineArgs,
  exportDomain: zName("exportDomain"),
  dataCenter: zName("dataCenter"),
  takeOver: z.boolean().optional(),
  moveFrom: Other.optional(),
  handOffTo: Other.optional(),
  host: zName("host").optional(),
  storageConnection: StorageConnectionArgs.optional(),
  detachOnDelete: z.boolean().optional(),
  timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
});
export type ExportDomainAttachmentArgs = z.infer<typeof ExportDomainAttachmentArgs>;

/**
 * Which engine, without its credentials: `takenFrom` is not a secret output, so it never holds a password. The
 * credentials to give the domain back come from `moveFrom.engine` / `handOffTo.engine` (secret outputs).
 */
export interface EngineRef {
  url: string;
  id?: string;
}

const refOf = (e: EngineArgs): EngineRef => (e.id ? { url: e.url, id: e.id } : { url: e.url });

export interface ExportDomainAttachmentOutputs extends ExportDomainAttachmentArgs {
  exportDomainId: string;
  dataCenterId: string;
  status: string;
  /** the domain was already attached to `dataCenter` when this resource was created: destroy leaves it attached */
  foundAttached?: boolean;
  /**
   * Where this resource took the domain from at create (detached from that data center, or across engines removed
   * from `engine` without formatting): destroy returns it there. Absent: it was not attached anywhere (destroy
   * detaches it) or found in place (`foundAttached`).
   */
  takenFrom?: { dataCenter: string; engine?: EngineRef };
  storage?: { type?: string; address?: string; path?: string };
}

function deadlineOf(a: ExportDomainAttachmentArgs): number {
  return Date.now() + (a.timeoutMinutes ?? 30) * 60_000;
}

async function findDc(c: OvirtClient, name: string, property: string): Promise<DataCenter> {
  const dc = await c.datacenters.findByName(name);
  if (!dc) {
    const all = (await c.datacenters.list()).map((d) => d.name);
    throw new ArgError(property, `${property}: data center "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  return dc;
}

async function findExportDomain(c: OvirtClient, name: string): Promise<StorageDomain | undefined> {
  const sd = await c.storageDomains.findByName(name);
  if (sd && sd.type && sd.type !== "export") {
    throw new ArgError(
      "exportDomain",
      `exportDomain: storage domain "${name}" is a ${sd.type} domain, not an export domain`,
    );
  }
  return sd;
}

/** Ids of the data centers a domain is attached to. */
function attachedDcIds(sd: StorageDomain): string[] {
  const ids = new Set<string>();
  for (const d of sd.data_centers ?? []) if (d.id) ids.add(d.id);
  if (sd.data_center?.id) ids.add(sd.data_center.id);
  return [...ids];
}

/** Polls the DC-scoped status until `want(status)` (or the domain is gone when want(undefined)). */
async function waitStatus(
  c: OvirtClient,
  dcId: string,
  sdId: string,
  want: (s: string | undefined) => boolean,
  what: string,
  deadline: number,
  progress: Progress,
): Promise<string | undefined> {
  return poll(
    async () => {
      const sd = await c.attachedStorageDomains.get(dcId, sdId);
      const st = sd?.status;
      if (want(st)) return { done: true, value: st };
      if (st === "unknown" || st === "inactive") {
        // failure states of the engine's flow when we are not waiting for them
        if (!want("maintenance")) {
          throw new Error(`export domain went ${st} while waiting for ${what}`);
        }
      }
      return { done: false, progress: `${what} (status ${st ?? "detached"})` };
    },
    { what, deadline, onProgress: (m) => progress.update(m), timeoutHint: "raise timeoutMinutes" },
  );
}

/**
 * The engine's storage-domain commands (attach, activate, deactivate, detach) are synchronous: the request answers
 * when VDSM is done, tens of seconds and sometimes minutes later (restapi performCreate / performAction / doAction
 * run AttachStorageDomainToPoolCommand, ActivateStorageDomainCommand, DeactivateStorageDomainWithOvfUpdateCommand,
 * DetachStorageDomainFromPoolCommand inside the request), and a client that gives up does not stop the command.
 * So an answer that does not come (the client's request timeout, a dropped connection, a 502/503/504 of a proxy in
 * front of the engine) says nothing about the outcome: the domain's status is read again and the caller goes on
 * from there, resending only when the domain shows no trace of the command after `LOST_GRACE_MS`.
 */
const LOST_GRACE_MS = 5_000;

const TRANSITIONAL = ["locked", "activating", "preparing_for_maintenance", "detaching"];

function answerLost(e: unknown): e is Error {
  // by name: a second copy of the client module (a project's installed package) has its own class
  return (e as Error | undefined)?.name === "EngineUnavailableError";
}

/**
 * Runs one storage command, showing the elapsed time and the domain's status on the resource's status line while
 * the engine works. Answers "lost" when no answer came (see above); engine refusals are thrown as they are.
 */
async function storageCall(
  c: OvirtClient,
  dcId: string,
  sdId: string,
  what: string,
  call: () => Promise<unknown>,
  progress: Progress,
): Promise<"answered" | "lost"> {
  const t0 = Date.now();
  let done = false;
  let wake: () => void = () => undefined;
  const ticker = (async () => {
    let interval = 1000;
    while (!done) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, interval);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      if (done) return;
      const st = await c.attachedStorageDomains.get(dcId, sdId).then((d) => d?.status ?? "not attached", () => undefined);
      if (done) return;
      progress.update(`${what}: the engine is working on it${st ? ` (status ${st})` : ""}, ${Math.round((Date.now() - t0) / 1000)} s`);
      interval = Math.min(interval * 1.5, 5000);
    }
  })();
  try {
    await call();
    return "answered";
  } catch (e) {
    if (!answerLost(e)) throw e;
    progress.info(`${what}: no answer from the engine after ${Math.round((Date.now() - t0) / 1000)} s (${e.message}); reading the domain's status to see how far it got`);
    return "lost";
  } finally {
    done = true;
    wake();
    await ticker;
  }
}

/**
 * The DC-scoped view of the domain, read again after a lost answer; an engine that does not answer reads (it may be
 * restarting) is waited for until the deadline instead of failing the resource.
 */
async function readAttached(c: OvirtClient, dcId: string, sdId: string, deadline: number, progress: Progress): Promise<StorageDomain | undefined> {
  let delay = 500;
  for (;;) {
    try {
      return await c.attachedStorageDomains.get(dcId, sdId);
    } catch (e) {
      if (!answerLost(e) || Date.now() > deadline) throw e;
      progress.update(`the engine does not answer (${e.message}); trying again`);
      await sleep(delay);
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

/**
 * After a lost answer: polls (adaptive) for up to LOST_GRACE_MS until `moved(status)` shows the command's trace;
 * answers the last view. A command that reached the engine shows at once (its first step writes the status), so a
 * domain still unchanged after the grace period means the request never got there and may be sent again.
 */
async function afterLost(
  c: OvirtClient,
  dcId: string,
  sdId: string,
  moved: (d: StorageDomain | undefined) => boolean,
  deadline: number,
  progress: Progress,
): Promise<{ cur: StorageDomain | undefined; moved: boolean }> {
  const until = Date.now() + LOST_GRACE_MS;
  let interval = 200;
  for (;;) {
    const cur = await readAttached(c, dcId, sdId, deadline, progress);
    if (moved(cur)) return { cur, moved: true };
    if (Date.now() >= until) return { cur, moved: false };
    await sleep(interval);
    interval = Math.min(interval * 1.5, 1500);
  }
}

/**
 * After a lost answer, the engine's own record of the command: its job, found by the correlation id the request
 * carried (the four commands are monitored actions, so the engine's ExecutionHandler gives each a job):
 * - `started`: the command still runs in the engine: waited for, nothing is sent again;
 * - `finished`: done, as if it had answered; `failed`/`aborted`: its failure, with the engine's reason;
 * - `unknown`: the engine restarted in the middle of it (JobRepositoryImpl.finalizeJobs) and its start-up
 *   compensation (CommandCompensator) undid what the command had changed: the status says nothing about the outcome,
 *   the domain decides (never read as "still running");
 * - no job: the request may never have reached the engine: the domain decides.
 */
async function commandOutcome(
  c: OvirtClient,
  correlationId: string,
  what: string,
  deadline: number,
  progress: Progress,
  /** said once when the job is found running (e.g. "the engine is attaching exp to dc-b (status locked)") */
  running?: () => Promise<string>,
): Promise<"finished" | "unknown" | "none"> {
  const t0 = Date.now();
  let delay = 500;
  let told = false;
  for (;;) {
    let job: Job | undefined;
    try {
      const list = await c.jobs.byCorrelationId(correlationId);
      job = list.sort((a, b) => String(b.start_time ?? "").localeCompare(String(a.start_time ?? "")))[0];
    } catch (e) {
      if (!answerLost(e) || Date.now() > deadline) throw e;
      progress.update(`${what}: the engine does not answer (${e.message}); trying again`);
      await sleep(delay);
      delay = Math.min(delay * 1.5, 5000);
      continue;
    }
    if (!job) return "none";
    if (job.status === "finished") return "finished";
    if (job.status === "unknown") return "unknown";
    if (job.status === "failed" || job.status === "aborted") {
      throw new Error(`${what} failed in the engine: ${await failureReason(c, correlationId, job)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: the engine's job "${job.description}" is still ${job.status}; raise timeoutMinutes`);
    if (!told && running) {
      told = true;
      progress.info(`${await running()}: waiting for it`);
    }
    progress.update(`${what}: the engine is still working on it (job ${job.status}), ${Math.round((Date.now() - t0) / 1000)} s`);
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
  }
}

/** Deactivate (retrying while tasks run on the domain) and detach from one data center. */
async function detachFrom(c: OvirtClient, dcId: string, dcName: string, sd: StorageDomain, deadline: number, progress: Progress) {
  const doing = async (what: string) => `the engine is ${what} (status ${(await readAttached(c, dcId, sd.id, deadline, progress))?.status ?? "detached"})`;
  let cur = await c.attachedStorageDomains.get(dcId, sd.id);
  if (!cur) return;
  // wait for a transitional status to settle
  if (cur.status && TRANSITIONAL.includes(cur.status)) {
    await waitStatus(
      c,
      dcId,
      sd.id,
      (s) => !s || !TRANSITIONAL.includes(s),
      `export domain ${sd.name} to settle in ${dcName}`,
      deadline,
      progress,
    );
    cur = await c.attachedStorageDomains.get(dcId, sd.id);
    if (!cur) return;
  }
  if (cur.status === "unknown") {
    // the engine's start-up compensation of a deactivation a restart cut off; its next pool refresh replaces the
    // status by VDSM's view (IrsProxyImpl.proceedStorageDomain): active again, or in maintenance
    await waitStatus(c, dcId, sd.id, (s) => s !== "unknown", `${sd.name} to leave status unknown in ${dcName}`, deadline, progress);
    cur = await c.attachedStorageDomains.get(dcId, sd.id);
    if (!cur) return;
  }
  while (cur?.status === "active") {
    progress.update(`deactivating ${sd.name} in ${dcName}`);
    let delay = 250;
    for (;;) {
      try {
        const cid = newCorrelationId();
        const r = await storageCall(c, dcId, sd.id, `deactivating ${sd.name} in ${dcName}`, () => c.attachedStorageDomains.deactivate(dcId, sd.id, { correlationId: cid }), progress);
        const outcome = r === "lost" ? await commandOutcome(c, cid, `the deactivation of ${sd.name} in ${dcName}`, deadline, progress, () => doing(`deactivating ${sd.name} in ${dcName}`)) : undefined;
        if (r === "lost" && outcome !== "finished") {
          const seen = await afterLost(c, dcId, sd.id, (d) => d?.status !== "active", deadline, progress);
          if (!seen.moved && outcome === "unknown") {
            if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is active again in ${dcName}: the engine undid the deactivation`);
            progress.info(`the engine undid the deactivation of ${sd.name} in ${dcName} (it restarted in the middle of it): sending it again`);
            continue;
          }
          if (!seen.moved) {
            if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is still active in ${dcName}: the deactivation request got no answer`);
            progress.info(`the deactivation of ${sd.name} did not reach the engine (still active in ${dcName}): sending it again`);
            continue;
          }
          progress.info(`the engine is deactivating ${sd.name} in ${dcName} (status ${seen.cur?.status ?? "detached"}): waiting for it`);
        }
        break;
      } catch (e) {
        const text = engineText(e);
        if (e instanceof EngineError && e.status === 409 && /running tasks|in progress|try again later/i.test(text)) {
          if (Date.now() > deadline) throw new Error(`export domain ${sd.name} still has running tasks in ${dcName}: ${text}`);
          progress.update(`waiting for running tasks on ${sd.name} in ${dcName} to finish`);
          await sleep(delay);
          delay = Math.min(delay * 1.5, 2000);
          continue;
        }
        if (e instanceof EngineError && e.status === 409 && /status is Maintenance/i.test(text)) break;
        throw e;
      }
    }
    // `active` again after the engine took the deactivation: a restart cut the command off and the engine undid it
    // (compensation, then VDSM's view: the domain was never deactivated there): it is sent again
    const st = await waitStatus(c, dcId, sd.id, (s) => s === "maintenance" || s === undefined || s === "active", `deactivation of ${sd.name} in ${dcName}`, deadline, progress);
    if (st !== "active") break;
    if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is active again in ${dcName}: the engine undid the deactivation`);
    progress.info(`the engine undid the deactivation of ${sd.name} in ${dcName} (it restarted in the middle of it): sending it again`);
    cur = await c.attachedStorageDomains.get(dcId, sd.id);
  }
  for (;;) {
    progress.update(`detaching ${sd.name} from ${dcName}`);
    const cid = newCorrelationId();
    const r = await storageCall(c, dcId, sd.id, `detaching ${sd.name} from ${dcName}`, () => c.attachedStorageDomains.detach(dcId, sd.id, cid), progress);
    const outcome = r === "lost" ? await commandOutcome(c, cid, `the detach of ${sd.name} from ${dcName}`, deadline, progress, () => doing(`detaching ${sd.name} from ${dcName}`)) : undefined;
    if (r === "lost" && outcome !== "finished") {
      const seen = await afterLost(c, dcId, sd.id, (d) => d?.status !== "maintenance", deadline, progress);
      if (!seen.moved && outcome === "unknown") {
        if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is in maintenance in ${dcName} again: the engine undid the detach`);
        progress.info(`the engine undid the detach of ${sd.name} from ${dcName} (it restarted in the middle of it): sending it again`);
        continue;
      }
      if (!seen.moved) {
        if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is still attached to ${dcName}: the detach request got no answer`);
        progress.info(`the detach of ${sd.name} did not reach the engine (still in maintenance in ${dcName}): sending it again`);
        continue;
      }
      if (seen.cur) progress.info(`the engine is detaching ${sd.name} from ${dcName} (status ${seen.cur.status}): waiting for it`);
    }
    // back in maintenance after the engine took the detach: a restart cut the command off and the engine's
    // compensation put the domain back (DetachStorageDomainFromPoolCommand's snapshots): it is sent again
    const st = await waitStatus(c, dcId, sd.id, (s) => s === undefined || s === "maintenance", `detach of ${sd.name} from ${dcName}`, deadline, progress);
    if (st === undefined) break;
    if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is in maintenance in ${dcName} again: the engine undid the detach`);
    progress.info(`the engine undid the detach of ${sd.name} from ${dcName} (it restarted in the middle of it): sending it again`);
  }
}

/** Attach (if needed) and activate in the target data center; answers the final status. */
async function attachAndActivate(c: OvirtClient, dc: DataCenter, sd: StorageDomain, deadline: number, progress: Progress): Promise<string> {
  const doing = async (what: string) => `the engine is ${what} (status ${(await readAttached(c, dc.id, sd.id, deadline, progress))?.status ?? "not attached"})`;
  let cur = await c.attachedStorageDomains.get(dc.id, sd.id);
  // the domain gone from the data center after the engine took the attach: a restart cut the command off and the
  // engine's start-up compensation removed the attachment (AttachStorageDomainToPoolCommand's snapshot): attach again
  const undone = () => {
    if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is not attached to ${dc.name}: the engine undid the attach`);
    progress.info(`the engine undid the attach of ${sd.name} to ${dc.name} (it restarted in the middle of it): attaching it again`);
  };
  attach: for (;;) {
    while (!cur) {
      progress.update(`attaching ${sd.name} to ${dc.name}`);
      let r: "answered" | "lost";
      const cid = newCorrelationId();
      try {
        r = await storageCall(c, dc.id, sd.id, `attaching ${sd.name} to ${dc.name}`, () => c.attachedStorageDomains.attach(dc.id, sd.id, cid), progress);
      } catch (e) {
        const text = engineText(e);
        if (e instanceof EngineError && /more than one Import\/Export/i.test(text)) {
          const others = (await c.attachedStorageDomains.list(dc.id)).filter((d) => d.type === "export" && d.id !== sd.id);
          throw new ArgError(
            "dataCenter",
            `dataCenter: data center ${dc.name} already has export domain ${others.map((o) => o.name).join(", ") || "(another)"} attached; ` +
              `a data center holds one export domain at a time. Detach it first (or manage it with its own ExportDomainAttachment). Engine: ${text}`,
          );
        }
        // an attach of ours sent again after a lost answer may meet the first one still running in the engine
        if (e instanceof EngineError && e.status === 409 && (await c.attachedStorageDomains.get(dc.id, sd.id))) r = "answered";
        else throw e;
      }
      const outcome = r === "lost" ? await commandOutcome(c, cid, `the attach of ${sd.name} to ${dc.name}`, deadline, progress, () => doing(`attaching ${sd.name} to ${dc.name}`)) : undefined;
      if (outcome === "finished") {
        cur = await c.attachedStorageDomains.get(dc.id, sd.id);
        if (!cur) {
          undone();
          continue;
        }
      } else if (r === "lost") {
        const seen = await afterLost(c, dc.id, sd.id, (d) => d !== undefined, deadline, progress);
        cur = seen.cur;
        if (!seen.moved) {
          if (outcome === "unknown") {
            undone();
            continue;
          }
          if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is not attached to ${dc.name}: the attach request got no answer`);
          progress.info(`the attach of ${sd.name} did not reach the engine (not attached to ${dc.name}): sending it again`);
          continue;
        }
        progress.info(`the engine is attaching ${sd.name} to ${dc.name} (status ${cur?.status}): waiting for it`);
      } else cur = await c.attachedStorageDomains.get(dc.id, sd.id);
      if (!cur) throw new Error(`export domain ${sd.name} is not attached to ${dc.name} after the engine answered the attach`);
    }
    // The engine's attach walks locked -> maintenance -> activating -> active by itself (auto-activation); a domain
    // found in maintenance may be in that flow or parked there. Wait through the transitional statuses, ask for
    // activation when it sits in maintenance/inactive, and take the engine's "Related operation is currently in
    // progress" (409) as "the attach flow is still running": keep polling (adaptive) until active.
    const settle = (s: string | undefined) => !!s && !TRANSITIONAL.includes(s);
    for (;;) {
      if (!cur) {
        undone();
        continue attach;
      }
      if (!settle(cur.status)) {
        await waitStatus(c, dc.id, sd.id, (s) => settle(s) || s === undefined, `${sd.name} to settle in ${dc.name}`, deadline, progress);
        cur = await c.attachedStorageDomains.get(dc.id, sd.id);
        continue;
      }
      if (cur?.status === "active") return "active";
      progress.update(`activating ${sd.name} in ${dc.name}`);
      const seen = cur?.status;
      const cid = newCorrelationId();
      try {
        const r = await storageCall(c, dc.id, sd.id, `activating ${sd.name} in ${dc.name}`, () => c.attachedStorageDomains.activate(dc.id, sd.id, cid), progress);
        if (r === "lost" && (await commandOutcome(c, cid, `the activation of ${sd.name} in ${dc.name}`, deadline, progress, () => doing(`activating ${sd.name} in ${dc.name}`))) === "finished") {
          cur = await c.attachedStorageDomains.get(dc.id, sd.id);
          continue;
        }
        if (r === "lost") {
          // activating / active: the command got there; unchanged after the grace period: the loop sends it again
          cur = (await afterLost(c, dc.id, sd.id, (d) => d?.status !== seen, deadline, progress)).cur;
          if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is ${cur?.status ?? "not attached"} in ${dc.name}: the activation request got no answer`);
          continue;
        }
      } catch (e) {
        const text = engineText(e);
        if (e instanceof EngineError && e.status === 409 && /in progress|try again later/i.test(text)) {
          // the engine's own flow holds the domain: wait for its next status, then look again
          await waitStatus(c, dc.id, sd.id, (s) => s !== seen, `${sd.name} to leave ${seen} in ${dc.name}`, deadline, progress);
          cur = await c.attachedStorageDomains.get(dc.id, sd.id);
          continue;
        }
        if (!(e instanceof EngineError && e.status === 409 && /status is Active/i.test(text))) throw e;
      }
      // maintenance again after the engine took the activation: a restart cut it off and the engine's compensation
      // put the status back (ActivateStorageDomainCommand's snapshot): the loop activates again
      const st = await waitStatus(
        c,
        dc.id,
        sd.id,
        (s) => s === "active" || s === "maintenance" || s === "inactive" || s === undefined,
        `activation of ${sd.name} in ${dc.name}`,
        deadline,
        progress,
      );
      if (st === "active") return "active";
      if (Date.now() > deadline) throw new Error(`export domain ${sd.name} is ${st ?? "not attached"} in ${dc.name}: the engine undid the activation`);
      cur = await c.attachedStorageDomains.get(dc.id, sd.id);
    }
  }
}

/**
 * Where a domain sits in another engine, and whether this resource may take it from there: only from the data
 * center it names (`moveFrom.dataCenter`, or the one recorded in state), or from anywhere with `takeOver`.
 */
async function placementElsewhere(
  from: OvirtClient,
  sd: StorageDomain,
  allowedDc: string | undefined,
  takeOver: boolean,
): Promise<{ where: string; refusal?: string }> {
  const full = (await from.storageDomains.get(sd.id)) ?? sd;
  const names: string[] = [];
  const refused: string[] = [];
  for (const dcId of attachedDcIds(full)) {
    const dcName = (await from.datacenters.get(dcId))?.name ?? dcId;
    const st = (await from.attachedStorageDomains.get(dcId, sd.id))?.status ?? "attached";
    names.push(`${st} in data center ${dcName}`);
    if (!takeOver && dcName !== allowedDc) refused.push(dcName);
  }
  const where = names.length ? names.join(", ") : "not attached to any data center";
  if (!refused.length) return { where };
  return {
    where,
    refusal:
      `moveFrom.dataCenter: export domain ${sd.name} is ${where} of engine ${from.url}, not in ${allowedDc ?? "(no moveFrom.dataCenter)"}; ` +
      `this resource takes it only from the data center it names. Set moveFrom.dataCenter to "${refused[0]}" if that is where this stack's source stage attached it, ` +
      `or takeOver: true to take it from wherever it is. Nothing was changed.`,
  };
}

/** Detach from the data centers of engine `from` and remove the domain from that engine without formatting it. */
async function releaseFromEngine(from: OvirtClient, sd: StorageDomain, allowedDc: string | undefined, takeOver: boolean, deadline: number, progress: Progress) {
  const full = (await from.storageDomains.get(sd.id)) ?? sd;
  const placed = await placementElsewhere(from, full, allowedDc, takeOver);
  if (placed.refusal) throw new ArgError("moveFrom.dataCenter", placed.refusal);
  for (const dcId of attachedDcIds(full)) {
    const dc = await from.datacenters.get(dcId);
    await detachFrom(from, dcId, dc?.name ?? dcId, full, deadline, progress);
  }
  const hosts = (await from.hosts.list()).filter((h) => h.status === "up");
  if (hosts.length === 0) throw new Error(`engine ${from.url} has no host up to remove export domain ${sd.name} (without format)`);
  progress.update(`removing ${sd.name} from ${from.url} (content kept)`);
  await from.storageDomains.removeKeepContent(sd.id, hosts[0].name);
}

async function pickHost(c: OvirtClient, dc: DataCenter, name?: string): Promise<{ id: string; name: string }> {
  if (name) {
    const h = await c.hosts.findByName(name);
    if (!h) throw new ArgError("host", `host: host "${name}" does not exist in engine ${c.url}`);
    return h;
  }
  const clusters = (await c.clusters.list()).filter((cl) => cl.data_center?.id === dc.id).map((cl) => cl.id);
  const hosts = (await c.hosts.list()).filter((h) => h.status === "up" && (!h.cluster?.id || clusters.includes(h.cluster.id)));
  if (hosts.length === 0) {
    throw new ArgError("host", `host: no host is up in data center ${dc.name} to import the export domain; set host`);
  }
  return hosts[0];
}

interface EnsureOpts {
  args: ExportDomainAttachmentArgs;
  /** the DC the domain may be taken from (previous state of this resource) */
  previousDataCenter?: string;
  /** the engine the domain may be taken from (previous state of this resource) */
  previousEngine?: EngineArgs;
  /** the data center of `previousEngine` the domain may be taken from (previous state of this resource) */
  previousEngineDataCenter?: string;
  progress: Progress;
  /** what the closing info line says: an attachment (create/update), or a destroy giving the domain back */
  purpose?: "attach" | "return";
}

async function ensure(o: EnsureOpts): Promise<ExportDomainAttachmentOutputs> {
  const a = o.args;
  const deadline = deadlineOf(a);
  const c = clientFor(a.engine);
  const dc = await findDc(c, a.dataCenter, "dataCenter");
  let sd = await findExportDomain(c, a.exportDomain);
  let storage: ExportDomainAttachmentOutputs["storage"];
  let takenFrom: ExportDomainAttachmentOutputs["takenFrom"];

  if (!sd) {
    const fromEngine =
      a.moveFrom?.engine && !sameEngine(a.moveFrom.engine, a.engine)
        ? a.moveFrom.engine
        : o.previousEngine && !sameEngine(o.previousEngine, a.engine)
          ? o.previousEngine
          : undefined;
    let conn: import("../client").HostStorage | undefined = a.storageConnection
      ? {
          type: a.storageConnection.type,
          address: a.storageConnection.address,
          path: a.storageConnection.path,
          nfs_version: a.storageConnection.nfsVersion,
          mount_options: a.storageConnection.mountOptions,
        }
      : undefined;
    if (fromEngine) {
      const from = clientFor(fromEngine);
      const old = await findExportDomain(from, a.exportDomain);
      if (old) {
        conn = conn ?? old.storage;
        const allowedDc = fromEngine === a.moveFrom?.engine ? a.moveFrom?.dataCenter : o.previousEngineDataCenter;
        // where it sat there: a destroy brings it back
        const there = attachedDcIds((await from.storageDomains.get(old.id)) ?? old)[0];
        const thereName = there ? ((await from.datacenters.get(there))?.name ?? there) : undefined;
        await releaseFromEngine(from, old, allowedDc, a.takeOver === true, deadline, o.progress);
        if (thereName) takenFrom = { dataCenter: thereName, engine: refOf(fromEngine) };
      }
    }
    if (!conn || !conn.path) {
      throw new ArgError(
        "storageConnection",
        `exportDomain: export domain "${a.exportDomain}" is not known to engine ${a.engine.url}. To bring it from another ` +
          `engine set moveFrom: { dataCenter, engine } (the domain is detached and removed there without formatting), ` +
          `or give storageConnection (and host) to import it.`,
      );
    }
    // an earlier interrupted attempt may have imported it meanwhile
    sd = await findExportDomain(c, a.exportDomain);
    if (!sd) {
      const host = await pickHost(c, dc, a.host);
      o.progress.update(`importing export domain ${a.exportDomain} into ${a.engine.url}`);
      try {
        sd = await c.storageDomains.importExisting({ name: a.exportDomain, type: "export", storage: conn, hostId: host.id });
      } catch (e) {
        const again = await findExportDomain(c, a.exportDomain);
        if (!again) throw e;
        sd = again;
      }
    }
    storage = { type: conn.type, address: conn.address, path: conn.path };
  }
  // global GET carries the data_centers links
  sd = (await c.storageDomains.get(sd.id)) ?? sd;
  storage = storage ?? (sd.storage ? { type: sd.storage.type, address: sd.storage.address, path: sd.storage.path } : undefined);

  for (const otherId of attachedDcIds(sd)) {
    if (otherId === dc.id) continue;
    const other = await c.datacenters.get(otherId);
    const otherName = other?.name ?? otherId;
    const allowed =
      a.takeOver === true ||
      (a.moveFrom && a.moveFrom.dataCenter === otherName && (!a.moveFrom.engine || sameEngine(a.moveFrom.engine, a.engine))) ||
      // a stage whose hand-off already happened (a re-run after the state was lost): the domain flows between the
      // two data centers this resource names, so it may be taken back from its hand-off data center
      (a.handOffTo && a.handOffTo.dataCenter === otherName && (!a.handOffTo.engine || sameEngine(a.handOffTo.engine, a.engine))) ||
      (o.previousDataCenter !== undefined && o.previousDataCenter === otherName);
    if (!allowed) {
      const st = (await c.attachedStorageDomains.get(otherId, sd.id))?.status ?? "attached";
      throw new ArgError(
        "takeOver",
        `exportDomain: export domain ${sd.name} is ${st} in data center ${otherName}, which this resource does not manage ` +
          `(an export domain is active in one data center at a time). Set takeOver: true to move it to ${dc.name}, ` +
          `or moveFrom: { dataCenter: "${otherName}" } when another stage of this stack attached it there.`,
      );
    }
    await detachFrom(c, otherId, otherName, sd, deadline, o.progress);
    takenFrom = takenFrom ?? { dataCenter: otherName };
  }
  // found in place: this resource did not attach it, so its destroy will not detach it
  const foundAttached = !!(await c.attachedStorageDomains.get(dc.id, sd.id));
  const status = await attachAndActivate(c, dc, sd, deadline, o.progress);
  const inEngine = (e?: EngineRef) => (e && !sameEngine(e, a.engine) ? ` of engine ${e.url}` : "");
  if (o.purpose === "return") {
    const otherEngine = a.moveFrom?.engine && !sameEngine(a.moveFrom.engine, a.engine) ? ` of engine ${a.engine.url}` : "";
    o.progress.info(`returned export domain ${sd.name} to ${dc.name}${otherEngine}, where this resource found it; it is ${status} there`);
  } else {
    const onDestroy = foundAttached
      ? "found attached there: destroy leaves it attached"
      : takenFrom
        ? `taken from ${takenFrom.dataCenter}${inEngine(takenFrom.engine)}: destroy returns it there`
        : "it was not attached anywhere: destroy detaches it";
    o.progress.info(`export domain ${sd.name} is ${status} in ${dc.name} (${onDestroy})`);
  }
  return { ...a, exportDomainId: sd.id, dataCenterId: dc.id, status, storage, foundAttached, ...(foundAttached ? {} : takenFrom ? { takenFrom } : {}) };
}

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(ExportDomainAttachmentArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  const identityChanged =
    !prev || !jsonEqual(prev.dataCenter, args.dataCenter) || !jsonEqual(prev.exportDomain, args.exportDomain) || !(await sameEngineProbe(prev.engine, args.engine));
  if (!hasUnknowns && prev && !identityChanged) await checkConnectionChange(prev.engine, args.engine, fs);
  // where the domain sits now (read below for a new attachment): what destroy will do follows from it
  let placement: Placement | undefined;
  if (!hasUnknowns && identityChanged) {
    try {
      const c = clientFor(args.engine);
      const dc = await c.datacenters.findByName(args.dataCenter);
      if (!dc) {
        const all = (await c.datacenters.list()).map((d) => d.name);
        fs.push({ property: "dataCenter", reason: `dataCenter: data center "${args.dataCenter}" does not exist in engine ${args.engine.url}.${suggest(args.dataCenter, all)}` });
      }
      const sd = await c.storageDomains.findByName(args.exportDomain);
      if (sd && sd.type && sd.type !== "export") {
        fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${sd.type} domain, not an export domain` });
      } else if (!sd && args.moveFrom?.engine && !sameEngine(args.moveFrom.engine, args.engine)) {
        // the domain comes from the other engine: read it there (reads only) and show where it actually sits
        try {
          const from = clientFor(args.moveFrom.engine);
          const old = await findExportDomain(from, args.exportDomain);
          if (!old) {
            if (!args.storageConnection) {
              fs.push({
                property: "moveFrom.engine",
                reason: `moveFrom.engine: export domain "${args.exportDomain}" is neither in engine ${args.engine.url} nor in engine ${args.moveFrom.engine.url}; give storageConnection to import it.`,
              });
            }
          } else {
            const placed = await placementElsewhere(from, old, args.moveFrom.dataCenter, args.takeOver === true);
            if (placed.refusal) fs.push({ property: "moveFrom.dataCenter", reason: placed.refusal });
            else {
              progressFor(news[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`).info(
                `export domain ${args.exportDomain} is ${placed.where} of engine ${args.moveFrom.engine.url}: it will be detached and removed there (content kept) and imported into ${args.engine.url}`,
              );
            }
          }
        } catch (e) {
          const f = connectionFailure(e);
          if (!f) throw e;
          fs.push({ property: `moveFrom.${f.property}`, reason: `moveFrom.${f.reason}` });
        }
      } else if (!sd && !args.moveFrom?.engine && !args.storageConnection && !(prev && !sameEngine(prev.engine, args.engine))) {
        const all = (await c.storageDomains.list()).filter((d) => d.type === "export").map((d) => d.name);
        fs.push({
          property: "exportDomain",
          reason: `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}; to bring it from another engine set moveFrom.engine or storageConnection.${suggest(args.exportDomain, all)}`,
        });
      } else if (sd && dc) {
        // attached elsewhere without permission?
        const full = (await c.storageDomains.get(sd.id)) ?? sd;
        const ids = attachedDcIds(full);
        placement = ids.includes(dc.id) ? { here: true } : ids.length === 0 ? { unattached: true } : {};
        for (const otherId of ids) {
          if (otherId === dc.id) continue;
          const other = await c.datacenters.get(otherId);
          const otherName = other?.name ?? otherId;
          placement.elsewhere = placement.elsewhere ?? otherName;
          const allowed =
            args.takeOver ||
            args.moveFrom?.dataCenter === otherName ||
            prev?.dataCenter === otherName ||
            (args.handOffTo?.dataCenter === otherName && (!args.handOffTo.engine || sameEngine(args.handOffTo.engine, args.engine)));
          if (!allowed) {
            fs.push({
              property: "takeOver",
              reason: `exportDomain: export domain ${sd.name} is attached to data center ${otherName}, which this resource does not manage. Set takeOver: true to move it to ${args.dataCenter}, or moveFrom: { dataCenter: "${otherName}" }.`,
            });
          }
        }
      }
      if (args.host) {
        const h = await c.hosts.findByName(args.host);
        if (!h) fs.push({ property: "host", reason: `host: host "${args.host}" does not exist in engine ${args.engine.url}` });
      }
    } catch (e) {
      const f = connectionFailure(e);
      if (f) fs.push(f);
      else throw e;
    }
  }
  // kept from the previous check while nothing it depends on changed (the placement was read when it was new)
  const carried = prev && !identityChanged && (prev.detachOnDelete ?? true) === (args.detachOnDelete ?? true) && Array.isArray(prev.onDestroy) ? (prev.onDestroy as string[]) : undefined;
  return { inputs: { ...news, onDestroy: carried ?? onDestroyText(args, placement) }, failures: [...failures, ...fs] };
}

interface Placement {
  /** attached to this resource's data center already */
  here?: boolean;
  /** attached nowhere */
  unattached?: boolean;
  /** attached to this other data center */
  elsewhere?: string;
}

/**
 * What destroy will do, in words, as the check-time input `onDestroy`: Pulumi shows a resource's inputs in the preview
 * of `pulumi up` and in the preview of `pulumi destroy` (`--diff`, or "details" at its prompt), which calls no
 * provider code; this is how that preview says it. Short lines: the CLI cuts a string after 150 characters. The info
 * lines of create and delete say what actually happened.
 */
export function onDestroyText(a: ExportDomainAttachmentArgs, at?: Placement): string[] {
  const d = `export domain ${a.exportDomain}`;
  if (a.detachOnDelete === false) return [`leaves ${d} where it is (detachOnDelete: false)`];
  if (at?.here) return [`leaves ${d} attached to ${a.dataCenter}, where it was before this stack`];
  if (a.moveFrom) {
    const eng = a.moveFrom.engine && !sameEngine(a.moveFrom.engine, a.engine) ? ` of engine ${a.moveFrom.engine.url}` : "";
    return [`returns ${d} to ${a.moveFrom.dataCenter}${eng}, where it is taken from,`, "so that the copies on it can be removed there"];
  }
  if (at?.elsewhere) return [`returns ${d} to ${at.elsewhere}, where it is taken from`];
  if (at?.unattached) return [`deactivates and detaches ${d} from ${a.dataCenter} (it is not attached anywhere now)`];
  return [
    `undoes this attachment only: ${d} is left attached if it was attached to ${a.dataCenter} before,`,
    "returned to the data center it was taken from, or else detached",
  ];
}

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(ExportDomainAttachmentArgs, olds);
  const n = normalizeArgs(ExportDomainAttachmentArgs, news);
  const keys = ["engine", "exportDomain", "dataCenter", "takeOver", "moveFrom", "handOffTo", "host", "storageConnection", "detachOnDelete", "timeoutMinutes"];
  const changed = keys.filter((k) => !jsonEqual(o[k], n[k]));
  // engine: only url/username count as a different engine; a password change is an update without engine work
  const replaces = diffKeys(o, n, ["exportDomain"]);
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = ExportDomainAttachmentArgs.parse(userInputs(inputs));
  const progress = progressFor(inputs[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`);
  const outs = await ensure({ args, progress });
  return { id: outs.exportDomainId, outs: { ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = ExportDomainAttachmentArgs.parse(userInputs(news));
  const prev = userInputs(olds) as ExportDomainAttachmentOutputs;
  const progress = progressFor(news[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`);
  // the same engine reached by another URL is not a cross-engine move
  const same = await sameEngineLive(prev.engine, args.engine, prev.dataCenterId);
  const moving = prev.dataCenter !== args.dataCenter || !same;
  if (!moving) {
    return { outs: { ...prev, ...args, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
  }
  const outs = await ensure({
    args,
    previousDataCenter: same ? prev.dataCenter : undefined,
    previousEngine: same ? undefined : prev.engine,
    previousEngineDataCenter: same ? undefined : prev.dataCenter,
    progress,
  });
  // where the stack found the domain is still where it was before this resource's create: an attachment found in
  // place is now a move away from that data center, one taken from elsewhere keeps its origin
  const { takenFrom: _movedFrom, ...rest } = outs;
  void _movedFrom;
  const origin: ExportDomainAttachmentOutputs["takenFrom"] = prev.foundAttached
    ? { dataCenter: prev.dataCenter, ...(same ? {} : { engine: refOf(prev.engine) }) }
    : prev.takenFrom;
  const back = outs.foundAttached ? {} : origin && !(origin.dataCenter === args.dataCenter && (!origin.engine || sameEngine(origin.engine, args.engine))) ? { takenFrom: origin } : {};
  return { outs: { ...rest, ...back, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as ExportDomainAttachmentOutputs;
  const c = clientFor(p.engine);
  if (p.handOffTo) {
    // a stage: once handed off the domain may be anywhere; keep the recorded state
    return { id, props };
  }
  const sd = (await c.storageDomains.get(id)) ?? (await c.storageDomains.findByName(p.exportDomain));
  if (!sd) return {};
  const att = await c.attachedStorageDomains.get(p.dataCenterId, sd.id);
  if (!att) return {};
  return { id: sd.id, props: { ...props, exportDomainId: sd.id, status: att.status ?? p.status } };
}

/**
 * Destroy undoes what create did (ownership rule), and says so on the resource's line:
 * - `detachOnDelete: false`, or found attached in place (`foundAttached`): nothing;
 * - taken from another data center (`takenFrom`): returned there (same engine: deactivate, detach, attach, activate;
 *   across engines: detach and remove without formatting here, import into that engine, attach, activate) — in a
 *   Migration the target attachment thereby brings the domain back to the source data center before the exports
 *   remove their copies;
 * - found unattached: deactivated and detached;
 * - no longer attached to this resource's data center (handed off, or moved out of band): nothing of ours to undo,
 *   except finishing an interrupted return (unattached here, or gone from this engine on its way back).
 */
async function del(id: string, props: any): Promise<void> {
  const p = userInputs(props) as ExportDomainAttachmentOutputs;
  const progress = progressFor(props[PROGRESS_URN_KEY], `export domain ${p.exportDomain}`);
  if (p.detachOnDelete === false) {
    progress.info(`detachOnDelete: false: export domain ${p.exportDomain} stays where it is`);
    return;
  }
  if (p.foundAttached) {
    // not ours to undo: it was attached there before this resource existed
    progress.info(`export domain ${p.exportDomain} was attached to ${p.dataCenter} before this stack; it stays attached`);
    return;
  }
  const deadline = Date.now() + (p.timeoutMinutes ?? 30) * 60_000;
  const c = clientFor(p.engine);
  const back = p.takenFrom;
  const crossBack = !!back?.engine && !sameEngine(back.engine, p.engine);
  const sd = (await c.storageDomains.get(id)) ?? (await c.storageDomains.findByName(p.exportDomain));
  if (!sd) {
    // gone from this engine: on its way back to the engine it came from (an interrupted destroy), or handed off
    if (crossBack) await giveBack(p, progress);
    return;
  }
  const full = (await c.storageDomains.get(sd.id)) ?? sd;
  const dcIds = attachedDcIds(full);
  if (!dcIds.includes(p.dataCenterId)) {
    if (dcIds.length === 0 && back) {
      // detached but not yet back where it was found (an interrupted destroy): finish the return
      await giveBack(p, progress);
      return;
    }
    const where = dcIds.length ? `attached to ${(await Promise.all(dcIds.map(async (d) => (await c.datacenters.get(d))?.name ?? d))).join(", ")}` : "not attached";
    progress.info(`export domain ${p.exportDomain} is ${where}, not in ${p.dataCenter} (handed off or moved since): nothing of this resource's to undo`);
    return;
  }
  if (back) {
    await giveBack(p, progress);
    return;
  }
  await detachFrom(c, p.dataCenterId, p.dataCenter, sd, deadline, progress);
  progress.info(`detached export domain ${p.exportDomain} from ${p.dataCenter} (it was not attached anywhere before this resource)`);
}

/** Returns the domain to `takenFrom`: `ensure` run the other way (from this resource's data center and engine). */
async function giveBack(p: ExportDomainAttachmentOutputs, progress: Progress): Promise<void> {
  const back = p.takenFrom!;
  const cross = !!back.engine && !sameEngine(back.engine, p.engine);
  // the other engine's credentials: from the secret outputs that name it (never stored in takenFrom)
  const otherEngine = cross ? [p.moveFrom?.engine, p.handOffTo?.engine].find((e) => e && sameEngine(e, back.engine)) : undefined;
  if (cross && !otherEngine) {
    progress.warn(
      `export domain ${p.exportDomain} came from ${back.dataCenter} of engine ${back.engine!.url}, which this resource no longer has ` +
        `credentials for (moveFrom.engine changed); it is left attached to ${p.dataCenter}. Move it back yourself, or with an ExportDomainAttachment.`,
    );
    return;
  }
  const conn = cross && p.storage?.path
    ? { type: (p.storage.type as "nfs" | "posixfs" | "glusterfs" | "localfs" | undefined) ?? "nfs", address: p.storage.address, path: p.storage.path }
    : undefined;
  progress.update(`returning ${p.exportDomain} to ${back.dataCenter}${cross ? ` of engine ${back.engine!.url}` : ""}, where this resource found it`);
  await ensure({
    args: {
      engine: cross ? otherEngine! : p.engine,
      exportDomain: p.exportDomain,
      dataCenter: back.dataCenter,
      moveFrom: { dataCenter: p.dataCenter, ...(cross ? { engine: p.engine } : {}) },
      ...(conn ? { storageConnection: conn } : {}),
      timeoutMinutes: p.timeoutMinutes,
    },
    progress,
    purpose: "return",
  });
}

export const exportDomainAttachmentProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
