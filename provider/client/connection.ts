/**
 * The connection to one engine, like the Python SDK's `Connection` (ovirtsdk4/__init__.py): one keep-alive undici
 * Pool per engine (url + user), the SSO password grant and the token's renewal on 401, the logout (token revoke),
 * request timeouts, retries with backoff for safe requests only, and transport failures as typed errors.
 *
 * It answers HTTP responses as they came; what an engine answer >= 400 means is `faults.ts`, and the verbs the
 * collection services use (get, list, add, update, action, remove) are `http.ts`.
 */
import { randomUUID, createHash } from "node:crypto";
import * as fs from "node:fs";
import { Pool } from "undici";
import { sleep } from "../../lib/sleep";
import { EngineUnavailableError, EngineUrlError, AuthenticationError, TlsVerificationError, redact } from "./errors";

export interface EngineConnectionOptions {
  /** `https://engine.example.com/ovirt-engine/api` */
  url: string;
  /** e.g. `admin@internal` */
  username: string;
  password: string;
  /** PEM file of the engine CA. */
  caFile?: string;
  /** PEM text of the engine CA. */
  caPem?: string;
  /** Skip TLS verification (explicit opt-in only). */
  insecure?: boolean;
  /**
   * Accept a plain `http://` URL (explicit opt-in only): the SSO password grant and every token then travel in
   * clear text. Without it such a URL is refused (`EngineUrlError`).
   */
  allowHttp?: boolean;
  /**
   * Per-request timeout for headers/body (ms); default: env `OVIRT_MIGRATE_REQUEST_TIMEOUT_MS`, else 120000. A
   * non-idempotent request that runs into it raises `EngineUnavailableError{ambiguous: true, code:
   * "UND_ERR_HEADERS_TIMEOUT"}`: the engine may still be working on it (its synchronous storage commands take
   * minutes at times), so callers read the entity's state instead of failing or resending.
   */
  requestTimeoutMs?: number;
  /** Retries for safe requests; default 8 (about 20 s of backoff in all). */
  maxRetries?: number;
}

