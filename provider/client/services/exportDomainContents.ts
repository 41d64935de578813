import { EngineHttp } from "../http";
import { Disk, Template, Vm } from "../types";
import { encodeId } from "./util";

export type ExportKind = "vm" | "template";

/** Per-disk destination of an import. */
export interface ImportDiskSpec {
  id: string;
  sparse?: boolean;
  format?: "cow" | "raw";
  storageDomainId?: string;
}

/**
 * The VMs and templates stored ON an export domain: `/storagedomains/{sd}/vms` and `/storagedomains/{sd}/templates`
 * (list, get, disks, import, remove). The simulator's side is `simulator/services/exportDomainContents.ts`.
 */
export class ExportDomainContentsService {
  constructor(
    private readonly http: EngineHttp,
    readonly kind: ExportKind,
  ) {}
  private base(sdId: string) {
    return `/storagedomains/${encodeId(sdId)}/${this.kind === "vm" ? "vms" : "templates"}`;
  }
  private get schema() {
    return this.kind === "vm" ? Vm : Template;
  }
  list(sdId: string): Promise<Array<Vm | Template>> {
    return this.kind === "vm"
      ? this.http.list(this.base(sdId), "vms", "vm", Vm)
      : this.http.list(this.base(sdId), "templates", "template", Template);
  }
  get(sdId: string, id: string): Promise<Vm | Template | undefined> {
    return this.http.getOptional(`${this.base(sdId)}/${encodeId(id)}`, this.kind, this.schema);
  }
  async findByName(sdId: string, name: string): Promise<Vm | Template | undefined> {
    return (await this.list(sdId)).find((v) => v.name === name);
  }
  disks(sdId: string, id: string): Promise<Disk[]> {
    return this.http.list(`${this.base(sdId)}/${encodeId(id)}/disks`, "disks", "disk", Disk);
  }
  import(
    sdId: string,
    id: string,
    opts: {
      storageDomainId: string;
      clusterId: string;
      clone: boolean;
      newName?: string;
      collapseSnapshots: boolean;
      disks?: ImportDiskSpec[];
      correlationId: string;
    },
  ) {
    const entity: Record<string, unknown> = {};
    if (opts.clone && opts.newName) entity.name = opts.newName;
    // restapi AbstractBackendStorageDomainContentResource.getDiskToDestinationMap reads the per-disk destinations from
    // <action><vm><disk_attachments> for BOTH kinds (a <template><disk_attachments> is never read: the template's
    // disks would all land on storage_domain), by disk id and storage domain id; format/sparse are read for VMs only
    // (BackendStorageDomainVmResource.setVolumesTypeFormat)
    const perDisk =
      opts.disks && opts.disks.length > 0
        ? {
            disk_attachment: opts.disks.map((d) => ({
              disk: {
                id: d.id,
                sparse: this.kind === "vm" ? d.sparse : undefined,
                format: this.kind === "vm" ? d.format : undefined,
                storage_domains: d.storageDomainId ? { storage_domain: [{ id: d.storageDomainId }] } : undefined,
              },
            })),
          }
        : undefined;
    const body: Record<string, unknown> = {
      storage_domain: { id: opts.storageDomainId },
      cluster: { id: opts.clusterId },
      clone: opts.clone,
      async: true,
    };
    if (this.kind === "vm") {
      if (perDisk) entity.disk_attachments = perDisk;
      if (Object.keys(entity).length > 0) body.vm = entity;
    } else {
      if (Object.keys(entity).length > 0) body.template = entity;
      if (perDisk) body.vm = { disk_attachments: perDisk };
    }
    return this.http.action(`${this.base(sdId)}/${encodeId(id)}`, "import", body, {
      correlationId: opts.correlationId,
      // BackendStorageDomainVmResource.doImport reads collapse_snapshots only as a query/matrix parameter
      // (ParametersHelper); an <action><collapse_snapshots> element is never read
      query: this.kind === "vm" && opts.collapseSnapshots ? { collapse_snapshots: "true" } : undefined,
    });
  }
  remove(sdId: string, id: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`${this.base(sdId)}/${encodeId(id)}`, { correlationId });
  }
}
