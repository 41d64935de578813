// Inventory file (JSON or YAML; see docs/design.md "Inventory file") -> seeded engine state.
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import * as yaml from "js-yaml";
import { z } from "zod";
import {
  BLANK_TEMPLATE_ID,
  ClusterRec,
  CpuArchitecture,
  DataCenterRec,
  DiskRec,
  EngineState,
  GroupRec,
  HostRec,
  NicRec,
  SnapshotRec,
  StorageDomainRec,
  TemplateRec,
  UserRec,
  VmRec,
  VolumeRec,
} from "./types";
import { domainRoot, writeDomainMetadata } from "../storage/exportDomain";
import { DEFAULT_MAC_POOL_ID, allocateMacs, defaultMacPool, macToNum, macsInUse } from "./macPools";

const arch = z.enum(["x86_64", "ppc64", "s390x", "aarch64", "undefined"]);

const DiskSpec = z.object({
  id: z.string().optional(),
  alias: z.string().optional(),
  sizeMiB: z.number().positive(),
  sparse: z.boolean().default(true),
  format: z.enum(["cow", "raw"]).optional(),
  storageDomain: z.string().optional(),
  bootable: z.boolean().optional(),
  interface: z.string().default("virtio_scsi"),
});

/** A MAC address as the engine stores it (MacAddressValidationPatterns.VALID_MAC_ADDRESS_FORMAT), kept lower-case. */
const MacAddress = z
  .string()
  .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, "a MAC address like 56:6f:1a:2b:00:01")
  .transform((m) => m.toLowerCase());

const StorageDomainSpec = z.object({
  id: z.string().optional(),
  name: z.string(),
  type: z.enum(["data"]).default("data"),
  storageType: z.enum(["nfs", "iscsi"]).default("nfs"),
  sizeGiB: z.number().positive().default(200),
  bandwidthMiBps: z.number().positive().optional(),
  path: z.string().optional(),
});

export const InventorySchema = z.object({
  dataCenters: z
    .array(
      z.object({
        id: z.string().optional(),
        name: z.string(),
        description: z.string().default(""),
        clusters: z
          .array(
            z.object({
              id: z.string().optional(),
              name: z.string(),
              cpuArchitecture: arch.default("x86_64"),
              cpuType: z.string().optional(),
              /** extra CPU profiles (names) besides the default one named like the cluster */
              cpuProfiles: z.array(z.string().min(1)).default([]),
              /** name of the cluster's MAC pool (`macPools`); default: the engine's default pool "Default" */
              macPool: z.string().min(1).optional(),
            }),
          )
          .default([]),
        hosts: z
          .array(
            z.object({
              id: z.string().optional(),
              name: z.string(),
              cluster: z.string(),
              status: z.enum(["up", "maintenance", "non_operational", "down"]).default("up"),
              address: z.string().optional(),
              virtV2v: z.boolean().default(true),
              ssh: z.object({ host: z.string(), port: z.number().int(), user: z.string().optional() }).optional(),
            }),
          )
          .default([]),
        storageDomains: z.array(StorageDomainSpec).default([]),
      }),
    )
    .default([]),
  exportDomains: z
    .array(
      z.object({
        id: z.string().optional(),
        name: z.string(),
        path: z.string(),
        attachedTo: z.string().optional(),
        status: z.enum(["active", "maintenance"]).default("active"),
        sizeGiB: z.number().positive().default(500),
        bandwidthMiBps: z.number().positive().optional(),
      }),
    )
    .default([]),
  templates: z
    .array(
      z.object({
        id: z.string().optional(),
        name: z.string(),
        dataCenter: z.string().optional(),
        cluster: z.string(),
        storageDomain: z.string().optional(),
        cpuArchitecture: arch.optional(),
        osType: z.string().optional(),
        memoryMiB: z.number().positive().default(2048),
        cpus: z.number().int().positive().default(2),
        disks: z.array(DiskSpec).default([]),
      }),
    )
    .default([]),
  vms: z
    .array(
      z.object({
        id: z.string().optional(),
        name: z.string(),
        cluster: z.string(),
        status: z.enum(["down", "up"]).default("down"),
        memoryMiB: z.number().positive().default(2048),
        cpus: z.number().int().positive().default(1),
        cpuArchitecture: arch.optional(),
        osType: z.string().optional(),
        description: z.string().default(""),
        template: z.string().optional(),
        snapshots: z.array(z.object({ description: z.string() })).default([]),
        disks: z.array(DiskSpec).default([]),
        /** a count (names nic1.., MACs from the cluster's MAC pool), or the NICs with optional names and MACs */
        nics: z
          .union([z.number().int().min(0), z.array(z.object({ name: z.string().min(1).optional(), mac: MacAddress.optional() }))])
          .default(1),
      }),
    )
    .default([]),
  /**
   * MAC pools. One named "Default" is the engine's default pool (else a default pool with one random range like
   * engine-setup's is added); clusters name theirs with `macPool`.
   */
  macPools: z
    .array(
      z.object({
        id: z.string().optional(),
        name: z.string().min(1),
        description: z.string().default(""),
        allowDuplicates: z.boolean().default(false),
        ranges: z.array(z.object({ from: MacAddress, to: MacAddress })).min(1),
      }),
    )
    .default([]),
  /** extra users of the AAA directory (besides admin/alice/bob@internal-authz): `login@authz-domain` */
  users: z
    .array(
      z.object({
        id: z.string().optional(),
        userName: z.string().regex(/^[^@]+@[^@]+$/, "login@authz-domain"),
        principal: z.string().optional(),
        domain: z.string().optional(),
        firstName: z.string().optional(),
      }),
    )
    .default([]),
  /** extra groups (besides ops) */
  groups: z.array(z.object({ id: z.string().optional(), name: z.string().min(1), domain: z.string().default("internal-authz") })).default([]),
});

