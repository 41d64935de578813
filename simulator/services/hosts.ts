// /hosts: list (search name=, cluster=, datacenter=, status=), get.
import { Router } from "../router";
import { HostRec } from "../model/types";
import { byIdOr404, list, one } from "./common";

export function register(r: Router): void {
  r.get("hosts", (ctx) =>
    list(ctx, "hosts", "host", ctx.engine.state.hosts, (h) => ctx.w.host(h), {
      name: (h: HostRec) => h.name,
      id: (h) => h.id,
      status: (h) => h.status,
      address: (h) => h.address,
      cluster: (h) => ctx.engine.cluster(h.clusterId)?.name,
      datacenter: (h) => ctx.engine.dcOfCluster(h.clusterId)?.name,
    }),
  );
  r.get("hosts/:id", (ctx) => one("host", ctx.w.host(byIdOr404(ctx.engine.state.hosts, ctx.params.id))));
}
