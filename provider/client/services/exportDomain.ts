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
 * (list, get, disks, import, remove).
 */
export class ExportDomainContentService {
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
    if (opts.disks && opts.disks.length > 0) {
      entity.disk_attachments = {
        disk_attachment: opts.disks.map((d) => ({
          disk: {
            id: d.id,
            sparse: d.sparse,
            format: d.format,
            storage_domains: d.storageDomainId ? { storage_domain: [{ id: d.storageDomainId }] } : undefined,
          },
        })),
      };
    }
    const body: Record<string, unknown> = {
      storage_domain: { id: opts.storageDomainId },
      cluster: { id: opts.clusterId },
      clone: opts.clone,
      async: true,
    };
    if (this.kind === "vm") body.collapse_snapshots = opts.collapseSnapshots;
    if (Object.keys(entity).length > 0) body[this.kind] = entity;
    return this.http.action(`${this.base(sdId)}/${encodeId(id)}`, "import", body, {
      correlationId: opts.correlationId,
      // the engine reads collapse_snapshots as a request parameter, not from the body (see reference section 5)
      query: this.kind === "vm" && opts.collapseSnapshots ? { collapse_snapshots: "true" } : undefined,
    });
  }
  remove(sdId: string, id: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`${this.base(sdId)}/${encodeId(id)}`, { correlationId });
  }
}
