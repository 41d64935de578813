import * as pulumi from "@pulumi/pulumi";
import { OvirtResource } from "./base";
import { EngineConnectionArgs, resolveEngine } from "./connection";

/** One template or VM as `Migration` planned it (plain values where known; Outputs are resolved by Pulumi). */
export interface MigrationPlanEntity {
  kind: "vm" | "template";
  name: string;
  exported: boolean;
  imported: boolean;
  discardSnapshots?: pulumi.Input<boolean>;
  collapseSnapshots?: pulumi.Input<boolean>;
  shutdownIfRunning?: pulumi.Input<boolean>;
  onConflict?: pulumi.Input<"fail" | "skip" | "clone">;
  newName?: pulumi.Input<string>;
  cloneSuffix?: pulumi.Input<string>;
  cluster?: pulumi.Input<string>;
  storageDomain?: pulumi.Input<string>;
  diskDomains?: pulumi.Input<Array<{ alias?: pulumi.Input<string>; storageDomain?: pulumi.Input<string>; allocation?: pulumi.Input<string> }>>;
  permissions?: Array<{ user?: pulumi.Input<string>; group?: pulumi.Input<string>; role: pulumi.Input<string> }>;
}

export interface MigrationPlanArgs {
  /** The Migration's name (its children are named after it). */
  name: string;
  engine?: EngineConnectionArgs;
  targetEngine?: EngineConnectionArgs;
  crossEngine: boolean;
  source: { dataCenter: string };
  target: { dataCenter: string; cluster?: pulumi.Input<string>; storageDomain?: pulumi.Input<string> };
  /** method "export-domain": the export domain the copies go through */
  exportDomain?: string;
  /** "data-domain": `dataDomain` moves with the VMs and they are registered (no copy); default "export-domain" */
  method?: "export-domain" | "data-domain";
  dataDomain?: string;
  allowSplitVms?: pulumi.Input<boolean>;
  allowPartialImport?: pulumi.Input<boolean>;
  reassignBadMacs?: pulumi.Input<boolean>;
  stage: "export" | "import" | "all";
  concurrency: number;
  throughputMiBps?: pulumi.Input<number>;
  planFile?: pulumi.Input<string>;
  entities: MigrationPlanEntity[];
  /** The Migration's URN (without its dependencies): the plan and the live progress are shown on its line. */
  migrationUrn: pulumi.Input<string>;
}

/**
 * The plan of one `Migration` (declared by it; not meant to be declared alone). Its check computes the plan at every
 * preview from the engines (reads only) and shows it under the Migration; a move that cannot fit fails there. It
 * never changes the engine. Outputs: the inputs without the hidden spec (`__plan`: its digest instead) and `totals`
 * (entities, bytes exported/imported, estimated seconds).
 */
export class MigrationPlan extends OvirtResource {
  public readonly totals!: pulumi.Output<{ entities: number; exportBytes: number; importBytes: number; seconds: number | null } | undefined>;

  constructor(name: string, args: MigrationPlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "MigrationPlan",
      name,
      {
        name: args.name,
        engine: resolveEngine(args.engine),
        targetEngine: args.targetEngine ? resolveEngine(args.targetEngine) : undefined,
        // the rest under a hidden key: `pulumi preview --diff` does not print `__` keys, and the plan's table says
        // all of it once, in a reviewer's terms (the resources' own inputs already list every argument)
        __plan: {
          crossEngine: args.crossEngine,
          source: args.source,
          target: args.target,
          exportDomain: args.exportDomain,
          method: args.method,
          dataDomain: args.dataDomain,
          allowSplitVms: args.allowSplitVms,
          allowPartialImport: args.allowPartialImport,
          reassignBadMacs: args.reassignBadMacs,
          stage: args.stage,
          concurrency: args.concurrency,
          throughputMiBps: args.throughputMiBps,
          planFile: args.planFile,
          entities: args.entities,
        },
        __migrationUrn: args.migrationUrn,
        // a preview shows the whole table; `pulumi up`'s own run (after its preview) only a summary
        __dryRun: pulumi.runtime.isDryRun(),
        totals: undefined,
      },
      opts,
      ["targetEngine"],
    );
  }
}
