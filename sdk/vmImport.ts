import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, resolveEngine } from "./connection";
import { OvirtResource } from "./base";
import { BatchArgs } from "./vmExport";

/** Per-disk choices of the import ("Disks" tab of the import dialog). */
export interface DiskMapping {
  /** Disk alias on the export domain (or give `id`). */
  alias?: pulumi.Input<string>;
  /** Disk id (or give `alias`). */
  id?: pulumi.Input<string>;
  /**
   * Allocation policy: `thin` (sparse, cow) or `preallocated` (raw). VMs only: the engine applies it only to a
   * collapsed copy, so giving it collapses the VM's snapshots and template chain (the preview says so). A template's
   * disks keep the allocation they have on the export domain: an allocation there fails the preview.
   */
  allocation?: pulumi.Input<"thin" | "preallocated">;
  /** Data storage domain for this disk (default: the import's `storageDomain`); VMs and templates. */
  storageDomain?: pulumi.Input<string>;
}

/** A permission re-applied after the import (an export keeps no roles or permissions). */
export interface Permission {
  /** User name with its authz domain, e.g. `jdoe@internal-authz` (or give `group`). */
  user?: pulumi.Input<string>;
  /** Group name (or give `user`). */
  group?: pulumi.Input<string>;
  /** Role name, e.g. `UserRole`, `UserVmManager`. */
  role: pulumi.Input<string>;
}

/**
 * The export domain is brought to the import's data center by this stack (an `ExportDomainAttachment` with
 * `moveFrom` that the import depends on), after the copy was exported there.
 */
export interface ExpectedExportDomain {
  /** Data center the domain comes from: where this stack exports the copy (the source data center). */
  dataCenter: pulumi.Input<string>;
  /** Engine of that data center when it is another engine (a cross-engine move); default: the import's engine. */
  engine?: EngineConnectionArgs;
  /** The copy is exported flat (`VmExport` `discardSnapshots: true`): a thin source then needs no template. */
  discardSnapshots?: pulumi.Input<boolean>;
  /** Templates this stack exports to the domain too (a thin VM collapsed on import reads its template there). */
  templates?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface VmImportArgs {
  /** Engine connection; defaults to stack config `ovirt:*`. */
  engine?: EngineConnectionArgs;
  /** Export domain holding the copy (must be active in the cluster's data center). */
  exportDomain: pulumi.Input<string>;
  /** `vm` (default) or `template`. */
  kind?: pulumi.Input<"vm" | "template">;
  /** Name of the VM or template on the export domain. */
  name: pulumi.Input<string>;
  /** Target cluster. */
  cluster: pulumi.Input<string>;
  /** Default target data storage domain for the disks. */
  storageDomain: pulumi.Input<string>;
  /** "Collapse snapshots": flatten snapshots and the template chain into one volume per disk (VMs only). */
  collapseSnapshots?: pulumi.Input<boolean>;
  /**
   * When the VM (same id, or same name in the target data center) already exists: `fail` (default), `skip` (keep the
   * existing one; destroy leaves it), or `clone` (import a copy named `newName` or name + `cloneSuffix`).
   */
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  /** Always import as a clone (new id, new MACs, collapsed snapshots). */
  clone?: pulumi.Input<boolean>;
  /** Name of the clone. */
  newName?: pulumi.Input<string>;
  /**
   * Suffix appended to the name of a clone. Given: always appended. Not given: the clone keeps the name when it is
   * free in the target data center (only the id conflicts, e.g. within one engine), else gets `-clone`.
   */
  cloneSuffix?: pulumi.Input<string>;
  /** Per-disk allocation policy and storage domain. */
  disks?: pulumi.Input<DiskMapping[]>;
  /** CPU profile (name) of the target cluster to assign. */
  cpuProfile?: pulumi.Input<string>;
  /** Permissions to apply after the import. */
  permissions?: pulumi.Input<Permission[]>;
  /** Templates this stack imports first (by name); lets a thin VM's template check pass at preview. */
  expectTemplates?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Where the templates of `expectTemplates` land, by template name: the data domains of their imports
   * (`storageDomain` and `disks[].storageDomain`). A thin VM imported without collapse must land where its template
   * is; with this the preview checks that before the template is imported. `Migration` sets it.
   */
  expectTemplateDomains?: pulumi.Input<Record<string, pulumi.Input<pulumi.Input<string>[]>>>;
  /**
   * This stack brings the export domain here (from `dataCenter`, of `engine`): the preview then checks the import
   * against the copy where the domain is now, or against the source when the copy is not made yet, instead of
   * failing because the domain is not in this engine yet (a cross-engine move). `Migration` sets it.
   */
  expectExportDomain?: ExpectedExportDomain;
  /** The batch this VM belongs to (mixed CPU architectures are rejected at preview). */
  batch?: BatchArgs;
  /** Keep the imported VM when this resource is destroyed (default false: remove it). */
  keepOnDelete?: pulumi.Input<boolean>;
  /**
   * Adopt a VM/template already in the target data center with the copy's id or the target name, which this
   * resource did not create: it is then managed (permissions, CPU profile) but never stopped or removed, by destroy
   * or by replace. Without it such an entity is a conflict (`onConflict`).
   */
  adopt?: pulumi.Input<boolean>;
  /** Time limit in minutes (default derived from the disk sizes). */
  timeoutMinutes?: pulumi.Input<number>;
}

/** A VM or template imported from an export domain. */
export class VmImport extends OvirtResource {
  /** Id of the imported VM/template (the existing one when skipped). */
  public readonly vmId!: pulumi.Output<string>;
  /** Name of the imported VM/template. */
  public readonly vmName!: pulumi.Output<string>;
  /** Disks of the imported VM. */
  public readonly importedDisks!: pulumi.Output<Array<{ id: string; alias?: string; sizeBytes: number; storageDomainId?: string; sparse?: boolean; format?: string }>>;
  /** False when `onConflict: "skip"` kept an existing VM. */
  public readonly imported!: pulumi.Output<boolean>;
  /** True when imported as a clone (new id, new MACs; a VM's snapshots collapsed, its template link dropped). */
  public readonly cloned!: pulumi.Output<boolean>;
  /** True when the VM's snapshots (and template chain) were collapsed: asked for, or a clone. */
  public readonly collapsed!: pulumi.Output<boolean>;
  /** `created` (this resource imported it: removed on destroy), `adopted` or `skipped` (never stopped or removed). */
  public readonly ownership!: pulumi.Output<"created" | "adopted" | "skipped">;
  public readonly architecture!: pulumi.Output<string | undefined>;
  public readonly clusterId!: pulumi.Output<string>;
  public readonly dataCenterId!: pulumi.Output<string>;
  public readonly name!: pulumi.Output<string>;

