// The HTTP(S) front: transport, SSO, PKI, auth, versions, Correlation-Id, request log, fault injection, and the
// dispatch of /ovirt-engine/api requests to the services. /__admin goes to admin.ts.
import * as http from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import * as crypto from "node:crypto";
import { Engine } from "./engine";
import { Jobs } from "./jobs";
import { Ctx, matrixParams, Reply, Router } from "./router";
import { EngineFault } from "./engineFaults";
import { FaultInjector, TransportDecision } from "./faultInjection";
import { Sso } from "./services/sso";
import { Pki, pkiResource } from "./services/pki";
import { buildXml, parseXml } from "./xml/xml";
import { Writer } from "./xml/write";
import { echo, notifyJobEnd } from "./services/common";
import { RequestLog } from "./requestLog";
import { AuditLog, AuditRequest } from "./audit";
import { checkXml, describeViolations, WireLog } from "./xml/wireCheck";

export const API_PREFIX = "/ovirt-engine/api";

/** What the outer error handler needs of a request in flight. */
interface RequestCtx {
  correlationId?: string;
  finish?: (status: number) => void;
}

export interface ServerDeps {
  getEngine(): Engine;
  getJobs(): Jobs;
  router: Router;
  sso: Sso;
  pki?: Pki;
  faults: FaultInjector;
  log: RequestLog;
  audit: AuditLog;
  admin(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams, body: string): Promise<void>;
  /** true while the engine restarts: API connections are dropped */
  isDown(): boolean;
  /** wire conformance of request and response bodies (xml/wireCheck.ts); absent: nothing is checked */
  wire?: WireLog;
}

