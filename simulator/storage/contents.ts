// Reading the VMs and templates stored on an export domain (OVF + volume metadata), cached by OVF mtime.
import * as fs from "node:fs";
import { StorageDomainRec } from "../model/types";
import { OvfEntity, readOvf } from "../xml/ovf";
import { imagesBytes, listOvfIds, ovfPath, OvfKind, readVolumeMeta, volumePath } from "./exportDomain";
import { ChainLink } from "./volumes";

const cache = new Map<string, { mtimeMs: number; size: number; e: OvfEntity }>();

function kindDir(kind: "vm" | "template"): OvfKind {
  return kind === "vm" ? "vms" : "templates";
}

export function readEntity(sd: StorageDomainRec, kind: "vm" | "template", id: string): OvfEntity | undefined {
  const p = ovfPath(sd.root, kindDir(kind), id);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    cache.delete(p);
    return undefined;
  }
  const hit = cache.get(p);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.e;
  const text = fs.readFileSync(p, "utf8");
  const e = readOvf(text, kind, (diskId, volId) => readVolumeMeta(sd.root, diskId, volId)?.capacity || undefined);
  cache.set(p, { mtimeMs: st.mtimeMs, size: st.size, e });
  return e;
}

export function readEntities(sd: StorageDomainRec, kind: "vm" | "template"): OvfEntity[] {
  const out: OvfEntity[] = [];
  for (const id of listOvfIds(sd.root, kindDir(kind))) {
    try {
      const e = readEntity(sd, kind, id);
      if (e) out.push(e);
    } catch {
      // an unreadable OVF is skipped, like the engine does (IMPORTEXPORT_FAILED_TO_IMPORT_VM)
    }
  }
  return out;
}

export function findByName(sd: StorageDomainRec, kind: "vm" | "template", name: string): OvfEntity | undefined {
  return readEntities(sd, kind).find((e) => e.name === name);
}

export function usedBytes(sd: StorageDomainRec): number {
  return imagesBytes(sd.root);
}

/**
 * The volume chain of an exported disk on the export domain, base first. A thin disk (its first volume's parent
 * lives in another image) is completed with the template's volumes found on the same export domain, when present.
 * Returns undefined when the chain cannot be completed.
 */
export function exportedChain(sd: StorageDomainRec, e: OvfEntity, diskId: string): ChainLink[] | undefined {
  const d = e.disks.find((x) => x.diskId === diskId);
  if (!d) return undefined;
  const links: ChainLink[] = [];
  const first = d.volumes[0];
  if (first && first.parentId && !/^0{8}-/.test(first.parentId) && first.parentDiskId && first.parentDiskId !== diskId) {
    // find the template disk volume on the export domain
    const meta = readVolumeMeta(sd.root, first.parentDiskId, first.parentId);
    if (!meta) return undefined;
    links.push({ path: volumePath(sd.root, first.parentDiskId, first.parentId), kind: "base", size: meta.capacity || d.provisionedSize });
  }
  for (const v of d.volumes) {
    const meta = readVolumeMeta(sd.root, diskId, v.id);
    const isBase = links.length === 0;
    links.push({ path: volumePath(sd.root, diskId, v.id), kind: meta?.simKind ?? (isBase ? "base" : "overlay"), size: d.provisionedSize });
  }
  return links;
}

/** true when the disk's chain starts on a volume of another image (a template disk). */
export function isThinDisk(e: OvfEntity, diskId: string): boolean {
  const d = e.disks.find((x) => x.diskId === diskId);
  const first = d?.volumes[0];
  return !!(first && first.parentDiskId && first.parentDiskId !== diskId && first.parentId && !/^0{8}-0{4}/.test(first.parentId));
}
