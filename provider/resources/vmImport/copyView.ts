/** Where VmImport's `check` reads the copy to import: on the export domain, where the domain is now, or the source itself. */
import type { OvirtClient, StorageDomain } from "../../client";
import { BLANK_TEMPLATE_ID } from "../../client/types";
import { cachedRead, clientFor } from "../common";
import { exportContents } from "../../operations/reads";
import { Entity, TemplateLookup, domainLookup } from "./target";
import { VmImportArgs } from "./args";

/** Where `check` read the copy to import (a preview may run before the export, and before the domain's move). */
export interface CopyView {
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

/** The engine the copy comes from (the source engine across engines, else the target), and what the lookups share. */
interface SourceSide {
  sc: OvirtClient;
  skey: string;
  srcEngine: VmImportArgs["engine"];
  nameOf: (id: string) => Promise<string | undefined>;
  exported: string[];
  /** the preview line's head when the domain is on its way from another engine */
  arrives?: string;
}

/**
 * The copy `check` validates against: on the export domain in the target engine; else, when this stack brings the
 * domain (`expectExportDomain`), on the domain where it is now (the source engine, before a cross-engine move); else
 * the source VM/template in `expectExportDomain.dataCenter` (the copy is not made yet: the export is planned too).
 */
export async function copyView(c: OvirtClient, key: string, args: VmImportArgs, exportSd: StorageDomain | undefined, otherEngine: boolean): Promise<CopyView> {
  const exp = args.expectExportDomain;
  // the engine cannot list a domain attached nowhere or not active: unknown contents, said in the preview line
  let unreadable: string | undefined;
  if (exportSd) {
    const onDomain = await copyOnDomain(c, key, args, exportSd);
    if (onDomain.view) return onDomain.view;
    unreadable = onDomain.unreadable;
  }
  const srcEngine = otherEngine ? exp!.engine! : args.engine;
  const sc = otherEngine ? clientFor(srcEngine) : c;
  const side: SourceSide = {
    sc,
    skey: otherEngine ? `${srcEngine.url}|${srcEngine.username}` : key,
    srcEngine,
    nameOf: async (id: string) => (await sc.templates.get(id).catch(() => undefined))?.name,
    exported: exp!.templates ?? [],
    arrives: otherEngine && !exportSd
      ? `export domain ${args.exportDomain} is not in engine ${args.engine.url} yet: this stack brings it from data center ${exp!.dataCenter} of engine ${srcEngine.url}`
      : undefined,
  };
  let srcSd: StorageDomain | undefined;
  if (otherEngine && !exportSd) {
    const there = await copyWhereDomainIsNow(args, side);
    if (there.view) return there.view;
    srcSd = there.srcSd;
    if (srcSd) unreadable = there.unreadable;
  }
  return sourceAsCopy(c, args, side, exportSd, srcSd, otherEngine, unreadable);
}

/** The copy on the export domain in the target engine: a view when found (or when nothing else can be looked at). */
async function copyOnDomain(c: OvirtClient, key: string, args: VmImportArgs, exportSd: StorageDomain): Promise<{ view?: CopyView; unreadable?: string }> {
  const contents = await exportContents<Entity>(c, key, args.kind, exportSd);
  const listing = contents.items;
  const unreadable = contents.unreadable;
  const copy = listing.find((x) => x.name === args.name);
  if (copy || !args.expectExportDomain) {
    const note = unreadable ? `${unreadable}: the copy of ${args.name} is looked for, and checked (conflicts, architecture, template), when the import runs` : undefined;
    return { view: { copy, fromSource: false, listing, look: domainLookup(c, exportSd.id, args), exportSdId: exportSd.id, note }, unreadable };
  }
  return { unreadable };
}

/** Before a cross-engine move: the domain and its listing in the source engine; a view when the copy is there. */
async function copyWhereDomainIsNow(args: VmImportArgs, side: SourceSide): Promise<{ view?: CopyView; srcSd?: StorageDomain; unreadable?: string }> {
  const { sc, skey, nameOf, exported, arrives } = side;
  const srcSds = await cachedRead(`${skey}|sds`, 10_000, () => sc.storageDomains.list());
  const srcSd = srcSds.find((d) => d.name === args.exportDomain && (!d.type || d.type === "export"));
  if (!srcSd) return {};
  const sid = srcSd.id;
  const srcContents = await exportContents<Entity>(sc, skey, args.kind, srcSd);
  const srcListing = srcContents.items;
  const copy = srcListing.find((x) => x.name === args.name);
  const look: TemplateLookup = { onDomain: (id) => sc.exportTemplates.get(sid, id).catch(() => undefined), nameOf, exported };
  if (copy) {
    return {
      srcSd,
      unreadable: srcContents.unreadable,
      view: {
        copy,
        fromSource: false,
        listing: srcListing,
        look,
        exportSdId: sid,
        note: `${arrives}; checked against the copy of ${args.name} on it there (id ${copy.id}). Checked when it arrives: the domain's status in the target data center and the copy's disks`,
      },
    };
  }
  return { srcSd, unreadable: srcContents.unreadable };
}

/** The copy is not made yet: the source in the data center the domain comes from stands in for it. */
async function sourceAsCopy(
  c: OvirtClient, args: VmImportArgs, side: SourceSide, exportSd: StorageDomain | undefined, srcSd: StorageDomain | undefined, otherEngine: boolean, unreadable: string | undefined,
): Promise<CopyView> {
  const exp = args.expectExportDomain;
  const { sc, skey, srcEngine, nameOf, exported, arrives } = side;
  const what = args.kind === "vm" ? "VM" : "template";
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
