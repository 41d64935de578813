/**
 * V2VImport: VMware (vCenter, vpx://), KVM (qemu+ssh://) or Xen (xen+ssh://) VMs imported into a target cluster
 * through the engine's external VM import (`POST /externalvmimports`), which runs virt-v2v on a proxy host of the
 * target data center.
 *
 * - `check` (also during `pulumi preview`, read-only): the target cluster, a data domain (file or block: the engine
 *   accepts both since 4.4, ImportVmFromExternalUrlCommand) active in the cluster's data center, the proxy host up and in that data
 *   center, target names free (or the VM there proven this resource's own, or `adopt: true`); for VMware: vCenter
 *   login (TLS: CA, pinned fingerprint or explicitly off), each VM found at the datacenter path / cluster / ESXi host
 *   and powered off, and a warning when virt-v2v on the proxy host will not verify the vCenter certificate; with
 *   `proxySsh`: the proxy's pinned host key and virt-v2v (mode `check`) or a package manager (mode `install`).
 * - Ownership (provider/resources/ownership.ts): each VM's import carries the correlation id
 *   `resourceCorrelationId(urn, "v2v", target cluster id, target name, source identity)`. A VM of the target name in
 *   the target data center is this resource's only when the engine's audit log proves it (`createdBy`: event 1165 /
 *   1193 with that correlation id and the VM's id). Then a running import is waited for, a finished one taken
 *   (ownership "created"), a half-made one (failed import) removed and imported again. Any other VM of that name is
 *   a conflict (preview error naming `clone` and `adopt`), or, with `adopt: true`, adopted (ownership "adopted":
 *   CPU profile and permissions applied; never stopped, removed or replaced).
 * - `create`: installs virt-v2v when asked, imports VM by VM behind the engine job, shows progress, and watches the
 *   source's power state: a VM powered on in VMware during the import fails the resource with a clear error, and
 *   the half-made VM (only one this resource created) is removed.
 * - `update`: `cpuProfile` (PUT on every VM of the resource), `permissions` (only grants it added are removed).
 * - `diff`: import-time arguments replace (delete before replace), but `guardReplace` refuses at preview when a VM the
 *   replace would delete has run since the import.
 * - `delete` removes only the VMs this resource created (ownership "created"), by recorded id, never stops a VM
 *   (one that is not down fails the delete), and nothing with `keepOnDelete`.
 */
import { z } from "zod";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Vm } from "../client";
import { EngineError, EngineUnavailableError } from "../client/errors";
import {
  ArgError,
  CheckFailure,
  EngineArgs,
  PROGRESS_URN_KEY,
  clientFor,
  connectionFailure,
  engineText,
  jsonEqual,
  sameEngine,
  sameEngineProbe,
  checkConnectionChange,
  sameEngineLive,
  suggest,
  userInputs,
  validate,
  zName,
} from "./common";
import { Ownership, adoptionNote, createdBy, guardReplace, mayRemove, ownershipOf, resourceCorrelationId } from "./ownership";
import { progressFor, Progress } from "../progress";
import { VSphereClient, VmInfo, withVSphere } from "../../lib/vsphere";
import { withProxySsh } from "../../lib/proxyHost";
import { V2vUrlError, buildVpxUrl, parseLibvirtSshUrl } from "../../lib/v2vUrl";
import { sleep } from "../../lib/sleep";
import type { ExternalVmImport, ExternalVmImportSpec, Host } from "../client";
import { searchNames } from "../client/services/util";
import { timeoutMsForBytes } from "../client/wait";
import { JobFailedError, waitForJob } from "./jobs";
import { applyPermissions, checkPermissions } from "./permissions";
import { unknownCpuProfile } from "./vmImport";


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

export interface ImportedDisk {
  id: string;
  alias?: string;
  provisionedBytes: number;
  sparse?: boolean;
}

export interface ImportedVm {
  sourceName: string;
  name: string;
  id: string;
  cpus: number;
  memoryBytes: number;
  disks: ImportedDisk[];
  /** created: imported by this resource (proven by the engine's audit log); adopted: `adopt: true`, kept on destroy. */
  ownership: Ownership;
  /** ownership === "adopted" (kept for states and programs written before `ownership`). */
  adopted: boolean;
  /** The permission grants this resource added on the VM: the only ones it ever removes. */
  permissionIds: string[];
}

export interface V2VImportOutputs extends V2VImportArgs {
  dataCenterId: string;
  clusterId: string;
  storageDomainId: string;
  proxyHostId: string;
  sourceUrl: string;
  vms: ImportedVm[];
  /** Every permission grant this resource added, on all its VMs (`vms[].permissionIds` together). */
  permissionIds: string[];
  virtV2vInstalled: boolean;
}

export function targetName(a: V2VImportArgs, source: string): string {
  if (a.clone?.name) return a.clone.name;
  if (a.clone?.suffix) return `${source}${a.clone.suffix}`;
  return source;
}

/**
 * Does virt-v2v on the proxy host skip the vCenter certificate check (`no_verify=1`)? Only when the user says so:
 * `verifyCertificate: false`, or `proxySkipVerify: true`. A pinned fingerprint or caPem protects the Pulumi host
 * only; without the opt-in the proxy host verifies the vCenter with its own trust store.
 */
export function proxySkipsVerify(v: Pick<VCenterArgs, "verifyCertificate" | "proxySkipVerify">): boolean {
  return v.verifyCertificate === false || v.proxySkipVerify === true;
}

