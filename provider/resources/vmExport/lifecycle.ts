/** VmExport's diff, create, update, read and delete (create and a re-export run `run`). */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { EngineError } from "../../client/errors";
import { EngineArgs, PROGRESS_URN_KEY, clientFor, engineText, jsonEqual, sameEngineLive, containsUnknown, userInputs, normalizeArgs, updatedOutputs } from "../common";
import { progressFor } from "../../progress";
import { tap as tapPlan } from "../../plan/live";
import { poll } from "../../client/wait";
import { mayRemove, ownershipOf } from "../ownership";
import { engineKey } from "../../operations/reads";
import { VmExportArgs, defaults } from "./args";
import { findSource, fingerprint } from "./source";
import { run } from "./run";
import { VmExportOutputs, recorded } from "./outputs";

export async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = userInputs(olds);
  const n = userInputs(news);
  const oa = normalizeArgs(VmExportArgs, olds);
  const na = normalizeArgs(VmExportArgs, news);
  const replaces: string[] = [];
  // the same engine by another URL (alias, case, default port) is not another engine: no replace
  if (!(await sameEngineLive(oa.engine, na.engine, o.dataCenterId))) replaces.push("engine");
  for (const k of ["exportDomain", "kind"]) if (!jsonEqual(oa[k], na[k])) replaces.push(k);
  // a new name or data center that still means the recorded source (renamed out of band; dataCenter added to an
  // existing stack) is not a new export
  if ((!jsonEqual(oa.name, na.name) || !jsonEqual(oa.dataCenter, na.dataCenter)) && !(await stillTheSource(o, na))) {
    replaces.push(!jsonEqual(oa.name, na.name) ? "name" : "dataCenter");
  }
  const keys = ["engine", "exportDomain", "kind", "name", "dataCenter", "exclusive", "discardSnapshots", "shutdownIfRunning", "shutdownTimeoutSeconds", "keepOnDelete", "adopt", "timeoutMinutes", "batch"];
  const changed = keys.filter((k) => !jsonEqual(oa[k] ?? defaults[k], na[k] ?? defaults[k]));
  // delete first: the new resource must not take over a copy that the old one's delete then removes
  if (replaces.length > 0) return { changes: true, replaces, deleteBeforeReplace: true };
  // force override: re-export only when the source changed since the export (and the domain is still there)
  if (n.exclusive === true && o.sourceFingerprint && o.sourceId && n.engine && typeof n.engine === "object") {
    try {
      const parsed = EngineArgs.safeParse(n.engine);
      if (parsed.success) {
        const c = clientFor(parsed.data);
        const kind = (n.kind ?? "vm") as "vm" | "template";
        const src = kind === "vm" ? await c.vms.get(o.sourceId) : await c.templates.get(o.sourceId);
        if (src && o.dataCenterId && o.exportDomainId) {
          const att = await c.attachedStorageDomains.get(o.dataCenterId, o.exportDomainId);
          if (att?.status === "active") {
            const { fp } = await fingerprint(c, kind, src);
            if (fp !== o.sourceFingerprint) changed.push("sourceFingerprint");
          }
        }
      }
    } catch {
      // diff stays on the inputs when the engine cannot be read
    }
  }
  return { changes: changed.length > 0, replaces: [], stables: ["sourceId", "exportDomainId", "dataCenterId"] };
}

/** Does (name, dataCenter) of the new inputs still resolve to the source recorded in the state? (reads only) */
async function stillTheSource(o: any, na: any): Promise<boolean> {
  if (!o.sourceId || containsUnknown(na)) return false;
  const parsed = EngineArgs.safeParse(na.engine);
  if (!parsed.success) return false;
  try {
    const c = clientFor(parsed.data);
    const kind = (na.kind ?? "vm") as "vm" | "template";
    const src = await findSource(c, engineKey(parsed.data), kind, na.name, na.dataCenter);
    return src.id === o.sourceId;
  } catch {
    return false;
  }
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = VmExportArgs.parse(userInputs(inputs));
  // tapPlan: the job percentages also feed the Migration line (provider/plan/live.ts)
  const progress = tapPlan(progressFor(inputs[PROGRESS_URN_KEY], `export ${args.name}`), inputs[PROGRESS_URN_KEY]);
  const outs = await run({ args, progress, urn: inputs[PROGRESS_URN_KEY] });
  return { id: `${outs.exportDomainId}:${args.kind}:${outs.sourceId}`, outs: recorded({ ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] }) };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = VmExportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as VmExportOutputs;
  const progress = tapPlan(progressFor(news[PROGRESS_URN_KEY], `export ${args.name}`), news[PROGRESS_URN_KEY]);
  const collapseChanged = (prev.discardSnapshots ?? false) !== args.discardSnapshots;
  let needExport = collapseChanged;
  if (ownershipOf(prev) !== "created") {
    // an adopted copy is never overwritten
    if (collapseChanged || args.exclusive) progress.warn(`the copy of ${args.name} on ${args.exportDomain} was adopted (adopt: true); it is not exported again`);
    return { outs: recorded({ ...updatedOutputs(prev, args, VmExportArgs), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] }) };
  }
  if (!needExport && args.exclusive) {
    const c = clientFor(args.engine);
    const src = args.kind === "vm" ? await c.vms.get(prev.sourceId) : await c.templates.get(prev.sourceId);
    if (src) needExport = (await fingerprint(c, args.kind, src)).fp !== prev.sourceFingerprint;
  }
  if (!needExport) return { outs: recorded({ ...updatedOutputs(prev, args, VmExportArgs), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] }) };
  // the recorded source, by id (a same-named VM that appeared elsewhere since is not it)
  const outs = await run({ args: { ...args }, progress, force: true, urn: news[PROGRESS_URN_KEY], sourceId: prev.sourceId });
  // the stack shut the VM down for an earlier export of this resource: still true after a re-export
  if (prev.shutDownForExport) outs.shutDownForExport = true;
  return { outs: recorded({ ...outs, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] }) };
}

