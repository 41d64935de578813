// Request counters and log for /__admin/requests. Admin requests are not recorded.
export interface LogEntry {
  seq: number;
  method: string;
  path: string;
  status: number;
  ms: number;
  /** epoch ms when the answer was sent */
  at: number;
  /** the query string ("?search=..."), when there is one */
  query?: string;
}

const ID_SEG = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$/i;
const MAX_LOG = 50000;

export function normalisePath(path: string): string {
  return path
    .split("/")
    .map((s) => {
      const [seg, ...matrix] = s.split(";");
      return (ID_SEG.test(seg) ? "{id}" : seg) + (matrix.length ? "" : "");
    })
    .join("/");
}

export class RequestLog {
  total = 0;
  mutating = 0;
  byMethod: Record<string, number> = {};
  byPath: Record<string, number> = {};
  log: LogEntry[] = [];
  private seq = 0;

  record(method: string, path: string, status: number, ms: number, query?: string): void {
    this.total++;
    const isApi = path === "/ovirt-engine/api" || path.startsWith("/ovirt-engine/api/");
    if (isApi && method !== "GET" && method !== "HEAD") this.mutating++;
    this.byMethod[method] = (this.byMethod[method] ?? 0) + 1;
    const key = `${method} ${normalisePath(path)}`;
    this.byPath[key] = (this.byPath[key] ?? 0) + 1;
    this.log.push({ seq: ++this.seq, method, path, status, ms: Math.round(ms * 100) / 100, at: Date.now(), ...(query ? { query } : {}) });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  reset(): void {
    this.total = 0;
    this.mutating = 0;
    this.byMethod = {};
    this.byPath = {};
    this.log = [];
  }

  snapshot(since = 0) {
    return {
      total: this.total,
      mutating: this.mutating,
      byMethod: this.byMethod,
      byPath: this.byPath,
      log: this.log.filter((e) => e.seq > since),
    };
  }
}
