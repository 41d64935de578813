/**
 * Every failing resource of a preview in one run.
 *
 * What Pulumi 3.260 does (pkg/resource/deploy): the engine handles the program's RegisterResource events one at a
 * time and calls the provider's Check inside that loop (`deploymentExecutor.handleSingleEvent` ->
 * `stepGenerator.continueStepsFromImport`); a Check that answers failures marks the resource invalid and the step
 * generator answers `BailErrorf("resource %s is invalid")`, which cancels the whole deployment. So the engine never
 * calls Check for the resources registered after the first bad one, and `pulumi preview` has no option to go on
 * (`--continue-on-error` exists for `up`/`destroy` and covers failed steps, not failed checks). A dynamic provider
 * that supports no preview of creates (this one) gets no other call during a first preview.
 *
 * What we do: the SDK gives the resources constructed together (the children of one `Migration`, or the top-level
 * resources a program declares in one go) a hidden input `__checkGroup: { id, size }` (sdk/base.ts). When a member's
 * check fails, the provider process records the failure, shows it at once as an error line under that resource
 * (Engine.Log, in the wording Pulumi uses for check failures), and answers the check without failures, so the engine
 * goes on to the next resources. When the last member of the group is checked (`size` distinct URNs seen), that
 * check fails: with its own failures, plus one that lists every other member's failure. The preview stops there, as
 * before, but after every member was checked. Failures of the engine connection (`engine.*`) are not deferred: every
 * other check would fail the same way, each after its own timeout.
 *
 * Nothing is changed on the way: checks only read. And when checks are not followed by a preview (`pulumi up
 * --skip-preview`), the engine calls create right after a member's check: while a failure is pending in this process,
 * every create, update and delete is refused before it reaches the engine, naming the failures.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";

export const CHECK_GROUP_KEY = "__checkGroup";

interface Pending {
  urn: string;
  name: string;
  kind: string;
  failures: dynamic.CheckFailure[];
}

interface Group {
  size: number;
  seen: Set<string>;
  failed: Map<string, Pending>;
}

const groups = new Map<string, Group>();
/** Failures answered as "no failure" and not yet reported by a failing check (this process). */
const pending = new Map<string, Pending>();

/** Why mutations are refused in this process, or undefined. */
export function pendingCheckFailures(): string | undefined {
  if (pending.size === 0) return undefined;
  return (
    `refused: ${pending.size} resource(s) of this program failed their checks in this run, and nothing is changed until ` +
    `they are fixed (run pulumi preview to see them all):${[...pending.values()].map(describe).join("")}`
  );
}

function describe(p: Pending): string {
  return p.failures.map((f) => `\n  - ${p.name} (${p.kind}): ${f.reason}`).join("");
}

/**
 * Pulumi's own wording of a check failure (pkg/resource/deploy issueCheckFailures, diag.GetResourcePropertyInvalidValueError
 * and GetResourceInvalidError), for the line under the resource.
 */
function pulumiWording(kind: string, name: string, inputs: any, f: dynamic.CheckFailure): string {
  const head = `pulumi-nodejs:dynamic/ovirt:${kind} resource '${name}'`;
  if (!f.property) return `${head} has a problem: ${f.reason}`;
  const v = inputs?.[f.property];
  const shown = v === undefined || v === null ? "" : typeof v === "object" ? "..." : String(v);
  return `${head}: property ${f.property} value {${shown}} has a problem: ${f.reason}`;
}

function groupOf(news: any): { id: string; size: number } | undefined {
  const g = news?.[CHECK_GROUP_KEY];
  if (!g || typeof g !== "object" || typeof g.id !== "string" || typeof g.size !== "number" || !(g.size > 1)) return undefined;
  return { id: g.id, size: g.size };
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/**
 * The check result the engine gets. `log(severity, message, urn)` shows a line under a resource (Engine.Log);
 * it is awaited so that the line is on its way before the answer that may end the preview.
 */
export async function groupedCheck(
  kind: string,
  news: any,
  r: dynamic.CheckResult,
  urn: string | undefined,
  log: (message: string, urn: string) => Promise<void>,
): Promise<dynamic.CheckResult> {
  const g = groupOf(news);
  const failures = r.failures ?? [];
  if (!g || !urn) return r;
  let group = groups.get(g.id);
  if (!group || group.seen.has(urn)) {
    // a new group, or a new round of it (the same member checked again)
    group = { size: g.size, seen: new Set(), failed: new Map() };
    groups.set(g.id, group);
  }
  group.size = g.size;
  group.seen.add(urn);
  const mine: Pending | undefined = failures.length ? { urn, name: nameOf(urn), kind, failures } : undefined;
  const last = group.seen.size >= group.size;
  const immediate = failures.some((f) => /^engine(\.|$)/.test(f.property ?? ""));
  if (mine && !last && !immediate) {
    group.failed.set(urn, mine);
    pending.set(urn, mine);
    for (const f of failures) await log(pulumiWording(kind, mine.name, r.inputs ?? news, f), urn);
    return { ...r, failures: [] };
  }
  if (!last && !immediate) return r;
  // the end of the group (or a failure that ends the run): report everything the group deferred
  const others = [...group.failed.values()].filter((p) => p.urn !== urn);
  groups.delete(g.id);
  for (const p of group.failed.values()) pending.delete(p.urn);
  if (others.length === 0) return r;
  const summary: dynamic.CheckFailure = {
    property: "",
    reason:
      `${others.length} other resource${others.length > 1 ? "s" : ""} declared with this one failed ${others.length > 1 ? "their checks" : "its check"} ` +
      `in this run (each is also shown under its own name):${others.map(describe).join("")}`,
  };
  return { ...r, failures: [...failures, summary] };
}

let engine: any | null | undefined;

/**
 * An error line under the resource `urn` (the Engine service's `Log`, at the address the dynamic-provider host got
 * as its first argument, like provider/progress.ts), awaited for at most 2 s; never throws.
 */
export function logError(message: string, urn: string): Promise<void> {
  if (engine === undefined) {
    engine = null;
    const main = require.main?.filename ?? process.argv[1] ?? "";
    const addr = process.env.OVIRT_MIGRATE_ENGINE_ADDRESS ?? (/dynamic-provider/.test(main) ? process.argv[2] : undefined);
    if (addr && /^[\w.\-\[\]:]+:\d+$/.test(addr)) {
      try {
        const grpc = require("@grpc/grpc-js");
        const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
        engine = new engrpc.EngineClient(addr, grpc.credentials.createInsecure());
      } catch {
        engine = null;
      }
    }
  }
  if (!engine) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    try {
      const pb = require("@pulumi/pulumi/proto/engine_pb");
      const req = new pb.LogRequest();
      req.setSeverity(3); // pulumirpc.LogSeverity.ERROR
      req.setMessage(message);
      req.setUrn(urn);
      req.setStreamid(0);
      req.setEphemeral(false);
      engine.log(req, () => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

/** Tests: forget everything. */
export function resetCheckGroups(): void {
  groups.clear();
  pending.clear();
}
