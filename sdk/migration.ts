import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, hideEngine, resolveEngine } from "./connection";
import { EngineProvider, engineRef } from "./engineProvider";
import { ExportDomainAttachment, StorageConnectionArgs } from "./exportDomainAttachment";
import { VmExport } from "./vmExport";
import { DiskMapping, Permission, VmImport } from "./vmImport";
import { MigrationPlan } from "./migrationPlan";
import { DataDomainAttachment } from "./dataDomainAttachment";
import { VmRegistration } from "./vmRegistration";

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
  /**
   * The thin VMs of this migration based on this template, when they are the only reason it is listed. It is then
   * moved only as far as they need it: imported only when one of them is imported thin (not a clone, not
   * collapsed), exported only when one of them is exported thin. A VM of the list that is collapsed on import
   * anyway (within one engine every import is a clone; or `collapseSnapshots`) is exported flat
   * (`discardSnapshots` defaults to true for it), so nothing of the template is copied for it. Without `neededBy`
   * the template is moved: you asked for the template itself.
   */
  neededBy?: string[];
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  cluster?: pulumi.Input<string>;
  storageDomain?: pulumi.Input<string>;
  permissions?: Permission[];
}

export interface MigrationArgs {
  /** Where the VMs are now. */
  source: {
    /**
     * Source engine; default stack config `ovirt:*`. A cross-engine migration (`target.engine` set) needs one of
     * them: without either the program fails at preview naming `source.engine`.
     */
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
  /**
   * How the VMs travel. `export-domain` (default): copied through `exportDomain` (export, move the export domain,
   * import). `data-domain`: the data domain `dataDomain` that holds their disks moves itself (deactivate, detach
   * [, remove without format + import into the target engine], attach, activate) and the VMs/templates on it are
   * registered in the target: nothing is copied. Switching is this one value (plus naming `dataDomain`).
   */
  method?: "export-domain" | "data-domain";
  /** The export domain used for the move (method `export-domain`). */
  exportDomain?: string;
  /** The data domain that moves with the VMs' disks (method `data-domain`); every VM and template on it leaves the source. */
  dataDomain?: string;
  /** method `data-domain`: give NICs whose MACs are taken in (or outside) the target pool new MACs. */
  reassignBadMacs?: pulumi.Input<boolean>;
  /** method `data-domain`: register VMs/templates without disks that stay on domains that do not move. */
  allowPartialImport?: pulumi.Input<boolean>;
  /** method `data-domain`: accept that VMs with disks on the moving domain and on others stay behind without the moving ones. */
  allowSplitVms?: pulumi.Input<boolean>;
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
  /**
   * Where the preview writes the migration plan as Markdown (for a pull-request comment). Default: stack config
   * `ovirt:planFile`, else env `OVIRT_MIGRATE_PLAN_FILE`; none: the plan is only shown in the preview's output.
   * A relative path is taken from the program's directory. Several migrations of one program share the file.
   */
  planFile?: pulumi.Input<string>;
  /**
   * Copy throughput (MiB/s) the plan's duration estimate uses. Default: measured from the engines' recent export and
   * import events (sizes of the entities they name over the time they took); without any, no estimate.
   */
  throughputMiBps?: pulumi.Input<number>;
}

/** What one import of a migration made. */
export interface MigratedEntity {
  vmId: string;
  vmName: string;
  imported: boolean;
  cloned: boolean;
  collapsed: boolean;
}

const norm = <T extends { name: string }>(x: string | T): T => (typeof x === "string" ? ({ name: x } as T) : x);

/** A plain value, or undefined when it is only known later (an Output or a promise). */
function plain<T>(v: pulumi.Input<T> | undefined): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (pulumi.Output.isInstance(v) || (typeof v === "object" && typeof (v as any).then === "function")) return undefined;
  return v as T;
}

function urlKey(u: string): string {
  try {
    const x = new URL(u);
    const port = x.port && !((x.protocol === "https:" && x.port === "443") || (x.protocol === "http:" && x.port === "80")) ? `:${x.port}` : "";
    return `${x.protocol.toLowerCase()}//${x.hostname.toLowerCase()}${port}${x.pathname.replace(/\/+$/, "")}`;
  } catch {
    return u.replace(/\/+$/, "");
  }
}

