// The OVF_STORE of a data domain: the configurations (OVFs) of the VMs and templates whose disks live on the domain,
// kept ON the domain so that another data center (or another engine) can register them after the domain moved.
//
// Followed (ovirt-engine, read, not copied):
// - ProcessOvfUpdateForStorageDomainCommand.updateOvfStoreContent / buildOvfInfoFileByteArray: every OVF_STORE disk of
//   the domain (StorageDomainOvfStoreCount = 2) holds one tar with `info.json` (Last Updated, Storage Domains),
//   `metadata.json` ("VM Status" per entity id) and one `<id>.ovf` per VM/template with image disks on the domain
//   (storageDomainDao.getVmAndTemplatesIdsByStorageDomainId), plus the pool's VMs/templates without any image disk
//   (vmStaticDao.getVmAndTemplatesIdsWithoutAttachedImageDisks), plus the domain's still UNREGISTERED entities
//   (retrieveUnprocessedUnregisteredOvfData: a domain moved again before registering keeps them).
// - The OVF_STORE disks are ordinary images of the domain (`images/<diskId>/<volId>`), their volume description the
//   JSON the engine writes (OvfInfoFileConstants: "Updated", "Size", "Last Updated", "Storage Domains",
//   "Disk Description": "OVF_STORE"); AttachStorageDomainToPoolCommand finds them (getAllOVFDisks), reads the newest
//   (StorageHandlingCommandBase.getEntitiesFromStorageOvfDisk -> RetrieveImageData -> OvfUtils.getOvfEntities) and
//   stores each entity as an unregistered_ovf_of_entities row (UnregisteredOVFDataDao.saveOVFData).
// - When: DeactivateStorageDomainWithOvfUpdateCommand updates the store before a data domain goes to maintenance
//   (UpdateOvfStoreForStorageDomainCommand), POST /storagedomains/{id}/updateovfstore does it on demand, and
//   OvfDataUpdater every OvfUpdateIntervalInMinutes (60). The simulator does the first two (README, known
//   differences: no periodic pass), which is what a move through maintenance + detach relies on.
//
// Simulator extension: VDSM keeps a `.meta` for every volume; the simulator creates a data domain's volumes lazily
// (base content generated from a seed on first read), so the store update also writes the missing `.meta` files of the
// entities' volumes, with `SIM_KIND` and, for a base volume not written yet, `SIM_SEED` (registration reads them).
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import type { Engine } from "../engine";
import { BLANK_TEMPLATE_ID, CpuArchitecture, DiskRec, StorageDomainRec, TemplateRec, UnregisteredOvfRec, VmRec } from "../model/types";
import { OvfDisk, OvfEntity, OvfVolume, readOvf, writeOvf as renderOvf } from "../xml/ovf";
import { ovfOfTemplate, ovfOfVm } from "./transfer";
import { volumePath } from "./exportDomain";

/** StorageDomainOvfStoreCount (0000_config.sql): OVF_STORE disks per data domain. */
export const OVF_STORE_COUNT = 2;
const OVF_STORE_LABEL = "OVF_STORE";
/** VmStatus numbers written in metadata.json (VMStatus.getValue). */
const VM_STATUS: Record<string, number> = { down: 0, up: 1, powering_up: 9, powering_down: 16, paused: 4, suspended: 13, image_locked: 15 };

