// The VM row an external import creates at once (status down, disks locked until the conversion ends), made from
// the source VM: its CPUs, memory, guest OS, NICs (MACs kept unless taken) and one disk per source disk.
//
// Followed (ovirt-engine, read, not copied): ImportVmCommandBase.createVmDynamic (the V2V command extends it: the VM
// row is created down, lastStopTime = now).
import { Engine } from "../../engine";
import { DiskRec, NicRec, VmRec } from "../../model/types";
import { DiskLayout, ImportRequest } from "./request";
import { SourceVm } from "./vcenter";

function guestOs(guestId: string): string {
  if (/^windows|^win/i.test(guestId)) return "windows_2019x64";
  if (/rhel9/.test(guestId)) return "rhel_9x64";
  if (/rhel8/.test(guestId)) return "rhel_8x64";
  if (/rhel7/.test(guestId)) return "rhel_7x64";
  return "other_linux";
}

export function importedVm(e: Engine, req: ImportRequest, src: SourceVm, targetName: string, layout: DiskLayout): VmRec {
  const { sparse, format, cpuProfileId } = layout;
  const vmId = e.uuid();
  const usedMacs = new Set(e.state.vms.flatMap((v) => v.nics.map((x) => x.mac.toLowerCase())));
  const nics: NicRec[] = src.nics.map((x, i) => {
    let mac = x.mac.toLowerCase();
    if (!mac || usedMacs.has(mac)) mac = `56:6f:${[0, 0, 0, 0].map(() => Math.floor(Math.random() * 256).toString(16).padStart(2, "0")).join(":")}`;
    usedMacs.add(mac);
    return { id: e.uuid(), name: `nic${i + 1}`, mac, interface: "virtio" };
  });
  const disks: DiskRec[] = src.disks.map((d, i) => {
    const diskId = e.uuid();
    return {
      id: diskId,
      alias: `${targetName}-${i === 0 ? "000" : String(i).padStart(3, "0")}`,
      provisionedSize: d.capacityBytes,
      sparse,
      format,
      storageDomainId: req.sd.id,
      bootable: i === 0,
      interface: "virtio_scsi",
      status: "locked",
      volumes: [{ id: e.uuid(), format, kind: "base", seed: `v2v:${src.uuid}:${d.key}` }],
    } as DiskRec;
  });
  const now = new Date().toISOString();
  return {
    id: vmId,
    name: targetName,
    description: "",
    comment: "",
    clusterId: req.cl.id,
    status: "down", // the engine creates the VM row as down at once (createVmDynamic), not image_locked
    memoryBytes: src.memoryMiB * 1024 * 1024,
    cpus: src.cpus,
    cpuArchitecture: "x86_64",
    osType: guestOs(src.guestId),
    templateId: "00000000-0000-0000-0000-000000000000",
    origin: req.prov,
    type: "server",
    creationTime: now,
    stopTime: now, // ImportVmCommandBase.createVmDynamic (the V2V command extends it): lastStopTime = now
    snapshots: [{ id: e.uuid(), description: "Active VM", date: now, type: "active", status: "ok" }],
    disks,
    nics,
    cpuProfileId,
  };
}
