// Inventory -> seeded engine state, in named steps (one file a concept). The steps run in this order because later
// ones resolve names the earlier ones made (clusters name MAC pools, VMs name clusters and templates), and because ids
// are drawn in inventory order.
import { EngineState } from "../model/types";
import { Inventory, parseInventory, storageMounts } from "../model/inventory";
import { OverlayToWrite, newSeedContext } from "./context";
import { allocateMissingMacs, checkExplicitMacs, seedMacPools } from "./macPools";
import { seedDataCenters } from "./dataCenters";
import { seedExportDomains } from "./storageDomains";
import { seedTemplates } from "./templates";
import { seedVms } from "./vms";
import { seedDirectory } from "./directory";

export type { OverlayToWrite } from "./context";

export interface SeedOptions {
  stateDir: string;
  engineName: string;
}

/**
 * Builds engine state from an inventory. Base volume content is lazy (seeded); overlay volumes (snapshots, thin
 * VMs' active layers) are written by the caller through `overlaysToWrite`. Storage domain metadata is written here.
 */
export function seedState(invIn: Inventory, o: SeedOptions): { state: EngineState; overlaysToWrite: OverlayToWrite[] } {
  const inv = parseInventory(invIn);
  // every storage path is checked before anything is written
  const ctx = newSeedContext(inv, storageMounts(inv, o.stateDir), o.engineName);
  seedMacPools(ctx); // first: clusters point at them, VMs take their MACs from them
  seedDataCenters(ctx);
  seedExportDomains(ctx);
  seedTemplates(ctx);
  const nicsWithoutMac = seedVms(ctx);
  checkExplicitMacs(ctx);
  allocateMissingMacs(ctx, nicsWithoutMac);
  seedDirectory(ctx);
  return { state: ctx.state, overlaysToWrite: ctx.overlaysToWrite };
}
