/** ExportDomainAttachment's arguments: the zod schema `check` validates and the SDK's `ExportDomainAttachmentArgs` agrees with (test/sdk/argsAgree.test.ts). */
import { z } from "zod";
import { EngineArgs, zName } from "../common";

const Other = z.object({
  dataCenter: zName("dataCenter"),
  engine: EngineArgs.optional(),
});

export const StorageConnectionArgs = z.object({
  type: z.enum(["nfs", "posixfs", "glusterfs", "localfs"]).default("nfs"),
  address: z.string().optional(),
  path: z.string().min(1, "storageConnection.path must not be empty"),
  nfsVersion: z.string().optional(),
  mountOptions: z.string().optional(),
});

export const ExportDomainAttachmentArgs = z.object({
  engine: EngineArgs,
  exportDomain: zName("exportDomain"),
  dataCenter: zName("dataCenter"),
  takeOver: z.boolean().optional(),
  moveFrom: Other.optional(),
  handOffTo: Other.optional(),
  host: zName("host").optional(),
  storageConnection: StorageConnectionArgs.optional(),
  detachOnDelete: z.boolean().optional(),
  timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
});
export type ExportDomainAttachmentArgs = z.infer<typeof ExportDomainAttachmentArgs>;

export function deadlineOf(a: ExportDomainAttachmentArgs): number {
  return Date.now() + (a.timeoutMinutes ?? 30) * 60_000;
}
