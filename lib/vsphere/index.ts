// A small vim25 client: login, inventory-path lookup, property collector, power state and power operations.
// Used by the V2VImport preflight (provider/) and by the engine simulator's external VM import (simulator/): a neutral
// library, it imports neither side.

import {
  MoRef,
  SoapSession,
  TlsOptions,
  VSphereError,
  XmlNode,
  moRef,
  normalizeFingerprint,
  probeCertificate,
  redact,
  refXml,
  text,
  xmlEscape,
  xsiType,
} from "./soap";

export { VSphereError, TlsOptions, MoRef, normalizeFingerprint, probeCertificate, redact } from "./soap";

export interface VSphereConnectOptions {
  /** vCenter (or ESXi) `host` or `host:port`. */
  host: string;
  username: string;
  password: string;
  tls?: TlsOptions;
  timeoutMs?: number;
}

export type PowerState = "poweredOn" | "poweredOff" | "suspended";

export interface VmDisk {
  key: number;
  label: string;
  capacityBytes: number;
  /** Thin-provisioned on the source (maps to a sparse disk). */
  thin: boolean;
  fileName: string;
}

export interface VmNic {
  label: string;
  macAddress: string;
}

export interface VmInfo {
  ref: MoRef;
  name: string;
  powerState: PowerState;
  cpus: number;
  memoryMiB: number;
  guestId: string;
  uuid: string;
  firmware: string;
  /** Name of the ESXi host the VM is registered on. */
  hostName: string;
  /** Name of the cluster (compute resource) of that host. */
  clusterName: string;
  disks: VmDisk[];
  nics: VmNic[];
}

export interface DatacenterInfo {
  ref: MoRef;
  /** Inventory path below the root folder, e.g. `Region A/DC East`. */
  path: string;
}

interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  searchIndex: MoRef;
  sessionManager: MoRef;
  about: { fullName: string; apiType: string; version: string };
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Splits an inventory path into names; empty segments and surrounding slashes are ignored. */
export function splitInventoryPath(p: string): string[] {
  return p.split("/").map((s) => s.trim()).filter((s) => s.length > 0);
}

export class VSphereClient {
  readonly session: SoapSession;
  readonly content: ServiceContent;
  readonly username: string;

  private constructor(session: SoapSession, content: ServiceContent, username: string) {
    this.session = session;
    this.content = content;
    this.username = username;
  }

  get host(): string {
    return this.session.hostLabel;
  }

  /**
   * Connects and logs in. Errors are `VSphereError`s whose message names the host and user, never the password:
   * code `login` (wrong user name or password), `tls` (with the fingerprint to pin), `connection`, `timeout`.
   */
  static async connect(opts: VSphereConnectOptions): Promise<VSphereClient> {
    const secrets = [opts.password];
    const session = new SoapSession({ host: opts.host, tls: opts.tls, timeoutMs: opts.timeoutMs, secrets });
    try {
      const sc = await session.call("RetrieveServiceContent", `<_this type="ServiceInstance">ServiceInstance</_this>`);
      const rv = asArray(sc.returnval)[0] ?? {};
      const content: ServiceContent = {
        rootFolder: moRef(rv.rootFolder)!,
        propertyCollector: moRef(rv.propertyCollector)!,
        viewManager: moRef(rv.viewManager)!,
        searchIndex: moRef(rv.searchIndex)!,
        sessionManager: moRef(rv.sessionManager)!,
        about: { fullName: text(rv.about?.fullName), apiType: text(rv.about?.apiType), version: text(rv.about?.version) },
      };
      if (!content.rootFolder || !content.sessionManager) {
        throw new VSphereError("protocol", `${session.hostLabel} answered RetrieveServiceContent without a root folder or session manager`);
      }
      try {
        await session.call(
          "Login",
          `${refXml("_this", content.sessionManager)}<userName>${xmlEscape(opts.username)}</userName><password>${xmlEscape(opts.password)}</password>`,
        );
      } catch (e) {
        if (e instanceof VSphereError && e.code === "fault" && /InvalidLogin|Login failure|NoPermission/i.test(`${e.faultType} ${e.message}`)) {
          throw new VSphereError(
            "login",
            `vCenter ${session.hostLabel} refused the login of user "${opts.username}": incorrect user name or password (InvalidLogin)`,
            e.faultType,
          );
        }
        throw e;
      }
      return new VSphereClient(session, content, opts.username);
    } catch (e) {
      await session.close();
      if (e instanceof VSphereError && e.code === "tls" && !/pinned/.test(e.message)) {
        let hint = "";
        try {
          const cert = await probeCertificate(opts.host, 5_000);
          hint = ` Its certificate has SHA-256 fingerprint ${cert.sha256}; pin it, or turn certificate verification off.`;
        } catch {
          /* no hint */
        }
        throw new VSphereError("tls", redact(e.message + "." + hint, secrets));
      }
      if (e instanceof VSphereError) throw new VSphereError(e.code, redact(e.message, secrets), e.faultType);
      throw new VSphereError("connection", redact(String((e as Error)?.message ?? e), secrets));
    }
  }

