/**
 * VmImport's create: decide what is in the target already (ours from an earlier run, adopted, skipped, a clone),
 * submit the import (operations/submit.ts), wait for it (operations/wait.ts), then set the CPU profile and the
 * permissions (operations/permissions.ts).
 */
import type { Cluster, OvirtClient } from "../../client";
import { EngineError } from "../../client/errors";
import { ArgError, clientFor, engineText, sameEngine } from "../common";
import { Progress } from "../../progress";
import { timeoutMsForBytes } from "../../client/wait";
import { waitForJob, failureReason, lostWhen } from "../../operations/wait";
import { submitWithRecovery } from "../../operations/submit";
import { COMPLETION_WINDOW_MS } from "../../operations/readCache";
import { applyPermissions } from "../../operations/permissions";
import { unknownCpuProfile } from "../../operations/rules";
import { Ownership, adoptionNote, createdBy, resourceCorrelationId } from "../ownership";
import { isMacDuplicatesRefusal, macRefusal, previewMacConflict } from "./macConflicts";
import { engineKey, followedDisks } from "../../operations/reads";
import { VmImportArgs } from "./args";
import { VmImportOutputs, outputsFor } from "./outputs";
import { Entity, Resolved, allocationCollapses, diskSpecs, domainLookup, entityByName, entityDc, getEntity, importCorrelationId, resolve, targetName, templateAllocationFailures, templateProblem } from "./target";

/** What one run works with: the resolved target, the deadline, and the reads of the target data center it shares. */
interface Ctx {
  a: VmImportArgs;
  r: Resolved;
  c: OvirtClient;
  progress: Progress;
  /** "VM web-01" */
  label: string;
  /** the copy's disks, allocated or virtual (the larger) */
  bytes: number;
  deadline: number;
  dcCache: Map<string, string | undefined>;
  /**
   * Entities named `n` in the target data center: VM and template names are unique per data center (the engine's
   * ImportVm/ImportVmTemplate validation looks the name up with the target storage pool id), ids in the whole engine.
   * `answer` is a read already asked for; without it the read is fresh.
   */
  inTargetDc(n: string, answer?: Promise<Entity[]>): Promise<Entity[]>;
  /** The correlation id of this resource's import as `n`: stable per resource (its URN) and per target (ownership.ts). */
  corrFor(n: string): string;
}

/** What is in the target already, and what this run does about it (`decide`). */
interface Decision {
  /** an entity this run takes over: our own earlier import (ownership "created"), or one the user adopts */
  adopt?: Entity;
  /** set when `onConflict: "skip"` leaves an existing entity alone */
  skipped?: Entity;
  ownership: Ownership;
  clone: boolean;
  /** the name in the target */
  name: string;
}