/** Two connections that are visibly the same engine (the same object, equal declared ids, or equal plain URLs). */
function visiblySameEngine(a: EngineConnectionArgs, b: EngineConnectionArgs): boolean {
  if (a === b) return true;
  const [ia, ib] = [plain(a.id), plain(b.id)];
  if (ia !== undefined && ib !== undefined) return ia === ib;
  const [ua, ub] = [plain(a.url), plain(b.url)];
  return ua !== undefined && ub !== undefined && urlKey(ua) === urlKey(ub);
}

/**
 * A whole migration in one declaration: attach the export domain in the source data center, export the templates
 * and VMs (at most `concurrency` at a time), move the domain to the target data center (of the same or another
 * engine), import templates, then VMs, and re-apply permissions. All VMs form one batch: mixed CPU architectures
 * are rejected at preview (by the plan, once for the batch).
 */
export class Migration extends pulumi.ComponentResource {
  /** method `export-domain`: the export domain in the source data center. */
  public readonly sourceAttachment?: ExportDomainAttachment;
  /** method `data-domain`: the data domain moved to the target data center. */
  public dataDomainAttachment?: DataDomainAttachment;
  /** method `data-domain`: `vm:<name>` / `template:<name>` -> its registration in the target. */
  public readonly registrations: Record<string, VmRegistration> = {};
  public readonly targetAttachment?: ExportDomainAttachment;
  public readonly exports: Record<string, VmExport> = {};
  public readonly imports: Record<string, VmImport> = {};
  /** The plan shown at preview (a hidden resource; it never changes the engine). */
  public readonly plan?: MigrationPlan;
  /**
   * `vm:<name>` / `template:<name>` -> the import's `{ vmId, vmName, imported, cloned, collapsed }` (empty in the export
   * stage). `cloned`: a new id and new MACs (every import within one engine); `collapsed`: snapshots collapsed and
   * the template link dropped.
   */
  public readonly imported: pulumi.Output<Record<string, MigratedEntity>>;

  /** The provider of every child, holding the source and target engine connections (sdk/engineProvider.ts). */
  private engines?: EngineProvider;

  /** Options of a child: under this component, managed through its engines' provider. */
  private childOpts(): pulumi.CustomResourceOptions {
    return { parent: this, provider: this.engines };
  }

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
    // cross-engine: target.engine names another engine than the source's (the same engine named twice is not)
    let srcEngine = args.source.engine;
    let crossEngine = !!args.target.engine;
    if (crossEngine && !srcEngine) {
      // the source engine is stack config ovirt:*: it must be there (the domain move reads and changes it)
      if (new pulumi.Config("ovirt").get("url") === undefined) {
        throw new Error(
          `source.engine: Migration ${name} moves the export domain to another engine (target.engine is set), so it needs the source engine: ` +
            `set source.engine (e.g. engineFromConfig("engineA")), or stack config ovirt:url and ovirt:password for it.`,
        );
      }
      srcEngine = resolveEngine(undefined);
    }
    if (crossEngine && srcEngine && visiblySameEngine(srcEngine, args.target.engine!)) crossEngine = false;
    // the children get each connection as one secret (hideEngine): the preview's --diff shows it once per migration,
    // in the plan, instead of under every export, import and attachment
    // One explicit provider holds both connections (sdk/engineProvider.ts); every child names its engine by
    // reference and is managed through that provider (`this.childOpts`).
    this.engines = new EngineProvider(
      `${name}-engines`,
      { source: hideEngine(srcEngine), target: hideEngine(args.target.engine ?? args.source.engine) },
      { parent: this },
    );
    srcEngine = engineRef("source") as unknown as EngineConnectionArgs;
    const tgtEngine = engineRef("target") as unknown as EngineConnectionArgs;
    const vms = args.vms.map((v) => norm<MigrationVm>(v));
    const templates = (args.templates ?? []).map((t) => norm<MigrationTemplate>(t));
    const method = args.method ?? "export-domain";
    if (method !== "export-domain" && method !== "data-domain") throw new Error(`method must be "export-domain" or "data-domain" (got ${JSON.stringify(method)})`);
    if (method === "data-domain") {
      this.imported = this.moveDataDomain(name, args, vms, templates, crossEngine ? srcEngine : undefined, tgtEngine);
      this.registerOutputs({ imported: this.imported });
      return;
    }
    if (!args.exportDomain) throw new Error(`exportDomain: Migration ${name} copies through an export domain (method "export-domain"); name it, or set method: "data-domain" and dataDomain`);
    const exportDomain = args.exportDomain;
    const onConflict = args.onConflict ?? (crossEngine ? "fail" : "clone");
    const child = this.childOpts();

