import * as pulumi from "@pulumi/pulumi";
import { makeProvider } from "./shim";

/** Resource type token: `pulumi-nodejs:dynamic/ovirt:<Kind>`. */
export function typeToken(kind: string): string {
  return `pulumi-nodejs:dynamic/ovirt:${kind}`;
}

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();
export function providerFor(kind: string): pulumi.dynamic.ResourceProvider {
  let p = providers.get(kind);
  if (!p) {
    p = makeProvider(kind);
    providers.set(kind, p);
  }
  return p;
}

/**
 * Base of the public resources: the shim provider, the resource URN as the hidden input `__progressUrn` (progress
 * lines on the resource's status row), and `engine` as a secret output.
 */
export abstract class OvirtResource extends pulumi.dynamic.Resource {
  protected constructor(
    kind: string,
    name: string,
    props: Record<string, any>,
    opts?: pulumi.CustomResourceOptions,
    secretOutputs: string[] = [],
  ) {
    // The URN of the parent without its resource dependencies: an input that depends on a component makes the
    // child wait for every child of that component (itself included) and the program hangs.
    const parent = opts?.parent;
    const parentUrn = parent
      ? pulumi.output(new Promise<string>((resolve) => parent.urn.apply((u) => (resolve(u), u))))
      : undefined;
    const urn = pulumi.createUrn(name, typeToken(kind), parentUrn);
    super(
      providerFor(kind),
      name,
      { ...props, __progressUrn: urn },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "engine", ...secretOutputs],
      },
      "ovirt",
      kind,
    );
  }
}
