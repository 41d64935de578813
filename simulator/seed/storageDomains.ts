// Seed step: storage domains (a data center's data domains, the export domains) with their on-disk metadata, and the
// lookup of the data domain a template's or VM's disk lands on.
import { ClusterRec, DataCenterRec, StorageDomainRec } from "../model/types";
import { ParsedInventory } from "../model/inventory";
import { domainRoot, writeDomainMetadata } from "../storage/exportDomain";
import { SeedContext, requireUniqueName, uuid } from "./context";

/** A data center's data domains; the first one is the master. */
export function seedDataDomains(ctx: SeedContext, dcIndex: number, dc: ParsedInventory["dataCenters"][number], d: DataCenterRec): void {
  const { state } = ctx;
  let first = true;
  for (const [sdIndex, s] of dc.storageDomains.entries()) {
    requireUniqueName("storage domain", s.name, ctx.sdByName);
    const id = s.id ?? uuid();
    const mount = ctx.mounts.data.get(`${dcIndex}/${sdIndex}`)!;
    const sd: StorageDomainRec = {
      id,
      name: s.name,
      description: "",
      type: "data",
      storageType: s.storageType,
      sizeBytes: Math.round(s.sizeGiB * 1024 ** 3),
      bandwidthMiBps: s.bandwidthMiBps,
      address: s.storageType === "nfs" ? "127.0.0.1" : "",
      exportPath: mount,
      root: domainRoot(mount, id),
      dataCenterId: d.id,
      status: "active",
      master: first,
    };
    first = false;
    writeDomainMetadata(sd.root, {
      sdUUID: id, description: sd.name, poolUUID: d.id, class: "Data", remotePath: `127.0.0.1:${mount}`,
      type: s.storageType === "nfs" ? "NFS" : "ISCSI", engineId: state.engineId, role: sd.master ? "Master" : "Regular",
    });
    state.storageDomains.push(sd);
    ctx.sdByName.set(sd.name, sd);
  }
}

/** The export domains, attached to a data center or not; a data center holds one export domain at most. */
export function seedExportDomains(ctx: SeedContext): void {
  const { state } = ctx;
  for (const [k, e] of ctx.inv.exportDomains.entries()) {
    requireUniqueName("storage domain", e.name, ctx.sdByName);
    const id = e.id ?? uuid();
    const mount = ctx.mounts.exports.get(String(k))!;
    const dc = e.attachedTo ? ctx.dcByName.get(e.attachedTo) : undefined;
    if (e.attachedTo && !dc) throw new Error(`invalid inventory: export domain ${e.name}: unknown data center '${e.attachedTo}'`);
    const sd: StorageDomainRec = {
      id,
      name: e.name,
      description: "",
      type: "export",
      storageType: "nfs",
      sizeBytes: Math.round(e.sizeGiB * 1024 ** 3),
      bandwidthMiBps: e.bandwidthMiBps,
      address: "127.0.0.1",
      exportPath: mount,
      root: domainRoot(mount, id),
      dataCenterId: dc?.id,
      status: dc ? e.status : undefined,
    };
    writeDomainMetadata(sd.root, {
      sdUUID: id, description: sd.name, poolUUID: dc?.id ?? "", class: "Backup", remotePath: `127.0.0.1:${mount}`, type: "NFS",
      engineId: dc ? state.engineId : undefined, role: "Regular",
    });
    state.storageDomains.push(sd);
    ctx.sdByName.set(sd.name, sd);
  }
  for (const d of state.dataCenters) {
    if (state.storageDomains.filter((s) => s.type === "export" && s.dataCenterId === d.id).length > 1) {
      throw new Error(`invalid inventory: data center ${d.name} holds more than one export domain`);
    }
  }
}

/** The data domain a disk of `what` lands on: the one named (in the cluster's data center), else the first there. */
export function dataDomainFor(ctx: SeedContext, cl: ClusterRec, name: string | undefined, what: string): StorageDomainRec {
  if (name) {
    const sd = ctx.sdByName.get(name);
    if (!sd || sd.type !== "data") throw new Error(`invalid inventory: ${what}: unknown data domain '${name}'`);
    if (sd.dataCenterId !== cl.dataCenterId) throw new Error(`invalid inventory: ${what}: domain '${name}' is not in the cluster's data center`);
    return sd;
  }
  const sd = ctx.state.storageDomains.find((s) => s.type === "data" && s.dataCenterId === cl.dataCenterId);
  if (!sd) throw new Error(`invalid inventory: ${what}: no data domain in the data center`);
  return sd;
}
