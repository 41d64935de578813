/**
 * Finding what an export works on, shared by `check` and `run`: the source VM or template (by name, in its data
 * center, base template versions), its disks and fingerprint, the export domain and the source's data center, and
 * whether a copy on the domain is current.
 */
import { createHash } from "node:crypto";
import type { OvirtClient, Vm, Template, Disk, StorageDomain } from "../../client";
import { ArgError, CheckFailure, suggest } from "../common";
import { clusterById, dataCenterById, followedDisks, storageDomainNamed, vmsNamed } from "../../operations/reads";
import { ExportedDisk } from "./outputs";

export type Source = Vm | Template;

/** Template versions share a name: the base version (or the only one) stands for the template. */
export function baseVersions<T extends Source>(ts: T[]): T[] {
  const bases = ts.filter((t) => !(t as Template).version?.version_number || (t as Template).version!.version_number === 1);
  return bases.length ? bases : ts.slice(0, 1);
}

/**
 * The one source named `name` in `dataCenter` (or in the engine, when no data center is given). Names are unique
 * per data center only: after a same-engine migration two VMs share a name, one per data center. Absent in the data
 * center but present elsewhere, or several matches: an error listing what was found (name, id, data center).
 */
export function pickSource<T extends { id: string; name: string }>(
  kind: "vm" | "template",
  name: string,
  dataCenter: string | undefined,
  found: Array<{ s: T; dc?: string }>,
  engineUrl: string,
): { source?: T; failure?: CheckFailure } {
  const what = kind === "vm" ? "VM" : "template";
  const list = (xs: Array<{ s: T; dc?: string }>) => xs.map((x) => `${x.s.name} (id ${x.s.id}, data center ${x.dc ?? "unknown"})`).join(", ");
  const inScope = dataCenter ? found.filter((x) => x.dc === dataCenter) : found;
  if (inScope.length === 1) return { source: inScope[0].s };
  if (inScope.length === 0 && found.length > 0) {
    return {
      failure: {
        property: "dataCenter",
        reason: `dataCenter: no ${what} named "${name}" in data center ${dataCenter}; found ${list(found)}. Set dataCenter to the data center of the source you mean.`,
      },
    };
  }
  if (inScope.length === 0) return { failure: { property: "name", reason: `name: ${what} "${name}" does not exist in engine ${engineUrl}.` } };
  return {
    failure: {
      property: dataCenter ? "name" : "dataCenter",
      reason: dataCenter
        ? `name: ${inScope.length} ${what}s named "${name}" in data center ${dataCenter}: ${list(inScope)}. Rename one of them.`
        : `dataCenter: ${inScope.length} ${what}s are named "${name}" in engine ${engineUrl}: ${list(inScope)}. Set dataCenter to the data center of the source to export.`,
    },
  };
}

export async function findSource(c: OvirtClient, key: string, kind: "vm" | "template", name: string, dataCenter?: string): Promise<Source> {
  // VMs: fresh, shared with the other exports starting now (one search for all names, disks and snapshots followed)
  const candidates: Source[] = kind === "vm" ? await vmsNamed(c, name) : baseVersions(await c.templates.findByName(name));
  const found = await Promise.all(candidates.filter((s) => s.name === name).map(async (s) => ({ s, dc: (await dcOfSource(c, key, s).catch(() => undefined))?.name })));
  const { source, failure } = pickSource(kind, name, dataCenter, found, c.url);
  if (source) return source;
  if (failure!.property === "name" && found.length === 0) {
    const all = (kind === "vm" ? await c.vms.list() : await c.templates.list()).map((v) => v.name);
    throw new ArgError("name", `${failure!.reason}${suggest(name, all)}`);
  }
  throw new ArgError(failure!.property, failure!.reason);
}

async function sourceDisks(c: OvirtClient, kind: "vm" | "template", id: string): Promise<Disk[]> {
  return kind === "vm" ? c.vms.disks(id) : c.templates.disks(id);
}

