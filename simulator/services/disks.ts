// /disks: every disk of every VM and template (search name=/alias=, id=), get.
import { Router } from "../router";
import { DiskRec } from "../model/types";
import { list, notFound, one } from "./common";

export function register(r: Router): void {
  const all = (ctx: { engine: { state: { vms: { disks: DiskRec[] }[]; templates: { disks: DiskRec[] }[] } } }) => [
    ...ctx.engine.state.vms.flatMap((v) => v.disks),
    ...ctx.engine.state.templates.flatMap((t) => t.disks),
  ];
  r.get("disks", (ctx) =>
    list(ctx, "disks", "disk", all(ctx), (d) => ctx.w.disk(d), {
      name: (d: DiskRec) => d.alias,
      alias: (d) => d.alias,
      id: (d) => d.id,
      status: (d) => d.status,
      storage: (d) => ctx.engine.sd(d.storageDomainId)?.name,
    }),
  );
  r.get("disks/:id", (ctx) => {
    const hit = ctx.engine.findDisk(ctx.params.id);
    if (!hit) throw notFound();
    return one("disk", ctx.w.disk(hit.disk));
  });
}