export function sanitizeCorrelationId(v: string | undefined | null): string | undefined {
  if (!v) return undefined;
  const s = v.replace(/[^0-9A-Za-z_-]/g, "").slice(0, 36);
  return s || undefined;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 16 * 1024 * 1024) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export class SimServer {
  readonly server: http.Server | https.Server;
  private sockets = new Set<Socket>();

  constructor(private readonly d: ServerDeps, tls: boolean) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const rc: RequestCtx = {};
      this.handle(req, res, rc).catch((e) => {
        // a bug of the simulator: the stack goes to stderr, the client gets a fault with a request id only
        const requestId = crypto.randomUUID();
        process.stderr.write(`simulator: internal error (request id ${requestId}) on ${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}\n`);
        if (!res.headersSent) {
          const detail = `internal error (request id ${requestId})`;
          if (String(req.url ?? "").startsWith("/__admin")) {
            const text = JSON.stringify({ error: "internal error", requestId });
            res.writeHead(500, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
            res.end(text);
          } else {
            const xml = buildXml("fault", { detail, reason: "Internal Server Error" });
            res.writeHead(500, { "Content-Type": "application/xml;charset=UTF-8", "Content-Length": String(Buffer.byteLength(xml)), ...(rc.correlationId ? { "Correlation-Id": rc.correlationId } : {}) });
            res.end(xml);
          }
        } else res.destroy();
        rc.finish?.(500);
      });
    };
    this.server = tls && d.pki ? https.createServer({ key: d.pki.keyPem, cert: d.pki.certPem }, handler) : http.createServer(handler);
    // `Expect: 202-accepted` (engine ExpectationHelper) must reach the handler instead of node's automatic 417
    this.server.on("checkExpectation", handler);
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    this.server.on(tls ? "secureConnection" : "connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  dropConnections(except?: Socket): void {
    for (const s of this.sockets) if (s !== except) s.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, rc: RequestCtx): Promise<void> {
    const t0 = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const method = (req.method ?? "GET").toUpperCase();

    if (path === "/__admin" || path.startsWith("/__admin/")) {
      const body = await readBody(req);
      await this.d.admin(req, res, path.slice("/__admin".length) || "/", url.searchParams, body);
      return;
    }

    // mutating API requests go to the audit log (SSO and PKI are not under /ovirt-engine/api)
    const auditable = method !== "GET" && method !== "HEAD" && (path === API_PREFIX || path.startsWith(API_PREFIX + "/"));
    const correlationId =
      sanitizeCorrelationId(req.headers["correlation-id"] as string | undefined) ??
      sanitizeCorrelationId(url.searchParams.get("correlation_id")) ??
      crypto.randomUUID();
    rc.correlationId = correlationId;
    let audit: AuditRequest | undefined;
    const beginAudit = (body?: Ctx["body"]) => {
      if (auditable && !audit) audit = this.d.audit.begin(this.d.getEngine(), method, path, correlationId, body);
      return audit;
    };
    let finished = false;
    const finish = (status: number, reply?: Reply) => {
      if (finished) return;
      finished = true;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.d.log.record(method, path, status, ms, url.search);
      beginAudit()?.complete(status, reply);
    };
    rc.finish = (status) => finish(status);

    if (this.d.isDown() && path.startsWith("/ovirt-engine")) {
      res.writeHead(503, { "Content-Type": "text/html", Connection: "close" });
      res.end("<html><body><h1>Service Unavailable</h1><p>The engine is starting.</p></body></html>");
      finish(503);
      return;
    }

    // fault injection (engine paths only): the transport rules that match no entity act before the engine
    if (path.startsWith("/ovirt-engine")) {
      const dec = this.d.faults.decide(method, path);
      if (await injectTransport(req, res, dec.delayMs, dec.terminal, finish)) return;
    }

    const body = await readBody(req);

    if (path === "/ovirt-engine/sso/oauth/token" && method === "POST") {
      const form = new URLSearchParams(body);
      for (const [k, v] of url.searchParams) if (!form.has(k)) form.set(k, v);
      const [st, json] = this.d.sso.token(form);
      res.writeHead(st, { "Content-Type": "application/json" });
      res.end(JSON.stringify(json));
      finish(st);
      return;
    }
    if (path === "/ovirt-engine/services/sso-logout") {
      const form = new URLSearchParams(body);
      this.d.sso.logout(form.get("token") ?? url.searchParams.get("token"));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
      finish(200);
      return;
    }
    if (path === "/ovirt-engine/services/pki-resource") {
      const r = pkiResource(this.d.pki, url.searchParams);
      if (!r) {
        res.writeHead(404, { "Content-Type": "text/plain" });
        res.end("Resource not found");
        finish(404);
        return;
      }
      res.writeHead(200, { "Content-Type": r.type });
      res.end(r.body);
      finish(200);
      return;
    }

    let apiPath: string;
    let base = API_PREFIX;
    if (path === API_PREFIX || path.startsWith(API_PREFIX + "/")) {
      apiPath = path.slice(API_PREFIX.length).replace(/^\/+/, "");
      if (apiPath === "v4" || apiPath.startsWith("v4/")) {
        apiPath = apiPath.slice(2).replace(/^\/+/, "");
        base = `${API_PREFIX}/v4`;
      } else if (/^v\d+(\/|$)/.test(apiPath)) {
        res.writeHead(400);
        res.end();
        finish(400);
        return;
      }
    } else {
      res.writeHead(404, { "Content-Type": "text/html" });
      res.end("<html><body><h1>Not Found</h1></body></html>");
      finish(404);
      return;
    }
    const version = req.headers["version"];
    if (base === API_PREFIX && version !== undefined && String(version).trim() !== "4") {
      res.writeHead(400);
      res.end();
      finish(400);
      return;
    }

    const headers: Record<string, string> = { "Correlation-Id": correlationId };

    const user = this.d.sso.authenticate(req.headers.authorization);
    if (!user) {
      headers["WWW-Authenticate"] = 'Bearer realm="RESTAPI"';
      headers["Content-Type"] = "text/html;charset=UTF-8";
      res.writeHead(401, headers);
      res.end("<html><head><title>Error</title></head><body>Unauthorized</body></html>");
      finish(401);
      return;
    }

    const engine = this.d.getEngine();
    const w = new Writer(engine, base);
    const m = this.d.router.match(method, apiPath);
    const query = new URLSearchParams(url.searchParams);
    for (const [k, v] of matrixParams(apiPath)) if (!query.has(k)) query.set(k, v);
    let reply: Reply;
    let parsed: Ctx["body"];
    try {
      parsed = parseXml(body);
    } catch (e) {
      parsed = undefined;
      if (!(e instanceof EngineFault)) throw e;
      reply = faultReply(e, false);
      finish(this.send(res, reply, headers, method, path));
      return;
    }
    const ctx: Ctx = {
      engine,
      jobs: this.d.getJobs(),
      w,
      method,
      path: apiPath.split("/").filter(Boolean).map((s) => s.split(";")[0]).join("/"),
      params: m.params,
      query,
      headers: req.headers,
      body: parsed,
      rawBody: body,
      correlationId,
      faults: this.d.faults.forRequest(method, path),
    };
    beginAudit(parsed);
    // the engine's XML reader refuses a body with an element its model does not know (checked once the resource
    // method that takes the body is found, as JAX-RS reads the entity only then)
    const refused = m.route && parsed && (method === "POST" || method === "PUT") ? this.checkRequest(method, path, body) : undefined;
    if (refused) {
      finish(this.send(res, refused, headers, method, path), refused);
      return;
    }
    if (!m.route) {
      reply = faultReply(m.pathMatched ? new EngineFault(405, "Method Not Allowed", `HTTP method ${method} not allowed`) : new EngineFault(404, "Not Found", "Resource not found"), false);
      if (!m.pathMatched) reply = { status: 404, root: "fault", content: { detail: "Not Found", reason: "Not Found" } };
    } else {
      try {
        reply = await m.route.handler(ctx);
      } catch (e) {
        if (!(e instanceof EngineFault)) throw e;
        reply = faultReply(e, m.route.action, m.route.action ? echo(ctx) : undefined);
      }
    }
    // DELETE and other performAction calls answer 202 when asked (?async=true, Expect: 202-accepted)
    const expect = String(req.headers["expect"] ?? req.headers["x-ovirt-expect"] ?? "").toLowerCase();
    if (method === "DELETE" && reply.status === 200 && (query.get("async") === "true" || expect.includes("202-accepted"))) reply = { ...reply, status: 202 };
    // a transport rule matched at an operation point: the command ran, its answer is lost or late (faultInjection.ts)
    const lost = ctx.faults.answerFault;
    if (lost && (await injectTransport(req, res, lost.delayMs, lost.kind === "delay" ? undefined : lost, finish))) return;
    finish(this.send(res, reply, headers, method, path), reply);
  }

  /**
   * Wire conformance of a request body (xml/wireCheck.ts). An unknown element is refused as the engine refuses it:
   * JAXBProvider.readFrom unmarshals with JAXBValidationEventHandler, which stops at JAXB's "unexpected element"
   * error; the IOException goes to IOExceptionMapper, whose UsageFinder answers 400 with the fault reason "Request
   * syntactically incorrect." (the engine's detail is a link to the API docs; here it names the element and its path).
   * Unknown attributes and enum values (which JAXB passes over) are refused only in "fail" mode.
   */
  private checkRequest(method: string, path: string, body: string): Reply | undefined {
    const wire = this.d.wire;
    if (!wire || wire.mode === "off") return undefined;
    const v = checkXml(body);
    if (v.length === 0) return undefined;
    const refuse = wire.mode === "fail" ? v : v.filter((x) => x.kind === "element");
    wire.add({ direction: "request", method, path, status: refuse.length ? 400 : undefined, violations: v });
    if (refuse.length === 0) return undefined;
    const detail = `The request body holds XML the API model does not know: ${describeViolations(refuse)}`;
    return { status: 400, root: "fault", content: { detail, reason: "Request syntactically incorrect." } };
  }

  /** Writes the reply; returns the status sent (500 when "fail" mode replaced a response the API model refuses). */
  private send(res: http.ServerResponse, reply: Reply, headers: Record<string, string>, method: string, path: string): number {
    const h = { ...headers, ...(reply.headers ?? {}) };
    if (reply.root === undefined) {
      res.writeHead(reply.status, h);
      res.end();
      return reply.status;
    }
    let status = reply.status;
    let xml = buildXml(reply.root, reply.content ?? "");
    const wire = this.d.wire;
    if (wire && wire.mode !== "off") {
      const v = checkXml(xml);
      if (v.length > 0) {
        // a simulator bug: what it writes must be what the engine's schema can write
        if (wire.mode === "fail") status = 500;
        wire.add({ direction: "response", method, path, status, violations: v });
        process.stderr.write(`simulator: wire conformance: ${method} ${path} (${reply.status}) wrote XML the API model does not know: ${describeViolations(v)}\n`);
        if (wire.mode === "fail") {
          xml = buildXml("fault", { detail: `The simulator wrote XML the API model does not know: ${describeViolations(v)} (GET /__admin/wire-violations)`, reason: "Internal Server Error" });
        }
      }
    }
    h["Content-Type"] = "application/xml;charset=UTF-8";
    h["Content-Length"] = String(Buffer.byteLength(xml));
    res.writeHead(status, h);
    res.end(method === "HEAD" ? undefined : xml);
    return status;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const a = this.server.address();
        resolve(typeof a === "object" && a ? a.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.dropConnections();
    });
  }
}