  constructor(name: string, args: VmImportArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "VmImport",
      name,
      {
        engine: resolveEngine(args.engine),
        exportDomain: args.exportDomain,
        kind: args.kind ?? "vm",
        name: args.name,
        cluster: args.cluster,
        storageDomain: args.storageDomain,
        collapseSnapshots: args.collapseSnapshots,
        onConflict: args.onConflict,
        clone: args.clone,
        newName: args.newName,
        cloneSuffix: args.cloneSuffix,
        disks: args.disks,
        cpuProfile: args.cpuProfile,
        permissions: args.permissions,
        expectTemplates: args.expectTemplates,
        expectTemplateDomains: args.expectTemplateDomains,
        expectExportDomain: args.expectExportDomain
          ? {
              dataCenter: args.expectExportDomain.dataCenter,
              engine: args.expectExportDomain.engine ? resolveEngine(args.expectExportDomain.engine) : undefined,
              discardSnapshots: args.expectExportDomain.discardSnapshots,
              templates: args.expectExportDomain.templates,
            }
          : undefined,
        batch: args.batch,
        keepOnDelete: args.keepOnDelete,
        adopt: args.adopt,
        timeoutMinutes: args.timeoutMinutes,
        vmId: undefined,
        vmName: undefined,
        importedDisks: undefined,
        imported: undefined,
        cloned: undefined,
        collapsed: undefined,
        ownership: undefined,
        architecture: undefined,
        clusterId: undefined,
        dataCenterId: undefined,
      },
      opts,
      ["expectExportDomain"],
    );
  }
}
