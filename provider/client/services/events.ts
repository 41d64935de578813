import { EngineHttp } from "../http";
import { Event } from "../types";

/** Audit log codes we rely on (AuditLogType). */
export const EventCodes = {
  exportVmStarted: 1162,
  exportVmDone: 1150,
  exportVmFailed: 1151,
  exportTemplateStarted: 1164,
  exportTemplateDone: 1156,
  exportTemplateFailed: 1157,
  importVmStarted: 1165,
  importVmDone: 1152,
  importVmFailed: 1153,
  importTemplateStarted: 1163,
  importTemplateDone: 1158,
  importTemplateFailed: 1159,
} as const;

export class EventsService {
  constructor(private readonly http: EngineHttp) {}
  list(opts: { search?: string; from?: number; max?: number } = {}): Promise<Event[]> {
    return this.http.list("/events", "events", "event", Event, {
      search: opts.search,
      from: opts.from,
      max: opts.max,
    });
  }
  byCorrelationId(correlationId: string): Promise<Event[]> {
    return this.list({ search: `correlation_id=${correlationId}` });
  }
}
