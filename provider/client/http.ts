/**
 * The verbs the collection services use (`services/*.ts`), like the Python SDK's `Service._internal_get`, `_add`,
 * `_update`, `_remove` and `_internal_action` (ovirtsdk4/service.py): XML in and out, a correlation id on every
 * change, answers >= 400 as typed errors (`faults.ts`). Built on the connection (`connection.ts`: SSO, transport,
 * retries, timeouts).
 *
 * Also the registry of connections: one `EngineHttp` (one pool, one SSO token) per engine, user and CA in a process,
 * and `closeAllEngines`, which logs every one of them out when the provider process ends.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { EngineConnection, EngineConnectionOptions, RequestOptions, Response, checkEngineUrl, newCorrelationId } from "./connection";
import { EngineError } from "./errors";
import { actionResult, responseError } from "./faults";
import { Action } from "./types";
import { readCollection, readEntity, writeXml } from "./xml";

/** One engine connection with the verbs of the API. */
export class EngineHttp extends EngineConnection {
  /**
   * An authenticated API request; answers >= 400 become errors (`faults.ts`). Every request that may change
   * something carries a correlation id (a new one unless given), so its job and events can be found again.
   */
  async request(opts: RequestOptions): Promise<Response> {
    const correlationId = opts.correlationId ?? (opts.method === "GET" || opts.method === "HEAD" ? undefined : newCorrelationId());
    const res = await this.send({ ...opts, correlationId });
    if (res.status >= 400) {
      throw responseError(res, { method: opts.method, path: opts.path, correlationId }, { origin: this.origin, username: this.username, redact: (s) => this.redact(s) });
    }
    return res;
  }

  async get<T extends z.ZodTypeAny>(path: string, root: string, schema: T, query?: RequestOptions["query"]): Promise<z.infer<T>> {
    const res = await this.request({ method: "GET", path, query });
    return readEntity(res.body, root, schema);
  }

  /** GET that answers `undefined` on 404. */
  async getOptional<T extends z.ZodTypeAny>(
    path: string,
    root: string,
    schema: T,
    query?: RequestOptions["query"],
  ): Promise<z.infer<T> | undefined> {
    try {
      return await this.get(path, root, schema, query);
    } catch (e) {
      if (e instanceof EngineError && e.status === 404) return undefined;
      throw e;
    }
  }

  async list<T extends z.ZodTypeAny>(
    path: string,
    collection: string,
    element: string,
    schema: T,
    query?: RequestOptions["query"],
  ): Promise<z.infer<T>[]> {
    const res = await this.request({ method: "GET", path, query });
    return readCollection(res.body, collection, element, schema);
  }

  /** POST an entity to a collection (never retried). */
  async add<T extends z.ZodTypeAny>(
    path: string,
    root: string,
    entity: Record<string, unknown>,
    schema: T,
    opts: { correlationId?: string; query?: RequestOptions["query"] } = {},
  ): Promise<z.infer<T>> {
    const res = await this.request({
      method: "POST",
      path,
      body: writeXml(root, entity),
      correlationId: opts.correlationId,
      query: opts.query,
    });
    return readEntity(res.body, root, schema);
  }

  async update<T extends z.ZodTypeAny>(
    path: string,
    root: string,
    entity: Record<string, unknown>,
    schema: T,
    opts: { correlationId?: string } = {},
  ): Promise<z.infer<T>> {
    const res = await this.request({
      method: "PUT",
      path,
      body: writeXml(root, entity),
      idempotent: true,
      correlationId: opts.correlationId,
    });
    return readEntity(res.body, root, schema);
  }

  /**
   * `POST <path>/<verb>` with an `<action>` body. A late failure answered as HTTP 200 with `status=failed` is turned
   * into an EngineError too.
   */
  async action(
    path: string,
    verb: string,
    body: Record<string, unknown>,
    opts: { correlationId?: string; query?: RequestOptions["query"] } = {},
  ): Promise<Action & { correlationId: string }> {
    const correlationId = opts.correlationId ?? newCorrelationId();
    const res = await this.request({
      method: "POST",
      path: `${path}/${verb}`,
      body: writeXml("action", body),
      correlationId,
      query: opts.query,
    });
    return { ...actionResult(res, { path: `${path}/${verb}`, correlationId }), correlationId };
  }

  /** DELETE (an entity, or a detach). Idempotent from our side: 404 means already gone and answers false. */
  async remove(path: string, opts: { correlationId?: string; query?: RequestOptions["query"] } = {}): Promise<boolean> {
    try {
      await this.request({ method: "DELETE", path, correlationId: opts.correlationId ?? newCorrelationId(), query: opts.query });
      return true;
    } catch (e) {
      if (e instanceof EngineError && e.status === 404) return false;
      throw e;
    }
  }
}

const pools = new Map<string, EngineHttp>();

function poolKey(o: EngineConnectionOptions): string {
  const ca = o.caPem ?? o.caFile ?? "";
  return `${o.url.replace(/\/+$/, "")}|${o.username}|${createHash("sha256").update(ca).digest("hex").slice(0, 12)}|${!!o.insecure}`;
}

/** The shared connection (one keep-alive pool and one SSO token) for an engine and user. */
export function engineHttp(o: EngineConnectionOptions): EngineHttp {
  // before the pool lookup: an http:// pool opened with allowHttp is not handed to a caller without it
  checkEngineUrl(o);
  const key = poolKey(o);
  let h = pools.get(key);
  if (!h) {
    h = new EngineHttp(o);
    pools.set(key, h);
  } else {
    h.setPassword(o.password);
  }
  return h;
}

/**
 * Revokes the SSO token of every engine connection (like the Python SDK's `Connection.close()`) and closes the
 * pools. Called when the provider process ends (`provider/orphanWatchdog.ts`) and by tests. Best effort, bounded:
 * the revokes run in parallel within `timeoutMs` (default 1 s), then the pools close within the same bound.
 * `revoke: false` only closes.
 */
export async function closeAllEngines(opts: { revoke?: boolean; timeoutMs?: number } = {}): Promise<{ revoked: number }> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const all = [...pools.values()];
  pools.clear();
  let revoked = 0;
  if (opts.revoke !== false) {
    const done = await Promise.all(all.map((h) => h.revokeToken(timeoutMs)));
    revoked = done.filter(Boolean).length;
  }
  await Promise.all(all.map((h) => h.close(timeoutMs)));
  return { revoked };
}
