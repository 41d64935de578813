// The engine's faults: constructors (`EngineFaults.*`) for the texts of AppErrors.properties (oVirt/ovirt-engine
// frontend/.../AppErrors.properties) with the HTTP statuses of their ErrorType (common/errors/EngineMessage.java ->
// restapi util/ErrorMessageHelper.java), and the same faults by message key (`ENGINE_MESSAGES`) for the fault rules of
// faultInjection.ts. Backend validation failures answer reason "Operation Failed" with the messages as a Java list:
// "[a, b]".

export class EngineFault extends Error {
  constructor(
    public readonly status: number,
    public readonly reason: string,
    public readonly detail: string,
  ) {
    super(`${status} ${reason}: ${detail}`);
  }
}

/** `${action}` words and `${type}` words of the engine (VAR__ACTION__*, VAR__TYPE__*). */
export type Action = "export" | "import" | "attach" | "detach" | "deactivate" | "activate" | "remove" | "add" | "stop" | "shutdown" | "run" | "create" | "update";
export type EntityType = "VM" | "Template" | "Storage" | "Data Center" | "Snapshot";

const ACTION_WORD: Record<Action, string> = {
  export: "export",
  import: "import",
  attach: "attach",
  detach: "detach",
  deactivate: "deactivate",
  activate: "activate",
  remove: "remove",
  add: "add",
  stop: "stop",
  shutdown: "shutdown",
  run: "run",
  create: "create",
  update: "edit",
};

function op(action: Action, type: EntityType): string {
  return `Cannot ${ACTION_WORD[action]} ${type}`;
}

/** A backend validation failure (reason "Operation Failed", detail "[message]"). */
export function backend(status: number, ...messages: string[]): EngineFault {
  return new EngineFault(status, "Operation Failed", `[${messages.join(", ")}]`);
}

/** ERROR_CANNOT_DEACTIVATE_DOMAIN_WITH_TASKS */
function tasksRunning(a: Action, tasks: string[]): EngineFault {
  return backend(409, `Cannot ${ACTION_WORD[a]} Storage while there are running tasks on this Storage.\n-Tasks running: ${tasks.join(", ")}\n-Please wait until tasks will finish and try again.`);
}

