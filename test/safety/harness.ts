// The ownership suite's fixture: engine simulators of its own (small inventories), and stacks of the test program
// test/safety/projects/resources driven by the real Pulumi CLI the way a user runs it: `pulumi preview`, `pulumi up
// --yes` WITH its preview, `pulumi refresh`, `pulumi destroy`. Every CLI command is recorded as a window of the
// engines' audit logs, so the ownership check looks only at what the stack's own commands did (the test's
// out-of-band changes happen between windows). Nothing is shared between tests but this code.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Inventory } from "../../simulator";
import { disks } from "../support/e2e";
import { CliResult, changeCounts, PulumiWorkspace, ROOT } from "../support/pulumi";
import { startTestSimulator, TestSimOptions, TestSimulator } from "../support/simulator";
import { AuditCheck, auditMark, assertOwnershipInAudit, emptyOwned, fetchAudit, mergeOwned, Owned, ownedFromState } from "./audit";

export const PROJECT = path.join(ROOT, "test", "safety", "projects", "resources");

export type Kind = "ExportDomainAttachment" | "VmExport" | "VmImport" | "V2VImport" | "Migration";
export interface Entry {
    type: Kind;
    name: string;
    args: Record<string, unknown>;
    dependsOn?: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Inventories: small disks (4 MiB), so the copies take milliseconds

const disk = (alias: string, more: Record<string, unknown> = {}) => ({ alias, sizeMiB: 4, sparse: true, format: "cow" as const, ...more });
export const smallVm = (name: string, cluster: string, more: Record<string, unknown> = {}) => ({
    name,
    cluster,
    memoryMiB: 1024,
    cpus: 1,
    disks: [disk(`${name.replace(/[^A-Za-z0-9_.-]/g, "_")}_disk0`)],
    ...more,
});

/**
 * dc-source (cl-source, data-source) and dc-target (cl-target, data-target, data-target2), export domain export1
 * (not attached unless `exportAttachedTo`), template rhel9-base, VMs web-01, app-01 (down) and run-01 (up).
 */
export function smallInventory(o: { exportAttachedTo?: string; vms?: any[]; templates?: any[]; dataCenters?: any[]; users?: any[]; exportPath?: string } = {}): Inventory {
    const inv: any = {
        dataCenters: [
            {
                name: "dc-source",
                clusters: [{ name: "cl-source", cpuArchitecture: "x86_64" }],
                hosts: [{ name: "host-source-1", cluster: "cl-source", status: "up" }],
                storageDomains: [{ name: "data-source", type: "data", storageType: "nfs", sizeGiB: 20 }],
            },
            {
                name: "dc-target",
                clusters: [{ name: "cl-target", cpuArchitecture: "x86_64" }],
                hosts: [{ name: "host-target-1", cluster: "cl-target", status: "up" }],
                storageDomains: [
                    { name: "data-target", type: "data", storageType: "nfs", sizeGiB: 20 },
                    { name: "data-target2", type: "data", storageType: "nfs", sizeGiB: 20 },
                ],
            },
            ...(o.dataCenters ?? []),
        ],
        exportDomains: [{ name: "export1", path: o.exportPath ?? "exports/export1", ...(o.exportAttachedTo ? { attachedTo: o.exportAttachedTo, status: "active" } : {}) }],
        templates: [
            {
                name: "rhel9-base",
                dataCenter: "dc-source",
                cluster: "cl-source",
                storageDomain: "data-source",
                cpuArchitecture: "x86_64",
                memoryMiB: 1024,
                cpus: 1,
                disks: [disk("rhel9-base_disk")],
            },
            ...(o.templates ?? []),
        ],
        vms: [smallVm("web-01", "cl-source"), smallVm("app-01", "cl-source"), smallVm("run-01", "cl-source", { status: "up" }), ...(o.vms ?? [])],
    };
    if (o.users) inv.users = o.users;
    return inv as Inventory;
}

// ---------------------------------------------------------------------------------------------------------------
// Resource entries of the test program

export const attachment = (name: string, dataCenter: string, more: Record<string, unknown> = {}, dependsOn?: string[]): Entry => ({
    type: "ExportDomainAttachment",
    name,
    args: { exportDomain: "export1", dataCenter, ...more },
    dependsOn,
});
export const vmExport = (name: string, vm: string, more: Record<string, unknown> = {}, dependsOn?: string[]): Entry => ({
    type: "VmExport",
    name,
    args: { exportDomain: "export1", name: vm, ...more },
    dependsOn,
});
export const vmImport = (name: string, vm: string, more: Record<string, unknown> = {}, dependsOn?: string[]): Entry => ({
    type: "VmImport",
    name,
    args: { exportDomain: "export1", name: vm, cluster: "cl-target", storageDomain: "data-target", ...more },
    dependsOn,
});

/**
 * The RHV guide's move of VMs from dc-source to dc-target within one engine: attach export1 to dc-source (a stage
 * handed off to dc-target), export, move the domain to dc-target, import (`onConflict: "clone"`: within one engine
 * the source keeps its id; the import gets a new id and keeps the name).
 */
export function moveEntries(vms: string[], o: { importArgs?: Record<string, unknown>; exportArgs?: Record<string, unknown> } = {}): Entry[] {
    const exps = vms.map((v) => vmExport(`export-${v}`, v, o.exportArgs ?? {}, ["export1-in-source"]));
    return [
        attachment("export1-in-source", "dc-source", { handOffTo: { dataCenter: "dc-target" } }),
        ...exps,
        attachment("export1-in-target", "dc-target", { moveFrom: { dataCenter: "dc-source" } }, exps.map((e) => e.name)),
        ...vms.map((v) => vmImport(`import-${v}`, v, { onConflict: "clone", ...(o.importArgs ?? {}) }, ["export1-in-target"])),
    ];
}

// ---------------------------------------------------------------------------------------------------------------
// Scenario: simulators + stacks

export interface EngineSpec {
    /** Stack config namespace (`ovirt` = the default engine). */
    ns: string;
    sim?: TestSimOptions;
    /** Write `<ns>:password` into the stack config (default true). */
    password?: boolean;
}

export class Scenario {
    readonly stacks: Stack[] = [];
    private readonly tmp: string[] = [];
    private constructor(
        readonly tag: string,
        readonly engines: Map<string, TestSimulator>,
        readonly specs: EngineSpec[],
    ) {}

