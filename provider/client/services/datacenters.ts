import { EngineHttp } from "../http";
import { DataCenter } from "../types";
import { exact, searchName, encodeId } from "./util";

export class DataCentersService {
  constructor(private readonly http: EngineHttp) {}
  list(): Promise<DataCenter[]> {
    return this.http.list("/datacenters", "data_centers", "data_center", DataCenter);
  }
  get(id: string): Promise<DataCenter | undefined> {
    return this.http.getOptional(`/datacenters/${encodeId(id)}`, "data_center", DataCenter);
  }
  async findByName(name: string): Promise<DataCenter | undefined> {
    const found = await this.http.list("/datacenters", "data_centers", "data_center", DataCenter, {
      search: searchName(name),
    });
    return exact(found, name);
  }
}
