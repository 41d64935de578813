// The ownership rule, checked from the engine's side (README "Safety"): a stack changes only what it created - proven
// by its own correlation id and recorded in its state by id - or what the user explicitly told it to adopt, and it
// never stops, removes or overwrites anything else. Two checks every scenario makes:
//
//  1. the simulator's audit (`GET /__admin/audit`: every mutating API request and every async job effect, with the
//     entities it touched and their role) shows that the stack's commands touched - as target, as removed, in any
//     role but source / parent / created - only entities it created (`ownedFromState` + what appeared as `created`
//     during the stack's own commands), the export domains its attachments manage, and the source actions the test
//     allows (export of a named source; shutdown only with `shutdownIfRunning`); and that no VM or template it did
//     not create was ever the target of shutdown / stop / remove / update;
//  2. every VM and template that existed before (sources, foreign and adopted VMs) still exists with the same name,
//     the same disk checksums and the same power state (`snapshotEntities` / `assertIntact`).
import { strict as assert } from "assert";
import { disks, DisksReport, EntityReport, sums } from "../support/e2e";
import { TestSimulator } from "../support/simulator";

// the wire shape the simulator answers, from the simulator itself (one definition)
import type { AuditEntity, AuditEntry, AuditRole } from "../../simulator/audit";
export type { AuditEntity, AuditEntry, AuditRole };

/** The whole audit of one simulator; throws when the simulator has no audit endpoint. */
export async function fetchAudit(t: TestSimulator): Promise<AuditEntry[]> {
    let r: { entries?: AuditEntry[] };
    try {
        r = await t.admin("GET", "audit");
    } catch (e) {
        throw new Error(`the engine simulator has no usable GET /__admin/audit (${(e as Error).message.slice(0, 200)})`);
    }
    if (!r || !Array.isArray(r.entries)) throw new Error(`GET /__admin/audit answered no entries: ${JSON.stringify(r).slice(0, 300)}`);
    return r.entries;
}

/** Highest audit seq so far, or undefined when the simulator has no audit (the final check then fails). */
export async function auditMark(t: TestSimulator): Promise<number | undefined> {
    try {
        const entries = await fetchAudit(t);
        return entries.reduce((m, e) => Math.max(m, e.seq), 0);
    } catch {
        return undefined;
    }
}

/** What a stack may have changed, gathered from its state (and from the audit of its own commands). */
export interface Owned {
    /** Entities the stack created (VMs, templates, their disks, export copies, permissions). */
    created: Set<string>;
    /** Entities the stack adopted or skipped: never stopped, removed, overwritten or updated. */
    adopted: Set<string>;
    /** Export domains (and their data centers) its attachments manage: attach, activate, deactivate, detach, move. */
    managed: Set<string>;
    /** Sources the stack exports (role `source` of an `export`; anything else exported is a violation). */
    exportSources: Set<string>;
    /** Sources the stack may shut down (its exports set `shutdownIfRunning`). */
    shutdownSources: Set<string>;
}

export function emptyOwned(): Owned {
    return { created: new Set(), adopted: new Set(), managed: new Set(), exportSources: new Set(), shutdownSources: new Set() };
}

export function mergeOwned(into: Owned, from: Owned): Owned {
    for (const k of Object.keys(into) as Array<keyof Owned>) for (const v of from[k]) into[k].add(v);
    return into;
}

const lc = (s: unknown) => String(s).toLowerCase();
const add = (s: Set<string>, v: unknown) => {
    if (typeof v === "string" && v) s.add(lc(v));
};

/** The ownership a resource records, with the fallbacks of states written before `ownership` existed. */
function ownershipOf(o: any): string {
    if (typeof o?.ownership === "string") return o.ownership;
    if (o?.imported === false) return "skipped";
    if (o?.adopted === true) return "adopted";
    return "created";
}

/**
 * Ids the stack's state says it created or adopted (`pulumi stack export`): VmImport `vmId` (+ imported disks and
 * permissions), VmExport copy `exportDomainId:kind:sourceId` (+ its source as an export source, a shutdown source
 * when `shutdownIfRunning`), V2VImport `vms[].id`, ExportDomainAttachment domain + data center.
 */
