// /clusters: list (search name=, datacenter=), get; CPU profiles (/clusters/{id}/cpuprofiles, /cpuprofiles); the
// cluster's MAC pool link (restapi ClusterMapper: <mac_pool id>) and /macpools (services/macPools.ts).
import { Ctx, Router } from "../router";
import { ClusterRec, CpuProfileRec } from "../model/types";
import { byIdOr404, list, one } from "./common";
import * as macPools from "./macPools";

/** The cluster as ClusterMapper shows it, with its MAC pool. */
function cluster(ctx: Ctx, c: ClusterRec) {
  return { ...ctx.w.cluster(c), mac_pool: macPools.macPoolLink(ctx, c) };
}

export function register(r: Router): void {
  r.get("clusters", (ctx) =>
    list(ctx, "clusters", "cluster", ctx.engine.state.clusters, (c) => cluster(ctx, c), {
      name: (c: ClusterRec) => c.name,
      id: (c) => c.id,
      datacenter: (c) => ctx.engine.dc(c.dataCenterId)?.name,
      "datacenter.name": (c) => ctx.engine.dc(c.dataCenterId)?.name,
      architecture: (c) => c.cpuArchitecture,
    }),
  );
  r.get("clusters/:id", (ctx) => one("cluster", cluster(ctx, byIdOr404(ctx.engine.state.clusters, ctx.params.id))));

  const profileFields = { name: (p: CpuProfileRec) => p.name, id: (p: CpuProfileRec) => p.id };
  r.get("clusters/:id/cpuprofiles", (ctx) => {
    const cl = byIdOr404(ctx.engine.state.clusters, ctx.params.id);
    return list(ctx, "cpu_profiles", "cpu_profile", ctx.engine.cpuProfilesOf(cl.id), (p) => ctx.w.cpuProfile(p), profileFields);
  });
  r.get("clusters/:id/cpuprofiles/:p", (ctx) => {
    const cl = byIdOr404(ctx.engine.state.clusters, ctx.params.id);
    return one("cpu_profile", ctx.w.cpuProfile(byIdOr404(ctx.engine.cpuProfilesOf(cl.id), ctx.params.p)));
  });
  r.get("cpuprofiles", (ctx) => list(ctx, "cpu_profiles", "cpu_profile", ctx.engine.state.cpuProfiles ?? [], (p) => ctx.w.cpuProfile(p), profileFields));
  r.get("cpuprofiles/:p", (ctx) => one("cpu_profile", ctx.w.cpuProfile(byIdOr404(ctx.engine.state.cpuProfiles ?? [], ctx.params.p))));
  macPools.register(r);
}
