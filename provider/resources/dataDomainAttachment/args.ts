/**
 * DataDomainAttachment arguments and outputs (docs/design.md "Data-domain move").
 */
import { z } from "zod";
import { EngineArgs, zName } from "../common";

/** Where the domain sits before this resource moves it: a data center, optionally of another engine. */
export const DataDomainSource = z.object({
  dataCenter: zName("moveFrom.dataCenter"),
  engine: EngineArgs.optional(),
  /** the cluster a destroy registers the source's entities back into when their own cluster is not known */
  cluster: zName("moveFrom.cluster").optional(),
});
export type DataDomainSource = z.infer<typeof DataDomainSource>;

export const DataStorageConnection = z.object({
  type: z.enum(["nfs", "posixfs", "glusterfs", "localfs"]).default("nfs"),
  address: z.string().optional(),
  path: z.string().min(1, "storageConnection.path must not be empty"),
  nfsVersion: z.string().optional(),
  mountOptions: z.string().optional(),
});

export const DataDomainAttachmentArgs = z.object({
  engine: EngineArgs,
  /** the data storage domain that moves */
  storageDomain: zName("storageDomain"),
  /** the data center where it must end up attached and active */
  dataCenter: zName("dataCenter"),
  /** where it is now; required when it is attached to another data center (of this engine or of another one) */
  moveFrom: DataDomainSource.optional(),
  /**
   * The VMs and templates (names) the user expects to leave the source data center with the domain. When given, any
   * other entity that would leave fails the preview; when absent, the preview lists every one that leaves.
   */
  entities: z.array(zName("entities[]")).optional(),
  /**
   * A VM with disks on this domain AND on others loses the disks of this domain in the source when the domain
   * leaves (the engine keeps it with the rest): refused at preview unless true.
   */
  allowSplitVms: z.boolean().optional(),
  /** host that mounts the domain when it is imported into this engine (default: any host up in `dataCenter`) */
  host: zName("host").optional(),
  /** storage connection for the import into this engine (default: read from `moveFrom.engine`) */
  storageConnection: DataStorageConnection.optional(),
  /** destroy returns the domain to `moveFrom` and registers there what left with it (default true) */
  returnOnDelete: z.boolean().optional(),
  timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
});
export type DataDomainAttachmentArgs = z.infer<typeof DataDomainAttachmentArgs>;

/** One entity that left the source data center with the domain (recorded before the detach). */
export interface LeftEntity {
  kind: "vm" | "template";
  id: string;
  name: string;
  /** its cluster in the source (a destroy registers it back there) */
  cluster?: string;
}

export interface DataDomainAttachmentOutputs extends DataDomainAttachmentArgs {
  storageDomainId: string;
  dataCenterId: string;
  status: string;
  /** attached to `dataCenter` before this resource existed: destroy leaves it there */
  foundAttached?: boolean;
  /** the source, recorded when this resource took the domain from it (destroy returns it there) */
  takenFrom?: { dataCenter: string; engine?: { url: string; id?: string } };
  /** the entities the source engine had on the domain when it was taken (what a destroy registers back) */
  leftSource?: LeftEntity[];
  /** disk ids of everything that arrived with the domain: a VM here whose disks are all among them came with it */
  arrivedDisks?: string[];
  arrivedIds?: string[];
  storage?: { type?: string; address?: string; path?: string };
}
