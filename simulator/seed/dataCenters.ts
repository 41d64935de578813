// Seed step: data centers with their clusters (CPU profiles, MAC pool), hosts and data domains.
import { ClusterRec, DataCenterRec, HostRec } from "../model/types";
import { ParsedInventory } from "../model/inventory";
import { SeedContext, requireUniqueName, uuid } from "./context";
import { seedDataDomains } from "./storageDomains";

type DataCenterSpec = ParsedInventory["dataCenters"][number];

/** Every data center in inventory order; each one's clusters, hosts and data domains right after it. */
export function seedDataCenters(ctx: SeedContext): void {
  for (const [dcIndex, dc] of ctx.inv.dataCenters.entries()) {
    requireUniqueName("data center", dc.name, ctx.dcByName);
    const d: DataCenterRec = { id: dc.id ?? uuid(), name: dc.name, description: dc.description, status: "up", versionMajor: 4, versionMinor: 7 };
    ctx.state.dataCenters.push(d);
    ctx.dcByName.set(d.name, d);
    seedClusters(ctx, dcIndex, dc, d);
    seedHosts(ctx, dc, d);
    seedDataDomains(ctx, dcIndex, dc, d);
  }
}

/** A data center's clusters, each with its MAC pool and its CPU profiles (the default one named like the cluster). */
function seedClusters(ctx: SeedContext, dcIndex: number, dc: DataCenterSpec, d: DataCenterRec): void {
  const { state } = ctx;
  for (const [clIndex, c] of dc.clusters.entries()) {
    requireUniqueName("cluster", c.name, ctx.clusterByName);
    const pool = c.macPool ? state.macPools!.find((p) => p.name === c.macPool) : state.macPools!.find((p) => p.defaultPool);
    if (!pool) {
      throw new Error(`invalid inventory: dataCenters[${dcIndex}].clusters[${clIndex}].macPool: unknown MAC pool '${c.macPool}' (macPools: ${state.macPools!.map((p) => p.name).join(", ")})`);
    }
    const cl: ClusterRec = {
      id: c.id ?? uuid(),
      name: c.name,
      dataCenterId: d.id,
      cpuArchitecture: c.cpuArchitecture,
      cpuType: c.cpuType ?? (c.cpuArchitecture === "ppc64" ? "IBM POWER9" : "Intel Nehalem Family"),
      macPoolId: pool.id,
    };
    state.clusters.push(cl);
    ctx.clusterByName.set(cl.name, cl);
    for (const pn of [c.name, ...c.cpuProfiles.filter((x) => x !== c.name)]) {
      state.cpuProfiles!.push({ id: uuid(), name: pn, description: pn === c.name ? `Default CPU profile of cluster ${c.name}` : "", clusterId: cl.id });
    }
  }
}

/** A data center's hosts; each names a cluster of that data center. */
function seedHosts(ctx: SeedContext, dc: DataCenterSpec, d: DataCenterRec): void {
  for (const h of dc.hosts) {
    const cl = ctx.clusterByName.get(h.cluster);
    if (!cl || cl.dataCenterId !== d.id) throw new Error(`invalid inventory: host ${h.name}: unknown cluster '${h.cluster}' in ${dc.name}`);
    const host: HostRec = { id: h.id ?? uuid(), name: h.name, clusterId: cl.id, status: h.status, address: h.address ?? "127.0.0.1", virtV2v: h.virtV2v, ssh: h.ssh };
    ctx.state.hosts.push(host);
  }
}
