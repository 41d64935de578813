/** V2VImport's arguments: the zod schemas `check` validates and the SDK's `V2VImportArgs` agrees with (test/sdk/argsAgree.test.ts), and which changes replace. */
import { z } from "zod";
import { EngineArgs, zName } from "../common";

export const VCenterArgs = z.object({
  host: z
    .string({ error: "vcenter.host is required" })
    .min(1, "vcenter.host must not be empty")
    .refine((s) => /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(s), "vcenter.host must be a host name or host:port, without a scheme"),
  datacenterPath: z.string({ error: "vcenter.datacenterPath is required (e.g. \"Folder/Datacenter\")" }).min(1, "vcenter.datacenterPath must not be empty"),
  cluster: z.string().min(1).optional(),
  esxiHost: z.string({ error: "vcenter.esxiHost is required (the ESXi host the VMs run on)" }).min(1, "vcenter.esxiHost must not be empty"),
  username: z.string({ error: "vcenter.username is required" }).min(1, "vcenter.username must not be empty"),
  password: z.string({ error: "vcenter.password is required (a secret)" }).min(1, "vcenter.password must not be empty"),
  /** false: nobody verifies the vCenter certificate (the Pulumi host, and virt-v2v on the proxy host: `no_verify=1`). */
  verifyCertificate: z.boolean().default(true),
  /** SHA-256 or SHA-1 fingerprint of the vCenter certificate (checked by the Pulumi host only). */
  certificateFingerprint: z.string().min(1).optional(),
  caPem: z.string().min(1).optional(),
  /**
   * virt-v2v on the proxy host connects with `no_verify=1` although the Pulumi host verifies (fingerprint / caPem):
   * an explicit opt-in for a proxy host that does not trust the vCenter CA; the vCenter password then travels from
   * the proxy host without certificate verification (the preview warns).
   */
  proxySkipVerify: z.boolean().default(false),
});
export type VCenterArgs = z.infer<typeof VCenterArgs>;

export const ProxySshArgs = z.object({
  /** Defaults to the engine's address of the proxy host. */
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).default("root"),
  privateKey: z.string({ error: "proxySsh.privateKey is required (a secret)" }).min(1, "proxySsh.privateKey must not be empty"),
  passphrase: z.string().optional(),
  /** Pinned host key: "SHA256:..." or an OpenSSH public key line. */
  hostKey: z.string({ error: "proxySsh.hostKey is required: pin the proxy host's SSH host key (SHA256:...)" }).min(1),
  virtV2v: z.enum(["check", "install"], { error: 'proxySsh.virtV2v must be "check" or "install"' }).default("check"),
});

export const PermissionArg = z
  .object({ user: z.string().min(1).optional(), group: z.string().min(1).optional(), role: z.string().min(1) })
  .refine((p) => !!p.user !== !!p.group, { message: "each permission names exactly one of user or group" });

export const V2VImportArgs = z
  .object({
    engine: EngineArgs,
    provider: z.enum(["vmware", "kvm", "xen"]).default("vmware"),
    vcenter: VCenterArgs.optional(),
    /** KVM / Xen source: `qemu+ssh://root@kvm-host/system`, `xen+ssh://root@xen-host`. */
    sourceUrl: z.string().min(1).optional(),
    sourceUsername: z.string().min(1).optional(),
    sourcePassword: z.string().min(1).optional(),
    sourceVms: z.array(zName("sourceVms[]")).min(1, "sourceVms must name at least one VM"),
    cluster: zName("cluster"),
    storageDomain: zName("storageDomain"),
    proxyHost: zName("proxyHost"),
    sparse: z.boolean().default(true),
    /** CPU profile of the target cluster, by name or id; changing it updates the VMs in place. */
    cpuProfile: z.string().min(1).optional(),
    clone: z.object({ name: z.string().min(1).optional(), suffix: z.string().min(1).optional() }).optional(),
    collapseSnapshots: z.boolean().default(true),
    driversIso: z.string().min(1).optional(),
    permissions: z.array(PermissionArg).default([]),
    proxySsh: ProxySshArgs.optional(),
    /** Take over a VM of the target name that this resource did not create: configured, never stopped or removed. */
    adopt: z.boolean().default(false),
    /** Keep the VMs on destroy and on replace (default false: remove the ones this resource created). */
    keepOnDelete: z.boolean().default(false),
    timeoutMinutes: z.number().positive().max(7 * 24 * 60).optional(),
    /** How often the source power state is checked during the import (default 1 s). */
    watchIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  })
  .refine((a) => a.provider !== "vmware" || !!a.vcenter, { message: "vcenter is required for provider \"vmware\"", path: ["vcenter"] })
  .refine((a) => a.provider === "vmware" || !!a.sourceUrl, {
    message: "sourceUrl is required for provider \"kvm\"/\"xen\" (qemu+ssh://user@host/system, xen+ssh://user@host)",
    path: ["sourceUrl"],
  })
  .refine((a) => a.collapseSnapshots, {
    message: "collapseSnapshots: the engine always collapses snapshots on an external (V2V) import; remove collapseSnapshots: false",
    path: ["collapseSnapshots"],
  })
  .refine((a) => !(a.clone?.name && a.sourceVms.length > 1), {
    message: "clone.name renames a single VM; with several sourceVms use clone.suffix",
    path: ["clone", "name"],
  })
  .refine((a) => !(a.clone && !a.clone.name && !a.clone.suffix), { message: "clone needs a new name (clone.name) or a suffix (clone.suffix)", path: ["clone"] })
  .refine((a) => !a.vcenter || !(a.vcenter.certificateFingerprint && a.vcenter.verifyCertificate === false), {
    message: "vcenter: give certificateFingerprint or verifyCertificate: false, not both",
    path: ["vcenter", "certificateFingerprint"],
  });
export type V2VImportArgs = z.infer<typeof V2VImportArgs>;

export const REPLACE_KEYS = ["provider", "sourceUrl", "sourceVms", "cluster", "storageDomain", "proxyHost", "sparse", "clone", "driversIso", "collapseSnapshots"];
export const VCENTER_IDENTITY = ["host", "datacenterPath", "cluster", "esxiHost"];
export const IN_PLACE = ["permissions", "proxySsh", "timeoutMinutes", "watchIntervalMs", "vcenter", "engine", "sourceUsername", "sourcePassword", "cpuProfile", "adopt", "keepOnDelete"];
export const defaults: Record<string, unknown> = { provider: "vmware", sparse: true, permissions: [], watchIntervalMs: 1000, collapseSnapshots: true, adopt: false, keepOnDelete: false };
