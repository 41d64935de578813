// Seed step: a VM's disks and their volume chains (one volume per snapshot layer); the overlay volumes are handed to
// the caller to write (SeedContext.overlaysToWrite), base volumes' content is seeded lazily.
import { ClusterRec, DiskRec, TemplateRec, VmRec, VolumeRec } from "../model/types";
import { ParsedInventory } from "../model/inventory";
import { SeedContext, uuid } from "./context";
import { dataDomainFor } from "./storageDomains";

type DiskSpec = ParsedInventory["vms"][number]["disks"][number];

/** A thin disk: the VM's own overlays (one per snapshot, active included) on the template disk's base volume. */
export function thinDiskOnTemplate(ctx: SeedContext, vm: VmRec, tpl: TemplateRec, td: DiskRec, diskId: string, i: number, layers: number): void {
  const sd = ctx.state.storageDomains.find((s) => s.id === td.storageDomainId)!;
  const vols: VolumeRec[] = [];
  let parent = td.volumes[td.volumes.length - 1].id;
  for (let k = 0; k < layers; k++) {
    const vol: VolumeRec = { id: uuid(), parentId: parent, format: "cow", kind: "overlay" };
    vols.push(vol);
    parent = vol.id;
  }
  const disk: DiskRec = {
    id: diskId,
    alias: `${vm.name}_Disk${i + 1}`,
    provisionedSize: td.provisionedSize,
    sparse: true,
    format: "cow",
    storageDomainId: sd.id,
    bootable: td.bootable,
    interface: td.interface,
    status: "ok",
    volumes: vols,
    templateDisk: { templateId: tpl.id, diskId: td.id, volumeId: td.volumes[td.volumes.length - 1].id, storageDomainId: sd.id },
  };
  vm.disks.push(disk);
  for (const vol of vols) ctx.overlaysToWrite.push({ sd, disk, vol });
}

/** A disk of the VM's own: a base volume (cow once there are snapshots) and one overlay per snapshot after the first. */
export function ownDisk(ctx: SeedContext, vm: VmRec, cl: ClusterRec, ds: DiskSpec, diskId: string, i: number, layers: number): void {
  const sd = dataDomainFor(ctx, cl, ds.storageDomain, `VM ${vm.name}`);
  const fmt = ds.format ?? (ds.sparse || layers > 1 ? "cow" : "raw");
  const vols: VolumeRec[] = [{ id: uuid(), format: layers > 1 ? "cow" : fmt, kind: "base", seed: diskId }];
  for (let k = 1; k < layers; k++) {
    const vol: VolumeRec = { id: uuid(), parentId: vols[vols.length - 1].id, format: "cow", kind: "overlay" };
    vols.push(vol);
  }
  const disk: DiskRec = {
    id: diskId,
    alias: ds.alias ?? `${vm.name}_Disk${i + 1}`,
    provisionedSize: Math.round(ds.sizeMiB * 1024 ** 2),
    sparse: ds.sparse,
    format: fmt,
    storageDomainId: sd.id,
    bootable: ds.bootable ?? i === 0,
    interface: ds.interface,
    status: "ok",
    volumes: vols,
  };
  vm.disks.push(disk);
  for (const vol of vols.slice(1)) ctx.overlaysToWrite.push({ sd, disk, vol });
}
