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
  /**
   * Verify the vCenter certificate (default true): here against the system CAs, `caPem` or `certificateFingerprint`,
   * and by virt-v2v on the proxy host against that host's own trust store. `false` turns both off (`no_verify=1`).
   */
  verifyCertificate?: pulumi.Input<boolean>;
  /**
   * Pin the vCenter certificate for the Pulumi host (preflight, power-state watch): SHA-256 (or SHA-1) fingerprint,
   * hex with colons. virt-v2v on the proxy host cannot pin: it still verifies with its trust store (install the
   * vCenter CA there) unless `proxySkipVerify` is set.
   */
  certificateFingerprint?: pulumi.Input<string>;
  /** Extra CA certificate (PEM) for the vCenter verification by the Pulumi host (not the proxy host). */
  caPem?: pulumi.Input<string>;
  /**
   * Let virt-v2v on the proxy host skip the vCenter certificate check (`no_verify=1`) while this host still verifies
   * (default false): the vCenter password then travels from the proxy host unverified, and the preview warns.
   */
  proxySkipVerify?: pulumi.Input<boolean>;
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
  /** Target data domain (file or block storage), active in the cluster's data center. */
  storageDomain: pulumi.Input<string>;
  /** Host of the target data center that runs virt-v2v. */
  proxyHost: pulumi.Input<string>;
  /** Thin-provisioned disks (default true) or preallocated. */
  sparse?: pulumi.Input<boolean>;
  /** CPU profile of the target cluster, by name or id (checked at preview); changing it updates the VMs in place. */
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
  /**
   * Take over a VM of the target name that this resource did not create (e.g. one imported through the portal):
   * its CPU profile and permissions are applied, but it is never stopped or removed, and destroy keeps it.
   */
  adopt?: pulumi.Input<boolean>;
  /** Keep the VMs on destroy and on replace (default false: destroy removes the VMs this resource created, if down). */
  keepOnDelete?: pulumi.Input<boolean>;
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
  /** `created` (imported by this resource: removed on destroy) or `adopted` (`adopt: true`: kept on destroy). */
  ownership: "created" | "adopted";
  /** `ownership === "adopted"`. */
  adopted: boolean;
  /** Permission grants this resource added on the VM (the only ones it ever removes). */
  permissionIds: string[];
}

/**
 * VMs imported from VMware (or KVM/Xen) into a target cluster through virt-v2v on a proxy host. The preflight
 * (during `pulumi preview`) checks the source VMs exist and are powered off, the proxy host and its virt-v2v, and
 * the target domain; `pulumi up` imports with progress and stops if a source VM is powered on. A VM of
 * the target name that this resource did not create is a preview error (`clone` or `adopt`); destroy removes only
 * the VMs it created, and never stops one.
 */
export class V2VImport extends OvirtResource {
  declare readonly vms: pulumi.Output<ImportedVmOutput[]>;
  declare readonly sourceUrl: pulumi.Output<string>;
  declare readonly dataCenterId: pulumi.Output<string>;
  declare readonly clusterId: pulumi.Output<string>;
  declare readonly storageDomainId: pulumi.Output<string>;
  declare readonly proxyHostId: pulumi.Output<string>;
  declare readonly virtV2vInstalled: pulumi.Output<boolean>;
  /** Every permission grant this resource added (on all its VMs): the only grants it ever removes. */
  declare readonly permissionIds: pulumi.Output<string[]>;

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
        permissionIds: undefined,
      },
      opts,
      ["vcenter", "proxySsh", "sourcePassword"],
    );
  }
}
