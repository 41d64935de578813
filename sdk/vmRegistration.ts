import * as pulumi from "@pulumi/pulumi";
import { EngineConnectionArgs, resolveEngine } from "./connection";
import { OvirtResource } from "./base";

/** A name in the source engine -> a name in this engine. */
export interface NameMappingArgs {
  from: pulumi.Input<string>;
  to: pulumi.Input<string>;
}

/** The engine's `registration_configuration`, typed (each `to` is checked against the target at preview). */
export interface RegistrationConfigurationArgs {
  clusterMappings?: NameMappingArgs[];
  roleMappings?: NameMappingArgs[];
  /**
   * Authz domains of the users with permissions on the entity (`from`: the source's name, `to`: one this engine's
   * `GET /domains` lists; an unknown `to`, or a `from` given twice, fails the preview). The engine looks each mapping
   * up by the user's login name (ovirt-engine `DrMappingHelper.mapDbUsers`).
   */
  domainMappings?: NameMappingArgs[];
  affinityGroupMappings?: NameMappingArgs[];
  affinityLabelMappings?: NameMappingArgs[];
}

/** Re-points NICs of a network/profile of the source to a vNIC profile of the target (checked at preview). */
export interface VnicProfileMappingArgs {
  sourceNetwork: pulumi.Input<string>;
  sourceProfile: pulumi.Input<string>;
  targetProfile: pulumi.Input<string>;
}

export interface VmRegistrationArgs {
  /** Engine connection of the target; defaults to stack config `ovirt:*`. */
  engine?: EngineConnectionArgs;
  /** The data domain the VM/template is stored on. */
  storageDomain: pulumi.Input<string>;
  /** `vm` (default) or `template`. */
  kind?: pulumi.Input<"vm" | "template">;
  /** Its name as stored on the domain. */
  name: pulumi.Input<string>;
  /** Target cluster (default: its cluster mapping, else a cluster named like its source cluster). */
  cluster?: pulumi.Input<string>;
  /** Register without the disks that are not on an active domain of the target data center. */
  allowPartialImport?: pulumi.Input<boolean>;
  /** VMs: MACs in use in the target pool (or outside its ranges) get new ones from it. */
  reassignBadMacs?: pulumi.Input<boolean>;
  /** Register as a new entity (new id); a template is renamed only as a clone. */
  clone?: pulumi.Input<boolean>;
  /** The name it gets in the target. */
  newName?: pulumi.Input<string>;
  registrationConfiguration?: RegistrationConfigurationArgs;
  vnicProfileMappings?: VnicProfileMappingArgs[];
  /** Where the domain is before this stack moves it: the preview judges the entity there. */
  expectFrom?: { dataCenter: pulumi.Input<string>; engine?: EngineConnectionArgs };
  /** Take an entity already registered in the target (same id) without owning it. */
  adopt?: pulumi.Input<boolean>;
  /** Time limit in minutes (default 30). */
  timeoutMinutes?: pulumi.Input<number>;
}

/** One unregistered VM or template of a data domain registered into a cluster (nothing is copied). */
export class VmRegistration extends OvirtResource {
  public readonly entityId!: pulumi.Output<string>;
  public readonly registeredName!: pulumi.Output<string>;
  public readonly clusterId!: pulumi.Output<string>;
  public readonly ownership!: pulumi.Output<"created" | "adopted">;
  public readonly missingDisks!: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: VmRegistrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "VmRegistration",
      name,
      {
        engine: resolveEngine(args.engine),
        storageDomain: args.storageDomain,
        kind: args.kind,
        name: args.name,
        cluster: args.cluster,
        allowPartialImport: args.allowPartialImport,
        reassignBadMacs: args.reassignBadMacs,
        clone: args.clone,
        newName: args.newName,
        registrationConfiguration: args.registrationConfiguration,
        vnicProfileMappings: args.vnicProfileMappings,
        expectFrom: args.expectFrom ? { dataCenter: args.expectFrom.dataCenter, engine: args.expectFrom.engine ? resolveEngine(args.expectFrom.engine) : undefined } : undefined,
        adopt: args.adopt,
        timeoutMinutes: args.timeoutMinutes,
        entityId: undefined,
        registeredName: undefined,
        clusterId: undefined,
        ownership: undefined,
        missingDisks: undefined,
      },
      opts,
      ["expectFrom"],
    );
  }
}
