/** What a VmImport records in the state (its outputs), built from the imported entity. */
import { Ownership } from "../ownership";
import { followedDisks } from "../../operations/reads";
import { withoutDefaults } from "../common";
import { VmImportArgs, defaults } from "./args";
import { Entity, Resolved } from "./target";

export interface ImportedDisk {
  id: string;
  alias?: string;
  sizeBytes: number;
  storageDomainId?: string;
  sparse?: boolean;
  format?: string;
}

/**
 * Args that only the preview reads (check's view of the copy the stack brings): never recorded in the outputs. A
 * VmImport's state is rewritten by the CLI at every checkpoint of a run (twice per resource of a `pulumi up`), and
 * `expectExportDomain` is a secret there when it names the source engine; no diff, update or delete reads it from the
 * state (`IN_PLACE` in check.ts, `REPLACE_KEYS` / `UPDATE_KEYS` in args.ts).
 */
export const PREVIEW_ONLY_ARGS = ["expectExportDomain"] as const;

/**
 * The members not recorded when they hold these values (common.ts `withoutDefaults`): arguments at their schema
 * default and empty grant lists. `kind` stays (a delete of an old state reads `kind ?? "vm"`, but it says what the
 * resource is).
 */
const RECORDED_DEFAULTS: Record<string, unknown> = (() => {
  const { kind: _kind, ...rest } = defaults;
  return { ...rest, permissionIds: [], ownPermissionIds: [] };
})();

/** The outputs as recorded: without the preview-only args, the arguments at their default and empty grant lists. */
export function recorded<T extends object>(outs: T): Omit<T, (typeof PREVIEW_ONLY_ARGS)[number]> {
  const o: any = withoutDefaults(outs, RECORDED_DEFAULTS);
  for (const k of PREVIEW_ONLY_ARGS) delete o[k];
  return o;
}

/** The arguments `recorded` may leave out (at their default): optional in the state, read with their default. */
type DefaultedArgs = "collapseSnapshots" | "onConflict" | "clone" | "keepOnDelete" | "adopt";

export interface VmImportOutputs extends Omit<VmImportArgs, (typeof PREVIEW_ONLY_ARGS)[number] | DefaultedArgs>, Partial<Pick<VmImportArgs, DefaultedArgs>> {
  vmId: string;
  vmName: string;
  sourceId: string;
  exportDomainId: string;
  clusterId: string;
  dataCenterId: string;
  storageDomainId: string;
  importedDisks: ImportedDisk[];
  architecture?: string;
  /** false when onConflict "skip" kept an existing VM or `adopt` took one over (then delete leaves it alone) */
  imported: boolean;
  /** created: this resource imported it (proven by its correlation id); adopted / skipped: never stopped or removed */
  ownership: Ownership;
  cloned: boolean;
  collapsed: boolean;
  /** every grant matching `permissions` on the entity (absent when none) */
  permissionIds?: string[];
  /** the grants this resource added: the only ones it ever removes */
  ownPermissionIds?: string[];
  cpuProfileId?: string;
}

export async function outputsFor(r: Resolved, a: VmImportArgs, e: Entity, flags: { imported: boolean; ownership: Ownership; cloned: boolean; collapsed: boolean; permissionIds: string[]; ownPermissionIds?: string[]; cpuProfileId?: string }): Promise<VmImportOutputs> {
  const disks = (a.kind === "vm" ? followedDisks(e) : undefined) ?? (a.kind === "vm" ? await r.c.vms.disks(e.id) : await r.c.templates.disks(e.id));
  return {
    ...a,
    vmId: e.id,
    vmName: e.name,
    sourceId: r.copy.id,
    exportDomainId: r.exportSd.id,
    clusterId: r.cluster.id,
    dataCenterId: r.dcId,
    storageDomainId: r.sd.id,
    importedDisks: disks.map((d) => ({
      id: d.id,
      alias: d.alias ?? d.name,
      sizeBytes: d.provisioned_size ?? 0,
      storageDomainId: d.storage_domains?.[0]?.id ?? d.storage_domain?.id,
      sparse: d.sparse,
      format: d.format,
    })),
    architecture: e.cpu?.architecture ?? r.copy.cpu?.architecture ?? r.cluster.cpu?.architecture,
    ...flags,
    // what happened, not only what was asked: a clone is always collapsed
    collapseSnapshots: a.kind === "vm" ? a.collapseSnapshots || flags.collapsed : a.collapseSnapshots,
  };
}