/** The source URL the engine gets. `no_verify=1` only on the user's explicit opt-in (`proxySkipsVerify`). */
export function sourceUrlOf(a: V2VImportArgs): string {
  if (a.provider !== "vmware") return a.sourceUrl!;
  const v = a.vcenter!;
  return buildVpxUrl({
    username: v.username,
    vcenter: v.host,
    datacenterPath: v.datacenterPath,
    cluster: v.cluster,
    esxiHost: v.esxiHost,
    noVerify: proxySkipsVerify(v),
  });
}

/** The preview warning when virt-v2v will not verify the vCenter certificate; undefined when it will. */
export function proxyTlsWarning(a: V2VImportArgs): string | undefined {
  if (a.provider !== "vmware" || !a.vcenter || !proxySkipsVerify(a.vcenter)) return undefined;
  const why = a.vcenter.verifyCertificate === false ? "vcenter.verifyCertificate: false" : "vcenter.proxySkipVerify: true";
  return (
    `${why}: virt-v2v on proxy host ${a.proxyHost} connects to vCenter ${a.vcenter.host} with no_verify=1, so the vCenter password ` +
    `travels from the proxy host without certificate verification. To have it verified, install the vCenter CA in the proxy ` +
    `host's trust store and ${a.vcenter.verifyCertificate === false ? "set verifyCertificate: true (and pin certificateFingerprint or caPem)" : "remove proxySkipVerify"}.`
  );
}

/**
 * The identity of one source VM in the correlation id: the VMware VM's UUID (found again through any vCenter URL),
 * or, for KVM/Xen, the libvirt host and the VM name. Undefined for VMware without the vCenter's answer.
 */
export function sourceIdentity(a: V2VImportArgs, sourceName: string, info?: { uuid?: string }): string | undefined {
  if (a.provider === "vmware") return info ? `vmware:${info.uuid || `${a.vcenter?.datacenterPath}/${sourceName}`}` : undefined;
  try {
    const u = parseLibvirtSshUrl(a.sourceUrl!);
    return `${a.provider}:${u.host.toLowerCase()}${u.port ? `:${u.port}` : ""}/${sourceName}`;
  } catch {
    return `${a.provider}:${a.sourceUrl}/${sourceName}`;
  }
}

/** Correlation id of this resource's import of one source VM as `name` into cluster `clusterId` (ownership.ts). */
export function v2vCorrelationId(urn: string | undefined, clusterId: string, name: string, source: string): string {
  return resourceCorrelationId(urn, "v2v", clusterId, name, source);
}

function vsphereOptions(v: z.infer<typeof VCenterArgs>) {
  return {
    host: v.host,
    username: v.username,
    password: v.password,
    tls: { insecure: !v.verifyCertificate, fingerprint: v.certificateFingerprint, caPem: v.caPem },
    timeoutMs: 60_000,
  };
}

