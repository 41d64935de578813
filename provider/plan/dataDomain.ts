/**
 * The plan of a data-domain move (`Migration` with method "data-domain", sdk/migration.ts moveDataDomain): the data
 * domain holding the VMs' disks is deactivated and detached in the source (across engines: removed without format
 * and imported into the target engine), attached and activated in the target, then its templates and VMs are
 * registered there. No disk byte is copied; the plan shows what moves, what each entity will be called, what
 * refuses, and the storage operations with an estimate from the engine's own recent storage jobs.
 *
 * Reads only (GET). The rules are the resources' own, not copies: what leaves with the domain, running VMs and split
 * VMs come from DataDomainAttachment's `leavingWith` (resources/dataDomainAttachment/steps.ts; the master rules from
 * its `masterRefusal`); names and id conflicts from operations/registration.ts, which VmRegistration's check uses.
 */
import type { Disk, Template, Vm, Job } from "../client";
import { BLANK_TEMPLATE_ID } from "../client/types";
import { cachedRead } from "../resources/common";
import { vmsNamed, followedDisks } from "../operations/reads";
import { idInUseAtRegister, nameTakenInTarget, registeredName } from "../operations/registration";
import { attachedDcIds, leavingWith, masterRefusal, type Leaving } from "../resources/dataDomainAttachment/steps";
import { side, type Side } from "./compute";
import { PlanSpec, PlanEntitySpec, DataDomainPlan, DataDomainPlanEntity, DataDomainPhase, formatBytes, formatDuration, planHeader } from "./model";

const TTL = 10_000;

/**
 * The engine's jobs of the storage operations of a move, by their description (dal ExecutionMessages.properties:
 * job.DeactivateStorageDomainWithOvfUpdate, job.DetachStorageDomainFromPool, job.AttachStorageDomainToPool,
 * job.ActivateStorageDomain, job.ImportVmFromConfiguration, job.ImportVmTemplateFromConfiguration).
 */
const JOB_KINDS: Array<{ key: string; re: RegExp }> = [
  { key: "deactivate", re: /^Deactivating Storage Domain /i },
  { key: "detach", re: /^Detaching Storage Domain /i },
  { key: "attach", re: /^Attaching Storage Domain /i },
  { key: "activate", re: /^Activating Storage Domain /i },
  { key: "register", re: /^Importing (VM|Template) .* from configuration/i },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median duration (s) of each storage operation among the engines' finished jobs; {} when they list none. */
async function storageJobDurations(sides: Side[]): Promise<{ perOp: Record<string, number>; count: number }> {
  const samples: Record<string, number[]> = {};
  let count = 0;
  for (const s of [...new Map(sides.map((x) => [x.key, x])).values()]) {
    let jobs: Job[];
    try {
      jobs = await cachedRead(`${s.key}|plan-jobs`, TTL, () => s.c.jobs.list());
    } catch {
      continue;
    }
    for (const j of jobs) {
      if (j.status !== "finished" || !j.start_time || !j.end_time) continue;
      const k = JOB_KINDS.find((x) => x.re.test(j.description ?? ""));
      const secs = (Date.parse(j.end_time) - Date.parse(j.start_time)) / 1000;
      if (!k || !(secs >= 0)) continue;
      (samples[k.key] ??= []).push(secs);
      count++;
    }
  }
  return { perOp: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])), count };
}

const diskSdId = (d: Disk) => d.storage_domains?.[0]?.id ?? (d as { storage_domain?: { id?: string } }).storage_domain?.id;

