/**
 * Shared pieces of the resource logic: zod schemas of the engine connection and common args, unknown-value
 * handling for previews, check-failure helpers, and error wording.
 */
import { z } from "zod";
import type { OvirtClient } from "../client";
import { EngineError, EngineUnavailableError, TlsVerificationError, AuthenticationError, EngineUrlError } from "../client/errors";
import { createHash } from "node:crypto";
import { connect } from "../client";
import { progressFor } from "../progress";
import { ArgError, CheckFailure } from "../operations/errors";
import { cachedRead } from "../operations/readCache";

// the errors and the read cache live in operations/ (one of each for every layer); re-exported for the resources
export { ArgError, CheckFailure, suggest } from "../operations/errors";
export { cachedRead, clearReadCache } from "../operations/readCache";

/** The value Pulumi sends for an input that is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN;
}

/** True when `v` or anything inside it is unknown. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Replaces unknowns with undefined (so zod validates what is known). */
export function stripUnknown<T>(v: T): T {
  if (v === UNKNOWN) return undefined as any;
  if (Array.isArray(v)) return v.map(stripUnknown) as any;
  if (v && typeof v === "object") {
    const o: any = {};
    for (const [k, val] of Object.entries(v)) o[k] = stripUnknown(val);
    return o;
  }
  return v;
}

/** Names of VMs, templates, domains...: non-empty, at most 255 characters, no control characters. */
export const zName = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .min(1, `${what} must not be empty`)
    .max(255, `${what} is longer than 255 characters`)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), `${what} contains control characters`)
    .refine((s) => s.trim() === s, `${what} has leading or trailing spaces`);

/** Engine connection args (`engine`). */
export const EngineArgs = z
  .object({
    url: z
      .string({ error: "engine.url is required (or stack config ovirt:url)" })
      .refine((s) => {
        try {
          const u = new URL(s);
          return (u.protocol === "https:" || u.protocol === "http:") && /\/ovirt-engine\/api\/?$/.test(u.pathname);
        } catch {
          return false;
        }
      }, "engine.url must look like https://engine.example.com/ovirt-engine/api"),
    username: z.string({ error: "engine.username is required (or stack config ovirt:username)" }).min(1, "engine.username must not be empty"),
    password: z.string({ error: "engine.password is required (or secret stack config ovirt:password)" }).min(1, "engine.password must not be empty"),
    caFile: z.string().min(1).optional(),
    caPem: z.string().min(1).optional(),
    insecure: z.boolean().optional(),
    /** Explicit opt-in to a plain-HTTP engine URL (the SSO password grant then travels in clear text). */
    allowHttp: z.boolean().optional(),
    /** A stable identity of the engine the user declares; wins over the URL when deciding "same engine". */
    id: z.string().min(1, "engine.id must not be empty").max(128).optional(),
  })
  .refine((e) => !(e.caFile && e.caPem), { message: "give engine.caFile or engine.caPem, not both", path: ["caFile"] })
  .refine((e) => !/^http:/i.test(e.url ?? "") || e.allowHttp === true, {
    message:
      "engine.url: an http:// URL sends the SSO password grant over the wire in clear text; use https://, or set engine.allowHttp: true (stack config ovirt:allowHttp) to accept that explicitly",
    path: ["url"],
  });
export type EngineArgs = z.infer<typeof EngineArgs>;

export const zKind = z.enum(["vm", "template"], { error: 'kind must be "vm" or "template"' });

/** A batch of VMs imported (or exported) together: all must share one CPU architecture. */
export const BatchArgs = z.object({
  id: z.string().min(1, "batch.id must not be empty"),
  members: z.array(z.string().min(1)).min(1, "batch.members must list the VM names of the batch"),
});
export type BatchArgs = z.infer<typeof BatchArgs>;

/** zod issues -> Pulumi check failures (property path as a dotted name). */
export function zodFailures(err: z.ZodError, prefix = ""): CheckFailure[] {
  return err.issues.map((i) => {
    const path = i.path.map(String).join(".");
    const property = (prefix ? `${prefix}${path ? "." + path : ""}` : path) || "(args)";
    let reason = i.message;
    if (i.code === "invalid_type" && /received undefined/.test(reason)) reason = `${property} is required`;
    return { property, reason: reason.includes(property) ? reason : `${property}: ${reason}` };
  });
}

/**
 * Validates `news` with `schema`, ignoring unknown values (preview). Answers the parsed args (with unknowns
 * replaced by undefined) and the failures.
 */
export function validate<T extends z.ZodTypeAny>(
  schema: T,
  news: any,
): { args?: z.infer<T>; failures: CheckFailure[]; hasUnknowns: boolean } {
  const hasUnknowns = containsUnknown(news);
  const r = schema.safeParse(stripUnknown(news));
  if (r.success) return { args: r.data, failures: [], hasUnknowns };
  let failures = zodFailures(r.error);
  if (hasUnknowns) {
    // a missing field that is only unknown (not missing) is fine during preview
    failures = failures.filter((f) => !isUnknownAt(news, f.property));
  }
  return { failures, hasUnknowns };
}

