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
 * The resource's own URN, for progress lines. Not `pulumi.createUrn(name, type, parent)`: that Output depends on
 * the parent resource, and depending on a component means depending on all its children, so two children of one
 * component would each wait for the other (a deadlock seen with Migration). A plain Promise carries no dependency.
 */
function progressUrn(name: string, type: string, parent?: pulumi.Resource): pulumi.Input<string> {
  if (!parent) return pulumi.createUrn(name, type);
  return new Promise<string>((resolve) =>
    parent.urn.apply((parentUrn) => {
      // urn:pulumi:<stack>::<project>::<parent qualified type>::<parent name>
      const parts = parentUrn.split("::");
      resolve(`${parts[0]}::${parts[1]}::${parts[2]}$${type}::${name}`);
      return parentUrn;
    }),
  );
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
