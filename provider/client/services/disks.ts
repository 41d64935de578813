import { EngineHttp } from "../http";
import { Disk } from "../types";
import { encodeId } from "./util";

export class DisksService {
  constructor(private readonly http: EngineHttp) {}
  get(id: string): Promise<Disk | undefined> {
    return this.http.getOptional(`/disks/${encodeId(id)}`, "disk", Disk);
  }
}
