// /storagedomains: list (search), get, add (new NFS domain or import=true of an existing one, reading
// dom_md/metadata), remove (?host=&format=&destroy=) from this engine, disks of a data domain.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { Ctx, Router } from "../router";
import { backend, EngineFault, EngineFaults } from "../engineFaults";
import { StorageDomainRec } from "../model/types";
import { byIdOr404, list, one, requireBody } from "./common";
import { bool, child, ref, str } from "../xml/xml";
import { domainRoot, findDomains } from "../storage/exportDomain";
import { usedBytes } from "../storage/contents";
import { onDomainRemoved } from "./registration";

export function sdSearchFields(ctx: Ctx) {
  const e = ctx.engine;
  return {
    name: (s: StorageDomainRec) => s.name,
    id: (s: StorageDomainRec) => s.id,
    type: (s: StorageDomainRec) => s.type,
    status: (s: StorageDomainRec) => s.status ?? "unattached",
    datacenter: (s: StorageDomainRec) => e.dc(s.dataCenterId)?.name,
    "datacenter.name": (s: StorageDomainRec) => e.dc(s.dataCenterId)?.name,
  };
}

function resolveHost(ctx: Ctx, r: { id?: string; name?: string } | undefined) {
  if (!r || (!r.id && !r.name)) return undefined;
  const h = ctx.engine.state.hosts.find((x) => (r.id ? x.id === r.id : x.name === r.name));
  if (!h) throw EngineFaults.entityNotFound("Host", r.id ? `id=${r.id}` : `name=${r.name}`);
  return h;
}

