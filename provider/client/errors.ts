/** Errors raised by the engine client. Messages never contain the password (see `redact`). */

export class EngineError extends Error {
  /** HTTP status (0 when the request never got an answer). */
  readonly status: number;
  /** `<fault><reason>` (e.g. "Operation Failed"). */
  readonly reason: string;
  /** `<fault><detail>` (e.g. "[Cannot export VM. At least one of the VMs is not down.]"). */
  readonly detail: string;
  readonly method: string;
  readonly path: string;
  readonly correlationId?: string;
  constructor(opts: {
    status: number;
    reason: string;
    detail?: string;
    method: string;
    path: string;
    correlationId?: string;
    message?: string;
  }) {
    const detail = opts.detail ?? "";
    super(
      opts.message ??
        `engine answered ${opts.status} to ${opts.method} ${opts.path}: ${opts.reason}${detail ? ` ${detail}` : ""}`,
    );
    this.name = "EngineError";
    this.status = opts.status;
    this.reason = opts.reason;
    this.detail = detail;
    this.method = opts.method;
    this.path = opts.path;
    this.correlationId = opts.correlationId;
  }
  /** The detail without the Java list brackets, e.g. "Cannot export VM. ...". */
  get text(): string {
    const d = this.detail.trim();
    return d.startsWith("[") && d.endsWith("]") ? d.slice(1, -1) : d || this.reason;
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/**
 * The request may or may not have reached the engine (connection reset, 502/503/504 on a non-idempotent request).
 * Callers that can look for the effect (by correlation id, job or entity state) do so before trying again.
 */
export class EngineUnavailableError extends Error {
  readonly ambiguous: boolean;
  readonly method: string;
  readonly path: string;
  readonly code?: string;
  readonly status: number;
  constructor(opts: { method: string; path: string; code?: string; status?: number; message: string; ambiguous: boolean }) {
    super(opts.message);
    this.name = "EngineUnavailableError";
    this.ambiguous = opts.ambiguous;
    this.method = opts.method;
    this.path = opts.path;
    this.code = opts.code;
    this.status = opts.status ?? 0;
  }
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthenticationError";
  }
}

export class TlsVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsVerificationError";
  }
}

/**
 * A name that matches several engine entities where one was meant, e.g. the bare user name `jdoe` with users
 * `jdoe@a-authz` and `jdoe@b-authz`. `matches` lists every candidate as the user should write it.
 */
export class AmbiguousLookupError extends Error {
  /** What was looked up: "user" or "group". */
  readonly what: "user" | "group";
  /** The name as given. */
  readonly given: string;
  /** Every entity it matched, as it can be written unambiguously (`jdoe@a-authz`). */
  readonly matches: string[];
  constructor(what: "user" | "group", given: string, matches: string[], engine?: string) {
    super(
      `${what} "${given}" matches ${matches.length} ${what}s${engine ? ` in engine ${engine}` : ""}: ${matches.join(", ")}; ` +
        `write the ${what} as ${what}@domain (e.g. "${matches[0]}") to pick one`,
    );
    this.name = "AmbiguousLookupError";
    this.what = what;
    this.given = given;
    this.matches = matches;
  }
}

/**
 * The engine URL cannot be used as given (plain http:// without `allowHttp`, not a URL, another scheme). The
 * message starts with `engine.url:`, the argument to fix.
 */
export class EngineUrlError extends Error {
  readonly property = "engine.url";
  constructor(message: string) {
    super(message.startsWith("engine.url:") ? message : `engine.url: ${message}`);
    this.name = "EngineUrlError";
  }
}

/** Replaces every occurrence of the secrets in `text` by `***`. */
export function redact(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 2) continue;
    out = out.split(s).join("***");
    const enc = encodeURIComponent(s);
    if (enc !== s) out = out.split(enc).join("***");
  }
  return out;
}
