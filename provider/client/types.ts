/**
 * zod schemas of the engine entities we use, validated after `xml.ts` parsed them. Field names are the engine's
 * (snake_case). Unknown elements are dropped; only the fields the provider relies on are declared, all optional
 * except where the engine always sends them (`id` of an entity).
 */
import { z } from "zod";

/** Engine booleans arrive as "true"/"false". */
export const zBool = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());
/** Engine numbers arrive as strings (sizes in bytes can exceed 2^31; JS numbers are exact to 2^53). */
export const zNum = z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.number());
const zStr = z.preprocess((v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v), z.string());

/** A list wrapper like `<disks><disk/>...</disks>`: empty element -> [] */
function listOf<T extends z.ZodTypeAny>(element: string, schema: T) {
  return z.preprocess(
    (v) => {
      if (v === "" || v === undefined || v === null) return [];
      if (typeof v === "object" && !Array.isArray(v)) {
        const items = (v as any)[element];
        if (items === undefined) return [];
        return Array.isArray(items) ? items : [items];
      }
      return v;
    },
    z.array(schema),
  );
}

export const Ref = z.object({ id: z.string().optional(), href: z.string().optional(), name: zStr.optional() });
export type Ref = z.infer<typeof Ref>;

export const Fault = z.object({ reason: zStr.optional(), detail: zStr.optional() });
export type Fault = z.infer<typeof Fault>;

export const Version = z.object({
  major: zNum.optional(),
  minor: zNum.optional(),
  build: zNum.optional(),
  revision: zNum.optional(),
  full_version: zStr.optional(),
});

export const Api = z.object({
  product_info: z
    .object({ name: zStr.optional(), vendor: zStr.optional(), version: Version.optional(), instance_id: zStr.optional() })
    .optional(),
  time: zStr.optional(),
});
export type Api = z.infer<typeof Api>;

export const DataCenter = z.object({
  id: z.string(),
  name: zStr,
  status: zStr.optional(),
  local: zBool.optional(),
});
export type DataCenter = z.infer<typeof DataCenter>;

export const Cpu = z.object({
  architecture: zStr.optional(),
  type: zStr.optional(),
  topology: z.object({ sockets: zNum.optional(), cores: zNum.optional(), threads: zNum.optional() }).optional(),
});

export const Cluster = z.object({
  id: z.string(),
  name: zStr,
  cpu: Cpu.optional(),
  data_center: Ref.optional(),
});
export type Cluster = z.infer<typeof Cluster>;

export const Host = z.object({
  id: z.string(),
  name: zStr,
  status: zStr.optional(),
  /** The host's address (FQDN or IP) as the engine reaches it; a V2V proxy host's default SSH target. */
  address: zStr.optional(),
  cluster: Ref.optional(),
});
export type Host = z.infer<typeof Host>;

export const HostStorage = z.object({
  type: zStr.optional(),
  address: zStr.optional(),
  path: zStr.optional(),
  nfs_version: zStr.optional(),
  mount_options: zStr.optional(),
});
export type HostStorage = z.infer<typeof HostStorage>;

export const StorageDomain = z.object({
  id: z.string(),
  name: zStr,
  type: zStr.optional(),
  status: zStr.optional(),
  external_status: zStr.optional(),
  master: zBool.optional(),
  available: zNum.optional(),
  used: zNum.optional(),
  committed: zNum.optional(),
  storage: HostStorage.optional(),
  storage_format: zStr.optional(),
  data_center: Ref.optional(),
  data_centers: listOf("data_center", Ref).optional(),
});
export type StorageDomain = z.infer<typeof StorageDomain>;

export const Disk = z.object({
  id: z.string(),
  name: zStr.optional(),
  alias: zStr.optional(),
  status: zStr.optional(),
  format: zStr.optional(),
  sparse: zBool.optional(),
  bootable: zBool.optional(),
  provisioned_size: zNum.optional(),
  actual_size: zNum.optional(),
  total_size: zNum.optional(),
  image_id: zStr.optional(),
  storage_domains: listOf("storage_domain", Ref).optional(),
  storage_domain: Ref.optional(),
});
export type Disk = z.infer<typeof Disk>;

export const DiskAttachment = z.object({
  id: z.string().optional(),
  bootable: zBool.optional(),
  active: zBool.optional(),
  interface: zStr.optional(),
  disk: Disk.optional(),
});
export type DiskAttachment = z.infer<typeof DiskAttachment>;