/** vSphere errors -> the argument to fix. */
function vsphereFailure(e: unknown, vmName?: string): CheckFailure {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  switch (err.code) {
    case "login":
      return { property: "vcenter.password", reason: `vcenter.username/vcenter.password: ${msg}` };
    case "tls":
      return { property: "vcenter.certificateFingerprint", reason: `vcenter.certificateFingerprint: ${msg}` };
    case "connection":
    case "timeout":
      return { property: "vcenter.host", reason: `vcenter.host: ${msg}` };
    case "notFound":
      if (/no datacenter/.test(msg)) return { property: "vcenter.datacenterPath", reason: `vcenter.datacenterPath: ${msg}. Give the full inventory path, folders included.` };
      if (/no cluster|cluster "/.test(msg)) return { property: "vcenter.cluster", reason: `vcenter.cluster: ${msg}` };
      if (/ESXi host/.test(msg)) return { property: "vcenter.esxiHost", reason: `vcenter.esxiHost: ${msg}` };
      return { property: "sourceVms", reason: `sourceVms: ${msg}${vmName ? "" : ""}` };
    default:
      return { property: "vcenter.host", reason: `vcenter: ${msg}` };
  }
}

interface Target {
  dc: { id: string; name: string };
  cluster: { id: string; name: string };
  sd: { id: string; name: string };
  host: Host;
  /** `cpuProfile` resolved in the target cluster (by name or id). */
  cpuProfile?: { id: string; name: string };
}

/** Engine-side preflight (read-only). Throws ArgError naming the field. */
async function resolveTarget(c: OvirtClient, a: V2VImportArgs): Promise<Target> {
  const cl = await c.clusters.findByName(a.cluster);
  if (!cl) {
    const all = (await c.clusters.list()).map((x) => x.name);
    throw new ArgError("cluster", `cluster: cluster "${a.cluster}" does not exist in engine ${c.url}.${suggest(a.cluster, all)}`);
  }
  const dcId = cl.data_center?.id;
  if (!dcId) throw new ArgError("cluster", `cluster: cluster "${a.cluster}" belongs to no data center`);
  const dc = await c.datacenters.get(dcId);
  const sd = await c.storageDomains.findByName(a.storageDomain);
  if (!sd) {
    const all = (await c.storageDomains.list()).filter((d) => d.type === "data").map((d) => d.name);
    throw new ArgError("storageDomain", `storageDomain: storage domain "${a.storageDomain}" does not exist in engine ${c.url}.${suggest(a.storageDomain, all)}`);
  }
  if (sd.type && sd.type !== "data") throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is a ${sd.type} domain; V2V imports need a data domain`);
  const att = await c.attachedStorageDomains.get(dcId, sd.id).catch(() => undefined);
  if (!att) {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is not attached to data center ${dc?.name ?? dcId} of cluster ${a.cluster}; Storage Domain and Cluster must be in the same data center`);
  }
  if (att.status && att.status !== "active") {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is ${att.status} in data center ${dc?.name ?? dcId}; activate it first`);
  }
  const host = await c.hosts.findByName(a.proxyHost);
  if (!host) {
    const all = (await c.hosts.list()).map((h) => h.name);
    throw new ArgError("proxyHost", `proxyHost: host "${a.proxyHost}" does not exist in engine ${c.url}.${suggest(a.proxyHost, all)}`);
  }
  const hcl = host.cluster?.id ? await c.clusters.get(host.cluster.id) : undefined;
  if (hcl?.data_center?.id !== dcId) {
    throw new ArgError(
      "proxyHost",
      `proxyHost: host "${host.name}" is not in data center ${dc?.name ?? dcId} (the target); the proxy host must be a host of the destination data center`,
    );
  }
  if (host.status !== "up") {
    throw new ArgError("proxyHost", `proxyHost: host "${host.name}" is ${host.status}; the proxy host must be up`);
  }
  let cpuProfile: Target["cpuProfile"];
  if (a.cpuProfile) {
    // the engine takes the profile by id only; accept its name (or id) in the target cluster, like VmImport
    const profiles = await c.clusters.cpuProfiles(cl.id);
    const p = profiles.find((x) => x.name === a.cpuProfile) ?? profiles.find((x) => x.id === a.cpuProfile);
    if (!p) {
      throw new ArgError("cpuProfile", unknownCpuProfile(cl.name, a.cpuProfile, profiles));
    }
    cpuProfile = { id: p.id, name: p.name };
  }
  return { dc: { id: dcId, name: dc?.name ?? dcId }, cluster: { id: cl.id, name: cl.name }, sd: { id: sd.id, name: sd.name }, host, cpuProfile };
}

function sshTarget(a: V2VImportArgs, host: { address?: string; name: string }) {
  const s = a.proxySsh!;
  return {
    host: s.host ?? host.address ?? host.name,
    port: s.port,
    username: s.user,
    privateKey: s.privateKey,
    passphrase: s.passphrase,
    hostKey: s.hostKey,
    timeoutMs: 20_000,
  };
}

/** The proxy host over SSH: pinned host key, virt-v2v (check) or a package manager (install, read-only here). */
async function proxyFailures(a: V2VImportArgs, host: { address?: string; name: string }, install: boolean): Promise<{ failures: CheckFailure[]; installed: boolean }> {
  if (!a.proxySsh) return { failures: [], installed: false };
  try {
    return await withProxySsh(sshTarget(a, host), async (s) => {
      if (install) {
        const st = await s.ensureVirtV2v(a.proxySsh!.virtV2v);
        return { failures: [], installed: st.installed };
      }
      const st = await s.detectVirtV2v();
      if (st.present) return { failures: [], installed: false };
      if (a.proxySsh!.virtV2v === "check") {
        return {
          failures: [
            {
              property: "proxySsh.virtV2v",
              reason: `proxySsh.virtV2v: virt-v2v is not installed on proxy host ${host.name} (${s.target.username}@${s.target.host}:${s.target.port}). Install it (dnf install -y virt-v2v), or set proxySsh.virtV2v: "install".`,
            },
          ],
          installed: false,
        };
      }
      if (!st.packageManager) {
        return {
          failures: [{ property: "proxySsh.virtV2v", reason: `proxySsh.virtV2v: virt-v2v is missing on proxy host ${host.name} and it has neither dnf nor yum to install it with` }],
          installed: false,
        };
      }
      return { failures: [], installed: false };
    });
  } catch (e) {
    const pe = e as { code?: string; message: string };
    const property = pe.code === "hostKey" ? "proxySsh.hostKey" : pe.code === "auth" ? "proxySsh.privateKey" : pe.code === "missing" || pe.code === "install" ? "proxySsh.virtV2v" : "proxySsh.host";
    return { failures: [{ property, reason: `${property}: ${pe.message}` }], installed: false };
  }
}

/** vCenter preflight: every source VM found at the path and powered off. */
async function vcenterFailures(a: V2VImportArgs): Promise<{ failures: CheckFailure[]; vms: Map<string, VmInfo> }> {
  const vms = new Map<string, VmInfo>();
  if (a.provider !== "vmware") return { failures: [], vms };
  const v = a.vcenter!;
  let client: VSphereClient;
  try {
    client = await VSphereClient.connect(vsphereOptions(v));
  } catch (e) {
    return { failures: [vsphereFailure(e)], vms };
  }
  const failures: CheckFailure[] = [];
  try {
    for (const name of a.sourceVms) {
      try {
        const info = await client.findVm(v.datacenterPath, name, { cluster: v.cluster, host: v.esxiHost });
        vms.set(name, info);
        if (info.powerState !== "poweredOff") {
          failures.push({
            property: "sourceVms",
            reason:
              `sourceVms: VM "${name}" is ${info.powerState} in vCenter ${v.host}. virt-v2v imports only VMs that are shut down ` +
              `(powering it on during the import corrupts its data): shut it down in VMware first.`,
          });
        }
      } catch (e) {
        const f = vsphereFailure(e, name);
        failures.push(f);
        if (f.property !== "sourceVms") break; // path problems apply to every VM
      }
    }
  } finally {
    await client.logout();
  }
  return { failures, vms };
}

/** VMs named one of `names` in data center `dcId` (a name is unique per data center, not per engine), with their cluster. */
async function vmsNamedInDc(c: OvirtClient, dcId: string, names: string[]): Promise<Map<string, { vm: Vm; cluster: string }>> {
  const out = new Map<string, { vm: Vm; cluster: string }>();
  if (names.length === 0) return out;
  const found = (await c.vms.list(searchNames(names))).filter((vm) => names.includes(vm.name));
  if (found.length === 0) return out;
  const clusters = await c.clusters.list();
  for (const vm of found) {
    const cl = clusters.find((x) => x.id === vm.cluster?.id);
    if (cl && cl.data_center?.id === dcId) out.set(vm.name, { vm, cluster: cl.name });
  }
  return out;
}

/** A VM of the target name that this resource did not create, without `adopt: true`: the error and both ways out. */
function conflictFailure(a: V2VImportArgs, vm: Vm, cluster: string, dc: string): CheckFailure {
  const property = a.clone ? "clone" : "sourceVms";
  const portal = vm.origin === a.provider ? ` (it was imported from ${a.provider} earlier, e.g. through the Administration Portal or by another stack)` : "";
  return {
    property,
    reason:
      `${property}: VM "${vm.name}" (id ${vm.id}, cluster ${cluster}${vm.origin ? `, origin ${vm.origin}` : ""}) already exists in data center ${dc} ` +
      `and was not created by this resource${portal}; nothing was changed. Import under another name with ` +
      `${a.clone ? "another clone.name / clone.suffix" : 'clone: { name: "..." } (one VM) or clone: { suffix: "..." }'}, or set adopt: true to manage ` +
      `that VM (CPU profile and permissions applied; it is never stopped or removed, and is kept on destroy).`,
  };
}

/**
 * Preview of the target names: a VM of a target name in the target data center must be this resource's own (proven by
 * the engine's audit log), or adopted (`adopt: true`, announced), or it is a failure naming `clone` and `adopt`.
 * `prev` (the arguments in the state, on a replace): a VM its import created is this resource's too — the replace
 * deletes it before importing again.
 */
async function targetNameFailures(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  infos: Map<string, VmInfo>,
  urn: string | undefined,
  progress: Progress,
  prev?: V2VImportArgs,
): Promise<CheckFailure[]> {
  const named = await vmsNamedInDc(c, t.dc.id, a.sourceVms.map((s) => targetName(a, s)));
  const out: CheckFailure[] = [];
  const prevClusterId = prev && named.size ? (prev.cluster === a.cluster ? t.cluster.id : (await c.clusters.findByName(prev.cluster))?.id) : undefined;
  for (const src of a.sourceVms) {
    const there = named.get(targetName(a, src));
    if (!there) continue;
    const source = sourceIdentity(a, src, infos.get(src));
    if (!source) continue; // the vCenter did not answer: its failure is reported; ownership cannot be decided
    const cids = [v2vCorrelationId(urn, t.cluster.id, there.vm.name, source)];
    if (prev && prevClusterId) {
      for (const ps of prev.sourceVms) {
        if (targetName(prev, ps) !== there.vm.name) continue;
        const prevSource = sourceIdentity(prev, ps, infos.get(ps));
        if (prevSource) cids.push(v2vCorrelationId(urn, prevClusterId, there.vm.name, prevSource));
      }
    }
    if (await createdBy(c, cids, there.vm.id)) continue; // ours: up resumes it, or the replace deletes it first
    if (a.adopt) {
      progress.info(adoptionNote("VM", there.vm.name, there.vm.id));
      continue;
    }
    out.push(conflictFailure(a, there.vm, there.cluster, t.dc.name));
  }
  return out;
}

const REPLACE_KEYS = ["provider", "sourceUrl", "sourceVms", "cluster", "storageDomain", "proxyHost", "sparse", "clone", "driversIso", "collapseSnapshots"];
const VCENTER_IDENTITY = ["host", "datacenterPath", "cluster", "esxiHost"];
const IN_PLACE = ["permissions", "proxySsh", "timeoutMinutes", "watchIntervalMs", "vcenter", "engine", "sourceUsername", "sourcePassword", "cpuProfile", "adopt", "keepOnDelete"];
const defaults: Record<string, unknown> = { provider: "vmware", sparse: true, permissions: [], watchIntervalMs: 1000, collapseSnapshots: true, adopt: false, keepOnDelete: false };

/** `vcenter` with its defaults, so an old state without `proxySkipVerify` compares equal to `false`. */
function vcenterNorm(v: any): any {
  if (!v || typeof v !== "object") return v;
  return { ...v, verifyCertificate: v.verifyCertificate ?? true, proxySkipVerify: v.proxySkipVerify ?? false };
}

/** The import-time arguments that differ (a new import: replace), the engine left to the caller. */
function importKeysChanged(o: any, n: any): string[] {
  const out: string[] = [];
  for (const k of REPLACE_KEYS) {
    if (k === "sourceUrl" && (n.provider ?? "vmware") === "vmware") continue; // an output for vpx://
    if (!jsonEqual(o[k] ?? defaults[k], n[k] ?? defaults[k])) out.push(k);
  }
  const ov = o.vcenter ?? {};
  const nv = n.vcenter ?? {};
  for (const k of VCENTER_IDENTITY) if (!jsonEqual(ov[k], nv[k])) out.push(`vcenter.${k}`);
  return out;
}

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(V2VImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  if (hasUnknowns) return { inputs: news, failures };
  const urn = news[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `v2v ${args.sourceVms.join(", ")}`);
  const cacheKey = `${args.engine.url}|${args.engine.username}`;
  const prev = olds && Object.keys(userInputs(olds)).length ? userInputs(olds) : undefined;
  // olds exist only for a resource already in the state: with the same import identity the import is done, so the
  // source is not re-checked (it may be running again by now); only what changes in place is
  if (prev && (await sameEngineProbe(prev.engine, args.engine)) && importKeysChanged(prev, args).length === 0) {
    const fs: CheckFailure[] = [];
    await checkConnectionChange(prev.engine, args.engine, fs);
    const profileChanged = !!args.cpuProfile && !jsonEqual(prev.cpuProfile, args.cpuProfile);
    const permsChanged = !jsonEqual(prev.permissions ?? [], args.permissions);
    if (profileChanged || permsChanged) {
      try {
        const c = clientFor(args.engine);
        if (profileChanged) {
          const cl = await c.clusters.findByName(args.cluster);
          const profiles = cl ? await c.clusters.cpuProfiles(cl.id) : [];
          if (cl && !profiles.some((p) => p.name === args.cpuProfile || p.id === args.cpuProfile)) {
            fs.push({ property: "cpuProfile", reason: unknownCpuProfile(cl.name, args.cpuProfile!, profiles) });
          }
        }
        if (permsChanged) await checkPermissions(c, cacheKey, args.permissions, fs);
      } catch (e) {
        const f = connectionFailure(e);
        if (f) fs.push(f);
        else throw e;
      }
    }
    return { inputs: news, failures: [...failures, ...fs] };
  }
  const warning = proxyTlsWarning(args);
  if (warning) progress.warn(warning);
  const fs: CheckFailure[] = [];
  try {
    if (args.provider !== "vmware") {
      try {
        const u = parseLibvirtSshUrl(args.sourceUrl!);
        if ((args.provider === "kvm") !== (u.scheme === "qemu+ssh")) {
          fs.push({ property: "sourceUrl", reason: `sourceUrl: provider "${args.provider}" needs a ${args.provider === "kvm" ? "qemu+ssh://" : "xen+ssh://"} URL` });
        }
      } catch (e) {
        if (e instanceof V2vUrlError) fs.push({ property: "sourceUrl", reason: `sourceUrl: ${e.message}` });
        else throw e;
      }
    }
    const c = clientFor(args.engine);
    let target: Target | undefined;
    try {
      target = await resolveTarget(c, args);
    } catch (e) {
      if (e instanceof ArgError) fs.push({ property: e.property, reason: e.message });
      else throw e;
    }
    const vc = await vcenterFailures(args);
    const prevArgs = prev ? V2VImportArgs.safeParse(prev) : undefined;
    if (target) fs.push(...(await targetNameFailures(c, args, target, vc.vms, urn, progress, prevArgs?.success ? prevArgs.data : undefined)));
    await checkPermissions(c, cacheKey, args.permissions, fs);
    fs.push(...vc.failures);
    if (target) fs.push(...(await proxyFailures(args, target.host, false)).failures);
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  return { inputs: news, failures: [...failures, ...fs] };
}

/**
 * A replace deletes the VMs this resource created (not adopted ones, nothing with keepOnDelete) before importing
 * again: refused at preview when one of them has run since the import (`guardReplace`, ownership.ts).
 */
async function guardV2vReplace(o: any, replaces: string[]): Promise<void> {
  if (o.keepOnDelete) return;
  const doomed = ((o.vms ?? []) as ImportedVm[]).filter((v) => v && v.id && mayRemove(v)).map((v) => ({ id: v.id, name: v.name }));
  if (doomed.length === 0) return;
  const e = EngineArgs.safeParse(o.engine);
  if (!e.success) return;
  await guardReplace(clientFor(e.data), "vm", doomed, replaces, `V2VImport of ${(o.sourceVms ?? []).join(", ")}`);
}

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  // olds are the outputs (args parsed with their defaults, plus sourceUrl etc.); parse news the same way
  const o = userInputs(olds);
  const raw = userInputs(news);
  const parsed = V2VImportArgs.safeParse(raw);
  const n: any = parsed.success ? parsed.data : raw;
  const replaces: string[] = [];
  // the same engine reached by another URL (alias, case, default port) is not another engine
  if (!(await sameEngineLive(o.engine, n.engine, o.dataCenterId))) replaces.push("engine");
  replaces.push(...importKeysChanged(o, n));
  if (replaces.length) {
    await guardV2vReplace(o, replaces);
    return { changes: true, replaces, deleteBeforeReplace: true };
  }
  const norm = (k: string, v: any) => (k === "vcenter" ? vcenterNorm(v) : v ?? defaults[k]);
  const changed = IN_PLACE.filter((k) => !jsonEqual(norm(k, o[k]), norm(k, n[k])));
  return { changes: changed.length > 0, replaces: [], stables: ["vms", "dataCenterId", "clusterId", "storageDomainId", "proxyHostId"] };
}

/** Watches the source power state; resolves with a message as soon as the VM is powered on. */
function powerWatch(a: V2VImportArgs, info: VmInfo | undefined): { stop(): void; tripped: Promise<string> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let client: VSphereClient | undefined;
  const tripped = new Promise<string>((resolve) => {
    if (a.provider !== "vmware" || !info) return;
    const tick = async () => {
      if (stopped) return;
      try {
        client ??= await VSphereClient.connect(vsphereOptions(a.vcenter!));
        const st = await client.powerState(info.ref);
        if (st !== "poweredOff") {
          resolve(
            `VM "${info.name}" was powered on in vCenter ${a.vcenter!.host} during its import (state ${st}); the import was stopped ` +
              `to protect its data, and the partially imported VM was removed. Shut it down in VMware and run again.`,
          );
          return;
        }
      } catch {
        client = undefined; // transient vCenter trouble: try again on the next tick
      }
      if (!stopped) timer = setTimeout(tick, a.watchIntervalMs);
    };
    timer = setTimeout(tick, a.watchIntervalMs);
  });
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      void client?.logout();
    },
    tripped,
  };
}

async function removeVm(c: OvirtClient, id: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await c.vms.remove(id);
      return;
    } catch (e) {
      if (e instanceof EngineError && e.status === 409 && Date.now() < deadline) {
        await sleep(500); // still locked by the failing job
        continue;
      }
      throw e;
    }
  }
}

async function waitGone(c: OvirtClient, id: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const vm = await c.vms.get(id);
    if (!vm) return;
    if (vm.status !== "image_locked" && vm.status !== "locked") {
      await removeVm(c, id, deadline).catch(() => undefined);
    }
    await sleep(300);
  }
}

async function importedVm(c: OvirtClient, vm: Vm, sourceName: string, ownership: Ownership, permissionIds: string[]): Promise<ImportedVm> {
  const disks = await c.vms.disks(vm.id);
  return {
    sourceName,
    name: vm.name,
    id: vm.id,
    cpus: (vm.cpu?.topology?.sockets ?? 1) * (vm.cpu?.topology?.cores ?? 1) * (vm.cpu?.topology?.threads ?? 1),
    memoryBytes: vm.memory ?? 0,
    disks: disks.map((d) => ({ id: d.id, alias: d.alias ?? d.name, provisionedBytes: d.provisioned_size ?? 0, sparse: d.sparse })),
    ownership,
    adopted: ownership === "adopted",
    permissionIds,
  };
}

/** CPU profile and permissions on a VM of this resource (created or adopted); answers its outputs. Never stops it. */
async function configure(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  vm: Vm,
  sourceName: string,
  ownership: Ownership,
  progress: Progress,
): Promise<ImportedVm> {
  let cur = vm;
  if (t.cpuProfile && vm.cpu_profile?.id !== t.cpuProfile.id) {
    cur = await c.vms.update(vm.id, { cpu_profile: { id: t.cpuProfile.id } });
    progress.info(`set CPU profile ${t.cpuProfile.name} on ${vm.name} (${vm.id})`);
  }
  const perms = await applyPermissions(c, "vm", vm.id, a.permissions, [], progress);
  return importedVm(c, cur, sourceName, ownership, perms.ours);
}

async function importOne(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  sourceName: string,
  info: VmInfo | undefined,
  progress: Progress,
  urn: string | undefined,
): Promise<ImportedVm> {
  const name = targetName(a, sourceName);
  const url = sourceUrlOf(a);
  const source = sourceIdentity(a, sourceName, info);
  if (!source) throw new Error(`VM "${sourceName}" could not be read from vCenter ${a.vcenter?.host}; run pulumi up again`);
  const correlationId = v2vCorrelationId(urn, t.cluster.id, name, source);
  const bytes = info ? info.disks.reduce((s, d) => s + d.capacityBytes, 0) : 0;
  const deadline = Date.now() + timeoutMsForBytes(bytes, a.timeoutMinutes);
  /** The VM of the target name in the target data center, only when this resource's import created it. */
  const ourVmNamed = async (): Promise<Vm | undefined> => {
    const there = (await vmsNamedInDc(c, t.dc.id, [name])).get(name);
    return there && (await createdBy(c, [correlationId], there.vm.id)) ? there.vm : undefined;
  };

  // 1. a VM of the target name already in the target data center: ours (an earlier, interrupted run), or not
  const there = (await vmsNamedInDc(c, t.dc.id, [name])).get(name);
  if (there) {
    const existing = there.vm;
    if (!(await createdBy(c, [correlationId], existing.id))) {
      if (!a.adopt) {
        const f = conflictFailure(a, existing, there.cluster, t.dc.name);
        throw new ArgError(f.property, f.reason);
      }
      progress.info(adoptionNote("VM", existing.name, existing.id));
      return configure(c, a, t, existing, sourceName, "adopted", progress);
    }
    const jobs = await c.jobs.byCorrelationId(correlationId).catch(() => []);
    const running = jobs.find((j) => j.status === "started");
    const failed = jobs.length > 0 && jobs.every((j) => j.status === "failed" || j.status === "aborted");
    if (running) {
      progress.update(`waiting for the import of ${name} started by an earlier run`);
      try {
        await waitForJob({ c, jobId: running.id, correlationId, what: `import of ${name}`, deadline, progress, totalBytes: bytes, entityDone: async () => !!(await c.vms.get(existing.id)) });
        const vm = await c.vms.get(existing.id);
        if (vm) {
          progress.info(`resumed ${name} (${vm.id}), imported by an earlier run of this resource`);
          return configure(c, a, t, vm, sourceName, "created", progress);
        }
      } catch (e) {
        if (!(e instanceof JobFailedError)) throw e;
      }
    } else if (!failed && existing.status !== "image_locked") {
      progress.info(`resumed ${name} (${existing.id}), imported by an earlier run of this resource`);
      return configure(c, a, t, existing, sourceName, "created", progress);
    }
    // a half-made VM of ours, from a failed import: remove it and try again
    if (await c.vms.get(existing.id)) {
      progress.warn(`removing ${name} (${existing.id}), left half-made by a failed import of this resource`);
      await waitGone(c, existing.id, deadline);
    }
  }

  // 2. import, watching the source
  progress.info(`importing ${sourceName} from ${a.provider === "vmware" ? `vCenter ${a.vcenter!.host}` : url} as ${name} through ${t.host.name}`);
  const spec: ExternalVmImportSpec = {
    sourceName,
    provider: a.provider,
    url,
    username: a.provider === "vmware" ? a.vcenter!.username : a.sourceUsername,
    password: a.provider === "vmware" ? a.vcenter!.password : a.sourcePassword,
    clusterId: t.cluster.id,
    storageDomainId: t.sd.id,
    targetName: name,
    sparse: a.sparse,
    hostId: t.host.id,
    cpuProfileId: t.cpuProfile?.id,
    driversIsoId: a.driversIso,
  };
  const watch = powerWatch(a, info);
  /** The VM this import created: the id in the POST answer (or proven by the audit log after an ambiguous POST). */
  let vmId: string | undefined;
  try {
    let res: ExternalVmImport;
    try {
      res = await c.externalVmImports.add(spec, { correlationId });
    } catch (e) {
      if (e instanceof EngineUnavailableError && e.ambiguous) {
        // the request may have reached the engine: its VM is ours only when the audit log says so
        await sleep(1000);
        const mine = await ourVmNamed();
        if (!mine) throw e;
        res = { vm: { id: mine.id, name: mine.name } };
      } else if (e instanceof EngineError) {
        const text = engineText(e);
        if (a.provider === "vmware" && /SSL|certificate/i.test(text)) {
          throw new ArgError(
            "vcenter.proxySkipVerify",
            `import of ${sourceName} refused by the engine: ${text}. virt-v2v on proxy host ${t.host.name} verifies the certificate of vCenter ` +
              `${a.vcenter!.host} with the proxy host's own trust store (a pinned certificateFingerprint or caPem protects the Pulumi host only): ` +
              `install the vCenter CA on the proxy host (/etc/pki/ca-trust/source/anchors/, then update-ca-trust), or set vcenter.proxySkipVerify: true ` +
              `to skip that check (the vCenter password then travels from the proxy host without certificate verification).`,
          );
        }
        const prop = /storage/i.test(text) ? "storageDomain" : /proxy|host/i.test(text) ? "proxyHost" : "sourceVms";
        throw new ArgError(prop, `import of ${sourceName} refused by the engine: ${text}`);
      } else throw e;
    }
    vmId = res.vm?.id;
    const done = waitForJob({
      c,
      correlationId,
      what: `import of ${sourceName} as ${name}`,
      deadline,
      progress,
      totalBytes: bytes,
      entityDone: async () => {
        const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
        return !!vm && vm.status !== "image_locked";
      },
      entityFailed: async () => (vmId && !(await c.vms.get(vmId)) ? "the imported VM was removed" : undefined),
    }).then(() => undefined);
    const outcome = await Promise.race([done.then(() => ({ kind: "done" as const })), watch.tripped.then((msg) => ({ kind: "powered" as const, msg }))]);
    if (outcome.kind === "powered") {
      // the engine fails its job on its own when it sees the source running; make sure nothing half-made stays —
      // only the VM this import created (the POST's answer, or proven by the audit log), never one of that name
      await done.catch(() => undefined);
      const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
      if (vm) await waitGone(c, vm.id, Date.now() + 120_000);
      throw new Error(outcome.msg);
    }
  } catch (e) {
    if (e instanceof JobFailedError && vmId) {
      // the engine removes a failed import's VM; do it ourselves if it did not
      await waitGone(c, vmId, Date.now() + 120_000).catch(() => undefined);
      const tripped = await Promise.race([watch.tripped, sleep(a.watchIntervalMs * 2 + 500).then(() => undefined)]);
      if (tripped) throw new Error(tripped);
      // the engine may have seen the power-on before our watch did: ask the vCenter once more
      if (info && a.provider === "vmware") {
        const st = await withVSphere(vsphereOptions(a.vcenter!), (v) => v.powerState(info.ref)).catch(() => undefined);
        if (st && st !== "poweredOff") {
          throw new Error(
            `VM "${info.name}" was powered on in vCenter ${a.vcenter!.host} during its import (state ${st}); the import was stopped ` +
              `to protect its data, and the partially imported VM was removed. Shut it down in VMware and run again. Engine: ${(e as Error).message}`,
          );
        }
      }
    }
    throw e;
  } finally {
    watch.stop();
  }
  const vm = vmId ? await c.vms.get(vmId) : await ourVmNamed();
  if (!vm) throw new Error(`import of ${sourceName} finished, but VM ${name} is not in engine ${c.url}`);
  progress.info(`imported ${sourceName} as ${name} (${vm.id})`);
  return configure(c, a, t, vm, sourceName, "created", progress);
}

