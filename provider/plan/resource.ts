/**
 * `MigrationPlan`: the hidden resource a `Migration` declares first (no dependencies), whose `check` computes the
 * plan at every preview and every up (reads only), shows it as ONE line group under the Migration (Engine.Log with
 * the Migration's URN, `__migrationUrn`), writes it as Markdown for CI, and registers it for the live progress.
 * A move that cannot fit fails here, at preview, naming the domain, the space needed and the space free.
 *
 * Why a resource and not the program: the program has no engine client (and must not read secrets in clear to make
 * one); the provider process has both, and `check` is the one hook a dynamic provider gets at preview. Its create
 * stores the totals and a digest of the spec (`__planDigest`, not a second copy of it); it never changes the engine. Its engines are references to the Migration's provider
 * (provider/engineRefs.ts), or secret outputs when it is declared on its own (sdk/base.ts).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { PlanSpec, AnyPlan, Plan, DataDomainPlan, childName, isDataDomainPlan } from "./model";
import { computePlan, planConnectionFailure } from "./compute";
import { computeDataDomainPlan } from "./dataDomain";
import { renderMarkdown, renderSummary, renderTable } from "./render";
import { log } from "./log";
import { registerPlan } from "./live";
import { validate, jsonEqual, canonicalJson, userInputs, containsUnknown, PROGRESS_URN_KEY } from "../resources/common";

export const MIGRATION_URN_KEY = "__migrationUrn";
/** Whether the program runs for a preview (`pulumi.runtime.isDryRun()`); hidden, never part of a diff. */
export const DRY_RUN_KEY = "__dryRun";

/** Markdown sections per file and migration (several migrations of one program write one file). */
const files = new Map<string, Map<string, string>>();

function writePlanFile(file: string, name: string, markdown: string): void {
  const abs = path.resolve(file);
  let m = files.get(abs);
  if (!m) files.set(abs, (m = new Map()));
  m.set(name, markdown);
  const body = [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => s).join("\n\n---\n\n");
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, body + "\n");
}

/** The hidden input with everything but the name and the engines (sdk/migrationPlan.ts: `--diff` does not print it). */
export const PLAN_KEY = "__plan";

/** The spec from the inputs: the hidden `__plan` plus the name and the engine connections. */
function specOf(v: any): any {
  const o = userInputs(v);
  delete o.totals;
  return { ...(v?.[PLAN_KEY] ?? {}), ...o };
}

/** Keys that never make a difference to the migration (where the plan is written, how it is estimated). */
const VOLATILE = ["planFile", "throughputMiBps"];
const comparable = (v: any) => {
  const o = specOf(v);
  for (const k of VOLATILE) delete o[k];
  return o;
};

/**
 * What the outputs keep of `__plan`: its digest (SHA-256 of the canonical JSON, volatile keys left out). The spec
 * lists every entity (about 180 bytes per VM) and the inputs hold it already; a second copy in the outputs was
 * rewritten by the CLI at every checkpoint of the run (twice per resource of a `pulumi up`), for nothing but this
 * resource's own diff. The engines are not in the digest: they stay in the outputs (references, or secrets), compared as they are.
 */
export const PLAN_DIGEST_KEY = "__planDigest";
function planDigest(v: any): string {
  const p = { ...(v?.[PLAN_KEY] ?? {}) };
  for (const k of VOLATILE) delete p[k];
  return crypto.createHash("sha256").update(canonicalJson(p)).digest("hex");
}

/** The last plan computed in this process per migration (tests, create's outputs). */
export const lastPlans = new Map<string, Plan>();
/** The same for data-domain moves (method "data-domain"). */
export const lastDataDomainPlans = new Map<string, DataDomainPlan>();

