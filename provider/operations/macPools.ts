/**
 * MAC pools as the engine shows them, for the previews that must say whether a VM's MAC addresses would collide in a
 * target cluster's pool (a plain import: vmImport/macConflicts.ts; a registration: vmRegistration/check.ts). The
 * pool of a cluster (`/clusters/{id}` mac_pool, `/macpools/{id}` allow_duplicates and ranges), the MACs in use in a
 * pool (the engine's GetAllMacsByMacPoolId: the NICs of the VMs of every cluster using it), a VM's NICs. Reads only,
 * through the check-time cache.
 */
import { z } from "zod";
import type { OvirtClient } from "../client";
import { Ref, zBool } from "../client/types";
import { cachedRead } from "./readCache";

/** `<x><y/>...</x>` -> y[] (an empty element or a missing one -> []) */
function listOf<T extends z.ZodTypeAny>(element: string, schema: T) {
  return z.preprocess((v) => {
    if (v === "" || v === undefined || v === null) return [];
    if (typeof v === "object" && !Array.isArray(v)) {
      const items = (v as Record<string, unknown>)[element];
      return items === undefined ? [] : Array.isArray(items) ? items : [items];
    }
    return v;
  }, z.array(schema));
}

const ClusterPool = z.object({ id: z.string(), name: z.string().optional(), mac_pool: Ref.optional() });
const MacPool = z.object({
  id: z.string(),
  name: z.string().optional(),
  allow_duplicates: zBool.optional(),
  ranges: listOf("range", z.object({ from: z.string(), to: z.string() })).optional(),
});
const Nic = z.object({ id: z.string().optional(), name: z.string().optional(), mac: z.object({ address: z.string().optional() }).optional() });
const VmNics = z.object({ id: z.string(), name: z.string().optional(), cluster: Ref.optional(), nics: listOf("nic", Nic).optional() });

export interface NicMac {
  name: string;
  mac: string;
}

export interface PoolView {
  id: string;
  name: string;
  allowDuplicates: boolean;
}

export interface Holder {
  vmId: string;
  vmName: string;
  nic: string;
}

const TTL = 10_000;

/** The MAC pool of a cluster (ClusterMapper's <mac_pool id>), or undefined when the engine shows none. */
export async function poolOf(c: OvirtClient, key: string, clusterId: string): Promise<PoolView | undefined> {
  const cl = await cachedRead(`${key}|macpool-of|${clusterId}`, TTL, () => c.http.getOptional(`/clusters/${encodeURIComponent(clusterId)}`, "cluster", ClusterPool));
  const id = cl?.mac_pool?.id;
  if (!id) return undefined;
  const p = await cachedRead(`${key}|macpool|${id}`, TTL, () => c.http.getOptional(`/macpools/${encodeURIComponent(id)}`, "mac_pool", MacPool));
  return p ? { id: p.id, name: p.name ?? p.id, allowDuplicates: p.allow_duplicates === true } : undefined;
}

/** MACs in use in a pool (GetAllMacsByMacPoolId: the NICs of the VMs of every cluster using it), lower-case. */
export async function holders(c: OvirtClient, key: string, poolId: string): Promise<Map<string, Holder[]>> {
  const [clusters, vms] = await Promise.all([
    cachedRead(`${key}|macpool-clusters`, TTL, () => c.http.list("/clusters", "clusters", "cluster", ClusterPool)),
    cachedRead(`${key}|vms-nics`, TTL, () => c.http.list("/vms", "vms", "vm", VmNics, { follow: "nics" })),
  ]);
  const ids = new Set(clusters.filter((x) => x.mac_pool?.id === poolId).map((x) => x.id));
  const out = new Map<string, Holder[]>();
  for (const vm of vms) {
    if (!vm.cluster?.id || !ids.has(vm.cluster.id)) continue;
    for (const n of vm.nics ?? []) {
      const mac = n.mac?.address?.toLowerCase();
      if (!mac) continue;
      const h = { vmId: vm.id, vmName: vm.name ?? vm.id, nic: n.name ?? n.id ?? "?" };
      const l = out.get(mac);
      if (l) l.push(h);
      else out.set(mac, [h]);
    }
  }
  return out;
}

/** The NICs (name, MAC) of a VM, or undefined when it cannot be read (gone, or no such VM). */
export async function nicsOfVm(c: OvirtClient, vmId: string): Promise<NicMac[] | undefined> {
  try {
    const nics = await c.http.list(`/vms/${encodeURIComponent(vmId)}/nics`, "nics", "nic", Nic);
    return nics.filter((n) => !!n.mac?.address).map((n) => ({ name: n.name ?? n.id ?? "?", mac: n.mac!.address!.toLowerCase() }));
  } catch {
    return undefined;
  }
}

export interface Conflict {
  nic: NicMac;
  holders: Holder[];
}

export async function conflictsIn(c: OvirtClient, key: string, clusterId: string, nics: NicMac[], copyId: string): Promise<{ pool: PoolView; conflicts: Conflict[] } | undefined> {
  const pool = await poolOf(c, key, clusterId);
  if (!pool || pool.allowDuplicates) return undefined;
  const used = await holders(c, key, pool.id);
  // the VM with the copy's id is the import's own business (id conflict: adopt, skip, clone), never a MAC holder
  const conflicts = nics
    .map((n) => ({ nic: n, holders: (used.get(n.mac) ?? []).filter((h) => h.vmId !== copyId) }))
    .filter((x) => x.holders.length > 0);
  return conflicts.length ? { pool, conflicts } : undefined;
}

export function describeConflicts(conflicts: Conflict[]): string {
  return conflicts.map((x) => `${x.nic.mac} (${x.nic.name}) is used by ${x.holders.map((h) => `VM ${h.vmName} (${h.nic})`).join(" and ")}`).join("; ");
}