  async logout(): Promise<void> {
    try {
      await this.session.call("Logout", refXml("_this", this.content.sessionManager));
    } catch {
      /* best effort */
    }
    await this.session.close();
  }

  /** `SearchIndex.FindByInventoryPath`: the object at an inventory path (e.g. `Folder/DC/host/Cluster`), or undefined. */
  async findByInventoryPath(path: string): Promise<MoRef | undefined> {
    const p = splitInventoryPath(path).join("/");
    const r = await this.session.call(
      "FindByInventoryPath",
      `${refXml("_this", this.content.searchIndex)}<inventoryPath>${xmlEscape(p)}</inventoryPath>`,
    );
    return moRef(asArray(r.returnval)[0]);
  }

  /** Property collector: the given properties of the given objects. */
  async retrieve(objs: MoRef[], type: string, paths: string[]): Promise<Map<string, Record<string, XmlNode>>> {
    if (objs.length === 0) return new Map();
    const propSet = `<propSet><type>${xmlEscape(type)}</type><all>false</all>${paths.map((p) => `<pathSet>${xmlEscape(p)}</pathSet>`).join("")}</propSet>`;
    const objectSet = objs.map((o) => `<objectSet>${refXml("obj", o)}<skip>false</skip></objectSet>`).join("");
    return this.collect(`<specSet>${propSet}${objectSet}</specSet><options></options>`);
  }

  /** All objects of the given types below a container (recursive), with the given properties. */
  async listInContainer(container: MoRef, type: string, paths: string[]): Promise<Map<string, { ref: MoRef; props: Record<string, XmlNode> }>> {
    const v = await this.session.call(
      "CreateContainerView",
      `${refXml("_this", this.content.viewManager)}${refXml("container", container)}<type>${xmlEscape(type)}</type><recursive>true</recursive>`,
    );
    const view = moRef(asArray(v.returnval)[0]);
    if (!view) throw new VSphereError("protocol", `${this.host} returned no container view`);
    try {
      const spec =
        `<specSet><propSet><type>${xmlEscape(type)}</type><all>false</all>${paths.map((p) => `<pathSet>${xmlEscape(p)}</pathSet>`).join("")}</propSet>` +
        `<objectSet>${refXml("obj", view)}<skip>true</skip>` +
        `<selectSet xsi:type="TraversalSpec"><name>traverseView</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet>` +
        `</objectSet></specSet><options></options>`;
      const props = await this.collect(spec, true);
      const out = new Map<string, { ref: MoRef; props: Record<string, XmlNode> }>();
      for (const [key, p] of props) {
        const [t, ...rest] = key.split(":");
        out.set(key, { ref: { type: t, value: rest.join(":") }, props: p });
      }
      return out;
    } finally {
      await this.session.call("DestroyView", refXml("_this", view)).catch(() => undefined);
    }
  }

  private async collect(spec: string, _container = false): Promise<Map<string, Record<string, XmlNode>>> {
    const out = new Map<string, Record<string, XmlNode>>();
    let r = await this.session.call("RetrievePropertiesEx", `${refXml("_this", this.content.propertyCollector)}${spec}`);
    for (;;) {
      const rv = asArray(r.returnval)[0];
      if (!rv) break;
      for (const o of asArray<XmlNode>(rv.objects)) {
        const ref = moRef(o.obj);
        if (!ref) continue;
        const props: Record<string, XmlNode> = {};
        for (const ps of asArray<XmlNode>(o.propSet)) props[text(ps.name)] = ps.val;
        out.set(`${ref.type}:${ref.value}`, props);
      }
      const token = text(rv.token);
      if (!token) break;
      r = await this.session.call(
        "ContinueRetrievePropertiesEx",
        `${refXml("_this", this.content.propertyCollector)}<token>${xmlEscape(token)}</token>`,
      );
    }
    return out;
  }

