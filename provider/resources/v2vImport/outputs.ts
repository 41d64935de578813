/** What a V2VImport records in the state: one entry per VM, with its ownership and the grants this resource added. */
import type { OvirtClient, Vm } from "../../client";
import { Ownership } from "../ownership";
import { V2VImportArgs } from "./args";

export interface ImportedDisk {
  id: string;
  alias?: string;
  provisionedBytes: number;
  sparse?: boolean;
}

export interface ImportedVm {
  sourceName: string;
  name: string;
  id: string;
  cpus: number;
  memoryBytes: number;
  disks: ImportedDisk[];
  /** created: imported by this resource (proven by the engine's audit log); adopted: `adopt: true`, kept on destroy. */
  ownership: Ownership;
  /** ownership === "adopted" (kept for states and programs written before `ownership`). */
  adopted: boolean;
  /** The permission grants this resource added on the VM: the only ones it ever removes. */
  permissionIds: string[];
}

export interface V2VImportOutputs extends V2VImportArgs {
  dataCenterId: string;
  clusterId: string;
  storageDomainId: string;
  proxyHostId: string;
  sourceUrl: string;
  vms: ImportedVm[];
  /** Every permission grant this resource added, on all its VMs (`vms[].permissionIds` together). */
  permissionIds: string[];
  virtV2vInstalled: boolean;
}

export async function importedVm(c: OvirtClient, vm: Vm, sourceName: string, ownership: Ownership, permissionIds: string[]): Promise<ImportedVm> {
  const disks = await c.vms.disks(vm.id);
  return {
    sourceName,
    name: vm.name,
    id: vm.id,
    cpus: (vm.cpu?.topology?.sockets ?? 1) * (vm.cpu?.topology?.cores ?? 1) * (vm.cpu?.topology?.threads ?? 1),
    memoryBytes: vm.memory ?? 0,
    disks: disks.map((d) => ({ id: d.id, alias: d.alias ?? d.name, provisionedBytes: d.provisioned_size ?? 0, sparse: d.sparse })),
    ownership,
    adopted: ownership === "adopted",
    permissionIds,
  };
}