export interface RequestOptions {
  method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  /** Path below the API root (`/vms/123`) or absolute (`/ovirt-engine/...`). */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: string;
  /** Safe to repeat (GET/HEAD always are). Non-idempotent requests are never retried. */
  idempotent?: boolean;
  correlationId?: string;
  headers?: Record<string, string>;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
/** undici's codes for a request that got no (complete) answer in time: it reached the engine. */
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The default request timeout: env OVIRT_MIGRATE_REQUEST_TIMEOUT_MS (a positive number of ms), else 120 s. */
export function defaultRequestTimeoutMs(): number {
  const v = Number(process.env.OVIRT_MIGRATE_REQUEST_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 120_000;
}
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

function errCode(e: any): string | undefined {
  return e?.code ?? e?.cause?.code ?? e?.cause?.cause?.code;
}

export function newCorrelationId(): string {
  return randomUUID();
}

/** A UUID derived from the given parts (stable across runs): lets an interrupted attempt be found again. */
export function stableCorrelationId(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Counters for tests and the benchmark. */
export interface HttpStats {
  requests: number;
  retries: number;
  tokenFetches: number;
  /** SSO tokens revoked (`/ovirt-engine/services/sso-logout` answered without error). */
  revokes: number;
}

/**
 * Refuses an engine URL that is not https:// unless the caller opted in to plain HTTP (`allowHttp: true`): the SSO
 * password grant would go over the wire in clear text.
 */
export function checkEngineUrl(o: Pick<EngineConnectionOptions, "url" | "allowHttp">): URL {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new EngineUrlError(`engine.url: ${JSON.stringify(o.url)} is not a URL; expected https://engine.example.com/ovirt-engine/api`);
  }
  if (u.protocol === "https:") return u;
  if (u.protocol === "http:") {
    if (o.allowHttp === true) return u;
    throw new EngineUrlError(
      `engine.url: ${u.origin} is plain http://: the SSO password grant (user name and password) and the access ` +
        `token would go over the wire in clear text. Use https://, or set engine.allowHttp: true (stack config ` +
        `<namespace>:allowHttp) to accept that explicitly.`,
    );
  }
  throw new EngineUrlError(`engine.url: scheme ${u.protocol} is not supported; use https://engine.example.com/ovirt-engine/api`);
}

/** Resolves with `p`, or with `fallback` after `ms` (the work itself goes on; callers stop waiting for it). */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<T>((resolve) => {
    t = setTimeout(() => resolve(fallback), ms);
    t.unref?.();
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

export class EngineConnection {
  readonly url: string;
  readonly origin: string;
  readonly apiPath: string;
  readonly username: string;
  private password: string;
  private readonly pool: Pool;
  private token?: string;
  private tokenPromise?: Promise<string>;
  private readonly maxRetries: number;
  /** headers/body timeout of every request (ms) */
  readonly timeoutMs: number;
  readonly stats: HttpStats = { requests: 0, retries: 0, tokenFetches: 0, revokes: 0 };

  constructor(opts: EngineConnectionOptions) {
    const u = checkEngineUrl(opts);
    this.url = opts.url.replace(/\/+$/, "");
    this.origin = u.origin;
    this.apiPath = u.pathname.replace(/\/+$/, "") || "/ovirt-engine/api";
    this.username = opts.username;
    this.password = opts.password;
    this.maxRetries = opts.maxRetries ?? 8;
    let ca: string | undefined = opts.caPem;
    if (!ca && opts.caFile) {
      try {
        ca = fs.readFileSync(opts.caFile, "utf8");
      } catch (e: any) {
        throw new TlsVerificationError(`engine.caFile: cannot read ${opts.caFile} (${e?.code ?? e?.message})`);
      }
    }
    if (u.protocol === "https:" && ca !== undefined && !/-----BEGIN CERTIFICATE-----/.test(ca)) {
      throw new TlsVerificationError(
        `engine.${opts.caPem ? "caPem" : "caFile"}: not a PEM certificate (expected "-----BEGIN CERTIFICATE-----")`,
      );
    }
    const timeout = opts.requestTimeoutMs ?? defaultRequestTimeoutMs();
    this.timeoutMs = timeout;
    this.pool = new Pool(this.origin, {
      connections: 16,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: u.protocol === "https:" ? { ca, rejectUnauthorized: !opts.insecure } : undefined,
    });
  }

  setPassword(password: string): void {
    if (password !== this.password) {
      this.password = password;
      this.token = undefined;
    }
  }

  /** `s` with the password replaced by `***` (every message built from a request or an answer goes through it). */
  redact(s: string): string {
    return redact(s, [this.password]);
  }

  /**
   * Closes the pool: waits up to `timeoutMs` for requests in flight, then drops the connections. Does not revoke
   * the token (`revokeToken`, or `closeAllEngines` which does both).
   */
  async close(timeoutMs = 5000): Promise<void> {
    const closed = await within(
      this.pool.close().then(() => true, () => true),
      timeoutMs,
      false,
    );
    if (!closed) await this.pool.destroy().catch(() => undefined);
  }

  /**
   * Revokes the SSO token like the Python SDK's `Connection.close()` (`_revoke_access_token`): `POST
   * /ovirt-engine/services/sso-logout` with the form `scope=ovirt-app-api&token=<token>`, JSON answer, an `error`
   * member meaning it failed. Best effort and bounded by `timeoutMs`: never throws, never retries. Answers true
   * when the engine confirmed it (counted in `stats.revokes`). The token is forgotten either way.
   */
  async revokeToken(timeoutMs = 1000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let token = this.token;
    if (!token && this.tokenPromise) {
      token = await within(this.tokenPromise.catch(() => undefined), timeoutMs, undefined);
    }
    this.token = undefined;
    if (!token) return false;
    const left = Math.max(1, deadline - Date.now());
    const form = new URLSearchParams({ scope: "ovirt-app-api", token }).toString();
    this.stats.requests++;
    try {
      const r = await this.pool.request({
        method: "POST",
        path: this.ssoPath("/services/sso-logout"),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "user-agent": "pulumi-ovirt-migrate/0.1",
        },
        body: form,
        signal: AbortSignal.timeout(left),
      });
      const text = await r.body.text();
      if (r.statusCode >= 400) return false;
      let json: any = {};
      try {
        json = text.trim() ? JSON.parse(text) : {};
      } catch {
        // the engine may answer the logout with a redirect or HTML: the token is gone all the same
      }
      if (Array.isArray(json)) json = json[0] ?? {};
      if (json && typeof json === "object" && json.error) return false;
      this.stats.revokes++;
      return true;
    } catch {
      return false;
    }
  }

  private ssoPath(suffix: string): string {
    const base = this.apiPath.replace(/\/api$/, "");
    return `${base}${suffix}`;
  }

  private async fetchToken(): Promise<string> {
    this.stats.tokenFetches++;
    const form = new URLSearchParams({
      grant_type: "password",
      scope: "ovirt-app-api",
      username: this.username,
      password: this.password,
    }).toString();
    const path = this.ssoPath("/sso/oauth/token");
    const res = await this.raw({
      method: "POST",
      path,
      body: form,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    }, true);
    let json: any;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new AuthenticationError(
        `SSO login to ${this.origin} as ${this.username} failed: HTTP ${res.status}, not a JSON answer`,
      );
    }
    if (json && typeof json.access_token === "string" && !json.error) return json.access_token;
    const why = json?.error_description ?? json?.error ?? `HTTP ${res.status}`;
    throw new AuthenticationError(
      this.redact(
        `SSO login to ${this.origin} as ${this.username} failed: ${why}. Check engine.username / engine.password ` +
          `(stack config ovirt:username, ovirt:password).`,
      ),
    );
  }

  private async getToken(renew = false): Promise<string> {
    if (renew) this.token = undefined;
    if (this.token) return this.token;
    if (!this.tokenPromise) {
      this.tokenPromise = this.fetchToken()
        .then((t) => {
          this.token = t;
          return t;
        })
        .finally(() => {
          this.tokenPromise = undefined;
        });
    }
    return this.tokenPromise;
  }

  /** One HTTP exchange with retries for safe requests; maps transport failures to typed errors. */
  private async raw(opts: RequestOptions, idempotent: boolean): Promise<Response> {
    let attempt = 0;
    let delay = 150;
    const qs = opts.query
      ? Object.entries(opts.query)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join("&")
      : "";
    const path = (opts.path.startsWith("/ovirt-engine") ? opts.path : this.apiPath + opts.path) + (qs ? `?${qs}` : "");
    // Only safe requests are repeated: wait with jittered exponential backoff and say whether to try again.
    const retryable = async (): Promise<boolean> => {
      if (!idempotent || attempt > this.maxRetries) return false;
      this.stats.retries++;
      await sleep(delay + Math.random() * delay * 0.3);
      delay = Math.min(delay * 2, 3000);
      return true;
    };
    for (;;) {
      attempt++;
      this.stats.requests++;
      try {
        const r = await this.pool.request({
          method: opts.method,
          path,
          headers: opts.headers,
          body: opts.body,
        });
        const body = await r.body.text();
        const res: Response = { status: r.statusCode, headers: r.headers as any, body };
        if (RETRY_STATUSES.has(res.status)) {
          if (await retryable()) continue;
          throw new EngineUnavailableError({
            method: opts.method,
            path: this.publicPath(path),
            status: res.status,
            ambiguous: !idempotent,
            message: `engine answered HTTP ${res.status} to ${opts.method} ${this.publicPath(path)}${
              idempotent ? ` after ${attempt} attempts` : " (not retried: the request is not safe to repeat)"
            }`,
          });
        }
        return res;
      } catch (e: any) {
        if (e instanceof EngineUnavailableError) throw e;
        const code = errCode(e);
        if (code && TLS_CODES.has(code)) {
          throw new TlsVerificationError(
            `TLS verification of ${this.origin} failed (${code}): the engine certificate is not signed by the ` +
              `configured CA. Set engine.caFile (stack config ovirt:caFile) to the engine CA, fetched from ` +
              `${this.origin}/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA, ` +
              `or set engine.insecure: true to skip verification (not recommended).`,
          );
        }
        if ((code && NETWORK_CODES.has(code)) || e?.name === "SocketError") {
          if (await retryable()) continue;
          if (code && TIMEOUT_CODES.has(code)) {
            throw new EngineUnavailableError({
              method: opts.method,
              path: this.publicPath(path),
              code,
              ambiguous: !idempotent,
              message: this.redact(
                `no answer from the engine at ${this.origin} within ${Math.round(this.timeoutMs / 1000)} s for ${opts.method} ${this.publicPath(path)}` +
                  (idempotent ? ` after ${attempt} attempts` : " (the engine may still be working on it)"),
              ),
            });
          }
          throw new EngineUnavailableError({
            method: opts.method,
            path: this.publicPath(path),
            code,
            ambiguous: !idempotent && code !== "ECONNREFUSED",
            message: this.redact(
              `cannot reach the engine at ${this.origin} (${code ?? e?.message}) for ${opts.method} ${this.publicPath(path)}${
                idempotent ? ` after ${attempt} attempts` : ""
              }`,
            ),
          });
        }
        const msg = this.redact(String(e?.message ?? e));
        throw new EngineUnavailableError({
          method: opts.method,
          path: this.publicPath(path),
          code,
          ambiguous: !idempotent,
          message: `request ${opts.method} ${this.publicPath(path)} to ${this.origin} failed: ${msg}`,
        });
      }
    }
  }

  private publicPath(p: string): string {
    return this.redact(p);
  }

  /**
   * One authenticated exchange (the Python SDK's `Connection.send`): bearer token (an SSO login first when there is
   * none), `Version: 4`, XML accept, the request's correlation id; on a 401 one new SSO login and the request once
   * more (the token expired or was revoked). Answers every HTTP status as it came: what an answer >= 400 means is
   * `faults.ts`. Transport failures throw (typed: `EngineUnavailableError`, `TlsVerificationError`).
   */
  async send(opts: RequestOptions): Promise<Response> {
    const idempotent = opts.idempotent ?? (opts.method === "GET" || opts.method === "HEAD");
    let renewed = false;
    for (;;) {
      const token = await this.getToken();
      const headers: Record<string, string> = {
        version: "4",
        accept: "application/xml",
        authorization: `Bearer ${token}`,
        "user-agent": "pulumi-ovirt-migrate/0.1",
        ...(opts.body !== undefined ? { "content-type": "application/xml" } : {}),
        ...(opts.correlationId ? { "correlation-id": opts.correlationId } : {}),
        ...(opts.headers ?? {}),
      };
      const res = await this.raw({ ...opts, headers }, idempotent);
      if (res.status === 401 && !renewed) {
        renewed = true;
        await this.getToken(true);
        continue;
      }
      return res;
    }
  }
}
