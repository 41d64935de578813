// On-disk layout of file storage domains, following VDSM's NFS layout:
//
//   <mount>/<sdUUID>/dom_md/metadata                 domain metadata (SDUUID, DESCRIPTION, POOL_UUID, ...)
//   <mount>/<sdUUID>/images/<diskId>/<volId>         volume bytes (base content or overlay)
//   <mount>/<sdUUID>/images/<diskId>/<volId>.meta    VDSM volume metadata (CAPACITY, FORMAT, PUUID, VOLTYPE, ...)
//   <mount>/<sdUUID>/master/vms/<vmId>/<vmId>.ovf    export domains: one OVF per exported VM
//   <mount>/<sdUUID>/master/templates/<id>/<id>.ovf  export domains: one OVF per exported template
//
// POOL_UUID in dom_md/metadata records the data center (storage pool) the domain is attached to, like VDSM does,
// so a second engine sharing the directory sees that the domain is still in use.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as crypto from "node:crypto";

export interface DomainMetadata {
  sdUUID: string;
  description: string;
  poolUUID: string; // "" when unattached
  class: "Backup" | "Data";
  remotePath: string;
  type: "NFS" | "ISCSI";
  /** Engine that holds the attachment (simulator extension: ENGINE_ID). */
  engineId?: string;
  role: "Regular" | "Master";
}

export function domainRoot(mount: string, sdId: string): string {
  return path.join(mount, sdId);
}

export function metadataPath(root: string): string {
  return path.join(root, "dom_md", "metadata");
}

