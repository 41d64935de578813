import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs } from "./connection";
import { ExportDomainAttachment, StorageConnectionArgs } from "./exportDomainAttachment";
import { VmExport } from "./vmExport";
import { DiskMapping, Permission, VmImport } from "./vmImport";

/** Per-VM choices of a migration (a plain string means all defaults). */
export interface MigrationVm {
  /** VM name in the source data center. */
  name: string;
  /** Collapse snapshots on export (flat copy, no template dependency). Default: the migration's `discardSnapshots`. */
  discardSnapshots?: pulumi.Input<boolean>;
  /** Collapse snapshots on import. Default: the migration's `collapseSnapshots`. */
  collapseSnapshots?: pulumi.Input<boolean>;
  /** Shut the VM down before exporting it. Default: the migration's `shutdownIfRunning`. */
  shutdownIfRunning?: pulumi.Input<boolean>;
  /** Conflict policy on import. Default: the migration's `onConflict`. */
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  /** Name of a clone. */
  newName?: pulumi.Input<string>;
  /** Target cluster (default: the target's cluster). */
  cluster?: pulumi.Input<string>;
  /** Target storage domain (default: the target's storage domain). */
  storageDomain?: pulumi.Input<string>;
  /** Per-disk allocation and storage domain. */
  disks?: pulumi.Input<DiskMapping[]>;
  /** CPU profile in the target cluster. */
  cpuProfile?: pulumi.Input<string>;
  /** Permissions re-applied after the import (added to the migration's `permissions`). */
  permissions?: Permission[];
}

/** Per-template choices (a plain string means all defaults). */
export interface MigrationTemplate {
  name: string;
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  cluster?: pulumi.Input<string>;
  storageDomain?: pulumi.Input<string>;
  permissions?: Permission[];
}

export interface MigrationArgs {
  /** Where the VMs are now. */
  source: {
    /** Source engine; default stack config `ovirt:*`. */
    engine?: EngineConnectionArgs;
    /** Source data center name. */
    dataCenter: string;
  };
  /** Where they go. */
  target: {
    /** Target engine (another engine = cross-engine move of the export domain); default: the source engine. */
    engine?: EngineConnectionArgs;
    /** Target data center name. */
    dataCenter: string;
    /** Default target cluster. */
    cluster: pulumi.Input<string>;
    /** Default target data storage domain. */
    storageDomain: pulumi.Input<string>;
    /** Host that imports the export domain into the target engine (cross-engine; default any host up). */
    host?: pulumi.Input<string>;
    /** Storage connection of the export domain for the target engine (cross-engine; default read from source). */
    storageConnection?: StorageConnectionArgs;
  };
  /** The export domain used for the move. */
  exportDomain: string;
  /** VMs to migrate. */
  vms: Array<string | MigrationVm>;
  /** Templates to migrate (imported before the VMs; thin VMs based on them then need no collapse). */
  templates?: Array<string | MigrationTemplate>;
  /**
   * `export`: attach in the source and export only; `import`: also move the domain and import; `all` (default):
   * both in one `pulumi up`. A staged migration flips this one value (e.g. from stack config).
   */
  stage?: "export" | "import" | "all";
  /** Exports running at the same time (default 4). */
  concurrency?: number;
  /** Force override on export (re-export only when a source changed). Default true. */
  exclusive?: pulumi.Input<boolean>;
  /** Collapse snapshots on export. Default false. */
  discardSnapshots?: pulumi.Input<boolean>;
  /** Collapse snapshots on import. Default false. */
  collapseSnapshots?: pulumi.Input<boolean>;
  /** Shut running VMs down before export. Default false (fail at preview). */
  shutdownIfRunning?: pulumi.Input<boolean>;
  /** Grace (seconds) for a guest's ACPI shutdown before a hard power-off. Default 300. */
  shutdownTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Conflict policy on import. Default: `clone` when source and target are the same engine (the source VM keeps
   * its id there, so the import must be a new entity; it keeps its name unless the name is taken in the target
   * data center), `fail` across engines.
   */
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  /** Suffix of clones (default: none unless the name is taken in the target data center, then `-clone`). */
  cloneSuffix?: pulumi.Input<string>;
  /** Permissions applied to every imported VM. */
  permissions?: Permission[];
  /** Allow taking the export domain away from a data center this stack does not manage. */
  takeOver?: pulumi.Input<boolean>;
  /** Keep the copies on the export domain on destroy. */
  keepExportsOnDelete?: pulumi.Input<boolean>;
}

const norm = <T extends { name: string }>(x: string | T): T => (typeof x === "string" ? ({ name: x } as T) : x);

/**
 * A whole migration in one declaration: attach the export domain in the source data center, export the templates
 * and VMs (at most `concurrency` at a time), move the domain to the target data center (of the same or another
 * engine), import templates, then VMs, and re-apply permissions. All VMs form one batch: mixed CPU architectures
 * are rejected at preview.
 */
export class Migration extends pulumi.ComponentResource {
  public readonly sourceAttachment: ExportDomainAttachment;
  public readonly targetAttachment?: ExportDomainAttachment;
  public readonly exports: Record<string, VmExport> = {};
  public readonly imports: Record<string, VmImport> = {};
  /** name -> { vmId, vmName } of every import (empty in the export stage). */
  public readonly imported: pulumi.Output<Record<string, { vmId: string; vmName: string; imported: boolean }>>;

  constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ovirt:migrate:Migration", name, {}, opts);
    const stage = args.stage ?? "all";
    if (!["export", "import", "all"].includes(stage)) {
      throw new Error(`stage must be "export", "import" or "all" (got ${JSON.stringify(stage)})`);
    }
    // A bad concurrency used to be clamped to 1 silently (a typo then serialized the whole migration): refuse it,
    // naming the field, so `pulumi preview` fails before anything changes (issue 6, bad-input corpus).
    if (args.concurrency !== undefined && !(Number.isInteger(args.concurrency) && args.concurrency >= 1)) {
      throw new Error(`concurrency must be a whole number of at least 1 (got ${JSON.stringify(args.concurrency)})`);
    }
    const concurrency = args.concurrency ?? 4;
    const srcEngine = args.source.engine;
    const tgtEngine = args.target.engine ?? args.source.engine;
    const crossEngine = !!args.target.engine;
    const vms = args.vms.map((v) => norm<MigrationVm>(v));
    const templates = (args.templates ?? []).map((t) => norm<MigrationTemplate>(t));
    const onConflict = args.onConflict ?? (crossEngine ? "fail" : "clone");
    const batch = vms.length > 1 ? { id: `${name}`, members: vms.map((v) => v.name) } : undefined;
    const child = { parent: this };

    this.sourceAttachment = new ExportDomainAttachment(
      `${name}-source-attachment`,
      {
        engine: srcEngine,
        exportDomain: args.exportDomain,
        dataCenter: args.source.dataCenter,
        takeOver: args.takeOver,
        handOffTo: { dataCenter: args.target.dataCenter, engine: crossEngine ? tgtEngine : undefined },
      },
      child,
    );

    // exports: a sliding window of `concurrency` (export i waits for export i - concurrency)
    const all: Array<{ kind: "vm" | "template"; name: string; vm?: MigrationVm }> = [
      ...templates.map((t) => ({ kind: "template" as const, name: t.name })),
      ...vms.map((v) => ({ kind: "vm" as const, name: v.name, vm: v })),
    ];
    const exportList: VmExport[] = [];
    all.forEach((item, i) => {
      const prev = i >= concurrency ? [exportList[i - concurrency]] : [];
      const e = new VmExport(
        `${name}-export-${item.kind}-${item.name}`,
        {
          engine: srcEngine,
          exportDomain: args.exportDomain,
          kind: item.kind,
          name: item.name,
          // names are unique per data center only: the source is the one in the source data center
          dataCenter: args.source.dataCenter,
          exclusive: args.exclusive ?? true,
          discardSnapshots: item.kind === "vm" ? (item.vm?.discardSnapshots ?? args.discardSnapshots ?? false) : undefined,
          shutdownIfRunning: item.kind === "vm" ? (item.vm?.shutdownIfRunning ?? args.shutdownIfRunning ?? false) : undefined,
          shutdownTimeoutSeconds: item.kind === "vm" ? args.shutdownTimeoutSeconds : undefined,
          keepOnDelete: args.keepExportsOnDelete,
          batch: item.kind === "vm" ? batch : undefined,
        },
        { parent: this, dependsOn: [this.sourceAttachment, ...prev] },
      );
      exportList.push(e);
      this.exports[`${item.kind}:${item.name}`] = e;
    });

    if (stage !== "export") {
      this.targetAttachment = new ExportDomainAttachment(
        `${name}-target-attachment`,
        {
          engine: tgtEngine,
          exportDomain: args.exportDomain,
          dataCenter: args.target.dataCenter,
          takeOver: args.takeOver,
          moveFrom: { dataCenter: args.source.dataCenter, engine: crossEngine ? srcEngine : undefined },
          host: args.target.host,
          storageConnection: args.target.storageConnection,
        },
        { parent: this, dependsOn: [this.sourceAttachment, ...exportList] },
      );
      const templateImports: VmImport[] = [];
      for (const t of templates) {
        const imp = new VmImport(
          `${name}-import-template-${t.name}`,
          {
            engine: tgtEngine,
            exportDomain: args.exportDomain,
            kind: "template",
            name: t.name,
            cluster: t.cluster ?? args.target.cluster,
            storageDomain: t.storageDomain ?? args.target.storageDomain,
            onConflict: t.onConflict ?? onConflict,
            cloneSuffix: args.cloneSuffix,
            permissions: [...(args.permissions ?? []), ...(t.permissions ?? [])],
          },
          { parent: this, dependsOn: [this.targetAttachment] },
        );
        templateImports.push(imp);
        this.imports[`template:${t.name}`] = imp;
      }
      for (const v of vms) {
        const perms = [...(args.permissions ?? []), ...(v.permissions ?? [])];
        this.imports[`vm:${v.name}`] = new VmImport(
          `${name}-import-vm-${v.name}`,
          {
            engine: tgtEngine,
            exportDomain: args.exportDomain,
            kind: "vm",
            name: v.name,
            cluster: v.cluster ?? args.target.cluster,
            storageDomain: v.storageDomain ?? args.target.storageDomain,
            collapseSnapshots: v.collapseSnapshots ?? args.collapseSnapshots ?? false,
            onConflict: v.onConflict ?? onConflict,
            newName: v.newName,
            cloneSuffix: args.cloneSuffix,
            disks: v.disks,
            cpuProfile: v.cpuProfile,
            permissions: perms.length ? perms : undefined,
            expectTemplates: templates.length ? templates.map((t) => t.name) : undefined,
            batch,
          },
          { parent: this, dependsOn: [this.targetAttachment, ...templateImports] },
        );
      }
    }
    const entries = Object.entries(this.imports);
    this.imported = pulumi
      .all(entries.map(([, imp]) => pulumi.all([imp.vmId, imp.vmName, imp.imported])))
      .apply((vals) => {
        const out: Record<string, { vmId: string; vmName: string; imported: boolean }> = {};
        vals.forEach(([vmId, vmName, imported], i) => (out[entries[i][0]] = { vmId, vmName, imported }));
        return out;
      });
    this.registerOutputs({ imported: this.imported });
  }
}
