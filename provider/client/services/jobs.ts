import { EngineHttp } from "../http";
import { Job, Step } from "../types";
import { encodeId } from "./util";

export class JobsService {
  constructor(private readonly http: EngineHttp) {}
  get(id: string): Promise<Job | undefined> {
    return this.http.getOptional(`/jobs/${encodeId(id)}`, "job", Job);
  }
  steps(id: string): Promise<Step[]> {
    return this.http.list(`/jobs/${encodeId(id)}/steps`, "steps", "step", Step);
  }
  /** Jobs started with this correlation id (the search field is typed UUID: use UUID correlation ids). */
  byCorrelationId(correlationId: string): Promise<Job[]> {
    return this.http.list("/jobs", "jobs", "job", Job, { search: `correlation_id=${correlationId}` });
  }
  list(search?: string): Promise<Job[]> {
    return this.http.list("/jobs", "jobs", "job", Job, search ? { search } : undefined);
  }
}
