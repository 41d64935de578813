import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, resolveEngine } from "./connection";
import { OvirtResource } from "./base";
import { StorageConnectionArgs } from "./exportDomainAttachment";

/** Where the data domain is before the move: a data center, optionally of another engine. */
export interface DataDomainSourceArgs {
  /** Data center name. */
  dataCenter: pulumi.Input<string>;
  /** The engine of that data center when it is not this resource's engine (cross-engine move). */
  engine?: EngineConnectionArgs;
  /** Cluster a destroy registers the returned VMs/templates into when their own cluster is not known. */
  cluster?: pulumi.Input<string>;
}

export interface DataDomainAttachmentArgs {
  /** Engine connection of the target; defaults to stack config `ovirt:*`. */
  engine?: EngineConnectionArgs;
  /** Name of the data storage domain that moves. */
  storageDomain: pulumi.Input<string>;
  /** Data center where the domain must end up attached and active. */
  dataCenter: pulumi.Input<string>;
  /**
   * Where the domain is now (required when it is attached elsewhere): it is deactivated and detached there (across
   * engines also removed there without formatting and imported here). Every VM and template on it leaves that
   * data center; the preview lists them.
   */
  moveFrom?: DataDomainSourceArgs;
  /** Names of the VMs and templates expected to leave with the domain; any other one fails the preview. */
  entities?: pulumi.Input<pulumi.Input<string>[]>;
  /** Accept that VMs with disks here and on other domains stay in the source without the disks of this domain. */
  allowSplitVms?: pulumi.Input<boolean>;
  /** Host that mounts the domain when it is imported into this engine (default: any host up in `dataCenter`). */
  host?: pulumi.Input<string>;
  /** Storage connection for the import into this engine (default: read from `moveFrom.engine`). */
  storageConnection?: StorageConnectionArgs;
  /** Destroy returns the domain to `moveFrom` and registers there what left with it (default true). */
  returnOnDelete?: pulumi.Input<boolean>;
  /** Time limit of one operation in minutes (default 30). */
  timeoutMinutes?: pulumi.Input<number>;
}

/** A data storage domain moved to (and active in) a data center: the zero-copy migration path of oVirt 4.4+. */
export class DataDomainAttachment extends OvirtResource {
  public readonly storageDomainId!: pulumi.Output<string>;
  public readonly dataCenterId!: pulumi.Output<string>;
  public readonly status!: pulumi.Output<string>;
  /** What left the source with the domain (preview: what will leave). */
  public readonly leaving!: pulumi.Output<string[]>;
  public readonly storageDomain!: pulumi.Output<string>;
  public readonly dataCenter!: pulumi.Output<string>;

  constructor(name: string, args: DataDomainAttachmentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "DataDomainAttachment",
      name,
      {
        engine: resolveEngine(args.engine),
        storageDomain: args.storageDomain,
        dataCenter: args.dataCenter,
        moveFrom: args.moveFrom ? { dataCenter: args.moveFrom.dataCenter, cluster: args.moveFrom.cluster, engine: args.moveFrom.engine ? resolveEngine(args.moveFrom.engine) : undefined } : undefined,
        entities: args.entities,
        allowSplitVms: args.allowSplitVms,
        host: args.host,
        storageConnection: args.storageConnection,
        returnOnDelete: args.returnOnDelete,
        timeoutMinutes: args.timeoutMinutes,
        storageDomainId: undefined,
        dataCenterId: undefined,
        status: undefined,
        leaving: undefined,
      },
      opts,
      ["moveFrom"],
    );
  }
}