/** sha256 over what an export copies: disk ids, sizes, image ids, snapshot ids. */
export async function fingerprint(c: OvirtClient, kind: "vm" | "template", src: Source): Promise<{ fp: string; disks: ExportedDisk[] }> {
  // a VM read with follow=disk_attachments.disk,snapshots (shared reads) carries both; else read them
  const followed = kind === "vm" ? followedDisks(src) : undefined;
  const followedSnaps = kind === "vm" ? (src as Vm).snapshots : undefined;
  const disks = followed ?? (await sourceDisks(c, kind, src.id));
  const snaps = kind === "vm" ? (followedSnaps ?? (await c.vms.snapshots(src.id))).map((s) => s.id).sort() : [];
  const d = disks
    .map((x) => ({ id: x.id, p: x.provisioned_size ?? 0, a: x.actual_size ?? 0, i: x.image_id ?? "" }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const fp = createHash("sha256").update(JSON.stringify({ d, snaps })).digest("hex").slice(0, 32);
  return {
    fp,
    disks: disks.map((x) => ({ id: x.id, alias: x.alias ?? x.name, provisionedBytes: x.provisioned_size ?? 0, actualBytes: x.actual_size ?? 0 })),
  };
}

export async function exportDomainByName(c: OvirtClient, key: string, name: string): Promise<StorageDomain> {
  const { found: sd, all: sds } = await storageDomainNamed(c, key, name);
  if (!sd) {
    const all = sds.filter((d) => d.type === "export").map((d) => d.name);
    throw new ArgError("exportDomain", `exportDomain: export domain "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  if (sd.type && sd.type !== "export") {
    throw new ArgError("exportDomain", `exportDomain: "${name}" is a ${sd.type} domain, not an export domain`);
  }
  return sd;
}

export async function dcOfSource(c: OvirtClient, key: string, src: Source): Promise<{ id: string; name: string }> {
  const clId = src.cluster?.id;
  if (clId) {
    // identity (a cluster's data center, a data center's name): the read cache is fine
    const cl = (await clusterById(c, key, clId)).found;
    if (cl?.data_center?.id) {
      const dc = (await dataCenterById(c, key, cl.data_center.id)).found;
      return { id: cl.data_center.id, name: dc?.name ?? cl.data_center.id };
    }
  }
  // templates may carry no cluster: use the data center of their storage domain
  const sdId = src.storage_domain?.id;
  if (sdId) {
    const sd = await c.storageDomains.get(sdId);
    const dcId = sd?.data_centers?.[0]?.id ?? sd?.data_center?.id;
    if (dcId) {
      const dc = await c.datacenters.get(dcId);
      return { id: dcId, name: dc?.name ?? dcId };
    }
  }
  throw new Error(`cannot find the data center of ${src.name}`);
}

export async function architectureOf(c: OvirtClient, key: string, src: Source): Promise<string | undefined> {
  if (src.cpu?.architecture && src.cpu.architecture !== "undefined") return src.cpu.architecture;
  if (src.cluster?.id) return (await clusterById(c, key, src.cluster.id)).found?.cpu?.architecture;
  return undefined;
}

/** Is the copy on the export domain the current state of the source (same disks and sizes)? */
export async function copyIsCurrent(c: OvirtClient, kind: "vm" | "template", sdId: string, copyId: string, disks: ExportedDisk[]): Promise<boolean> {
  let copyDisks: Disk[];
  try {
    copyDisks = await c.exportContent(kind).disks(sdId, copyId);
  } catch {
    return false;
  }
  if (copyDisks.length !== disks.length) return false;
  const byId = new Map(copyDisks.map((d) => [d.id, d]));
  return disks.every((d) => {
    const cd = byId.get(d.id);
    return !!cd && (cd.provisioned_size === undefined || cd.provisioned_size === d.provisionedBytes);
  });
}

export function foreignCopyError(label: string, domain: string, id: string): ArgError {
  return new ArgError(
    "exclusive",
    `exclusive: export domain ${domain} already holds a copy of ${label} (id ${id}) that this resource did not make. ` +
      `Set exclusive: true to overwrite it (force override), or adopt: true to use it as it is (it is then never overwritten and kept on destroy).`,
  );
}
