// What the seed steps share while they turn an inventory into engine state: the parsed inventory, the state being
// built, the records already made (by name, for the references later steps resolve), and the overlays to write.
import * as crypto from "node:crypto";
import { ClusterRec, DataCenterRec, DiskRec, EngineState, StorageDomainRec, TemplateRec, VolumeRec } from "../model/types";
import { ParsedInventory, StorageMounts, nowIso } from "../model/inventory";

/** One overlay volume (snapshot layer, thin VM's active layer) the caller writes after seeding. */
export interface OverlayToWrite {
  sd: StorageDomainRec;
  disk: DiskRec;
  vol: VolumeRec;
}

export interface SeedContext {
  inv: ParsedInventory;
  /** checked mount paths of the inventory's storage domains */
  mounts: StorageMounts;
  state: EngineState;
  overlaysToWrite: OverlayToWrite[];
  dcByName: Map<string, DataCenterRec>;
  clusterByName: Map<string, ClusterRec>;
  /** data and export domains: their names are unique engine-wide */
  sdByName: Map<string, StorageDomainRec>;
  tplByName: Map<string, TemplateRec>;
}

/** A new entity id. The seed steps draw ids in inventory order, so each step keeps its place in seedState. */
export const uuid = (): string => crypto.randomUUID();

export function newSeedContext(inv: ParsedInventory, mounts: StorageMounts, engineName: string): SeedContext {
  const state: EngineState = {
    formatVersion: 1,
    engineId: uuid(),
    engineName,
    createdAt: nowIso(),
    nextEventIndex: 1,
    dataCenters: [],
    clusters: [],
    hosts: [],
    storageDomains: [],
    vms: [],
    templates: [],
    jobs: [],
    events: [],
    externalVmImports: [],
    cpuProfiles: [],
    macPools: [],
  };
  return { inv, mounts, state, overlaysToWrite: [], dcByName: new Map(), clusterByName: new Map(), sdByName: new Map(), tplByName: new Map() };
}

/** Refuses a second entity of a kind whose names are unique (data centers, clusters, storage domains). */
export function requireUniqueName(kind: string, name: string, taken: Map<string, unknown>): void {
  if (taken.has(name)) throw new Error(`invalid inventory: duplicate ${kind} name '${name}'`);
}
