/** VmImport's `check` (preview): arguments, where the copy is read (`copyView`), the target, conflicts, templates, MACs, permissions; reads only. */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Cluster, StorageDomain } from "../../client";
import { BLANK_TEMPLATE_ID } from "../../client/types";
import { CheckFailure, PROGRESS_URN_KEY, cachedRead, clientFor, connectionFailure, jsonEqual, sameEngine, sameEngineProbe, checkConnectionChange, suggest, userInputs, validate } from "../common";
import { progressFor } from "../../progress";
import { checkPermissions } from "../../operations/permissions";
import { mixedArchitectures, unknownCpuProfile } from "../../operations/rules";
import { adoptionNote, createdBy } from "../ownership";
import { previewMacConflict } from "./macConflicts";
import { exportContents } from "../../operations/reads";
import { Entity, TemplateLookup, allocationCollapses, importCorrelationId, allocationIndex, dcOfCluster, domainLookup, targetName, templateAllocationFailures, templateProblem, wrongDataCenter } from "./target";
import { CLONE_NOTE, COLLAPSE_IMPLIED_KEY, VmImportArgs } from "./args";

/** Where `check` read the copy to import (a preview may run before the export, and before the domain's move). */
interface CopyView {
  /** the copy on the domain, or (`fromSource`) the source itself when the copy is not made yet */
  copy?: Entity;
  fromSource: boolean;
  /** the domain's listing, or the sources of the source data center: the batch's architectures */
  listing: Entity[];
  look: TemplateLookup;
  /** the id of the export domain (the same in every engine: the domain's own UUID) */
  exportSdId?: string;
  /** what could not be read yet, for the preview line */
  note?: string;
}

/**
 * The copy `check` validates against: on the export domain in the target engine; else, when this stack brings the
 * domain (`expectExportDomain`), on the domain where it is now (the source engine, before a cross-engine move); else
 * the source VM/template in `expectExportDomain.dataCenter` (the copy is not made yet: the export is planned too).
 */