    // What each VM needs of a template listed only for it (neededBy). Unknown values (outputs) count as "thin".
    const vmNames = new Set(vms.map((v) => v.name));
    templates.forEach((t, i) => {
      for (const n of t.neededBy ?? []) {
        if (!vmNames.has(n)) throw new Error(`templates[${i}].neededBy: "${n}" is not one of the migration's vms (${[...vmNames].join(", ")})`);
      }
    });
    const forTemplate = new Set(templates.flatMap((t) => t.neededBy ?? []));
    /**
     * Collapsed on import for sure: asked for, a disk allocation (the engine applies it only to a collapsed copy:
     * VmImport collapses then), or a clone (within one engine the source keeps its id).
     */
    const collapsedOnImport = (v: MigrationVm): boolean => {
      if (plain(v.collapseSnapshots ?? args.collapseSnapshots) === true) return true;
      if ((plain(v.disks) ?? []).some((d) => plain(d.allocation) !== undefined)) return true;
      const oc = plain(v.onConflict ?? onConflict);
      return !crossEngine && (oc === "clone" || oc === "skip");
    };
    /** discardSnapshots of a VM's export: asked for, else flat when it is collapsed on import anyway and listed in a neededBy. */
    const discardOf = (v: MigrationVm): pulumi.Input<boolean> =>
      v.discardSnapshots ?? args.discardSnapshots ?? (forTemplate.has(v.name) && collapsedOnImport(v));
    const flat = (v: MigrationVm) => plain(discardOf(v)) === true;
    const byName = new Map(vms.map((v) => [v.name, v]));
    const plan = templates.map((t) => {
      if (!t.neededBy) return { t, exported: true, imported: true };
      const users = t.neededBy.map((n) => byName.get(n)!);
      const imported = users.some((v) => !flat(v) && !collapsedOnImport(v));
      const exported = imported || users.some((v) => !flat(v));
      return { t, exported, imported };
    });
    for (const p of plan.filter((x) => !x.exported || !x.imported)) {
      const why = crossEngine ? "is collapsed on import" : "is imported as a clone within one engine (snapshots collapsed, template link dropped)";
      pulumi.log.info(
        `template ${p.t.name}: ${p.exported ? "exported (the collapse on import reads it from the export domain) but not imported" : "neither exported nor imported"}: ` +
          `every VM that needs it (${p.t.neededBy!.join(", ")}) ${why}${p.exported ? "" : " and is exported flat"}. List it without neededBy to move it anyway.`,
        this,
      );
    }
    const exportedTemplates = plan.filter((p) => p.exported).map((p) => p.t);
    const importedTemplates = plan.filter((p) => p.imported && stage !== "export").map((p) => p.t);

    // The plan first (no dependencies): its check runs at the start of every preview and up, reads the engines and
    // shows the whole move on this component's line (provider/plan). The URN without the component's dependencies
    // (an input depending on the component would wait for all of its children: sdk/base.ts).
    const migrationUrn = pulumi.output(new Promise<string>((resolve) => this.urn.apply((u) => (resolve(u), u))));
    const cfgPlanFile = args.planFile ?? new pulumi.Config("ovirt").get("planFile");
    const planFile = typeof cfgPlanFile === "string" ? path.resolve(cfgPlanFile) : cfgPlanFile;
    const exportedNames = new Set(exportedTemplates.map((t) => t.name));
    const importedNames = new Set(importedTemplates.map((t) => t.name));
    this.plan = new MigrationPlan(
      `${name}-plan`,
      {
        name,
        engine: srcEngine,
        targetEngine: crossEngine ? tgtEngine : undefined,
        crossEngine,
        source: { dataCenter: args.source.dataCenter },
        target: { dataCenter: args.target.dataCenter, cluster: args.target.cluster, storageDomain: args.target.storageDomain },
        exportDomain: exportDomain,
        stage,
        concurrency,
        throughputMiBps: args.throughputMiBps,
        planFile,
        migrationUrn,
        entities: [
          ...templates.map((t) => ({
            kind: "template" as const,
            name: t.name,
            exported: exportedNames.has(t.name),
            imported: importedNames.has(t.name),
            onConflict: t.onConflict ?? onConflict,
            cloneSuffix: args.cloneSuffix,
            cluster: t.cluster,
            storageDomain: t.storageDomain,
            permissions: [...(args.permissions ?? []), ...(t.permissions ?? [])],
          })),
          ...vms.map((v) => ({
            kind: "vm" as const,
            name: v.name,
            exported: true,
            imported: stage !== "export",
            discardSnapshots: discardOf(v),
            collapseSnapshots: v.collapseSnapshots ?? args.collapseSnapshots ?? false,
            shutdownIfRunning: v.shutdownIfRunning ?? args.shutdownIfRunning ?? false,
            onConflict: v.onConflict ?? onConflict,
            newName: v.newName,
            cloneSuffix: args.cloneSuffix,
            cluster: v.cluster,
            storageDomain: v.storageDomain,
            diskDomains: v.disks,
            permissions: [...(args.permissions ?? []), ...(v.permissions ?? [])],
          })),
        ],
      },
      child,
    );