export const Snapshot = z.object({
  id: z.string(),
  description: zStr.optional(),
  snapshot_type: zStr.optional(),
  snapshot_status: zStr.optional(),
  date: zStr.optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;

const VmBaseFields = {
  id: z.string(),
  name: zStr,
  description: zStr.optional(),
  comment: zStr.optional(),
  status: zStr.optional(),
  memory: zNum.optional(),
  cpu: Cpu.optional(),
  origin: zStr.optional(),
  creation_time: zStr.optional(),
  cluster: Ref.optional(),
  storage_domain: Ref.optional(),
  cpu_profile: Ref.optional(),
  os: z.object({ type: zStr.optional() }).optional(),
  disk_attachments: listOf("disk_attachment", DiskAttachment).optional(),
  disks: listOf("disk", Disk).optional(),
};

export const Vm = z.object({
  ...VmBaseFields,
  type: zStr.optional(),
  template: Ref.optional(),
  original_template: Ref.optional(),
  host: Ref.optional(),
  snapshots: listOf("snapshot", Snapshot).optional(),
  // run history (API model Vm): start_time while it runs; stop_time is set when it was created/imported and each
  // time it stops (AddVmCommand, ImportVmCommandBase.createVmDynamic); the ownership rule reads them
  creation_time: zStr.optional(),
  start_time: zStr.optional(),
  stop_time: zStr.optional(),
});
export type Vm = z.infer<typeof Vm>;

export const Template = z.object({
  ...VmBaseFields,
  version: z
    .object({ version_number: zNum.optional(), version_name: zStr.optional(), base_template: Ref.optional() })
    .optional(),
});
export type Template = z.infer<typeof Template>;

export const Step = z.object({
  id: z.string(),
  description: zStr.optional(),
  type: zStr.optional(),
  status: zStr.optional(),
  number: zNum.optional(),
  progress: zNum.optional(),
  start_time: zStr.optional(),
  end_time: zStr.optional(),
  parent_step: Ref.optional(),
});
export type Step = z.infer<typeof Step>;

export const Job = z.object({
  id: z.string(),
  description: zStr.optional(),
  status: zStr.optional(),
  start_time: zStr.optional(),
  end_time: zStr.optional(),
  last_updated: zStr.optional(),
  external: zBool.optional(),
  auto_cleared: zBool.optional(),
  steps: listOf("step", Step).optional(),
});
export type Job = z.infer<typeof Job>;

export const Event = z.object({
  id: z.string().optional(),
  index: zNum.optional(),
  code: zNum.optional(),
  severity: zStr.optional(),
  time: zStr.optional(),
  description: zStr.optional(),
  correlation_id: zStr.optional(),
  origin: zStr.optional(),
  vm: Ref.optional(),
  template: Ref.optional(),
  storage_domain: Ref.optional(),
  data_center: Ref.optional(),
});
export type Event = z.infer<typeof Event>;

export const Role = z.object({ id: z.string(), name: zStr, administrative: zBool.optional() });
export type Role = z.infer<typeof Role>;
export const User = z.object({
  id: z.string(),
  name: zStr.optional(),
  user_name: zStr.optional(),
  principal: zStr.optional(),
  domain: Ref.optional(),
});
export type User = z.infer<typeof User>;
export const Group = z.object({ id: z.string(), name: zStr, domain: Ref.optional() });
export type Group = z.infer<typeof Group>;
export const Permission = z.object({
  id: z.string(),
  role: Ref.optional(),
  user: Ref.optional(),
  group: Ref.optional(),
  /** The object the grant is on (a grant inherited from a cluster or data center names that one instead). */
  vm: Ref.optional(),
  template: Ref.optional(),
  cluster: Ref.optional(),
  data_center: Ref.optional(),
});
export type Permission = z.infer<typeof Permission>;
export const CpuProfile = z.object({ id: z.string(), name: zStr, cluster: Ref.optional() });
export type CpuProfile = z.infer<typeof CpuProfile>;

/** The `<action>` answer of `POST .../<verb>` (or its echo with a fault on failure). */
export const Action = z.object({
  status: zStr.optional(),
  async: zBool.optional(),
  job: Ref.optional(),
  fault: Fault.optional(),
});
export type Action = z.infer<typeof Action>;

/** The answer to `POST /externalvmimports`: the request echoed (minus the password) with the new VM's link. */
export const ExternalVmImport = z.object({
  name: zStr.optional(),
  vm: Ref.optional(),
});
export type ExternalVmImport = z.infer<typeof ExternalVmImport>;

export const BLANK_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000";