export function ownedFromState(deployment: any): Owned {
    const o = emptyOwned();
    const resources: any[] = deployment?.deployment?.resources ?? deployment?.resources ?? [];
    for (const r of resources) {
        const type = String(r.type ?? "");
        if (!type.startsWith("pulumi-nodejs:dynamic/ovirt:")) continue;
        const kind = type.split(":").pop();
        const out = r.outputs ?? {};
        const own = ownershipOf(out);
        const mine = own === "created";
        if (kind === "VmImport") {
            add(mine ? o.created : o.adopted, out.vmId);
            if (mine) for (const d of out.importedDisks ?? []) add(o.created, d?.id);
            for (const p of out.permissionIds ?? []) add(o.created, p);
        } else if (kind === "VmExport") {
            if (out.exportDomainId && out.sourceId) add(mine ? o.created : o.adopted, `${out.exportDomainId}:${out.kind ?? "vm"}:${out.sourceId}`);
            if (typeof r.id === "string" && r.id.split(":").length === 3) add(mine ? o.created : o.adopted, r.id);
            add(o.exportSources, out.sourceId);
            if (out.shutdownIfRunning === true) add(o.shutdownSources, out.sourceId);
        } else if (kind === "V2VImport") {
            for (const v of out.vms ?? []) {
                const vOwn = typeof v?.ownership === "string" ? v.ownership : v?.adopted === true ? "adopted" : own;
                const vMine = vOwn === "created";
                add(vMine ? o.created : o.adopted, v?.id);
                if (vMine) for (const d of v?.disks ?? []) add(o.created, d?.id);
            }
            for (const p of out.permissionIds ?? []) add(o.created, p);
        } else if (kind === "ExportDomainAttachment") {
            if (mine) {
                add(o.managed, out.exportDomainId);
                add(o.managed, out.dataCenterId);
            }
        }
    }
    return o;
}

export interface AuditCheck {
    /** What the stack owns (its state, gathered after each `up`). */
    owned: Owned;
    /**
     * Entities the stack must treat as not its own whatever its state says: sources, foreign VMs, adopted ones.
     * They are removed from `owned.created` and `owned.managed` before the check.
     */
    notOwned?: Iterable<string>;
    /** Also allowed: `{ id, actions }` of a named source (e.g. shutdown of a source the test asked to shut down). */
    sourceActions?: Array<{ id: string; actions: string[] }>;
}

const SAFE_ROLES = new Set(["source", "parent", "created"]);
const NEVER_ON_FOREIGN = new Set(["shutdown", "stop", "remove", "update"]);
/** Kinds that belong to a VM/template: touching them in the same entry as an owned VM is touching that VM. */
const PARTS = new Set(["disk", "permission"]);
/** Kinds that are the operation itself, not something it changes. */
const OPERATIONS = new Set(["job", "externalvmimport"]);

/**
 * Violations of the ownership rule in `entries` (the entries of the stack's own commands). Empty = the rule held.
 * Entities that first appeared with role `created` in these entries count as created by the stack.
 */
export function ownershipViolations(entries: AuditEntry[], c: AuditCheck): string[] {
    const notOwned = new Set([...(c.notOwned ?? [])].map(lc));
    const created = new Set([...c.owned.created].filter((x) => !notOwned.has(x)));
    for (const e of entries) for (const x of e.entities ?? []) if (x.role === "created" && !notOwned.has(lc(x.id))) created.add(lc(x.id));
    const managed = new Set([...c.owned.managed].filter((x) => !notOwned.has(x)));
    const allowed = new Map<string, Set<string>>();
    for (const s of c.sourceActions ?? []) allowed.set(lc(s.id), new Set([...(allowed.get(lc(s.id)) ?? []), ...s.actions]));
    for (const id of c.owned.shutdownSources) allowed.set(id, new Set([...(allowed.get(id) ?? []), "shutdown", "stop"]));
    const out: string[] = [];
    const show = (e: AuditEntry, x: AuditEntity, why: string) =>
        `#${e.seq} ${e.action} (${e.method} ${e.path} -> ${e.status}, correlation ${e.correlationId || "-"}): ${x.kind} ${x.name ?? ""} ${x.id} as ${x.role}: ${why}`;
    for (const e of entries) {
        const ents = e.entities ?? [];
        const ownedWhole = ents.some((x) => (x.kind === "vm" || x.kind === "template") && x.role !== "source" && created.has(lc(x.id)));
        for (const x of ents) {
            const id = lc(x.id);
            const isVm = x.kind === "vm" || x.kind === "template";
            if (OPERATIONS.has(x.kind)) continue;
            // "created" over something that existed before and is not the stack's: an overwrite (e.g. a copy replaced)
            if (x.role === "created" && notOwned.has(id)) {
                out.push(show(e, x, "created over an entity that existed before and is not this stack's (overwritten)"));
                continue;
            }
            // an import reads its copy on the export domain (the engine addresses it as the target of "import")
            if (x.kind === "exportcopy" && e.action === "import" && x.role === "target") continue;
            // rule 2: a VM/template the stack did not create is never shut down, stopped, removed or updated
            if (isVm && !created.has(id) && NEVER_ON_FOREIGN.has(e.action) && x.role !== "parent" && x.role !== "created") {
                if (!allowed.get(id)?.has(e.action)) out.push(show(e, x, `${e.action} of a ${x.kind} this stack did not create`));
                continue;
            }
            // exports: only the sources the stack names
            if (e.action === "export" && x.role === "source" && isVm && !c.owned.exportSources.has(id) && !allowed.get(id)?.has("export")) {
                out.push(show(e, x, "exported, but it is not a source this stack names"));
                continue;
            }
            if (SAFE_ROLES.has(x.role)) continue;
            // rule 1: target / removed (any other role) only on what the stack owns
            if (created.has(id) || managed.has(id)) continue;
            if (PARTS.has(x.kind) && ownedWhole) continue;
            if (allowed.get(id)?.has(e.action)) continue;
            out.push(show(e, x, "not created by this stack (nor a domain it manages, nor an allowed source action)"));
        }
    }
    return out;
}