function isUnknownAt(obj: any, path: string): boolean {
  let cur = obj;
  for (const p of path.split(".")) {
    if (cur === UNKNOWN) return true;
    if (cur === undefined || cur === null) return false;
    cur = cur[p];
  }
  return cur === UNKNOWN;
}

/** Connection failures during `check` become failures on the engine args, with the fix. */
export function connectionFailure(e: unknown): CheckFailure | undefined {
  if (e instanceof TlsVerificationError) {
    return { property: /caFile/.test(e.message) && /cannot read|not a PEM/.test(e.message) ? "engine.caFile" : "engine.caFile", reason: e.message };
  }
  if (e instanceof AuthenticationError) return { property: "engine.password", reason: e.message };
  if (e instanceof EngineUrlError) return { property: "engine.url", reason: e.message };
  // name the field in the text too ("cannot reach the engine at ..." alone did not say which argument to fix)
  if (e instanceof EngineUnavailableError) return { property: "engine.url", reason: /^engine\.url\b/.test(e.message) ? e.message : `engine.url: ${e.message}` };
  return undefined;
}

const warnedHttp = new Set<string>();

/** The engine client for `engine` (one shared connection per engine, user and CA: `provider/client/http.ts`). */
export function clientFor(engine: EngineArgs): OvirtClient {
  if (engine.allowHttp && /^http:/i.test(engine.url) && !warnedHttp.has(engine.url)) {
    // the opt-in is explicit, and still worth a line in every preview and update that uses it
    warnedHttp.add(engine.url);
    progressFor(undefined, "engine").warn(
      `engine ${engine.url} is reached over plain HTTP (engine.allowHttp: true): the SSO password grant and every API call travel unencrypted`,
    );
  }
  return connect({
    url: engine.url,
    username: engine.username,
    password: engine.password,
    caFile: engine.caFile,
    caPem: engine.caPem,
    insecure: engine.insecure,
    // refused by the client unless set (EngineArgs refuses http:// without it already)
    ...(engine.allowHttp ? { allowHttp: true } : {}),
  });
}

/** The engine's error text without the Java list brackets, or the message. */
export function engineText(e: unknown): string {
  if (e instanceof EngineError) return e.text;
  return e instanceof Error ? e.message : String(e);
}

export function isEngineStatus(e: unknown, ...statuses: number[]): boolean {
  return e instanceof EngineError && statuses.includes(e.status);
}

/**
 * The identity of an engine: the `engine.id` the user declares, else the URL normalised (scheme and host lower case,
 * default port dropped, trailing slashes dropped). The user name and password are not part of it: another account
 * or a rotated password on the same engine is the same engine.
 */
