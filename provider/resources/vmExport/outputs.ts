/** What a VmExport records in the state (its outputs). */
import { Ownership } from "../ownership";
import { VmExportArgs } from "./args";

export interface ExportedDisk {
  id: string;
  alias?: string;
  provisionedBytes: number;
  actualBytes: number;
}

export interface VmExportOutputs extends VmExportArgs {
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
  /** the copy was there and taken as it is (adopt: true): never overwritten or removed */
  adopted: boolean;
  /** created: this resource's export made the copy (its correlation id); adopted: kept on destroy */
  ownership: Ownership;
  /** the export shut the source VM down (shutdownIfRunning) */
  shutDownForExport?: boolean;
}
