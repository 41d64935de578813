// MAC pools: which MACs a cluster's pool holds, allocation of new MACs, and the rules an import of a VM follows.
//
// Followed (ovirt-engine, read, not copied):
// - dbscripts data/00210_insert_mac_pools.sql: one pool "Default" ("Default MAC pool", id 58ca604b-...-014e,
//   allow_duplicate_mac_addresses false, default_pool true); engine-setup network/macpools.py gives it ONE range
//   `56:6f:XX:YY:00:00 - 56:6f:XX:YY:ff:ff` with XX, YY random (randrange(255)). A cluster points at a pool
//   (cluster.mac_pool_id; ClusterMapper shows it as <mac_pool id>), the default one unless set.
// - mac_pools_sp.sql GetAllMacsByMacPoolId: the MACs "in use" in a pool are those of vm_interface rows of VMs whose
//   cluster uses the pool (MacPoolPerCluster loads them at start-up). Removing a VM frees its MACs, so the set is
//   derived here from the VMs there are, not kept apart.
// - MacPoolUsingRanges / MacsStorage / Range: a MAC is in use when its bit (inside a range) or its custom counter
//   (outside every range) is set; new MACs come from the ranges only: the range search starts after the range used
//   last, inside a range at the bit after the last one allocated (BitSet.nextClearBit, wrapping); MACs plugged on a VM
//   NIC anywhere in the engine are skipped when the pool allows no duplicates (MacAddressGlobalUsageTester), and used
//   anyway when nothing else is left (MAC_ADDRESS_IN_USE_ALLOCATED). The cursors live in memory: a restart starts at
//   the bottom of each range again, as the engine does.
// - ImportVmCommandBase.validate (ifaceMacCannotBeAddedToMacPool): a plain import (not import-as-new-entity; REST
//   never sets reassignBadMacs on import: BackendStorageDomainVmResource.doImport) of a VM whose NIC MACs are in use in
//   the target cluster's pool is refused unless the pool allows duplicates:
//   ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES (CONFLICT) listing the NIC names
//   (ReplacementUtils.replaceWith: "\t<name>" joined by ",\n", at most 5 then "\t...").
// - ImportVmCommand.validate: a clone needs as many free MACs as it has NICs (MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES);
//   addVmInterfaces gives a clone new MACs from the pool, a plain import keeps the OVF's and reports the ones outside
//   the pool's ranges (ExternalVmMacsFinder -> MAC_ADDRESS_IS_EXTERNAL, 925, warning).
import * as crypto from "node:crypto";
import { EngineState, MacPoolRec, NicRec, VmRec } from "./types";

export const DEFAULT_MAC_POOL_ID = "58ca604b-017d-0374-0220-00000000014e";

/** MacAddressValidationPatterns.UNICAST_MAC_ADDRESS_FORMAT */
export const UNICAST_MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i;

export function macToNum(mac: string): number {
  return parseInt(mac.replace(/:/g, ""), 16);
}

export function numToMac(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return hex.match(/../g)!.join(":");
}

/** engine-setup's default range: 56:6f:XX:YY:00:00 - 56:6f:XX:YY:ff:ff, XX and YY random in 0..254. */
export function randomDefaultRange(): { from: string; to: string } {
  const b = crypto.randomBytes(2);
  const x = (b[0] % 255).toString(16).padStart(2, "0");
  const y = (b[1] % 255).toString(16).padStart(2, "0");
  return { from: `56:6f:${x}:${y}:00:00`, to: `56:6f:${x}:${y}:ff:ff` };
}

export function defaultMacPool(ranges = [randomDefaultRange()], allowDuplicates = false): MacPoolRec {
  return { id: DEFAULT_MAC_POOL_ID, name: "Default", description: "Default MAC pool", allowDuplicates, defaultPool: true, ranges };
}

/** Gives an engine state (also one written before MAC pools existed) its default pool. True when it changed. */
export function ensureMacPools(state: EngineState): boolean {
  state.macPools ??= [];
  if (state.macPools.some((p) => p.defaultPool)) return false;
  state.macPools.unshift(defaultMacPool());
  return true;
}

export function defaultPoolOf(state: EngineState): MacPoolRec {
  ensureMacPools(state);
  return state.macPools!.find((p) => p.defaultPool)!;
}

/** The pool of a cluster (MacPoolPerCluster.getMacPoolForCluster): its own, else the default one. */
export function poolOfCluster(state: EngineState, clusterId: string | undefined): MacPoolRec {
  const cl = state.clusters.find((c) => c.id === clusterId);
  const own = cl?.macPoolId ? (state.macPools ?? []).find((p) => p.id === cl.macPoolId) : undefined;
  return own ?? defaultPoolOf(state);
}

export interface MacUse {
  vm: VmRec;
  nic: NicRec;
}

