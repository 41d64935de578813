// The simulator's engine model: plain JSON-serialisable records (persisted as state.json in the state dir).

export const BLANK_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000";

export type CpuArchitecture = "x86_64" | "ppc64" | "s390x" | "aarch64" | "undefined";

export interface DataCenterRec {
  id: string;
  name: string;
  description: string;
  status: "up" | "uninitialized" | "maintenance" | "not_operational";
  versionMajor: number;
  versionMinor: number;
}

export interface ClusterRec {
  id: string;
  name: string;
  dataCenterId: string;
  cpuArchitecture: CpuArchitecture;
  cpuType: string;
  /** MAC pool of the cluster (absent = the engine's default pool; model/macPools.ts). */
  macPoolId?: string;
}

/**
 * A MAC pool (engine `mac_pools` + `mac_pool_ranges`, API type MacPool): the MACs of the VMs of every cluster that
 * uses it are "in use" in it (GetAllMacsByMacPoolId); new MACs are allocated from its ranges (model/macPools.ts).
 */
export interface MacPoolRec {
  id: string;
  name: string;
  description: string;
  allowDuplicates: boolean;
  defaultPool: boolean;
  /** inclusive ranges, lower-case `xx:xx:xx:xx:xx:xx` */
  ranges: { from: string; to: string }[];
}

/** A CPU profile of a cluster (the engine creates a default one per cluster, named like the cluster). */
export interface CpuProfileRec {
  id: string;
  name: string;
  description: string;
  clusterId: string;
}

export interface HostRec {
  id: string;
  name: string;
  clusterId: string;
  status: "up" | "maintenance" | "non_operational" | "down";
  address: string;
  /** virt-v2v installed on this host (V2V proxy candidate). */
  virtV2v: boolean;
  /** Optional SSH endpoint of this (simulated) host, for V2V. */
  ssh?: { host: string; port: number; user?: string };
}

export type StorageDomainStatus =
  | "active" | "inactive" | "locked" | "maintenance" | "preparing_for_maintenance" | "detaching" | "activating" | "unknown";

export interface StorageDomainRec {
  id: string;
  name: string;
  description: string;
  type: "data" | "export";
  storageType: "nfs" | "iscsi";
  sizeBytes: number;
  /** Disk copy bandwidth of this domain (MiB/s); absent = engine default. */
  bandwidthMiBps?: number;
  /** The NFS "address:path" as given by the administrator (path absolute or relative to the state dir). */
  address: string;
  exportPath: string;
  /** Absolute directory of the domain content: `<mount>/<sdUUID>` (VDSM layout). */
  root: string;
  /** Data center this domain is attached to in this engine (absent = unattached). */
  dataCenterId?: string;
  /** Per-DC status; only meaningful when attached. */
  status?: StorageDomainStatus;
  master?: boolean;
  /**
   * A storage-domain operation in flight (attach, activate, deactivate, detach): the status walks through the
   * engine's transitional statuses to `final` ("detached" = no longer attached). Settled at load after a restart.
   */
  pending?: { op: "attach" | "activate" | "deactivate" | "detach"; final: StorageDomainStatus | "detached" };
}

export interface VolumeRec {
  id: string;
  /** Parent volume id (may be a volume of a template disk for thin VMs). */
  parentId?: string;
  format: "cow" | "raw";
  /** "base" volumes hold full content, "overlay" volumes hold a delta (simulated COW). */
  kind: "base" | "overlay";
  /** Lazy content: base volumes generated from this seed the first time they are read. */
  seed?: string;
  description?: string;
}

export interface DiskRec {
  id: string;
  alias: string;
  description?: string;
  provisionedSize: number;
  sparse: boolean;
  format: "cow" | "raw";
  storageDomainId: string;
  bootable: boolean;
  interface: string;
  status: "ok" | "locked" | "illegal";
  /** Volume chain, base first; the last one is the active (leaf) volume. */
  volumes: VolumeRec[];
  /** Thin template-based disk: the chain starts on this template disk's base volume. */
  templateDisk?: { templateId: string; diskId: string; volumeId: string; storageDomainId: string };
}

