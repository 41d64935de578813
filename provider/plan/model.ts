/**
 * The migration plan: what `Migration` declares (the spec, inputs of the hidden `MigrationPlan` resource) and what a
 * preview computes from it by reading the engines (the plan). docs/design.md "Migration plan" is the contract.
 */
import { z } from "zod";
import { EngineArgs } from "../resources/common";

const zPerm = z.object({ user: z.string().optional(), group: z.string().optional(), role: z.string() });

/** One template or VM of the migration, as `Migration` planned it statically (sdk/migration.ts). */
export const PlanEntitySpec = z.object({
  kind: z.enum(["vm", "template"]),
  name: z.string().min(1),
  /** exported by this migration (a template listed only for VMs that are collapsed anyway is not) */
  exported: z.boolean(),
  /** imported by this migration (false in the export stage, and for templates nobody needs thin) */
  imported: z.boolean(),
  discardSnapshots: z.boolean().optional(),
  collapseSnapshots: z.boolean().optional(),
  shutdownIfRunning: z.boolean().optional(),
  onConflict: z.enum(["fail", "skip", "clone"]).optional(),
  newName: z.string().optional(),
  cloneSuffix: z.string().optional(),
  cluster: z.string().optional(),
  storageDomain: z.string().optional(),
  /** per-disk storage domains (`disks[i].storageDomain`), by alias or index as in VmImport */
  diskDomains: z.array(z.object({ alias: z.string().optional(), storageDomain: z.string().optional(), allocation: z.string().optional() })).optional(),
  permissions: z.array(zPerm).optional(),
});
export type PlanEntitySpec = z.infer<typeof PlanEntitySpec>;

export const PlanSpec = z.object({
  /** the Migration's name (resource names of its children derive from it: `${name}-export-vm-web-01`) */
  name: z.string().min(1),
  engine: EngineArgs,
  targetEngine: EngineArgs.optional(),
  crossEngine: z.boolean(),
  source: z.object({ dataCenter: z.string().min(1) }),
  target: z.object({ dataCenter: z.string().min(1), cluster: z.string().optional(), storageDomain: z.string().optional() }),
  /** method "export-domain" (the default): the export domain the copies go through */
  exportDomain: z.string().min(1).optional(),
  /** how the VMs travel: copied through `exportDomain`, or `dataDomain` moves with them and they are registered */
  method: z.enum(["export-domain", "data-domain"]).optional(),
  /** method "data-domain": the data storage domain that moves (its VMs and templates leave the source with it) */
  dataDomain: z.string().min(1).optional(),
  /** method "data-domain": the Migration's options that decide what the registrations and the detach accept */
  allowSplitVms: z.boolean().optional(),
  allowPartialImport: z.boolean().optional(),
  reassignBadMacs: z.boolean().optional(),
  stage: z.enum(["export", "import", "all"]),
  concurrency: z.number().int().min(1),
  /** declared copy throughput (MiB/s) for the estimate; else measured from the engine's recent jobs */
  throughputMiBps: z.number().positive().optional(),
  /** where the Markdown plan is written (else env OVIRT_MIGRATE_PLAN_FILE; none: not written) */
  planFile: z.string().optional(),
  entities: z.array(PlanEntitySpec),
});
export type PlanSpec = z.infer<typeof PlanSpec>;

export interface PlanDisk {
  alias: string;
  provisioned: number;
  actual: number;
  format?: string;
  sparse?: boolean;
  /** target storage domain of this disk */
  storageDomain?: string;
}

export type Outcome =
  /** imported under its own name (cross-engine: same id and MACs) */
  | "import"
  /** a clone: new id, new MACs, snapshots collapsed, template link dropped */
  | "clone"
  /** a conflict with onConflict: "skip": nothing imported */
  | "skip"
  /** a conflict with onConflict: "fail": the import fails */
  | "conflict"
  /** already in the target, imported by this stack's import resource (its correlation id, ownership.ts) */
  | "done"
  /** not imported by this migration (export stage; a template no VM needs thin) */
  | "none";

export interface PlanEntity {
  kind: "vm" | "template";
  name: string;
  /** false when the source is not found in the source data center (the resource's check names it) */
  found: boolean;
  status?: string;
  exported: boolean;
  /** the Migration declares an export resource for it (every VM; a template it exports) */
  exportDeclared: boolean;
  imported: boolean;
  /** a copy of it is already on the export domain (re-exported only when the source changed) */
  onExportDomain: boolean;
  outcome: Outcome;
  targetName: string;
  /** why the name or outcome is what it is, in words */
  why?: string;
  cluster?: string;
  storageDomain?: string;
  disks: PlanDisk[];
  /** snapshots other than the active one */
  snapshots: number;
  /** the snapshots are collapsed: on export (discardSnapshots) or on import (collapse, clone, allocation) */
  collapsed: boolean;
  collapsedWhere?: "export" | "import";
  template?: { name: string; travels: boolean; inTarget: boolean; needed: boolean };
  /** shut down before export (running and shutdownIfRunning) / blocks the export (running without it) */
  shutdown?: "will be shut down" | "running: export refused";
  permissions: string[];
  /** bytes copied to the export domain / from it into the target */
  exportBytes: number;
  importBytes: number;
  /** space each step takes on its destination (the engine's StorageDomainValidator sizing) */
  exportSpace: number;
  importSpace: Record<string, number>;
}