async function run(a: V2VImportArgs, progress: Progress, urn: string | undefined): Promise<V2VImportOutputs> {
  const c = clientFor(a.engine);
  const t = await resolveTarget(c, a);
  let installed = false;
  if (a.proxySsh) {
    const r = await proxyFailures(a, t.host, true);
    if (r.failures.length) throw new ArgError(r.failures[0].property, r.failures[0].reason);
    installed = r.installed;
    if (installed) progress.info(`installed virt-v2v on proxy host ${t.host.name}`);
  }
  const vc = await vcenterFailures(a);
  const vms: ImportedVm[] = [];
  for (const sourceName of a.sourceVms) {
    const f = vc.failures.find((x) => x.reason.includes(`"${sourceName}"`)) ?? vc.failures.find((x) => x.property !== "sourceVms");
    if (f) throw new ArgError(f.property, f.reason);
    vms.push(await importOne(c, a, t, sourceName, vc.vms.get(sourceName), progress, urn));
  }
  return {
    ...a,
    sourceUrl: sourceUrlOf(a),
    dataCenterId: t.dc.id,
    clusterId: t.cluster.id,
    storageDomainId: t.sd.id,
    proxyHostId: t.host.id,
    vms,
    permissionIds: vms.flatMap((v) => v.permissionIds),
    virtV2vInstalled: installed,
  };
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = V2VImportArgs.parse(userInputs(inputs));
  const urn = inputs[PROGRESS_URN_KEY] as string | undefined;
  const progress = progressFor(urn, `v2v ${args.sourceVms.join(", ")}`);
  const outs = await run(args, progress, urn);
  return { id: outs.vms.map((v) => v.id).join(","), outs: { ...outs, [PROGRESS_URN_KEY]: urn } };
}