/**
 * Applies an injected transport fault: waits `delayMs`, then resets the connection or answers a bare HTML error page
 * (what a proxy in front of the engine answers, not an engine fault). Returns true when the answer was replaced.
 */
async function injectTransport(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  delayMs: number,
  terminal: TransportDecision | undefined,
  finish: (status: number) => void,
): Promise<boolean> {
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (terminal?.kind === "reset") {
    finish(0);
    req.socket.destroy();
    return true;
  }
  if (terminal?.kind === "status") {
    if (!req.readableEnded) await readBody(req).catch(() => ""); // at the front the body is still unread
    const st = terminal.status ?? 503;
    res.writeHead(st, { "Content-Type": "text/html" });
    res.end(`<html><body><h1>${st} ${http.STATUS_CODES[st] ?? ""}</h1><p>injected fault</p></body></html>`);
    finish(st);
    return true;
  }
  return false;
}

/** A bare <fault> (non-action) or the echoed <action> holding the fault (action failures). */
export function faultReply(e: EngineFault, action: boolean, echoed?: Record<string, unknown>): Reply {
  const fault = { detail: e.detail, reason: e.reason };
  if (action) return { status: e.status, root: "action", content: { ...(echoed ?? {}), fault, status: "failed" } };
  return { status: e.status, root: "fault", content: fault };
}

export { notifyJobEnd };
