// A minimal vim25 SOAP transport: envelopes, session cookie, faults, and TLS verification that is either
// the normal CA check, a pinned certificate fingerprint (SHA-256 or SHA-1), or explicitly off.
//
// Nothing here ever puts the password into an error message: every message built from a server answer is
// passed through `redact` with the secrets of the connection.

import * as tls from "node:tls";
import { Agent, buildConnector, request } from "undici";
import { XMLParser } from "fast-xml-parser";

export type VSphereErrorCode = "login" | "tls" | "connection" | "notFound" | "fault" | "timeout" | "protocol";

export class VSphereError extends Error {
  readonly code: VSphereErrorCode;
  /** vim25 fault type when the server answered a SOAP fault (e.g. "InvalidLogin"). */
  readonly faultType?: string;
  constructor(code: VSphereErrorCode, message: string, faultType?: string) {
    super(message);
    this.name = "VSphereError";
    this.code = code;
    this.faultType = faultType;
  }
}

export interface TlsOptions {
  /** Skip certificate verification entirely (like virt-v2v's `no_verify=1`). */
  insecure?: boolean;
  /** Pinned certificate fingerprint: SHA-256 (32 bytes) or SHA-1 (20 bytes), hex with or without colons. */
  fingerprint?: string;
  /** Extra CA certificates (PEM) for the normal verification. */
  caPem?: string;
}

export interface SoapEndpoint {
  /** `host` or `host:port` (default port 443). */
  host: string;
  tls?: TlsOptions;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  /** Strings never to show in an error message (the password). */
  secrets?: string[];
}

const SOAP_ACTION = "urn:vim25/6.5";

export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** Removes every form of the given secrets from a message. */
export function redact(message: string, secrets: readonly string[] | undefined): string {
  let out = message;
  for (const s of secrets ?? []) {
    if (!s) continue;
    for (const form of new Set([s, xmlEscape(s), encodeURIComponent(s)])) {
      out = out.split(form).join("***");
    }
  }
  return out;
}

/** Normalises a fingerprint to upper-case hex with colons; throws on a malformed one. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/^sha(1|256)[:=]?/i, "").replace(/[:\s-]/g, "").toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || (hex.length !== 64 && hex.length !== 40)) {
    throw new VSphereError(
      "tls",
      `certificate fingerprint "${fp}" is neither a SHA-256 (32 bytes) nor a SHA-1 (20 bytes) hex fingerprint`,
    );
  }
  return hex.match(/../g)!.join(":");
}

export function splitHostPort(hostPort: string): { hostname: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!m) throw new VSphereError("protocol", `"${hostPort}" is not a host or host:port`);
  return { hostname: m[1], port: m[2] ? Number(m[2]) : 443 };
}

/** Reads the certificate a TLS server presents, without verifying it (used to say what to pin). */
export function probeCertificate(hostPort: string, timeoutMs = 10_000): Promise<{ sha256: string; sha1: string; subject: string }> {
  const { hostname, port } = splitHostPort(hostPort);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: hostname, port, rejectUnauthorized: false, servername: isIp(hostname) ? undefined : hostname });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error("timeout")); }, timeoutMs);
    sock.once("secureConnect", () => {
      clearTimeout(timer);
      const c = sock.getPeerCertificate();
      sock.end();
      const cn = c.subject?.CN;
      resolve({ sha256: c.fingerprint256, sha1: c.fingerprint, subject: Array.isArray(cn) ? cn.join(",") : cn ?? "" });
    });
    sock.once("error", (e) => { clearTimeout(timer); reject(e); });
  });
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(":");
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Tag prefixes (soapenv:) are dropped; attribute names keep theirs, since a MoRef value carries both
  // `type="Folder"` and `xsi:type="ManagedObjectReference"`.
  removeNSPrefix: false,
  transformTagName: (t: string) => t.replace(/^[^:]+:/, ""),
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) =>
    ["returnval", "objects", "propSet", "VirtualDevice", "ManagedObjectReference", "missingSet", "device"].includes(name),
});

export type XmlNode = Record<string, any>;

/** The `xsi:type` of a node without its namespace prefix ("VirtualDisk"), or "". */
export function xsiType(n: unknown): string {
  if (!n || typeof n !== "object") return "";
  // The prefix varies: "xsi:type" from vCenter, "XMLSchema-instance:type" from Go's encoding/xml (vcsim).
  for (const [k, v] of Object.entries(n as XmlNode)) {
    if (k.startsWith("@_") && k.endsWith(":type") && typeof v === "string") return v.replace(/^[^:]+:/, "");
  }
  return "";
}

/** Text of a node that may be a plain string or `{ "#text": ..., "@_type": ... }`. */
export function text(n: unknown): string {
  if (n === undefined || n === null) return "";
  if (typeof n === "string" || typeof n === "number" || typeof n === "boolean") return String(n);
  if (typeof n === "object" && "#text" in (n as XmlNode)) return String((n as XmlNode)["#text"]);
  return "";
}

export interface MoRef {
  type: string;
  value: string;
}

export function moRef(n: unknown): MoRef | undefined {
  if (!n || typeof n !== "object") return undefined;
  const node = n as XmlNode;
  const type = node["@_type"];
  const value = text(node);
  return type && value ? { type, value } : undefined;
}

export function refXml(tag: string, r: MoRef): string {
  return `<${tag} type="${xmlEscape(r.type)}">${xmlEscape(r.value)}</${tag}>`;
}

