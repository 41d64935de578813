import * as pulumi from "@pulumi/pulumi";
import { providerSource } from "./shim";
import { isEngineRef } from "./engineProvider";

/**
 * An engine reference, or an object whose `engine` is one (`moveFrom`, `handOffTo`, ...): nothing secret in it, so
 * not a secret output (what makes such an output secret otherwise is the connection it holds).
 */
function engineRefOnly(v: unknown): boolean {
  return isEngineRef(v) || (!!v && typeof v === "object" && !pulumi.Output.isInstance(v) && isEngineRef((v as any).engine));
}

/** Resource type token: `pulumi-nodejs:dynamic/ovirt:<Kind>`. */
export function typeToken(kind: string): string {
  return `pulumi-nodejs:dynamic/ovirt:${kind}`;
}

/** Resources of one parent constructed in the same turn of the event loop (one `Migration`, a program's top level). */
interface OpenGroup {
  id: string;
  size: number;
  sealed: Promise<{ id: string; size: number }>;
}
const openGroups = new Map<pulumi.Resource | undefined, OpenGroup>();
let groupCount = 0;

/**
 * The hidden input `__checkGroup: { id, size }`: the resources declared together, so that the provider reports every
 * member's check failure in one preview instead of stopping at the first (provider/checkGroups.ts). The size is
 * known once the constructor that declares them (e.g. `Migration`'s) has returned: the value resolves on the next
 * turn of the event loop. Ids count groups in declaration order, so the same program gives the same inputs.
 */
function checkGroup(parent: pulumi.Resource | undefined): pulumi.Output<{ id: string; size: number }> {
  let g = openGroups.get(parent);
  if (!g) {
    const id = `g${++groupCount}`;
    let resolve!: (v: { id: string; size: number }) => void;
    const sealed = new Promise<{ id: string; size: number }>((r) => (resolve = r));
    const open: OpenGroup = { id, size: 0, sealed };
    g = open;
    openGroups.set(parent, open);
    setImmediate(() => {
      openGroups.delete(parent);
      resolve({ id, size: open.size });
    });
  }
  g.size++;
  return pulumi.output(g.sealed);
}

/**
 * Base of the public resources: a dynamic resource (type `pulumi-nodejs:dynamic/ovirt:<Kind>`, served by Pulumi's
 * dynamic-provider host) whose `__provider` is the hand-written shim module (`providerSource`; what
 * `pulumi.dynamic.Resource` would store is Pulumi's serialization of the same shim, about 11 times longer), the resource URN as the hidden input `__progressUrn` (progress
 * lines on the resource's status row), the hidden input `__checkGroup` (every failing check of a preview in one
 * run), and `engine` as a secret output.
 */
export abstract class OvirtResource extends pulumi.CustomResource {
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
    const limit = Error.stackTraceLimit;
    const format = Error.prepareStackTrace;
    if (!KEEP_PROMISE_STACKS) Error.stackTraceLimit = 0;
    Error.prepareStackTrace = upToCaller(format);
    try {
      super(
        typeToken(kind),
        name,
        { ...props, __progressUrn: urn, __checkGroup: checkGroup(parent), __provider: providerSource(kind) },
        {
          ...opts,
          additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...["engine", ...secretOutputs].filter((k) => !engineRefOnly(props[k]))],
        },
      );
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = format;
    }
  }
}

/**
 * While a resource registers, Pulumi's SDK records `new Error().stack` on four promises per property
 * (`debuggablePromise` in @pulumi/pulumi/runtime/debuggable.js), only to print them if the program exits with a
 * promise never settled; each is formatted through source-map-support. A `Migration` of 1,000 VMs registers
 * 2,000 resources of ~30 properties: ~240,000 stack traces, measured at two thirds of the program's CPU time in
 * `pulumi preview`. Our constructors register with stack traces off (the leak report still names the resource and
 * the property). The resource's source position is unaffected: Pulumi reads it with its own limit
 * (`Resource.callsites`). OVIRT_MIGRATE_PROMISE_STACKS=1 keeps them (debugging a hang in a program).
 */
const KEEP_PROMISE_STACKS = process.env.OVIRT_MIGRATE_PROMISE_STACKS === "1";

/** This SDK's directory (dist/sdk): the frames of our constructors. */
const SDK_DIR = __dirname + require("node:path").sep;

/**
 * Pulumi records the stack of every resource registration in the state (`stackTrace`: `Resource.callsites()` reads
 * `new Error().stack` with no depth limit). Below the program's own call that is the CommonJS loader and Pulumi's
 * runtime: 10 of a Migration child's 13 frames, a tenth of a 200-VM move's state, which the CLI rewrites at every
 * checkpoint. While our constructors register, a stack is formatted up to the first frame outside this SDK (the
 * line of the program that declared the resource, or the Migration); the source position (the first frame after
 * Pulumi's own) is unchanged. Source maps still apply: the formatter installed by the program (source-map-support)
 * formats the frames kept.
 */
function upToCaller(format: typeof Error.prepareStackTrace): (err: Error, frames: NodeJS.CallSite[]) => any {
  return (err, frames) => {
    const ours = frames.findIndex((f) => (f.getFileName() ?? "").startsWith(SDK_DIR));
    let end = frames.length;
    if (ours >= 0) {
      // native frames (Array.prototype.forEach in a constructor) have no file: the caller is a frame with one
      const caller = frames.findIndex((f, i) => i > ours && !!f.getFileName() && !f.getFileName()!.startsWith(SDK_DIR));
      if (caller >= 0) end = caller + 1;
    }
    const kept = frames.slice(0, end);
    return format ? format(err, kept) : `${err}` + kept.map((f) => `\n    at ${f}`).join("");
  };
}
