/** ExportDomainAttachment's create/update (`ensure`: the domain active in the wanted data center) and delete's give-back. */
import { ArgError, EngineArgs, clientFor, sameEngine } from "../common";
import { Progress } from "../../progress";
import { ExportDomainAttachmentArgs, deadlineOf } from "./args";
import { EngineRef, ExportDomainAttachmentOutputs, refOf } from "./outputs";
import { attachAndActivate, attachedDcIds, detachFrom, findDc, findExportDomain, pickHost, releaseFromEngine } from "./storage";

interface EnsureOpts {
  args: ExportDomainAttachmentArgs;
  /** the DC the domain may be taken from (previous state of this resource) */
  previousDataCenter?: string;
  /** the engine the domain may be taken from (previous state of this resource) */
  previousEngine?: EngineArgs;
  /** the data center of `previousEngine` the domain may be taken from (previous state of this resource) */
  previousEngineDataCenter?: string;
  progress: Progress;
  /** what the closing info line says: an attachment (create/update), or a destroy giving the domain back */
  purpose?: "attach" | "return";
}

export async function ensure(o: EnsureOpts): Promise<ExportDomainAttachmentOutputs> {
  const a = o.args;
  const deadline = deadlineOf(a);
  const c = clientFor(a.engine);
  const dc = await findDc(c, a.dataCenter, "dataCenter");
  let sd = await findExportDomain(c, a.exportDomain);
  let storage: ExportDomainAttachmentOutputs["storage"];
  let takenFrom: ExportDomainAttachmentOutputs["takenFrom"];

  if (!sd) {
    const fromEngine =
      a.moveFrom?.engine && !sameEngine(a.moveFrom.engine, a.engine)
        ? a.moveFrom.engine
        : o.previousEngine && !sameEngine(o.previousEngine, a.engine)
          ? o.previousEngine
          : undefined;
    let conn: import("../../client").HostStorage | undefined = a.storageConnection
      ? {
          type: a.storageConnection.type,
          address: a.storageConnection.address,
          path: a.storageConnection.path,
          nfs_version: a.storageConnection.nfsVersion,
          mount_options: a.storageConnection.mountOptions,
        }
      : undefined;
    if (fromEngine) {
      const from = clientFor(fromEngine);
      const old = await findExportDomain(from, a.exportDomain);
      if (old) {
        conn = conn ?? old.storage;
        const allowedDc = fromEngine === a.moveFrom?.engine ? a.moveFrom?.dataCenter : o.previousEngineDataCenter;
        // where it sat there: a destroy brings it back
        const there = attachedDcIds((await from.storageDomains.get(old.id)) ?? old)[0];
        const thereName = there ? ((await from.datacenters.get(there))?.name ?? there) : undefined;
        await releaseFromEngine(from, old, allowedDc, a.takeOver === true, deadline, o.progress);
        if (thereName) takenFrom = { dataCenter: thereName, engine: refOf(fromEngine) };
      }
    }
    if (!conn || !conn.path) {
      throw new ArgError(
        "storageConnection",
        `exportDomain: export domain "${a.exportDomain}" is not known to engine ${a.engine.url}. To bring it from another ` +
          `engine set moveFrom: { dataCenter, engine } (the domain is detached and removed there without formatting), ` +
          `or give storageConnection (and host) to import it.`,
      );
    }
    // an earlier interrupted attempt may have imported it meanwhile
    sd = await findExportDomain(c, a.exportDomain);
    if (!sd) {
      const host = await pickHost(c, dc, a.host);
      o.progress.update(`importing export domain ${a.exportDomain} into ${a.engine.url}`);
      try {
        sd = await c.storageDomains.importExisting({ name: a.exportDomain, type: "export", storage: conn, hostId: host.id });
      } catch (e) {
        const again = await findExportDomain(c, a.exportDomain);
        if (!again) throw e;
        sd = again;
      }
    }
    storage = { type: conn.type, address: conn.address, path: conn.path };
  }
  // global GET carries the data_centers links
  sd = (await c.storageDomains.get(sd.id)) ?? sd;
  storage = storage ?? (sd.storage ? { type: sd.storage.type, address: sd.storage.address, path: sd.storage.path } : undefined);

  for (const otherId of attachedDcIds(sd)) {
    if (otherId === dc.id) continue;
    const other = await c.datacenters.get(otherId);
    const otherName = other?.name ?? otherId;
    const allowed =
      a.takeOver === true ||
      (a.moveFrom && a.moveFrom.dataCenter === otherName && (!a.moveFrom.engine || sameEngine(a.moveFrom.engine, a.engine))) ||
      // a stage whose hand-off already happened (a re-run after the state was lost): the domain flows between the
      // two data centers this resource names, so it may be taken back from its hand-off data center
      (a.handOffTo && a.handOffTo.dataCenter === otherName && (!a.handOffTo.engine || sameEngine(a.handOffTo.engine, a.engine))) ||
      (o.previousDataCenter !== undefined && o.previousDataCenter === otherName);
    if (!allowed) {
      const st = (await c.attachedStorageDomains.get(otherId, sd.id))?.status ?? "attached";
      throw new ArgError(
        "takeOver",
        `exportDomain: export domain ${sd.name} is ${st} in data center ${otherName}, which this resource does not manage ` +
          `(an export domain is active in one data center at a time). Set takeOver: true to move it to ${dc.name}, ` +
          `or moveFrom: { dataCenter: "${otherName}" } when another stage of this stack attached it there.`,
      );
    }
    await detachFrom(c, otherId, otherName, sd, deadline, o.progress);
    takenFrom = takenFrom ?? { dataCenter: otherName };
  }
  // found in place: this resource did not attach it, so its destroy will not detach it
  const foundAttached = !!(await c.attachedStorageDomains.get(dc.id, sd.id));
  const status = await attachAndActivate(c, dc, sd, deadline, o.progress);
  const inEngine = (e?: EngineRef) => (e && !sameEngine(e, a.engine) ? ` of engine ${e.url}` : "");
  if (o.purpose === "return") {
    const otherEngine = a.moveFrom?.engine && !sameEngine(a.moveFrom.engine, a.engine) ? ` of engine ${a.engine.url}` : "";
    o.progress.info(`returned export domain ${sd.name} to ${dc.name}${otherEngine}, where this resource found it; it is ${status} there`);
  } else {
    const onDestroy = foundAttached
      ? "found attached there: destroy leaves it attached"
      : takenFrom
        ? `taken from ${takenFrom.dataCenter}${inEngine(takenFrom.engine)}: destroy returns it there`
        : "it was not attached anywhere: destroy detaches it";
    o.progress.info(`export domain ${sd.name} is ${status} in ${dc.name} (${onDestroy})`);
  }
  return { ...a, exportDomainId: sd.id, dataCenterId: dc.id, status, storage, foundAttached, ...(foundAttached ? {} : takenFrom ? { takenFrom } : {}) };
}