// ------------------------------------------------------------------ tar (ustar), the container of the OVF_STORE

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** A POSIX ustar archive of regular files (what the engine's InMemoryTar writes). */
export function makeTar(entries: Array<{ name: string; data: Buffer }>, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    h.write(e.name.slice(0, 100), 0, "utf8");
    h.write(octal(0o644, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(e.data.length, 12), 124);
    h.write(octal(mtime, 12), 136);
    h.write("        ", 148); // checksum field counted as spaces
    h.write("0", 156);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    parts.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function readTar(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(h.subarray(124, 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8);
    if (!Number.isFinite(size) || size < 0 || off + 512 + size > buf.length) throw new Error("truncated tar");
    out.set(name, buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

// ------------------------------------------------------------------ volume metadata of a data domain

interface DataVolumeMeta {
  capacity: number;
  format: "cow" | "raw";
  sparse: boolean;
  parentId: string;
  kind: "base" | "overlay";
  seed?: string;
  description: string;
}

function metaPath(root: string, diskId: string, volId: string): string {
  return volumePath(root, diskId, volId) + ".meta";
}

function parseKv(text: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  return kv;
}

/** The `.meta` of a data-domain volume (VDSM keys + SIM_KIND/SIM_SEED), undefined when VDSM would not find it. */
export function readDataVolumeMeta(root: string, diskId: string, volId: string): DataVolumeMeta | undefined {
  let text: string;
  try {
    text = fs.readFileSync(metaPath(root, diskId, volId), "utf8");
  } catch {
    return undefined;
  }
  const kv = parseKv(text);
  return {
    capacity: Number(kv.CAP ?? 0),
    format: kv.FORMAT === "RAW" ? "raw" : "cow",
    sparse: kv.TYPE !== "PREALLOCATED",
    parentId: kv.PUUID ?? BLANK_TEMPLATE_ID,
    kind: kv.SIM_KIND === "overlay" ? "overlay" : "base",
    seed: kv.SIM_SEED || undefined,
    description: kv.DESCRIPTION ?? "",
  };
}

function writeMetaLines(root: string, diskId: string, volId: string, kv: Array<[string, string | number]>): void {
  const p = metaPath(root, diskId, volId);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const tmp = `${p}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, kv.map(([k, v]) => `${k}=${v}`).join("\n") + "\nEOF\n");
  fs.renameSync(tmp, p);
}

/** GetImageInfo (VDSM getVolumeInfo): the volume's metadata is on the domain (content may still be lazy). */
export function volumeExists(root: string, diskId: string, volId: string): boolean {
  return fs.existsSync(metaPath(root, diskId, volId)) || fs.existsSync(volumePath(root, diskId, volId));
}

/** Writes the `.meta` of each volume of a disk that has none yet (VDSM has one from the volume's creation). */
function ensureDiskMeta(sd: StorageDomainRec, d: DiskRec): void {
  d.volumes.forEach((v, i) => {
    if (fs.existsSync(metaPath(sd.root, d.id, v.id))) return;
    const parent = i === 0 ? (d.templateDisk?.volumeId ?? BLANK_TEMPLATE_ID) : d.volumes[i - 1].id;
    const lazy = v.kind === "base" && !!v.seed && !fs.existsSync(volumePath(sd.root, d.id, v.id));
    writeMetaLines(sd.root, d.id, v.id, [
      ["CAP", d.provisionedSize],
      ["CTIME", Math.floor(Date.now() / 1000)],
      ["DESCRIPTION", d.alias],
      ["DISKTYPE", "DATA"],
      ["DOMAIN", sd.id],
      ["FORMAT", v.format.toUpperCase()],
      ["GEN", 0],
      ["IMAGE", d.id],
      ["LEGALITY", "LEGAL"],
      ["PUUID", parent],
      ["TYPE", d.sparse || v.kind === "overlay" ? "SPARSE" : "PREALLOCATED"],
      ["VOLTYPE", i === d.volumes.length - 1 ? "LEAF" : "INTERNAL"],
      ["SIM_KIND", v.kind],
      ...(lazy ? ([["SIM_SEED", v.seed!]] as Array<[string, string]>) : []),
    ]);
  });
}

// ------------------------------------------------------------------ the OVFs of a domain's entities

/** The disks of an entity as its OVF describes them: every disk (also those on other domains), chains as they are. */
function ovfDisksOf(disks: DiskRec[], snapshotIds: string[]): OvfDisk[] {
  return disks.map((d) => {
    const vols: OvfVolume[] = d.volumes.map((v, i) => {
      const parent = i === 0 ? d.templateDisk?.volumeId : d.volumes[i - 1].id;
      return {
        id: v.id,
        parentId: parent ?? BLANK_TEMPLATE_ID,
        parentDiskId: i === 0 && d.templateDisk ? d.templateDisk.diskId : parent ? d.id : undefined,
        format: v.format,
        sparse: d.sparse || v.kind === "overlay",
        snapshotId: snapshotIds.length ? snapshotIds[Math.min(i, snapshotIds.length - 1)] : undefined,
      };
    });
    return {
      diskId: d.id, alias: d.alias, description: d.description ?? "", provisionedSize: d.provisionedSize, sparse: d.sparse,
      format: d.format, bootable: d.bootable, interface: d.interface, storageDomainId: d.storageDomainId, volumes: vols,
    };
  });
}

export function vmOvfText(e: Engine, vm: VmRec): string {
  const ent = ovfOfVm(e, vm, ovfDisksOf(vm.disks, vm.snapshots.map((s) => s.id)), false);
  return renderOvf(ent, e.dcOfCluster(vm.clusterId)?.id ?? BLANK_TEMPLATE_ID);
}

export function templateOvfText(e: Engine, t: TemplateRec): string {
  const ent = ovfOfTemplate(e, t, ovfDisksOf(t.disks, []));
  return renderOvf(ent, e.dcOfCluster(t.clusterId)?.id ?? BLANK_TEMPLATE_ID);
}

/** Parses an OVF of the store; capacities from the volumes' metadata on `sd` when there. */
export function parseStoreOvf(sd: StorageDomainRec, kind: "vm" | "template", text: string): OvfEntity {
  return readOvf(text, kind, (diskId, volId) => readDataVolumeMeta(sd.root, diskId, volId)?.capacity || undefined);
}

// ------------------------------------------------------------------ OVF_STORE disks

interface StoreDisk {
  diskId: string;
  volId: string;
  lastUpdated: number;
}

/** getAllOVFDisks: the images of the domain whose volume description says OVF_STORE. */
function storeDisks(sd: StorageDomainRec): StoreDisk[] {
  const dir = path.join(sd.root, "images");
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: StoreDisk[] = [];
  for (const diskId of ids) {
    let files: string[] = [];
    try {
      files = fs.readdirSync(path.join(dir, diskId)).filter((f) => f.endsWith(".meta"));
    } catch {
      continue;
    }
    for (const f of files) {
      const volId = f.slice(0, -5);
      const m = readDataVolumeMeta(sd.root, diskId, volId);
      if (!m) continue;
      try {
        const desc = JSON.parse(m.description) as Record<string, unknown>;
        if (desc["Disk Description"] !== OVF_STORE_LABEL) continue;
        out.push({ diskId, volId, lastUpdated: Date.parse(String(desc["Last Updated"] ?? "")) || 0 });
      } catch {
        /* an ordinary volume */
      }
    }
  }
  return out;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * UpdateOvfStoreForStorageDomainCommand / ProcessOvfUpdateForStorageDomainCommand: rewrites the OVF_STORE disks of a
 * data domain with the OVFs of the entities with disks on it (plus the pool's diskless ones and the domain's
 * unregistered ones). Returns how many entities the store holds.
 */
export function updateOvfStore(e: Engine, sd: StorageDomainRec): number {
  if (sd.type !== "data") return 0;
  const onDomain = (disks: DiskRec[]) => disks.some((d) => d.storageDomainId === sd.id);
  const inPool = (clusterId: string) => !!sd.dataCenterId && e.dcOfCluster(clusterId)?.id === sd.dataCenterId;
  const vms = e.state.vms.filter((v) => onDomain(v.disks) || (v.disks.length === 0 && inPool(v.clusterId)));
  const tpls = e.state.templates.filter((t) => onDomain(t.disks) || (t.disks.length === 0 && inPool(t.clusterId)));
  const files: Array<{ name: string; data: Buffer }> = [];
  const status: Record<string, number> = {};
  const done = new Set<string>();
  for (const t of tpls) {
    for (const d of t.disks.filter((k) => k.storageDomainId === sd.id)) ensureDiskMeta(sd, d);
    files.push({ name: `${t.id}.ovf`, data: Buffer.from(templateOvfText(e, t)) });
    status[t.id] = 0;
    done.add(t.id);
  }
  for (const v of vms) {
    for (const d of v.disks.filter((k) => k.storageDomainId === sd.id)) ensureDiskMeta(sd, d);
    files.push({ name: `${v.id}.ovf`, data: Buffer.from(vmOvfText(e, v)) });
    status[v.id] = VM_STATUS[v.status] ?? 0;
    done.add(v.id);
  }
  for (const u of unregisteredOf(e, sd.id)) {
    if (done.has(u.entityId)) continue;
    files.push({ name: `${u.entityId}.ovf`, data: Buffer.from(u.ovf) });
    status[u.entityId] = VM_STATUS[u.status] ?? 0;
  }
  const now = Date.now();
  const info = { "Last Updated": isoDate(now), "Storage Domains": [{ uuid: sd.id }] };
  const tar = makeTar([
    { name: "info.json", data: Buffer.from(JSON.stringify(info)) },
    { name: "metadata.json", data: Buffer.from(JSON.stringify({ "VM Status": status })) },
    ...files,
  ]);
  let disks = storeDisks(sd);
  // CreateOvfStoresForStorageDomainCommand: a domain without its stores gets them (two, as configured)
  while (disks.length < OVF_STORE_COUNT) disks = [...disks, { diskId: crypto.randomUUID(), volId: crypto.randomUUID(), lastUpdated: 0 }];
  for (const d of disks) {
    const p = volumePath(sd.root, d.diskId, d.volId);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, tar);
    fs.renameSync(tmp, p);
    const desc = { Updated: true, Size: tar.length, "Last Updated": isoDate(now), "Storage Domains": [{ uuid: sd.id }], "Disk Description": OVF_STORE_LABEL };
    writeMetaLines(sd.root, d.diskId, d.volId, [
      ["CAP", Math.max(tar.length, 128 * 1024 ** 2)],
      ["CTIME", Math.floor(now / 1000)],
      ["DESCRIPTION", JSON.stringify(desc)],
      ["DISKTYPE", "OVFS"],
      ["DOMAIN", sd.id],
      ["FORMAT", "RAW"],
      ["GEN", 0],
      ["IMAGE", d.diskId],
      ["LEGALITY", "LEGAL"],
      ["PUUID", BLANK_TEMPLATE_ID],
      ["TYPE", "PREALLOCATED"],
      ["VOLTYPE", "LEAF"],
    ]);
  }
  return files.length;
}

/**
 * AttachStorageDomainToPoolCommand (data domain): reads the newest readable OVF_STORE and replaces the domain's
 * unregistered rows with its entities (UnregisteredOVFDataDao.removeEntity + saveOVFData). A domain without stores
 * keeps what it had (the engine logs "There are no OVF_STORE disks" and goes on). Like the engine, rows are not
 * filtered against the entities this engine has (a detach removed the domain's entities from the DB; a registration
 * of an id that exists is refused by the register command).
 */
export function loadUnregisteredFromStore(e: Engine, sd: StorageDomainRec): { read: boolean; entities: number } {
  const disks = storeDisks(sd).sort((a, b) => b.lastUpdated - a.lastUpdated);
  for (const d of disks) {
    let entries: Map<string, Buffer>;
    try {
      entries = readTar(fs.readFileSync(volumePath(sd.root, d.diskId, d.volId)));
    } catch {
      continue; // the next store (getEntitiesFromStorageOvfDisk tries them newest first)
    }
    let statuses: Record<string, number> = {};
    try {
      statuses = (JSON.parse(entries.get("metadata.json")?.toString("utf8") ?? "{}") as { "VM Status"?: Record<string, number> })["VM Status"] ?? {};
    } catch {
      statuses = {};
    }
    const rows: UnregisteredOvfRec[] = [];
    for (const [name, data] of entries) {
      if (!name.endsWith(".ovf")) continue;
      const text = data.toString("utf8");
      const kind: "vm" | "template" = /<TemplateType>/.test(text) ? "template" : "vm";
      let ent: OvfEntity;
      try {
        ent = parseStoreOvf(sd, kind, text);
      } catch {
        continue; // OvfUtils skips what it cannot read
      }
      const st = statuses[ent.id];
      rows.push({
        storageDomainId: sd.id, entityId: ent.id, entityType: kind, entityName: ent.name, ovf: text,
        status: Object.entries(VM_STATUS).find(([, n]) => n === st)?.[0] ?? "down", architecture: ent.cpuArchitecture as CpuArchitecture,
      });
    }
    const keep = (e.state.unregisteredOvfs ?? []).filter((u) => u.storageDomainId !== sd.id);
    e.state.unregisteredOvfs = [...keep, ...rows];
    e.markDirty();
    return { read: true, entities: rows.length };
  }
  return { read: disks.length === 0, entities: 0 };
}

export function unregisteredOf(e: Engine, sdId: string, kind?: "vm" | "template"): UnregisteredOvfRec[] {
  return (e.state.unregisteredOvfs ?? []).filter((u) => u.storageDomainId === sdId && (!kind || u.entityType === kind));
}

/** UnregisteredOVFDataDao.removeEntity(entityId, storageDomainId | null = every domain). */
export function forgetUnregistered(e: Engine, entityId: string, sdId?: string): void {
  const before = e.state.unregisteredOvfs?.length ?? 0;
  e.state.unregisteredOvfs = (e.state.unregisteredOvfs ?? []).filter((u) => !(u.entityId === entityId && (!sdId || u.storageDomainId === sdId)));
  if (e.state.unregisteredOvfs.length !== before) e.markDirty();
}
