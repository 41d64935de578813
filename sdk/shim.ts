/**
 * The serialized dynamic provider. Pulumi stores the provider's closure in the state (`__provider`); this shim
 * captures ONLY the kind string and the absolute path of `dist/provider/index.js`, and `require`s the real
 * implementation inside every hook (falling back to the installed package `pulumi-ovirt-migrate/dist/provider`).
 * No client, module or secret is captured, the state stays small, and the code that runs is always current.
 */
import * as path from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";

/** Absolute path of the provider entry point next to this SDK (dist/sdk -> dist/provider/index.js). */
export function providerModulePath(): string {
  return path.resolve(__dirname, "..", "provider", "index.js");
}

/** Builds the thin provider for one resource kind. */
export function makeProvider(kind: string, modulePath: string = providerModulePath()): dynamic.ResourceProvider {
  // Everything below is serialized: keep it free of imports and captured objects.
  const impl = (): any => {
    let m: any;
    try {
      m = require(modulePath);
    } catch (e: any) {
      if (!e || e.code !== "MODULE_NOT_FOUND") throw e;
      m = require("pulumi-ovirt-migrate/dist/provider");
    }
    return m.getProvider(kind);
  };
  return {
    check: (olds: any, news: any) => impl().check(olds, news),
    diff: (id: string, olds: any, news: any) => impl().diff(id, olds, news),
    create: (inputs: any) => impl().create(inputs),
    read: (id: string, props: any) => impl().read(id, props),
    update: (id: string, olds: any, news: any) => impl().update(id, olds, news),
    delete: (id: string, props: any) => impl().delete(id, props),
  };
}
