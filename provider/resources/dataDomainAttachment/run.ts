/**
 * DataDomainAttachment create/update/read/delete: the data domain attached and active in `dataCenter`, taken from
 * `moveFrom` (same engine: deactivate + detach there; another engine: deactivate + detach there, import here, then
 * remove without format there), with what left the source recorded so that destroy can undo the move.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, DataCenter, StorageDomain, HostStorage } from "../../client";
import { progressFor, Progress } from "../../progress";
import { ArgError, PROGRESS_URN_KEY, clientFor, engineText, sameEngine, suggest, updatedOutputs, userInputs } from "../common";
import { resourceCorrelationId } from "../ownership";
import { DataDomainAttachmentArgs, DataDomainAttachmentOutputs, LeftEntity } from "./args";
import { attachActive, attachedDcIds, detachFrom, importData, leavingWith, pickHost, registerBack, removeKeepContent } from "./steps";

/** Hidden inputs the check adds (read at preview, before anything moves): what leaves, and the storage connection. */
export interface CheckedExtras {
  __left?: LeftEntity[];
  __storage?: HostStorage;
}

export async function findDc(c: OvirtClient, name: string, property: string): Promise<DataCenter> {
  const dc = await c.datacenters.findByName(name);
  if (!dc) {
    const all = (await c.datacenters.list()).map((d) => d.name);
    throw new ArgError(property, `${property}: data center "${name}" does not exist in engine ${c.url}.${suggest(name, all)}`);
  }
  return dc;
}

export async function findDataDomain(c: OvirtClient, name: string, property = "storageDomain"): Promise<StorageDomain | undefined> {
  const sd = await c.storageDomains.findByName(name);
  if (sd && sd.type && sd.type !== "data") {
    throw new ArgError(property, `${property}: storage domain "${name}" is a ${sd.type} domain, not a data domain (use ExportDomainAttachment for export domains)`);
  }
  return sd;
}

const crossOf = (a: DataDomainAttachmentArgs) => !!a.moveFrom?.engine && !sameEngine(a.moveFrom.engine, a.engine);
const deadlineOf = (a: { timeoutMinutes?: number }) => Date.now() + (a.timeoutMinutes ?? 30) * 60_000;