    /** Starts one simulator per engine (the first is `ovirt`, the default engine of every resource). */
    static async start(tag: string, engines: EngineSpec[] = [{ ns: "ovirt" }], o: { removeAtClose?: string[] } = {}): Promise<Scenario> {
        const m = new Map<string, TestSimulator>();
        const s = new Scenario(tag, m, engines);
        s.tmp.push(...(o.removeAtClose ?? []));
        try {
            for (const e of engines) {
                const password = `pw-${crypto.randomBytes(9).toString("base64url")}`;
                m.set(e.ns, await startTestSimulator({ password, ...(e.sim ?? {}) }));
            }
        } catch (err) {
            await s.close();
            throw err;
        }
        return s;
    }

    /** The default engine (`ovirt`). */
    get t(): TestSimulator {
        return this.engines.get("ovirt")!;
    }

    engine(ns: string): TestSimulator {
        const t = this.engines.get(ns);
        if (!t) throw new Error(`no engine ${ns}`);
        return t;
    }

    /** A temporary directory removed at close. */
    tempDir(prefix: string): string {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
        this.tmp.push(d);
        return d;
    }

    /** Stack config pointing every engine namespace at its simulator. */
    engineConfig(): { plain: Record<string, string>; secret: Record<string, string> } {
        const plain: Record<string, string> = {};
        const secret: Record<string, string> = {};
        for (const e of this.specs) {
            const t = this.engine(e.ns);
            plain[`${e.ns}:url`] = t.sim.url;
            if (t.sim.caFile) plain[`${e.ns}:caFile`] = t.sim.caFile;
            if (e.password !== false) secret[`${e.ns}:password`] = t.password;
        }
        return { plain, secret };
    }

