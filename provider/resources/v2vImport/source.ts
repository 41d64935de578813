/** The source side of a V2V import: the URL virt-v2v reads (`vpx://`, `qemu+ssh://`, `xen+ssh://`), the source identity, the target name and the correlation id. */
import { resourceCorrelationId } from "../ownership";
import { buildVpxUrl, parseLibvirtSshUrl } from "../../../lib/v2vUrl";
import { V2VImportArgs, VCenterArgs } from "./args";

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
