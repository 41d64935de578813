/** ExportDomainAttachment's `check` (preview): arguments, data center, domain and where it is now, what destroy will do; reads only. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { CheckFailure, PROGRESS_URN_KEY, clientFor, connectionFailure, jsonEqual, sameEngine, sameEngineProbe, checkConnectionChange, suggest, userInputs, validate } from "../common";
import { progressFor } from "../../progress";
import { ExportDomainAttachmentArgs } from "./args";
import { attachedDcIds, findExportDomain, placementElsewhere } from "./storage";

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(ExportDomainAttachmentArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  const identityChanged =
    !prev || !jsonEqual(prev.dataCenter, args.dataCenter) || !jsonEqual(prev.exportDomain, args.exportDomain) || !(await sameEngineProbe(prev.engine, args.engine));
  if (!hasUnknowns && prev && !identityChanged) await checkConnectionChange(prev.engine, args.engine, fs);
  // where the domain sits now (read below for a new attachment): what destroy will do follows from it
  let placement: Placement | undefined;
  if (!hasUnknowns && identityChanged) {
    try {
      const c = clientFor(args.engine);
      const dc = await c.datacenters.findByName(args.dataCenter);
      if (!dc) {
        const all = (await c.datacenters.list()).map((d) => d.name);
        fs.push({ property: "dataCenter", reason: `dataCenter: data center "${args.dataCenter}" does not exist in engine ${args.engine.url}.${suggest(args.dataCenter, all)}` });
      }
      const sd = await c.storageDomains.findByName(args.exportDomain);
      if (sd && sd.type && sd.type !== "export") {
        fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${sd.type} domain, not an export domain` });
      } else if (!sd && args.moveFrom?.engine && !sameEngine(args.moveFrom.engine, args.engine)) {
        // the domain comes from the other engine: read it there (reads only) and show where it actually sits
        try {
          const from = clientFor(args.moveFrom.engine);
          const old = await findExportDomain(from, args.exportDomain);
          if (!old) {
            if (!args.storageConnection) {
              fs.push({
                property: "moveFrom.engine",
                reason: `moveFrom.engine: export domain "${args.exportDomain}" is neither in engine ${args.engine.url} nor in engine ${args.moveFrom.engine.url}; give storageConnection to import it.`,
              });
            }
          } else {
            const placed = await placementElsewhere(from, old, args.moveFrom.dataCenter, args.takeOver === true);
            if (placed.refusal) fs.push({ property: "moveFrom.dataCenter", reason: placed.refusal });
            else {
              progressFor(news[PROGRESS_URN_KEY], `export domain ${args.exportDomain}`).info(
                `export domain ${args.exportDomain} is ${placed.where} of engine ${args.moveFrom.engine.url}: it will be detached and removed there (content kept) and imported into ${args.engine.url}`,
              );
            }
          }
        } catch (e) {
          const f = connectionFailure(e);
          if (!f) throw e;
          fs.push({ property: `moveFrom.${f.property}`, reason: `moveFrom.${f.reason}` });
        }
      } else if (!sd && !args.moveFrom?.engine && !args.storageConnection && !(prev && !sameEngine(prev.engine, args.engine))) {
        const all = (await c.storageDomains.list()).filter((d) => d.type === "export").map((d) => d.name);
        fs.push({
          property: "exportDomain",
          reason: `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}; to bring it from another engine set moveFrom.engine or storageConnection.${suggest(args.exportDomain, all)}`,
        });
      } else if (sd && dc) {
        // attached elsewhere without permission?
        const full = (await c.storageDomains.get(sd.id)) ?? sd;
        const ids = attachedDcIds(full);
        placement = ids.includes(dc.id) ? { here: true } : ids.length === 0 ? { unattached: true } : {};
        for (const otherId of ids) {
          if (otherId === dc.id) continue;
          const other = await c.datacenters.get(otherId);
          const otherName = other?.name ?? otherId;
          placement.elsewhere = placement.elsewhere ?? otherName;
          const allowed =
            args.takeOver ||
            args.moveFrom?.dataCenter === otherName ||
            prev?.dataCenter === otherName ||
            (args.handOffTo?.dataCenter === otherName && (!args.handOffTo.engine || sameEngine(args.handOffTo.engine, args.engine)));
          if (!allowed) {
            fs.push({
              property: "takeOver",
              reason: `exportDomain: export domain ${sd.name} is attached to data center ${otherName}, which this resource does not manage. Set takeOver: true to move it to ${args.dataCenter}, or moveFrom: { dataCenter: "${otherName}" }.`,
            });
          }
        }
      }
      if (args.host) {
        const h = await c.hosts.findByName(args.host);
        if (!h) fs.push({ property: "host", reason: `host: host "${args.host}" does not exist in engine ${args.engine.url}` });
      }
    } catch (e) {
      const f = connectionFailure(e);
      if (f) fs.push(f);
      else throw e;
    }
  }
  // kept from the previous check while nothing it depends on changed (the placement was read when it was new)
  const carried = prev && !identityChanged && (prev.detachOnDelete ?? true) === (args.detachOnDelete ?? true) && Array.isArray(prev.onDestroy) ? (prev.onDestroy as string[]) : undefined;
  return { inputs: { ...news, onDestroy: carried ?? onDestroyText(args, placement) }, failures: [...failures, ...fs] };
}

interface Placement {
  /** attached to this resource's data center already */
  here?: boolean;
  /** attached nowhere */
  unattached?: boolean;
  /** attached to this other data center */
  elsewhere?: string;
}

/**
 * What destroy will do, in words, as the check-time input `onDestroy`: Pulumi shows a resource's inputs in the preview
 * of `pulumi up` and in the preview of `pulumi destroy` (`--diff`, or "details" at its prompt), which calls no
 * provider code; this is how that preview says it. Short lines: the CLI cuts a string after 150 characters. The info
 * lines of create and delete say what actually happened.
 */
export function onDestroyText(a: ExportDomainAttachmentArgs, at?: Placement): string[] {
  const d = `export domain ${a.exportDomain}`;
  if (a.detachOnDelete === false) return [`leaves ${d} where it is (detachOnDelete: false)`];
  if (at?.here) return [`leaves ${d} attached to ${a.dataCenter}, where it was before this stack`];
  if (a.moveFrom) {
    const eng = a.moveFrom.engine && !sameEngine(a.moveFrom.engine, a.engine) ? ` of engine ${a.moveFrom.engine.url}` : "";
    return [`returns ${d} to ${a.moveFrom.dataCenter}${eng}, where it is taken from,`, "so that the copies on it can be removed there"];
  }
  if (at?.elsewhere) return [`returns ${d} to ${at.elsewhere}, where it is taken from`];
  if (at?.unattached) return [`deactivates and detaches ${d} from ${a.dataCenter} (it is not attached anywhere now)`];
  return [
    `undoes this attachment only: ${d} is left attached if it was attached to ${a.dataCenter} before,`,
    "returned to the data center it was taken from, or else detached",
  ];
}
