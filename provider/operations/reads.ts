/**
 * Reads shared by the resources of one provider process (create/update paths).
 *
 * - Fresh, shared: VMs by name / by id (one `GET /vms?search=name="a" or name="b"...` per window, with disks and
 *   snapshots followed), an export domain's listing, a data center's attached domains (`readCache.ts`). A
 *   caller always gets the answer of a request sent after it asked. Names are quoted by `searchNames` (the
 *   engine's search syntax, `client/services/util.ts`) and matched exactly here; a batch the engine refuses with
 *   a 4xx is read again name by name, so one bad name fails only its own caller (`KeyedBatcher`).
 * - Recent when they let the caller go on (`recentRead`): a data center's attached domains when every domain needed
 *   is active there, an export domain's listing when it holds the copy an import needs. The engine checks both
 *   again when the action is submitted.
 * - Identity lookups (storage domains, clusters, data centers: names, ids, types, data center of a cluster) come from
 *   the `cachedRead` cache that `check` fills (kept a minute for these); a name missing there is read again before anyone fails on it.
 */
import type { OvirtClient, Vm, Disk, StorageDomain, Cluster, DataCenter, Template } from "../client";
import { KeyedBatcher, batcher, cachedRead, freshRead, recentRead } from "./readCache";
import { searchNames } from "../client/services/util";
import { EngineError } from "../client/errors";

const VM_FOLLOW = "disk_attachments.disk,snapshots";

/**
 * VMs by name and by id, in one batcher: keys `n:<name>` and `i:<id>`, one `GET /vms?search=name="a" or id=b ...`
 * for every key gathered (an import asks for its name and its copy's id at once: one request, not two).
 */
