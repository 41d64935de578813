/** VmExport's `check` (preview): arguments, the source, the export domain, a copy in the way, the batch's architectures; reads only. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { CheckFailure, PROGRESS_URN_KEY, cachedRead, clientFor, connectionFailure, jsonEqual, sameEngineProbe, checkConnectionChange, suggest, userInputs, validate } from "../common";
import { progressFor } from "../../progress";
import { batchFailures } from "../../operations/rules";
import { adoptionNote, createdBy, resourceCorrelationId } from "../ownership";
import { exportContents } from "../../operations/reads";
import { VmExportArgs, defaults } from "./args";
import { Source, baseVersions, fingerprint, foreignCopyError, pickSource } from "./source";

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmExportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  const identityChanged =
    !prev ||
    prev.name !== args.name ||
    (prev.kind ?? "vm") !== args.kind ||
    prev.exportDomain !== args.exportDomain ||
    prev.dataCenter !== args.dataCenter ||
    // the same engine by another URL (alias) is no new identity: the source stays the recorded one
    !(await sameEngineProbe(prev.engine, args.engine));
  const batchChanged = !prev || !jsonEqual(prev.batch, args.batch);
  if (!hasUnknowns && prev && !identityChanged && !batchChanged) await checkConnectionChange(prev.engine, args.engine, fs);
  // facts read below that change what destroy does: a foreign copy taken as it is, a running VM the export shuts down
  const facts: { adoptedCopy?: boolean; shutsDown?: boolean } = {};
  if (!hasUnknowns && (identityChanged || batchChanged)) {
    try {
      const c = clientFor(args.engine);
      const key = `${args.engine.url}|${args.engine.username}`;
      const sds = await cachedRead(`${key}|sds`, 10_000, () => c.storageDomains.list());
      const sd = sds.find((d) => d.name === args.exportDomain);
      if (!sd) {
        fs.push({
          property: "exportDomain",
          reason: `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}.${suggest(args.exportDomain, sds.filter((d) => d.type === "export").map((d) => d.name))}`,
        });
      } else if (sd.type && sd.type !== "export") {
        fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${sd.type} domain, not an export domain` });
      }
      // the data center of every candidate source, from cached listings (names are unique per data center only)
      const clusters = await cachedRead(`${key}|clusters`, 10_000, () => c.clusters.list());
      const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
      const dcName = (s: Source) => {
        const dcId = clusters.find((cl) => cl.id === s.cluster?.id)?.data_center?.id;
        return dcs.find((d) => d.id === dcId)?.name;
      };
      if (args.dataCenter && !dcs.some((d) => d.name === args.dataCenter)) {
        fs.push({ property: "dataCenter", reason: `dataCenter: data center "${args.dataCenter}" does not exist in engine ${args.engine.url}.${suggest(args.dataCenter, dcs.map((d) => d.name))}` });
      }
      const pick = async (all: Source[]): Promise<Source | undefined> => {
        const named = all.filter((s) => s.name === args.name);
        const { source, failure } = pickSource(args.kind, args.name, args.dataCenter, named.map((s) => ({ s, dc: dcName(s) })), args.engine.url);
        if (failure) fs.push(named.length === 0 ? { ...failure, reason: failure.reason + suggest(args.name, all.map((v) => v.name)) } : failure);
        return source;
      };
      // a copy on the domain that this resource did not make: overwritten only with exclusive, taken only with adopt
      const foreignCopy = async (src: Source) => {
        if (!sd || sd.type !== "export" || (args.exclusive && !args.adopt) || !identityChanged) return;
        const contents = await exportContents<Source>(c, key, args.kind, sd);
        if (contents.unreadable) {
          // unknown, not empty: say so (the stack may activate the domain before the export runs)
          progressFor(news[PROGRESS_URN_KEY] as string | undefined, `export ${args.name}`).info(
            `${contents.unreadable}: whether a copy of ${args.kind === "vm" ? "VM" : "template"} ${src.name} is already on it is checked when the export runs`,
          );
          return;
        }
        const listing = contents.items;
        if (!listing.some((x) => x.id === src.id)) return;
        // only when a copy is there (a re-run after a lost state, or someone else's copy): is it this resource's?
        const urn = news[PROGRESS_URN_KEY] as string | undefined;
        const { fp } = await fingerprint(c, args.kind, src);
        const cid = resourceCorrelationId(urn, "export", sd.id, src.id, fp, String(args.discardSnapshots));
        if (!(await createdBy(c, [cid], src.id))) {
          if (args.adopt) {
            facts.adoptedCopy = true;
            progressFor(urn, `export ${args.name}`).info(`${adoptionNote(`copy of ${args.kind === "vm" ? "VM" : "template"} ${src.name} on`, sd.name, src.id)} (adopt: true); nothing is exported`);
            return;
          }
          const e = foreignCopyError(`${args.kind === "vm" ? "VM" : "template"} ${src.name}`, sd.name, src.id);
          fs.push({ property: e.property, reason: e.message });
        }
      };
      if (args.kind === "vm") {
        const vms = await cachedRead(`${key}|vms`, 10_000, () => c.vms.list());
        const vm = await pick(vms);
        if (vm) await foreignCopy(vm);
        if (!vm) {
          // reported by pick
        } else if (identityChanged && vm.status && !["down", "image_locked"].includes(vm.status) && !args.shutdownIfRunning) {
          fs.push({
            property: "shutdownIfRunning",
            reason: `name: VM ${vm.name} is ${vm.status}; the engine exports only VMs that are down. Shut it down first, or set shutdownIfRunning: true.`,
          });
        } else if (identityChanged && vm.status && !["down", "image_locked", "locked"].includes(vm.status) && args.shutdownIfRunning) {
          facts.shutsDown = true;
        }
        if (args.batch) {
          const clusterArch = (id?: string) => clusters.find((cl) => cl.id === id)?.cpu?.architecture;
          fs.push(...batchFailures(args.batch, args.name, vms, (v) => (v.cpu?.architecture && v.cpu.architecture !== "undefined" ? v.cpu.architecture : clusterArch(v.cluster?.id))));
        }
      } else {
        const ts = await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
        const t = await pick(baseVersions(ts.filter((x) => x.name === args.name)).concat(ts.filter((x) => x.name !== args.name)));
        if (t) await foreignCopy(t);
      }
    } catch (e) {
      const f = connectionFailure(e);
      if (f) fs.push(f);
      else throw e;
    }
  }
  // kept from the previous check while nothing it depends on changed (the facts were read when the export was new)
  const same = (k: string) => (prev?.[k] ?? defaults[k]) === ((args as any)[k] ?? defaults[k]);
  const carried =
    prev && !identityChanged && same("keepOnDelete") && same("adopt") && same("shutdownIfRunning") && Array.isArray(prev.onDestroy)
      ? (prev.onDestroy as string[])
      : undefined;
  const known = !hasUnknowns && identityChanged;
  return { inputs: { ...news, onDestroy: carried ?? onDestroyText(args, known ? facts : undefined) }, failures: [...failures, ...fs] };
}

/**
 * What destroy will do, in words, as the check-time input `onDestroy` (shown by the preview of `pulumi up` and by the
 * preview of `pulumi destroy`, which runs no provider code; see exportDomainAttachment/check.ts `onDestroyText`).
 */
export function onDestroyText(a: VmExportArgs, facts?: { adoptedCopy?: boolean; shutsDown?: boolean }): string[] {
  const label = `${a.kind === "vm" ? "VM" : "template"} ${a.name}`;
  const copy = a.keepOnDelete
    ? `keeps the copy of ${label} on ${a.exportDomain} (keepOnDelete)`
    : facts?.adoptedCopy
      ? `keeps the copy of ${label} on ${a.exportDomain} (adopted: this stack did not make it)`
      : `removes the copy of ${label} that this resource makes from ${a.exportDomain}${a.adopt ? " (a copy it adopts is kept)" : ""}`;
  if (a.kind !== "vm" || !a.shutdownIfRunning || (facts && !facts.shutsDown)) return [copy];
  return [
    copy,
    facts?.shutsDown
      ? `VM ${a.name} is running now: the export shuts it down, and destroy does not start it again`
      : `if the export shuts VM ${a.name} down (shutdownIfRunning), destroy does not start it again`,
    "(its migrated copy may be running): start it yourself when that is safe",
  ];
}
