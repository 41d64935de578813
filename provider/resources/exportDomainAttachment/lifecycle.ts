/** ExportDomainAttachment's diff, create, update, read and delete. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { PROGRESS_URN_KEY, clientFor, diffKeys, jsonEqual, sameEngine, sameEngineLive, userInputs, normalizeArgs, updatedOutputs } from "../common";
import { progressFor } from "../../progress";
import { ExportDomainAttachmentArgs } from "./args";
import { ensure, giveBack } from "./run";
import { ExportDomainAttachmentOutputs, refOf } from "./outputs";
import { attachedDcIds, detachFrom } from "./storage";

export async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(ExportDomainAttachmentArgs, olds);
  const n = normalizeArgs(ExportDomainAttachmentArgs, news);
  const keys = ["engine", "exportDomain", "dataCenter", "takeOver", "moveFrom", "handOffTo", "host", "storageConnection", "detachOnDelete", "timeoutMinutes"];
  const changed = keys.filter((k) => !jsonEqual(o[k], n[k]));
  // engine: only url/username count as a different engine; a password change is an update without engine work
  const replaces = diffKeys(o, n, ["exportDomain"]);
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = ExportDomainAttachmentArgs.parse(userInputs(inputs));
  const progress = progressFor(inputs[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`);
  const outs = await ensure({ args, progress });
  return { id: outs.exportDomainId, outs: { ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = ExportDomainAttachmentArgs.parse(userInputs(news));
  const prev = userInputs(olds) as ExportDomainAttachmentOutputs;
  const progress = progressFor(news[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`);
  // the same engine reached by another URL is not a cross-engine move
  const same = await sameEngineLive(prev.engine, args.engine, prev.dataCenterId);
  const moving = prev.dataCenter !== args.dataCenter || !same;
  if (!moving) {
    return { outs: { ...updatedOutputs(prev, args, ExportDomainAttachmentArgs), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
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

export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
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
export async function del(id: string, props: any): Promise<void> {
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
