import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, resolveEngine } from "./connection";
import { OvirtResource } from "./base";

/** VMs (or templates) moved together; all must share one CPU architecture (checked at preview). */
export interface BatchArgs {
  /** Batch name. */
  id: pulumi.Input<string>;
  /** Names of every VM of the batch (this one included). */
  members: pulumi.Input<pulumi.Input<string>[]>;
}

export interface VmExportArgs {
  /** Engine connection; defaults to stack config `ovirt:*`. */
  engine?: EngineConnectionArgs;
  /** Name of the export domain (must be active in the VM's data center: depend on an ExportDomainAttachment). */
  exportDomain: pulumi.Input<string>;
  /** `vm` (default) or `template`. */
  kind?: pulumi.Input<"vm" | "template">;
  /** Name of the VM or template to export. */
  name: pulumi.Input<string>;
  /**
   * Data center of the source. Names are unique per data center only: required when another VM/template of that
   * name exists elsewhere in the engine (the preview lists what it found). After create the source is followed by id.
   */
  dataCenter?: pulumi.Input<string>;
  /**
   * "Force override": overwrite a copy on the export domain. With it, a later `pulumi up` re-exports only when the
   * source changed since the export (disks, sizes, snapshots), never on every run.
   */
  exclusive?: pulumi.Input<boolean>;
  /** "Collapse snapshots": one flat volume per disk, no template dependency (VMs only). */
  discardSnapshots?: pulumi.Input<boolean>;
  /** Shut a running VM down before the export (default false: a running VM is an error at preview). */
  shutdownIfRunning?: pulumi.Input<boolean>;
  /**
   * With `shutdownIfRunning`: seconds to wait for the guest's ACPI shutdown before powering the VM off hard
   * (`stop`). Default 300.
   */
  shutdownTimeoutSeconds?: pulumi.Input<number>;
  /** Keep the copy on the export domain when this resource is destroyed (default false: remove it). */
  keepOnDelete?: pulumi.Input<boolean>;
  /**
   * Use a copy already on the export domain that this resource did not make, as it is: it is never overwritten and
   * is kept on destroy. Without it such a copy is an error at preview (or overwritten with `exclusive`).
   */
  adopt?: pulumi.Input<boolean>;
  /** Time limit in minutes (default derived from the disk sizes). */
  timeoutMinutes?: pulumi.Input<number>;
  /** The batch this VM belongs to (mixed CPU architectures are rejected at preview). */
  batch?: BatchArgs;
}

/** A VM or template exported to an export domain. */
export class VmExport extends OvirtResource {
  /** Id of the source VM/template (the copy on the export domain has the same id). */
  public readonly sourceId!: pulumi.Output<string>;
  public readonly exportDomainId!: pulumi.Output<string>;
  public readonly dataCenterId!: pulumi.Output<string>;
  /** Hash of the source disks/snapshots at export time. */
  public readonly sourceFingerprint!: pulumi.Output<string>;
  /** Disks of the source: id, alias, provisioned and actual bytes. */
  public readonly disks!: pulumi.Output<Array<{ id: string; alias?: string; provisionedBytes: number; actualBytes: number }>>;
  /** Bytes to copy (sum over disks). */
  public readonly diskBytes!: pulumi.Output<number>;
  /** CPU architecture of the source. */
  public readonly architecture!: pulumi.Output<string | undefined>;
  /** Template this (thin) VM still depends on in the export, if not collapsed. */
  public readonly templateName!: pulumi.Output<string | undefined>;
  public readonly name!: pulumi.Output<string>;
  /** `created` (this resource's export made the copy: removed on destroy) or `adopted` (kept). */
  public readonly ownership!: pulumi.Output<"created" | "adopted">;
  public readonly kind!: pulumi.Output<"vm" | "template">;
  public readonly exportDomain!: pulumi.Output<string>;

  constructor(name: string, args: VmExportArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "VmExport",
      name,
      {
        engine: resolveEngine(args.engine),
        exportDomain: args.exportDomain,
        kind: args.kind ?? "vm",
        name: args.name,
        dataCenter: args.dataCenter,
        adopt: args.adopt,
        exclusive: args.exclusive,
        discardSnapshots: args.discardSnapshots,
        shutdownIfRunning: args.shutdownIfRunning,
        shutdownTimeoutSeconds: args.shutdownTimeoutSeconds,
        keepOnDelete: args.keepOnDelete,
        timeoutMinutes: args.timeoutMinutes,
        batch: args.batch,
        sourceId: undefined,
        exportDomainId: undefined,
        dataCenterId: undefined,
        sourceFingerprint: undefined,
        disks: undefined,
        diskBytes: undefined,
        architecture: undefined,
        templateName: undefined,
        ownership: undefined,
      },
      opts,
    );
  }
}