export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as VmExportOutputs;
  const c = clientFor(p.engine);
  const sd = await c.storageDomains.get(p.exportDomainId);
  // domain handed to another engine, or unattached: the copy cannot be listed; keep what we know
  if (!sd || ((sd.data_centers ?? []).length === 0 && !sd.data_center)) return { id, props };
  // the engine reads an export domain's contents only while it is active in a data center
  // (GetAllFromExportDomainQuery): in maintenance or moving, keep what we know rather than fail the refresh
  const dcIds = [...(sd.data_centers ?? []).map((d) => d.id), sd.data_center?.id].filter((x): x is string => !!x);
  const statuses = await Promise.all(dcIds.map((dc) => c.attachedStorageDomains.get(dc, sd.id).then((a) => a?.status).catch(() => undefined)));
  if (!statuses.includes("active")) return { id, props };
  try {
    const copy = await c.exportContent(p.kind ?? "vm").get(p.exportDomainId, p.sourceId);
    if (!copy) return {};
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) return {};
    if (e instanceof EngineError && /cannot be reached/i.test(engineText(e))) return { id, props };
    throw e;
  }
  return { id, props };
}

/**
 * Destroy removes the copy this resource made (unless `keepOnDelete`; an adopted copy is kept), and never starts the
 * source again: a VM this stack shut down for its export (`shutDownForExport`) stays down, because its migrated copy
 * may be running (two instances of one service, same addresses). The line naming it says so.
 */
export async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as VmExportOutputs;
  const label = `${(p.kind ?? "vm") === "vm" ? "VM" : "template"} ${p.name}`;
  const progress = progressFor(props[PROGRESS_URN_KEY], `export ${p.name}`);
  if (p.shutDownForExport) {
    progress.info(
      `VM ${p.name} (id ${p.sourceId}) was shut down by this stack for its export and stays down: destroy never starts a ` +
        `source VM, because its migrated copy may be running. Start it yourself once that is safe.`,
    );
  }
  if (p.keepOnDelete) {
    progress.info(`keepOnDelete: the copy of ${label} stays on ${p.exportDomain}`);
    return;
  }
  // only a copy this resource made is removed; an adopted one stays (ownership.ts)
  if (!mayRemove(p)) {
    progress.info(`the copy of ${p.name} on ${p.exportDomain} was adopted; it stays`);
    return;
  }
  const c = clientFor(p.engine);
  const sd = await c.storageDomains.get(p.exportDomainId);
  const attached = sd && ((sd.data_centers ?? []).length > 0 || sd.data_center);
  if (!attached) {
    progress.warn(`export domain ${p.exportDomain} is not attached in ${p.engine.url}; the copy of ${p.name} stays on it`);
    return;
  }
  const content = c.exportContent(p.kind ?? "vm");
  try {
    await content.remove(p.exportDomainId, p.sourceId);
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) {
      progress.info(`the copy of ${label} is no longer on ${p.exportDomain}`);
      return;
    }
    if (e instanceof EngineError && (e.status === 409 || e.status === 400) && /status|not active|inactive|maintenance|cannot be reached/i.test(engineText(e))) {
      progress.warn(`cannot remove the copy of ${p.name}: ${engineText(e)}; it stays on ${p.exportDomain}`);
      return;
    }
    throw e;
  }
  await poll(
    async () => ((await content.get(p.exportDomainId, p.sourceId)) ? { done: false } : { done: true, value: true }),
    { what: `removal of ${p.name} from ${p.exportDomain}`, deadline: Date.now() + 10 * 60_000 },
  );
  progress.info(`removed the copy of ${label} from ${p.exportDomain}`);
}