export interface SnapshotRec {
  id: string;
  description: string;
  date: string;
  type: "active" | "regular";
  status: "ok" | "locked" | "in_preview";
}

export interface NicRec {
  id: string;
  name: string;
  mac: string;
  interface: string;
}

export interface PermissionRec {
  id: string;
  roleId: string;
  userId?: string;
  groupId?: string;
}

export interface UserRec {
  id: string;
  userName: string; // e.g. admin@internal-authz
  principal: string;
  domain: string;
  firstName?: string;
}

export interface GroupRec {
  id: string;
  name: string;
  domain: string;
}

export interface VmRec {
  id: string;
  name: string;
  description: string;
  comment: string;
  clusterId: string;
  status: string;
  memoryBytes: number;
  cpus: number;
  cpuArchitecture: CpuArchitecture;
  osType: string;
  templateId: string;
  origin: string;
  type: "server" | "desktop" | "high_performance";
  creationTime: string;
  hostId?: string;
  snapshots: SnapshotRec[];
  disks: DiskRec[];
  nics: NicRec[];
  /** Job currently holding the VM lock. */
  lockJobId?: string;
  permissions?: PermissionRec[];
  /** CPU profile (absent = the cluster's default profile). */
  cpuProfileId?: string;
  /**
   * Run history (engine VmDynamic.lastStartTime / lastStopTime, ISO): set when the VM is started
   * (CreateVDSCommand) and when it goes down (ResourceManager.internalSetVmStatus); a new or imported VM gets
   * lastStopTime = its creation (AddVmCommand / ImportVmCommandBase.createVmDynamic) and no start time.
   */
  startTime?: string;
  stopTime?: string;
}

export interface TemplateRec {
  id: string;
  name: string;
  description: string;
  comment: string;
  clusterId: string;
  status: "ok" | "locked" | "illegal";
  memoryBytes: number;
  cpus: number;
  cpuArchitecture: CpuArchitecture;
  osType: string;
  origin: string;
  type: "server" | "desktop" | "high_performance";
  creationTime: string;
  disks: DiskRec[];
  nics: NicRec[];
  lockJobId?: string;
  permissions?: PermissionRec[];
  /** CPU profile (absent = the cluster's default profile). */
  cpuProfileId?: string;
}

/**
 * An entity read from a data domain's OVF_STORE that this engine has not registered (engine table
 * unregistered_ovf_of_entities, UnregisteredOVFDataDao): filled when the domain is attached
 * (AttachStorageDomainToPoolCommand), listed by GetUnregisteredVms/GetUnregisteredVmTemplates, removed by the
 * register commands (ImportVmFromConfigurationCommand, ImportVmTemplateFromConfigurationCommand).
 */
export interface UnregisteredOvfRec {
  storageDomainId: string;
  entityId: string;
  entityType: "vm" | "template";
  entityName: string;
  /** the OVF text as stored on the domain */
  ovf: string;
  /** the VM status the store recorded (metadata.json "VM Status") */
  status: string;
  architecture: CpuArchitecture;
}

export type JobStatus = "started" | "finished" | "failed" | "aborted" | "unknown";

export interface StepRec {
  id: string;
  type: "validating" | "executing" | "finalizing" | "unknown";
  number: number;
  status: JobStatus;
  description: string;
  progress?: number;
  startTime: string;
  endTime?: string;
  parentStepId?: string;
  /**
   * The VDSM task this step follows (the engine's step.external_id, set by CoCoAsyncTaskHelper.createTask ->
   * ExecutionHandler.updateStepExternalId for every SPM task a command creates, e.g. the copy of each disk of an
   * export/import). A job with such a step is not finalized at an engine restart (job_sp.sql
   * UpdateStartedExecutionEntitiesToUnknown): its tasks go on and the command ends when they end.
   */
  externalId?: string;
}

/**
 * What the simulator needs to go on with a job's disk copies after a restart (a new process on the same state dir,
 * or the admin restart): persisted in state.json with the job. `done` = copy items already finished.
 */