async function check(olds: any, news: any): Promise<dynamic.CheckResult> {
  const v = validate(PlanSpec, specOf(news));
  if (!v.args) {
    if (v.failures.length && !v.hasUnknowns) return { inputs: news, failures: v.failures };
    return { inputs: news, failures: [] };
  }
  const spec = v.args;
  const migrationUrn: string | undefined = typeof news[MIGRATION_URN_KEY] === "string" ? news[MIGRATION_URN_KEY] : undefined;
  const importUrn = migrationUrn
    ? (kind: string, name: string) => {
        const i = migrationUrn.lastIndexOf("::");
        return `${migrationUrn.slice(0, i)}$pulumi-nodejs:dynamic/ovirt:VmImport::${childName.import(spec.name, kind, name)}`;
      }
    : undefined;
  const dataDomain = spec.method === "data-domain";
  if (!dataDomain && !spec.exportDomain) return { inputs: news, failures: [{ property: "exportDomain", reason: "exportDomain: the migration copies through an export domain; name it" }] };
  let plan: AnyPlan;
  try {
    plan = dataDomain ? await computeDataDomainPlan(spec) : await computePlan(spec, { importUrn });
  } catch (e) {
    const f = planConnectionFailure(e, false);
    if (f) return { inputs: news, failures: [f] };
    throw e;
  }
  if (isDataDomainPlan(plan)) lastDataDomainPlans.set(spec.name, plan);
  else lastPlans.set(spec.name, plan);
  if (v.hasUnknowns) plan.notes.push("some arguments are only known after earlier steps run (outputs of other resources); the plan shows what is known now");
  // the whole table at a preview (`pulumi preview`, and the preview `pulumi up` runs first); a summary when the
  // program runs for real (`__dryRun: false`, sdk/migrationPlan.ts), so that one `pulumi up` prints the table once
  const full = news[DRY_RUN_KEY] !== false;
  await log(plan.failures.length ? "warning" : "info", `Migration plan ${spec.name}: ${full ? renderTable(plan) : renderSummary(plan)}`, migrationUrn ?? news[PROGRESS_URN_KEY]);
  const file = spec.planFile ?? process.env.OVIRT_MIGRATE_PLAN_FILE;
  if (file) {
    try {
      writePlanFile(file, spec.name, renderMarkdown(plan));
    } catch (e) {
      return { inputs: news, failures: [{ property: "planFile", reason: `planFile: cannot write the plan to ${file}: ${(e as Error).message}` }] };
    }
  }
  if (migrationUrn) registerPlan(migrationUrn, plan);
  // a data-domain move's refusals are the attachment's and the registrations' own check failures (each naming its
  // argument): the plan shows them, failing here too would only stop the preview before those checks say them
  return { inputs: news, failures: isDataDomainPlan(plan) ? [] : plan.failures };
}

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  if (containsUnknown(news)) return { changes: true };
  // outputs written before the digest hold the whole spec
  if (typeof olds?.[PLAN_DIGEST_KEY] !== "string") return { changes: !jsonEqual(comparable(olds), comparable(news)), deleteBeforeReplace: false, replaces: [] };
  const rest = (v: any) => {
    const o = userInputs(v);
    delete o.totals;
    return o;
  };
  const changes = olds[PLAN_DIGEST_KEY] !== planDigest(news) || !jsonEqual(rest(olds), rest(news));
  return { changes, deleteBeforeReplace: false, replaces: [] };
}

function outputs(inputs: any) {
  const p: AnyPlan | undefined = inputs?.[PLAN_KEY]?.method === "data-domain" ? lastDataDomainPlans.get(inputs.name) : lastPlans.get(inputs.name);
  const { [PLAN_KEY]: _spec, ...rest } = inputs ?? {};
  return {
    ...rest,
    [PLAN_DIGEST_KEY]: planDigest(inputs),
    totals: !p
      ? undefined
      : isDataDomainPlan(p)
        ? { entities: p.totals.entities, exportBytes: 0, importBytes: 0, seconds: p.estimate.seconds ?? null }
        : { entities: p.totals.entities, exportBytes: p.totals.exportBytes, importBytes: p.totals.importBytes, seconds: p.totalSeconds ?? null },
  };
}

async function create(inputs: any): Promise<dynamic.CreateResult> {
  return { id: `plan:${inputs.name}`, outs: outputs(inputs) };
}

async function update(_id: string, _olds: any, news: any): Promise<dynamic.UpdateResult> {
  return { outs: outputs(news) };
}

async function read(id: string, props: any): Promise<dynamic.ReadResult> {
  return { id, props };
}

/** Nothing to undo: the plan never changed the engine. */
async function del(): Promise<void> {}

export const migrationPlanProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