/** MACs in use in a pool (GetAllMacsByMacPoolId): every NIC of every VM in a cluster using it, lower-case. */
export function macsInUse(state: EngineState, pool: MacPoolRec): Map<string, MacUse[]> {
  const out = new Map<string, MacUse[]>();
  for (const vm of state.vms) {
    if (poolOfCluster(state, vm.clusterId).id !== pool.id) continue;
    for (const nic of vm.nics) {
      if (!nic.mac) continue;
      const k = nic.mac.toLowerCase();
      const l = out.get(k);
      if (l) l.push({ vm, nic });
      else out.set(k, [{ vm, nic }]);
    }
  }
  return out;
}

export function isMacInRange(pool: MacPoolRec, mac: string): boolean {
  const n = macToNum(mac);
  return pool.ranges.some((r) => n >= macToNum(r.from) && n <= macToNum(r.to));
}

/** MacsStorage.getAvailableMacsCount: the range addresses no VM of the pool uses. */
export function availableMacs(state: EngineState, pool: MacPoolRec): number {
  const used = new Set([...macsInUse(state, pool).keys()].map(macToNum));
  let n = 0;
  for (const r of pool.ranges) {
    const lo = macToNum(r.from);
    const hi = macToNum(r.to);
    let inside = 0;
    for (const u of used) if (u >= lo && u <= hi) inside++;
    n += hi - lo + 1 - inside;
  }
  return n;
}

/** Allocation cursors per engine state and pool (the engine keeps them in memory: a restart starts afresh). */
const cursors = new WeakMap<EngineState, Map<string, { range: number; next: number[] }>>();

/**
 * Allocates `count` new MACs from the pool's ranges (MacsStorage.allocateAvailableMacs). Throws when fewer are free:
 * callers validate first with `availableMacs` (the engine's MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES).
 */
export function allocateMacs(state: EngineState, pool: MacPoolRec, count: number): string[] {
  if (count === 0) return [];
  if (availableMacs(state, pool) < count) throw new Error(`MAC pool ${pool.name}: not enough MAC addresses left`);
  const used = new Set([...macsInUse(state, pool).keys()].map(macToNum));
  // MacAddressGlobalUsageTester: a MAC on a (plugged) NIC of any VM of the engine is skipped first
  const elsewhere = new Set<number>();
  if (!pool.allowDuplicates) for (const vm of state.vms) for (const n of vm.nics) if (n.mac) elsewhere.add(macToNum(n.mac));
  let per = cursors.get(state);
  if (!per) cursors.set(state, (per = new Map()));
  let cur = per.get(pool.id);
  if (!cur || cur.next.length !== pool.ranges.length) per.set(pool.id, (cur = { range: 0, next: pool.ranges.map(() => 0) }));
  const out: number[] = [];
  const pass = (skip: (n: number) => boolean) => {
    for (let k = 0; k < pool.ranges.length && out.length < count; k++) {
      const ri = (cur!.range + k) % pool.ranges.length;
      const lo = macToNum(pool.ranges[ri].from);
      const size = macToNum(pool.ranges[ri].to) - lo + 1;
      const base = cur!.next[ri];
      for (let step = 0; step < size && out.length < count; step++) {
        const off = (base + step) % size;
        const n = lo + off;
        if (used.has(n) || skip(n)) continue;
        used.add(n);
        out.push(n);
        cur!.next[ri] = (off + 1) % size;
      }
      if (out.length >= count) cur!.range = (ri + 1) % pool.ranges.length;
    }
  };
  pass((n) => elsewhere.has(n));
  // all free MACs are plugged elsewhere: the engine allocates them anyway (MAC_ADDRESS_IN_USE_ALLOCATED)
  if (out.length < count) pass(() => false);
  return out.map(numToMac);
}

/** ReplacementUtils.replaceWith with the default separator: "\t<item>" joined by ",\n", five at most, then "\t...". */
export function engineList(items: string[]): string {
  const shown = items.slice(0, 5).map((x) => `\t${x}`);
  if (items.length > 5) shown.push("\t...");
  return shown.join(",\n");
}

/**
 * The NICs of a VM (from the OVF) whose MACs a plain import could not add to the target cluster's pool
 * (ImportVmCommandBase.ifaceMacCannotBeAddedToMacPool): none when the import is a clone (new MACs), when the pool
 * allows duplicates, or for a NIC without MAC (it gets a new one).
 */
export function nicsWithDuplicateMacs(state: EngineState, clusterId: string, nics: Array<{ name: string; mac: string }>, clone: boolean): string[] {
  if (clone) return [];
  const pool = poolOfCluster(state, clusterId);
  if (pool.allowDuplicates) return [];
  const inUse = macsInUse(state, pool);
  return nics.filter((n) => !!n.mac && inUse.has(n.mac.toLowerCase())).map((n) => n.name);
}

/** ExternalVmMacsFinder.findExternalMacAddresses: the VM's MACs outside its cluster's pool ranges. */
export function externalMacs(state: EngineState, vm: VmRec): string[] {
  const pool = poolOfCluster(state, vm.clusterId);
  return [...new Set(vm.nics.map((n) => n.mac).filter((m) => !!m && !isMacInRange(pool, m)))];
}