export async function run(a: VmImportArgs, progress: Progress, urn: string | undefined, prev?: VmImportOutputs): Promise<VmImportOutputs> {
  const r = await resolve(a);
  const { c, cluster, dcId, copy } = r;
  const label = `${a.kind === "vm" ? "VM" : "template"} ${a.name}`;
  const bytes = r.copyDisks.reduce((s, d) => s + Math.max(d.provisioned_size ?? 0, d.actual_size ?? 0), 0);
  const dcCache = new Map<string, string | undefined>();
  const ctx: Ctx = {
    a,
    r,
    c,
    progress,
    label,
    bytes,
    deadline: Date.now() + timeoutMsForBytes(bytes, a.timeoutMinutes),
    dcCache,
    inTargetDc: async (n, answer) => {
      const out: Entity[] = [];
      for (const e of await (answer ?? entityByName(c, a.kind, n))) if ((await entityDc(c, e, dcCache)) === dcId) out.push(e);
      return out;
    },
    corrFor: (n) => importCorrelationId(urn, r.exportSd.id, copy.id, n, cluster.id),
  };

  // architecture of the copy vs the cluster
  const arch = copy.cpu?.architecture;
  if (arch && arch !== "undefined" && cluster.cpu?.architecture && arch !== cluster.cpu.architecture) {
    throw new ArgError("cluster", `cluster: ${label} is ${arch} but cluster ${cluster.name} is ${cluster.cpu.architecture}; choose a ${arch} cluster`);
  }

  const d = await decide(ctx);
  if (d.skipped) {
    return outputsFor(r, a, d.skipped, { imported: false, ownership: "skipped", cloned: false, collapsed: false, permissionIds: [] });
  }
  // a clone always collapses (as the admin portal's Clone does); the engine requires it for snapshots/templates.
  // A per-disk allocation is applied only to a collapsed copy: it collapses too (allocationCollapses)
  const collapse = a.collapseSnapshots || (d.clone && a.kind === "vm") || allocationCollapses(a);
  if (!d.adopt) {
    const ta = templateAllocationFailures(a)[0];
    if (ta) throw new ArgError(ta.property, ta.reason);
    const tProblem = await templateProblem(c, a, copy, domainLookup(c, r.exportSd.id, a), dcId, collapse, r.copyDisks);
    if (tProblem) throw new ArgError(tProblem.property, tProblem.reason);
    if (d.clone && (await ctx.inTargetDc(d.name)).length > 0) {
      throw new ArgError(
        "newName",
        `newName: the clone name ${d.name} is already taken in the target data center; set newName (or another cloneSuffix).`,
      );
    }
  }

  let entity: Entity;
  let adoptedLocked = false;
  if (d.adopt) {
    entity = d.adopt;
    adoptedLocked = await resume(ctx, d);
  } else {
    entity = await importCopy(ctx, d, collapse);
  }
  // a resumed import that was still running changed the entity since it was read; a fresh one answers the entity as
  // read after it ended (importCopy)
  return configure(ctx, d, entity, { collapse, changed: adoptedLocked, prev });
}

/**
 * Conflicts: an entity of the same id anywhere in the engine, or of the same name in the target data center. Ours
 * (an earlier, interrupted or state-lost run of this resource, proven by the audit log) is resumed; `adopt: true`
 * takes over what is there; otherwise `onConflict` decides (skip, fail naming the fixes, or clone), and a MAC
 * conflict across engines counts as a conflict too. One fresh read per name (shared with the imports deciding now).
 */
/** What `decide` reads once: the entities of the copy's id and of the candidate names, and who made them. */
interface Occupancy {
  cloneNames: string[];
  byName: Map<string, Promise<Entity[]>>;
  sameId?: Entity;
  sameIdDc?: string;
  namedInDc?: Entity;
  /** An entity named `n` in the target data center that an earlier attempt of this resource created. */
  oursNamed(n: string): Promise<Entity | undefined>;
}

async function occupancy(ctx: Ctx): Promise<Occupancy> {
  const { a, c, r, dcCache } = ctx;
  const { copy } = r;
  const cloneNames = a.clone || a.onConflict === "clone" ? (a.newName ? [a.newName] : a.cloneSuffix ? [a.name + a.cloneSuffix] : [a.name, `${a.name}-clone`]) : [];
  const byName = new Map<string, Promise<Entity[]>>();
  for (const n of new Set([a.name, ...cloneNames])) byName.set(n, entityByName(c, a.kind, n));
  byName.forEach((p) => p.catch(() => undefined));
  const sameId = await getEntity(c, a.kind, copy.id);
  const sameIdDc = sameId ? await entityDc(c, sameId, dcCache) : undefined;
  const namedInDc = (await ctx.inTargetDc(a.name, byName.get(a.name))).find((e) => e.id !== copy.id);
  const oursNamed = async (n: string): Promise<Entity | undefined> => {
    for (const e of (await ctx.inTargetDc(n, byName.get(n))).filter((x) => x.id !== copy.id)) {
      if (await createdBy(c, [ctx.corrFor(n)], e.id)) return e;
    }
    return undefined;
  };
  return { cloneNames, byName, sameId, sameIdDc, namedInDc, oursNamed };
}

/**
 * What this resource may take over: its own earlier import (by its correlation id: plain, or a clone under one of its
 * names), else, with `adopt: true` only, what the user told it to take (same id or the target name in the target
 * data center). Undefined when nothing.
 */
