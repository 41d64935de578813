/** VmRegistration arguments and outputs (docs/design.md "Data-domain move"). */
import { z } from "zod";
import { EngineArgs, zKind, zName } from "../common";

const Mapping = (what: string) =>
  z.object({ from: zName(`registrationConfiguration.${what}[].from`), to: zName(`registrationConfiguration.${what}[].to`) });

/** API model `RegistrationConfiguration`, typed: each mapping names the source's value and this engine's. */
export const RegistrationConfigurationArgs = z
  .object({
    clusterMappings: z.array(Mapping("clusterMappings")).optional(),
    roleMappings: z.array(Mapping("roleMappings")).optional(),
    domainMappings: z.array(Mapping("domainMappings")).optional(),
    affinityGroupMappings: z.array(Mapping("affinityGroupMappings")).optional(),
    affinityLabelMappings: z.array(Mapping("affinityLabelMappings")).optional(),
  })
  .strict();

export const VnicProfileMappingArgs = z.object({
  sourceNetwork: zName("vnicProfileMappings[].sourceNetwork"),
  sourceProfile: zName("vnicProfileMappings[].sourceProfile"),
  /** the vNIC profile of this engine the NICs get (by name) */
  targetProfile: zName("vnicProfileMappings[].targetProfile"),
});

export const VmRegistrationArgs = z
  .object({
    engine: EngineArgs,
    /** the data domain the entity is stored on */
    storageDomain: zName("storageDomain"),
    kind: zKind.default("vm"),
    /** the entity's name as stored on the domain */
    name: zName("name"),
    /** target cluster (default: the cluster mapping of the entity's own cluster, else a cluster of that name) */
    cluster: zName("cluster").optional(),
    /** register without the disks that are not on an active domain of the target data center */
    allowPartialImport: z.boolean().optional(),
    /** VMs: MACs in use in the target pool (or outside its ranges) get new ones */
    reassignBadMacs: z.boolean().optional(),
    /** register as a new entity (new id); templates need it to be renamed */
    clone: z.boolean().optional(),
    /** the name it gets in the target */
    newName: zName("newName").optional(),
    registrationConfiguration: RegistrationConfigurationArgs.optional(),
    vnicProfileMappings: z.array(VnicProfileMappingArgs).optional(),
    /** where the domain is before the stack moves it (the preview then judges the entity there) */
    expectFrom: z.object({ dataCenter: zName("expectFrom.dataCenter"), engine: EngineArgs.optional() }).optional(),
    /** take an entity already registered in the target (same id) as this resource's without owning it */
    adopt: z.boolean().optional(),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.kind === "template" && a.reassignBadMacs !== undefined) ctx.addIssue({ code: "custom", path: ["reassignBadMacs"], message: "reassignBadMacs is for VMs only (the engine's template register has no such parameter)" });
    if (a.kind === "template" && a.newName && !a.clone) {
      ctx.addIssue({ code: "custom", path: ["newName"], message: "newName: a template is renamed on register only as a clone (BackendStorageDomainTemplateResource.register); set clone: true" });
    }
    if (a.clone && a.adopt) ctx.addIssue({ code: "custom", path: ["adopt"], message: "adopt: a clone is a new entity; there is nothing to adopt" });
  });
export type VmRegistrationArgs = z.infer<typeof VmRegistrationArgs>;

export interface VmRegistrationOutputs extends VmRegistrationArgs {
  /** id of the registered entity (the stored one's, or a new one for a clone) */
  entityId: string;
  /** id of the entity as stored on the domain */
  sourceId: string;
  registeredName: string;
  clusterId: string;
  ownership: "created" | "adopted";
  /** disks left out (allowPartialImport) */
  missingDisks?: string[];
}
