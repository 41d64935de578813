/**
 * The serialized dynamic provider. Pulumi stores the provider's code in the state (`__provider`, in the inputs and
 * again in the outputs of every resource); the dynamic-provider host evaluates it as a module and calls its
 * `handler()` (@pulumi/pulumi cmd/dynamic-provider `getProvider`, cached per distinct text). Ours holds ONLY the kind
 * string and the absolute path of `dist/provider/index.js`, and `require`s the real implementation (falling back to
 * the installed package `pulumi-ovirt-migrate/dist/provider`). No client, module or secret is in it, and the code that
 * runs is always current.
 *
 * The module is written by hand (about 200 characters). Pulumi's closure serialization of the same shim as an object
 * (what `pulumi.dynamic.Resource` stores) took about 2,400: with two copies per resource, that was half of a VmImport's
 * state, and the CLI rewrites the whole state file when each step starts and when it ends (Pulumi's file backend
 * saves the whole snapshot at every mutation), so the state's size is paid twice per resource of a `pulumi up`.
 */
import * as path from "node:path";

/** Absolute path of the provider entry point next to this SDK (dist/sdk -> dist/provider/index.js). */
export function providerModulePath(): string {
  return path.resolve(__dirname, "..", "provider", "index.js");
}

/** The `__provider` text of one resource kind: a module whose `handler()` answers the real provider of that kind. */
export function providerSource(kind: string, modulePath: string = providerModulePath()): string {
  // compact on purpose: it is stored twice per resource (see above)
  return (
    `exports.handler=function(){var m;try{m=require(${JSON.stringify(modulePath)})}` +
    `catch(e){if(!e||e.code!=="MODULE_NOT_FOUND")throw e;m=require("pulumi-ovirt-migrate/dist/provider")}` +
    `return m.getProvider(${JSON.stringify(kind)})}`
  );
}