async function copyView(c: OvirtClient, key: string, args: VmImportArgs, exportSd: StorageDomain | undefined, otherEngine: boolean): Promise<CopyView> {
  const exp = args.expectExportDomain;
  let listing: Entity[] = [];
  // the engine cannot list a domain attached nowhere or not active: unknown contents, said in the preview line
  let unreadable: string | undefined;
  if (exportSd) {
    const contents = await exportContents<Entity>(c, key, args.kind, exportSd);
    listing = contents.items;
    unreadable = contents.unreadable;
    const copy = listing.find((x) => x.name === args.name);
    if (copy || !exp) {
      const note = unreadable ? `${unreadable}: the copy of ${args.name} is looked for, and checked (conflicts, architecture, template), when the import runs` : undefined;
      return { copy, fromSource: false, listing, look: domainLookup(c, exportSd.id, args), exportSdId: exportSd.id, note };
    }
  }
  const what = args.kind === "vm" ? "VM" : "template";
  const srcEngine = otherEngine ? exp!.engine! : args.engine;
  const sc = otherEngine ? clientFor(srcEngine) : c;
  const skey = otherEngine ? `${srcEngine.url}|${srcEngine.username}` : key;
  const nameOf = async (id: string) => (await sc.templates.get(id).catch(() => undefined))?.name;
  const exported = exp!.templates ?? [];
  const arrives = otherEngine && !exportSd
    ? `export domain ${args.exportDomain} is not in engine ${args.engine.url} yet: this stack brings it from data center ${exp!.dataCenter} of engine ${srcEngine.url}`
    : undefined;
  let srcSd: StorageDomain | undefined;
  if (otherEngine && !exportSd) {
    // before the move: the domain and its listing in the source engine
    const srcSds = await cachedRead(`${skey}|sds`, 10_000, () => sc.storageDomains.list());
    srcSd = srcSds.find((d) => d.name === args.exportDomain && (!d.type || d.type === "export"));
    if (srcSd) {
      const sid = srcSd.id;
      const srcContents = await exportContents<Entity>(sc, skey, args.kind, srcSd);
      const srcListing = srcContents.items;
      unreadable = srcContents.unreadable;
      const copy = srcListing.find((x) => x.name === args.name);
      const look: TemplateLookup = { onDomain: (id) => sc.exportTemplates.get(sid, id).catch(() => undefined), nameOf, exported };
      if (copy) {
        return {
          copy,
          fromSource: false,
          listing: srcListing,
          look,
          exportSdId: sid,
          note: `${arrives}; checked against the copy of ${args.name} on it there (id ${copy.id}). Checked when it arrives: the domain's status in the target data center and the copy's disks`,
        };
      }
    }
  }
  // the copy is not made yet: the source in the data center the domain comes from
  const sdId = exportSd?.id ?? srcSd?.id;
  const look: TemplateLookup = sdId
    ? { onDomain: (id) => (exportSd ? c : sc).exportTemplates.get(sdId, id).catch(() => undefined), nameOf, exported }
    : { onDomain: async () => undefined, nameOf, exported };
  const [all, clusters, dcs] = await Promise.all([
    args.kind === "vm" ? cachedRead(`${skey}|vms`, 10_000, () => sc.vms.list()) : cachedRead(`${skey}|templates`, 10_000, () => sc.templates.list()),
    cachedRead(`${skey}|clusters`, 10_000, () => sc.clusters.list()),
    cachedRead(`${skey}|dcs`, 10_000, () => sc.datacenters.list()),
  ]);
  const dc = dcs.find((d) => d.name === exp!.dataCenter);
  const sources = (all as Entity[]).filter((e) => !!dc && clusters.find((cl) => cl.id === e.cluster?.id)?.data_center?.id === dc.id);
  const source = sources.find((e) => e.name === args.name);
  const unattached = !!exportSd && (exportSd.data_centers ?? []).length === 0 && !exportSd.data_center;
  const head =
    arrives ??
    (unattached
      ? `export domain ${args.exportDomain} is in engine ${args.engine.url} but attached to no data center yet (on its way to the target): its copies cannot be listed`
      : unreadable
        ? `${unreadable} (the copy of ${args.name} may be on it or not exported yet)`
        : `the copy of ${args.name} is not on export domain ${args.exportDomain} yet`);
  const domainGone = otherEngine && !exportSd && !srcSd ? ` (the domain is in neither engine right now: on its way)` : "";
  if (!source) {
    return {
      fromSource: true,
      listing: sources,
      look,
      exportSdId: sdId,
      note: `${head}${domainGone}; there is no ${what} ${args.name} in data center ${exp!.dataCenter} of engine ${srcEngine.url} to check it against (the export's preview says why). Checked at import time: the copy, its disks, conflicts`,
    };
  }
  // a flat export (discardSnapshots) drops the template link
  const copy = exp!.discardSnapshots && args.kind === "vm" ? ({ ...source, template: { id: BLANK_TEMPLATE_ID } } as Entity) : source;
  return {
    copy,
    fromSource: true,
    listing: sources,
    look,
    exportSdId: sdId,
    note:
      `${head}${domainGone}; ${unattached ? "" : "the copy is not made yet: "}checked against the source ${what} ${args.name} (id ${source.id}) in data center ${exp!.dataCenter}. ` +
      `Checked when it is there: ${arrives ? "the domain's status in the target data center, " : ""}the copy's disks`,
  };
}

