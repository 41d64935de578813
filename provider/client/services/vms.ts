import { EngineHttp } from "../http";
import { Disk, DiskAttachment, Snapshot, Vm } from "../types";
import { exact, searchName, searchNames, encodeId } from "./util";

export class VmsService {
  constructor(private readonly http: EngineHttp) {}
  list(search?: string, follow?: string): Promise<Vm[]> {
    return this.http.list("/vms", "vms", "vm", Vm, { search, follow });
  }
  get(id: string, follow?: string): Promise<Vm | undefined> {
    return this.http.getOptional(`/vms/${encodeId(id)}`, "vm", Vm, follow ? { follow } : undefined);
  }
  async findByName(name: string, follow?: string): Promise<Vm | undefined> {
    return exact(await this.list(searchName(name), follow), name);
  }
  /** VMs whose names are in `names`, one request (`name=a or name=b ...`), exact-matched client-side. */
  async findByNames(names: string[]): Promise<Map<string, Vm>> {
    const out = new Map<string, Vm>();
    if (names.length === 0) return out;
    for (const vm of await this.list(searchNames(names))) if (names.includes(vm.name)) out.set(vm.name, vm);
    return out;
  }
  async diskAttachments(id: string): Promise<DiskAttachment[]> {
    return this.http.list(`/vms/${encodeId(id)}/diskattachments`, "disk_attachments", "disk_attachment", DiskAttachment, {
      follow: "disk",
    });
  }
  /** The VM's disks (attachments followed to their disk). */
  async disks(id: string): Promise<Disk[]> {
    const atts = await this.diskAttachments(id);
    const disks: Disk[] = [];
    for (const a of atts) {
      if (a.disk && (a.disk.alias !== undefined || a.disk.provisioned_size !== undefined)) disks.push({ ...a.disk, bootable: a.bootable });
      else if (a.disk?.id ?? a.id) {
        const d = await this.http.getOptional(`/disks/${encodeId(a.disk?.id ?? a.id!)}`, "disk", Disk);
        if (d) disks.push({ ...d, bootable: a.bootable });
      }
    }
    return disks;
  }
  snapshots(id: string): Promise<Snapshot[]> {
    return this.http.list(`/vms/${encodeId(id)}/snapshots`, "snapshots", "snapshot", Snapshot);
  }
  export(
    id: string,
    opts: { exportDomainId: string; exclusive: boolean; discardSnapshots: boolean; correlationId: string },
  ) {
    return this.http.action(
      `/vms/${encodeId(id)}`,
      "export",
      {
        storage_domain: { id: opts.exportDomainId },
        exclusive: opts.exclusive,
        discard_snapshots: opts.discardSnapshots,
        async: true,
      },
      { correlationId: opts.correlationId },
    );
  }
  shutdown(id: string, correlationId?: string) {
    return this.http.action(`/vms/${encodeId(id)}`, "shutdown", {}, { correlationId });
  }
  stop(id: string, correlationId?: string) {
    return this.http.action(`/vms/${encodeId(id)}`, "stop", {}, { correlationId });
  }
  update(id: string, patch: Record<string, unknown>, correlationId?: string): Promise<Vm> {
    return this.http.update(`/vms/${encodeId(id)}`, "vm", patch, Vm, { correlationId });
  }
  remove(id: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`/vms/${encodeId(id)}`, { correlationId });
  }
}
