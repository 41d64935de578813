import { EngineHttp } from "../http";
import { Template, Vm } from "../types";
import { encodeId } from "./util";

export type RegistrationKind = "vm" | "template";

/** One `registration_configuration/<x>_mappings` entry: a name in the source engine -> a name in this one. */
export interface NameMapping {
  from: string;
  to: string;
}

/** The typed `registration_configuration` of a register (API model `RegistrationConfiguration`). */
export interface RegistrationConfiguration {
  clusterMappings?: NameMapping[];
  roleMappings?: NameMapping[];
  domainMappings?: NameMapping[];
  affinityGroupMappings?: NameMapping[];
  affinityLabelMappings?: NameMapping[];
}

export interface RegisterOptions {
  /** target cluster by id (wins over the mappings, like `cluster` of the action) */
  clusterId?: string;
  allowPartialImport?: boolean;
  /** VMs only: MACs in use in the target pool or outside its ranges get new ones from the pool */
  reassignBadMacs?: boolean;
  clone?: boolean;
  /** new name (VMs: the action's `<name>`; templates: `<template><name>` with `<vm/>`, the only form the restapi reads) */
  newName?: string;
  registrationConfiguration?: RegistrationConfiguration;
  correlationId: string;
}

const MAPPINGS: Array<[keyof RegistrationConfiguration, string, string]> = [
  ["clusterMappings", "cluster_mappings", "registration_cluster_mapping"],
  ["roleMappings", "role_mappings", "registration_role_mapping"],
  ["domainMappings", "domain_mappings", "registration_domain_mapping"],
  ["affinityGroupMappings", "affinity_group_mappings", "registration_affinity_group_mapping"],
  ["affinityLabelMappings", "affinity_label_mappings", "registration_affinity_label_mapping"],
];

/**
 * The VMs and templates stored on a DATA domain that this engine has not registered, and their registration:
 * `GET /storagedomains/{sd}/vms|templates?unregistered=true`, `POST /storagedomains/{sd}/vms|templates/{id}/register`
 * (API model `StorageDomainVmService.register`, `StorageDomainTemplateService.register`). The simulator's side is
 * `simulator/services/registration.ts`.
 */
export class RegistrationService {
  constructor(
    private readonly http: EngineHttp,
    readonly kind: RegistrationKind,
  ) {}
  private base(sdId: string) {
    return `/storagedomains/${encodeId(sdId)}/${this.kind === "vm" ? "vms" : "templates"}`;
  }
  /**
   * The unregistered entities of the domain (read by the engine from the domain's OVF_STORE when it was attached to
   * a data center; an unattached domain lists none). `follow=disk_attachments.disk` gives each one's disks and the
   * storage domain of each disk (a disk on another domain makes the register partial).
   */
  listUnregistered(sdId: string, follow = "disk_attachments.disk"): Promise<Array<Vm | Template>> {
    const q: Record<string, string> = follow ? { unregistered: "true", follow } : { unregistered: "true" };
    return this.kind === "vm"
      ? this.http.list(this.base(sdId), "vms", "vm", Vm, q)
      : this.http.list(this.base(sdId), "templates", "template", Template, q);
  }
  /** The registered entities with disks on the domain (no `unregistered`). */
  listRegistered(sdId: string): Promise<Array<Vm | Template>> {
    return this.kind === "vm"
      ? this.http.list(this.base(sdId), "vms", "vm", Vm)
      : this.http.list(this.base(sdId), "templates", "template", Template);
  }
  /**
   * Registers one unregistered entity in place (no copy). Synchronous in the engine (PollingType.JOB): the answer
   * comes when the command is done.
   */
  register(sdId: string, id: string, o: RegisterOptions) {
    const body: Record<string, unknown> = {};
    if (o.clusterId) body.cluster = { id: o.clusterId };
    if (o.allowPartialImport !== undefined) body.allow_partial_import = o.allowPartialImport;
    if (this.kind === "vm" && o.reassignBadMacs !== undefined) body.reassign_bad_macs = o.reassignBadMacs;
    if (o.clone !== undefined) body.clone = o.clone;
    if (o.newName) {
      // BackendStorageDomainVmResource.register: the action's <name> (a <vm><name> with <clone> is a
      // NullPointerException there); BackendStorageDomainTemplateResource.register renames only when <vm> is set
      // too (action.isSetVm() && action.getTemplate().isSetName())
      if (this.kind === "vm") body.name = o.newName;
      else {
        body.template = { name: o.newName };
        body.vm = { name: o.newName };
      }
    }
    const rc = o.registrationConfiguration;
    if (rc) {
      const out: Record<string, unknown> = {};
      for (const [key, plural, single] of MAPPINGS) {
        const list = rc[key];
        if (list?.length) out[plural] = { [single]: list.map((m) => ({ from: { name: m.from }, to: { name: m.to } })) };
      }
      if (Object.keys(out).length) body.registration_configuration = out;
    }
    return this.http.action(`${this.base(sdId)}/${encodeId(id)}`, "register", body, { correlationId: o.correlationId });
  }
}

/** A vNIC profile of the target engine (`GET /vnicprofiles`), for validating vNIC profile mappings at preview. */
export interface VnicProfileRef {
  id: string;
  name: string;
  network?: { id?: string; name?: string };
}

/** The engine's vNIC profiles; an engine that has no such collection (404) has none to map to. */
export async function listVnicProfiles(http: EngineHttp): Promise<VnicProfileRef[]> {
  const { z } = await import("zod");
  const P = z.object({ id: z.string(), name: z.string(), network: z.object({ id: z.string().optional(), name: z.string().optional() }).optional() });
  try {
    return await http.list("/vnicprofiles", "vnic_profiles", "vnic_profile", P, { follow: "network" });
  } catch (e) {
    if ((e as { status?: number }).status === 404) return [];
    throw e;
  }
}