/** Brings the domain to `a.dataCenter` of `a.engine`, active. `extras` are the check's reads. */
export async function ensure(a: DataDomainAttachmentArgs, extras: CheckedExtras, progress: Progress): Promise<DataDomainAttachmentOutputs> {
  const deadline = deadlineOf(a);
  const c = clientFor(a.engine);
  const dc = await findDc(c, a.dataCenter, "dataCenter");
  const cross = crossOf(a);
  let sd = await findDataDomain(c, a.storageDomain);
  let left: LeftEntity[] | undefined = extras.__left;
  let takenFrom: DataDomainAttachmentOutputs["takenFrom"];
  let storage: HostStorage | undefined = a.storageConnection
    ? { type: a.storageConnection.type, address: a.storageConnection.address, path: a.storageConnection.path, nfs_version: a.storageConnection.nfsVersion, mount_options: a.storageConnection.mountOptions }
    : extras.__storage;
  if (!sd) {
    if (cross) {
      const from = clientFor(a.moveFrom!.engine!);
      const old = await findDataDomain(from, a.storageDomain, "moveFrom.engine");
      if (old) {
        const full = (await from.storageDomains.get(old.id)) ?? old;
        storage = storage ?? full.storage;
        for (const id of attachedDcIds(full)) {
          const odc = await from.datacenters.get(id);
          const name = odc?.name ?? id;
          if (name !== a.moveFrom!.dataCenter) {
            throw new ArgError("moveFrom.dataCenter", `moveFrom.dataCenter: data domain ${a.storageDomain} is attached to ${name} of engine ${from.url}, not to ${a.moveFrom!.dataCenter}. Nothing was changed.`);
          }
          left = left ?? (await leavingWith(from, old.id)).entities;
          await detachFrom(from, { id, name }, full, deadline, progress);
        }
        // The removal from the source engine comes AFTER the import here (below). Removed first, a run killed
        // between the two (SIGKILL) left no engine that knew the domain or its storage connection: the resumed run
        // (its create's inputs dropped by `refresh --clear-pending-creates`) could not import it and failed with
        // "neither in engine ... nor in engine ...". A detached domain may be known to both engines for a moment
        // (AddExistingFileStorageDomainCommand reads the domain's metadata, not the other engine's database).
      }
      takenFrom = { dataCenter: a.moveFrom!.dataCenter, engine: a.moveFrom!.engine!.id ? { url: a.moveFrom!.engine!.url, id: a.moveFrom!.engine!.id } : { url: a.moveFrom!.engine!.url } };
    }
    if (!storage?.path) {
      throw new ArgError("storageConnection", `storageDomain: data domain "${a.storageDomain}" is not known to engine ${a.engine.url}; set moveFrom: { dataCenter, engine } to bring it from another engine, or storageConnection (and host) to import it.`);
    }
    sd = await importData(c, a.storageDomain, storage, await pickHost(c, dc, a.host), progress);
  }
  if (cross) {
    // the source engine forgets the domain (without format) once this engine knows it: just imported, or imported
    // by a run killed before its removal there. Only the same domain (id), and only out of moveFrom.dataCenter.
    const from = clientFor(a.moveFrom!.engine!);
    const old = await findDataDomain(from, a.storageDomain, "moveFrom.engine");
    if (old && old.id === sd.id) {
      const full = (await from.storageDomains.get(old.id)) ?? old;
      for (const id of attachedDcIds(full)) {
        const name = (await from.datacenters.get(id))?.name ?? id;
        if (name !== a.moveFrom!.dataCenter) {
          throw new ArgError("moveFrom.dataCenter", `moveFrom.dataCenter: data domain ${a.storageDomain} is attached to ${name} of engine ${from.url}, not to ${a.moveFrom!.dataCenter}. Nothing was changed.`);
        }
        left = left ?? (await leavingWith(from, old.id)).entities;
        await detachFrom(from, { id, name }, full, deadline, progress);
      }
      await removeKeepContent(from, full, progress);
      takenFrom = takenFrom ?? { dataCenter: a.moveFrom!.dataCenter, engine: a.moveFrom!.engine!.id ? { url: a.moveFrom!.engine!.url, id: a.moveFrom!.engine!.id } : { url: a.moveFrom!.engine!.url } };
    }
  }
  sd = (await c.storageDomains.get(sd.id)) ?? sd;
  for (const id of attachedDcIds(sd)) {
    if (id === dc.id) continue;
    const odc = await c.datacenters.get(id);
    const name = odc?.name ?? id;
    if (cross || a.moveFrom?.dataCenter !== name) {
      throw new ArgError("moveFrom", `moveFrom: data domain ${sd.name} is attached to data center ${name}, which this resource does not name. Set moveFrom: { dataCenter: "${name}" } to move it (every VM and template on it leaves ${name}). Nothing was changed.`);
    }
    left = left ?? (await leavingWith(c, sd.id)).entities;
    await detachFrom(c, { id, name }, sd, deadline, progress);
    takenFrom = { dataCenter: name };
  }
  // declared as a move from there: a run resumed after the detach (or after the attach) still returns it there
  if (!takenFrom && a.moveFrom) {
    const e = cross ? a.moveFrom.engine! : undefined;
    takenFrom = { dataCenter: a.moveFrom.dataCenter, ...(e ? { engine: e.id ? { url: e.url, id: e.id } : { url: e.url } } : {}) };
  }
  const foundAttached = !a.moveFrom && !!(await c.attachedStorageDomains.get(dc.id, sd.id));
  const status = await attachActive(c, dc, sd, deadline, progress);
  // what arrived with it: the engine lists it as unregistered right after the attach
  const arrivedT = await c.registration("template").listUnregistered(sd.id);
  const arrivedV = await c.registration("vm").listUnregistered(sd.id);
  const arrived = [...arrivedT, ...arrivedV];
  const arrivedIds = arrived.map((x) => x.id);
  const arrivedDisks = arrived.flatMap((x) => (x.disk_attachments ?? []).map((d) => d.disk?.id ?? d.id).filter((x): x is string => !!x));
  if (!left && a.moveFrom) {
    // resumed after the detach (the check's read came too late): what is unregistered now is what left
    left = [...arrivedT.map((x) => ({ kind: "template" as const, id: x.id, name: x.name })), ...arrivedV.map((x) => ({ kind: "vm" as const, id: x.id, name: x.name }))];
  }
  progress.info(
    `data domain ${sd.name} is ${status} in ${dc.name}` +
      (takenFrom ? ` (taken from ${takenFrom.dataCenter}${takenFrom.engine ? ` of engine ${takenFrom.engine.url}` : ""}; ${arrived.length} VMs/templates wait to be registered)` : foundAttached ? " (found attached: destroy leaves it)" : ""),
  );
  return {
    ...a,
    storageDomainId: sd.id,
    dataCenterId: dc.id,
    status,
    foundAttached: foundAttached || undefined,
    takenFrom,
    leftSource: left,
    arrivedIds,
    arrivedDisks,
    storage: storage ? { type: storage.type, address: storage.address, path: storage.path } : sd.storage ? { type: sd.storage.type, address: sd.storage.address, path: sd.storage.path } : undefined,
  };
}