/** Builds the data-domain plan. Reads only; connection failures are thrown (the caller reports them under `engine.*`). */
export async function computeDataDomainPlan(spec: PlanSpec): Promise<DataDomainPlan> {
  const crossEngine = spec.crossEngine && !!spec.targetEngine;
  const domain = spec.dataDomain ?? "";
  const src = await side(spec.engine, spec.source.dataCenter);
  const tgt = crossEngine ? await side(spec.targetEngine!, spec.target.dataCenter) : { ...src, dc: src.dcs.find((d) => d.name === spec.target.dataCenter) };
  const notes: string[] = [];
  const risks: string[] = [];
  const failures: DataDomainPlan["failures"] = [];
  if (!domain) failures.push({ property: "dataDomain", reason: `dataDomain: method "data-domain" needs the data storage domain that holds the VMs' disks` });
  if (!src.dc) failures.push({ property: "source.dataCenter", reason: `source.dataCenter: no data center ${spec.source.dataCenter} in ${src.url}` });
  if (!tgt.dc) failures.push({ property: "target.dataCenter", reason: `target.dataCenter: no data center ${spec.target.dataCenter} in ${tgt.url}` });

  // where the domain is now: attached to the source data center (the move is ahead), to the target (moved already:
  // a resumed run), or neither (between the detach and the attach, or unknown)
  const sdIn = (s: Side) => s.sds.find((d) => d.name === domain && (!d.type || d.type === "data"));
  const sdSrc = sdIn(src);
  const sdTgt = crossEngine ? sdIn(tgt) : sdSrc;
  let where: DataDomainPlan["where"] = "unknown";
  let domainState = "not found";
  if (sdSrc && src.dc && attachedDcIds(sdSrc).includes(src.dc.id)) {
    where = "source";
    domainState = `attached to ${spec.source.dataCenter}${crossEngine ? ` of ${src.url}` : ""}`;
  } else if (sdTgt && tgt.dc && attachedDcIds(sdTgt).includes(tgt.dc.id)) {
    where = "target";
    domainState = `attached to ${spec.target.dataCenter}${crossEngine ? ` of ${tgt.url}` : ""} (moved already)`;
  } else if (sdSrc || sdTgt) {
    domainState = "attached to neither data center (a move in progress)";
    notes.push(`data domain ${domain} is attached to neither ${spec.source.dataCenter} nor ${spec.target.dataCenter}: its entities are judged when they are registered, after the attach`);
  } else if (domain) {
    failures.push({ property: "dataDomain", reason: `dataDomain: no data domain ${domain} in ${src.url}${crossEngine ? ` nor in ${tgt.url}` : ""}` });
  }

  // what leaves with the domain: DataDomainAttachment's own reading of the source
  let leaving: Leaving | undefined;
  if (where === "source" && sdSrc && src.dc) {
    leaving = await cachedRead(`${src.key}|plan-leaving|${sdSrc.id}`, TTL, () => leavingWith(src.c, sdSrc.id));
    const refusal = await masterRefusal(src.c, { id: src.dc.id, name: src.dc.name }, sdSrc);
    if (refusal) failures.push({ property: "dataDomain", reason: `dataDomain: ${refusal}` });
    if (leaving.running.length) {
      failures.push({
        property: "dataDomain",
        reason: `dataDomain: VMs with disks on data domain ${domain} are running in ${spec.source.dataCenter}: ${leaving.running.join(", ")}; the engine deactivates a data domain only when they are down. Shut them down first.`,
      });
    }
    if (leaving.split.length && !spec.allowSplitVms) {
      failures.push({
        property: "allowSplitVms",
        reason: `allowSplitVms: ${leaving.split.map((s) => `VM ${s.name} has disks on ${domain} (${s.here.join(", ")}) and on other domains (${s.elsewhere.join(", ")})`).join("; ")}: it stays in ${spec.source.dataCenter} without them. Move those disks first, or set allowSplitVms: true.`,
      });
    }
  }

  const declared = new Set(spec.entities.map((e) => `${e.kind}:${e.name}`));
  const leavesKey = new Set((leaving?.entities ?? []).map((e) => `${e.kind}:${e.name}`));
  const srcClusterIds = new Set(src.clusters.filter((c) => c.data_center?.id === src.dc?.id).map((c) => c.id));
  const tgtClusterIds = new Set(tgt.clusters.filter((c) => c.data_center?.id === tgt.dc?.id).map((c) => c.id));
  const clusterName = (s: Side, id?: string) => s.clusters.find((c) => c.id === id)?.name;

  // the entities as they are now: in the source (the domain moves ahead), or unregistered on the domain in the target
  const unregistered = { vm: [] as Array<Vm | Template>, template: [] as Array<Vm | Template> };
  if (where === "target" && sdTgt) {
    for (const kind of ["vm", "template"] as const) {
      unregistered[kind] = await cachedRead(`${tgt.key}|plan-unreg|${kind}|${sdTgt.id}`, TTL, () => tgt.c.registration(kind).listUnregistered(sdTgt.id)).catch(() => []);
    }
  }
  const tplDisks = (s: Side, id: string) => cachedRead(`${s.key}|tpl-disks|${id}`, TTL, () => s.c.templates.disks(id));
  const tplInDc = (s: Side, ids: Set<string>, name: string) => s.templates.find((t) => t.name === name && t.id !== BLANK_TEMPLATE_ID && !!t.cluster?.id && ids.has(t.cluster.id));
  const sdId = where === "target" ? sdTgt?.id : sdSrc?.id;

  const read = async (e: PlanEntitySpec): Promise<{ entity?: Vm | Template; disks: Disk[]; fromUnregistered: boolean }> => {
    if (where === "target") {
      const hit = unregistered[e.kind].find((x) => x.name === e.name);
      if (hit) return { entity: hit, disks: followedDisks(hit) ?? [], fromUnregistered: true };
      return { disks: [], fromUnregistered: false };
    }
    if (e.kind === "vm") {
      const vm = (await vmsNamed(src.c, e.name)).find((v) => !!v.cluster?.id && srcClusterIds.has(v.cluster.id));
      return { entity: vm, disks: vm ? followedDisks(vm) ?? [] : [], fromUnregistered: false };
    }
    const t = tplInDc(src, srcClusterIds, e.name);
    return { entity: t, disks: t ? await tplDisks(src, t.id) : [], fromUnregistered: false };
  };
  const views = await Promise.all(spec.entities.map(async (e) => ({ e, ...(await read(e)) })));

  // the target: entities of the final names in the target data center (name conflicts), and ids in the target engine
  const entities: DataDomainPlanEntity[] = [];
  const tplIdsRegistered = new Set<string>();
  for (const v of views) if (v.e.kind === "template" && v.entity) tplIdsRegistered.add(v.entity.id);
  for (const { e, entity, disks, fromUnregistered } of views) {
    const finalName = registeredName(e);
    const clone = e.onConflict === "clone";
    const cluster = e.cluster ?? spec.target.cluster;
    const diskRows = disks.map((d) => ({ alias: d.alias ?? d.id, provisioned: d.provisioned_size ?? 0, actual: d.actual_size ?? 0, onDomain: !!sdId && diskSdId(d) === sdId }));
    const notMoving = diskRows.filter((d) => !d.onDomain).map((d) => d.alias);
    const vm = e.kind === "vm" ? (entity as Vm | undefined) : undefined;
    const leaves = leavesKey.has(`${e.kind}:${e.name}`);
    const row: DataDomainPlanEntity = {
      kind: e.kind,
      name: e.name,
      found: !!entity,
      status: vm?.status,
      sourceCluster: where === "source" ? clusterName(src, entity?.cluster?.id) : undefined,
      outcome: "register",
      targetName: finalName,
      cluster,
      disks: diskRows,
      notMoving,
      snapshots: (vm?.snapshots ?? []).filter((s) => s.snapshot_type !== "active").length,
      leaves,
    };
    // registered already (an earlier run, or the domain moved and this name is in the target): nothing to judge
    const namedInTgt: Array<Vm | Template> = e.kind === "vm" ? await vmsNamed(tgt.c, finalName) : tgt.templates.filter((t) => t.name === finalName);
    if (!entity) {
      const there = namedInTgt.find((x) => !!x.cluster?.id && tgtClusterIds.has(x.cluster.id));
      if (where !== "source" && there) {
        row.outcome = "done";
        row.found = true;
        row.why = `registered in ${spec.target.dataCenter} already`;
      } else {
        row.outcome = "conflict";
        row.why = where === "source" ? `not in ${spec.source.dataCenter}` : `not on data domain ${domain}`;
      }
      entities.push(row);
      continue;
    }
    // neither a disk on the domain nor a thin VM of a template that leaves (leavingWith's rule): it does not move
    if (where === "source" && !leaves && !diskRows.some((d) => d.onDomain)) {
      row.outcome = "stays";
      row.why = `none of its disks is on ${domain}: it does not move`;
      entities.push(row);
      continue;
    }
    const taken = nameTakenInTarget(namedInTgt, tgtClusterIds, entity.id, clone);
    let idInTarget = false;
    if (!clone) {
      idInTarget = crossEngine || fromUnregistered
        ? !!(e.kind === "vm" ? await tgt.c.vms.get(entity.id).catch(() => undefined) : tgt.templates.find((t) => t.id === entity.id))
        : true; // within one engine the source itself has the id
    }
    const idConflict = idInUseAtRegister({ idInTarget, where: fromUnregistered ? "unregistered" : "source", notMoving: notMoving.length, crossEngine, clone });
    if (taken) {
      row.outcome = "conflict";
      row.why = `a ${e.kind === "vm" ? "VM" : "template"} named ${finalName} exists in ${spec.target.dataCenter}: set newName`;
    } else if (idConflict) {
      row.outcome = "conflict";
      row.why = `its id stays in use in the target engine${notMoving.length ? ` (it stays in ${spec.source.dataCenter} with ${notMoving.join(", ")})` : ""}: set onConflict "clone"`;
    } else if (clone) {
      row.outcome = "clone";
      row.why = "registered as a new entity (new id, new MAC addresses)";
    }
    if (notMoving.length && !spec.allowPartialImport && row.outcome !== "conflict") {
      failures.push({ property: "allowPartialImport", reason: `allowPartialImport: ${e.kind === "vm" ? "VM" : "template"} ${e.name} has disks that stay (${notMoving.join(", ")}); it can be registered only without them: set allowPartialImport: true, or move those disks onto ${domain} first.` });
    }
    if (row.outcome === "conflict") failures.push({ property: row.why!.includes("newName") ? "vms" : "onConflict", reason: `${e.kind} ${e.name}: ${row.why}` });
    // the template of a thin VM: registered by this migration first, in the target already, or missing
    const tid = vm?.template?.id;
    if (vm && tid && tid !== BLANK_TEMPLATE_ID) {
      const t = [...src.templates, ...tgt.templates].find((x) => x.id === tid) ?? (unregistered.template.find((x) => x.id === tid) as Template | undefined);
      const tname = t?.name ?? tid;
      const registeredHere = tplIdsRegistered.has(tid) || declared.has(`template:${tname}`);
      const inTarget = tgt.templates.some((x) => x.id === tid && !!x.cluster?.id && tgtClusterIds.has(x.cluster.id));
      row.template = { name: tname, registeredHere, inTarget, leaves: leavesKey.has(`template:${tname}`) };
      if (!registeredHere && !inTarget) {
        risks.push(`VM ${e.name} is thin on template ${tname}, which this migration does not register and ${spec.target.dataCenter} does not have: its register fails (list the template)`);
      }
    }
    if (row.outcome === "clone" && e.kind === "vm") risks.push(`VM ${e.name} is registered as a clone named ${finalName}: new id and new MAC addresses`);
    entities.push(row);
  }

  // what leaves the source although this migration does not register it
  const leavingLines: string[] = [];
  if (leaving) {
    leavingLines.push(...leaving.entities.map((x) => `${x.kind} ${x.name}${x.cluster ? ` (cluster ${x.cluster})` : ""}${declared.has(`${x.kind}:${x.name}`) ? "" : ": NOT registered by this migration"}`));
    leavingLines.push(...leaving.split.map((s) => `VM ${s.name} stays, losing disks ${s.here.join(", ")}`));
    const orphans = leaving.entities.filter((x) => !declared.has(`${x.kind}:${x.name}`));
    if (orphans.length) {
      risks.push(`${orphans.map((x) => `${x.kind} ${x.name}`).join(", ")} leave${orphans.length === 1 ? "s" : ""} ${spec.source.dataCenter} with ${domain} but ${orphans.length === 1 ? "is" : "are"} not registered by this migration (unregistered on the domain in ${spec.target.dataCenter}; the attachment's check refuses it: list ${orphans.length === 1 ? "it" : "them"})`);
    }
    for (const s of leaving.split) risks.push(`VM ${s.name} has disks on ${domain} and elsewhere: it stays in ${spec.source.dataCenter} without ${s.here.join(", ")}`);
  }
  if (crossEngine) {
    risks.push(`cross-engine move: data domain ${domain} is detached and removed from ${src.url} without format, then imported into ${tgt.url}; ${spec.source.dataCenter} of ${src.url} no longer knows it`);
    if (!spec.reassignBadMacs && entities.some((x) => x.kind === "vm" && x.outcome === "register")) {
      risks.push(`MAC addresses: the VMs keep theirs in ${tgt.url}; a MAC in use there or outside its pool's ranges fails the register unless reassignBadMacs is set`);
    }
  }

  // phases: the storage operations and the registrations, with the engine's recent job durations
  const jobs = await storageJobDurations([src, tgt]);
  const regs = { templates: entities.filter((x) => x.kind === "template" && (x.outcome === "register" || x.outcome === "clone")).length, vms: entities.filter((x) => x.kind === "vm" && (x.outcome === "register" || x.outcome === "clone")).length };
  const phases: DataDomainPhase[] = [];
  const moved = where !== "source";
  if (!moved) {
    phases.push(
      { key: "deactivate", title: `maintenance: deactivate ${domain} in ${spec.source.dataCenter} (the engine writes its OVF store)`, entities: 1, parallel: "one storage operation", seconds: jobs.perOp.deactivate },
      { key: "detach", title: `detach ${domain} from ${spec.source.dataCenter}`, entities: 1, parallel: "after the deactivate", seconds: jobs.perOp.detach },
    );
    if (crossEngine) {
      phases.push(
        { key: "remove", title: `remove ${domain} from ${src.url} without format`, entities: 1, parallel: "after the detach" },
        { key: "import", title: `import ${domain} into ${tgt.url}`, entities: 1, parallel: "after the remove" },
      );
    }
    // AttachStorageDomainToPoolCommand activates the domain itself; a separate activate only follows an attach that
    // ended in maintenance, so the attach job's duration is the phase's
    phases.push({ key: "attach", title: `attach and activate ${domain} in ${spec.target.dataCenter} (the engine reads its OVF store)`, entities: 1, parallel: "after the detach", seconds: jobs.perOp.attach });
  }
  phases.push(
    { key: "templates", title: "register templates", entities: regs.templates, parallel: "all at once", seconds: regs.templates ? jobs.perOp.register : 0 },
    { key: "vms", title: "register VMs", entities: regs.vms, parallel: "all at once, after the templates", seconds: regs.vms ? jobs.perOp.register : 0 },
  );
  const known = phases.every((p) => p.seconds !== undefined || (p.key !== "remove" && p.key !== "import" && p.entities === 0));
  const missingOps = phases.filter((p) => p.seconds === undefined && p.entities > 0).map((p) => p.key);
  let estimate: DataDomainPlan["estimate"];
  if (jobs.count === 0) {
    estimate = { basis: "no estimate: the engines list no finished storage-domain or register job (they keep finished jobs only for a while); nothing is copied, so the move takes the storage operations' time, not the disks' size" };
  } else {
    const basis = `measured: median durations of ${jobs.count} recent storage-domain/register job${jobs.count === 1 ? "" : "s"} (${Object.entries(jobs.perOp).map(([k, s]) => `${k} ${formatDuration(s)}`).join(", ")})`;
    const total = phases.reduce((a, p) => a + (p.seconds ?? 0), 0);
    estimate = known && !missingOps.length ? { seconds: total, basis } : { seconds: total, basis: `${basis}; not measured: ${missingOps.join(", ")} (left out of the total)` };
  }

  const entityBytes = entities.reduce((a, x) => a + x.disks.filter((d) => d.onDomain).reduce((b, d) => b + d.actual, 0), 0);
  const sdNow = where === "target" ? sdTgt : sdSrc;
  if (leaving?.thinOfLeaving.length) notes.push(`thin VMs that leave because their template does: ${leaving.thinOfLeaving.join(", ")}`);
  return {
    method: "data-domain",
    ...planHeader(spec, src.url, tgt.url, crossEngine),
    dataDomain: domain,
    domainState,
    where,
    entities,
    leaving: leavingLines,
    split: leaving?.split ?? [],
    phases,
    totals: { entities: regs.templates + regs.vms, bytesCopied: 0, entityBytes, domainUsed: sdNow?.used },
    estimate,
    risks,
    notes,
    failures,
  };
}

export { formatBytes };
