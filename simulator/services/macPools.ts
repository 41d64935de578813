// /macpools (GET list, GET one) and the MAC rules of an import from an export domain (called by
// exportDomainContents.ts). The pool model is model/macPools.ts.
//
// Followed (ovirt-engine, read, not copied):
// - API model MacPoolsService (list: max, follow; no search) / MacPoolService (get), type MacPool (name, description,
//   allow_duplicates, default_pool, ranges/range from,to; permissions link); restapi MacPoolMapper, ClusterMapper
//   (cluster <mac_pool id>).
// - ImportVmCommandBase.validate: the duplicate-MAC refusal comes right after the cluster checks (cluster empty, cluster
//   not in the storage pool) and BEFORE ImportVmCommand.validateBeforeCloneVm (pool, domains, the export domain) and
//   validateAfterCloneVm (VM id / name already there): a plain import of a VM that still exists in this engine with
//   its MACs in the same pool is refused for its MACs first.
// - ImportVmCommand.validate: a clone needs free MACs for all its NICs (MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES), checked
//   after validateBeforeCloneVm; ImportVmCommandBase.addVmInterfaces: a clone's NICs get new MACs from the pool, a
//   plain import keeps the OVF's and logs MAC_ADDRESS_IS_EXTERNAL (925) for those outside the pool's ranges.
import { Ctx, Router } from "../router";
import { EngineFaults } from "../engineFaults";
import { Engine } from "../engine";
import { ClusterRec, MacPoolRec, VmRec } from "../model/types";
import { allocateMacs, availableMacs, engineList, ensureMacPools, externalMacs, nicsWithDuplicateMacs, poolOfCluster } from "../model/macPools";
import { byIdOr404, list, one } from "./common";
import { Obj } from "../xml/write";

/** The engine's pools; a state written before MAC pools existed gets its default pool (persisted). */
export function pools(e: Engine): MacPoolRec[] {
  if (ensureMacPools(e.state)) e.markDirty();
  return e.state.macPools!;
}

function render(ctx: Ctx, p: MacPoolRec): Obj {
  const path = `macpools/${p.id}`;
  return {
    "@_href": ctx.w.href(path),
    "@_id": p.id,
    name: p.name,
    description: p.description,
    link: ctx.w.rels(path, ["permissions"]),
    allow_duplicates: p.allowDuplicates,
    default_pool: p.defaultPool,
    ranges: { range: p.ranges.map((r) => ({ from: r.from, to: r.to })) },
  };
}

/** ClusterMapper: the cluster's `<mac_pool id href>` (added to the cluster's rendering by clusters.ts). */
export function macPoolLink(ctx: Ctx, c: ClusterRec): Obj {
  pools(ctx.engine);
  const p = poolOfCluster(ctx.engine.state, c.id);
  return ctx.w.link(`macpools/${p.id}`, p.id);
}

export function register(r: Router): void {
  r.get("macpools", (ctx) => list(ctx, "mac_pools", "mac_pool", pools(ctx.engine), (p) => render(ctx, p)));
  r.get("macpools/:id", (ctx) => one("mac_pool", render(ctx, byIdOr404(pools(ctx.engine), ctx.params.id))));
}

/** ImportVmCommandBase.validate: the NICs whose MACs a plain import would duplicate in the target cluster's pool. */
export function checkImportMacDuplicates(e: Engine, cluster: ClusterRec, nics: Array<{ name: string; mac: string }>, clone: boolean): void {
  pools(e);
  const bad = nicsWithDuplicateMacs(e.state, cluster.id, nics, clone);
  if (bad.length) throw EngineFaults.macDuplicates(engineList(bad));
}

/** ImportVmCommand.validate (import as new entity): as many free MACs in the target pool as the VM has NICs. */
export function checkCloneHasMacs(e: Engine, cluster: ClusterRec, nicCount: number): void {
  if (nicCount > availableMacs(e.state, poolOfCluster(e.state, cluster.id))) throw EngineFaults.macPoolExhausted("import", "VM");
}

/** addVmInterfaces for a clone: new MACs from the target cluster's pool, in NIC order. */
export function newMacsFor(e: Engine, clusterId: string, count: number): string[] {
  pools(e);
  return allocateMacs(e.state, poolOfCluster(e.state, clusterId), count);
}

/** addVmInterfaces for a plain import: MAC_ADDRESS_IS_EXTERNAL (925) for the MACs outside the pool's ranges. */
export function reportExternalMacs(e: Engine, vm: VmRec, correlationId: string): void {
  const ext = externalMacs(e.state, vm);
  if (ext.length) {
    e.event({ code: 925, severity: "warning", description: `VM ${vm.name} has MAC address(es) ${ext.join(", ")}, which is/are out of its MAC pool definitions.`, correlationId, vmId: vm.id, clusterId: vm.clusterId });
  }
}

