// Seed step: MAC pools, and the MACs of the seeded VMs' NICs (explicit ones checked, missing ones allocated).
import { NicRec, VmRec } from "../model/types";
import { DEFAULT_MAC_POOL_ID, allocateMacs, defaultMacPool, macToNum, macsInUse } from "../model/macPools";
import { SeedContext, uuid } from "./context";

/** The inventory's MAC pools; the engine's default pool is added when the inventory names none "Default". */
export function seedMacPools(ctx: SeedContext): void {
  const pools = ctx.state.macPools!;
  for (const [i, mp] of ctx.inv.macPools.entries()) {
    if (pools.some((p) => p.name === mp.name)) throw new Error(`invalid inventory: macPools[${i}].name: duplicate MAC pool '${mp.name}'`);
    mp.ranges.forEach((r, j) => {
      if (macToNum(r.from) > macToNum(r.to)) throw new Error(`invalid inventory: macPools[${i}].ranges[${j}]: from ${r.from} is above to ${r.to}`);
    });
    const isDefault = mp.name === "Default";
    pools.push({
      id: mp.id ?? (isDefault ? DEFAULT_MAC_POOL_ID : uuid()),
      name: mp.name,
      description: mp.description || (isDefault ? "Default MAC pool" : ""),
      allowDuplicates: mp.allowDuplicates,
      defaultPool: isDefault,
      ranges: mp.ranges,
    });
  }
  if (!pools.some((p) => p.defaultPool)) pools.unshift(defaultMacPool());
}

/** A NIC the inventory gave no MAC: it gets one from its cluster's pool once every explicit MAC is known. */
export interface NicWithoutMac {
  vm: VmRec;
  nic: NicRec;
  field: string;
}

/** Explicit MACs: a pool that allows no duplicates holds each once (the engine refuses duplicates when NICs are added). */
export function checkExplicitMacs(ctx: SeedContext): void {
  for (const pool of ctx.state.macPools!) {
    if (pool.allowDuplicates) continue;
    for (const [mac, uses] of macsInUse(ctx.state, pool)) {
      if (uses.length > 1) {
        throw new Error(`invalid inventory: MAC ${mac} is given to ${uses.map((u) => `VM ${u.vm.name} (${u.nic.name})`).join(" and ")}, and MAC pool '${pool.name}' allows no duplicates (set allowDuplicates: true on it, or give another MAC)`);
      }
    }
  }
}

/** One allocation per pool (in inventory order), not one per NIC: a large inventory loads in linear time. */
export function allocateMissingMacs(ctx: SeedContext, toAllocate: NicWithoutMac[]): void {
  const { state } = ctx;
  for (const pool of state.macPools!) {
    const want = toAllocate.filter((x) => state.clusters.find((c) => c.id === x.vm.clusterId)!.macPoolId === pool.id);
    if (want.length === 0) continue;
    let macs: string[];
    try {
      macs = allocateMacs(state, pool, want.length);
    } catch {
      throw new Error(`invalid inventory: ${want[0].field}: MAC pool '${pool.name}' has ${want.length > 1 ? "fewer free MAC addresses than the NICs without one need" : "no MAC address left"} (VMs ${[...new Set(want.map((x) => x.vm.name))].join(", ")})`);
    }
    want.forEach((x, i) => (x.nic.mac = macs[i]));
  }
}