async function takeOver(ctx: Ctx, o: Occupancy): Promise<Decision | undefined> {
  const { a, c, r, progress, label } = ctx;
  const { sameId, sameIdDc, namedInDc } = o;
  if (sameId && sameIdDc === r.dcId && !a.clone && (await createdBy(c, [ctx.corrFor(a.name)], sameId.id))) {
    return { adopt: sameId, ownership: "created", clone: a.clone, name: a.name }; // our own earlier (interrupted, or state lost) plain import
  }
  if (a.clone || a.onConflict === "clone") {
    for (const n of o.cloneNames) {
      const mine = await o.oursNamed(n);
      if (mine) return { adopt: mine, ownership: "created", clone: true, name: n };
    }
  }
  if (a.adopt) {
    // the user told us to take over what is there (same id, or the target name, in the target data center)
    const there = sameId && sameIdDc === r.dcId ? sameId : namedInDc;
    if (there) {
      progress.info(`${label}: ${adoptionNote(a.kind === "vm" ? "VM" : "template", there.name, there.id)}`);
      return { adopt: there, ownership: "adopted", clone: a.clone, name: there.name };
    }
  }
  return undefined;
}

/** A conflict (same id anywhere in the engine, or the name in the target data center) under onConflict: skip (a decision), fail (thrown), clone (true). */
function conflictOutcome(ctx: Ctx, o: Occupancy): Decision | boolean {
  const { a, c, r, progress, label } = ctx;
  const { sameId, sameIdDc, namedInDc } = o;
  if (a.clone || !(sameId || namedInDc)) return a.clone;
  const what = sameId
    ? `${a.kind === "vm" ? "a VM" : "a template"} with the same id already exists in engine ${c.url} (${sameId.name}${sameIdDc && sameIdDc !== r.dcId ? ", in another data center" : ""})`
    : `${a.kind === "vm" ? "a VM" : "a template"} named ${a.name} already exists in the target data center`;
  if (a.onConflict === "skip") {
    const existing = namedInDc ?? sameId!;
    progress.info(`${label}: ${what}; skipped (onConflict: "skip")`);
    return { skipped: existing, ownership: "skipped", clone: false, name: existing.name };
  }
  if (a.onConflict === "fail") {
    throw new ArgError(
      "onConflict",
      `onConflict: cannot import ${label}: ${what} (id ${(sameId ?? namedInDc)!.id}), and this resource did not create it. ` +
        `Set onConflict: "clone" to import a copy (new id and MACs; newName or cloneSuffix for a new name), onConflict: "skip" to leave the existing one alone, ` +
        `or adopt: true to manage the existing one (it is then kept on destroy). Check cluster too: importing into the source's own data center conflicts with the source.`,
    );
  }
  return true;
}

/** Across engines with onConflict "clone": MACs in use in the target cluster's pool are a conflict like the others (macConflicts.ts; check says so too). */
async function macsForceClone(ctx: Ctx): Promise<boolean> {
  const { a, c, r, progress, label } = ctx;
  const macSource = a.expectExportDomain?.engine && !sameEngine(a.expectExportDomain.engine, a.engine) ? a.expectExportDomain.engine : undefined;
  if (a.kind !== "vm" || a.onConflict !== "clone" || !macSource) return false;
  const mf = await previewMacConflict({ c, key: engineKey(a.engine), cluster: r.cluster, vmName: a.name, copyId: r.copy.id, source: { client: clientFor(macSource), url: macSource.url } });
  if (mf) progress.info(`${label}: its MAC addresses are in use in the MAC pool of cluster ${r.cluster.name}; imported as a clone (onConflict: "clone")`);
  return !!mf;
}

/** What the import does: take over (its own earlier import, or what adopt names), skip, fail, or import (plain or as a clone, under which name). */
async function decide(ctx: Ctx): Promise<Decision> {
  const { a, r } = ctx;
  const o = await occupancy(ctx);
  const taken = await takeOver(ctx, o);
  if (taken) return taken;
  const nameTaken = !!o.namedInDc || (!!o.sameId && o.sameIdDc === r.dcId && o.sameId.name === a.name);
  const outcome = conflictOutcome(ctx, o);
  if (typeof outcome !== "boolean") return outcome;
  const clone = outcome || (await macsForceClone(ctx));
  return { ownership: "created", clone, name: targetName(a, clone, nameTaken) };
}