export function engineIdentity(e: { url: string; id?: string }): string {
  if (e.id) return `id:${e.id}`;
  try {
    const u = new URL(e.url);
    const port = u.port && !((u.protocol === "https:" && u.port === "443") || (u.protocol === "http:" && u.port === "80")) ? `:${u.port}` : "";
    return `${u.protocol.toLowerCase()}//${u.hostname.toLowerCase()}${port}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return e.url.replace(/\/+$/, "");
  }
}

/** Same engine by declared identity or normalised URL (no engine read; see `sameEngineLive` for host aliases). */
export function sameEngine(a?: { url: string; id?: string }, b?: { url: string; id?: string }): boolean {
  if (!a || !b || typeof a !== "object" || typeof b !== "object" || typeof a.url !== "string" || typeof b.url !== "string") return false;
  if (a.id && b.id) return a.id === b.id;
  return engineIdentity({ url: a.url }) === engineIdentity({ url: b.url });
}

/**
 * Same engine, also when reached by another host name (127.0.0.1 vs localhost, a DNS alias): the engine at the new
 * URL knows the data center this resource recorded (data center ids are UUIDs made by each engine; a data center
 * never moves between engines). A read only; an engine that cannot be read counts as another engine. Two declared
 * `engine.id`s decide alone.
 */
export async function sameEngineLive(prev: EngineArgs | undefined, next: EngineArgs | undefined, recordedDataCenterId?: string): Promise<boolean> {
  if (!prev || !next || typeof prev !== "object" || typeof next !== "object") return false;
  if (prev.id && next.id) return prev.id === next.id;
  if (sameEngine(prev, next)) return true;
  if (!recordedDataCenterId || containsUnknown(next) || !EngineArgs.safeParse(next).success) return false;
  try {
    const dc = await clientFor(next).datacenters.get(recordedDataCenterId);
    return !!dc && dc.id === recordedDataCenterId;
  } catch {
    return false;
  }
}

/**
 * Same engine, judged in `check` (old inputs carry no recorded ids): equal identities, or both URLs answer with the
 * same set of data center ids (ids are UUIDs made by each engine). Reads only; an unreachable URL counts as another
 * engine, and then `check` validates everything again as for a new resource.
 */
export async function sameEngineProbe(prev: any, next: any): Promise<boolean> {
  if (sameEngine(prev, next)) return true;
  if (!prev || !next || (prev.id && next.id)) return false;
  const a = EngineArgs.safeParse(prev);
  const b = EngineArgs.safeParse(next);
  if (!a.success || !b.success) return false;
  const ids = (e: EngineArgs) =>
    cachedRead(`${e.url}|${e.username}|dcids`, 10_000, async () => (await clientFor(e).datacenters.list()).map((d) => d.id).sort().join(","));
  try {
    const [x, y] = await Promise.all([ids(a.data), ids(b.data)]);
    return x.length > 0 && x === y;
  } catch {
    return false;
  }
}

/**
 * A changed connection (password, CA, user, URL) is tried at preview even when nothing else needs the engine: a
 * wrong password or CA fails there, naming the field, instead of during `up`. Reads only (one cached listing).
 */
export async function checkConnectionChange(prev: any, next: EngineArgs, fs: CheckFailure[]): Promise<void> {
  if (!prev || jsonEqual(prev, next)) return;
  try {
    const fp = createHash("sha256").update(JSON.stringify([next.password, next.caFile, next.caPem, next.insecure, next.allowHttp])).digest("hex");
    await cachedRead(`${next.url}|${next.username}|${fp}|conn`, 10_000, () =>
      clientFor(next).datacenters.list(),
    );
  } catch (e) {
    const f = connectionFailure(e);
    if (!f) throw e;
    if (!fs.some((x) => x.property === f.property)) fs.push(f);
  }
}

/** Deep equality of plain JSON values, treating undefined and missing keys alike. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with sorted keys and without undefined/null members: equal values give equal text (jsonEqual, digests). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canon(v)) ?? "";
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const val = (v as any)[k];
      if (val !== undefined && val !== null) o[k] = canon(val);
    }
    return o;
  }
  return v;
}

/** Keys whose change the engine cannot apply in place. */
export function diffKeys(olds: any, news: any, keys: string[]): string[] {
  return keys.filter((k) => !jsonEqual(olds?.[k], news?.[k]));
}

/** The hidden input carrying the resource URN (for progress lines); never part of a diff. */
export const PROGRESS_URN_KEY = "__progressUrn";

/** Strips internal keys (`__provider`, `__progressUrn`) from an inputs object. */
export function userInputs(v: any): any {
  const o: any = {};
  for (const [k, val] of Object.entries(v ?? {})) if (!k.startsWith("__")) o[k] = val;
  return o;
}

/**
 * The args part of inputs or outputs, with schema defaults applied (so an omitted default and the stored default
 * compare equal in `diff`). Falls back to the raw values when they do not parse (unknowns during preview).
 */
export function normalizeArgs<T extends z.ZodTypeAny>(schema: T, v: any): any {
  const raw = userInputs(v);
  if (containsUnknown(raw)) return raw;
  const r = schema.safeParse(raw);
  return r.success ? r.data : raw;
}

/**
 * The outputs of an in-place update: the previous outputs with every argument of `schema` replaced by the new
 * arguments, including the ones the user removed. Spreading the new arguments over the old outputs kept a removed
 * optional argument in the state for ever, and every later diff saw it change (e.g. `batch`, which `Migration` no
 * longer sets: an upgraded stack would show an update on every export and import at every preview).
 */
export function updatedOutputs<P extends object, A extends object>(prev: P, args: A, schema: { shape: Record<string, unknown> }): P & A {
  const out: any = { ...prev };
  for (const k of Object.keys(schema.shape)) delete out[k];
  return { ...out, ...args };
}

/**
 * The outputs as recorded: without the members whose value is the given default (arguments left at their schema
 * default, `adopted: false`, empty id lists). The CLI rewrites the whole state file when each step starts and when
 * it ends, so every member of every resource is paid hundreds of times in a `pulumi up` (about 2.5 s of a 200-VM up
 * for these members, bench `--up200`). Readers put the defaults back: `normalizeArgs` (diff) parses the outputs with
 * the schema's defaults, the rest reads `?? default` or a falsy value. Never listed: `ownership`, ids, what the user
 * must see in the outputs.
 */
export function withoutDefaults<T extends object>(outs: T, recordedDefaults: Record<string, unknown>): T {
  const o: any = { ...outs };
  for (const [k, d] of Object.entries(recordedDefaults)) if (k in o && jsonEqual(o[k], d)) delete o[k];
  return o;
}

/** Polling defaults shared by resources. */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
