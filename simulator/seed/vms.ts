// Seed step: VMs with their snapshots, NICs and disks (own disks, or thin overlays on their template's disks).
import { BLANK_TEMPLATE_ID, ClusterRec, SnapshotRec, TemplateRec, VmRec } from "../model/types";
import { ParsedInventory, nowIso, osFor } from "../model/inventory";
import { SeedContext, uuid } from "./context";
import { NicWithoutMac } from "./macPools";
import { ownDisk, thinDiskOnTemplate } from "./vmDisks";

type VmSpec = ParsedInventory["vms"][number];

/**
 * Every VM in inventory order. Returns the NICs given without a MAC: they get theirs from their cluster's pool once
 * every explicit MAC is known (macPools.ts allocateMissingMacs).
 */
export function seedVms(ctx: SeedContext): NicWithoutMac[] {
  // VM names are unique per data center, as in the engine ("VM Name already exists in the Data Center").
  const vmNames = new Set<string>();
  const toAllocate: NicWithoutMac[] = [];
  for (const [vmIndex, v] of ctx.inv.vms.entries()) {
    const cl = ctx.clusterByName.get(v.cluster);
    if (!cl) throw new Error(`invalid inventory: VM ${v.name}: unknown cluster '${v.cluster}'`);
    const key = `${cl.dataCenterId}/${v.name}`;
    if (vmNames.has(key)) throw new Error(`invalid inventory: duplicate VM name '${v.name}' in one data center`);
    vmNames.add(key);
    const tpl = templateOf(ctx, v, cl);
    const t0 = Date.now() - 86400_000;
    const snapshots = vmSnapshots(v, t0);
    const vm = vmRecord(ctx, v, cl, tpl, snapshots, t0);
    vm.nics.forEach((nic) => {
      if (!nic.mac) toAllocate.push({ vm, nic, field: `vms[${vmIndex}].nics` });
    });
    // a VM made from a template with no disks of its own has thin disks on the template's; else its own disks
    const diskSpecs = tpl && v.disks.length === 0 ? tpl.disks.map((d) => ({ templateDisk: d })) : v.disks.map((d) => ({ spec: d }));
    diskSpecs.forEach((entry, i) => {
      const diskId = ("spec" in entry && entry.spec?.id) || uuid();
      if ("templateDisk" in entry && entry.templateDisk) thinDiskOnTemplate(ctx, vm, tpl!, entry.templateDisk, diskId, i, snapshots.length);
      else ownDisk(ctx, vm, cl, (entry as { spec: VmSpec["disks"][number] }).spec, diskId, i, snapshots.length);
    });
    ctx.state.vms.push(vm);
  }
  return toAllocate;
}

/** The VM's template, which must be in the VM's data center. */
function templateOf(ctx: SeedContext, v: VmSpec, cl: ClusterRec): TemplateRec | undefined {
  const tpl = v.template ? ctx.tplByName.get(v.template) : undefined;
  if (v.template && !tpl) throw new Error(`invalid inventory: VM ${v.name}: unknown template '${v.template}'`);
  if (tpl) {
    const tcl = ctx.state.clusters.find((c) => c.id === tpl.clusterId)!;
    if (tcl.dataCenterId !== cl.dataCenterId) throw new Error(`invalid inventory: VM ${v.name}: template ${tpl.name} is in another data center`);
  }
  return tpl;
}

/** The inventory's snapshots an hour apart from the VM's creation a day ago, then the active one. */
function vmSnapshots(v: VmSpec, t0: number): SnapshotRec[] {
  const snapshots: SnapshotRec[] = v.snapshots.map((s, i) => ({
    id: uuid(),
    description: s.description,
    date: new Date(t0 + i * 3600_000).toISOString(),
    type: "regular",
    status: "ok",
  }));
  snapshots.push({ id: uuid(), description: "Active VM", date: nowIso(), type: "active", status: "ok" });
  return snapshots;
}

/** The VM record without disks; NICs given without a MAC have an empty one until allocation. */
function vmRecord(ctx: SeedContext, v: VmSpec, cl: ClusterRec, tpl: TemplateRec | undefined, snapshots: SnapshotRec[], t0: number): VmRec {
  const a = v.cpuArchitecture ?? cl.cpuArchitecture;
  return {
    id: v.id ?? uuid(),
    name: v.name,
    description: v.description,
    comment: "",
    clusterId: cl.id,
    status: v.status,
    memoryBytes: v.memoryMiB * 1024 ** 2,
    cpus: v.cpus,
    cpuArchitecture: a,
    osType: v.osType ?? osFor(a),
    templateId: tpl?.id ?? BLANK_TEMPLATE_ID,
    origin: "ovirt",
    type: "server",
    creationTime: new Date(t0).toISOString(),
    // run history like the engine's: lastStopTime from the VM's creation (AddVmCommand.createVmDynamic); a VM
    // seeded running was started now
    stopTime: new Date(t0).toISOString(),
    startTime: v.status === "up" ? nowIso() : undefined,
    hostId: v.status === "up" ? ctx.state.hosts.find((h) => h.clusterId === cl.id && h.status === "up")?.id : undefined,
    snapshots,
    disks: [],
    nics: (typeof v.nics === "number" ? Array.from({ length: v.nics }, () => ({})) : v.nics).map((n: { name?: string; mac?: string }, i) => ({
      id: uuid(),
      name: n.name ?? `nic${i + 1}`,
      mac: n.mac ?? "",
      interface: "virtio",
    })),
  };
}
