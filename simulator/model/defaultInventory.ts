// The default inventory: what `npm run sim` serves when no inventory is given and the state dir is empty.
import { Inventory } from "./inventory";

export const defaultInventory: Inventory = {
  dataCenters: [
    {
      name: "dc-source",
      description: "source data center",
      clusters: [
        { name: "cl-source", cpuArchitecture: "x86_64" },
        // a POWER cluster: its VM (ppc-01) makes a batch of mixed architectures possible
        { name: "cl-source-ppc", cpuArchitecture: "ppc64" },
      ],
      hosts: [
        { name: "host-source-1", cluster: "cl-source", status: "up", virtV2v: true },
        { name: "host-source-ppc-1", cluster: "cl-source-ppc", status: "up", virtV2v: false },
      ],
      storageDomains: [{ name: "data-source", type: "data", storageType: "nfs", sizeGiB: 200 }],
    },
    {
      name: "dc-target",
      description: "target data center",
      clusters: [{ name: "cl-target", cpuArchitecture: "x86_64" }],
      hosts: [{ name: "host-target-1", cluster: "cl-target", status: "up", virtV2v: true }],
      storageDomains: [
        { name: "data-target", type: "data", storageType: "nfs", sizeGiB: 200 },
        // a block domain (iSCSI): a valid V2V target (ImportVmFromExternalProviderCommand has no storage-type check)
        { name: "block-target", type: "data", storageType: "iscsi", sizeGiB: 100 },
      ],
    },
  ],
  exportDomains: [{ name: "export1", path: "exports/export1", attachedTo: "dc-source", status: "active" }],
  templates: [
    {
      name: "rhel9-base",
      dataCenter: "dc-source",
      cluster: "cl-source",
      storageDomain: "data-source",
      cpuArchitecture: "x86_64",
      memoryMiB: 2048,
      cpus: 2,
      disks: [{ alias: "rhel9-base_disk", sizeMiB: 24 }],
    },
  ],
  vms: [
    { name: "web-01", cluster: "cl-source", memoryMiB: 4096, cpus: 2, disks: [{ alias: "web-01_disk0", sizeMiB: 32, sparse: true, format: "cow" }] },
    {
      name: "db-01",
      cluster: "cl-source",
      memoryMiB: 8192,
      cpus: 4,
      disks: [
        { alias: "db-01_os", sizeMiB: 48, sparse: false, format: "raw" },
        { alias: "db-01_data", sizeMiB: 96, sparse: true, format: "cow", bootable: false },
      ],
    },
    { name: "app-01", cluster: "cl-source", memoryMiB: 2048, cpus: 2, disks: [{ alias: "app-01_disk0", sizeMiB: 16 }] },
    {
      name: "snap-01",
      cluster: "cl-source",
      memoryMiB: 2048,
      cpus: 1,
      snapshots: [{ description: "before-upgrade" }, { description: "after-upgrade" }],
      disks: [{ alias: "snap-01_disk0", sizeMiB: 32, sparse: true, format: "cow" }],
    },
    { name: "thin-01", cluster: "cl-source", memoryMiB: 2048, cpus: 2, template: "rhel9-base" },
    { name: "run-01", cluster: "cl-source", status: "up", memoryMiB: 2048, cpus: 2, disks: [{ alias: "run-01_disk0", sizeMiB: 16 }] },
    {
      name: "ppc-01",
      cluster: "cl-source-ppc",
      memoryMiB: 4096,
      cpus: 2,
      cpuArchitecture: "ppc64",
      disks: [{ alias: "ppc-01_disk0", sizeMiB: 16 }],
    },
  ],
};
