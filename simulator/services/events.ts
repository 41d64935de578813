// /events: list (from=<index>, max, search type=, severity=, correlation_id=, vm.id=, vm.name=, ...), get.
import { Router } from "../router";
import { EventRec } from "../model/types";
import { list, notFound, one } from "./common";

export function register(r: Router): void {
  r.get("events", (ctx) => {
    const e = ctx.engine;
    // newest first, like the engine
    let items = e.state.events.slice().reverse();
    const from = ctx.query.get("from");
    if (from !== null && from !== "") items = items.filter((ev) => ev.index > Number(from));
    return list(ctx, "events", "event", items, (ev) => ctx.w.event(ev), {
      type: (ev: EventRec) => ev.code,
      severity: (ev) => ev.severity,
      message: (ev) => ev.description,
      correlation_id: (ev) => ev.correlationId,
      origin: (ev) => ev.origin,
      time: (ev) => ev.time,
      "vm.id": (ev) => ev.vmId,
      vm: (ev) => e.vm(ev.vmId)?.name,
      "vm.name": (ev) => e.vm(ev.vmId)?.name,
      "template.id": (ev) => ev.templateId,
      template: (ev) => e.template(ev.templateId)?.name,
      "storage.id": (ev) => ev.storageDomainId,
      storage: (ev) => e.sd(ev.storageDomainId)?.name,
      "datacenter.id": (ev) => ev.dataCenterId,
      datacenter: (ev) => e.dc(ev.dataCenterId)?.name,
      "cluster.id": (ev) => ev.clusterId,
    });
  });
  r.get("events/:id", (ctx) => {
    const ev = ctx.engine.state.events.find((x) => x.id === ctx.params.id);
    if (!ev) throw notFound();
    return one("event", ctx.w.event(ev));
  });
}
