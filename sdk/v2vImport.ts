import * as pulumi from "@pulumi/pulumi";
import { OvirtResource } from "./base";
import { EngineConnectionArgs, resolveEngine } from "./connection";

/** The VMware vCenter a VM is imported from (virt-v2v `vpx://` source). */
export interface VCenterSourceArgs {
  /** vCenter host name or `host:port` (no scheme). */
  host: pulumi.Input<string>;
  /** Inventory path of the datacenter, folders included, e.g. `"Region A/DC East"` (spaces allowed). */
  datacenterPath: pulumi.Input<string>;
  /** Cluster of the ESXi host; omit for a standalone host. */
  cluster?: pulumi.Input<string>;
  /** ESXi host the VMs are registered on. */
  esxiHost: pulumi.Input<string>;
  /** vCenter user, e.g. `administrator@vsphere.local`. */
  username: pulumi.Input<string>;
  /** vCenter password; always stored as a secret and never shown in an error message. */
  password: pulumi.Input<string>;
  /** Verify the vCenter certificate against the system CAs (default true). `false` = virt-v2v's `no_verify=1`. */
  verifyCertificate?: pulumi.Input<boolean>;
  /**
   * Pin the vCenter certificate: SHA-256 (or SHA-1) fingerprint, hex with colons. The preflight and the power-state
   * watch verify it; the engine's virt-v2v then connects with `no_verify=1` (virt-v2v cannot pin).
   */
  certificateFingerprint?: pulumi.Input<string>;
  /** Extra CA certificate (PEM) for the vCenter verification. */
  caPem?: pulumi.Input<string>;
}

/** SSH access to the proxy host, used to check (or install) virt-v2v before the import. */
export interface ProxySshArgs {
  /** Address to SSH to (default: the engine's address of the proxy host). */
  host?: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  /** Default `root`; another user needs password-less sudo for install mode. */
  user?: pulumi.Input<string>;
  /** Private key (OpenSSH or PEM); stored as a secret. */
  privateKey: pulumi.Input<string>;
  passphrase?: pulumi.Input<string>;
  /** Pinned host key: `SHA256:...` fingerprint or an OpenSSH public key line. A mismatch is refused. */
  hostKey: pulumi.Input<string>;
  /** `check` (default): fail the preflight if virt-v2v is missing. `install`: `dnf`/`yum install -y virt-v2v` first. */
  virtV2v?: pulumi.Input<"check" | "install">;
}

export interface V2VPermissionArgs {
  user?: pulumi.Input<string>;
  group?: pulumi.Input<string>;
  role: pulumi.Input<string>;
}

export interface V2VImportArgs {
  engine?: EngineConnectionArgs;
  /** `vmware` (default, needs `vcenter`), `kvm` or `xen` (need `sourceUrl`). */
  provider?: pulumi.Input<"vmware" | "kvm" | "xen">;
  vcenter?: VCenterSourceArgs;
  /** KVM/Xen source: `qemu+ssh://root@kvm-host/system` or `xen+ssh://root@xen-host`. */
  sourceUrl?: pulumi.Input<string>;
  sourceUsername?: pulumi.Input<string>;
  sourcePassword?: pulumi.Input<string>;
  /** Names of the VMs to import (as the source names them). */
  sourceVms: pulumi.Input<pulumi.Input<string>[]>;
  /** Target cluster. */
  cluster: pulumi.Input<string>;
  /** Target data domain; must be file-based (NFS, POSIX FS, GlusterFS). */
  storageDomain: pulumi.Input<string>;
  /** Host of the target data center that runs virt-v2v. */
  proxyHost: pulumi.Input<string>;
  /** Thin-provisioned disks (default true) or preallocated. */
  sparse?: pulumi.Input<boolean>;
  /** CPU profile id. */
  cpuProfile?: pulumi.Input<string>;
  /** Import under another name: `name` (one VM) or `suffix` (each VM). The engine gives imported VMs new MACs when needed. */
  clone?: pulumi.Input<{ name?: pulumi.Input<string>; suffix?: pulumi.Input<string> }>;
  /** The engine always collapses snapshots on V2V imports; only `true` is accepted. */
  collapseSnapshots?: pulumi.Input<boolean>;
  /** virtio-win ISO file name (drivers for Windows guests). */
  driversIso?: pulumi.Input<string>;
  /** Permissions applied after import (export/import never keeps roles). */
  permissions?: pulumi.Input<pulumi.Input<V2VPermissionArgs>[]>;
  proxySsh?: ProxySshArgs;
  /** Overall deadline (default derived from the disk sizes). */
  timeoutMinutes?: pulumi.Input<number>;
  /** Interval of the source power-state watch in ms (default 1000). */
  watchIntervalMs?: pulumi.Input<number>;
}

export interface ImportedVmOutput {
  sourceName: string;
  name: string;
  id: string;
  cpus: number;
  memoryBytes: number;
  disks: { id: string; alias?: string; provisionedBytes: number; sparse?: boolean }[];
  adopted: boolean;
}

/**
 * VMs imported from VMware (or KVM/Xen) into a target cluster through virt-v2v on a proxy host. The preflight
 * (during `pulumi preview`) checks the source VMs exist and are powered off, the proxy host and its virt-v2v, and
 * the file-based target domain; `pulumi up` imports with progress and stops if a source VM is powered on.
 */
export class V2VImport extends OvirtResource {
  declare readonly vms: pulumi.Output<ImportedVmOutput[]>;
  declare readonly sourceUrl: pulumi.Output<string>;
  declare readonly dataCenterId: pulumi.Output<string>;
  declare readonly clusterId: pulumi.Output<string>;
  declare readonly storageDomainId: pulumi.Output<string>;
  declare readonly proxyHostId: pulumi.Output<string>;
  declare readonly virtV2vInstalled: pulumi.Output<boolean>;

  constructor(name: string, args: V2VImportArgs, opts?: pulumi.CustomResourceOptions) {
    const vcenter = args.vcenter ? { ...args.vcenter, password: pulumi.secret(args.vcenter.password) } : undefined;
    const proxySsh = args.proxySsh
      ? {
          ...args.proxySsh,
          privateKey: pulumi.secret(args.proxySsh.privateKey),
          passphrase: args.proxySsh.passphrase === undefined ? undefined : pulumi.secret(args.proxySsh.passphrase),
        }
      : undefined;
    super(
      "V2VImport",
      name,
      {
        ...args,
        engine: resolveEngine(args.engine),
        vcenter,
        proxySsh,
        sourcePassword: args.sourcePassword === undefined ? undefined : pulumi.secret(args.sourcePassword),
        vms: undefined,
        sourceUrl: args.sourceUrl,
        dataCenterId: undefined,
        clusterId: undefined,
        storageDomainId: undefined,
        proxyHostId: undefined,
        virtV2vInstalled: undefined,
      },
      opts,
      ["vcenter", "proxySsh", "sourcePassword"],
    );
  }
}
