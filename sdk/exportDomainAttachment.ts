import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, resolveEngine } from "./connection";
import { OvirtResource } from "./base";

/** Another place of the export domain: a data center, optionally of another engine. */
export interface DataCenterRef {
  /** Data center name. */
  dataCenter: pulumi.Input<string>;
  /** The engine of that data center when it is not this resource's engine (cross-engine move). */
  engine?: EngineConnectionArgs;
}

/** Storage connection of the export domain, to import it into an engine that does not know it. */
export interface StorageConnectionArgs {
  /** `nfs` (default), `posixfs`, `glusterfs` or `localfs`. */
  type?: pulumi.Input<"nfs" | "posixfs" | "glusterfs" | "localfs">;
  /** NFS server. */
  address?: pulumi.Input<string>;
  /** Export path on the server. */
  path: pulumi.Input<string>;
  /** NFS version (`v3`, `v4`, `auto`). */
  nfsVersion?: pulumi.Input<string>;
  /** Extra mount options. */
  mountOptions?: pulumi.Input<string>;
}

export interface ExportDomainAttachmentArgs {
  /** Engine connection; defaults to stack config `ovirt:*`. */
  engine?: EngineConnectionArgs;
  /** Name of the export storage domain. */
  exportDomain: pulumi.Input<string>;
  /** Data center where the domain must be attached and active. Changing it moves the domain in place. */
  dataCenter: pulumi.Input<string>;
  /** Allow moving the domain away from a data center this resource does not manage (default false: fail). */
  takeOver?: pulumi.Input<boolean>;
  /**
   * Where another stage of this stack attached the domain (e.g. the source data center of a migration): the domain
   * is detached there (and, with `engine`, removed from that engine without formatting and imported here).
   */
  moveFrom?: DataCenterRef;
  /**
   * Marks this attachment as a stage: once the domain sits in this data center, refresh and destroy leave it alone.
   */
  handOffTo?: DataCenterRef;
  /** Host that mounts the domain when it is imported into this engine (default: any host up in `dataCenter`). */
  host?: pulumi.Input<string>;
  /** Storage connection to import the domain (default: read from the engine of `moveFrom`). */
  storageConnection?: StorageConnectionArgs;
  /** Deactivate and detach on destroy (default true). */
  detachOnDelete?: pulumi.Input<boolean>;
  /** Time limit of one operation in minutes (default 30). */
  timeoutMinutes?: pulumi.Input<number>;
}

function refWithEngine(r?: DataCenterRef): any {
  if (!r) return undefined;
  return { dataCenter: r.dataCenter, engine: r.engine ? resolveEngine(r.engine) : undefined };
}

/** An export domain attached and active in a data center. */
export class ExportDomainAttachment extends OvirtResource {
  /** Engine id of the export domain. */
  public readonly exportDomainId!: pulumi.Output<string>;
  /** Engine id of the data center. */
  public readonly dataCenterId!: pulumi.Output<string>;
  /** Status of the domain in the data center (`active`). */
  public readonly status!: pulumi.Output<string>;
  /** The domain was attached to `dataCenter` before this resource: destroy leaves it attached. */
  public readonly foundAttached!: pulumi.Output<boolean | undefined>;
  public readonly exportDomain!: pulumi.Output<string>;
  public readonly dataCenter!: pulumi.Output<string>;

  constructor(name: string, args: ExportDomainAttachmentArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "ExportDomainAttachment",
      name,
      {
        engine: resolveEngine(args.engine),
        exportDomain: args.exportDomain,
        dataCenter: args.dataCenter,
        takeOver: args.takeOver,
        moveFrom: refWithEngine(args.moveFrom),
        handOffTo: refWithEngine(args.handOffTo),
        host: args.host,
        storageConnection: args.storageConnection,
        detachOnDelete: args.detachOnDelete,
        timeoutMinutes: args.timeoutMinutes,
        exportDomainId: undefined,
        dataCenterId: undefined,
        status: undefined,
        foundAttached: undefined,
      },
      opts,
      ["moveFrom", "handOffTo"],
    );
  }
}