    const sourceAttachment = new ExportDomainAttachment(
      `${name}-source-attachment`,
      {
        engine: srcEngine,
        exportDomain: exportDomain,
        dataCenter: args.source.dataCenter,
        takeOver: args.takeOver,
        handOffTo: { dataCenter: args.target.dataCenter, engine: crossEngine ? tgtEngine : undefined },
      },
      child,
    );
    this.sourceAttachment = sourceAttachment;

    // exports: a sliding window of `concurrency` (export i waits for export i - concurrency)
    const all: Array<{ kind: "vm" | "template"; name: string; vm?: MigrationVm }> = [
      ...exportedTemplates.map((t) => ({ kind: "template" as const, name: t.name })),
      ...vms.map((v) => ({ kind: "vm" as const, name: v.name, vm: v })),
    ];
    const exportList: VmExport[] = [];
    all.forEach((item, i) => {
      const prev = i >= concurrency ? [exportList[i - concurrency]] : [];
      const e = new VmExport(
        `${name}-export-${item.kind}-${item.name}`,
        {
          engine: srcEngine,
          exportDomain: exportDomain,
          kind: item.kind,
          name: item.name,
          // names are unique per data center only: the source is the one in the source data center
          dataCenter: args.source.dataCenter,
          exclusive: args.exclusive ?? true,
          discardSnapshots: item.kind === "vm" ? discardOf(item.vm!) : undefined,
          shutdownIfRunning: item.kind === "vm" ? (item.vm?.shutdownIfRunning ?? args.shutdownIfRunning ?? false) : undefined,
          shutdownTimeoutSeconds: item.kind === "vm" ? args.shutdownTimeoutSeconds : undefined,
          keepOnDelete: args.keepExportsOnDelete,
        },
        { ...this.childOpts(), dependsOn: [sourceAttachment, ...prev] },
      );
      exportList.push(e);
      this.exports[`${item.kind}:${item.name}`] = e;
    });

