/**
 * V2VImport: VMware (vCenter, vpx://), KVM (qemu+ssh://) or Xen (xen+ssh://) VMs imported into a target cluster
 * through the engine's external VM import (`POST /externalvmimports`), which runs virt-v2v on a proxy host of the
 * target data center.
 *
 * - `check` (also during `pulumi preview`, read-only): the target cluster, file-based storage domain (NFS, POSIX,
 *   Gluster; block domains are refused) active in the cluster's data center, the proxy host up and in that data
 *   center, target names free (or a clone requested); for VMware: vCenter login (TLS: CA, pinned fingerprint or
 *   explicitly off), each VM found at the datacenter path / cluster / ESXi host and powered off; with `proxySsh`:
 *   the proxy's pinned host key and virt-v2v (mode `check`) or a package manager to install it (mode `install`).
 * - `create`: installs virt-v2v when asked, imports VM by VM behind the engine job, shows progress, and watches the
 *   source's power state: a VM powered on in VMware during the import fails the resource with a clear error and
 *   no half-made VM is left. A re-run adopts a VM an interrupted run imported, waits for one still importing, and
 *   removes a half-made one (failed import) before trying again.
 * - `delete` removes only the VMs this resource created (by id).
 */
import { z } from "zod";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { OvirtClient, Vm } from "../client";
import { EngineError } from "../client/errors";
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
  suggest,
  userInputs,
  validate,
  zName,
} from "./common";
import { progressFor, Progress } from "../progress";
import type { VSphereClient, VmInfo } from "../vsphere";

const FILE_STORAGE = ["nfs", "posixfs", "glusterfs"];

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
  verifyCertificate: z.boolean().default(true),
  /** SHA-256 or SHA-1 fingerprint of the vCenter certificate. */
  certificateFingerprint: z.string().min(1).optional(),
  caPem: z.string().min(1).optional(),
});

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
    cpuProfile: z.string().min(1).optional(),
    clone: z.object({ name: z.string().min(1).optional(), suffix: z.string().min(1).optional() }).optional(),
    collapseSnapshots: z.boolean().default(true),
    driversIso: z.string().min(1).optional(),
    permissions: z.array(PermissionArg).default([]),
    proxySsh: ProxySshArgs.optional(),
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
  adopted: boolean;
}

export interface V2VImportOutputs extends V2VImportArgs {
  dataCenterId: string;
  clusterId: string;
  storageDomainId: string;
  proxyHostId: string;
  sourceUrl: string;
  vms: ImportedVm[];
  virtV2vInstalled: boolean;
}

const ExternalVmImport = z.object({
  name: z.string().optional(),
  vm: z.object({ id: z.string().optional(), name: z.string().optional() }).optional(),
});
const HostWithAddress = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string().optional(),
  address: z.string().optional(),
  cluster: z.object({ id: z.string().optional() }).optional(),
});

export function targetName(a: V2VImportArgs, source: string): string {
  if (a.clone?.name) return a.clone.name;
  if (a.clone?.suffix) return `${source}${a.clone.suffix}`;
  return source;
}

