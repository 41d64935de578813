/**
 * The preflight of a V2V import, run by `check` and reads only: the vCenter (login, TLS, each VM found at the
 * datacenter path / cluster / ESXi host, powered off) and the proxy host over SSH (virt-v2v present, or installable).
 */
import { z } from "zod";
import { CheckFailure } from "../common";
import { VSphereClient, VmInfo } from "../../../lib/vsphere";
import { withProxySsh } from "../../../lib/proxyHost";
import { V2VImportArgs, VCenterArgs } from "./args";

export function vsphereOptions(v: z.infer<typeof VCenterArgs>) {
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
export async function proxyFailures(a: V2VImportArgs, host: { address?: string; name: string }, install: boolean): Promise<{ failures: CheckFailure[]; installed: boolean }> {
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
export async function vcenterFailures(a: V2VImportArgs): Promise<{ failures: CheckFailure[]; vms: Map<string, VmInfo> }> {
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
