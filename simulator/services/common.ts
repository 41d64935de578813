// Helpers shared by the services: lookups that answer engine faults, collection replies, action replies.
import { Ctx, Reply } from "../router";
import { EngineFault, EngineFaults } from "../engineFaults";
import { applySearch, CrossRef, FieldGetter } from "../model/search";
import { ClusterRec, JobRec, StorageDomainRec } from "../model/types";
import { bool, Ref, ref, XNode } from "../xml/xml";
import { follows, Obj } from "../xml/write";

export function notFound(): EngineFault {
  return EngineFaults.notFound();
}

export function list<T>(
  ctx: Ctx,
  plural: string,
  singular: string,
  items: T[],
  map: (e: T, f: Set<string>) => Obj,
  search?: Record<string, FieldGetter<T>>,
  crossRefs?: Record<string, CrossRef<T>>,
): Reply {
  let xs = items;
  const q = ctx.query.get("search");
  if (q && search) xs = applySearch(xs, q, search, ctx.query.get("case_sensitive") === "true", crossRefs);
  const max = ctx.query.get("max");
  if (max !== null && max !== "" && Number(max) >= 0) xs = xs.slice(0, Number(max));
  const f = follows(ctx.query.get("follow"));
  return { status: 200, root: plural, content: { [singular]: xs.map((e) => map(e, f)) } };
}

export function one(root: string, content: Obj, status = 200): Reply {
  return { status, root, content };
}

export function byIdOr404<T extends { id: string }>(items: T[], id: string): T {
  const e = items.find((x) => x.id === id);
  if (!e) throw notFound();
  return e;
}

/** Resolves a `<storage_domain id|name>` reference: 404 "Entity not found: Storage: name=x" on a miss. */
export function resolveSd(ctx: Ctx, r: Ref | undefined): StorageDomainRec | undefined {
  if (!r) return undefined;
  const sds = ctx.engine.state.storageDomains;
  if (r.id) {
    const sd = sds.find((s) => s.id === r.id);
    if (!sd) throw EngineFaults.entityNotFound("Storage", `id=${r.id}`);
    return sd;
  }
  if (r.name) {
    const sd = sds.find((s) => s.name === r.name);
    if (!sd) throw EngineFaults.entityNotFound("Storage", `name=${r.name}`);
    return sd;
  }
  return undefined;
}

export function resolveCluster(ctx: Ctx, r: Ref | undefined): ClusterRec | undefined {
  if (!r) return undefined;
  const cs = ctx.engine.state.clusters;
  if (r.id) {
    const c = cs.find((x) => x.id === r.id);
    if (!c) throw EngineFaults.entityNotFound("Cluster", `id=${r.id}`);
    return c;
  }
  if (r.name) {
    const c = cs.find((x) => x.name === r.name);
    if (!c) throw EngineFaults.entityNotFound("Cluster", `name=${r.name}`);
    return c;
  }
  return undefined;
}

export function actionNode(ctx: Ctx): XNode {
  return ctx.body?.node ?? {};
}

export function sdRef(ctx: Ctx): Ref | undefined {
  return ref(actionNode(ctx), "storage_domain");
}

/** true for a request parameter given as query/matrix parameter or body element. */
export function flag(ctx: Ctx, name: string): boolean {
  const q = ctx.query.get(name);
  if (q !== null) return q === "" || q.toLowerCase() === "true";
  return bool(actionNode(ctx), name) === true;
}

/**
 * restapi ParametersHelper.getBooleanParameter: the parameter from the query, else the matrix parameters of the last
 * path segment (the server merges both into ctx.query, query first); present without a value -> `empty`; t/true/y/yes/1
 * and f/false/n/no/0 in any case; any other value is ignored (logged by the engine) -> `missing`.
 */
export function boolParam(ctx: Ctx, name: string, empty: boolean, missing: boolean): boolean {
  const v = ctx.query.get(name);
  if (v === null) return missing;
  if (v === "") return empty;
  if (/^(f(alse)?|n(o)?|0)$/i.test(v)) return false;
  if (/^(t(rue)?|y(es)?|1)$/i.test(v)) return true;
  return missing;
}

/** `<async>false</async>` in the action body (or ?async=false) asks the server to block until the job ends. */
export function blocking(ctx: Ctx): boolean {
  const q = ctx.query.get("async");
  if (q !== null) return q.toLowerCase() === "false";
  return bool(actionNode(ctx), "async") === false;
}

