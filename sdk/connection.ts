import * as pulumi from "@pulumi/pulumi";
import { isEngineRef } from "./engineProvider";

/**
 * How to reach one oVirt / RHV engine. Every field falls back to the stack config of the namespace given to
 * `resolveEngine` (default `ovirt`): `ovirt:url`, `ovirt:username`, `ovirt:password` (secret), `ovirt:caFile`,
 * `ovirt:caPem`, `ovirt:insecure`, `ovirt:allowHttp`, `ovirt:engineId`. Use a second namespace
 * (`engineFromConfig("engineB")` reads `engineB:url` ...) or explicit values for a second engine.
 *
 * Credentials never cross engines: a connection resolved for one namespace is passed through as it is (never
 * completed from `ovirt:*`), and explicit args naming another URL than the namespace's `url` take nothing else
 * (password, user, CA, ...) from that namespace.
 */
export interface EngineConnectionArgs {
  /** API URL, e.g. `https://engine.example.com/ovirt-engine/api`. */
  url?: pulumi.Input<string>;
  /** User with its profile, e.g. `admin@internal` (default `admin@internal`). */
  username?: pulumi.Input<string>;
  /** Password; always stored as a Pulumi secret. */
  password?: pulumi.Input<string>;
  /** PEM file of the engine CA (from `/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA`). */
  caFile?: pulumi.Input<string>;
  /** PEM text of the engine CA (instead of caFile). */
  caPem?: pulumi.Input<string>;
  /** Skip TLS verification. Explicit opt-in only; never the default. */
  insecure?: pulumi.Input<boolean>;
  /**
   * Accept a plain `http://` URL: the SSO password grant then goes over the wire in clear text. Explicit opt-in
   * only (config `<ns>:allowHttp`); without it an http:// URL fails at preview.
   */
  allowHttp?: pulumi.Input<boolean>;
  /**
   * A stable identity of this engine that you declare (config `<ns>:engineId`), e.g. `rhv-prod-a`. It decides
   * "same engine or another one" instead of the URL, so a new host name or alias of the same engine is not taken
   * for another engine (and the other way round).
   */
  id?: pulumi.Input<string>;
}

/** The resolved connection passed to the provider (password secret). */
export interface EngineConnection {
  url: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  caFile?: pulumi.Input<string>;
  caPem?: pulumi.Input<string>;
  insecure?: pulumi.Input<boolean>;
  allowHttp?: pulumi.Input<boolean>;
  id?: pulumi.Input<string>;
}

/** Marks a connection `resolveEngine` made (not enumerable: never sent to the provider). */
const RESOLVED = Symbol.for("pulumi-ovirt-migrate.resolvedEngine");

/** The namespace a connection was resolved for, if it was (`ovirt`, `engineB`, ...). */
export function resolvedNamespace(c: unknown): string | undefined {
  return c && typeof c === "object" ? ((c as any)[RESOLVED] as string | undefined) : undefined;
}

function normUrl(u: string): string {
  try {
    const x = new URL(u);
    const port = x.port && !((x.protocol === "https:" && x.port === "443") || (x.protocol === "http:" && x.port === "80")) ? `:${x.port}` : "";
    return `${x.protocol}//${x.hostname.toLowerCase()}${port}${x.pathname.replace(/\/+$/, "")}`;
  } catch {
    return u.replace(/\/+$/, "");
  }
}

/**
 * Args win over stack config of `namespace`. The password is wrapped in `pulumi.secret`. Missing values stay
 * undefined: the provider's `check` then names the missing field during `pulumi preview`.
 *
 * - A connection already resolved (by `resolveEngine` / `engineFromConfig`, for any namespace) is answered as it is:
 *   a resource given `engineFromConfig("engineB")` never completes it from `ovirt:*`.
 * - Explicit args whose `url` differs from the namespace's `url` are another engine: nothing else is taken from the
 *   namespace (no password, user, CA, insecure, allowHttp or engineId of the other engine).
 */
export function resolveEngine(args?: EngineConnectionArgs, namespace = "ovirt"): EngineConnection {
  if (resolvedNamespace(args) !== undefined) return args as EngineConnection;
  // a Migration's child names an engine of the Migration's provider (sdk/engineProvider.ts): passed as it is
  if (isEngineRef(args)) return args as unknown as EngineConnection;
  const cfg = new pulumi.Config(namespace);
  const cfgUrl = cfg.get("url");
  const otherEngine = typeof args?.url === "string" && cfgUrl !== undefined && normUrl(args.url) !== normUrl(cfgUrl);
  // the namespace's values only for the namespace's own engine
  const fromCfg = <T>(read: () => T | undefined): T | undefined => (otherEngine ? undefined : read());
  const password = args?.password ?? fromCfg(() => cfg.getSecret("password"));
  const out: EngineConnection = {
    url: (args?.url ?? cfgUrl) as pulumi.Input<string>,
    username: args?.username ?? fromCfg(() => cfg.get("username")) ?? "admin@internal",
    password: (password === undefined ? undefined : pulumi.secret(password)) as pulumi.Input<string>,
  };
  const caFile = args?.caFile ?? fromCfg(() => cfg.get("caFile"));
  const caPem = args?.caPem ?? fromCfg(() => cfg.get("caPem"));
  const insecure = args?.insecure ?? fromCfg(() => cfg.getBoolean("insecure"));
  const allowHttp = args?.allowHttp ?? fromCfg(() => cfg.getBoolean("allowHttp"));
  const id = args?.id ?? fromCfg(() => cfg.get("engineId"));
  if (caFile !== undefined) out.caFile = caFile;
  if (caPem !== undefined) out.caPem = caPem;
  if (insecure !== undefined) out.insecure = insecure;
  if (allowHttp !== undefined) out.allowHttp = allowHttp;
  if (id !== undefined) out.id = id;
  Object.defineProperty(out, RESOLVED, { value: namespace, enumerable: false });
  return out;
}

/**
 * The connection as ONE secret value, for the children a component declares: `pulumi preview --diff` prints
 * `engine: [secret]` instead of the same connection block (URL, user, CA file) under each of its 2N+3 resources;
 * the component's plan names the engines once. Resolved like `resolveEngine` (and answered as it is by it).
 */
export function hideEngine(args?: EngineConnectionArgs, namespace = "ovirt"): EngineConnection {
  const resolved = resolveEngine(args, namespace);
  const hidden = pulumi.secret(resolved) as unknown as EngineConnection;
  Object.defineProperty(hidden, RESOLVED, { value: resolvedNamespace(resolved) ?? namespace, enumerable: false });
  return hidden;
}

/**
 * A named engine for programs with several engines: `engineFromConfig("engineB")` reads `engineB:url`,
 * `engineB:password`, ... and only those: nothing falls back to `ovirt:*`. Pass the result as `engine` (or
 * `target.engine`) of any resource; it is used as it is.
 */
export function engineFromConfig(namespace: string, overrides?: EngineConnectionArgs): EngineConnection {
  return resolveEngine(overrides, namespace);
}
