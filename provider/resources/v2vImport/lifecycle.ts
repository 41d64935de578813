/** V2VImport's diff, create, update (CPU profile, permissions in place), read and delete (only the VMs it created, never stopped). */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { Vm } from "../../client";
import { ArgError, EngineArgs, PROGRESS_URN_KEY, clientFor, jsonEqual, sameEngineLive, userInputs } from "../common";
import { guardReplace, mayRemove, ownershipOf } from "../ownership";
import { progressFor } from "../../progress";
import { applyPermissions } from "../../operations/permissions";
import { unknownCpuProfile } from "../../operations/rules";
import { IN_PLACE, REPLACE_KEYS, V2VImportArgs, VCENTER_IDENTITY, defaults } from "./args";
import { ImportedVm, V2VImportOutputs } from "./outputs";
import { removeVm, run } from "./run";

/** `vcenter` with its defaults, so an old state without `proxySkipVerify` compares equal to `false`. */
function vcenterNorm(v: any): any {
  if (!v || typeof v !== "object") return v;
  return { ...v, verifyCertificate: v.verifyCertificate ?? true, proxySkipVerify: v.proxySkipVerify ?? false };
}

/** The import-time arguments that differ (a new import: replace), the engine left to the caller. */
export function importKeysChanged(o: any, n: any): string[] {
  const out: string[] = [];
  for (const k of REPLACE_KEYS) {
    if (k === "sourceUrl" && (n.provider ?? "vmware") === "vmware") continue; // an output for vpx://
    if (!jsonEqual(o[k] ?? defaults[k], n[k] ?? defaults[k])) out.push(k);
  }
  const ov = o.vcenter ?? {};
  const nv = n.vcenter ?? {};
  for (const k of VCENTER_IDENTITY) if (!jsonEqual(ov[k], nv[k])) out.push(`vcenter.${k}`);
  return out;
}

/**
 * A replace deletes the VMs this resource created (not adopted ones, nothing with keepOnDelete) before importing
 * again: refused at preview when one of them has run since the import (`guardReplace`, ownership.ts).
 */
async function guardV2vReplace(o: any, replaces: string[]): Promise<void> {
  if (o.keepOnDelete) return;
  const doomed = ((o.vms ?? []) as ImportedVm[]).filter((v) => v && v.id && mayRemove(v)).map((v) => ({ id: v.id, name: v.name }));
  if (doomed.length === 0) return;
  const e = EngineArgs.safeParse(o.engine);
  if (!e.success) return;
  await guardReplace(clientFor(e.data), "vm", doomed, replaces, `V2VImport of ${(o.sourceVms ?? []).join(", ")}`);
}

