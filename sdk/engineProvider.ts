/**
 * The explicit provider a `Migration` declares for its children: Pulumi's dynamic-provider host (`pulumi-nodejs`)
 * configured with the migration's engine connections, held once, as one secret, in this provider's state.
 *
 * The children name an engine by reference (`engine: { providerEngine: "target" }`) instead of each holding the
 * connection: a dynamic provider's `delete` sees only the resource's own outputs, so without this every export and
 * import recorded the connection twice (inputs and outputs) as ciphertext, which the CLI rewrites at every checkpoint
 * of a run. The provider side is `provider/engineRefs.ts`.
 *
 * A password rotated in the stack config changes this provider's inputs only: the dynamic-provider host has no
 * `DiffConfig`, so the CLI updates the provider in place (no replacement of it or of its resources), and the next
 * hook of each child uses the new password.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EngineConnection } from "./connection";

/** A reference to one of the engines of the provider a resource is managed by. */
export interface EngineRef {
  providerEngine: string;
}

export function engineRef(name: string): EngineRef {
  return { providerEngine: name };
}

export function isEngineRef(v: unknown): v is EngineRef {
  return !!v && typeof v === "object" && !pulumi.Output.isInstance(v) && typeof (v as any).providerEngine === "string";
}

export class EngineProvider extends pulumi.ProviderResource {
  constructor(name: string, engines: Record<string, EngineConnection>, opts?: pulumi.ResourceOptions) {
    super("pulumi-nodejs", name, { engines: pulumi.secret(engines) }, opts);
  }
}
