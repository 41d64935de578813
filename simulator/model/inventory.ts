// Inventory file (JSON or YAML; see docs/design.md "Inventory file"): its format, loading and checks. The state it
// seeds is built by ../seed/ (seedState).
import * as fs from "node:fs";
import * as path from "node:path";
import * as crypto from "node:crypto";
import * as yaml from "js-yaml";
import { z } from "zod";
import { CpuArchitecture, GroupRec, UserRec } from "./types";

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
  /** authz domains of the engine besides `internal-authz` (GET /domains; services/domains.ts), e.g. an LDAP profile's */
  authzDomains: z.array(z.string().min(1)).default([]),
});

/** The users and groups every engine has (the simulator's fixed AAA directory). */
export const DEFAULT_USERS: UserRec[] = [
  { id: "00000000-0000-0000-0000-000000000001", userName: "admin@internal-authz", principal: "admin", domain: "internal-authz", firstName: "admin" },
  { id: "5c0fa4e1-0000-4000-8000-00000000a11c", userName: "alice@internal-authz", principal: "alice", domain: "internal-authz", firstName: "Alice" },
  { id: "5c0fa4e1-0000-4000-8000-000000000b0b", userName: "bob@internal-authz", principal: "bob", domain: "internal-authz", firstName: "Bob" },
];
export const DEFAULT_GROUPS: GroupRec[] = [{ id: "6a0fa4e1-0000-4000-8000-0000000000a5", name: "ops", domain: "internal-authz" }];

export type Inventory = z.input<typeof InventorySchema>;
/** An inventory after parsing (defaults applied): what the seed steps (../seed/) read. */
export type ParsedInventory = z.output<typeof InventorySchema>;
type Inv = ParsedInventory;

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

/** Where each storage domain of an inventory is mounted: data domains keyed `dcIndex/sdIndex`, export domains by index. */
export interface StorageMounts {
  data: Map<string, string>;
  exports: Map<string, string>;
}

/** The mount paths of an inventory's storage domains, checked (no side effects). */
export function storageMounts(inv: Inv, stateDir: string): StorageMounts {
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

// seedState (inventory -> engine state) lives in ../seed/, one file a step.
