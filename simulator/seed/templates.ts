// Seed step: templates, each with one NIC and its disks (one base volume each, content seeded lazily).
import { NicRec, TemplateRec } from "../model/types";
import { newMac, nowIso, osFor } from "../model/inventory";
import { SeedContext, uuid } from "./context";
import { dataDomainFor } from "./storageDomains";

export function seedTemplates(ctx: SeedContext): void {
  for (const t of ctx.inv.templates) {
    const cl = ctx.clusterByName.get(t.cluster);
    if (!cl) throw new Error(`invalid inventory: template ${t.name}: unknown cluster '${t.cluster}'`);
    const a = t.cpuArchitecture ?? cl.cpuArchitecture;
    const tpl: TemplateRec = {
      id: t.id ?? uuid(),
      name: t.name,
      description: "",
      comment: "",
      clusterId: cl.id,
      status: "ok",
      memoryBytes: t.memoryMiB * 1024 ** 2,
      cpus: t.cpus,
      cpuArchitecture: a,
      osType: t.osType ?? osFor(a),
      origin: "ovirt",
      type: "server",
      creationTime: nowIso(),
      disks: [],
      nics: templateNics(1),
    };
    t.disks.forEach((ds, i) => {
      const sd = dataDomainFor(ctx, cl, ds.storageDomain ?? t.storageDomain, `template ${t.name}`);
      const diskId = ds.id ?? uuid();
      const volId = uuid();
      tpl.disks.push({
        id: diskId,
        alias: ds.alias ?? `${t.name}_Disk${i + 1}`,
        provisionedSize: Math.round(ds.sizeMiB * 1024 ** 2),
        sparse: ds.sparse,
        format: ds.format ?? (ds.sparse ? "cow" : "raw"),
        storageDomainId: sd.id,
        bootable: ds.bootable ?? i === 0,
        interface: ds.interface,
        status: "ok",
        volumes: [{ id: volId, format: ds.format ?? (ds.sparse ? "cow" : "raw"), kind: "base", seed: diskId }],
      });
    });
    ctx.state.templates.push(tpl);
    ctx.tplByName.set(tpl.name, tpl);
  }
}

/** A template's NICs: nic1.. with random MACs (newMac), not drawn from a MAC pool. */
function templateNics(n: number): NicRec[] {
  return Array.from({ length: n }, (_, i) => ({ id: uuid(), name: `nic${i + 1}`, mac: newMac(), interface: "virtio" }));
}