/** Asserts the ownership rule on the audit entries of the given windows ([from, to] seqs of the stack's commands). */
export async function assertOwnershipInAudit(t: TestSimulator, windows: Array<[number | undefined, number | undefined]>, c: AuditCheck, what = "the stack"): Promise<AuditEntry[]> {
    const all = await fetchAudit(t);
    for (const [a, b] of windows) {
        if (a === undefined || b === undefined) throw new Error(`the audit was not readable around a command of ${what} (GET /__admin/audit missing then)`);
    }
    const mine = all.filter((e) => windows.some(([a, b]) => e.seq > a! && e.seq <= b!));
    if (process.env.SAFETY_AUDIT_DEBUG) {
        for (const e of mine) process.stdout.write(`      audit #${e.seq} ${e.action} ${e.method} ${e.path} ${e.status} ${e.entities.map((x) => `${x.kind}:${x.name ?? x.id}:${x.role}`).join(" ")}\n`);
    }
    const v = ownershipViolations(mine, c);
    assert.deepEqual(v, [], `${what} touched what it does not own:\n${v.join("\n")}`);
    return mine;
}

// ---------------------------------------------------------------------------------------------------------------
// Disk checksums and power state of every VM and template that existed before

export interface EntitySnapshot {
    id: string;
    kind: "vm" | "template";
    name: string;
    dataCenter: string;
    status?: string;
    sums: string;
}

/** Every VM and template of the engine now (by id). */
export async function snapshotEntities(t: TestSimulator): Promise<Map<string, EntitySnapshot>> {
    const d: DisksReport = await disks(t);
    const m = new Map<string, EntitySnapshot>();
    const put = (kind: "vm" | "template", e: EntityReport) =>
        m.set(lc(e.id), { id: e.id, kind, name: e.name, dataCenter: e.dataCenter, status: e.status, sums: sums(e) });
    for (const v of d.vms) put("vm", v);
    for (const x of d.templates) put("template", x);
    return m;
}

/**
 * Every entity of `before` still exists with the same name, disk checksums and power state. `statusMay` allows a
 * new status for some ids (a source the test asked to shut down); `gone` lists ids the test expects removed.
 */
export async function assertIntact(
    t: TestSimulator,
    before: Map<string, EntitySnapshot>,
    opts: { statusMay?: Record<string, string[]>; gone?: string[] } = {},
): Promise<void> {
    const now = await snapshotEntities(t);
    const gone = new Set((opts.gone ?? []).map(lc));
    const problems: string[] = [];
    for (const [id, b] of before) {
        if (gone.has(id)) continue;
        const a = now.get(id);
        if (!a) {
            problems.push(`${b.kind} ${b.name} (${b.id}, ${b.dataCenter}) was removed`);
            continue;
        }
        if (a.name !== b.name) problems.push(`${b.kind} ${b.name} (${b.id}) was renamed to ${a.name}`);
        if (a.sums !== b.sums) problems.push(`${b.kind} ${b.name} (${b.id}): disk content changed`);
        if (a.status !== b.status && !(opts.statusMay?.[b.id] ?? opts.statusMay?.[id] ?? []).includes(String(a.status))) {
            problems.push(`${b.kind} ${b.name} (${b.id}): status ${b.status} -> ${a.status}`);
        }
    }
    assert.deepEqual(problems, [], `entities that existed before were changed:\n${problems.join("\n")}`);
}
