/** VmExport's arguments: the zod schema `check` validates and the SDK's `VmExportArgs` agrees with (test/sdk/argsAgree.test.ts). */
import { z } from "zod";
import { BatchArgs, EngineArgs, zKind, zName } from "../common";

export const VmExportArgs = z
  .object({
    engine: EngineArgs,
    exportDomain: zName("exportDomain"),
    kind: zKind.default("vm"),
    name: zName("name"),
    /** Data center of the source (names are unique per data center only); required when the name is not unique in the engine. */
    dataCenter: zName("dataCenter").optional(),
    exclusive: z.boolean().default(false),
    discardSnapshots: z.boolean().default(false),
    shutdownIfRunning: z.boolean().default(false),
    /** grace for the guest's ACPI shutdown before a hard power-off (with shutdownIfRunning) */
    shutdownTimeoutSeconds: z.number().positive().max(24 * 3600).default(300),
    keepOnDelete: z.boolean().default(false),
    /** Use a copy already on the domain that this resource did not make, as it is (never overwritten, kept on destroy). */
    adopt: z.boolean().default(false),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
    batch: BatchArgs.optional(),
  })
  .refine((a) => !(a.kind === "template" && a.discardSnapshots), {
    message: "discardSnapshots: templates have no snapshots to collapse; remove discardSnapshots for kind \"template\"",
    path: ["discardSnapshots"],
  })
  .refine((a) => !(a.kind === "template" && a.shutdownIfRunning), {
    message: "shutdownIfRunning: applies to VMs only (kind \"vm\")",
    path: ["shutdownIfRunning"],
  });
export type VmExportArgs = z.infer<typeof VmExportArgs>;

export const defaults: Record<string, unknown> = { exclusive: false, discardSnapshots: false, shutdownIfRunning: false, shutdownTimeoutSeconds: 300, keepOnDelete: false, adopt: false };