export async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = DataDomainAttachmentArgs.parse(userInputs(inputs));
  const progress = progressFor(inputs[PROGRESS_URN_KEY], `data domain ${args.storageDomain}`);
  const outs = await ensure(args, inputs as CheckedExtras, progress);
  return { id: outs.storageDomainId, outs: { ...outs, leaving: inputs.leaving, onDestroy: inputs.onDestroy, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

export async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = DataDomainAttachmentArgs.parse(userInputs(news));
  const prev = userInputs(olds) as DataDomainAttachmentOutputs;
  if (IN_TRANSIT.includes(prev.status)) {
    // a refresh found the domain on its way back to takenFrom (IN_TRANSIT): bring it to dataCenter again, keeping
    // what the first move recorded (what left the source: a destroy registers it back there)
    const progress = progressFor(news[PROGRESS_URN_KEY], `data domain ${args.storageDomain}`);
    // (and its storage connection: across engines a destroy may have been cut while neither engine knew the domain)
    const storage = prev.storage?.path ? { type: prev.storage.type ?? "nfs", address: prev.storage.address, path: prev.storage.path } : undefined;
    const outs = await ensure(args, { __left: prev.leftSource, __storage: storage }, progress);
    return { outs: { ...outs, takenFrom: outs.takenFrom ?? prev.takenFrom, leaving: news.leaving ?? (prev as any).leaving, onDestroy: news.onDestroy ?? (prev as any).onDestroy, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
  }
  // only settings that need no engine work change in place (diff replaces on the rest)
  return { outs: { ...updatedOutputs(prev, args, DataDomainAttachmentArgs), leaving: news.leaving ?? (prev as any).leaving, onDestroy: news.onDestroy ?? (prev as any).onDestroy, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

/**
 * Statuses a refresh records for a domain this resource took from `takenFrom` that is not in `dataCenter` but on its
 * way between the two (a `pulumi destroy` killed half-way, or a detach out of band): `detached` = attached to no data
 * center; `returning` = attached to `takenFrom`'s data center with entities that left with it still unregistered
 * there. The resource stays in the state so that destroy finishes giving the domain back (and registering them), and
 * `pulumi up` brings it to `dataCenter` again (diff: an update). Dropped as drift, the half-done undo was never
 * finished: the destroy "succeeded" with the VMs registered in no data center.
 */
export const IN_TRANSIT = ["detached", "returning"];

/**
 * Refresh: gone from the engine, or attached to another data center = deleted (drift); in transit between
 * `takenFrom` and `dataCenter` (IN_TRANSIT) = kept with that status; the DC-scoped status otherwise.
 *
 * Across engines (`takenFrom.engine` is another engine, read with `moveFrom.engine`'s credentials), the destroy's
 * hand-over spans two engines, so "in transit" is judged in both: known here and attached nowhere (detached here,
 * imported into the source or not yet) = `detached`; gone from here and known to the source attached nowhere =
 * `detached`; attached to `takenFrom`'s data center there with what left still unregistered (or not yet active) =
 * `returning`; known to NEITHER engine with a recorded storage connection = `detached` too (a destroy killed
 * between this engine's removal and the source's import, as an older provider ordered them: the content is on the
 * storage, and the destroy imports it from `storage`). Dropped, a killed cross-engine destroy "finished" with the
 * domain in no data center of the source and its VMs registered nowhere.
 */
export async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as DataDomainAttachmentOutputs;
  const c = clientFor(p.engine);
  const keep = (sdId: string, status: string): dynamic.ReadResult => ({ id: sdId, props: { ...props, storageDomainId: sdId, status } });
  const sd = (await c.storageDomains.get(id)) ?? (await c.storageDomains.findByName(p.storageDomain));
  const back = p.takenFrom;
  const cross = !!back?.engine && !sameEngine(back.engine, p.engine);
  if (sd) {
    const att = await c.attachedStorageDomains.get(p.dataCenterId, sd.id);
    if (att) return keep(sd.id, att.status ?? p.status);
  }
  if (!back || p.foundAttached) return {};
  if (!cross) {
    if (!sd) return {};
    const ids = attachedDcIds((await c.storageDomains.get(sd.id)) ?? sd);
    if (!ids.length) return keep(sd.id, "detached");
    return (await returningTo(c, back.dataCenter, sd.id, ids, p)) ? keep(sd.id, "returning") : {};
  }
  // across engines: without the source's credentials the destroy cannot give it back either (del warns)
  if (!p.moveFrom?.engine) return {};
  if (sd) return attachedDcIds((await c.storageDomains.get(sd.id)) ?? sd).length ? {} : keep(sd.id, "detached");
  const s = clientFor(p.moveFrom.engine);
  const there = await findDataDomain(s, p.storageDomain, "moveFrom.engine");
  if (there) {
    // another domain of that name in the source is not this one (an import keeps the domain's id)
    if (there.id !== id) return {};
    const ids = attachedDcIds((await s.storageDomains.get(there.id)) ?? there);
    if (!ids.length) return keep(there.id, "detached");
    return (await returningTo(s, back.dataCenter, there.id, ids, p)) ? keep(there.id, "returning") : {};
  }
  return p.storage?.path ? keep(id, "detached") : {};
}

/**
 * The VMs and templates now on the domain in this engine that did NOT arrive with it (created or moved onto it
 * here since): detaching would make this engine forget them, so destroy refuses (ownership rule). A registered
 * clone keeps its disks' ids, so it counts as arrived.
 */
export async function foreignOnDomain(c: OvirtClient, p: DataDomainAttachmentOutputs): Promise<string[]> {
  const ids = new Set(p.arrivedIds ?? []);
  const disks = new Set(p.arrivedDisks ?? []);
  const out: string[] = [];
  const vms = await c.vms.list(undefined, "disk_attachments.disk");
  for (const vm of vms) {
    const here = (vm.disk_attachments ?? []).filter((a) => (a.disk?.storage_domains?.[0]?.id ?? a.disk?.storage_domain?.id) === p.storageDomainId);
    if (!here.length || ids.has(vm.id)) continue;
    if (here.every((a) => disks.has(a.disk?.id ?? ""))) continue;
    out.push(`VM ${vm.name}`);
  }
  for (const t of await c.registration("template").listRegistered(p.storageDomainId).catch(() => [])) {
    if (!ids.has(t.id)) out.push(`template ${t.name}`);
  }
  return out;
}

/** Whether data center `dcName` of engine `c` is one of `ids` (the domain is back where it was taken from). */
async function backHere(c: OvirtClient, dcName: string, ids: string[]): Promise<boolean> {
  const dc = await c.datacenters.findByName(dcName);
  return !!dc && ids.includes(dc.id);
}

/**
 * Whether the domain, attached to data center `dcName` of engine `c` (one of `ids`), is still on its way back there:
 * not active yet (the destroy's attach was cut: it activates), or with entities of `leftSource` still unregistered.
 */
async function returningTo(c: OvirtClient, dcName: string, sdId: string, ids: string[], p: DataDomainAttachmentOutputs): Promise<boolean> {
  const dc = await c.datacenters.findByName(dcName);
  if (!dc || !ids.includes(dc.id)) return false;
  const att = await c.attachedStorageDomains.get(dc.id, sdId);
  if (att?.status && att.status !== "active") return true;
  const waiting = new Set<string>();
  for (const kind of ["template", "vm"] as const) for (const u of await c.registration(kind).listUnregistered(sdId, "").catch(() => [])) waiting.add(u.id);
  return (p.leftSource ?? []).some((e) => waiting.has(e.id));
}

/**
 * Destroy undoes the move (ownership rule): found attached = nothing; `returnOnDelete: false` = nothing; otherwise,
 * refused while the domain holds VMs/templates that did not arrive with it or VMs that are not down; then the
 * domain goes back to `takenFrom` (same engine: detach + attach; across engines: detach here, import there, then
 * remove without format here, then attach there) and what left the source is registered there again. A domain no
 * longer in this data center (moved out of band) is left alone.
 */
export async function del(id: string, props: any): Promise<void> {
  const p = userInputs(props) as DataDomainAttachmentOutputs;
  const progress = progressFor(props[PROGRESS_URN_KEY], `data domain ${p.storageDomain}`);
  if (p.foundAttached) {
    progress.info(`data domain ${p.storageDomain} was attached to ${p.dataCenter} before this stack; it stays`);
    return;
  }
  if (p.returnOnDelete === false) {
    progress.info(`returnOnDelete: false: data domain ${p.storageDomain} and its VMs stay in ${p.dataCenter}`);
    return;
  }
  const deadline = deadlineOf(p);
  const c = clientFor(p.engine);
  const back = p.takenFrom;
  const cross = !!back?.engine && !sameEngine(back.engine, p.engine);
  const srcEngine = cross ? p.moveFrom?.engine : p.engine;
  if (cross && !srcEngine) {
    progress.warn(`data domain ${p.storageDomain} came from engine ${back!.engine!.url}, which this resource has no credentials for any more; it stays in ${p.dataCenter}`);
    return;
  }
  const sd = (await c.storageDomains.get(id)) ?? (await c.storageDomains.findByName(p.storageDomain));
  if (sd) {
    const ids = attachedDcIds((await c.storageDomains.get(sd.id)) ?? sd);
    if (ids.includes(p.dataCenterId)) {
      const foreign = await foreignOnDomain(c, p);
      if (foreign.length) {
        throw new Error(
          `data domain ${p.storageDomain} holds ${foreign.join(", ")}, which did not arrive with it; detaching it would make engine ${c.url} forget them. ` +
            `Nothing was changed. Move their disks to another domain (or remove them), or set returnOnDelete: false to leave the domain in ${p.dataCenter}.`,
        );
      }
      await detachFrom(c, { id: p.dataCenterId, name: p.dataCenter }, sd, deadline, progress);
    } else if (ids.length && !(back && !cross && (await backHere(c, back.dataCenter, ids)))) {
      progress.info(`data domain ${p.storageDomain} is no longer in ${p.dataCenter} (moved since): nothing of this resource's to undo`);
      return;
    }
    // (attached to takenFrom's data center of this engine: a destroy killed after the attach there; it goes on
    // below: activate, and register back what left with the domain and is still unregistered there)
    if (!back) {
      progress.info(`detached data domain ${p.storageDomain} from ${p.dataCenter} (it was attached nowhere before this resource)`);
      return;
    }
  } else if (!cross) {
    return;
  }
  // give it back to where it was taken from
  const s = clientFor(srcEngine!);
  const sdc = await findDc(s, back!.dataCenter, "moveFrom.dataCenter");
  let there = await findDataDomain(s, p.storageDomain);
  if (cross && there && there.id !== (sd?.id ?? id)) {
    throw new Error(
      `data domain ${p.storageDomain}: engine ${s.url} has another data domain of that name (id ${there.id}, not ${sd?.id ?? id}); this one cannot be imported back there under its name. ` +
        `Nothing more was changed. Rename or remove that domain in ${s.url}, then run pulumi destroy again.`,
    );
  }
  if (!there) {
    const rec = p.storage?.path ? p.storage : sd?.storage;
    const conn = rec?.path ? { type: rec.type ?? "nfs", address: rec.address, path: rec.path } : undefined;
    if (!conn) throw new Error(`data domain ${p.storageDomain}: no storage connection recorded to import it back into ${s.url}`);
    try {
      there = await importData(s, p.storageDomain, conn, await pickHost(s, sdc, undefined), progress);
    } catch (e) {
      if (sd) throw e;
      // known to neither engine: the recorded connection is the only way to it
      throw new Error(
        `data domain ${p.storageDomain} (id ${id}) is known to neither engine ${c.url} nor ${s.url}, and importing it into ${s.url} from its recorded storage connection ` +
          `${conn.address}:${conn.path} failed: ${engineText(e)}. If the domain is there, check the connection from a host of ${sdc.name} and run pulumi destroy again; ` +
          `if it was removed on purpose, drop this resource from the state (pulumi state delete <its URN>).`,
      );
    }
  }
  // Across engines this engine forgets the domain (without format) only once the source knows it again: removed
  // first, a destroy killed between the two left a domain that no engine knew (the same hand-over as ensure's, in
  // the other direction; a detached domain may be known to both engines for a moment).
  if (cross && sd) await removeKeepContent(c, sd, progress);
  await attachActive(s, sdc, there, deadline, progress);
  const done = await registerBack(s, there, sdc, p.leftSource ?? [], p.moveFrom?.cluster, (e) => resourceCorrelationId(props[PROGRESS_URN_KEY], "register-back", there!.id, e.id), progress);
  progress.info(`returned data domain ${p.storageDomain} to ${sdc.name}${cross ? ` of engine ${s.url}` : ""}; registered there again: ${done.join(", ") || "nothing"}`);
}