    /** A new stack of the test program (own backend, own stack name). */
    async stack(resources: Entry[], o: { name?: string; plain?: Record<string, string>; secret?: Record<string, string> } = {}): Promise<Stack> {
        const name = o.name ?? `safety-${this.tag}-${crypto.randomBytes(3).toString("hex")}`;
        const st = new Stack(this, name);
        this.stacks.push(st);
        await st.init(resources, o.plain ?? {}, o.secret ?? {});
        return st;
    }

    /** Mutating API requests each engine has seen so far. */
    async mutating(): Promise<Record<string, number>> {
        const out: Record<string, number> = {};
        for (const [ns, t] of this.engines) out[ns] = (await t.admin("GET", "requests")).mutating as number;
        return out;
    }

    async close(): Promise<void> {
        for (const st of this.stacks) st.cleanup();
        // every engine is closed and every temp dir removed; then a wire-conformance failure of any engine is thrown
        const wire: string[] = [];
        for (const [ns, t] of this.engines) await t.close().catch((e: Error) => (/wire conformance/.test(e.message) ? wire.push(`${ns}: ${e.message}`) : undefined));
        for (const d of this.tmp) fs.rmSync(d, { recursive: true, force: true });
        if (wire.length > 0) throw new Error(wire.join("\n"));
    }
}

type Window = [number | undefined, number | undefined];

export class Stack {
    ws!: PulumiWorkspace;
    private resources: Entry[] = [];
    private plain: Record<string, string> = {};
    private secret: Record<string, string> = {};
    /** Audit windows of this stack's commands, per engine namespace (since the last `resetAudit`). */
    windows = new Map<string, Window[]>();
    /** What this stack's state said it owns (since the last `resetAudit`). */
    owned: Owned = emptyOwned();
    private dirs: string[] = [];

    constructor(
        readonly scn: Scenario,
        readonly name: string,
    ) {}

