// A small router for the API: patterns like "vms/:vm/export" matched segment by segment.
import type { IncomingHttpHeaders } from "node:http";
import type { Engine } from "./engine";
import type { Jobs } from "./jobs";
import type { RequestFaults } from "./faultInjection";
import type { Writer } from "./xml/write";
import type { XNode } from "./xml/xml";

export interface Ctx {
  engine: Engine;
  jobs: Jobs;
  w: Writer;
  method: string;
  /** path below the API root, without leading slash, e.g. "vms/ID" */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body?: { root: string; node: XNode };
  rawBody: string;
  correlationId: string;
  /** the fault rules, asked where an operation starts on an entity (faultInjection.ts) */
  faults: RequestFaults;
  /** true when the request body or query asked to block (`<async>false</async>`) */
}

export interface Reply {
  status: number;
  root?: string;
  content?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => Promise<Reply> | Reply;

interface Route {
  method: string;
  segs: string[];
  handler: Handler;
  action: boolean;
}

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, opts: { action?: boolean } = {}): void {
    this.routes.push({ method, segs: pattern.split("/").filter(Boolean), handler, action: !!opts.action });
  }
  get(p: string, h: Handler): void {
    this.add("GET", p, h);
  }
  post(p: string, h: Handler): void {
    this.add("POST", p, h);
  }
  put(p: string, h: Handler): void {
    this.add("PUT", p, h);
  }
  delete(p: string, h: Handler): void {
    this.add("DELETE", p, h);
  }
  /** An action: POST <entity>/<verb> with an <action> body; faults are echoed inside the action. */
  action(p: string, h: Handler): void {
    this.add("POST", p, h, { action: true });
  }

  match(method: string, path: string): { route?: Route; params: Record<string, string>; pathMatched: boolean } {
    const segs = path.split("/").filter(Boolean).map((s) => s.split(";")[0]);
    let pathMatched = false;
    for (const r of this.routes) {
      if (r.segs.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = r.segs[i];
        if (p.startsWith(":")) params[p.slice(1)] = decodeURIComponent(segs[i]);
        else if (p !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method || (method === "HEAD" && r.method === "GET")) return { route: r, params, pathMatched };
    }
    return { params: {}, pathMatched };
  }
}

/** Matrix parameters of the last path segment (";x=1"), merged under query parameters by ParametersHelper. */
export function matrixParams(path: string): URLSearchParams {
  const last = path.split("/").filter(Boolean).pop() ?? "";
  const out = new URLSearchParams();
  const parts = last.split(";").slice(1);
  for (const p of parts) {
    const i = p.indexOf("=");
    if (i > 0) out.set(decodeURIComponent(p.slice(0, i)), decodeURIComponent(p.slice(i + 1)));
    else if (i < 0 && p) out.set(decodeURIComponent(p), ""); // ";x" without a value: present, empty (JAX-RS PathSegment)
  }
  return out;
}