function vmsByNameOrId(c: OvirtClient): KeyedBatcher<Vm> {
  return batcher(c.http, "vmsByNameOrId", () =>
    new KeyedBatcher<Vm>(async (keys) => {
      const names = keys.filter((k) => k.startsWith("n:")).map((k) => k.slice(2));
      const ids = keys.filter((k) => k.startsWith("i:")).map((k) => k.slice(2));
      const terms = [...(names.length ? [searchNames(names)] : []), ...ids.map((id) => `id=${id}`)];
      const out = new Map<string, Vm[]>();
      for (const vm of await c.vms.list(terms.join(" or "), VM_FOLLOW)) {
        // the name search is a case-insensitive LIKE: exact match here
        if (names.includes(vm.name)) out.set(`n:${vm.name}`, [...(out.get(`n:${vm.name}`) ?? []), vm]);
        const id = ids.find((i) => i.toLowerCase() === vm.id.toLowerCase());
        if (id) out.set(`i:${id}`, [vm]);
      }
      return out;
    }),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every VM named exactly `name` (names are unique per data center), fresh and shared. */
export function vmsNamed(c: OvirtClient, name: string, windowMs?: number): Promise<Vm[]> {
  return vmsByNameOrId(c).load(`n:${name}`, windowMs);
}

/** The VM with this id, fresh and shared (`id=` search; a non-UUID id is read alone). */
export async function vmById(c: OvirtClient, id: string, windowMs?: number): Promise<Vm | undefined> {
  if (!UUID.test(id)) return c.vms.get(id, "disk_attachments.disk");
  return (await vmsByNameOrId(c).load(`i:${id}`, windowMs))[0];
}

/** The disks of a VM read with `follow=disk_attachments.disk`; undefined when the answer lacks them. */
export function followedDisks(vm: Vm | Template): Disk[] | undefined {
  const atts = vm.disk_attachments;
  if (!atts) return undefined;
  const disks: Disk[] = [];
  for (const a of atts) {
    if (!a.disk || (a.disk.alias === undefined && a.disk.provisioned_size === undefined)) return undefined;
    disks.push({ ...a.disk, bootable: a.bootable });
  }
  return disks;
}

/** The VMs or templates stored on an export domain, fresh and shared. */
export function exportListing(c: OvirtClient, kind: "vm" | "template", sdId: string, windowMs?: number): Promise<Array<Vm | Template>> {
  return freshRead(c.http, `exp|${kind}|${sdId}`, () => c.exportContent(kind).list(sdId), windowMs);
}

/** The storage domains as seen from a data center (status), fresh and shared. */
export function attachedDomains(c: OvirtClient, dcId: string): Promise<StorageDomain[]> {
  return freshRead(c.http, `att|${dcId}`, () => c.attachedStorageDomains.list(dcId));
}

/**
 * The storage domains as seen from a data center, for a caller that goes on only when every domain of `ids` is
 * active there: a recent answer that says so (`recentRead`: the engine checks the domains' status again when the
 * export or import is submitted), else a fresh one, on which the caller judges.
 */
export function attachedDomainsActive(c: OvirtClient, dcId: string, ids: string[]): Promise<StorageDomain[]> {
  return recentRead(c.http, `att|${dcId}`, () => c.attachedStorageDomains.list(dcId), (l) =>
    ids.every((id) => l.some((d) => d.id === id && d.status === "active")),
  );
}

/**
 * An export domain's VMs or templates, for an import that needs the copy named `name` on it: a recent listing that
 * holds it (`recentRead`: the engine reads the copy again when the import is submitted, and refuses one that is
 * gone), else a fresh one.
 */
export function exportListingWith(c: OvirtClient, kind: "vm" | "template", sdId: string, name: string): Promise<Array<Vm | Template>> {
  return recentRead(c.http, `exp|${kind}|${sdId}`, () => c.exportContent(kind).list(sdId), (l) => l.some((x) => x.name === name));
}

/** A storage domain as seen from a data center (status), fresh and shared (one listing of the data center). */
export async function attachedDomain(c: OvirtClient, dcId: string, sdId: string): Promise<StorageDomain | undefined> {
  return (await attachedDomains(c, dcId)).find((d) => d.id === sdId);
}

/** Identity lookups through the 10 s read cache (shared with `check`); a miss is read again, fresh. */
async function cachedFind<T>(key: string, list: () => Promise<T[]>, pred: (t: T) => boolean): Promise<{ found?: T; all: T[] }> {
  // names and ids of domains, clusters and data centers do not change during a run: a minute is fine
  const cached = await cachedRead(key, 60_000, list);
  const hit = cached.find(pred);
  if (hit) return { found: hit, all: cached };
  const fresh = await list();
  return { found: fresh.find(pred), all: fresh };
}

/** The read-cache key of an engine connection (the same as `check` uses). */
export const engineKey = (engine: { url: string; username: string }) => `${engine.url}|${engine.username}`;

export function storageDomainNamed(c: OvirtClient, key: string, name: string) {
  return cachedFind(`${key}|sds`, () => c.storageDomains.list(), (d: StorageDomain) => d.name === name);
}

export function clusterNamed(c: OvirtClient, key: string, name: string) {
  return cachedFind(`${key}|clusters`, () => c.clusters.list(), (d: Cluster) => d.name === name);
}

export function clusterById(c: OvirtClient, key: string, id: string) {
  return cachedFind(`${key}|clusters`, () => c.clusters.list(), (d: Cluster) => d.id === id);
}

export function dataCenterById(c: OvirtClient, key: string, id: string) {
  return cachedFind(`${key}|dcs`, () => c.datacenters.list(), (d: DataCenter) => d.id === id);
}

/** An export domain's VMs or templates as `check` reads them: the items, or why the engine cannot list them now. */
export interface ExportContents<T> {
  items: T[];
  /** set when the contents are unknown (not empty): "export domain X is maintenance in data center Y; its contents cannot be read" */
  unreadable?: string;
  /** the domain's status in its data center when unreadable ("unattached" when attached nowhere) */
  status?: string;
}

/**
 * The VMs or templates on an export domain, for a preview (cached like the other `check` reads, 10 s). The engine
 * reads them in the domain's own data center only while the domain is connected there (restapi
 * `AbstractBackendStorageDomainContentsResource`, `GetAllFromExportDomainQuery`): attached nowhere it lists nothing
 * whatever the domain holds; in maintenance (or locked, activating, detaching) it answers 400 "Storage domain cannot
 * be reached". Either way the contents are unknown, not empty: `unreadable` says so, with the domain's status, and the
 * caller shows it instead of judging on an empty listing. Other failures are thrown (a connection failure is then
 * reported as the engine's).
 */
export async function exportContents<T>(
  c: OvirtClient,
  key: string,
  kind: "vm" | "template",
  sd: Pick<StorageDomain, "id" | "name" | "data_center" | "data_centers">,
): Promise<ExportContents<T>> {
  return cachedRead(`${key}|expc|${sd.id}|${kind}`, 10_000, async (): Promise<ExportContents<T>> => {
    const dcId = sd.data_centers?.[0]?.id ?? sd.data_center?.id;
    if (!dcId) {
      return { items: [], status: "unattached", unreadable: `export domain ${sd.name} is not attached to any data center; its contents cannot be read` };
    }
    try {
      return { items: (await c.exportContent(kind).list(sd.id)) as T[] };
    } catch (e) {
      if (!(e instanceof EngineError) || e.status !== 400 || !/cannot be reached/i.test(e.text)) throw e;
      const [att, dc] = await Promise.all([
        c.attachedStorageDomains.get(dcId, sd.id).catch(() => undefined),
        dataCenterById(c, key, dcId).then((r) => r.found, () => undefined),
      ]);
      const status = att?.status ?? "unknown";
      return { items: [], status, unreadable: `export domain ${sd.name} is ${status} in data center ${dc?.name ?? dcId}; its contents cannot be read` };
    }
  });
}
