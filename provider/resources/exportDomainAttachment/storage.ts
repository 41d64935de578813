/**
 * The storage-domain commands of an attachment (attach, activate, deactivate, detach, and releasing a domain from
 * another engine), each judged by its job and the domain's status when its answer is lost, and the lookups they need.
 */
import type { OvirtClient, StorageDomain, DataCenter, Job } from "../../client";
import { EngineError } from "../../client/errors";
import { newCorrelationId } from "../../client/connection";
import { failureReason } from "../../operations/wait";
import { ArgError, engineText, suggest } from "../common";
import { Progress } from "../../progress";
import { poll } from "../../client/wait";
import { sleep } from "../../../lib/sleep";

export async function findDc(c: OvirtClient, name: string, property: string): Promise<DataCenter> {
  const dc = await c.datacenters.findByName(name);
  if (!dc) {
    const all = (await c.datacenters.list()).map((d) => d.name);
    throw new ArgError(property, `${property}: data center "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  return dc;
}

export async function findExportDomain(c: OvirtClient, name: string): Promise<StorageDomain | undefined> {
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
export function attachedDcIds(sd: StorageDomain): string[] {
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
export async function detachFrom(c: OvirtClient, dcId: string, dcName: string, sd: StorageDomain, deadline: number, progress: Progress) {
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
export async function attachAndActivate(c: OvirtClient, dc: DataCenter, sd: StorageDomain, deadline: number, progress: Progress): Promise<string> {
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
export async function placementElsewhere(
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
export async function releaseFromEngine(from: OvirtClient, sd: StorageDomain, allowedDc: string | undefined, takeOver: boolean, deadline: number, progress: Progress) {
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

export async function pickHost(c: OvirtClient, dc: DataCenter, name?: string): Promise<{ id: string; name: string }> {
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