export function register(r: Router): void {
  r.get("storagedomains", (ctx) => {
    for (const sd of ctx.engine.state.storageDomains) if (sd.type === "export") ctx.engine.exportUsedCache.set(sd.id, usedBytes(sd));
    return list(ctx, "storage_domains", "storage_domain", ctx.engine.state.storageDomains, (s) => ctx.w.storageDomain(s), sdSearchFields(ctx));
  });
  r.get("storagedomains/:sd", (ctx) => {
    const sd = byIdOr404(ctx.engine.state.storageDomains, ctx.params.sd);
    if (sd.type === "export") ctx.engine.exportUsedCache.set(sd.id, usedBytes(sd));
    return one("storage_domain", ctx.w.storageDomain(sd));
  });
  r.get("storagedomains/:sd/disks", (ctx) => {
    const sd = byIdOr404(ctx.engine.state.storageDomains, ctx.params.sd);
    const disks = [...ctx.engine.state.vms.flatMap((v) => v.disks), ...ctx.engine.state.templates.flatMap((t) => t.disks)].filter((d) => d.storageDomainId === sd.id);
    return list(ctx, "disks", "disk", disks, (d) => ctx.w.disk(d));
  });

  // add: a new file domain, or import=true of an existing one (AddExistingFileStorageDomain)
  r.post("storagedomains", (ctx) => {
    const e = ctx.engine;
    const n = requireBody(ctx, "storage_domain", "add");
    const type = str(n, "type")?.toLowerCase();
    const storage = child(n, "storage");
    const host = resolveHost(ctx, ref(n, "host"));
    const missing: string[] = [];
    if (!host) missing.push("host.id|name");
    if (!type) missing.push("type");
    if (!storage) missing.push("storage");
    if (missing.length) throw EngineFaults.incomplete("StorageDomain", missing, "add");
    if (type !== "export" && type !== "data") throw EngineFaults.invalidEnum(String(type), "StorageDomainType");
    const stype = str(storage, "type")?.toLowerCase();
    if (stype !== "nfs") throw backend(400, "Cannot add Storage. The simulator only supports NFS (file) storage domains for add/import.");
    const address = str(storage, "address") ?? "";
    const p = str(storage, "path") ?? "";
    if (!["127.0.0.1", "localhost", "::1"].includes(address) || !path.isAbsolute(p) || !fs.existsSync(p) || !fs.statSync(p).isDirectory()) {
      throw backend(400, "Problem while trying to mount target");
    }
    const isImport = bool(n, "import") === true;
    const name = str(n, "name");
    let rec: StorageDomainRec;
    if (isImport) {
      const found = findDomains(p).filter((d) => (type === "export" ? d.md.class === "Backup" : d.md.class === "Data"));
      if (found.length === 0) throw backend(400, "Storage domain does not exist");
      const { root, md } = found[0];
      if (e.sd(md.sdUUID)) throw backend(409, "Cannot add Storage. The Storage Domain already exists.");
      const finalName = name || md.description;
      if (e.state.storageDomains.some((s) => s.name === finalName)) throw EngineFaults.storageNameExists();
      rec = {
        id: md.sdUUID, name: finalName, description: str(n, "description") ?? "", type, storageType: "nfs",
        sizeBytes: 500 * 1024 ** 3, address: "127.0.0.1", exportPath: p, root,
      };
    } else {
      if (!name) throw EngineFaults.incomplete("StorageDomain", ["name"], "add");
      if (e.state.storageDomains.some((s) => s.name === name)) throw EngineFaults.storageNameExists();
      if (fs.readdirSync(p).length > 0) throw backend(400, "Cannot add Storage. The storage path is not empty.");
      const id = e.uuid();
      rec = {
        id, name, description: str(n, "description") ?? "", type, storageType: "nfs", sizeBytes: 500 * 1024 ** 3,
        address: "127.0.0.1", exportPath: p, root: domainRoot(p, id),
      };
      e.syncDomainMetadata(rec);
    }
    e.state.storageDomains.push(rec);
    e.markDirty();
    e.event({ code: 956, description: `Storage Domain ${rec.name} was added by admin@internal-authz`, correlationId: ctx.correlationId, storageDomainId: rec.id, hostId: host!.id });
    e.exportUsedCache.set(rec.id, usedBytes(rec));
    const content = ctx.w.storageDomain(rec);
    return { status: 201, root: "storage_domain", content, headers: { Location: String(content["@_href"]) } };
  });

  // remove from this engine: ?host=..&format=false (files kept) | format=true (wiped) | destroy=true
  r.delete("storagedomains/:sd", async (ctx) => {
    const e = ctx.engine;
    const sd = byIdOr404(e.state.storageDomains, ctx.params.sd);
    const q = (k: string) => ctx.query.get(k) ?? (ctx.body?.node ? str(ctx.body.node, k) : undefined) ?? null;
    const destroy = q("destroy") === "true";
    const format = q("format") === "true";
    const hostParam = q("host");
    if (!destroy && !hostParam) throw EngineFaults.incomplete("Action", ["host"], "remove");
    if (hostParam) {
      const h = e.state.hosts.find((x) => x.id === hostParam || x.name === hostParam);
      if (!h) throw EngineFaults.entityNotFound("Host", `name=${hostParam}`);
    }
    if (sd.dataCenterId && !destroy) throw EngineFaults.storageStatusIllegal("remove", "Storage", sd.status ?? "active");
    if (e.state.vms.some((v) => v.disks.some((d) => d.storageDomainId === sd.id)) || e.state.templates.some((t) => t.disks.some((d) => d.storageDomainId === sd.id))) {
      throw backend(409, "Cannot remove Storage. The Storage Domain contains disks of VMs or Templates.");
    }
    e.state.storageDomains = e.state.storageDomains.filter((x) => x !== sd);
    onDomainRemoved(e, sd.id); // its unregistered rows go with it (services/registration.ts)
    if (format) await fsp.rm(sd.root, { recursive: true, force: true });
    e.markDirty();
    e.event({ code: 960, description: `Storage Domain ${sd.name} was removed by admin@internal-authz`, correlationId: ctx.correlationId, storageDomainId: sd.id });
    return { status: 200, root: "action", content: { status: "complete" } };
  });
  void EngineFault;
}
