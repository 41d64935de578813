import { EngineHttp } from "../http";
import { Disk, DiskAttachment, Template } from "../types";
import { exact, searchName, encodeId } from "./util";

export class TemplatesService {
  constructor(private readonly http: EngineHttp) {}
  list(search?: string): Promise<Template[]> {
    return this.http.list("/templates", "templates", "template", Template, search ? { search } : undefined);
  }
  get(id: string): Promise<Template | undefined> {
    return this.http.getOptional(`/templates/${encodeId(id)}`, "template", Template);
  }
  async findByName(name: string): Promise<Template[]> {
    return (await this.list(searchName(name))).filter((t) => t.name === name);
  }
  async findOneByName(name: string): Promise<Template | undefined> {
    return exact(await this.list(searchName(name)), name);
  }
  async disks(id: string): Promise<Disk[]> {
    const atts = await this.http.list(
      `/templates/${encodeId(id)}/diskattachments`,
      "disk_attachments",
      "disk_attachment",
      DiskAttachment,
      { follow: "disk" },
    );
    const disks: Disk[] = [];
    for (const a of atts) {
      if (a.disk && (a.disk.alias !== undefined || a.disk.provisioned_size !== undefined)) disks.push(a.disk);
      else if (a.disk?.id ?? a.id) {
        const d = await this.http.getOptional(`/disks/${encodeId(a.disk?.id ?? a.id!)}`, "disk", Disk);
        if (d) disks.push(d);
      }
    }
    return disks;
  }
  export(id: string, opts: { exportDomainId: string; exclusive: boolean; correlationId: string }) {
    return this.http.action(
      `/templates/${encodeId(id)}`,
      "export",
      { storage_domain: { id: opts.exportDomainId }, exclusive: opts.exclusive, async: true },
      { correlationId: opts.correlationId },
    );
  }
  update(id: string, patch: Record<string, unknown>, correlationId?: string): Promise<Template> {
    return this.http.update(`/templates/${encodeId(id)}`, "template", patch, Template, { correlationId });
  }
  remove(id: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`/templates/${encodeId(id)}`, { correlationId });
  }
}
