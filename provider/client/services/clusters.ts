import { EngineHttp } from "../http";
import { Cluster, CpuProfile } from "../types";
import { exact, searchName, encodeId } from "./util";

export class ClustersService {
  constructor(private readonly http: EngineHttp) {}
  list(): Promise<Cluster[]> {
    return this.http.list("/clusters", "clusters", "cluster", Cluster);
  }
  get(id: string): Promise<Cluster | undefined> {
    return this.http.getOptional(`/clusters/${encodeId(id)}`, "cluster", Cluster);
  }
  async findByName(name: string): Promise<Cluster | undefined> {
    const found = await this.http.list("/clusters", "clusters", "cluster", Cluster, { search: searchName(name) });
    return exact(found, name);
  }
  /** CPU profiles usable in a cluster (`GET /clusters/{id}/cpuprofiles`). */
  cpuProfiles(clusterId: string): Promise<CpuProfile[]> {
    return this.http.list(`/clusters/${encodeId(clusterId)}/cpuprofiles`, "cpu_profiles", "cpu_profile", CpuProfile);
  }
}
