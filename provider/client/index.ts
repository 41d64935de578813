/**
 * The engine client: `connect(options)` answers the services of one engine, sharing its pool and token.
 *
 * Layers, as in the Python SDK: `connection.ts` (SSO login/logout, transport, retries, timeouts), `faults.ts` (what
 * an answer >= 400 or a failed action means), `http.ts` (the verbs: get, list, add, update, action, remove; and the
 * registry of connections), `services/*.ts` (one per API collection, named like the simulator's
 * `simulator/services/*.ts`).
 */
import type { EngineConnectionOptions } from "./connection";
import { EngineHttp, engineHttp } from "./http";
import { AttachedStorageDomainsService } from "./services/attachedStorageDomains";
import { ClustersService } from "./services/clusters";
import { DataCentersService } from "./services/datacenters";
import { DisksService } from "./services/disks";
import { EventsService } from "./services/events";
import { ExportDomainContentsService } from "./services/exportDomainContents";
import { ExternalVmImportsService } from "./services/externalVmImports";
import { HostsService } from "./services/hosts";
import { JobsService } from "./services/jobs";
import { PermissionsService } from "./services/permissions";
import { RegistrationService } from "./services/registration";
import { StorageDomainsService } from "./services/storageDomains";
import { TemplatesService } from "./services/templates";
import { VmsService } from "./services/vms";
import { Api } from "./types";

export * from "./errors";
export * from "./types";
export { EngineConnectionOptions, HttpStats, newCorrelationId, stableCorrelationId, checkEngineUrl } from "./connection";
export { EngineHttp, closeAllEngines } from "./http";
export { ExternalVmImportSpec, ExternalVmProvider } from "./services/externalVmImports";
export { RegistrationConfiguration, NameMapping, RegisterOptions } from "./services/registration";
export { searchValue, searchEq, searchName, searchNames } from "./services/util";

export class OvirtClient {
  readonly datacenters: DataCentersService;
  readonly clusters: ClustersService;
  readonly hosts: HostsService;
  readonly storageDomains: StorageDomainsService;
  readonly attachedStorageDomains: AttachedStorageDomainsService;
  readonly vms: VmsService;
  readonly templates: TemplatesService;
  readonly exportVms: ExportDomainContentsService;
  readonly exportTemplates: ExportDomainContentsService;
  readonly externalVmImports: ExternalVmImportsService;
  readonly jobs: JobsService;
  readonly events: EventsService;
  readonly disks: DisksService;
  readonly permissions: PermissionsService;
  /** unregistered VMs/templates of a data domain and their register (`services/registration.ts`) */
  readonly unregisteredVms: RegistrationService;
  readonly unregisteredTemplates: RegistrationService;
  constructor(readonly http: EngineHttp) {
    this.datacenters = new DataCentersService(http);
    this.clusters = new ClustersService(http);
    this.hosts = new HostsService(http);
    this.storageDomains = new StorageDomainsService(http);
    this.attachedStorageDomains = new AttachedStorageDomainsService(http);
    this.vms = new VmsService(http);
    this.templates = new TemplatesService(http);
    this.exportVms = new ExportDomainContentsService(http, "vm");
    this.exportTemplates = new ExportDomainContentsService(http, "template");
    this.externalVmImports = new ExternalVmImportsService(http);
    this.jobs = new JobsService(http);
    this.events = new EventsService(http);
    this.disks = new DisksService(http);
    this.permissions = new PermissionsService(http);
    this.unregisteredVms = new RegistrationService(http, "vm");
    this.unregisteredTemplates = new RegistrationService(http, "template");
  }
  get url(): string {
    return this.http.url;
  }
  exportContent(kind: "vm" | "template"): ExportDomainContentsService {
    return kind === "vm" ? this.exportVms : this.exportTemplates;
  }
  registration(kind: "vm" | "template"): RegistrationService {
    return kind === "vm" ? this.unregisteredVms : this.unregisteredTemplates;
  }
  /** `GET /` (API root): product info; also proves the credentials. */
  api(): Promise<Api> {
    return this.http.get("", "api", Api);
  }
}

export function connect(o: EngineConnectionOptions): OvirtClient {
  return new OvirtClient(engineHttp(o));
}
