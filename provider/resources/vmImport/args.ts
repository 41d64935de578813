/** VmImport's arguments: the zod schemas `check` validates and the SDK's `VmImportArgs` agrees with (test/sdk/argsAgree.test.ts), and which changes replace. */
import { z } from "zod";
import { BatchArgs, EngineArgs, zKind, zName } from "../common";

export const DiskMappingArgs = z
  .object({
    alias: z.string().min(1).optional(),
    id: z.string().min(1).optional(),
    allocation: z.enum(["thin", "preallocated"], { error: 'allocation must be "thin" or "preallocated"' }).optional(),
    storageDomain: zName("disks[].storageDomain").optional(),
  })
  .refine((d) => !!d.alias !== !!d.id, { message: "give exactly one of alias or id for each disk" });

export const PermissionArgs = z
  .object({
    user: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    role: z.string().min(1, "role must not be empty"),
  })
  .refine((p) => !!p.user !== !!p.group, { message: "give exactly one of user or group for each permission" });
export type PermissionArgs = z.infer<typeof PermissionArgs>;

/**
 * What this stack does before the import (a cross-engine preview cannot see it yet): it brings the export domain to
 * the target from `dataCenter` (of `engine`, default the import's engine), after exporting the copy there, flat when
 * `discardSnapshots`, and the `templates` named (exported to the domain by this stack).
 */
export const ExpectExportDomainArgs = z.object({
  dataCenter: zName("expectExportDomain.dataCenter"),
  engine: EngineArgs.optional(),
  discardSnapshots: z.boolean().optional(),
  templates: z.array(zName("expectExportDomain.templates[]")).optional(),
});
export type ExpectExportDomainArgs = z.infer<typeof ExpectExportDomainArgs>;

/** Hidden input `check` sets when it turned `collapseSnapshots` on because the import will be a clone. */
export const COLLAPSE_IMPLIED_KEY = "__collapseImplied";

/** The preview line of a VM that is imported as a clone (issue 13). */
export const CLONE_NOTE = "imported as a clone: new id, new MACs, snapshots collapsed, template link dropped";

export const VmImportArgs = z
  .object({
    engine: EngineArgs,
    exportDomain: zName("exportDomain"),
    kind: zKind.default("vm"),
    name: zName("name"),
    cluster: zName("cluster"),
    storageDomain: zName("storageDomain"),
    collapseSnapshots: z.boolean().default(false),
    onConflict: z.enum(["fail", "skip", "clone"], { error: 'onConflict must be "fail", "skip" or "clone"' }).default("fail"),
    clone: z.boolean().default(false),
    newName: zName("newName").optional(),
    cloneSuffix: z.string().min(1).max(64).optional(),
    disks: z.array(DiskMappingArgs).optional(),
    cpuProfile: zName("cpuProfile").optional(),
    permissions: z.array(PermissionArgs).optional(),
    expectTemplates: z.array(zName("expectTemplates[]")).optional(),
    /**
     * Where the templates of `expectTemplates` land (their imports' data domains, by template name): a thin VM
     * imported without collapse stays linked to its template's disks, so its disks must land there too.
     */
    expectTemplateDomains: z.record(z.string(), z.array(zName("expectTemplateDomains[]"))).optional(),
    expectExportDomain: ExpectExportDomainArgs.optional(),
    batch: BatchArgs.optional(),
    /**
     * Adopt a VM/template that is already in the target data center with the copy's id or the target name (one this
     * resource did not create): it is then managed (permissions, CPU profile) but never stopped or removed.
     */
    adopt: z.boolean().default(false),
    keepOnDelete: z.boolean().default(false),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
  })
  .refine((a) => !(a.newName && !a.clone && a.onConflict !== "clone"), {
    message: 'newName: a new name is used only for a clone; set clone: true or onConflict: "clone"',
    path: ["newName"],
  })
  .refine((a) => !(a.kind === "template" && a.collapseSnapshots), {
    message: 'collapseSnapshots: applies to VMs only (kind "vm")',
    path: ["collapseSnapshots"],
  });
export type VmImportArgs = z.infer<typeof VmImportArgs>;

export const REPLACE_KEYS = ["exportDomain", "kind", "name", "cluster", "storageDomain", "collapseSnapshots", "onConflict", "clone", "newName", "cloneSuffix", "disks"];
export const UPDATE_KEYS = ["permissions", "cpuProfile", "keepOnDelete", "timeoutMinutes", "batch", "expectTemplates", "expectTemplateDomains", "engine", "adopt"];
export const defaults: Record<string, unknown> = { kind: "vm", collapseSnapshots: false, onConflict: "fail", clone: false, keepOnDelete: false, adopt: false };