export function writeDomainMetadata(root: string, md: DomainMetadata): void {
  const lines = [
    `CLASS=${md.class}`,
    `DESCRIPTION=${md.description}`,
    `IOOPTIMEOUTSEC=10`,
    `LEASERETRIES=3`,
    `LEASETIMESEC=60`,
    `LOCKPOLICY=`,
    `LOCKRENEWALINTERVALSEC=5`,
    `MASTER_VERSION=0`,
    `POOL_UUID=${md.poolUUID}`,
    `REMOTE_PATH=${md.remotePath}`,
    `ROLE=${md.role}`,
    `SDUUID=${md.sdUUID}`,
    `TYPE=${md.type}`,
    `VERSION=5`,
  ];
  if (md.engineId) lines.push(`ENGINE_ID=${md.engineId}`);
  const body = lines.join("\n") + "\n";
  const sum = crypto.createHash("sha1").update(lines.join("")).digest("hex");
  fs.mkdirSync(path.join(root, "dom_md"), { recursive: true });
  for (const f of ["ids", "inbox", "leases", "outbox", "xleases"]) {
    const p = path.join(root, "dom_md", f);
    if (!fs.existsSync(p)) fs.writeFileSync(p, "");
  }
  const tmp = `${metadataPath(root)}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body + `_SHA_CKSUM=${sum}\n`);
  fs.renameSync(tmp, metadataPath(root));
}

export function readDomainMetadata(root: string): DomainMetadata | undefined {
  let text: string;
  try {
    text = fs.readFileSync(metadataPath(root), "utf8");
  } catch {
    return undefined;
  }
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  if (!kv.SDUUID) return undefined;
  return {
    sdUUID: kv.SDUUID,
    description: kv.DESCRIPTION ?? "",
    poolUUID: kv.POOL_UUID ?? "",
    class: kv.CLASS === "Data" ? "Data" : "Backup",
    remotePath: kv.REMOTE_PATH ?? "",
    type: kv.TYPE === "ISCSI" ? "ISCSI" : "NFS",
    engineId: kv.ENGINE_ID || undefined,
    role: kv.ROLE === "Master" ? "Master" : "Regular",
  };
}

/** Finds the storage domains present under an NFS mount directory (each `<sdUUID>/dom_md/metadata`). */
export function findDomains(mount: string): { root: string; md: DomainMetadata }[] {
  const out: { root: string; md: DomainMetadata }[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(mount);
  } catch {
    return out;
  }
  for (const e of entries) {
    const root = path.join(mount, e);
    const md = readDomainMetadata(root);
    if (md && md.sdUUID === e) out.push({ root, md });
  }
  return out;
}

export function volumePath(root: string, diskId: string, volId: string): string {
  return path.join(root, "images", diskId, volId);
}

export interface VolumeMeta {
  capacity: number;
  format: "COW" | "RAW";
  type: "SPARSE" | "PREALLOCATED";
  voltype: "LEAF" | "INTERNAL" | "SHARED";
  puuid: string;
  domain: string;
  image: string;
  description: string;
  legality: "LEGAL" | "ILLEGAL";
  /** simulator extension: "base" content or "overlay" delta */
  simKind?: "base" | "overlay";
}

export function writeVolumeMeta(root: string, diskId: string, volId: string, m: VolumeMeta): void {
  const lines = [
    `CAP=${m.capacity}`,
    `CTIME=${Math.floor(Date.now() / 1000)}`,
    `DESCRIPTION=${m.description}`,
    `DISKTYPE=DATA`,
    `DOMAIN=${m.domain}`,
    `FORMAT=${m.format}`,
    `GEN=0`,
    `IMAGE=${m.image}`,
    `LEGALITY=${m.legality}`,
    `PUUID=${m.puuid}`,
    `TYPE=${m.type}`,
    `VOLTYPE=${m.voltype}`,
  ];
  if (m.simKind) lines.push(`SIM_KIND=${m.simKind}`);
  lines.push("EOF");
  const p = volumePath(root, diskId, volId) + ".meta";
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, lines.join("\n") + "\n");
}

export function readVolumeMeta(root: string, diskId: string, volId: string): VolumeMeta | undefined {
  let text: string;
  try {
    text = fs.readFileSync(volumePath(root, diskId, volId) + ".meta", "utf8");
  } catch {
    return undefined;
  }
  const kv: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    capacity: Number(kv.CAP ?? 0),
    format: kv.FORMAT === "RAW" ? "RAW" : "COW",
    type: kv.TYPE === "PREALLOCATED" ? "PREALLOCATED" : "SPARSE",
    voltype: (kv.VOLTYPE as VolumeMeta["voltype"]) ?? "LEAF",
    puuid: kv.PUUID ?? "00000000-0000-0000-0000-000000000000",
    domain: kv.DOMAIN ?? "",
    image: kv.IMAGE ?? diskId,
    description: kv.DESCRIPTION ?? "",
    legality: kv.LEGALITY === "ILLEGAL" ? "ILLEGAL" : "LEGAL",
    simKind: kv.SIM_KIND === "overlay" ? "overlay" : kv.SIM_KIND === "base" ? "base" : undefined,
  };
}

export type OvfKind = "vms" | "templates";

export function ovfPath(root: string, kind: OvfKind, id: string): string {
  return path.join(root, "master", kind, id, `${id}.ovf`);
}

export async function writeOvf(root: string, kind: OvfKind, id: string, text: string): Promise<void> {
  const p = ovfPath(root, kind, id);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  const tmp = `${p}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, p);
}

export function listOvfIds(root: string, kind: OvfKind): string[] {
  try {
    return fs.readdirSync(path.join(root, "master", kind)).filter((id) => fs.existsSync(ovfPath(root, kind, id)));
  } catch {
    return [];
  }
}

export function readOvfText(root: string, kind: OvfKind, id: string): string | undefined {
  try {
    return fs.readFileSync(ovfPath(root, kind, id), "utf8");
  } catch {
    return undefined;
  }
}

export async function removeOvfAndImages(root: string, kind: OvfKind, id: string, diskIds: string[]): Promise<void> {
  await fsp.rm(path.join(root, "master", kind, id), { recursive: true, force: true });
  for (const d of diskIds) await fsp.rm(path.join(root, "images", d), { recursive: true, force: true });
}

/** Bytes used under `<root>/images` (export domain free-space accounting). */
export function imagesBytes(root: string): number {
  let total = 0;
  const dir = path.join(root, "images");
  let disks: string[] = [];
  try {
    disks = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const d of disks) {
    let vols: string[] = [];
    try {
      vols = fs.readdirSync(path.join(dir, d));
    } catch {
      continue;
    }
    for (const v of vols) {
      try {
        total += fs.statSync(path.join(dir, d, v)).size;
      } catch {
        /* gone */
      }
    }
  }
  return total;
}
