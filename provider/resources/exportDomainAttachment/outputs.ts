/** What an ExportDomainAttachment records in the state: where the domain is attached, and where it was before. */
import { EngineArgs } from "../common";
import { ExportDomainAttachmentArgs } from "./args";

/**
 * Which engine, without its credentials: `takenFrom` is not a secret output, so it never holds a password. The
 * credentials to give the domain back come from `moveFrom.engine` / `handOffTo.engine` (secret outputs).
 */
export interface EngineRef {
  url: string;
  id?: string;
}

export const refOf = (e: EngineArgs): EngineRef => (e.id ? { url: e.url, id: e.id } : { url: e.url });

export interface ExportDomainAttachmentOutputs extends ExportDomainAttachmentArgs {
  exportDomainId: string;
  dataCenterId: string;
  status: string;
  /** the domain was already attached to `dataCenter` when this resource was created: destroy leaves it attached */
  foundAttached?: boolean;
  /**
   * Where this resource took the domain from at create (detached from that data center, or across engines removed
   * from `engine` without formatting): destroy returns it there. Absent: it was not attached anywhere (destroy
   * detaches it) or found in place (`foundAttached`).
   */
  takenFrom?: { dataCenter: string; engine?: EngineRef };
  storage?: { type?: string; address?: string; path?: string };
}
