import * as pulumi from "@pulumi/pulumi";

/**
 * How to reach one oVirt / RHV engine. Every field falls back to the stack config of the namespace given to
 * `resolveEngine` (default `ovirt`): `ovirt:url`, `ovirt:username`, `ovirt:password` (secret), `ovirt:caFile`,
 * `ovirt:caPem`, `ovirt:insecure`. Use a second namespace (e.g. `engineB:url`) or explicit values for a second engine.
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
}

/** The resolved connection passed to the provider (password secret). */
export interface EngineConnection {
  url: pulumi.Input<string>;
  username: pulumi.Input<string>;
  password: pulumi.Input<string>;
  caFile?: pulumi.Input<string>;
  caPem?: pulumi.Input<string>;
  insecure?: pulumi.Input<boolean>;
}

/**
 * Args win over stack config of `namespace`. The password is wrapped in `pulumi.secret`. Missing values stay
 * undefined: the provider's `check` then names the missing field during `pulumi preview`.
 */
export function resolveEngine(args?: EngineConnectionArgs, namespace = "ovirt"): EngineConnection {
  const cfg = new pulumi.Config(namespace);
  const password = args?.password ?? cfg.getSecret("password");
  const insecure = args?.insecure ?? cfg.getBoolean("insecure");
  const out: EngineConnection = {
    url: (args?.url ?? cfg.get("url")) as pulumi.Input<string>,
    username: args?.username ?? cfg.get("username") ?? "admin@internal",
    password: (password === undefined ? undefined : pulumi.secret(password)) as pulumi.Input<string>,
  };
  const caFile = args?.caFile ?? cfg.get("caFile");
  const caPem = args?.caPem ?? cfg.get("caPem");
  if (caFile !== undefined) out.caFile = caFile;
  if (caPem !== undefined) out.caPem = caPem;
  if (insecure !== undefined) out.insecure = insecure;
  return out;
}

/** A named engine for programs with several engines: `engine("engineB")` reads `engineB:url` etc. */
export function engineFromConfig(namespace: string, overrides?: EngineConnectionArgs): EngineConnection {
  return resolveEngine(overrides, namespace);
}
