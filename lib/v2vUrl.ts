// The source URLs the engine's external VM import (virt-v2v) accepts, built and parsed in one place:
//   vpx://user@vcenter[:port]/Folder/Datacenter/Cluster/esxi-host?no_verify=1   (VMware through vCenter)
//   qemu+ssh://user@kvm-host[:port]/system                                     (KVM through libvirt over SSH)
//   xen+ssh://user@xen-host[:port]                                             (Xen through libvirt over SSH)
// Every path segment and the user name are percent-encoded (spaces, "@" of administrator@vsphere.local, ...).
// `?no_verify=1` makes virt-v2v on the proxy host skip the vCenter certificate check (the vCenter password then
// travels unverified): V2VImport sets it only on the user's explicit opt-in (verifyCertificate: false or
// vcenter.proxySkipVerify: true); without it the proxy host verifies the vCenter with its own trust store.
// Built and parsed by the provider (V2VImport) and parsed by the engine simulator's external VM import: a neutral
// library, it imports neither side.

export type V2vProvider = "vmware" | "kvm" | "xen";

export interface VpxUrlParts {
  username: string;
  /** vCenter `host` or `host:port`. */
  vcenter: string;
  /** Datacenter inventory path, folders included (`Region A/DC East`). */
  datacenterPath: string;
  /** Cluster name; absent for a standalone ESXi host. */
  cluster?: string;
  esxiHost: string;
  /** Append `?no_verify=1` (virt-v2v skips the certificate check): only on an explicit opt-in. */
  noVerify: boolean;
}

export interface LibvirtSshUrlParts {
  scheme: "qemu+ssh" | "xen+ssh";
  username?: string;
  host: string;
  port?: number;
  /** `/system` for qemu; usually empty for xen. */
  path: string;
}

export class V2vUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "V2vUrlError";
  }
}

function segs(p: string): string[] {
  return p.split("/").map((s) => s.trim()).filter((s) => s.length > 0);
}

export function buildVpxUrl(p: VpxUrlParts): string {
  const path = [...segs(p.datacenterPath), ...(p.cluster ? [p.cluster] : []), p.esxiHost].map(encodeURIComponent).join("/");
  return `vpx://${encodeURIComponent(p.username)}@${p.vcenter}/${path}${p.noVerify ? "?no_verify=1" : ""}`;
}

/** Parses a vpx:// URL into raw pieces; which leading segments form the datacenter path needs the inventory. */
export function parseVpxUrl(url: string): { username: string; vcenter: string; segments: string[]; noVerify: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new V2vUrlError(`"${url}" is not a valid URL`);
  }
  if (u.protocol !== "vpx:") throw new V2vUrlError(`"${url}" is not a vpx:// URL`);
  if (!u.hostname) throw new V2vUrlError(`vpx URL "${url}" names no vCenter host`);
  const segments = u.pathname.split("/").filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
  if (segments.length < 2) {
    throw new V2vUrlError(`vpx URL "${url}" must have the form vpx://user@vcenter/Datacenter[/Cluster]/esxi-host`);
  }
  const nv = u.searchParams.get("no_verify");
  return {
    username: decodeURIComponent(u.username),
    vcenter: u.port ? `${u.hostname}:${u.port}` : u.hostname,
    segments,
    noVerify: nv === "1" || nv === "true",
  };
}

export function buildLibvirtSshUrl(p: LibvirtSshUrlParts): string {
  const user = p.username ? `${encodeURIComponent(p.username)}@` : "";
  const port = p.port ? `:${p.port}` : "";
  const path = p.path ? (p.path.startsWith("/") ? p.path : `/${p.path}`) : p.scheme === "qemu+ssh" ? "/system" : "";
  return `${p.scheme}://${user}${p.host}${port}${path}`;
}

export function parseLibvirtSshUrl(url: string): LibvirtSshUrlParts {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new V2vUrlError(`"${url}" is not a valid URL`);
  }
  const scheme = u.protocol.replace(/:$/, "");
  if (scheme !== "qemu+ssh" && scheme !== "xen+ssh") throw new V2vUrlError(`"${url}" is neither a qemu+ssh:// nor a xen+ssh:// URL`);
  if (!u.hostname) throw new V2vUrlError(`"${url}" names no host`);
  if (scheme === "qemu+ssh" && u.pathname !== "/system" && u.pathname !== "/session") {
    throw new V2vUrlError(`KVM source URL "${url}" must end in /system (e.g. qemu+ssh://root@kvm-host/system)`);
  }
  return {
    scheme,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    host: u.hostname,
    port: u.port ? Number(u.port) : undefined,
    path: u.pathname,
  };
}

/** The engine's `<provider>` for a source URL. */
export function providerOfUrl(url: string): V2vProvider | "ova" {
  if (url.startsWith("vpx://")) return "vmware";
  if (url.startsWith("qemu+ssh://")) return "kvm";
  if (url.startsWith("xen+ssh://")) return "xen";
  if (url.startsWith("ova://")) return "ova";
  throw new V2vUrlError(`unsupported source URL "${url}" (expected vpx://, qemu+ssh://, xen+ssh:// or ova://)`);
}