export async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(VmImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  const fs: CheckFailure[] = [];
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  // collapseSnapshots turned on by an earlier check (a clone): the user's own value was false
  if (prev && olds[COLLAPSE_IMPLIED_KEY] === true) prev.collapseSnapshots = false;
  const inPlace = {
    permissions: undefined,
    cpuProfile: undefined,
    engine: undefined,
    adopt: undefined,
    keepOnDelete: undefined,
    timeoutMinutes: undefined,
    // what the stack does before the import: read by the preview only, never a change of the import
    expectExportDomain: undefined,
  };
  const unchanged =
    prev && jsonEqual({ ...prev, ...inPlace }, { ...userInputs(news), ...inPlace }) && (await sameEngineProbe(prev.engine, userInputs(news).engine));
  if (hasUnknowns || unchanged) {
    // what the engine would ignore (known values only)
    if (hasUnknowns) fs.push(...templateAllocationFailures(args));
    // only the in-place fields (and the connection) can have changed: validate those
    if (!hasUnknowns && prev) {
      await checkConnectionChange(prev.engine, args.engine, fs);
      if (fs.length === 0) await checkPermissionsAndProfile(args, fs);
    }
    return { inputs: news, failures: [...failures, ...fs] };
  }
  const urn = news[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `import ${args.name}`);
  const label = `${args.kind === "vm" ? "VM" : "template"} ${args.name}`;
  let implied = false;
  // what the engine would ignore is refused before anything is read
  fs.push(...templateAllocationFailures(args));
  try {
    const c = clientFor(args.engine);
    const key = `${args.engine.url}|${args.engine.username}`;
    const clusters = await cachedRead(`${key}|clusters`, 10_000, () => c.clusters.list());
    const cluster = clusters.find((x) => x.name === args.cluster);
    const sds = await cachedRead(`${key}|sds`, 10_000, () => c.storageDomains.list());
    if (!cluster) {
      fs.push({ property: "cluster", reason: `cluster: cluster "${args.cluster}" does not exist in engine ${args.engine.url}.${suggest(args.cluster, clusters.map((x) => x.name))}` });
    }
    const dcId = cluster?.data_center?.id;
    const checkSd = async (name: string, property: string) => {
      const sd = sds.find((d) => d.name === name);
      if (!sd) {
        fs.push({ property, reason: `${property}: storage domain "${name}" does not exist in engine ${args.engine.url}.${suggest(name, sds.filter((d) => d.type === "data").map((d) => d.name))}` });
        return;
      }
      if (sd.type && sd.type !== "data") {
        fs.push({ property, reason: `${property}: "${name}" is a ${sd.type} domain; imports go to a data domain` });
        return;
      }
      if (dcId && cluster) {
        const attached = await cachedRead(`${key}|att|${dcId}`, 10_000, () => c.attachedStorageDomains.list(dcId));
        if (!attached.some((d) => d.id === sd.id)) {
          const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
          const f = wrongDataCenter(property, sd, cluster, dcId, dcs, attached.filter((d) => d.type === "data").map((d) => d.name), await originDc());
          // one failure per field (the main storage domain and a disk's may both point at the other data center)
          if (!fs.some((x) => x.property === f.property)) fs.push(f);
        }
      }
    };
    const exp = args.expectExportDomain;
    const otherEngine = !!exp?.engine && !sameEngine(exp.engine, args.engine);
    const exportSd = sds.find((d) => d.name === args.exportDomain);
    /**
     * The data center (of this engine) the VM comes from, when it can be told: the one this stack exports from
     * (expectExportDomain), else the data center of the copy's source (same id in this engine), else the one the
     * export domain is attached to now (a preview runs before the domain moves). Undefined across engines.
     */
    const originDc = async (): Promise<string | undefined> => {
      if (otherEngine) return undefined;
      const dcs = await cachedRead(`${key}|dcs`, 10_000, () => c.datacenters.list());
      if (exp) return dcs.find((d) => d.name === exp.dataCenter)?.id;
      if (!exportSd || (exportSd.type && exportSd.type !== "export")) return undefined;
      const listing = (await exportContents<Entity>(c, key, args.kind, exportSd)).items;
      const copy = listing.find((x) => x.name === args.name);
      if (copy) {
        const all: Entity[] = args.kind === "vm" ? await cachedRead(`${key}|vms`, 10_000, () => c.vms.list()) : await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
        const src = all.find((e) => e.id === copy.id);
        const srcDc = src?.cluster?.id ? clusters.find((cl) => cl.id === src.cluster!.id)?.data_center?.id : undefined;
        if (srcDc) return srcDc;
      }
      return exportSd.data_centers?.[0]?.id ?? exportSd.data_center?.id;
    };
    await checkSd(args.storageDomain, "storageDomain");
    for (const [i, d] of (args.disks ?? []).entries()) if (d.storageDomain) await checkSd(d.storageDomain, `disks[${i}].storageDomain`);
    if (!exportSd) {
      if (!otherEngine) {
        fs.push({
          property: "exportDomain",
          reason:
            `exportDomain: export domain "${args.exportDomain}" does not exist in engine ${args.engine.url}.${suggest(args.exportDomain, sds.filter((d) => d.type === "export").map((d) => d.name))}` +
            ` If this stack brings it from another engine, set expectExportDomain: { dataCenter, engine } (Migration does).`,
        });
      }
    } else if (exportSd.type && exportSd.type !== "export") {
      fs.push({ property: "exportDomain", reason: `exportDomain: "${args.exportDomain}" is a ${exportSd.type} domain, not an export domain` });
    }
    await checkPermissionsAndProfile(args, fs, cluster);
    // the copy: on the domain already, or where the domain is now, or (not exported yet) the source
    if ((!exportSd ? otherEngine : exportSd.type === "export" || !exportSd.type) && cluster && dcId) {
      let view: CopyView;
      try {
        view = await copyView(c, key, args, exportSd, otherEngine);
      } catch (e) {
        const f = connectionFailure(e);
        if (!f || !otherEngine) throw e;
        // the source engine cannot be read: name the field that holds its connection
        fs.push({ property: `expectExportDomain.${f.property}`, reason: `expectExportDomain.${f.reason}` });
        return { inputs: news, failures: [...failures, ...fs] };
      }
      const copy = view.copy;
      if (view.note) progress.info(view.note);
      if (copy) {
        const arch = copy.cpu?.architecture;
        if (arch && arch !== "undefined" && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
          fs.push({ property: "cluster", reason: `cluster: ${args.name} is ${arch} but cluster ${cluster.name} is ${cluster.cpu.architecture}; choose a ${arch} cluster` });
        }
        const vmsOrTs = args.kind === "vm" ? await cachedRead(`${key}|vms`, 10_000, () => c.vms.list()) : await cachedRead(`${key}|templates`, 10_000, () => c.templates.list());
        const sameId = vmsOrTs.find((v) => v.id === copy.id);
        const cache = new Map<string, string | undefined>();
        for (const cl of clusters) cache.set(cl.id, cl.data_center?.id);
        const sameIdInTarget = !!sameId && (await dcOfCluster(c, sameId.cluster?.id, cache)) === dcId;
        const sameName = vmsOrTs.find(
          (v) => v.name === args.name && v.id !== copy.id && cache.get(v.cluster?.id ?? "") === dcId,
        );
        // the same id in the target data center is ours only when this resource's own import made it (a crash
        // before the state was written); otherwise it is someone else's VM — e.g. the source itself, when the
        // target cluster is in the source's data center
        const oursById =
          sameIdInTarget && !!view.exportSdId && (await createdBy(c, [importCorrelationId(urn, view.exportSdId, copy.id, args.name, cluster.id)], sameId!.id));
        const adopted = args.adopt && !oursById ? (sameIdInTarget ? sameId : sameName) : undefined;
        if (adopted) {
          progress.info(`${adoptionNote(args.kind === "vm" ? "VM" : "template", adopted.name, adopted.id)} (adopt: true); nothing is imported`);
        }
        const conflict = !adopted && ((!!sameId && !oursById) || !!sameName);
        // a plain import keeps the copy's MACs: the target cluster's MAC pool must not hold them (macConflicts.ts);
        // readable at preview from the source VM in the source engine (a copy's NICs are not in the API). A MAC
        // conflict is a conflict: onConflict "clone" imports a clone (new MACs), else the preview fails
        const macConflict =
          args.kind === "vm" && !args.clone && !conflict && !adopted && !oursById
            ? await previewMacConflict({
                c, key, cluster, vmName: args.name, copyId: copy.id,
                source: otherEngine ? { client: clientFor(exp!.engine!), url: exp!.engine!.url } : undefined,
              })
            : undefined;
        if (macConflict && args.onConflict !== "clone") fs.push(macConflict);
        const clone = args.clone || ((conflict || !!macConflict) && args.onConflict === "clone");
        const skip = !args.clone && conflict && args.onConflict === "skip";
        const allocCollapse = !args.collapseSnapshots && !(clone && args.kind === "vm") && allocationCollapses(args);
        const collapse = args.collapseSnapshots || (clone && args.kind === "vm") || allocCollapse;
        if (allocCollapse && !skip && !adopted && !oursById) {
          const i = allocationIndex(args);
          progress.info(
            `${label}: collapsed on import (snapshots and template chain, if any, merged into one volume per disk): disks[${i}].allocation is applied only to a ` +
              `collapsed copy (the engine copies a chain as it is and ignores allocation). Remove allocation to keep the chain`,
          );
          implied = true;
        }
        if (clone && !adopted && !oursById) {
          // say what a clone means, once per import (the same engine: the source keeps its id, ids are unique)
          const nameTaken = !!sameName || (sameIdInTarget && sameId!.name === args.name);
          const as = targetName(args, true, nameTaken);
          const why = args.clone
            ? "clone: true"
            : sameId && !sameIdInTarget
              ? `${label} (id ${sameId.id}) keeps that id in engine ${args.engine.url}, and ids are unique per engine`
              : macConflict
                ? `its MAC addresses are in use in the MAC pool of cluster ${cluster.name}, and onConflict is "clone"`
              : `${sameName ? `the name ${args.name}` : `the id ${copy.id}`} is taken in the target data center`;
          progress.info(
            args.kind === "vm"
              ? `${label}: ${CLONE_NOTE} (${why}); it arrives as ${as}`
              : `${label}: imported as a clone: new id (${why}); it arrives as ${as}`,
          );
          if (args.kind === "vm" && !args.collapseSnapshots) implied = true;
        }
        if (!skip && !adopted && !oursById) {
          // the copy's disks, when a disk entry places one (the others then go to storageDomain)
          const copyDisks =
            !collapse && !view.fromSource && view.exportSdId && exportSd && (args.disks ?? []).some((d) => d.storageDomain)
              ? await c.exportContent(args.kind).disks(view.exportSdId, copy.id).catch(() => undefined)
              : undefined;
          const tp = await templateProblem(c, args, copy, view.look, dcId, collapse, copyDisks);
          if (tp) fs.push(tp);
        }
        if (!args.clone && args.onConflict === "fail" && conflict) {
          const other = (sameName ?? sameId)!;
          const otherDc = other.cluster?.id ? cache.get(other.cluster.id) : undefined;
          const where = otherDc === dcId ? "in the target data center" : `in engine ${args.engine.url} (same id${otherDc ? `, data center ${otherDc}` : ""})`;
          fs.push({
            property: "onConflict",
            reason:
              `onConflict: ${args.kind} ${args.name} already exists ${where}: ${other.name} (id ${other.id}), not created by this resource` +
              `${sameIdInTarget && !sameName ? " — it is the source itself: is cluster right? (the target cluster is in the source's data center)" : ""}. ` +
              `Set onConflict: "clone" (new id and MACs; newName or cloneSuffix for a new name), "skip" (leave it alone), or adopt: true (manage it; kept on destroy).`,
          });
        }
      }
      if (args.batch) {
        if (!args.batch.members.includes(args.name)) fs.push({ property: "batch.members", reason: `batch.members: must include this VM (${args.name})` });
        const archs = args.batch.members
          .map((m) => view.listing.find((x) => x.name === m))
          .filter((x): x is Entity => !!x)
          .map((x) => ({ name: x.name, arch: x.cpu?.architecture }));
        const mixed = mixedArchitectures(archs);
        if (mixed) {
          fs.push({
            property: "batch",
            reason: `batch: batch "${args.batch.id}" mixes CPU architectures: ${mixed}. One import batch must share one architecture; split it into one batch per architecture.`,
          });
        }
      }
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  // the preview shows what will happen: a clone's snapshots are collapsed (create decides again: COLLAPSE_IMPLIED_KEY)
  const inputs = implied ? { ...news, collapseSnapshots: true, [COLLAPSE_IMPLIED_KEY]: true } : news;
  return { inputs, failures: [...failures, ...fs] };
}

async function checkPermissionsAndProfile(args: VmImportArgs, fs: CheckFailure[], cluster?: Cluster): Promise<void> {
  const c = clientFor(args.engine);
  const key = `${args.engine.url}|${args.engine.username}`;
  try {
    await checkPermissions(c, key, args.permissions, fs);
    if (args.cpuProfile) {
      const cl = cluster ?? (await c.clusters.findByName(args.cluster));
      if (cl) {
        const profiles = await c.clusters.cpuProfiles(cl.id);
        if (!profiles.some((p) => p.name === args.cpuProfile)) {
          fs.push({ property: "cpuProfile", reason: unknownCpuProfile(cl.name, args.cpuProfile, profiles) });
        }
      }
    }
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
}
