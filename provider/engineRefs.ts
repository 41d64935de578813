/**
 * Engine connections held by the provider instead of by each resource (a `Migration`'s children).
 *
 * Why: a dynamic provider's `delete` sees only the resource's outputs, so a resource that holds its engine connection
 * must record it in its outputs, as a secret; with the same secret in its inputs that was ~680 bytes of ciphertext per
 * export and per import, about a sixth of a 200-VM move's state, which Pulumi's CLI rewrites at every checkpoint
 * (816 times in that `pulumi up`). A `Migration` now declares one explicit `pulumi-nodejs` provider holding its engines
 * as one secret (`sdk/engineProvider.ts`), and its children name an engine by reference: `engine: { providerEngine:
 * "target" }`. The CLI configures that provider (in preview too) and calls every hook of those children through it,
 * also in a `destroy` long after the program changed, because the provider's inputs are in the state.
 *
 * Here, around every hook (provider/index.ts `sanitized`):
 * - in: each reference is replaced by the configured connection, so the resource code sees the same `engine` as
 *   before. A reference recorded in the state (check's inputs, the outputs) also carries the engine's URL and
 *   declared id at the time (`__url`, `__id`: keys Pulumi's display hides, so a preview shows `providerEngine` only):
 *   the old side of a check or diff is the engine the resource was made on, not the one configured now, so a
 *   Migration pointed at another engine is still seen as a change of engine.
 * - out: each connection in what a hook returns (check's inputs, outputs, read's state) becomes a reference again,
 *   with its URL and id and never its password or CA. A connection that matches no configured engine is recorded
 *   without credentials (never in clear text).
 *
 * Without references (resources declared on their own with `engine`) nothing changes.
 */
import { UNKNOWN, engineIdentity } from "./resources/common";

export const ENGINE_REF_KEY = "providerEngine";

type Connection = Record<string, unknown> & { url?: unknown; id?: unknown };

/** The engines of the explicit provider this process serves (empty for the default provider). */
let configured: Record<string, Connection> = {};

/** `configure` of the dynamic provider: `req.config.rawConfig.engines`, an object or its JSON text. */
export function configureEngines(rawConfig: Record<string, unknown> | undefined): void {
  let engines = rawConfig?.engines;
  if (typeof engines === "string") {
    try {
      engines = JSON.parse(engines);
    } catch {
      engines = undefined;
    }
  }
  configured = engines && typeof engines === "object" ? (engines as Record<string, Connection>) : {};
}

export function isEngineRef(v: unknown): v is { [ENGINE_REF_KEY]: string; __url?: string; __id?: string } {
  return !!v && typeof v === "object" && !Array.isArray(v) && typeof (v as any)[ENGINE_REF_KEY] === "string";
}

export function hasEngineRefs(v: unknown): boolean {
  if (isEngineRef(v)) return true;
  if (Array.isArray(v)) return v.some(hasEngineRefs);
  if (v && typeof v === "object") return Object.values(v).some(hasEngineRefs);
  return false;
}

/**
 * Every reference in `v` replaced by its connection. `whenMissing`: "unknown" (check and diff: a provider not
 * configured yet, e.g. its inputs unknown at preview, is treated like an unknown engine) or "throw" (a hook that
 * must reach the engine).
 */
export function resolveEngineRefs<T>(v: T, whenMissing: "unknown" | "throw"): T {
  if (isEngineRef(v)) {
    const name = v[ENGINE_REF_KEY];
    const c = configured[name];
    if (!c) {
      if (whenMissing === "unknown") return UNKNOWN as any;
      throw new Error(
        `engine: this resource reaches its engine through its Migration's provider, which has no engine "${name}" ` +
          `(configured: ${Object.keys(configured).join(", ") || "none"}). Run pulumi up with the program that declares the Migration, ` +
          `or pulumi refresh if the Migration's provider was removed from the state.`,
      );
    }
    // the old side keeps the engine it was made on (the URL and id recorded with the reference)
    const recorded: Connection = {};
    if (typeof v.__url === "string") recorded.url = v.__url;
    if (typeof v.__id === "string") recorded.id = v.__id;
    return { ...c, ...recorded } as any;
  }
  if (Array.isArray(v)) return v.map((x) => resolveEngineRefs(x, whenMissing)) as any;
  if (v && typeof v === "object") {
    const o: any = {};
    for (const [k, x] of Object.entries(v)) o[k] = resolveEngineRefs(x, whenMissing);
    return o;
  }
  return v;
}

/** A resolved connection (what `resolveEngineRefs` puts where a reference was). */
function looksLikeConnection(v: unknown): v is Connection {
  return !!v && typeof v === "object" && !Array.isArray(v) && typeof (v as any).url === "string" && "password" in (v as any);
}

/**
 * Every connection in `v` replaced by a reference to the configured engine it belongs to: the one the inputs named at
 * the same path when that is the same engine (source and target may be one engine with other credentials), else the
 * first configured engine with its identity.
 */
export function toEngineRefs<T>(v: T, inputRefs: Map<string, string>, path = ""): T {
  // a reference check could not resolve (provider not configured at preview) goes back as it came
  if (v === UNKNOWN && inputRefs.has(path)) return { [ENGINE_REF_KEY]: inputRefs.get(path) } as any;
  if (looksLikeConnection(v)) {
    const identity = engineIdentity({ url: v.url as string, id: typeof v.id === "string" ? v.id : undefined });
    const matches = (n: string) => !!configured[n] && engineIdentity({ url: String(configured[n].url), id: typeof configured[n].id === "string" ? (configured[n].id as string) : undefined }) === identity;
    const atPath = inputRefs.get(path);
    const name = atPath && matches(atPath) ? atPath : Object.keys(configured).find(matches);
    const ref: any = { [ENGINE_REF_KEY]: name ?? "(not configured)", __url: v.url };
    if (typeof v.id === "string") ref.__id = v.id;
    return ref;
  }
  if (Array.isArray(v)) return v.map((x, i) => toEngineRefs(x, inputRefs, `${path}[${i}]`)) as any;
  if (v && typeof v === "object") {
    const o: any = {};
    for (const [k, x] of Object.entries(v)) o[k] = toEngineRefs(x, inputRefs, path ? `${path}.${k}` : k);
    return o;
  }
  return v;
}

/** The paths of the references in `v` (`engine`, `moveFrom.engine`, ...) and the engine each names. */
export function engineRefPaths(v: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (isEngineRef(v)) out.set(path, v[ENGINE_REF_KEY]);
  else if (Array.isArray(v)) v.forEach((x, i) => engineRefPaths(x, `${path}[${i}]`, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) engineRefPaths(x, path ? `${path}.${k}` : k, out);
  return out;
}
