// /clusters: list (search name=, datacenter=), get.
import { Router } from "../router";
import { ClusterRec } from "../model/types";
import { byIdOr404, list, one } from "./common";

export function register(r: Router): void {
  r.get("clusters", (ctx) =>
    list(ctx, "clusters", "cluster", ctx.engine.state.clusters, (c) => ctx.w.cluster(c), {
      name: (c: ClusterRec) => c.name,
      id: (c) => c.id,
      datacenter: (c) => ctx.engine.dc(c.dataCenterId)?.name,
      "datacenter.name": (c) => ctx.engine.dc(c.dataCenterId)?.name,
      architecture: (c) => c.cpuArchitecture,
    }),
  );
  r.get("clusters/:id", (ctx) => one("cluster", ctx.w.cluster(byIdOr404(ctx.engine.state.clusters, ctx.params.id))));
}