/** One SOAP conversation with a vCenter/ESXi `/sdk` endpoint (keeps the session cookie). */
export class SoapSession {
  readonly endpoint: SoapEndpoint;
  readonly url: string;
  private readonly dispatcher: Agent;
  private cookie: string | undefined;

  constructor(endpoint: SoapEndpoint) {
    this.endpoint = endpoint;
    const { hostname, port } = splitHostPort(endpoint.host);
    this.url = `https://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/sdk`;
    const t = endpoint.tls ?? {};
    const pinned = t.fingerprint ? normalizeFingerprint(t.fingerprint) : undefined;
    const verify = !t.insecure && !pinned;
    const base = buildConnector({
      rejectUnauthorized: verify,
      ca: verify && t.caPem ? [...tls.rootCertificates, t.caPem] : undefined,
      maxCachedSessions: 0,
      timeout: endpoint.timeoutMs ?? 60_000,
    });
    const hostLabel = `${hostname}:${port}`;
    const connect: buildConnector.connector = (opts, cb) => {
      base(opts, (err, socket) => {
        if (err) return cb(err, null);
        if (pinned && socket) {
          const cert = (socket as tls.TLSSocket).getPeerCertificate();
          const got = pinned.length > 60 ? cert.fingerprint256 : cert.fingerprint;
          if (!got || got.toUpperCase() !== pinned) {
            socket.destroy();
            return cb(
              new VSphereError(
                "tls",
                `the certificate of ${hostLabel} does not match the pinned fingerprint: expected ${pinned}, got ${got ?? "none"}` +
                  ` (SHA-256 of the presented certificate: ${cert.fingerprint256})`,
              ),
              null,
            );
          }
        }
        cb(null, socket!);
      });
    };
    this.dispatcher = new Agent({ connect, connections: 4, keepAliveTimeout: 10_000 });
  }

  get hostLabel(): string {
    const { hostname, port } = splitHostPort(this.endpoint.host);
    return `${hostname}:${port}`;
  }

  /** Calls a vim25 method; `body` is the inner XML of the method element (starting with `<_this>`). */
  async call(method: string, body: string): Promise<XmlNode> {
    const envelope =
      `<?xml version="1.0" encoding="UTF-8"?>` +
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
      `<soapenv:Body><${method} xmlns="urn:vim25">${body}</${method}></soapenv:Body></soapenv:Envelope>`;
    const headers: Record<string, string> = { "content-type": "text/xml; charset=utf-8", soapaction: SOAP_ACTION };
    if (this.cookie) headers.cookie = this.cookie;
    let res;
    try {
      res = await request(this.url, {
        method: "POST",
        body: envelope,
        headers,
        dispatcher: this.dispatcher,
        headersTimeout: this.endpoint.timeoutMs ?? 60_000,
        bodyTimeout: this.endpoint.timeoutMs ?? 60_000,
      });
    } catch (e) {
      throw this.transportError(e);
    }
    const setCookie = res.headers["set-cookie"];
    if (setCookie) {
      const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
      this.cookie = first.split(";")[0];
    }
    const raw = await res.body.text();
    let doc: XmlNode;
    try {
      doc = parser.parse(raw);
    } catch {
      throw new VSphereError("protocol", `${this.hostLabel} answered ${method} with HTTP ${res.statusCode} and a body that is not XML`);
    }
    const bodyNode = doc?.Envelope?.Body;
    if (!bodyNode) {
      throw new VSphereError("protocol", `${this.hostLabel} answered ${method} with HTTP ${res.statusCode} and no SOAP body (is this a vCenter /sdk endpoint?)`);
    }
    if (bodyNode.Fault) {
      const f = bodyNode.Fault;
      const detail = f.detail && typeof f.detail === "object" ? f.detail : {};
      const faultKey = Object.keys(detail).find((k) => !k.startsWith("@_") && k !== "#text");
      const faultNode = faultKey ? detail[faultKey] : undefined;
      const faultType = xsiType(faultNode) || faultKey?.replace(/Fault$/, "") || "";
      const msg = redact(text(f.faultstring) || faultType || "unknown fault", this.endpoint.secrets);
      throw new VSphereError("fault", `${method} failed on ${this.hostLabel}: ${msg}${faultType ? ` (${faultType})` : ""}`, faultType);
    }
    const resp = bodyNode[`${method}Response`];
    if (resp === undefined) {
      throw new VSphereError("protocol", `${this.hostLabel} answered ${method} without a ${method}Response`);
    }
    return typeof resp === "object" ? resp : {};
  }

  private transportError(e: unknown): VSphereError {
    if (e instanceof VSphereError) return e;
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const cause = err.cause ?? err;
    const code = cause.code ?? err.code ?? "";
    const msg = redact(String(cause.message ?? err.message ?? e), this.endpoint.secrets);
    if (cause instanceof VSphereError) return cause;
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code) || /certificate/i.test(msg)) {
      return new VSphereError("tls", `the certificate of ${this.hostLabel} is not trusted (${code || msg})`);
    }
    if (/TIMEOUT/i.test(code)) return new VSphereError("timeout", `${this.hostLabel} did not answer in time (${code})`);
    return new VSphereError("connection", `cannot reach vCenter ${this.hostLabel}: ${code ? `${code} ` : ""}${msg}`);
  }

  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }
}

export { parser as soapParser };
