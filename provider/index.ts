/**
 * Entry point the serialized SDK shim `require`s inside every hook: `getProvider(kind)` answers the
 * `pulumi.dynamic.ResourceProvider` of one resource kind. Modules load lazily, once per process.
 *
 * Adding a kind (e.g. V2V): export `<name>Provider` from `provider/resources/<file>.ts` and list it in KINDS.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";

export type ResourceKind = "ExportDomainAttachment" | "VmExport" | "VmImport" | "V2VImport";

const KINDS: Record<ResourceKind, { module: string; export: string }> = {
  ExportDomainAttachment: { module: "./resources/exportDomainAttachment", export: "exportDomainAttachmentProvider" },
  VmExport: { module: "./resources/vmExport", export: "vmExportProvider" },
  VmImport: { module: "./resources/vmImport", export: "vmImportProvider" },
  V2VImport: { module: "./resources/v2vImport", export: "v2vImportProvider" },
};

const cache = new Map<string, dynamic.ResourceProvider>();

export function getProvider(kind: ResourceKind | string): dynamic.ResourceProvider {
  const hit = cache.get(kind);
  if (hit) return hit;
  const entry = (KINDS as Record<string, { module: string; export: string }>)[kind];
  if (!entry) throw new Error(`unknown resource kind ${JSON.stringify(kind)}; known: ${Object.keys(KINDS).join(", ")}`);
  const mod = require(entry.module);
  const p = mod[entry.export] as dynamic.ResourceProvider | undefined;
  if (!p) throw new Error(`${entry.module} does not export ${entry.export}`);
  cache.set(kind, p);
  return p;
}

export const kinds = Object.keys(KINDS) as ResourceKind[];
