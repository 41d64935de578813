// Import VMware VMs (vCenter) into an oVirt/RHV cluster through virt-v2v on a proxy host.
// Every value comes from stack config; see README.md. Runs against a real vCenter + engine, or vcsim + the
// engine simulator (test/v2v/example.test.ts does exactly that).
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { V2VImport } from "pulumi-ovirt-migrate";

const vc = new pulumi.Config("vcenter");
const v2v = new pulumi.Config("v2v");

const sshKeyFile = v2v.get("sshKeyFile");

const imported = new V2VImport("vmware-import", {
  vcenter: {
    host: vc.require("host"),
    datacenterPath: vc.require("datacenterPath"),
    cluster: vc.get("cluster"),
    esxiHost: vc.require("esxiHost"),
    username: vc.require("username"),
    password: vc.requireSecret("password"),
    certificateFingerprint: vc.get("fingerprint"),
    verifyCertificate: vc.getBoolean("verifyCertificate") ?? true,
    // virt-v2v on the proxy host verifies the vCenter with its own trust store; true skips that (explicit opt-in)
    proxySkipVerify: vc.getBoolean("proxySkipVerify") ?? false,
  },
  sourceVms: v2v.requireObject<string[]>("vms"),
  cluster: v2v.require("cluster"),
  storageDomain: v2v.require("storageDomain"),
  proxyHost: v2v.require("proxyHost"),
  sparse: v2v.getBoolean("sparse") ?? true,
  clone: v2v.get("cloneSuffix") ? { suffix: v2v.get("cloneSuffix") } : undefined,
  // a VM of the target name this stack did not import is refused unless adopted (then kept on destroy)
  adopt: v2v.getBoolean("adopt") ?? false,
  keepOnDelete: v2v.getBoolean("keepOnDelete") ?? false,
  proxySsh: sshKeyFile
    ? {
        host: v2v.get("sshHost"),
        port: v2v.getNumber("sshPort"),
        user: v2v.get("sshUser"),
        privateKey: pulumi.secret(fs.readFileSync(sshKeyFile, "utf8")),
        hostKey: v2v.require("sshHostKey"),
        virtV2v: (v2v.get("virtV2v") as "check" | "install" | undefined) ?? "check",
      }
    : undefined,
});

export const importedVms = imported.vms.apply((vms) => vms.map((v) => ({ source: v.sourceName, name: v.name, id: v.id, cpus: v.cpus, memoryBytes: v.memoryBytes, disks: v.disks.map((d) => d.provisionedBytes), ownership: v.ownership })));
export const sourceUrl = imported.sourceUrl;
export const virtV2vInstalled = imported.virtV2vInstalled;