    private newWorkspace(): void {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "safety-pulumi-"));
        this.dirs.push(dir);
        this.ws = new PulumiWorkspace(PROJECT, this.name, {}, dir);
    }

    async init(resources: Entry[], plain: Record<string, string>, secret: Record<string, string>): Promise<void> {
        this.newWorkspace();
        fs.rmSync(path.join(PROJECT, `Pulumi.${this.name}.yaml`), { force: true });
        await this.ws.ok(["stack", "init", this.name, "--non-interactive"]);
        const ec = this.scn.engineConfig();
        this.plain = { ...ec.plain, ...plain };
        this.secret = { ...ec.secret, ...secret };
        this.resources = resources;
        await this.writeConfig();
    }

    private async writeConfig(): Promise<void> {
        const args = ["config", "set-all", "--stack", this.name];
        for (const [k, v] of Object.entries(this.plain)) args.push("--plaintext", `${k}=${v}`);
        for (const [k, v] of Object.entries(this.secret)) args.push("--secret", `${k}=${v}`);
        args.push("--plaintext", `safety:resources=${JSON.stringify(this.resources)}`);
        await this.ws.ok(args);
    }

    /** Replaces the program's resources (what a user does by editing the program). */
    async setResources(resources: Entry[]): Promise<void> {
        this.resources = resources;
        await this.ws.ok(["config", "set", "--stack", this.name, "--", "safety:resources", JSON.stringify(resources)]);
    }

    /** Changes the arguments of one resource (merged). */
    async patch(name: string, args: Record<string, unknown>): Promise<void> {
        const i = this.resources.findIndex((r) => r.name === name);
        if (i < 0) throw new Error(`no resource ${name} in the program`);
        const next = this.resources.map((r, k) => (k === i ? { ...r, args: { ...r.args, ...args } } : r));
        await this.setResources(next);
    }

    async config(plain: Record<string, string>): Promise<void> {
        for (const [k, v] of Object.entries(plain)) {
            this.plain[k] = v;
            await this.ws.ok(["config", "set", "--stack", this.name, "--", k, v]);
        }
    }

    /** Runs a CLI command as one audit window on every engine. */
    async recorded(args: string[]): Promise<CliResult> {
        const before = new Map<string, number | undefined>();
        for (const [ns, t] of this.scn.engines) before.set(ns, await auditMark(t));
        const r = await this.ws.run(args);
        for (const [ns, t] of this.scn.engines) {
            const w = this.windows.get(ns) ?? [];
            w.push([before.get(ns), await auditMark(t)]);
            this.windows.set(ns, w);
        }
        return r;
    }

    /** Audit entries of the last recorded command on engine `ns`. */
    async lastWindow(ns = "ovirt") {
        const w = (this.windows.get(ns) ?? []).slice(-1)[0];
        if (!w || w[0] === undefined || w[1] === undefined) throw new Error("the audit was not readable around the last command");
        return (await fetchAudit(this.scn.engine(ns))).filter((e) => e.seq > w[0]! && e.seq <= w[1]!);
    }

    preview(): Promise<CliResult> {
        return this.recorded(["preview", "--stack", this.name, "--non-interactive", "--diff"]);
    }

    /** `pulumi up --yes` with its preview (as a user runs it); the state's ownership is gathered afterwards. */
    async up(): Promise<CliResult> {
        const r = await this.recorded(["up", "--yes", "--stack", this.name, "--non-interactive", "--diff"]);
        await this.track();
        return r;
    }

    async refresh(): Promise<CliResult> {
        const r = await this.recorded(["refresh", "--yes", "--stack", this.name, "--non-interactive", "--diff"]);
        await this.track();
        return r;
    }

    async destroy(): Promise<CliResult> {
        await this.track();
        const r = await this.recorded(["destroy", "--yes", "--stack", this.name, "--non-interactive"]);
        await this.track();
        return r;
    }

    async state(): Promise<any> {
        return this.ws.exportState();
    }

    /** Outputs (and id) of the resource named `name` in the state. */
    async resource(name: string): Promise<{ id: string; outputs: any; urn: string } | undefined> {
        const st = await this.state();
        const r = (st.deployment?.resources ?? []).find((x: any) => typeof x.urn === "string" && x.urn.endsWith(`::${name}`));
        return r ? { id: r.id, outputs: r.outputs ?? {}, urn: r.urn } : undefined;
    }

    async track(): Promise<void> {
        mergeOwned(this.owned, ownedFromState(await this.state()));
    }

    /**
     * The ownership rule on every engine, over this stack's commands since the last reset. `notOwned`: ids that are
     * not this stack's whatever its state says (sources, foreign and adopted entities).
     */
    async assertAudit(extra: Omit<AuditCheck, "owned"> = {}, o: { reset?: boolean } = {}): Promise<void> {
        for (const [ns, t] of this.scn.engines) {
            await assertOwnershipInAudit(t, this.windows.get(ns) ?? [], { owned: this.owned, ...extra }, `stack ${this.name} on engine ${ns}`);
        }
        if (o.reset) this.resetAudit();
    }

    resetAudit(): void {
        this.windows = new Map();
        this.owned = emptyOwned();
    }

    /**
     * The state is lost (the backend directory is gone): a new backend, the same project and stack name, the same
     * config. The audit windows and gathered ownership are kept: it is the same stack.
     */
    async loseState(): Promise<void> {
        this.newWorkspace();
        fs.rmSync(path.join(PROJECT, `Pulumi.${this.name}.yaml`), { force: true });
        await this.ws.ok(["stack", "init", this.name, "--non-interactive"]);
        await this.writeConfig();
    }

    cleanup(): void {
        fs.rmSync(path.join(PROJECT, `Pulumi.${this.name}.yaml`), { force: true });
        for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Assertions on CLI results

export function ok(r: CliResult, what: string): void {
    assert.equal(r.code, 0, `${what} failed:\n${r.output}`);
}

export function failed(r: CliResult, what: string): void {
    assert.notEqual(r.code, 0, `${what} should have failed:\n${r.output}`);
}

/** No create/update/delete/replace in an `up`/`preview`/`refresh` summary. */
export function noChanges(r: CliResult, what: string): void {
    const c = changeCounts(r.output);
    for (const k of ["create", "created", "update", "updated", "delete", "deleted", "replace", "replaced"]) {
        assert.ok(!c[k], `${what}: ${k} ${c[k]}\n${r.output}`);
    }
}

/** Mutating audit entries (and mutating request-log count) of the last command are zero on every engine. */
export async function assertNothingMutated(st: Stack, before: Record<string, number>, what: string): Promise<void> {
    const after = await st.scn.mutating();
    assert.deepEqual(after, before, `${what}: mutating requests were sent`);
    for (const ns of st.scn.engines.keys()) {
        const w = await st.lastWindow(ns);
        assert.deepEqual(
            w.map((e) => `${e.method} ${e.path} ${e.action}`),
            [],
            `${what}: the audit of engine ${ns} shows changes`,
        );
    }
}

/** An XML API request made by the test itself (out of band), marked with a correlation id of its own. */
export async function oob(t: TestSimulator, method: string, p: string, body?: string): Promise<any> {
    const r = await t.api(method, p, body, { "correlation-id": `oob-${crypto.randomBytes(4).toString("hex")}` });
    if (r.status >= 300) throw new Error(`out-of-band ${method} ${p}: ${r.status} ${r.text.slice(0, 500)}`);
    return r.xml;
}

/** Waits until no job of the engine is `started` (the test's own out-of-band operations). */
export async function waitJobsIdle(t: TestSimulator, timeoutMs = 60_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
        const r = await t.api("GET", "jobs");
        const jobs = r.xml?.jobs?.job;
        const list = jobs === undefined || jobs === "" ? [] : Array.isArray(jobs) ? jobs : [jobs];
        if (!list.some((j: any) => j.status === "started")) return;
        if (Date.now() - t0 > timeoutMs) throw new Error("jobs still running");
        await new Promise((res) => setTimeout(res, 100));
    }
}