/** Takes over `d.adopt`; waits for the import still running on it (ours, interrupted). True when it was locked. */
async function resume(ctx: Ctx, d: Decision): Promise<boolean> {
  const { a, c, progress, label } = ctx;
  const adopt = d.adopt!;
  if (d.ownership === "created") progress.info(`${label}: resuming ${adopt.name} (${adopt.id}), imported by an earlier run of this resource`);
  if (adopt.status !== "image_locked" && adopt.status !== "locked") return false;
  await waitForJob({
    c,
    correlationId: ctx.corrFor(d.name),
    what: `import of ${label}`,
    deadline: ctx.deadline,
    progress,
    totalBytes: ctx.bytes,
    entityDone: async () => {
      const e = await getEntity(c, a.kind, adopt.id);
      return !!e && e.status !== "image_locked" && e.status !== "locked";
    },
  });
  return true;
}

/** Submits the import of the copy (a lost answer is recovered, never sent twice) and waits for it; answers the new entity. */
async function importCopy(ctx: Ctx, d: Decision, collapse: boolean): Promise<Entity> {
  const { a, c, r, progress, label, dcCache } = ctx;
  const { cluster, dcId, copy } = r;
  const { clone, name } = d;
  progress.info(`importing ${label}${clone ? ` as ${name}` : ""} into ${cluster.name}${collapse ? " (collapsing snapshots)" : ""}`);
  /** The entity this import creates: by id, or for a clone by name in the target data center (the source VM of
   * the same name lives in another data center of this engine and must not be taken for it). It confirms an end: the
   * completion window lets the imports ending together share the read. */
  const find = async (): Promise<Entity | undefined> => {
    if (!clone) {
      const e = await getEntity(c, a.kind, copy.id, COMPLETION_WINDOW_MS);
      return e && (await entityDc(c, e, dcCache)) === dcId ? e : undefined;
    }
    return (await ctx.inTargetDc(name, entityByName(c, a.kind, name, COMPLETION_WINDOW_MS)))[0];
  };
  const jobId = await submitImport(ctx, d, collapse, find);
  const entity = await importDone(ctx, ctx.corrFor(name), jobId, find);
  progress.info(`imported ${label} as ${entity.name} (${entity.id})`);
  return entity;
}

/** The import POST, recovered when its answer is lost (the engine adds the entity, locked, before it answers); the job id when known. */
async function submitImport(ctx: Ctx, d: Decision, collapse: boolean, find: () => Promise<Entity | undefined>): Promise<string | undefined> {
  const { a, c, r, label } = ctx;
  const { cluster, copy } = r;
  const correlationId = ctx.corrFor(d.name);
  const { jobId } = await submitWithRecovery({
    c,
    correlationId,
    deadline: ctx.deadline,
    post: () =>
      c.exportContent(a.kind).import(r.exportSd.id, copy.id, {
        storageDomainId: r.sd.id,
        clusterId: cluster.id,
        clone: d.clone,
        newName: d.clone ? d.name : undefined,
        collapseSnapshots: collapse,
        disks: diskSpecs(a, r.copyDisks, r.diskSdIds, r.sd.id),
        correlationId,
      }),
    // present is our import started
    trace: find,
  }).catch(async (e: unknown) => {
    // a refusal after recent reads (resolve): what a fresh resolve finds wrong (a domain no longer active, the copy
    // gone) says it as the check does; else the engine's reason
    if (e instanceof EngineError && e.status < 500) await resolve(a, true);
    throw await importRefusal(e, a, label, cluster, copy.id);
  });
  return jobId;
}

/**
 * Waits for the import to end; answers the entity as read after it ended (unlocked). Seen and then gone: the engine's
 * failure path removed it; never seen: lost after a grace period (`lostWhen`).
 */