export async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  // olds are the outputs (args parsed with their defaults, plus sourceUrl etc.); parse news the same way
  const o = userInputs(olds);
  const raw = userInputs(news);
  const parsed = V2VImportArgs.safeParse(raw);
  const n: any = parsed.success ? parsed.data : raw;
  const replaces: string[] = [];
  // the same engine reached by another URL (alias, case, default port) is not another engine
  if (!(await sameEngineLive(o.engine, n.engine, o.dataCenterId))) replaces.push("engine");
  replaces.push(...importKeysChanged(o, n));
  if (replaces.length) {
    await guardV2vReplace(o, replaces);
    return { changes: true, replaces, deleteBeforeReplace: true };
  }
  const norm = (k: string, v: any) => (k === "vcenter" ? vcenterNorm(v) : v ?? defaults[k]);
  const changed = IN_PLACE.filter((k) => !jsonEqual(norm(k, o[k]), norm(k, n[k])));
  return { changes: changed.length > 0, replaces: [], stables: ["vms", "dataCenterId", "clusterId", "storageDomainId", "proxyHostId"] };
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = V2VImportArgs.parse(userInputs(inputs));
  const urn = inputs[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `v2v ${args.sourceVms.join(", ")}`);
  const outs = await run(args, progress, urn);
  return { id: outs.vms.map((v) => v.id).join(","), outs: { ...outs, [PROGRESS_URN_KEY]: urn } };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = V2VImportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as V2VImportOutputs;
  const c = clientFor(args.engine);
  const progress = progressFor(news[PROGRESS_URN_KEY], `v2v ${args.sourceVms.join(", ")}`);
  // cpuProfile: in place on every VM of the resource, created or adopted (the engine changes it on a running VM too)
  let profile: { id: string; name: string } | undefined;
  if (args.cpuProfile && !jsonEqual(prev.cpuProfile, args.cpuProfile)) {
    const clusterId = prev.clusterId ?? (await c.clusters.findByName(args.cluster))?.id;
    const profiles = clusterId ? await c.clusters.cpuProfiles(clusterId) : [];
    profile = profiles.find((p) => p.name === args.cpuProfile) ?? profiles.find((p) => p.id === args.cpuProfile);
    if (!profile) {
      throw new ArgError("cpuProfile", unknownCpuProfile(args.cluster, args.cpuProfile, profiles));
    }
  }
  const vms: ImportedVm[] = [];
  for (const v of prev.vms ?? []) {
    const ownership = ownershipOf(v);
    let permissionIds = v.permissionIds ?? [];
    const vm = await c.vms.get(v.id);
    if (vm) {
      if (profile && vm.cpu_profile?.id !== profile.id) {
        await c.vms.update(vm.id, { cpu_profile: { id: profile.id } });
        progress.info(`set CPU profile ${profile.name} on ${vm.name} (${vm.id})`);
      }
      // only grants this resource added are ever removed
      permissionIds = (await applyPermissions(c, "vm", vm.id, args.permissions, permissionIds, progress)).ours;
    }
    vms.push({ ...v, ownership, adopted: ownership === "adopted", permissionIds });
  }
  const { sourceUrl: _s, ...rest } = prev;
  return { outs: { ...rest, ...args, sourceUrl: prev.sourceUrl, vms, permissionIds: vms.flatMap((v) => v.permissionIds), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as V2VImportOutputs;
  const c = clientFor(p.engine);
  const alive: ImportedVm[] = [];
  for (const v of p.vms ?? []) if (await c.vms.get(v.id)) alive.push(v);
  if (alive.length === 0) return {};
  if (alive.length !== (p.vms ?? []).length) return { id, props: { ...props, vms: alive } };
  return { id, props };
}

/**
 * Removes the VMs this resource created (ownership "created"), by recorded id; adopted VMs and everything with
 * `keepOnDelete` stay. Never stops a VM: one that is not down fails the delete before anything is removed.
 */
export async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as V2VImportOutputs;
  const progress = progressFor(props[PROGRESS_URN_KEY], `v2v ${p.sourceVms?.join(", ")}`);
  const all = (p.vms ?? []).filter((v) => v && v.id);
  if (p.keepOnDelete) {
    if (all.length) progress.info(`keepOnDelete: kept ${all.map((v) => `${v.name} (${v.id})`).join(", ")}`);
    return;
  }
  for (const v of all.filter((x) => !mayRemove(x))) progress.info(`kept VM ${v.name} (${v.id}): adopted, not created by this resource`);
  const mine = all.filter((v) => mayRemove(v));
  if (mine.length === 0) return;
  const c = clientFor(p.engine);
  const live: Vm[] = [];
  const busy: Vm[] = [];
  for (const v of mine) {
    const vm = await c.vms.get(v.id);
    if (!vm) continue;
    live.push(vm);
    if (vm.status && vm.status !== "down" && vm.status !== "image_locked") busy.push(vm);
  }
  if (busy.length) {
    throw new Error(
      `${busy.map((vm) => `VM ${vm.name} (${vm.id}) is ${vm.status}`).join("; ")}: destroy never stops a VM, and nothing was removed. ` +
        `Shut it down yourself and run destroy again, or set keepOnDelete: true and run pulumi up first to keep it.`,
    );
  }
  for (const vm of live) {
    await removeVm(c, vm.id, Date.now() + 120_000);
    progress.info(`removed imported VM ${vm.name} (${vm.id})`);
  }
}