export async function idOf(t: TestSimulator, kind: "vms" | "templates" | "storagedomains" | "datacenters", name: string, dc?: string): Promise<string> {
    if (kind === "vms" || kind === "templates") {
        const d = await disks(t);
        const list = (kind === "vms" ? d.vms : d.templates).filter((x) => x.name === name && (dc === undefined || x.dataCenter === dc));
        assert.equal(list.length, 1, `exactly one ${kind} ${name}${dc ? ` in ${dc}` : ""}: ${JSON.stringify(list)}`);
        return list[0].id;
    }
    const r = await t.api("GET", `${kind}?search=${encodeURIComponent(`name=${name}`)}`);
    const root = kind === "storagedomains" ? r.xml?.storage_domains?.storage_domain : r.xml?.data_centers?.data_center;
    const list = root === undefined ? [] : Array.isArray(root) ? root : [root];
    const hit = list.find((x: any) => x.name === name);
    assert.ok(hit, `${kind} ${name} not found`);
    return hit["@_id"];
}

/** Renames a VM out of band (`PUT /vms/{id}` with a new name, as the admin portal's Edit VM does) and checks it took. */
export async function renameVm(t: TestSimulator, id: string, name: string): Promise<void> {
    await oob(t, "PUT", `vms/${id}`, `<vm><name>${name}</name></vm>`);
    const now = (await disks(t)).vms.find((v) => v.id === id);
    assert.equal(now?.name, name, `the engine simulator did not rename VM ${id} to ${name} (PUT /vms/{id} with <name>)`);
}