/** The users and groups every engine has (the simulator's fixed AAA directory). */
export const DEFAULT_USERS: UserRec[] = [
  { id: "00000000-0000-0000-0000-000000000001", userName: "admin@internal-authz", principal: "admin", domain: "internal-authz", firstName: "admin" },
  { id: "5c0fa4e1-0000-4000-8000-00000000a11c", userName: "alice@internal-authz", principal: "alice", domain: "internal-authz", firstName: "Alice" },
  { id: "5c0fa4e1-0000-4000-8000-000000000b0b", userName: "bob@internal-authz", principal: "bob", domain: "internal-authz", firstName: "Bob" },
];
export const DEFAULT_GROUPS: GroupRec[] = [{ id: "6a0fa4e1-0000-4000-8000-0000000000a5", name: "ops", domain: "internal-authz" }];

export type Inventory = z.input<typeof InventorySchema>;
type Inv = z.output<typeof InventorySchema>;

export function loadInventoryFile(file: string): Inventory {
  const text = fs.readFileSync(file, "utf8");
  const data = /\.json$/i.test(file) ? JSON.parse(text) : yaml.load(text);
  return data as Inventory;
}

export function parseInventory(inv: Inventory): Inv {
  const r = InventorySchema.safeParse(inv);
  if (!r.success) {
    throw new Error(`invalid inventory: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return r.data;
}

export function osFor(a: CpuArchitecture): string {
  return a === "ppc64" ? "rhel_9_ppc64" : a === "s390x" ? "rhel_9_s390x" : a === "aarch64" ? "rhel_9_aarch64" : "rhel_9x64";
}

let macCounter = 0;
export function newMac(): string {
  const b = crypto.randomBytes(3);
  macCounter = (macCounter + 1) & 0xff;
  return `56:6f:${b[0].toString(16).padStart(2, "0")}:${b[1].toString(16).padStart(2, "0")}:${b[2].toString(16).padStart(2, "0")}:${macCounter.toString(16).padStart(2, "0")}`.slice(0, 17);
}

/** true when `p` is strictly inside `dir` (both absolute, normalised). */
function strictlyInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * Where a storage domain of the inventory lives. A relative path resolves against the state directory and must stay
 * inside it (no `..` escape, no symbolic link leading out); an absolute path is accepted only where the design
 * allows it: export domains, so that two simulators can share one export domain directory.
 */
export function resolveStoragePath(stateDir: string, p: string, field: string, allowAbsolute: boolean): string {
  if (p.includes("\0")) throw new Error(`invalid inventory: ${field}: contains a NUL character`);
  if (path.isAbsolute(p)) {
    if (!allowAbsolute) {
      throw new Error(`invalid inventory: ${field}: '${p}' is absolute; data domain paths are relative to the state directory (only export domains may be absolute)`);
    }
    return path.resolve(p);
  }
  const root = path.resolve(stateDir);
  const abs = path.resolve(root, p);
  if (!strictlyInside(root, abs)) {
    throw new Error(`invalid inventory: ${field}: '${p}' leaves the state directory ${root} (relative paths must stay inside it)`);
  }
  // a symbolic link on the way must not lead out either: compare the real path of the deepest existing ancestor
  let probe = abs;
  while (probe !== root && !fs.existsSync(probe)) probe = path.dirname(probe);
  if (probe !== root && fs.existsSync(root)) {
    const realRoot = fs.realpathSync(root);
    const real = fs.realpathSync(probe);
    if (real !== realRoot && !strictlyInside(realRoot, real)) {
      throw new Error(`invalid inventory: ${field}: '${p}' leads out of the state directory through a symbolic link`);
    }
  }
  return abs;
}

/** The mount paths of an inventory's storage domains, checked (no side effects). */
function storageMounts(inv: Inv, stateDir: string): { data: Map<string, string>; exports: Map<string, string> } {
  const data = new Map<string, string>();
  const exports = new Map<string, string>();
  inv.dataCenters.forEach((dc, i) =>
    dc.storageDomains.forEach((sd, j) => {
      const field = `dataCenters[${i}].storageDomains[${j}].${sd.path === undefined ? "name" : "path"}`;
      data.set(`${i}/${j}`, resolveStoragePath(stateDir, sd.path ?? path.join("storage", sd.name), field, false));
    }),
  );
  inv.exportDomains.forEach((e, k) => exports.set(String(k), resolveStoragePath(stateDir, e.path, `exportDomains[${k}].path`, true)));
  return { data, exports };
}

/** Parses an inventory and checks its storage paths, without writing anything (admin reseed checks before it tears down). */
export function validateInventory(inv: Inventory, stateDir: string): void {
  storageMounts(parseInventory(inv), stateDir);
}

export function nowIso(): string {
  return new Date().toISOString();
}

export interface SeedOptions {
  stateDir: string;
  engineName: string;
}

/**
 * Builds engine state from an inventory. Base volume content is lazy (seeded); overlay volumes (snapshots, thin
 * VMs' active layers) are written by the caller through `overlaysToWrite`.
 */
export function seedState(invIn: Inventory, o: SeedOptions): { state: EngineState; overlaysToWrite: { sd: StorageDomainRec; disk: DiskRec; vol: VolumeRec }[] } {
  const inv = parseInventory(invIn);
  const mounts = storageMounts(inv, o.stateDir);
  const uuid = () => crypto.randomUUID();
  const state: EngineState = {
    formatVersion: 1,
    engineId: uuid(),
    engineName: o.engineName,
    createdAt: nowIso(),
    nextEventIndex: 1,
    dataCenters: [],
    clusters: [],
    hosts: [],
    storageDomains: [],
    vms: [],
    templates: [],
    jobs: [],
    events: [],
    externalVmImports: [],
    cpuProfiles: [],
    macPools: [],
  };
  // MAC pools first: clusters point at them, VMs take their MACs from them
  for (const [i, mp] of inv.macPools.entries()) {
    if (state.macPools!.some((p) => p.name === mp.name)) throw new Error(`invalid inventory: macPools[${i}].name: duplicate MAC pool '${mp.name}'`);
    mp.ranges.forEach((r, j) => {
      if (macToNum(r.from) > macToNum(r.to)) throw new Error(`invalid inventory: macPools[${i}].ranges[${j}]: from ${r.from} is above to ${r.to}`);
    });
    const isDefault = mp.name === "Default";
    state.macPools!.push({
      id: mp.id ?? (isDefault ? DEFAULT_MAC_POOL_ID : uuid()),
      name: mp.name,
      description: mp.description || (isDefault ? "Default MAC pool" : ""),
      allowDuplicates: mp.allowDuplicates,
      defaultPool: isDefault,
      ranges: mp.ranges,
    });
  }
  if (!state.macPools!.some((p) => p.defaultPool)) state.macPools!.unshift(defaultMacPool());
  const overlaysToWrite: { sd: StorageDomainRec; disk: DiskRec; vol: VolumeRec }[] = [];
  const clusterByName = new Map<string, ClusterRec>();
  const sdByName = new Map<string, StorageDomainRec>();
  const dcByName = new Map<string, DataCenterRec>();
  const uniq = (kind: string, name: string, m: Map<string, unknown>) => {
    if (m.has(name)) throw new Error(`invalid inventory: duplicate ${kind} name '${name}'`);
  };

  for (const [dcIndex, dc] of inv.dataCenters.entries()) {
    uniq("data center", dc.name, dcByName);
    const d: DataCenterRec = { id: dc.id ?? uuid(), name: dc.name, description: dc.description, status: "up", versionMajor: 4, versionMinor: 7 };
    state.dataCenters.push(d);
    dcByName.set(d.name, d);
    for (const [clIndex, c] of dc.clusters.entries()) {
      uniq("cluster", c.name, clusterByName);
      const pool = c.macPool ? state.macPools!.find((p) => p.name === c.macPool) : state.macPools!.find((p) => p.defaultPool);
      if (!pool) {
        throw new Error(`invalid inventory: dataCenters[${dcIndex}].clusters[${clIndex}].macPool: unknown MAC pool '${c.macPool}' (macPools: ${state.macPools!.map((p) => p.name).join(", ")})`);
      }
      const cl: ClusterRec = {
        id: c.id ?? uuid(),
        name: c.name,
        dataCenterId: d.id,
        cpuArchitecture: c.cpuArchitecture,
        cpuType: c.cpuType ?? (c.cpuArchitecture === "ppc64" ? "IBM POWER9" : "Intel Nehalem Family"),
        macPoolId: pool.id,
      };
      state.clusters.push(cl);
      clusterByName.set(cl.name, cl);
      for (const pn of [c.name, ...c.cpuProfiles.filter((x) => x !== c.name)]) {
        state.cpuProfiles!.push({ id: uuid(), name: pn, description: pn === c.name ? `Default CPU profile of cluster ${c.name}` : "", clusterId: cl.id });
      }
    }
    for (const h of dc.hosts) {
      const cl = clusterByName.get(h.cluster);
      if (!cl || cl.dataCenterId !== d.id) throw new Error(`invalid inventory: host ${h.name}: unknown cluster '${h.cluster}' in ${dc.name}`);
      const host: HostRec = { id: h.id ?? uuid(), name: h.name, clusterId: cl.id, status: h.status, address: h.address ?? "127.0.0.1", virtV2v: h.virtV2v, ssh: h.ssh };
      state.hosts.push(host);
    }
    let first = true;
    for (const [sdIndex, s] of dc.storageDomains.entries()) {
      uniq("storage domain", s.name, sdByName);
      const id = s.id ?? uuid();
      const mount = mounts.data.get(`${dcIndex}/${sdIndex}`)!;
      const sd: StorageDomainRec = {
        id,
        name: s.name,
        description: "",
        type: "data",
        storageType: s.storageType,
        sizeBytes: Math.round(s.sizeGiB * 1024 ** 3),
        bandwidthMiBps: s.bandwidthMiBps,
        address: s.storageType === "nfs" ? "127.0.0.1" : "",
        exportPath: mount,
        root: domainRoot(mount, id),
        dataCenterId: d.id,
        status: "active",
        master: first,
      };
      first = false;
      writeDomainMetadata(sd.root, {
        sdUUID: id, description: sd.name, poolUUID: d.id, class: "Data", remotePath: `127.0.0.1:${mount}`,
        type: s.storageType === "nfs" ? "NFS" : "ISCSI", engineId: state.engineId, role: sd.master ? "Master" : "Regular",
      });
      state.storageDomains.push(sd);
      sdByName.set(sd.name, sd);
    }
  }
  for (const [k, e] of inv.exportDomains.entries()) {
    uniq("storage domain", e.name, sdByName);
    const id = e.id ?? uuid();
    const mount = mounts.exports.get(String(k))!;
    const dc = e.attachedTo ? dcByName.get(e.attachedTo) : undefined;
    if (e.attachedTo && !dc) throw new Error(`invalid inventory: export domain ${e.name}: unknown data center '${e.attachedTo}'`);
    const sd: StorageDomainRec = {
      id,
      name: e.name,
      description: "",
      type: "export",
      storageType: "nfs",
      sizeBytes: Math.round(e.sizeGiB * 1024 ** 3),
      bandwidthMiBps: e.bandwidthMiBps,
      address: "127.0.0.1",
      exportPath: mount,
      root: domainRoot(mount, id),
      dataCenterId: dc?.id,
      status: dc ? e.status : undefined,
    };
    writeDomainMetadata(sd.root, {
      sdUUID: id, description: sd.name, poolUUID: dc?.id ?? "", class: "Backup", remotePath: `127.0.0.1:${mount}`, type: "NFS",
      engineId: dc ? state.engineId : undefined, role: "Regular",
    });
    state.storageDomains.push(sd);
    sdByName.set(sd.name, sd);
  }
  for (const d of state.dataCenters) {
    if (state.storageDomains.filter((s) => s.type === "export" && s.dataCenterId === d.id).length > 1) {
      throw new Error(`invalid inventory: data center ${d.name} holds more than one export domain`);
    }
  }

  const sdForCluster = (cl: ClusterRec, name: string | undefined, what: string): StorageDomainRec => {
    if (name) {
      const sd = sdByName.get(name);
      if (!sd || sd.type !== "data") throw new Error(`invalid inventory: ${what}: unknown data domain '${name}'`);
      if (sd.dataCenterId !== cl.dataCenterId) throw new Error(`invalid inventory: ${what}: domain '${name}' is not in the cluster's data center`);
      return sd;
    }
    const sd = state.storageDomains.find((s) => s.type === "data" && s.dataCenterId === cl.dataCenterId);
    if (!sd) throw new Error(`invalid inventory: ${what}: no data domain in the data center`);
    return sd;
  };
  const mkNics = (n: number): NicRec[] =>
    Array.from({ length: n }, (_, i) => ({ id: uuid(), name: `nic${i + 1}`, mac: newMac(), interface: "virtio" }));

  const tplByName = new Map<string, TemplateRec>();
  for (const t of inv.templates) {
    const cl = clusterByName.get(t.cluster);
    if (!cl) throw new Error(`invalid inventory: template ${t.name}: unknown cluster '${t.cluster}'`);
    const a = t.cpuArchitecture ?? cl.cpuArchitecture;
    const tpl: TemplateRec = {
      id: t.id ?? uuid(),
      name: t.name,
      description: "",
      comment: "",
      clusterId: cl.id,
      status: "ok",
      memoryBytes: t.memoryMiB * 1024 ** 2,
      cpus: t.cpus,
      cpuArchitecture: a,
      osType: t.osType ?? osFor(a),
      origin: "ovirt",
      type: "server",
      creationTime: nowIso(),
      disks: [],
      nics: mkNics(1),
    };
    t.disks.forEach((ds, i) => {
      const sd = sdForCluster(cl, ds.storageDomain ?? t.storageDomain, `template ${t.name}`);
      const diskId = ds.id ?? uuid();
      const volId = uuid();
      tpl.disks.push({
        id: diskId,
        alias: ds.alias ?? `${t.name}_Disk${i + 1}`,
        provisionedSize: Math.round(ds.sizeMiB * 1024 ** 2),
        sparse: ds.sparse,
        format: ds.format ?? (ds.sparse ? "cow" : "raw"),
        storageDomainId: sd.id,
        bootable: ds.bootable ?? i === 0,
        interface: ds.interface,
        status: "ok",
        volumes: [{ id: volId, format: ds.format ?? (ds.sparse ? "cow" : "raw"), kind: "base", seed: diskId }],
      });
    });
    state.templates.push(tpl);
    tplByName.set(tpl.name, tpl);
  }

  // VM names are unique per data center, as in the engine ("VM Name already exists in the Data Center").
  const vmNames = new Set<string>();
  /** NICs given without a MAC get one from their cluster's pool once every explicit MAC is known */
  const toAllocate: Array<{ vm: VmRec; nic: NicRec; field: string }> = [];
  for (const [vmIndex, v] of inv.vms.entries()) {
    const cl = clusterByName.get(v.cluster);
    if (!cl) throw new Error(`invalid inventory: VM ${v.name}: unknown cluster '${v.cluster}'`);
    const key = `${cl.dataCenterId}/${v.name}`;
    if (vmNames.has(key)) throw new Error(`invalid inventory: duplicate VM name '${v.name}' in one data center`);
    vmNames.add(key);
    const a = v.cpuArchitecture ?? cl.cpuArchitecture;
    const tpl = v.template ? tplByName.get(v.template) : undefined;
    if (v.template && !tpl) throw new Error(`invalid inventory: VM ${v.name}: unknown template '${v.template}'`);
    if (tpl) {
      const tcl = state.clusters.find((c) => c.id === tpl.clusterId)!;
      if (tcl.dataCenterId !== cl.dataCenterId) throw new Error(`invalid inventory: VM ${v.name}: template ${tpl.name} is in another data center`);
    }
    const t0 = Date.now() - 86400_000;
    const snapshots: SnapshotRec[] = v.snapshots.map((s, i) => ({
      id: uuid(),
      description: s.description,
      date: new Date(t0 + i * 3600_000).toISOString(),
      type: "regular",
      status: "ok",
    }));
    snapshots.push({ id: uuid(), description: "Active VM", date: nowIso(), type: "active", status: "ok" });
    const vm: VmRec = {
      id: v.id ?? uuid(),
      name: v.name,
      description: v.description,
      comment: "",
      clusterId: cl.id,
      status: v.status,
      memoryBytes: v.memoryMiB * 1024 ** 2,
      cpus: v.cpus,
      cpuArchitecture: a,
      osType: v.osType ?? osFor(a),
      templateId: tpl?.id ?? BLANK_TEMPLATE_ID,
      origin: "ovirt",
      type: "server",
      creationTime: new Date(t0).toISOString(),
      // run history like the engine's: lastStopTime from the VM's creation (AddVmCommand.createVmDynamic); a VM
      // seeded running was started now
      stopTime: new Date(t0).toISOString(),
      startTime: v.status === "up" ? nowIso() : undefined,
      hostId: v.status === "up" ? state.hosts.find((h) => h.clusterId === cl.id && h.status === "up")?.id : undefined,
      snapshots,
      disks: [],
      nics: (typeof v.nics === "number" ? Array.from({ length: v.nics }, () => ({})) : v.nics).map((n: { name?: string; mac?: string }, i) => ({
        id: uuid(),
        name: n.name ?? `nic${i + 1}`,
        mac: n.mac ?? "",
        interface: "virtio",
      })),
    };
    vm.nics.forEach((nic) => {
      if (!nic.mac) toAllocate.push({ vm, nic, field: `vms[${vmIndex}].nics` });
    });
    const diskSpecs = tpl && v.disks.length === 0 ? tpl.disks.map((d) => ({ templateDisk: d })) : v.disks.map((d) => ({ spec: d }));
    diskSpecs.forEach((entry, i) => {
      const diskId = ("spec" in entry && entry.spec?.id) || uuid();
      if ("templateDisk" in entry && entry.templateDisk) {
        // thin disk: own overlays on the template disk's base volume
        const td = entry.templateDisk;
        const sd = state.storageDomains.find((s) => s.id === td.storageDomainId)!;
        const vols: VolumeRec[] = [];
        let parent = td.volumes[td.volumes.length - 1].id;
        for (let k = 0; k < snapshots.length; k++) {
          const vol: VolumeRec = { id: uuid(), parentId: parent, format: "cow", kind: "overlay" };
          vols.push(vol);
          parent = vol.id;
        }
        const disk: DiskRec = {
          id: diskId,
          alias: `${v.name}_Disk${i + 1}`,
          provisionedSize: td.provisionedSize,
          sparse: true,
          format: "cow",
          storageDomainId: sd.id,
          bootable: td.bootable,
          interface: td.interface,
          status: "ok",
          volumes: vols,
          templateDisk: { templateId: tpl!.id, diskId: td.id, volumeId: td.volumes[td.volumes.length - 1].id, storageDomainId: sd.id },
        };
        vm.disks.push(disk);
        for (const vol of vols) overlaysToWrite.push({ sd, disk, vol });
      } else {
        const ds = (entry as { spec: z.output<typeof DiskSpec> }).spec;
        const sd = sdForCluster(cl, ds.storageDomain, `VM ${v.name}`);
        const fmt = ds.format ?? (ds.sparse || snapshots.length > 1 ? "cow" : "raw");
        const vols: VolumeRec[] = [{ id: uuid(), format: snapshots.length > 1 ? "cow" : fmt, kind: "base", seed: diskId }];
        for (let k = 1; k < snapshots.length; k++) {
          const vol: VolumeRec = { id: uuid(), parentId: vols[vols.length - 1].id, format: "cow", kind: "overlay" };
          vols.push(vol);
        }
        const disk: DiskRec = {
          id: diskId,
          alias: ds.alias ?? `${v.name}_Disk${i + 1}`,
          provisionedSize: Math.round(ds.sizeMiB * 1024 ** 2),
          sparse: ds.sparse,
          format: fmt,
          storageDomainId: sd.id,
          bootable: ds.bootable ?? i === 0,
          interface: ds.interface,
          status: "ok",
          volumes: vols,
        };
        vm.disks.push(disk);
        for (const vol of vols.slice(1)) overlaysToWrite.push({ sd, disk, vol });
      }
    });
    state.vms.push(vm);
  }
  // explicit MACs: a pool that allows no duplicates holds each once (the engine refuses duplicates when NICs are added)
  for (const pool of state.macPools!) {
    if (pool.allowDuplicates) continue;
    for (const [mac, uses] of macsInUse(state, pool)) {
      if (uses.length > 1) {
        throw new Error(`invalid inventory: MAC ${mac} is given to ${uses.map((u) => `VM ${u.vm.name} (${u.nic.name})`).join(" and ")}, and MAC pool '${pool.name}' allows no duplicates (set allowDuplicates: true on it, or give another MAC)`);
      }
    }
  }
  // one allocation per pool (in inventory order), not one per NIC: a large inventory loads in linear time
  for (const pool of state.macPools!) {
    const want = toAllocate.filter((x) => state.clusters.find((c) => c.id === x.vm.clusterId)!.macPoolId === pool.id);
    if (want.length === 0) continue;
    let macs: string[];
    try {
      macs = allocateMacs(state, pool, want.length);
    } catch {
      throw new Error(`invalid inventory: ${want[0].field}: MAC pool '${pool.name}' has ${want.length > 1 ? "fewer free MAC addresses than the NICs without one need" : "no MAC address left"} (VMs ${[...new Set(want.map((x) => x.vm.name))].join(", ")})`);
    }
    want.forEach((x, i) => (x.nic.mac = macs[i]));
  }
  if (inv.users.length) {
    state.users = DEFAULT_USERS.map((u) => ({ ...u }));
    for (const [i, u] of inv.users.entries()) {
      if (state.users.some((x) => x.userName === u.userName)) throw new Error(`invalid inventory: users[${i}].userName: duplicate user '${u.userName}'`);
      const [login, domain] = u.userName.split("@");
      state.users.push({ id: u.id ?? uuid(), userName: u.userName, principal: u.principal ?? login, domain: u.domain ?? domain, firstName: u.firstName });
    }
  }
  if (inv.groups.length) {
    state.groups = DEFAULT_GROUPS.map((g) => ({ ...g }));
    for (const [i, g] of inv.groups.entries()) {
      if (state.groups.some((x) => x.name === g.name && x.domain === g.domain)) throw new Error(`invalid inventory: groups[${i}].name: duplicate group '${g.name}'`);
      state.groups.push({ id: g.id ?? uuid(), name: g.name, domain: g.domain });
    }
  }
  return { state, overlaysToWrite };
}