/** The source URL the engine gets. With a pinned fingerprint the provider verified the vCenter; virt-v2v gets no_verify. */
export function sourceUrlOf(a: V2VImportArgs): string {
  if (a.provider !== "vmware") return a.sourceUrl!;
  const { buildVpxUrl } = require("../vsphere/v2vUrl") as typeof import("../vsphere/v2vUrl");
  const v = a.vcenter!;
  return buildVpxUrl({
    username: v.username,
    vcenter: v.host,
    datacenterPath: v.datacenterPath,
    cluster: v.cluster,
    esxiHost: v.esxiHost,
    noVerify: !v.verifyCertificate || !!v.certificateFingerprint,
  });
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
  host: z.infer<typeof HostWithAddress>;
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
  const stype = sd.storage?.type ?? "";
  if (!FILE_STORAGE.includes(stype)) {
    throw new ArgError(
      "storageDomain",
      `storageDomain: "${sd.name}" is ${stype ? `a ${stype} (${stype === "localfs" ? "local" : "block"} storage)` : "not a file-based"} domain; ` +
        `virt-v2v imports need a file-based shared domain (NFS, POSIX compliant FS or GlusterFS). Pick such a domain in data center ${dc?.name ?? dcId}.`,
    );
  }
  const att = await c.attachedStorageDomains.get(dcId, sd.id).catch(() => undefined);
  if (!att) {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is not attached to data center ${dc?.name ?? dcId} of cluster ${a.cluster}; Storage Domain and Cluster must be in the same data center`);
  }
  if (att.status && att.status !== "active") {
    throw new ArgError("storageDomain", `storageDomain: "${sd.name}" is ${att.status} in data center ${dc?.name ?? dcId}; activate it first`);
  }
  const hosts = await c.http.list("/hosts", "hosts", "host", HostWithAddress, { search: `name=${JSON.stringify(a.proxyHost)}` });
  const host = hosts.find((h) => h.name === a.proxyHost);
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
      const { unknownCpuProfile } = require("./vmImport") as typeof import("./vmImport");
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
  const ph = require("../proxyHost") as typeof import("../proxyHost");
  try {
    return await ph.withProxySsh(sshTarget(a, host), async (s) => {
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
  const vs = require("../vsphere") as typeof import("../vsphere");
  const v = a.vcenter!;
  let client: VSphereClient;
  try {
    client = await vs.VSphereClient.connect(vsphereOptions(v));
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

async function targetNameFailures(c: OvirtClient, a: V2VImportArgs): Promise<CheckFailure[]> {
  const names = a.sourceVms.map((s) => targetName(a, s));
  const existing = await c.vms.findByNames(names);
  // a VM of that name imported from the same kind of source is what create adopts (an earlier run's import;
  // Pulumi may also call check without the old inputs); anything else blocks the name
  const taken = [...existing.values()].filter((vm) => vm.origin !== a.provider).map((vm) => vm.name);
  return taken.map((n) => ({
    property: a.clone ? "clone" : "sourceVms",
    reason: a.clone
      ? `clone: a VM named "${n}" already exists in engine ${c.url}; choose another clone.name / clone.suffix`
      : `sourceVms: a VM named "${n}" already exists in engine ${c.url}; import it as a clone with a new name (clone.name or clone.suffix)`,
  }));
}

/** Preflight of `permissions`: each role, user and group must exist, or the import would end half-applied. */
async function permissionFailures(c: OvirtClient, a: V2VImportArgs): Promise<CheckFailure[]> {
  const out: CheckFailure[] = [];
  for (const [i, p] of a.permissions.entries()) {
    if (!(await c.permissions.role(p.role))) {
      const roles = (await c.permissions.roles()).map((r) => r.name);
      out.push({ property: `permissions[${i}].role`, reason: `permissions[${i}].role: role "${p.role}" does not exist in engine ${c.url}.${suggest(p.role, roles)}` });
    }
    if (p.user && !(await c.permissions.user(p.user))) {
      out.push({ property: `permissions[${i}].user`, reason: `permissions[${i}].user: user "${p.user}" does not exist in engine ${c.url} (user names look like alice@internal-authz)` });
    }
    if (p.group && !(await c.permissions.group(p.group))) {
      out.push({ property: `permissions[${i}].group`, reason: `permissions[${i}].group: group "${p.group}" does not exist in engine ${c.url}` });
    }
  }
  return out;
}

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const { args, failures, hasUnknowns } = validate(V2VImportArgs, userInputs(news));
  if (!args) return { inputs: news, failures };
  if (hasUnknowns) return { inputs: news, failures };
  const prev = olds && Object.keys(olds).length ? userInputs(olds) : undefined;
  // olds exist only for a resource already in the state: the import is done, so the source is not re-checked
  // (it may be running again by now) and its own VMs are not "name taken"
  if (
    prev &&
    jsonEqual(prev.sourceVms, args.sourceVms) &&
    sameEngine(prev.engine, args.engine) &&
    prev.cluster === args.cluster &&
    (prev.cpuProfile ?? undefined) === (args.cpuProfile ?? undefined) &&
    jsonEqual(prev.clone, args.clone) &&
    (prev.provider ?? "vmware") === args.provider
  ) {
    return { inputs: news, failures };
  }
  const fs: CheckFailure[] = [];
  try {
    const { V2vUrlError, parseLibvirtSshUrl } = require("../vsphere/v2vUrl") as typeof import("../vsphere/v2vUrl");
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
    fs.push(...(await targetNameFailures(c, args)));
    fs.push(...(await permissionFailures(c, args)));
    fs.push(...(await vcenterFailures(args)).failures);
    if (target) fs.push(...(await proxyFailures(args, target.host, false)).failures);
  } catch (e) {
    const f = connectionFailure(e);
    if (f) fs.push(f);
    else throw e;
  }
  return { inputs: news, failures: [...failures, ...fs] };
}

const REPLACE_KEYS = ["provider", "sourceUrl", "sourceVms", "cluster", "storageDomain", "proxyHost", "sparse", "cpuProfile", "clone", "driversIso"];

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  // olds are the outputs (args parsed with their defaults, plus sourceUrl etc.); parse news the same way
  const o = userInputs(olds);
  const raw = userInputs(news);
  const parsed = V2VImportArgs.safeParse(raw);
  const n: any = parsed.success ? parsed.data : raw;
  const replaces: string[] = [];
  if (!sameEngine(o.engine, n.engine)) replaces.push("engine");
  for (const k of REPLACE_KEYS) {
    if (k === "sourceUrl" && (n.provider ?? "vmware") === "vmware") continue; // an output for vpx://
    if (!jsonEqual(o[k], n[k])) replaces.push(k);
  }
  const ov = o.vcenter ?? {};
  const nv = n.vcenter ?? {};
  for (const k of ["host", "datacenterPath", "cluster", "esxiHost"]) if (!jsonEqual(ov[k], nv[k])) replaces.push(`vcenter.${k}`);
  if (replaces.length) return { changes: true, replaces, deleteBeforeReplace: true };
  const inPlace = ["permissions", "proxySsh", "timeoutMinutes", "watchIntervalMs", "vcenter", "engine", "sourceUsername", "sourcePassword", "collapseSnapshots"];
  const changed = inPlace.filter((k) => !jsonEqual(o[k] ?? defaults[k], n[k] ?? defaults[k]));
  return { changes: changed.length > 0, replaces: [], stables: ["vms", "dataCenterId", "clusterId", "storageDomainId", "proxyHostId"] };
}
const defaults: Record<string, unknown> = { permissions: [], watchIntervalMs: 1000, collapseSnapshots: true };

/** Watches the source power state; resolves with a message as soon as the VM is powered on. */
function powerWatch(a: V2VImportArgs, info: VmInfo | undefined): { stop(): void; tripped: Promise<string> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let client: VSphereClient | undefined;
  const tripped = new Promise<string>((resolve) => {
    if (a.provider !== "vmware" || !info) return;
    const vs = require("../vsphere") as typeof import("../vsphere");
    const tick = async () => {
      if (stopped) return;
      try {
        client ??= await vs.VSphereClient.connect(vsphereOptions(a.vcenter!));
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

async function importedVm(c: OvirtClient, vm: Vm, sourceName: string, adopted: boolean): Promise<ImportedVm> {
  const disks = await c.vms.disks(vm.id);
  return {
    sourceName,
    name: vm.name,
    id: vm.id,
    cpus: (vm.cpu?.topology?.sockets ?? 1) * (vm.cpu?.topology?.cores ?? 1) * (vm.cpu?.topology?.threads ?? 1),
    memoryBytes: vm.memory ?? 0,
    disks: disks.map((d) => ({ id: d.id, alias: d.alias ?? d.name, provisionedBytes: d.provisioned_size ?? 0, sparse: d.sparse })),
    adopted,
  };
}

async function applyPermissions(c: OvirtClient, a: V2VImportArgs, vmId: string, progress: Progress): Promise<void> {
  if (!a.permissions.length) return;
  const existing = await c.permissions.list("vm", vmId);
  for (const p of a.permissions) {
    const role = await c.permissions.role(p.role);
    if (!role) throw new ArgError("permissions", `permissions: role "${p.role}" does not exist in engine ${c.url}`);
    const principal = p.user ? await c.permissions.user(p.user) : await c.permissions.group(p.group!);
    if (!principal) throw new ArgError("permissions", `permissions: ${p.user ? `user "${p.user}"` : `group "${p.group}"`} does not exist in engine ${c.url}`);
    const has = existing.some((e: any) => e.role?.id === role.id && (e.user?.id === principal.id || e.group?.id === principal.id));
    if (has) continue;
    await c.permissions.add("vm", vmId, { roleId: role.id, userId: p.user ? principal.id : undefined, groupId: p.group ? principal.id : undefined });
    progress.info(`granted ${p.role} on ${vmId} to ${p.user ?? p.group}`);
  }
}

async function importOne(
  c: OvirtClient,
  a: V2VImportArgs,
  t: Target,
  sourceName: string,
  info: VmInfo | undefined,
  progress: Progress,
): Promise<ImportedVm> {
  const { stableCorrelationId } = require("../client/http") as typeof import("../client/http");
  const { timeoutMsForBytes } = require("../client/wait") as typeof import("../client/wait");
  const { waitForJob, JobFailedError } = require("./jobs") as typeof import("./jobs");
  const name = targetName(a, sourceName);
  const url = sourceUrlOf(a);
  const correlationId = stableCorrelationId("v2v", a.engine.url, url, sourceName, name, info?.uuid ?? "");
  const bytes = info ? info.disks.reduce((s, d) => s + d.capacityBytes, 0) : 0;
  const deadline = Date.now() + timeoutMsForBytes(bytes, a.timeoutMinutes);
  const origin = a.provider;

  // 1. what an earlier, interrupted run left behind
  const jobs = await c.jobs.byCorrelationId(correlationId).catch(() => []);
  const existing = await c.vms.findByName(name);
  if (existing) {
    const ours = existing.origin === origin || jobs.length > 0;
    if (!ours) {
      throw new ArgError(
        a.clone ? "clone" : "sourceVms",
        `${a.clone ? "clone" : "sourceVms"}: a VM named "${name}" already exists in engine ${c.url} and was not imported by this resource; import as a clone with another name`,
      );
    }
    const running = jobs.find((j) => j.status === "started");
    const failed = jobs.length > 0 && jobs.every((j) => j.status === "failed" || j.status === "aborted");
    if (running) {
      progress.update(`waiting for the import of ${name} started by an earlier run`);
      try {
        await waitForJob({ c, jobId: running.id, correlationId, what: `import of ${name}`, deadline, progress, totalBytes: bytes, entityDone: async () => !!(await c.vms.get(existing.id)) });
        const vm = await c.vms.get(existing.id);
        if (vm) {
          progress.info(`adopted ${name}, imported by an earlier run`);
          return importedVm(c, vm, sourceName, true);
        }
      } catch (e) {
        if (!(e instanceof JobFailedError)) throw e;
      }
    } else if (!failed && existing.status !== "image_locked") {
      progress.info(`adopted ${name} (${existing.id}), imported by an earlier run`);
      return importedVm(c, existing, sourceName, true);
    }
    // a half-made VM from a failed import: remove it and try again
    if (await c.vms.get(existing.id)) {
      progress.warn(`removing ${name} (${existing.id}), left half-made by a failed import`);
      await waitGone(c, existing.id, deadline);
    }
  }

  // 2. import, watching the source
  progress.info(`importing ${sourceName} from ${a.provider === "vmware" ? `vCenter ${a.vcenter!.host}` : url} as ${name} through ${t.host.name}`);
  const body: Record<string, unknown> = {
    name: sourceName,
    provider: a.provider,
    url,
    username: a.provider === "vmware" ? a.vcenter!.username : a.sourceUsername,
    password: a.provider === "vmware" ? a.vcenter!.password : a.sourcePassword,
    cluster: { id: t.cluster.id },
    storage_domain: { id: t.sd.id },
    vm: { name },
    sparse: a.sparse,
    host: { id: t.host.id },
    cpu_profile: t.cpuProfile ? { id: t.cpuProfile.id } : undefined,
    drivers_iso: a.driversIso ? { id: a.driversIso } : undefined,
  };
  const watch = powerWatch(a, info);
  let vmId: string | undefined;
  try {
    let res: z.infer<typeof ExternalVmImport>;
    try {
      res = await c.http.add("/externalvmimports", "external_vm_import", body, ExternalVmImport, { correlationId });
    } catch (e) {
      if (e instanceof EngineError) {
        const text = engineText(e);
        const prop = /storage/i.test(text) ? "storageDomain" : /proxy|host/i.test(text) ? "proxyHost" : /name/i.test(text) ? "sourceVms" : "sourceVms";
        throw new ArgError(prop, `import of ${sourceName} refused by the engine: ${text}`);
      }
      throw e;
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
        const vm = vmId ? await c.vms.get(vmId) : await c.vms.findByName(name);
        return !!vm && vm.status !== "image_locked";
      },
      entityFailed: async () => (vmId && !(await c.vms.get(vmId)) ? "the imported VM was removed" : undefined),
    }).then(() => undefined);
    const outcome = await Promise.race([done.then(() => ({ kind: "done" as const })), watch.tripped.then((msg) => ({ kind: "powered" as const, msg }))]);
    if (outcome.kind === "powered") {
      // the engine fails its job on its own when it sees the source running; make sure nothing half-made stays
      await done.catch(() => undefined);
      const vm = vmId ? await c.vms.get(vmId) : await c.vms.findByName(name);
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
        const vs = require("../vsphere") as typeof import("../vsphere");
        const st = await vs.withVSphere(vsphereOptions(a.vcenter!), (v) => v.powerState(info.ref)).catch(() => undefined);
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
  const vm = vmId ? await c.vms.get(vmId) : await c.vms.findByName(name);
  if (!vm) throw new Error(`import of ${sourceName} finished, but VM ${name} is not in engine ${c.url}`);
  await applyPermissions(c, a, vm.id, progress);
  progress.info(`imported ${sourceName} as ${name} (${vm.id})`);
  return importedVm(c, vm, sourceName, false);
}

async function run(a: V2VImportArgs, progress: Progress, known: ImportedVm[] = []): Promise<V2VImportOutputs> {
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
    const prev = known.find((k) => k.sourceName === sourceName);
    if (prev) {
      const vm = await c.vms.get(prev.id);
      if (vm) {
        vms.push(await importedVm(c, vm, sourceName, prev.adopted));
        continue;
      }
    }
    const f = vc.failures.find((x) => x.reason.includes(`"${sourceName}"`)) ?? vc.failures.find((x) => x.property !== "sourceVms");
    if (f) throw new ArgError(f.property, f.reason);
    vms.push(await importOne(c, a, t, sourceName, vc.vms.get(sourceName), progress));
  }
  return {
    ...a,
    sourceUrl: sourceUrlOf(a),
    dataCenterId: t.dc.id,
    clusterId: t.cluster.id,
    storageDomainId: t.sd.id,
    proxyHostId: t.host.id,
    vms,
    virtV2vInstalled: installed,
  };
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  const args = V2VImportArgs.parse(userInputs(inputs));
  const progress = progressFor(inputs[PROGRESS_URN_KEY], `v2v ${args.sourceVms.join(", ")}`);
  const outs = await run(args, progress);
  return { id: outs.vms.map((v) => v.id).join(","), outs: { ...outs, [PROGRESS_URN_KEY]: inputs[PROGRESS_URN_KEY] } };
}

async function update(_id: string, olds: any, news: any): Promise<dynamic.UpdateResult> {
  const args = V2VImportArgs.parse(userInputs(news));
  const prev = userInputs(olds) as V2VImportOutputs;
  const c = clientFor(args.engine);
  const progress = progressFor(news[PROGRESS_URN_KEY], `v2v ${args.sourceVms.join(", ")}`);
  for (const v of prev.vms ?? []) if (await c.vms.get(v.id)) await applyPermissions(c, args, v.id, progress);
  const { sourceUrl: _s, ...rest } = prev;
  return { outs: { ...rest, ...args, sourceUrl: prev.sourceUrl, vms: prev.vms, [PROGRESS_URN_KEY]: news[PROGRESS_URN_KEY] } };
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

async function del(_id: string, props: any): Promise<void> {
  const p = userInputs(props) as V2VImportOutputs;
  const c = clientFor(p.engine);
  const progress = progressFor(props[PROGRESS_URN_KEY], `v2v ${p.sourceVms?.join(", ")}`);
  for (const v of p.vms ?? []) {
    const vm = await c.vms.get(v.id);
    if (!vm) continue;
    if (vm.status === "up" || vm.status === "powering_up") {
      await c.vms.stop(vm.id).catch(() => undefined);
      const until = Date.now() + 120_000;
      while (Date.now() < until && (await c.vms.get(vm.id))?.status !== "down") await sleep(300);
    }
    await removeVm(c, vm.id, Date.now() + 120_000);
    progress.info(`removed imported VM ${v.name} (${v.id})`);
  }
}

export const v2vImportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