async function importDone(ctx: Ctx, correlationId: string, jobId: string | undefined, find: () => Promise<Entity | undefined>): Promise<Entity> {
  const { c, progress, label } = ctx;
  // entityDone reads; entityFailed judges from that same read (waitForJob calls it right after)
  let seen = false;
  let last: Entity | undefined;
  let done: Entity | undefined;
  const lost = lostWhen(async () => !last, `import of ${label}`);
  await waitForJob({
    c,
    jobId,
    correlationId,
    what: `import of ${label}`,
    deadline: ctx.deadline,
    progress,
    totalBytes: ctx.bytes,
    entityDone: async () => {
      const e = (last = await find());
      if (e) seen = true;
      const ok = !!e && e.status !== "image_locked" && e.status !== "locked";
      if (ok) done = e;
      return ok;
    },
    entityFailed: async () => (!seen ? lost() : last ? undefined : await failureReason(c, correlationId)),
  });
  // the entity entityDone saw unlocked (a fresh read made after the job ended)
  const entity = done ?? (await find());
  if (!entity) throw new Error(`import of ${label} failed in the engine: ${await failureReason(c, correlationId)}`);
  return entity;
}

/** CPU profile and permissions on the entity (imported, resumed or adopted); answers the outputs. */
async function configure(
  ctx: Ctx,
  d: Decision,
  entity: Entity,
  o: { collapse: boolean; changed: boolean; prev?: VmImportOutputs },
): Promise<VmImportOutputs> {
  const { a, c, r, progress } = ctx;
  let cpuProfileId: string | undefined;
  let changed = o.changed;
  if (a.cpuProfile) {
    const profiles = await c.clusters.cpuProfiles(r.cluster.id);
    const p = profiles.find((x) => x.name === a.cpuProfile);
    if (!p) throw new ArgError("cpuProfile", unknownCpuProfile(r.cluster.name, a.cpuProfile, profiles));
    cpuProfileId = p.id;
    if (entity.cpu_profile?.id !== p.id) {
      if (a.kind === "vm") await c.vms.update(entity.id, { cpu_profile: { id: p.id } });
      else await c.templates.update(entity.id, { cpu_profile: { id: p.id } });
      changed = true;
    }
  }
  const granted = await applyPermissions(c, a.kind, entity.id, a.permissions, o.prev?.ownPermissionIds ?? [], progress);
  // read again only when we changed the entity (permissions live apart from it)
  if (changed || (a.kind === "vm" && !followedDisks(entity))) entity = (await getEntity(c, a.kind, entity.id)) ?? entity;
  return outputsFor(r, a, entity, {
    imported: d.ownership === "created",
    ownership: d.ownership,
    cloned: d.clone,
    collapsed: o.collapse,
    permissionIds: granted.ids,
    ownPermissionIds: granted.ours,
    cpuProfileId,
  });
}

/** The engine's refusal of an import, as an error naming the argument and the fix. */
async function importRefusal(e: unknown, a: VmImportArgs, label: string, cluster: Cluster, copyId: string): Promise<unknown> {
  if (!(e instanceof EngineError)) return e;
  const t = engineText(e);
  if (/must be collapsed/i.test(t)) {
    return new ArgError("collapseSnapshots", `collapseSnapshots: ${t} Set collapseSnapshots: true.`);
  }
  if (/Template doesn't exist|does not contain the VM Template|Template is missing/i.test(t)) {
    return new ArgError("collapseSnapshots", `collapseSnapshots: ${t} Import the VM's template first, or set collapseSnapshots: true.`);
  }
  if (a.kind === "vm" && isMacDuplicatesRefusal(t)) {
    // the copy's MACs are in use in the target cluster's MAC pool (macConflicts.ts): name them and the fix
    const src = a.expectExportDomain?.engine && !sameEngine(a.expectExportDomain.engine, a.engine) ? a.expectExportDomain.engine : undefined;
    return macRefusal(
      { c: clientFor(a.engine), key: engineKey(a.engine), cluster, vmName: a.name, copyId, source: src ? { client: clientFor(src), url: src.url } : undefined },
      t,
    );
  }
  if (/already exists/i.test(t)) {
    return new ArgError("onConflict", `onConflict: ${t}. Set onConflict: "clone" or "skip".`);
  }
  if (/architecture/i.test(t)) return new ArgError("cluster", `cluster: ${t}`);
  return new Error(`import of ${label} refused by the engine: ${t}`);
}
