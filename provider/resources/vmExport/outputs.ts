/** What a VmExport records in the state (its outputs). */
import { Ownership } from "../ownership";
import { withoutDefaults } from "../common";
import { VmExportArgs, defaults } from "./args";

/** The members not recorded when they hold these values (common.ts `withoutDefaults`; `kind` stays: an output). */
const RECORDED_DEFAULTS: Record<string, unknown> = { ...defaults, adopted: false };

/** The outputs as recorded: arguments at their default and `adopted: false` left out. */
export function recorded<T extends object>(outs: T): T {
  return withoutDefaults(outs, RECORDED_DEFAULTS);
}

export interface ExportedDisk {
  id: string;
  alias?: string;
  provisionedBytes: number;
  actualBytes: number;
}

/** The arguments `recorded` may leave out (at their default): optional in the state, read with their default. */
type DefaultedArgs = "exclusive" | "discardSnapshots" | "shutdownIfRunning" | "shutdownTimeoutSeconds" | "keepOnDelete" | "adopt";

export interface VmExportOutputs extends Omit<VmExportArgs, DefaultedArgs>, Partial<Pick<VmExportArgs, DefaultedArgs>> {
  sourceId: string;
  exportDomainId: string;
  dataCenterId: string;
  sourceFingerprint: string;
  disks: ExportedDisk[];
  diskBytes: number;
  architecture?: string;
  /** The template a thin VM still depends on in this export (not collapsed), else absent. */
  templateId?: string;
  templateName?: string;
  exportedAt: string;
  /** the copy was there and taken as it is (adopt: true): never overwritten or removed; absent when false */
  adopted?: boolean;
  /** created: this resource's export made the copy (its correlation id); adopted: kept on destroy */
  ownership: Ownership;
  /** the export shut the source VM down (shutdownIfRunning) */
  shutDownForExport?: boolean;
}