    if (stage !== "export") {
      this.targetAttachment = new ExportDomainAttachment(
        `${name}-target-attachment`,
        {
          engine: tgtEngine,
          exportDomain: exportDomain,
          dataCenter: args.target.dataCenter,
          takeOver: args.takeOver,
          moveFrom: { dataCenter: args.source.dataCenter, engine: crossEngine ? srcEngine : undefined },
          host: args.target.host,
          storageConnection: args.target.storageConnection,
        },
        { ...this.childOpts(), dependsOn: [sourceAttachment, ...exportList] },
      );
      // what this stack does before each import, for the preview (the domain is not in the target engine yet when
      // it comes from another engine; the copies are not made yet on a first run)
      const expectDomain = (discardSnapshots?: pulumi.Input<boolean>) => ({
        dataCenter: args.source.dataCenter,
        engine: crossEngine ? srcEngine : undefined,
        discardSnapshots,
        templates: exportedTemplates.length ? exportedTemplates.map((t) => t.name) : undefined,
      });
      const templateImports: VmImport[] = [];
      for (const t of importedTemplates) {
        const imp = new VmImport(
          `${name}-import-template-${t.name}`,
          {
            engine: tgtEngine,
            exportDomain: exportDomain,
            kind: "template",
            name: t.name,
            cluster: t.cluster ?? args.target.cluster,
            storageDomain: t.storageDomain ?? args.target.storageDomain,
            onConflict: t.onConflict ?? onConflict,
            cloneSuffix: args.cloneSuffix,
            permissions: [...(args.permissions ?? []), ...(t.permissions ?? [])],
            expectExportDomain: expectDomain(),
          },
          { ...this.childOpts(), dependsOn: [this.targetAttachment] },
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
            exportDomain: exportDomain,
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
            expectTemplates: importedTemplates.length ? importedTemplates.map((t) => t.name) : undefined,
            // where those templates land (their imports place every disk on their storageDomain): a thin VM must too
            expectTemplateDomains: importedTemplates.length
              ? Object.fromEntries(importedTemplates.map((t) => [t.name, [t.storageDomain ?? args.target.storageDomain]]))
              : undefined,
            expectExportDomain: expectDomain(discardOf(v)),
          },
          { ...this.childOpts(), dependsOn: [this.targetAttachment, ...templateImports] },
        );
      }
    }
    const entries = Object.entries(this.imports);
    this.imported = pulumi
      .all(entries.map(([, imp]) => pulumi.all([imp.vmId, imp.vmName, imp.imported, imp.cloned, imp.collapsed])))
      .apply((vals) => {
        const out: Record<string, MigratedEntity> = {};
        vals.forEach(([vmId, vmName, imported, cloned, collapsed], i) => (out[entries[i][0]] = { vmId, vmName, imported, cloned: !!cloned, collapsed: !!collapsed }));
        return out;
      });
    this.registerOutputs({ imported: this.imported });
  }

  /**
   * method `data-domain`: the data domain moves (its preview lists every VM and template that leaves the source
   * with it and refuses any not listed in this migration), then templates and VMs are registered in place.
   */
  private moveDataDomain(
    name: string,
    args: MigrationArgs,
    vms: MigrationVm[],
    templates: MigrationTemplate[],
    srcEngine: EngineConnectionArgs | undefined,
    tgtEngine: EngineConnectionArgs | undefined,
  ): pulumi.Output<Record<string, MigratedEntity>> {
    if (!args.dataDomain) throw new Error(`dataDomain: Migration ${name} uses method "data-domain": name the data storage domain that holds the VMs' disks`);
    // copy options have no meaning when nothing is copied: refused rather than ignored
    const copyOnly = ["storageDomain", "disks", "cpuProfile", "permissions"] as const;
    vms.forEach((v, i) => {
      for (const k of copyOnly) if ((v as any)[k] !== undefined) throw new Error(`vms[${i}].${k}: method "data-domain" registers the VM with its disks where they are; ${k} applies to the export-domain copy only`);
    });
    // a promise the registration cannot keep is refused; pure copy settings are moot (so that switching method stays one value)
    if (args.permissions !== undefined && args.permissions.length > 0) throw new Error(`permissions: method "data-domain" registers the VMs as stored on the domain and grants nothing; re-apply permissions yourself, or use method "export-domain"`);
    const moot = (["exportDomain", "discardSnapshots", "collapseSnapshots", "shutdownIfRunning", "keepExportsOnDelete", "concurrency"] as const).filter((k) => (args as any)[k] !== undefined);
    if (moot.length) pulumi.log.info(`method "data-domain" copies nothing: ${moot.join(", ")} ${moot.length > 1 ? "are" : "is"} not used`, this);
    const stage = args.stage ?? "all";
    if (stage === "export") {
      pulumi.log.info(`method "data-domain" has no export stage (nothing is copied): stage "export" declares nothing`, this);
      return pulumi.output({} as Record<string, MigratedEntity>);
    }
    const child = this.childOpts();
    const expectFrom = { dataCenter: args.source.dataCenter, engine: srcEngine };
    // the plan first, as for an export-domain move (provider/plan/dataDomain.ts): what moves, the names it gets,
    // what refuses, the storage operations; shown once on this component's line, and as Markdown for CI
    const migrationUrn = pulumi.output(new Promise<string>((resolve) => this.urn.apply((u) => (resolve(u), u))));
    const cfgPlanFile = args.planFile ?? new pulumi.Config("ovirt").get("planFile");
    const explicitOc = (oc: pulumi.Input<"fail" | "skip" | "clone"> | undefined) => (plain(oc) === "clone" ? ("clone" as const) : undefined);
    (this as { plan?: MigrationPlan }).plan = new MigrationPlan(
      `${name}-plan`,
      {
        name,
        engine: srcEngine ?? tgtEngine,
        targetEngine: srcEngine ? tgtEngine : undefined,
        crossEngine: !!srcEngine,
        method: "data-domain",
        dataDomain: args.dataDomain,
        allowSplitVms: args.allowSplitVms,
        allowPartialImport: args.allowPartialImport,
        reassignBadMacs: args.reassignBadMacs,
        source: { dataCenter: args.source.dataCenter },
        target: { dataCenter: args.target.dataCenter, cluster: args.target.cluster },
        stage,
        concurrency: 1,
        throughputMiBps: args.throughputMiBps,
        planFile: typeof cfgPlanFile === "string" ? path.resolve(cfgPlanFile) : cfgPlanFile,
        migrationUrn,
        entities: [
          ...templates.map((t) => ({ kind: "template" as const, name: t.name, exported: false, imported: true, onConflict: explicitOc(t.onConflict), cluster: t.cluster })),
          ...vms.map((v) => ({ kind: "vm" as const, name: v.name, exported: false, imported: true, onConflict: explicitOc(v.onConflict ?? args.onConflict), newName: v.newName, cluster: v.cluster })),
        ],
      },
      child,
    );
    this.dataDomainAttachment = new DataDomainAttachment(
      `${name}-data-domain`,
      {
        engine: tgtEngine,
        storageDomain: args.dataDomain,
        dataCenter: args.target.dataCenter,
        moveFrom: { dataCenter: args.source.dataCenter, engine: srcEngine },
        entities: [...templates.map((t) => t.name), ...vms.map((v) => v.name)],
        allowSplitVms: args.allowSplitVms,
        host: args.target.host,
        storageConnection: args.target.storageConnection,
      },
      // after the plan: its check reads the engine before the move starts (without this, `pulumi up`'s own run could
      // compute it while the domain is already leaving). The plan never fails a data-domain move, so this only orders.
      { ...this.childOpts(), dependsOn: [this.plan!] },
    );
    const explicitClone = (oc: pulumi.Input<"fail" | "skip" | "clone"> | undefined) => (plain(oc) === "clone" ? true : undefined);
    const tregs: VmRegistration[] = [];
    for (const t of templates) {
      const r = new VmRegistration(
        `${name}-register-template-${t.name}`,
        { engine: tgtEngine, storageDomain: args.dataDomain, kind: "template", name: t.name, cluster: t.cluster ?? args.target.cluster, clone: explicitClone(t.onConflict), allowPartialImport: args.allowPartialImport, expectFrom },
        { ...this.childOpts(), dependsOn: [this.dataDomainAttachment] },
      );
      tregs.push(r);
      this.registrations[`template:${t.name}`] = r;
    }
    for (const v of vms) {
      this.registrations[`vm:${v.name}`] = new VmRegistration(
        `${name}-register-vm-${v.name}`,
        {
          engine: tgtEngine,
          storageDomain: args.dataDomain,
          name: v.name,
          cluster: v.cluster ?? args.target.cluster,
          newName: v.newName,
          clone: explicitClone(v.onConflict ?? args.onConflict),
          reassignBadMacs: args.reassignBadMacs,
          allowPartialImport: args.allowPartialImport,
          expectFrom,
        },
        // thin VMs need their templates registered first (ImportVmCommand.templateExists)
        { ...this.childOpts(), dependsOn: [this.dataDomainAttachment, ...tregs] },
      );
    }
    pulumi.log.info(
      `data-domain move: ${args.dataDomain} leaves ${args.source.dataCenter} with its VMs and templates (the attachment's preview lists each one); ` +
        `registered in ${args.target.dataCenter}: ${[...templates.map((t) => `template ${t.name}`), ...vms.map((v) => `VM ${v.name}`)].join(", ")}. No disk is copied.`,
      this,
    );
    const entries = Object.entries(this.registrations).filter(([k]) => k.startsWith("vm:") || k.startsWith("template:"));
    return pulumi.all(entries.map(([, r]) => pulumi.all([r.entityId, r.registeredName]))).apply((vals) => {
      const out: Record<string, MigratedEntity> = {};
      vals.forEach(([vmId, vmName], i) => (out[entries[i][0]] = { vmId, vmName, imported: true, cloned: false, collapsed: false }));
      return out;
    });
  }
}
