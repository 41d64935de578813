/**
 * DataDomainAttachment preview (reads only): where the domain is, whether the engine would let it go (running VMs
 * with disks there, the master rules), and every VM and template that leaves the source data center with it, as
 * info lines and as the check-time input `leaving` (Pulumi shows it in the preview's diff and in destroy's details).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { HostStorage } from "../../client";
import { progressFor } from "../../progress";
import { CheckFailure, PROGRESS_URN_KEY, clientFor, connectionFailure, jsonEqual, sameEngine, suggest, userInputs, validate } from "../common";
import { DataDomainAttachmentArgs, LeftEntity } from "./args";
import { attachedDcIds, leavingWith, masterRefusal } from "./steps";

const MAX_LINE = 140;

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(DataDomainAttachmentArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  const identityChanged = !prev || !jsonEqual(prev.storageDomain, args.storageDomain) || !jsonEqual(prev.dataCenter, args.dataCenter) || !sameEngine(prev.engine, args.engine);
  if (hasUnknowns || !identityChanged) {
    // nothing to read again: the move was judged when the resource was new; carry what it said
    return { inputs: { ...news, leaving: prev?.leaving, onDestroy: prev?.onDestroy }, failures };
  }
  const fs: CheckFailure[] = [];
  const progress = progressFor(news[PROGRESS_URN_KEY], `data domain ${args.storageDomain}`);
  const cross = !!args.moveFrom?.engine && !sameEngine(args.moveFrom.engine, args.engine);
  let left: LeftEntity[] | undefined;
  let storage: HostStorage | undefined;
  let leaving: string[] = [];
  try {
    const c = clientFor(args.engine);
    const dc = await c.datacenters.findByName(args.dataCenter);
    if (!dc) {
      const all = (await c.datacenters.list()).map((d) => d.name);
      fs.push({ property: "dataCenter", reason: `dataCenter: data center "${args.dataCenter}" does not exist in engine ${args.engine.url}.${suggest(args.dataCenter, all)}` });
    }
    if (args.host && !(await c.hosts.findByName(args.host))) fs.push({ property: "host", reason: `host: host "${args.host}" does not exist in engine ${args.engine.url}` });
    let sd = await c.storageDomains.findByName(args.storageDomain);
    // the engine (client) and the data center the domain is in now
    let src: { c: typeof c; dcId: string; dcName: string; engineProp: string } | undefined;
    if (sd && sd.type && sd.type !== "data") {
      fs.push({ property: "storageDomain", reason: `storageDomain: "${args.storageDomain}" is a ${sd.type} domain, not a data domain (use ExportDomainAttachment for export domains)` });
      sd = undefined;
    } else if (sd) {
      const full = (await c.storageDomains.get(sd.id)) ?? sd;
      for (const id of attachedDcIds(full)) {
        if (dc && id === dc.id) continue;
        const name = (await c.datacenters.get(id))?.name ?? id;
        if (cross || args.moveFrom?.dataCenter !== name) {
          fs.push({ property: "moveFrom", reason: `moveFrom: data domain ${sd.name} is attached to data center ${name}, which this resource does not name. Set moveFrom: { dataCenter: "${name}" } to move it (every VM and template on it leaves ${name}).` });
        } else src = { c, dcId: id, dcName: name, engineProp: "engine" };
      }
    } else if (cross) {
      try {
        const from = clientFor(args.moveFrom!.engine!);
        const old = await from.storageDomains.findByName(args.storageDomain);
        if (!old) {
          if (!args.storageConnection) fs.push({ property: "moveFrom.engine", reason: `moveFrom.engine: data domain "${args.storageDomain}" is neither in engine ${args.engine.url} nor in engine ${args.moveFrom!.engine!.url}; give storageConnection to import it.` });
        } else if (old.type && old.type !== "data") {
          fs.push({ property: "storageDomain", reason: `storageDomain: "${args.storageDomain}" is a ${old.type} domain in engine ${from.url}, not a data domain` });
        } else {
          const full = (await from.storageDomains.get(old.id)) ?? old;
          storage = full.storage;
          for (const id of attachedDcIds(full)) {
            const name = (await from.datacenters.get(id))?.name ?? id;
            if (name !== args.moveFrom!.dataCenter) fs.push({ property: "moveFrom.dataCenter", reason: `moveFrom.dataCenter: data domain ${old.name} is attached to ${name} of engine ${from.url}, not to ${args.moveFrom!.dataCenter}.` });
            else src = { c: from, dcId: id, dcName: name, engineProp: "moveFrom.engine" };
          }
          sd = full;
        }
      } catch (e) {
        const f = connectionFailure(e);
        if (!f) throw e;
        fs.push({ property: `moveFrom.${f.property}`, reason: `moveFrom.${f.reason}` });
      }
    } else if (!args.storageConnection) {
      const all = (await c.storageDomains.list()).filter((d) => d.type === "data").map((d) => d.name);
      fs.push({ property: "storageDomain", reason: `storageDomain: data domain "${args.storageDomain}" does not exist in engine ${args.engine.url}; to bring it from another engine set moveFrom.engine.${suggest(args.storageDomain, all)}` });
    }
    if (src && sd) {
      const l = await leavingWith(src.c, sd.id);
      left = l.entities;
      const refusal = await masterRefusal(src.c, { id: src.dcId, name: src.dcName }, sd);
      if (refusal) fs.push({ property: "storageDomain", reason: `storageDomain: ${refusal}` });
      if (l.running.length) {
        fs.push({ property: "storageDomain", reason: `storageDomain: VMs with disks on data domain ${sd.name} are running in ${src.dcName}: ${l.running.join(", ")}; the engine deactivates a data domain only when they are down. Shut them down first. Nothing was changed.` });
      }
      if (l.split.length && !args.allowSplitVms) {
        fs.push({
          property: "allowSplitVms",
          reason: `allowSplitVms: ${l.split.map((s) => `VM ${s.name} has disks on ${sd!.name} (${s.here.join(", ")}) and on other domains (${s.elsewhere.join(", ")})`).join("; ")}: it stays in ${src.dcName} WITHOUT the disks of ${sd.name}, which leave with the domain. Move those disks first, or set allowSplitVms: true to accept it.`,
        });
      }
      if (args.entities) {
        const extra = l.entities.filter((e) => !args.entities!.includes(e.name));
        if (extra.length) {
          fs.push({
            property: "entities",
            reason: `entities: moving data domain ${sd.name} also takes ${extra.map((e) => `${e.kind} ${e.name}`).join(", ")} out of ${src.dcName} (disks on the domain${l.thinOfLeaving.length ? `, or thin VMs of a template there: ${l.thinOfLeaving.join(", ")}` : ""}); add ${extra.length > 1 ? "them" : "it"} to entities, or move ${extra.length > 1 ? "their" : "its"} disks to another domain first.`,
          });
        }
      }
      leaving = [
        `leaves ${src.dcName}${src.c !== c ? ` of ${src.c.url}` : ""} with ${sd.name}: ${l.entities.length} VMs/templates`,
        ...l.entities.map((e) => `${e.kind} ${e.name}${e.cluster ? ` (cluster ${e.cluster})` : ""}`),
        ...l.split.map((s) => `VM ${s.name} stays, losing disks ${s.here.join(", ")}`),
      ].map((x) => (x.length > MAX_LINE ? x.slice(0, MAX_LINE - 1) + "…" : x));
      for (const line of leaving) progress.info(line);
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  const onDestroy = args.returnOnDelete === false
    ? [`leaves data domain ${args.storageDomain} and its VMs in ${args.dataCenter} (returnOnDelete: false)`]
    : args.moveFrom
      ? [`returns data domain ${args.storageDomain} to ${args.moveFrom.dataCenter} and registers there again`, "what left with it; refused while it holds VMs that did not arrive with it"]
      : [`undoes this attachment only (detaches ${args.storageDomain} unless it was attached to ${args.dataCenter} before)`];
  return { inputs: { ...news, leaving, onDestroy, __left: left, __storage: storage }, failures: [...failures, ...fs] };
}
