/** The engine side of a V2V import: cluster, data domain, proxy host and CPU profile resolved, and VMs of the target names in the target data center. */
import type { OvirtClient, Vm } from "../../client";
import { ArgError, CheckFailure, suggest } from "../common";
import { adoptionNote, createdBy } from "../ownership";
import { Progress } from "../../progress";
import { VmInfo } from "../../../lib/vsphere";
import type { Host } from "../../client";
import { searchNames } from "../../client/services/util";
import { unknownCpuProfile } from "../../operations/rules";
import { V2VImportArgs } from "./args";
import { sourceIdentity, targetName, v2vCorrelationId } from "./source";

export interface Target {
  dc: { id: string; name: string };
  cluster: { id: string; name: string };
  sd: { id: string; name: string };
  host: Host;
  /** `cpuProfile` resolved in the target cluster (by name or id). */
  cpuProfile?: { id: string; name: string };
}

/** Engine-side preflight (read-only). Throws ArgError naming the field. */
export async function resolveTarget(c: OvirtClient, a: V2VImportArgs): Promise<Target> {
  const cl = await c.clusters.findByName(a.cluster);
  if (!cl) {
    const all = (await c.clusters.list()).map((x) => x.name);
    throw new ArgError("cluster", `cluster: cluster "${a.cluster}" does not exist in engine ${c.url}.${suggest(a.cluster, all)}`);
  }
  const dcId = cl.data_center?.id;
  if (!dcId) throw new ArgError("cluster", `cluster: cluster "${a.cluster}" belongs to no data center`);
  const dc = await c.datacenters.get(dcId);
  const sd = await c.storageDomains.findByName(a.storageDomain);
  if (!sd) {
    const all = (await c.storageDomains.list()).filter((d) => d.type === "data").map((d) => d.name);
    throw new ArgError("storageDomain", `storageDomain: storage domain "${a.storageDomain}" does not exist in engine ${c.url}.${suggest(a.storageDomain, all)}`);
  }
  if (sd.type && sd.type !== "data") throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is a ${sd.type} domain; V2V imports need a data domain`);
  const att = await c.attachedStorageDomains.get(dcId, sd.id).catch(() => undefined);
  if (!att) {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is not attached to data center ${dc?.name ?? dcId} of cluster ${a.cluster}; Storage Domain and Cluster must be in the same data center`);
  }
  if (att.status && att.status !== "active") {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is ${att.status} in data center ${dc?.name ?? dcId}; activate it first`);
  }
  const host = await c.hosts.findByName(a.proxyHost);
  if (!host) {
    const all = (await c.hosts.list()).map((h) => h.name);
    throw new ArgError("proxyHost", `proxyHost: host "${a.proxyHost}" does not exist in engine ${c.url}.${suggest(a.proxyHost, all)}`);
  }
  const hcl = host.cluster?.id ? await c.clusters.get(host.cluster.id) : undefined;
  if (hcl?.data_center?.id !== dcId) {
    throw new ArgError(
      "proxyHost",
      `proxyHost: host "${host.name}" is not in data center ${dc?.name ?? dcId} (the target); the proxy host must be a host of the destination data center`,
    );
  }
  if (host.status !== "up") {
    throw new ArgError("proxyHost", `proxyHost: host "${host.name}" is ${host.status}; the proxy host must be up`);
  }
  let cpuProfile: Target["cpuProfile"];
  if (a.cpuProfile) {
    // the engine takes the profile by id only; accept its name (or id) in the target cluster, like VmImport
    const profiles = await c.clusters.cpuProfiles(cl.id);
    const p = profiles.find((x) => x.name === a.cpuProfile) ?? profiles.find((x) => x.id === a.cpuProfile);
    if (!p) {
      throw new ArgError("cpuProfile", unknownCpuProfile(cl.name, a.cpuProfile, profiles));
    }
    cpuProfile = { id: p.id, name: p.name };
  }
  return { dc: { id: dcId, name: dc?.name ?? dcId }, cluster: { id: cl.id, name: cl.name }, sd: { id: sd.id, name: sd.name }, host, cpuProfile };
}

/** VMs named one of `names` in data center `dcId` (a name is unique per data center, not per engine), with their cluster. */
export async function vmsNamedInDc(c: OvirtClient, dcId: string, names: string[]): Promise<Map<string, { vm: Vm; cluster: string }>> {
  const out = new Map<string, { vm: Vm; cluster: string }>();
  if (names.length === 0) return out;
  const found = (await c.vms.list(searchNames(names))).filter((vm) => names.includes(vm.name));
  if (found.length === 0) return out;
  const clusters = await c.clusters.list();
  for (const vm of found) {
    const cl = clusters.find((x) => x.id === vm.cluster?.id);
    if (cl && cl.data_center?.id === dcId) out.set(vm.name, { vm, cluster: cl.name });
  }
  return out;
}

/** A VM of the target name that this resource did not create, without `adopt: true`: the error and both ways out. */
export function conflictFailure(a: V2VImportArgs, vm: Vm, cluster: string, dc: string): CheckFailure {
  const property = a.clone ? "clone" : "sourceVms";
  const portal = vm.origin === a.provider ? ` (it was imported from ${a.provider} earlier, e.g. through the Administration Portal or by another stack)` : "";
  return {
    property,
    reason:
      `${property}: VM "${vm.name}" (id ${vm.id}, cluster ${cluster}${vm.origin ? `, origin ${vm.origin}` : ""}) already exists in data center ${dc} ` +
      `and was not created by this resource${portal}; nothing was changed. Import under another name with ` +
      `${a.clone ? "another clone.name / clone.suffix" : 'clone: { name: "..." } (one VM) or clone: { suffix: "..." }'}, or set adopt: true to manage ` +
      `that VM (CPU profile and permissions applied; it is never stopped or removed, and is kept on destroy).`,
  };
}

/**
 * Preview of the target names: a VM of a target name in the target data center must be this resource's own (proven by
 * the engine's audit log), or adopted (`adopt: true`, announced), or it is a failure naming `clone` and `adopt`.
 * `prev` (the arguments in the state, on a replace): a VM its import created is this resource's too — the replace
 * deletes it before importing again.
 */
export async function targetNameFailures(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  infos: Map<string, VmInfo>,
  urn: string | undefined,
  progress: Progress,
  prev?: V2VImportArgs,
): Promise<CheckFailure[]> {
  const named = await vmsNamedInDc(c, t.dc.id, a.sourceVms.map((s) => targetName(a, s)));
  const out: CheckFailure[] = [];
  const prevClusterId = prev && named.size ? (prev.cluster === a.cluster ? t.cluster.id : (await c.clusters.findByName(prev.cluster))?.id) : undefined;
  for (const src of a.sourceVms) {
    const there = named.get(targetName(a, src));
    if (!there) continue;
    const source = sourceIdentity(a, src, infos.get(src));
    if (!source) continue; // the vCenter did not answer: its failure is reported; ownership cannot be decided
    const cids = [v2vCorrelationId(urn, t.cluster.id, there.vm.name, source)];
    if (prev && prevClusterId) {
      for (const ps of prev.sourceVms) {
        if (targetName(prev, ps) !== there.vm.name) continue;
        const prevSource = sourceIdentity(prev, ps, infos.get(ps));
        if (prevSource) cids.push(v2vCorrelationId(urn, prevClusterId, there.vm.name, prevSource));
      }
    }
    if (await createdBy(c, cids, there.vm.id)) continue; // ours: up resumes it, or the replace deletes it first
    if (a.adopt) {
      progress.info(adoptionNote("VM", there.vm.name, there.vm.id));
      continue;
    }
    out.push(conflictFailure(a, there.vm, there.cluster, t.dc.name));
  }
  return out;
}