export function echo(ctx: Ctx): Obj {
  const n = { ...(actionNode(ctx) as Obj) };
  delete n.fault;
  delete n.status;
  delete n.job;
  return n;
}

/** Reply to an action whose work is done. */
export function actionComplete(ctx: Ctx, extra: Obj = {}): Reply {
  return { status: 200, root: "action", content: { ...echo(ctx), ...extra, status: "complete" } };
}

const jobWaiters = new Map<string, (() => void)[]>();

export function notifyJobEnd(job: JobRec): void {
  const ws = jobWaiters.get(job.id);
  jobWaiters.delete(job.id);
  ws?.forEach((w) => w());
}

function waitJob(job: JobRec): Promise<void> {
  if (job.status !== "started") return Promise.resolve();
  return new Promise((resolve) => {
    const list = jobWaiters.get(job.id) ?? [];
    list.push(resolve);
    jobWaiters.set(job.id, list);
  });
}

/**
 * Reply to an action that started a job: 202 + <job> link, or, with <async>false</async>, block until the job
 * ends and answer 200 with status complete/failed (a late failure is still HTTP 200 without a fault).
 */
export async function actionJob(ctx: Ctx, job: JobRec, verb: string): Promise<Reply> {
  const jobLink = ctx.w.link(`jobs/${job.id}`, job.id);
  if (blocking(ctx)) {
    await waitJob(job);
    return { status: 200, root: "action", content: { ...echo(ctx), job: jobLink, status: job.status === "finished" ? "complete" : "failed" } };
  }
  const self = `${ctx.path.replace(/\/[^/]+$/, "")}/${verb}/${job.id}`;
  return {
    status: 202,
    root: "action",
    content: {
      "@_href": ctx.w.href(self),
      "@_id": job.id,
      ...echo(ctx),
      link: [
        { "@_href": ctx.w.href(ctx.path.replace(/\/[^/]+$/, "")), "@_rel": "parent" },
        { "@_href": ctx.w.href(ctx.path), "@_rel": "replay" },
      ],
      async: true,
      job: jobLink,
      status: "pending",
    },
  };
}

/**
 * PUT of an entity: every element the simulator does not model is refused with 400 naming it (the engine would apply
 * it; answering 200 and changing nothing would let a client take a no-op for success). `fields`: the modelled
 * top-level elements, each with the child elements it reads (`true` = text value). Root `id`/`href` (attribute or
 * element) are accepted: the URL names the entity.
 */
export function refuseUnmodelled(ctx: Ctx, root: string, body: XNode, fields: Record<string, true | string[]>): void {
  const what = `PUT ${ctx.path.replace(/\/[^/]+$/, "/{id}")}`;
  const list = Object.entries(fields).map(([k, v]) => (v === true ? k : `${k} (${v.join(", ")})`)).join(", ");
  const refuse = (field: string, why = "") =>
    new EngineFault(400, "Bad Request", `${what}: the simulator does not model updates of ${field}${why}; it updates only ${list}`);
  for (const k of Object.keys(body)) {
    if (k === "@_id" || k === "@_href" || k === "id" || k === "href") continue;
    if (k === "#text") {
      if (String(body[k]).trim()) throw refuse(`${root} text`);
      continue;
    }
    const allowed = fields[k];
    if (!allowed) throw refuse(`${root}.${k.replace(/^@_/, "@")}`);
    if (allowed === true) continue;
    const c = body[k];
    if (!c || typeof c !== "object" || Array.isArray(c)) {
      if (Array.isArray(c)) throw refuse(`${root}.${k}`, " (given more than once)");
      continue;
    }
    for (const ck of Object.keys(c as XNode)) {
      if (ck === "@_href" || ck === "#text") continue;
      const name = ck.replace(/^@_/, "");
      if (!allowed.includes(name)) {
        throw refuse(`${root}.${k}.${name}`, name === "name" && allowed.includes("id") ? ` (the engine reads ${k} by id only and ignores a name)` : "");
      }
    }
  }
}

export function requireBody(ctx: Ctx, root: string, op: string): XNode {
  if (!ctx.body) throw EngineFaults.badRequest(`Request body is missing: ${root} required for ${op}`);
  return ctx.body.node;
}
