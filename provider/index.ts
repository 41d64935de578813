/**
 * Entry point the serialized SDK shim `require`s inside every hook: `getProvider(kind)` answers the
 * `pulumi.dynamic.ResourceProvider` of one resource kind. Modules load lazily, once per process.
 *
 * Adding a kind: export `<name>Provider` from `provider/resources/<kind>/index.ts` and list it in KINDS (docs/design.md
 * "How to add…").
 *
 * The first `getProvider` also starts the orphan watchdog (or, when the host started one with the process, adds the
 * token revocation to it) and installs the shutdown hooks that revoke the SSO tokens of every engine connection when
 * the process ends (`provider/orphanWatchdog.ts`).
 *
 * Every provider is wrapped (`sanitized`): results are plain JSON, checks of resources declared together report every
 * member's failure in one run (`provider/checkGroups.ts`), and while a deferred check failure is pending no create,
 * update or delete runs.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { installShutdownHooks, startOrphanWatchdog } from "./orphanWatchdog";
import { groupedCheck, logError, pendingCheckFailures } from "./checkGroups";
import { configureEngines, engineRefPaths, hasEngineRefs, resolveEngineRefs, toEngineRefs } from "./engineRefs";

export type ResourceKind = "ExportDomainAttachment" | "VmExport" | "VmImport" | "V2VImport" | "MigrationPlan" | "DataDomainAttachment" | "VmRegistration";

// `<kind>/index` spelled out: a `resources/<kind>.js` left in dist/ by a build from before the folders would win over
// the folder in Node's resolution
const KINDS: Record<ResourceKind, { module: string; export: string }> = {
  ExportDomainAttachment: { module: "./resources/exportDomainAttachment/index", export: "exportDomainAttachmentProvider" },
  VmExport: { module: "./resources/vmExport/index", export: "vmExportProvider" },
  VmImport: { module: "./resources/vmImport/index", export: "vmImportProvider" },
  V2VImport: { module: "./resources/v2vImport/index", export: "v2vImportProvider" },
  // the plan a Migration shows at preview (provider/plan/resource.ts); it never changes the engine
  MigrationPlan: { module: "./plan/resource", export: "migrationPlanProvider" },
  // the zero-copy path: a data domain moved between data centers/engines, and what is on it registered
  DataDomainAttachment: { module: "./resources/dataDomainAttachment/index", export: "dataDomainAttachmentProvider" },
  VmRegistration: { module: "./resources/vmRegistration/index", export: "vmRegistrationProvider" },
};

const cache = new Map<string, dynamic.ResourceProvider>();

export function getProvider(kind: ResourceKind | string): dynamic.ResourceProvider {
  startOrphanWatchdog();
  // revoke the engines' SSO tokens when the process ends (normally or by SIGTERM/SIGINT), ~1 s at most
  installShutdownHooks();
  const hit = cache.get(kind);
  if (hit) return hit;
  const entry = (KINDS as Record<string, { module: string; export: string }>)[kind];
  if (!entry) throw new Error(`unknown resource kind ${JSON.stringify(kind)}; known: ${Object.keys(KINDS).join(", ")}`);
  // lazy on purpose: only the kinds a process serves are loaded (one that runs only exports never loads the V2V
  // code, ssh2 and the vSphere client)
  const mod = require(entry.module);
  const raw = mod[entry.export] as dynamic.ResourceProvider | undefined;
  if (!raw) throw new Error(`${entry.module} does not export ${entry.export}`);
  const p = sanitized(raw, kind);
  cache.set(kind, p);
  return p;
}

/**
 * protobuf `Struct.fromJavaScript` (used by the dynamic-provider host) throws "Unexpected struct type" on
 * `undefined`: every result goes through a JSON round trip, which drops undefined fields.
 */
function plain<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** A deferred check failure of this process stops every change (provider/checkGroups.ts). */
function refuseWhilePending(): void {
  const why = pendingCheckFailures();
  if (why) throw new Error(why);
}

/** The resource's own URN (the hidden input `__progressUrn`), for the Migration's live progress (provider/plan/live.ts). */
const urnOf = (v: any): string | undefined => (typeof v?.__progressUrn === "string" ? v.__progressUrn : undefined);
const live = () => require("./plan/live") as typeof import("./plan/live");

/** Tells the Migration's live progress when a child's operation begins and ends (never fails the operation). */
async function tracked<T>(urn: string | undefined, op: () => Promise<T>): Promise<T> {
  live().began(urn);
  try {
    const r = await op();
    live().ended(urn, true);
    return r;
  } catch (e) {
    live().ended(urn, false);
    throw e;
  }
}

/**
 * Engine references (a Migration's children, provider/engineRefs.ts): resolved to the configured connections on the
 * way in, and what goes back to the state made references again (never a password). Without references: as is.
 */
function refsOut<T>(v: T, inputs: any[]): T {
  if (!inputs.some(hasEngineRefs)) return v;
  const paths = new Map<string, string>();
  for (const i of inputs) for (const [k, n] of engineRefPaths(i)) if (!paths.has(k)) paths.set(k, n);
  return toEngineRefs(v, paths);
}

function sanitized(p: dynamic.ResourceProvider, kind: string): dynamic.ResourceProvider {
  const resolved = (v: any, whenMissing: "unknown" | "throw") => (hasEngineRefs(v) ? resolveEngineRefs(v, whenMissing) : v);
  return {
    // the explicit provider of a Migration holds its engines (sdk/engineProvider.ts); the default provider none
    configure: async (req: any) => configureEngines(req?.config?.rawConfig),
    check: p.check && (async (olds, news) => {
      const r = await p.check!(resolved(olds, "unknown"), resolved(news, "unknown"));
      const urn = typeof news?.__progressUrn === "string" && news.__progressUrn.startsWith("urn:pulumi:") ? news.__progressUrn : undefined;
      const g = await groupedCheck(kind, news, r, urn, logError);
      return { ...g, inputs: plain(refsOut(g.inputs, [news])) };
    }),
    diff: p.diff && (async (id, olds, news) => {
      const r = await p.diff!(id, resolved(olds, "unknown"), resolved(news, "unknown"));
      if (r && r.changes === false) live().unchanged(urnOf(news));
      return r;
    }),
    create: async (inputs) => {
      refuseWhilePending();
      const r = await tracked(urnOf(inputs), () => p.create(resolved(inputs, "throw")));
      return { id: r.id, outs: plain(refsOut(r.outs, [inputs])) };
    },
    read: p.read && (async (id, props) => {
      const r = await p.read!(id, resolved(props, "throw"));
      const out: any = {};
      if (r.id !== undefined) out.id = r.id;
      if (r.props !== undefined) out.props = plain(refsOut(r.props, [props]));
      if ((r as any).inputs !== undefined) out.inputs = plain(refsOut((r as any).inputs, [props]));
      return out as dynamic.ReadResult;
    }),
    update: p.update && (async (id, olds, news) => {
      refuseWhilePending();
      const r = await tracked(urnOf(news), () => p.update!(id, resolved(olds, "throw"), resolved(news, "throw")));
      return { outs: plain(refsOut(r?.outs, [news, olds])) };
    }),
    delete: p.delete && (async (id, props) => {
      refuseWhilePending();
      return p.delete!(id, resolved(props, "throw"));
    }),
  } as dynamic.ResourceProvider;
}

export const kinds = Object.keys(KINDS) as ResourceKind[];