async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = V2VImportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as V2VImportOutputs;
  const c = clientFor(args.engine);
  const progress = progressFor(news[PROGRESS_URN_KEY], `v2v ${args.sourceVms.join(", ")}`);
  // cpuProfile: in place on every VM of the resource, created or adopted (the engine changes it on a running VM too)
  let profile: { id: string; name: string } | undefined;
  if (args.cpuProfile && !jsonEqual(prev.cpuProfile, args.cpuProfile)) {
    const clusterId = prev.clusterId ?? (await c.clusters.findByName(args.cluster))?.id;
    const profiles = clusterId ? await c.clusters.cpuProfiles(clusterId) : [];
    profile = profiles.find((p) => p.name === args.cpuProfile) ?? profiles.find((p) => p.id === args.cpuProfile);
    if (!profile) {
      throw new ArgError("cpuProfile", unknownCpuProfile(args.cluster, args.cpuProfile, profiles));
    }
  }
  const vms: ImportedVm[] = [];
  for (const v of prev.vms ?? []) {
    const ownership = ownershipOf(v);
    let permissionIds = v.permissionIds ?? [];
    const vm = await c.vms.get(v.id);
    if (vm) {
      if (profile && vm.cpu_profile?.id !== profile.id) {
        await c.vms.update(vm.id, { cpu_profile: { id: profile.id } });
        progress.info(`set CPU profile ${profile.name} on ${vm.name} (${vm.id})`);
      }
      // only grants this resource added are ever removed
      permissionIds = (await applyPermissions(c, "vm", vm.id, args.permissions, permissionIds, progress)).ours;
    }
    vms.push({ ...v, ownership, adopted: ownership === "adopted", permissionIds });
  }
  const { sourceUrl: _s, ...rest } = prev;
  return { outs: { ...rest, ...args, sourceUrl: prev.sourceUrl, vms, permissionIds: vms.flatMap((v) => v.permissionIds), [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
}

async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  const p = userInputs(props) as V2VImportOutputs;
  const c = clientFor(p.engine);
  const alive: ImportedVm[] = [];
  for (const v of p.vms ?? []) if (await c.vms.get(v.id)) alive.push(v);
  if (alive.length === 0) return {};
  if (alive.length !== (p.vms ?? []).length) return { id, props: { ...props, vms: alive } };
  return { id, props };
}

/**
 * Removes the VMs this resource created (ownership "created"), by recorded id; adopted VMs and everything with
 * `keepOnDelete` stay. Never stops a VM: one that is not down fails the delete before anything is removed.
 */
async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as V2VImportOutputs;
  const progress = progressFor(props[PROGRESS_URN_KEY], `v2v ${p.sourceVms?.join(", ")}`);
  const all = (p.vms ?? []).filter((v) => v && v.id);
  if (p.keepOnDelete) {
    if (all.length) progress.info(`keepOnDelete: kept ${all.map((v) => `${v.name} (${v.id})`).join(", ")}`);
    return;
  }
  for (const v of all.filter((x) => !mayRemove(x))) progress.info(`kept VM ${v.name} (${v.id}): adopted, not created by this resource`);
  const mine = all.filter((v) => mayRemove(v));
  if (mine.length === 0) return;
  const c = clientFor(p.engine);
  const live: Vm[] = [];
  const busy: Vm[] = [];
  for (const v of mine) {
    const vm = await c.vms.get(v.id);
    if (!vm) continue;
    live.push(vm);
    if (vm.status && vm.status !== "down" && vm.status !== "image_locked") busy.push(vm);
  }
  if (busy.length) {
    throw new Error(
      `${busy.map((vm) => `VM ${vm.name} (${vm.id}) is ${vm.status}`).join("; ")}: destroy never stops a VM, and nothing was removed. ` +
        `Shut it down yourself and run destroy again, or set keepOnDelete: true and run pulumi up first to keep it.`,
    );
  }
  for (const vm of live) {
    await removeVm(c, vm.id, Date.now() + 120_000);
    progress.info(`removed imported VM ${vm.name} (${vm.id})`);
  }
}

export const v2vImportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