export type JobResumePlan =
  | { kind: "export_vm"; vmId: string; exportSdId: string; discardSnapshots: boolean; done: number }
  | { kind: "export_template"; templateId: string; exportSdId: string; done: number }
  | {
      kind: "import";
      entityKind: "vm" | "template";
      /** the copy on the export domain (its id there) */
      entityId: string;
      exportSdId: string;
      clusterId: string;
      defaultSdId: string;
      clone: boolean;
      newName?: string;
      collapse: boolean;
      keepChain?: boolean;
      overrides: Array<[string, { sparse?: boolean; format?: "cow" | "raw"; storageDomainId?: string }]>;
      targetTemplateId?: string;
      /** the VM/template record the import created (image_locked/locked until the copies end) */
      recordId: string;
      done: number;
    };

export type JobKind = "export_vm" | "export_template" | "import_vm" | "import_template" | "external_import" | "create_snapshot" | "other";

export interface JobRec {
  id: string;
  kind: JobKind;
  description: string;
  status: JobStatus;
  startTime: string;
  endTime?: string;
  lastUpdated: string;
  correlationId: string;
  external: boolean;
  autoCleared: boolean;
  steps: StepRec[];
  /** Storage domains this job touches (blocks deactivation). */
  storageDomainIds: string[];
  vmId?: string;
  templateId?: string;
  bytes: number;
  startMs: number;
  endMs?: number;
  failureReason?: string;
  /**
   * The VDSM verb doing the job's storage work, named like the engine's broker command (getCommandName():
   * "MoveImageGroupVDS", "CopyImageVDS", "ConvertVmVDS", "CreateVolumeVDS"); `host` for verbs run on a host
   * (VdsBrokerCommand) rather than on the SPM (IrsBrokerCommand). Used for the failure event.
   */
  vdsmCommand?: { name: string; host?: string };
  /** How to go on with the job's copies after a restart (export/import jobs; simulator/jobs.ts finalizeAtStart). */
  resume?: JobResumePlan;
}

/** What /__admin/stats keeps of a job after the engine purged it (JobRepositoryCleanupManager). */
export interface JobStatRec {
  id: string;
  kind: JobKind;
  description: string;
  status: JobStatus;
  correlationId: string;
  startMs: number;
  endMs: number | null;
  bytes: number;
  failureReason: string | null;
  purgedMs: number;
}

export interface EventRec {
  index: number;
  id: string;
  code: number;
  severity: "normal" | "warning" | "error" | "alert";
  time: string;
  description: string;
  correlationId?: string;
  origin: string;
  customId: number;
  vmId?: string;
  templateId?: string;
  storageDomainId?: string;
  dataCenterId?: string;
  clusterId?: string;
  hostId?: string;
  jobId?: string;
}

export interface EngineState {
  formatVersion: 1;
  engineId: string;
  engineName: string;
  createdAt: string;
  nextEventIndex: number;
  dataCenters: DataCenterRec[];
  clusters: ClusterRec[];
  hosts: HostRec[];
  storageDomains: StorageDomainRec[];
  vms: VmRec[];
  templates: TemplateRec[];
  jobs: JobRec[];
  events: EventRec[];
  users?: UserRec[];
  groups?: GroupRec[];
  /** Authz domains (profiles' authz extensions) besides `internal-authz`, from the inventory's `authzDomains` (services/domains.ts). */
  authzDomains?: string[];
  /** CPU profiles of all clusters (a default one per cluster is ensured at load). */
  cpuProfiles?: CpuProfileRec[];
  /** MAC pools (the default one is ensured on first use: model/macPools.ts ensureMacPools). */
  macPools?: MacPoolRec[];
  /** External VM imports (V2V), owned by services/externalVmImports/. */
  externalVmImports: Record<string, unknown>[];
  /** Unregistered entities of the data domains' OVF stores (storage/ovfStore.ts, services/registration.ts). */
  unregisteredOvfs?: UnregisteredOvfRec[];
  /** Jobs the engine purged (kept for /__admin/stats only; the API no longer lists them), newest last. */
  purgedJobs?: JobStatRec[];
}
