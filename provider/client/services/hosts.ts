import { EngineHttp } from "../http";
import { Host } from "../types";
import { exact, searchName } from "./util";

export class HostsService {
  constructor(private readonly http: EngineHttp) {}
  list(search?: string): Promise<Host[]> {
    return this.http.list("/hosts", "hosts", "host", Host, search ? { search } : undefined);
  }
  async findByName(name: string): Promise<Host | undefined> {
    return exact(await this.list(searchName(name)), name);
  }
}
