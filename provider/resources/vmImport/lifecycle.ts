/** VmImport's diff, create, update (CPU profile, permissions in place), read and delete (only what it created). */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { ArgError, EngineArgs, PROGRESS_URN_KEY, clientFor, jsonEqual, sameEngineLive, userInputs, normalizeArgs, updatedOutputs } from "../common";
import { progressFor } from "../../progress";
import { tap as tapPlan } from "../../plan/live";
import { poll } from "../../client/wait";
import { applyPermissions } from "../../operations/permissions";
import { unknownCpuProfile } from "../../operations/rules";
import { guardReplace, mayRemove, ownershipOf } from "../ownership";
import { COLLAPSE_IMPLIED_KEY, REPLACE_KEYS, UPDATE_KEYS, VmImportArgs, defaults } from "./args";
import { allocationCollapses, getEntity } from "./target";
import { VmImportOutputs, recorded } from "./outputs";
import { run } from "./run";

export async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(VmImportArgs, olds);
  const n = normalizeArgs(VmImportArgs, news);
  const eq = (k: string) => jsonEqual(o[k] ?? defaults[k], n[k] ?? defaults[k]);
  // a clone is collapsed whatever collapseSnapshots says (and its outputs say true): no change for a clone
  // likewise a VM collapsed because a disk has an allocation (allocationCollapses)
  const replaces = REPLACE_KEYS.filter(
    (k) => !eq(k) && !(k === "collapseSnapshots" && (olds?.cloned === true || (olds?.collapsed === true && allocationCollapses(n)))),
  );
  // the same engine reached by another URL (alias, case, default port) is not a new engine
  if (!(await sameEngineLive(o.engine, n.engine, olds?.dataCenterId))) replaces.push("engine");
  const changed = [...replaces, ...UPDATE_KEYS.filter((k) => !eq(k))];
  // a replace removes the VM this resource created first: refused when that VM has run since the import
  const prev = userInputs(olds) as VmImportOutputs;
  if (replaces.length && prev.vmId && mayRemove(prev) && !prev.keepOnDelete && o.engine && typeof o.engine === "object") {
    const parsed = EngineArgs.safeParse(o.engine);
    if (parsed.success) {
      await guardReplace(clientFor(parsed.data), prev.kind ?? "vm", [{ id: prev.vmId, name: prev.vmName }], replaces, `VmImport of ${prev.name}`);
    }
  }
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0, stables: replaces.length ? [] : ["vmId", "vmName", "sourceId"] };
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = VmImportArgs.parse(userInputs(inputs));
  // check turned collapseSnapshots on because it saw a clone coming: the import decides again (a clone collapses)
  if (inputs[COLLAPSE_IMPLIED_KEY] === true) args.collapseSnapshots = false;
  // tapPlan: the job percentages also feed the Migration line (provider/plan/live.ts)
  const progress = tapPlan(progressFor(inputs[PROGRESS_URN_KEY], `import ${args.name}`), inputs[PROGRESS_URN_KEY]);
  const outs = await run(args, progress, inputs[PROGRESS_URN_KEY]);
  return { id: outs.vmId, outs: recorded({ ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] }) };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = VmImportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as VmImportOutputs;
  const progress = tapPlan(progressFor(news[PROGRESS_URN_KEY], `import ${args.name}`), news[PROGRESS_URN_KEY]);
  const c = clientFor(args.engine);
  let cpuProfileId = prev.cpuProfileId;
  let permissionIds = prev.permissionIds ?? [];
  // states written before ownPermissionIds mixed found and added grants: claim none of them (never removes another's)
  let ownPermissionIds = prev.ownPermissionIds ?? [];
  // an adopted entity is managed (profile, permissions); a skipped one is left alone
  if (ownershipOf(prev) !== "skipped") {
    if (!jsonEqual(prev.cpuProfile, args.cpuProfile) && args.cpuProfile) {
      const profiles = await c.clusters.cpuProfiles(prev.clusterId);
      const p = profiles.find((x) => x.name === args.cpuProfile);
      if (!p) throw new ArgError("cpuProfile", unknownCpuProfile(args.cluster, args.cpuProfile, profiles));
      if (args.kind === "vm") await c.vms.update(prev.vmId, { cpu_profile: { id: p.id } });
      else await c.templates.update(prev.vmId, { cpu_profile: { id: p.id } });
      cpuProfileId = p.id;
    }
    if (!jsonEqual(prev.permissions, args.permissions)) {
      const granted = await applyPermissions(c, args.kind, prev.vmId, args.permissions, ownPermissionIds, progress);
      permissionIds = granted.ids;
      ownPermissionIds = granted.ours;
    }
  }
  return { outs: recorded({ ...updatedOutputs(prev, args, VmImportArgs), cpuProfileId, permissionIds, ownPermissionIds, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] }) };
}

export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as VmImportOutputs;
  const c = clientFor(p.engine);
  const e = await getEntity(c, p.kind ?? "vm", p.vmId ?? id);
  if (!e) return {};
  return { id, props: { ...props, vmName: e.name } };
}

export async function del(id: string, props: any): Promise<void> {
  const p = userInputs(props) as VmImportOutputs;
  // only what this resource created is ever removed (adopted and skipped entities stay: ownership.ts)
  if (p.keepOnDelete || !mayRemove(p)) return;
  const c = clientFor(p.engine);
  const kind = p.kind ?? "vm";
  // by the recorded id, never by name (a rename out of band does not change what we created)
  const e = await getEntity(c, kind, p.vmId ?? id);
  if (!e) return;
  if (kind === "vm" && e.status && !["down", "image_locked"].includes(e.status)) {
    // never stopped by us: a running VM is someone's production now
    throw new Error(
      `VM ${e.name} (${e.id}) is ${e.status}; destroy never stops a VM. Shut it down yourself and run destroy again, ` +
        `or set keepOnDelete: true and run pulumi up first to keep it.`,
    );
  }
  const progress = progressFor(props[PROGRESS_URN_KEY], `import ${p.name}`);
  const deadline = Date.now() + (p.timeoutMinutes ?? 30) * 60_000;
  if (e.status === "image_locked" || e.status === "locked") {
    await poll(
      async () => {
        const x = await getEntity(c, kind, e.id);
        return !x || (x.status !== "image_locked" && x.status !== "locked") ? { done: true, value: true } : { done: false, progress: `waiting for ${e.name} to unlock` };
      },
      { what: `${e.name} to unlock`, deadline, onProgress: (m) => progress.update(m) },
    );
  }
  progress.update(`removing ${e.name}`);
  if (kind === "vm") await c.vms.remove(e.id);
  else await c.templates.remove(e.id);
  await poll(
    async () => ((await getEntity(c, kind, e.id)) ? { done: false, progress: `removing ${e.name}` } : { done: true, value: true }),
    { what: `removal of ${e.name}`, deadline, onProgress: (m) => progress.update(m) },
  );
}