export const EngineFaults = {
  // --- generic REST layer
  notFound: () => new EngineFault(404, "Resource not found", "Resource not found"),
  entityNotFound: (type: string, key: string) => new EngineFault(404, "Operation Failed", `Entity not found: ${type}: ${key}`),
  incomplete: (type: string, fields: string[], opName: string) =>
    new EngineFault(400, "Incomplete parameters", `${type} [${fields.join(", ")}] required for ${opName}`),
  invalidEnum: (value: string, type: string) =>
    new EngineFault(400, "Invalid Enum value", `Invalid value '${value}' for enum ${type}`),
  badRequest: (detail: string) => new EngineFault(400, "Bad Request", detail),
  methodNotAllowed: () => new EngineFault(405, "Method Not Allowed", "HTTP method not allowed for this resource"),
  unauthorized: () => new EngineFault(401, "Unauthorized", "Unauthorized"),

  // --- AppErrors.properties (status from EngineMessage ErrorType)
  vmNotDown: (a: Action, t: EntityType = "VM") => backend(409, `${op(a, t)}. At least one of the VMs is not down.`),
  objectLocked: (a: Action, t: EntityType) => backend(409, `${op(a, t)}. Related operation is currently in progress. Please try again later.`),
  disksLocked: (a: Action, t: EntityType, aliases: string[]) =>
    backend(409, `${op(a, t)}: The following disks are locked: ${aliases.join(", ")}. Please try again in a few minutes.`),
  vmIsLocked: (a: Action, t: EntityType = "VM") => backend(409, `${op(a, t)}: VM is locked. Please try again in a few minutes.`),
  templateLocked: () => backend(409, "Template is currently locked (temporarily)."),
  templateBeingExported: (name: string) => backend(409, `${op("export", "Template")}. Template ${name} is being exported.`),
  vmBeingImported: (name: string) => backend(409, `${op("import", "VM")}. VM ${name} is being imported.`),
  storageStatusIllegal: (a: Action, t: EntityType, status: string) =>
    backend(409, `${op(a, t)}. The relevant Storage Domain's status is ${enumName(status)}.`),
  storagePoolNotMatch: (a: Action, t: EntityType) => backend(409, `${op(a, t)}. The target Data Center does not contain the ${t}.`),
  notExportDomain: (a: Action, t: EntityType, name: string) =>
    backend(400, `${op(a, t)}. The specified domain '${name}' is not an export domain.`),
  guidExists: (a: Action) => backend(409, `${op(a, "VM")}. VM with the same identifier already exists.`),
  nameUsed: (a: Action, t: EntityType) => backend(409, `${op(a, t)}. The ${t} name is already in use, please choose a unique name and try again.`),
  templateGuidExists: (a: Action) => backend(409, `${op(a, "Template")}. A Template with the same identifier already exists.`),
  diskSpaceLow: (a: Action, t: EntityType, sdName: string) => backend(409, `${op(a, t)}. Low disk space on Storage Domain ${sdName}.`),
  moreThanOneExport: () =>
    backend(
      409,
      "Cannot attach more than one Import/Export Storage Domain to the same Data Center. If you want to use a newly created Domain, detach the existing attached Domain and attach the new one.",
    ),
  /** VDSM StorageDomainAlreadyAttached (code 380): an execution failure, answered 400 (no ErrorType). */
  domainAlreadyAttached: () =>
    backend(400, "The Domain is already used by another Data Center.\nIn order to use it, detach it from the Data Center it is currently attached to."),
  deactivateWithTasks: (tasks: string[]) => tasksRunning("deactivate", tasks),
  tasksRunning: (a: Action, tasks: string[]) => tasksRunning(a, tasks),
  vmIdExistsOnImport: (name: string) =>
    backend(409, `Import VM failed - VM ID already exists in the system. Please remove the VM (${name}) from the system first`),
  vmNameExistsOnImport: () => backend(409, "Import VM failed - VM Name already exists in the Data Center. Please rename the VM in the Data Center first"),
  templateIdExistsOnImport: (name: string) =>
    backend(409, `${op("import", "Template")}. Template or VM with the same ID already exists in the system. Please remove the Template or VM (${name}) from the system first`),
  templateNameExistsOnImport: () =>
    backend(409, "Import Template failed - Template Name already exists in the system. Please rename the Template in the system first"),
  cloneNotCollapsed: (vmName: string) => backend(400, `${op("import", "VM")}. The VM ${vmName} has snapshots that must be collapsed.`),
  templateMissing: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. The relevant Template doesn't exist.`),
  templateNotOnDestination: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. The selected Storage Domain does not contain the VM Template.`),
  importedTemplateMissing: (exportName: string) => backend(400, `Cannot import and collapse VM, Template is missing in domain ${exportName}`),
  archNotSupported: (t: EntityType) =>
    backend(400, `${op("import", t)}. The selected cluster doesn't support ${t === "VM" ? "VM" : "Template"} architecture`),
  vmNotOnExportDomain: (t: EntityType) => backend(400, `${op("import", t)}. VM not exists in export domain`),
  clusterNotValid: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. Cluster ID is not valid.`),
  storageTypeIllegal: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. Storage Domain type is illegal.`),
  vmNotDownRemove: () => backend(409, "Cannot remove VM that its state is not down.\n-Please stop the VM first."),
  detectedActiveVms: (a: Action) =>
    backend(409, `${op(a, "Storage")}. VMs in a state other than "Down" were detected.\n-Please ensure all VMs associated with this Storage Domain are stopped and in the Down state first.`),
  storageNameExists: () => backend(409, `${op("add", "Storage")}. The Storage Domain name is already in use.`),
  storageDomainExists: () => backend(400, "Storage domain already exists"),
  vdsStatusIllegal: (a: Action, t: EntityType, status: string) =>
    backend(409, `${op(a, t)}. Operation can be performed only when Host status is ${enumName(status)}.`),
  storageNotExist: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. Storage Domain doesn't exist.`),
  storageNotInPool: (a: Action, t: EntityType) => backend(409, `${op(a, t)}. The selected Storage Domain is not part of the Data Center.`),
  templateImageLocked: () => backend(409, "Template's Image is locked (temporarily)."),
  templateHasDerivedVms: (names: string[]) => backend(409, `Cannot delete Template. Template is being used by the following VMs: ${names.join(", ")}.`),
  vmAlreadyRunning: () => backend(409, `${op("run", "VM")}. VM is running.`),
  /** ACTION_TYPE_FAILED_CLUSTER_CAN_NOT_BE_EMPTY (BAD_PARAMETERS) */
  clusterEmpty: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. The relevant Cluster doesn't exist.`),
  /** ACTION_TYPE_FAILED_STORAGE_POOL_NOT_EXIST (BAD_PARAMETERS): the text has no action/type */
  storagePoolNotExist: () => backend(400, "Data Center doesn't exist."),
  /** ACTION_TYPE_FAILED_STORAGE_DOMAIN_NOT_EXIST (BAD_PARAMETERS) */
  storageDomainNotExist: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. Storage Domain doesn't exist.`),
  /** ACTION_TYPE_FAILED_VM_NOT_FOUND_ON_EXPORT_DOMAIN (BAD_PARAMETERS) */
  vmNotFoundOnExportDomain: () => backend(400, `${op("import", "VM")}. VM not exists in export domain`),
  /** ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL (CONFLICT): the V2V import's status check */
  storageInaccessible: (a: Action, t: EntityType) =>
    backend(409, `${op(a, t)}. The relevant Storage Domain is inaccessible.\n-Please handle Storage Domain issues and retry the operation.`),
  /** ERROR_CANNOT_FIND_ISO_IMAGE_PATH (BAD_PARAMETERS) */
  isoImagePathNotFound: () => backend(400, "Invalid ISO image path"),
  /**
   * A failed query whose exception string is the VDSM error StorageDomainDoesNotExist (358): the restapi's
   * BackendResource.getBackendCollection -> backendFailure(exceptionString), localized through VdsmErrors.properties;
   * no EngineMessage ErrorType, so handleError answers 400; a single message, so no brackets.
   */
  storageDomainUnreachable: () => new EngineFault(400, "Operation Failed", "Storage domain cannot be reached. Please ensure it is accessible from the host(s)."),
  vmNotRunning: (a: Action, t: EntityType = "VM") => backend(409, `${op(a, t)}. VM is not running.`),
  /**
   * ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES (CONFLICT): its own text (no action/type words); the
   * NIC list comes formatted by ReplacementUtils ("\tnic1,\n\tnic2"; model/macPools.ts engineList).
   */
  macDuplicates: (nicList: string) =>
    backend(
      409,
      `Cannot import Virtual Machine, because that action would create duplicates in target MAC pool, which are not allowed. Either allow duplicate MACs in MAC Pool, or allow reassignment of bad MACs during import. Problematic NICs are ${nicList}`,
    ),
  /** MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES (CONFLICT) */
  macPoolExhausted: (a: Action, t: EntityType) => backend(409, `${op(a, t)}. Not enough MAC addresses left in MAC Address Pool.`),

  // --- data-domain move and registration (services/registration.ts)
  /** ERROR_CANNOT_DETACH_LAST_STORAGE_DOMAIN (CONFLICT) */
  detachMasterWithOthers: () =>
    backend(409, "Cannot detach the master Storage Domain from the Data Center while there are other storage domains attached to it.\n-Please try to activate another Storage Domain in the Data Center."),
  /** ACTION_TYPE_FAILED_MASTER_STORAGE_DOMAIN_NOT_ACTIVE (CONFLICT) */
  masterNotActive: (a: Action) => backend(409, `Failed to ${ACTION_WORD[a]} Storage due to an error on the Data Center master Storage Domain.\n-Please activate the master Storage Domain first.`),
  /** ERROR_CANNOT_DEACTIVATE_MASTER_WITH_NON_DATA_DOMAINS (CONFLICT) */
  deactivateMasterWithNonData: () =>
    backend(409, "Cannot deactivate a Master Storage Domain while there are active non-data domains in the Data Center.\n-Please deactivate all the non-data domains first."),
  /** ACTION_TYPE_FAILED_VM_NOT_FOUND (BAD_PARAMETERS) */
  vmNotFound: (a: Action, t: EntityType) => backend(400, `${op(a, t)}. VM is not found.`),
  /** ACTION_TYPE_FAILED_IMPORT_DISKS_ALREADY_EXIST (CONFLICT) */
  importDisksExist: (t: EntityType, aliases: string[]) => backend(409, `${op("import", t)}. The following disks already exist: ${aliases.join(", ")}. Please import as a clone.`),
  /** ACTION_TYPE_FAILED_VM_IMAGE_DOES_NOT_EXIST (BAD_PARAMETERS) */
  vmImageMissing: () => backend(400, `${op("import", "VM")}. VM's Image does not exist.\nIn order to import partial VM, select 'allow partial' checkbox.`),
  /** TEMPLATE_IMAGE_NOT_EXIST (BAD_PARAMETERS) */
  templateImageMissing: () => backend(400, `${op("import", "Template")}. Template's image doesn't exist.`),
  /** ACTION_TYPE_FAILED_CANNOT_FIND_DISK_IMAGE_IN_ACTIVE_DOMAINS (CONFLICT) */
  diskImageNotInActiveDomains: (diskId: string, imageId: string) =>
    backend(409, `${op("import", "Template")}. The image ${diskId}/${imageId} does not exist on any active storage domain.`),
  /** ACTION_TYPE_FAILED_UNSUPPORTED_OVF (CONFLICT) */
  noOvfForEntity: (t: EntityType) => backend(409, `${op("import", t)}. There is no OVF for the specific entity.`),
  /** ACTION_TYPE_FAILED_VM_CANNOT_IMPORT_TEMPLATE_ARCHITECTURE_NOT_SUPPORTED_BY_CLUSTER (NOT_SUPPORTED -> 400) */
  templateArchNotSupported: () => backend(400, `${op("import", "Template")}. The selected cluster doesn't support Template's architecture`),
};

