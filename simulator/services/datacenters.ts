// /datacenters: list (search name=, storage=), get (follow storage_domains, clusters).
import { Router } from "../router";
import { DataCenterRec } from "../model/types";
import { byIdOr404, list, one } from "./common";
import { follows } from "../xml/write";

export function register(r: Router): void {
  r.get("datacenters", (ctx) =>
    list(ctx, "data_centers", "data_center", ctx.engine.state.dataCenters, (d, f) => ctx.w.dataCenter(d, f), {
      name: (d: DataCenterRec) => d.name,
      id: (d) => d.id,
      status: (d) => d.status,
      description: (d) => d.description,
      storage: (d) => ctx.engine.state.storageDomains.filter((s) => s.dataCenterId === d.id).map((s) => s.name),
      "storage.name": (d) => ctx.engine.state.storageDomains.filter((s) => s.dataCenterId === d.id).map((s) => s.name),
      cluster: (d) => ctx.engine.state.clusters.filter((c) => c.dataCenterId === d.id).map((c) => c.name),
    }),
  );
  r.get("datacenters/:dc", (ctx) => {
    const dc = byIdOr404(ctx.engine.state.dataCenters, ctx.params.dc);
    return one("data_center", ctx.w.dataCenter(dc, follows(ctx.query.get("follow"))));
  });
  r.get("datacenters/:dc/clusters", (ctx) => {
    const dc = byIdOr404(ctx.engine.state.dataCenters, ctx.params.dc);
    return list(ctx, "clusters", "cluster", ctx.engine.state.clusters.filter((c) => c.dataCenterId === dc.id), (c) => ctx.w.cluster(c));
  });
}
