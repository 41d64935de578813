/**
 * Reads shared by the resources of one provider process (create/update paths).
 *
 * - Fresh, shared: VMs by name / by id (one `GET /vms?search=name="a" or name="b"...` per window, with disks and
 *   snapshots followed), an export domain's listing, a data center's attached domains (`readCache.ts`). A
 *   caller always gets the answer of a request sent after it asked. Names are quoted by `searchNames` (the
 *   engine's search syntax, `client/services/util.ts`) and matched exactly here; a batch the engine refuses with
 *   a 4xx is read again name by name, so one bad name fails only its own caller (`KeyedBatcher`).
 * - Identity lookups (storage domains, clusters, data centers: names, ids, types, data center of a cluster) come from
 *   the `cachedRead` cache that `check` fills (kept a minute for these); a name missing there is read again before anyone fails on it.
 */
import type { OvirtClient, Vm, Disk, StorageDomain, Cluster, DataCenter, Template } from "../client";
import { KeyedBatcher, batcher, cachedRead, freshRead } from "./readCache";
import { searchNames } from "../client/services/util";
import { EngineError } from "../client/errors";

const VM_FOLLOW = "disk_attachments.disk,snapshots";

function vmsByName(c: OvirtClient): KeyedBatcher<Vm> {
  return batcher(c.http, "vmsByName", () =>
    new KeyedBatcher<Vm>(async (names) => {
      const out = new Map<string, Vm[]>();
      for (const vm of await c.vms.list(searchNames(names), VM_FOLLOW)) {
        if (!names.includes(vm.name)) continue; // the search is a case-insensitive LIKE: exact match here
        out.set(vm.name, [...(out.get(vm.name) ?? []), vm]);
      }
      return out;
    }),
  );
}

function vmsById(c: OvirtClient): KeyedBatcher<Vm> {
  return batcher(c.http, "vmsById", () =>
    new KeyedBatcher<Vm>(async (ids) => {
      const out = new Map<string, Vm[]>();
      for (const vm of await c.vms.list(ids.map((id) => `id=${id}`).join(" or "), VM_FOLLOW)) {
        const key = ids.find((i) => i.toLowerCase() === vm.id.toLowerCase());
        if (key) out.set(key, [vm]);
      }
      return out;
    }),
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every VM named exactly `name` (names are unique per data center), fresh and shared. */
export function vmsNamed(c: OvirtClient, name: string): Promise<Vm[]> {
  return vmsByName(c).load(name);
}

/** The VM with this id, fresh and shared (`id=` search; a non-UUID id is read alone). */
export async function vmById(c: OvirtClient, id: string): Promise<Vm | undefined> {
  if (!UUID.test(id)) return c.vms.get(id, "disk_attachments.disk");
  return (await vmsById(c).load(id))[0];
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
export function exportListing(c: OvirtClient, kind: "vm" | "template", sdId: string): Promise<Array<Vm | Template>> {
  return freshRead(c.http, `exp|${kind}|${sdId}`, () => c.exportContent(kind).list(sdId));
}

/** The storage domains as seen from a data center (status), fresh and shared. */
export function attachedDomains(c: OvirtClient, dcId: string): Promise<StorageDomain[]> {
  return freshRead(c.http, `att|${dcId}`, () => c.attachedStorageDomains.list(dcId));
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
