// The source side of an external import: the engine's GetVmsFromExternalProvider step (for vpx://, the VM looked up
// in the real vCenter over SOAP, lib/vsphere), and the source's power state watched during the conversion.
// KVM/Xen: no libvirt source exists here, so after the URL checks the lookup fails as "VM not found".
import { backend } from "../../engineFaults";
import * as vs from "../../../lib/vsphere";
import { parseVpxUrl } from "../../../lib/v2vUrl";
import { ImportRequest, OP } from "./request";

/** What one running import needs to watch its source. */
export interface SourceWatch {
  kind: "vmware";
  host: string;
  username: string;
  password: string;
  insecure: boolean;
  vmRef: { type: string; value: string };
  vmName: string;
}

export interface SourceVm {
  name: string;
  uuid: string;
  cpus: number;
  memoryMiB: number;
  guestId: string;
  disks: { key: number; capacityBytes: number; thin: boolean }[];
  nics: { mac: string }[];
  /** set when the source is powered off: the conversion watches it */
  watch?: SourceWatch;
  /** the source's power state when it is not powered off (virt-v2v then refuses it) */
  running?: string;
}

/** GetVmsFromExternalProvider: the source VM of the request, or 400. */
export async function lookUpSource(req: ImportRequest): Promise<SourceVm> {
  if (req.prov === "vmware") return vmwareSource(req.url, req.username, req.password, req.name);
  throw backend(400, `${OP}. VM ${req.name} was not found on the external provider (${req.url}): no ${req.prov} source is reachable from this simulator.`);
}

/** GetVmsFromExternalProvider for vpx://: the VM at the URL's path in the vCenter. */
async function vmwareSource(url: string, username: string, password: string, name: string): Promise<SourceVm> {
  let p;
  try {
    p = parseVpxUrl(url);
  } catch (e) {
    throw backend(400, `${OP}. ${(e as Error).message}`);
  }
  const user = p.username || username;
  const failed = (why: string) => backend(400, `${OP}. Failed to retrieve VMs information from external server ${url}: ${why}`);
  let c;
  try {
    c = await vs.VSphereClient.connect({ host: p.vcenter, username: user, password, tls: { insecure: p.noVerify }, timeoutMs: 30_000 });
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === "login") throw failed(`authentication failed for user ${user}`);
    if (err.code === "tls") throw failed(`SSL certificate problem (${err.message.replace(/ Its certificate.*$/, "")}); add ?no_verify=1 to the URL to skip verification`);
    throw failed(err.message);
  }
  try {
    // the datacenter path is the longest prefix that names a Datacenter; then [cluster/]esxi-host
    let dcLen = 0;
    for (let i = p.segments.length - 1; i >= 1; i--) {
      const r = await c.findByInventoryPath(p.segments.slice(0, i).join("/"));
      if (r?.type === "Datacenter") {
        dcLen = i;
        break;
      }
    }
    if (!dcLen) throw failed(`no datacenter in path /${p.segments.join("/")}`);
    const rest = p.segments.slice(dcLen);
    if (rest.length > 2) throw failed(`path /${p.segments.join("/")} has more than a cluster and a host after the datacenter`);
    const where = rest.length === 2 ? { cluster: rest[0], host: rest[1] } : { host: rest[0] };
    let vm;
    try {
      vm = await c.findVm(p.segments.slice(0, dcLen).join("/"), name, where.cluster ? where : {});
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (err.code === "notFound") throw backend(400, `${OP}. VM ${name} was not found on the external provider: ${err.message}`);
      throw failed(err.message);
    }
    if (!where.cluster && vm.hostName !== where.host) throw backend(400, `${OP}. VM ${name} was not found on host ${where.host} of the external provider`);
    return {
      name: vm.name,
      uuid: vm.uuid,
      cpus: vm.cpus,
      memoryMiB: vm.memoryMiB,
      guestId: vm.guestId,
      disks: vm.disks.map((d) => ({ key: d.key, capacityBytes: d.capacityBytes, thin: d.thin })),
      nics: vm.nics.map((n) => ({ mac: n.macAddress })),
      watch:
        vm.powerState === "poweredOff"
          ? { kind: "vmware", host: p.vcenter, username: user, password, insecure: p.noVerify, vmRef: vm.ref, vmName: vm.name }
          : undefined,
      ...(vm.powerState !== "poweredOff" ? { running: vm.powerState } : {}),
    };
  } finally {
    await c.logout();
  }
}

/** The source's power state when it is not powered off; vCenter trouble is not a power-on (undefined). */
export async function sourcePoweredOn(w: SourceWatch): Promise<string | undefined> {
  try {
    const c = await vs.VSphereClient.connect({ host: w.host, username: w.username, password: w.password, tls: { insecure: w.insecure }, timeoutMs: 15_000 });
    try {
      const st = await c.powerState(w.vmRef);
      return st === "poweredOff" ? undefined : st;
    } finally {
      await c.logout();
    }
  } catch {
    return undefined; // vCenter trouble is not a power-on
  }
}
