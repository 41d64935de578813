import { EngineHttp } from "../http";
import { ExternalVmImport } from "../types";

/** The source hypervisor of an external import (API model `ExternalVmProviderType`). */
export type ExternalVmProvider = "vmware" | "kvm" | "xen";

/** One external VM import: where the source VM is, and where and how the engine creates it. */
export interface ExternalVmImportSpec {
  /** The VM's name on the source (vCenter, libvirt). */
  sourceName: string;
  provider: ExternalVmProvider;
  /** `vpx://...`, `qemu+ssh://...` or `xen+ssh://...` (lib/v2vUrl.ts builds them). */
  url: string;
  /** Source credentials (the engine requires both for every provider but KVM). */
  username?: string;
  password?: string;
  clusterId: string;
  storageDomainId: string;
  /** The name of the VM the engine creates. */
  targetName: string;
  /** Thin disks (the engine's default is sparse). */
  sparse?: boolean;
  /** The proxy host that runs virt-v2v (the engine picks an up host of the data center without it). */
  hostId?: string;
  cpuProfileId?: string;
  /** A drivers ISO (virtio-win) on an ISO domain of the data center, by its file id. */
  driversIsoId?: string;
}

/**
 * `/externalvmimports`: the engine's import of a VM from VMware, KVM or Xen (virt-v2v on a proxy host). The API
 * model's `ExternalVmImportsService` has only `add`; the engine runs the import as a job under the request's
 * correlation id, and the answer links the VM it is creating. The simulator's side is
 * `simulator/services/externalVmImports/`.
 */
export class ExternalVmImportsService {
  constructor(private readonly http: EngineHttp) {}

  /** `POST /externalvmimports` (never retried: it starts a conversion). */
  add(spec: ExternalVmImportSpec, opts: { correlationId: string }): Promise<ExternalVmImport> {
    return this.http.add(
      "/externalvmimports",
      "external_vm_import",
      {
        name: spec.sourceName,
        provider: spec.provider,
        url: spec.url,
        username: spec.username,
        password: spec.password,
        cluster: { id: spec.clusterId },
        storage_domain: { id: spec.storageDomainId },
        vm: { name: spec.targetName },
        sparse: spec.sparse,
        host: spec.hostId ? { id: spec.hostId } : undefined,
        cpu_profile: spec.cpuProfileId ? { id: spec.cpuProfileId } : undefined,
        drivers_iso: spec.driversIsoId ? { id: spec.driversIsoId } : undefined,
      },
      ExternalVmImport,
      { correlationId: opts.correlationId },
    );
  }
}