export interface PlanPhase {
  key: "attach" | "export" | "move" | "templates" | "vms" | "permissions";
  title: string;
  entities: number;
  bytes: number;
  /** how the work runs: "2 waves of at most 4", "all at once", ... */
  parallel: string;
  seconds?: number;
}

export interface PlanSpace {
  domain: string;
  role: "export domain" | "target";
  available?: number;
  needed: number;
  /** the engine refuses operations on a domain whose free space is under this (critical_space_action_blocker, GiB) */
  blockerGiB?: number;
  fits: boolean;
}

export interface Throughput {
  /** bytes per second used for the estimate, or undefined (no estimate) */
  bytesPerSecond?: number;
  basis: string;
}

/** What every plan says first: which migration, from which engine and data center to which. */
export interface PlanHeader {
  name: string;
  sourceEngine: string;
  targetEngine: string;
  crossEngine: boolean;
  sourceDataCenter: string;
  targetDataCenter: string;
}

/** The header from a spec and the engines' URLs. */
export function planHeader(spec: { name: string; source: { dataCenter: string }; target: { dataCenter: string } }, sourceEngine: string, targetEngine: string, crossEngine: boolean): PlanHeader {
  return { name: spec.name, sourceEngine, targetEngine, crossEngine, sourceDataCenter: spec.source.dataCenter, targetDataCenter: spec.target.dataCenter };
}

export interface Plan extends PlanHeader {
  exportDomain: string;
  exportDomainState: string;
  stage: string;
  concurrency: number;
  entities: PlanEntity[];
  phases: PlanPhase[];
  space: PlanSpace[];
  throughput: Throughput;
  totalSeconds?: number;
  totals: { entities: number; exportBytes: number; importBytes: number };
  risks: string[];
  /** facts the plan could not read (unknown inputs, an unreadable domain): said, not guessed */
  notes: string[];
  /** the problems that make the move fail: each also a check failure of the plan */
  failures: Array<{ property: string; reason: string }>;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Children names of a Migration (sdk/migration.ts names them so; the live progress maps URNs with them). */
export const childName = {
  sourceAttachment: (m: string) => `${m}-source-attachment`,
  targetAttachment: (m: string) => `${m}-target-attachment`,
  export: (m: string, kind: string, name: string) => `${m}-export-${kind}-${name}`,
  import: (m: string, kind: string, name: string) => `${m}-import-${kind}-${name}`,
  /** method "data-domain" (sdk/migration.ts moveDataDomain) */
  dataDomain: (m: string) => `${m}-data-domain`,
  register: (m: string, kind: string, name: string) => `${m}-register-${kind}-${name}`,
};

/** The URN of a child of the resource `parentUrn` (Pulumi: the parent's type chain, then `$` and the child's type). */
export function childUrn(parentUrn: string, childType: string, name: string): string {
  const i = parentUrn.lastIndexOf("::");
  return `${parentUrn.slice(0, i)}$${childType}::${name}`;
}

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

export function formatDuration(s: number): string {
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One VM or template of a data-domain move: registered from the moving domain, nothing copied. */
export interface DataDomainPlanEntity {
  kind: "vm" | "template";
  name: string;
  /** false when it is not in the source data center (nor unregistered on the domain in the target) */
  found: boolean;
  status?: string;
  sourceCluster?: string;
  /** "register": under its stored id; "clone": a new id and new MACs; "conflict": the register is refused;
   *  "done": registered already (an earlier run); "stays": none of its disks is on the domain (not moved) */
  outcome: "register" | "clone" | "conflict" | "done" | "stays";
  targetName: string;
  why?: string;
  cluster?: string;
  /** every disk, and whether it is on the moving domain (the others stay: a partial register) */
  disks: Array<{ alias: string; provisioned: number; actual: number; onDomain: boolean }>;
  notMoving: string[];
  snapshots: number;
  template?: { name: string; registeredHere: boolean; inTarget: boolean; leaves: boolean };
  /** leaves the source data center with the domain (the detach forgets it there) */
  leaves: boolean;
}

export interface DataDomainPhase {
  key: "deactivate" | "detach" | "remove" | "import" | "attach" | "templates" | "vms";
  title: string;
  entities: number;
  parallel: string;
  seconds?: number;
}

/** The plan of a data-domain move (method "data-domain"): storage operations, no bytes copied. */
export interface DataDomainPlan extends PlanHeader {
  method: "data-domain";
  dataDomain: string;
  /** where the domain is now: "active in dc-src", "attached to dc-dst (moved)", ... */
  domainState: string;
  /** "source": judged in the source data center; "target": the domain moved already (a resumed move) */
  where: "source" | "target" | "unknown";
  entities: DataDomainPlanEntity[];
  /** everything that leaves the source with the domain (DataDomainAttachment's `leaving`), one line each */
  leaving: string[];
  /** VMs with disks on the domain and on others: they stay without the disks of the domain */
  split: Array<{ name: string; here: string[]; elsewhere: string[] }>;
  phases: DataDomainPhase[];
  totals: { entities: number; bytesCopied: 0; entityBytes: number; domainUsed?: number };
  estimate: { seconds?: number; basis: string };
  risks: string[];
  notes: string[];
  /** what the move's own checks refuse (the attachment's and registrations' checks fail the preview on them) */
  failures: Array<{ property: string; reason: string }>;
}

export type AnyPlan = Plan | DataDomainPlan;
export const isDataDomainPlan = (p: AnyPlan): p is DataDomainPlan => (p as DataDomainPlan).method === "data-domain";