/** Returns the domain to `takenFrom`: `ensure` run the other way (from this resource's data center and engine). */
export async function giveBack(p: ExportDomainAttachmentOutputs, progress: Progress): Promise<void> {
  const back = p.takenFrom!;
  const cross = !!back.engine && !sameEngine(back.engine, p.engine);
  // the other engine's credentials: from the secret outputs that name it (never stored in takenFrom)
  const otherEngine = cross ? [p.moveFrom?.engine, p.handOffTo?.engine].find((e) => e && sameEngine(e, back.engine)) : undefined;
  if (cross && !otherEngine) {
    progress.warn(
      `export domain ${p.exportDomain} came from ${back.dataCenter} of engine ${back.engine!.url}, which this resource no longer has ` +
        `credentials for (moveFrom.engine changed); it is left attached to ${p.dataCenter}. Move it back yourself, or with an ExportDomainAttachment.`,
    );
    return;
  }
  const conn = cross && p.storage?.path
    ? { type: (p.storage.type as "nfs" | "posixfs" | "glusterfs" | "localfs" | undefined) ?? "nfs", address: p.storage.address, path: p.storage.path }
    : undefined;
  progress.update(`returning ${p.exportDomain} to ${back.dataCenter}${cross ? ` of engine ${back.engine!.url}` : ""}, where this resource found it`);
  await ensure({
    args: {
      engine: cross ? otherEngine! : p.engine,
      exportDomain: p.exportDomain,
      dataCenter: back.dataCenter,
      moveFrom: { dataCenter: p.dataCenter, ...(cross ? { engine: p.engine } : {}) },
      ...(conn ? { storageConnection: conn } : {}),
      timeoutMinutes: p.timeoutMinutes,
    },
    progress,
    purpose: "return",
  });
}