/**
 * The engine messages a fault rule can name (faultInjection.ts `effect.engineFault`), by their AppErrors.properties
 * key; each answers exactly what the constructor above answers (text and the status of the key's ErrorType in
 * EngineMessage.java). `${action}`/`${type}` come from the operation the rule matched (VAR__ACTION__*, VAR__TYPE__*);
 * `params` names the other placeholders of the text, which the rule gives in `effect.params`.
 */
export const ENGINE_MESSAGES = {
  ACTION_TYPE_FAILED_OBJECT_LOCKED: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.objectLocked(a, t) },
  ACTION_TYPE_FAILED_VM_IS_LOCKED: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.vmIsLocked(a, t) },
  ACTION_TYPE_FAILED_VM_IS_NOT_DOWN: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.vmNotDown(a, t) },
  ACTION_TYPE_FAILED_VM_IS_NOT_RUNNING: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.vmNotRunning(a, t) },
  ACTION_TYPE_FAILED_NAME_ALREADY_USED: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.nameUsed(a, t) },
  ACTION_TYPE_FAILED_STORAGE_POOL_NOT_MATCH: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.storagePoolNotMatch(a, t) },
  ACTION_TYPE_FAILED_STORAGE_DOMAIN_NOT_EXIST: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.storageDomainNotExist(a, t) },
  ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.storageInaccessible(a, t) },
  MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES: { params: [], fault: (a: Action, t: EntityType) => EngineFaults.macPoolExhausted(a, t) },
  VM_TEMPLATE_IS_LOCKED: { params: [], fault: () => EngineFaults.templateLocked() },
  VM_TEMPLATE_IMAGE_IS_LOCKED: { params: [], fault: () => EngineFaults.templateImageLocked() },
  ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL2: {
    params: ["status"],
    fault: (a: Action, t: EntityType, p: Record<string, string>) => EngineFaults.storageStatusIllegal(a, t, p.status),
  },
  ACTION_TYPE_FAILED_DISK_SPACE_LOW_ON_STORAGE_DOMAIN: {
    params: ["storageName"],
    fault: (a: Action, t: EntityType, p: Record<string, string>) => EngineFaults.diskSpaceLow(a, t, p.storageName),
  },
  ACTION_TYPE_FAILED_DISKS_LOCKED: {
    params: ["diskAliases"],
    fault: (a: Action, t: EntityType, p: Record<string, string>) => EngineFaults.disksLocked(a, t, [p.diskAliases]),
  },
} satisfies Record<string, { params: string[]; fault: (a: Action, t: EntityType, p: Record<string, string>) => EngineFault }>;

export type EngineMessageKey = keyof typeof ENGINE_MESSAGES;

/** Java enum constant name of a lower-case API enum value: "image_locked" -> "ImageLocked", "active" -> "Active". */
export function enumName(v: string): string {
  return v
    .split("_")
    .map((p) => (p ? p[0].toUpperCase() + p.slice(1) : p))
    .join("");
}