  /** Every datacenter with its inventory path (folders included). */
  async datacenters(): Promise<DatacenterInfo[]> {
    const folders = await this.listInContainer(this.content.rootFolder, "Folder", ["name", "parent"]);
    const dcs = await this.listInContainer(this.content.rootFolder, "Datacenter", ["name", "parent"]);
    const nameOf = (key: string) => {
      const f = folders.get(key);
      return f ? { name: text(f.props.name), parent: moRef(f.props.parent) } : undefined;
    };
    const out: DatacenterInfo[] = [];
    for (const dc of dcs.values()) {
      const parts = [text(dc.props.name)];
      let parent = moRef(dc.props.parent);
      while (parent && !(parent.type === this.content.rootFolder.type && parent.value === this.content.rootFolder.value)) {
        const f = nameOf(`${parent.type}:${parent.value}`);
        if (!f) break;
        parts.unshift(f.name);
        parent = f.parent;
      }
      out.push({ ref: dc.ref, path: parts.join("/") });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** The datacenter at an inventory path; a `notFound` error lists the datacenters that exist. */
  async datacenter(path: string): Promise<MoRef> {
    const ref = await this.findByInventoryPath(path);
    if (ref && ref.type === "Datacenter") return ref;
    const known = await this.datacenters().catch(() => [] as DatacenterInfo[]);
    throw new VSphereError(
      "notFound",
      `no datacenter at inventory path "${splitInventoryPath(path).join("/")}" on ${this.host}` +
        (known.length ? ` (datacenters there: ${known.map((d) => `"${d.path}"`).join(", ")})` : ""),
    );
  }

  /**
   * Finds a VM by name in a datacenter (any folder). With `cluster`/`host`, also checks that the VM runs on that
   * ESXi host of that cluster, as a vpx:// path requires.
   */
  async findVm(datacenterPath: string, name: string, where: { cluster?: string; host?: string } = {}): Promise<VmInfo> {
    const dc = await this.datacenter(datacenterPath);
    const dcPath = splitInventoryPath(datacenterPath).join("/");
    if (where.cluster) {
      const cl = await this.findByInventoryPath(`${dcPath}/host/${where.cluster}`);
      if (!cl || !/ComputeResource$/.test(cl.type)) {
        throw new VSphereError("notFound", `no cluster "${where.cluster}" in datacenter "${dcPath}" on ${this.host}`);
      }
      if (where.host) {
        const h = await this.findByInventoryPath(`${dcPath}/host/${where.cluster}/${where.host}`);
        if (!h || h.type !== "HostSystem") {
          throw new VSphereError("notFound", `no ESXi host "${where.host}" in cluster "${where.cluster}" of datacenter "${dcPath}" on ${this.host}`);
        }
      }
    }
    const vms = await this.listInContainer(dc, "VirtualMachine", ["name"]);
    const matches = [...vms.values()].filter((v) => text(v.props.name) === name);
    if (matches.length === 0) {
      throw new VSphereError("notFound", `no VM named "${name}" in datacenter "${dcPath}" on ${this.host}`);
    }
    if (matches.length > 1) {
      throw new VSphereError("notFound", `${matches.length} VMs are named "${name}" in datacenter "${dcPath}" on ${this.host}; the name must be unique`);
    }
    const info = await this.vmInfo(matches[0].ref);
    if (where.host && info.hostName !== where.host) {
      throw new VSphereError("notFound", `VM "${name}" runs on ESXi host "${info.hostName}", not on "${where.host}" (datacenter "${dcPath}")`);
    }
    if (where.cluster && info.clusterName !== where.cluster) {
      throw new VSphereError("notFound", `VM "${name}" is in cluster "${info.clusterName}", not in "${where.cluster}" (datacenter "${dcPath}")`);
    }
    return info;
  }

  async vmInfo(ref: MoRef): Promise<VmInfo> {
    const props = (
      await this.retrieve([ref], "VirtualMachine", [
        "name",
        "runtime.powerState",
        "runtime.host",
        "config.hardware.numCPU",
        "config.hardware.memoryMB",
        "config.hardware.device",
        "config.guestId",
        "config.uuid",
        "config.firmware",
      ])
    ).get(`${ref.type}:${ref.value}`);
    if (!props) throw new VSphereError("notFound", `VM ${ref.value} no longer exists on ${this.host}`);
    const disks: VmDisk[] = [];
    const nics: VmNic[] = [];
    const devices = asArray<XmlNode>(props["config.hardware.device"]?.VirtualDevice);
    for (const d of devices) {
      const t = xsiType(d);
      if (t === "VirtualDisk") {
        const bytes = text(d.capacityInBytes) ? Number(text(d.capacityInBytes)) : Number(text(d.capacityInKB)) * 1024;
        disks.push({
          key: Number(text(d.key)),
          label: text(d.deviceInfo?.label),
          capacityBytes: bytes,
          thin: text(d.backing?.thinProvisioned) === "true",
          fileName: text(d.backing?.fileName),
        });
      } else if (d.macAddress !== undefined) {
        nics.push({ label: text(d.deviceInfo?.label), macAddress: text(d.macAddress) });
      }
    }
    let hostName = "";
    let clusterName = "";
    const hostRef = moRef(props["runtime.host"]);
    if (hostRef) {
      const h = (await this.retrieve([hostRef], "HostSystem", ["name", "parent"])).get(`${hostRef.type}:${hostRef.value}`);
      hostName = text(h?.name);
      const parent = moRef(h?.parent);
      if (parent) {
        const c = (await this.retrieve([parent], parent.type, ["name"])).get(`${parent.type}:${parent.value}`);
        clusterName = text(c?.name);
      }
    }
    return {
      ref,
      name: text(props.name),
      powerState: (text(props["runtime.powerState"]) || "poweredOff") as PowerState,
      cpus: Number(text(props["config.hardware.numCPU"]) || 0),
      memoryMiB: Number(text(props["config.hardware.memoryMB"]) || 0),
      guestId: text(props["config.guestId"]),
      uuid: text(props["config.uuid"]),
      firmware: text(props["config.firmware"]),
      hostName,
      clusterName,
      disks,
      nics,
    };
  }

  async powerState(ref: MoRef): Promise<PowerState> {
    const p = (await this.retrieve([ref], "VirtualMachine", ["runtime.powerState"])).get(`${ref.type}:${ref.value}`);
    if (!p) throw new VSphereError("notFound", `VM ${ref.value} no longer exists on ${this.host}`);
    return text(p["runtime.powerState"]) as PowerState;
  }

  async powerOn(ref: MoRef): Promise<void> {
    await this.runTask("PowerOnVM_Task", refXml("_this", ref));
  }

  async powerOff(ref: MoRef): Promise<void> {
    await this.runTask("PowerOffVM_Task", refXml("_this", ref));
  }

  /** Calls a `*_Task` method and waits for the task; throws its error. Returns the task's result node. */
  async runTask(method: string, body: string, timeoutMs = 120_000): Promise<XmlNode | undefined> {
    const r = await this.session.call(method, body);
    const task = moRef(asArray(r.returnval)[0]);
    if (!task) throw new VSphereError("protocol", `${method} on ${this.host} returned no task`);
    const deadline = Date.now() + timeoutMs;
    let delay = 50;
    for (;;) {
      const p = (await this.retrieve([task], "Task", ["info.state", "info.error", "info.result"])).get(`${task.type}:${task.value}`);
      const state = text(p?.["info.state"]);
      if (state === "success") return p?.["info.result"];
      if (state === "error") {
        const err = p?.["info.error"] ?? {};
        const msg = text(err.localizedMessage) || xsiType(err.fault) || "task failed";
        throw new VSphereError("fault", `${method} failed on ${this.host}: ${msg}`, xsiType(err.fault));
      }
      if (Date.now() > deadline) throw new VSphereError("timeout", `${method} on ${this.host} did not finish in ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}

/** Connects, runs `fn`, logs out. */
export async function withVSphere<T>(opts: VSphereConnectOptions, fn: (c: VSphereClient) => Promise<T>): Promise<T> {
  const c = await VSphereClient.connect(opts);
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}
