// Issue 15, "resumable after SIGKILL at any point" of a data-domain move, with the real Pulumi CLI
// (test/e2e/projects/dataDomain, Migration method "data-domain"). Each `it` starts its own simulators, runs
// `pulumi up`, SIGKILLs the whole CLI tree (CLI, language host, dynamic-provider host) at one point of the
// deactivate / detach / (remove + import) / attach / register sequence, then runs the README's recipe
// (`pulumi cancel --yes`, `pulumi refresh --clear-pending-creates --yes`, `pulumi up`) and checks what a user relies
// on: every VM and template registered exactly once in the target (by name and by id: no duplicate, none lost),
// disks equal to the source's checksums (GET /__admin/disks before the move), the source data center no longer
// listing them, nothing left unregistered on the domain, no pending operation, and a second `pulumi up` that
// changes nothing.
//
// Kill triggers read the engines' state every 50 ms (killPollMs): the domain's status per data center, which engine
// knows it, the audit log (GET /__admin/audit). Storage commands last 1.5 s (PUT /__admin/storage-operation), so the
// "during" points have a window to hit. The "between" points hold the NEXT request at the simulator's front (a
// fault rule: delayed 20 s, then a 503 that the killed client never reads) so that the window is certain and the
// held request never reaches the engine; the rule is removed before the resume.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PulumiWorkspace, ROOT, changeCounts, CliResult } from "../support/pulumi";
import { DisksReport, disks, inDc, removeStackConfig, sums } from "../support/e2e";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { pendingOperations, runAndKill } from "../reliability/support";
import { cutCheckpoint, repairCutCheckpoint } from "../support/checkpoint";

const PROJECT = path.join(ROOT, "test", "e2e", "projects", "dataDomain");
const STORAGE_OP_MS = 1500;
/** A request held at the simulator's front this long (then answered 503) never reaches the engine before the kill. */
const HOLD_MS = 20_000;

const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Where engine `t` has the domain named `sd`: unknown, unattached, or attached to a data center with a status. */
async function place(t: TestSimulator, sd: string): Promise<{ known: boolean; dc?: string; status?: string }> {
    const all = arr<any>((await t.api("GET", "storagedomains")).xml?.storage_domains?.storage_domain);
    const me = all.find((d) => d.name === sd);
    if (!me) return { known: false };
    for (const dc of arr<any>((await t.api("GET", "datacenters")).xml?.data_centers?.data_center)) {
        const r = await t.api("GET", `datacenters/${dc["@_id"]}/storagedomains/${me["@_id"]}`);
        if (r.status === 200) return { known: true, dc: dc.name, status: r.xml?.storage_domain?.status };
    }
    return { known: true };
}

async function audit(t: TestSimulator): Promise<Array<{ method: string; path: string; status: number }>> {
    return (await t.admin("GET", "audit")).entries;
}

/** Holds the next request matching `method path` at the simulator's front (see the file comment). */
async function hold(t: TestSimulator, method: string, pathRe: string): Promise<void> {
    await t.admin("PUT", "faults", { rules: [{ match: { method, path: pathRe }, effect: { transport: "status", status: 503, delayMs: HOLD_MS }, max: 1 }] });
}

async function unregistered(t: TestSimulator, sd: string): Promise<string[]> {
    const me = arr<any>((await t.api("GET", "storagedomains")).xml?.storage_domains?.storage_domain).find((d) => d.name === sd);
    if (!me) return [];
    const out: string[] = [];
    for (const kind of ["vms", "templates"]) {
        const r = await t.api("GET", `storagedomains/${me["@_id"]}/${kind}?unregistered=true`);
        const list = r.xml?.[kind]?.[kind.slice(0, -1)];
        out.push(...arr<any>(list).map((x) => `${kind.slice(0, -1)} ${x.name}`));
    }
    return out;
}

const ok = (r: CliResult, what: string) => {
    assert.equal(r.code, 0, `${what}:\n${r.output.slice(-5000)}`);
    return r;
};

interface Moving {
    vms: string[];
    templates: string[];
}

/**
 * After the resume: each entity once in `dstDc` of `dst` (name and id; ids are kept: no clone), disks equal to the
 * source's, gone from `srcDc` of `src`, nothing left unregistered on the domain.
 */
async function assertMovedOnce(src: TestSimulator, before: DisksReport, srcDc: string, dst: TestSimulator, dstDc: string, sd: string, m: Moving): Promise<void> {
    const after = await disks(dst);
    const srcAfter = src === dst ? after : await disks(src);
    for (const kind of ["vms", "templates"] as const) {
        for (const name of m[kind]) {
            const orig = inDc(before[kind], srcDc, name);
            assert.equal(orig.length, 1, `${kind} ${name}: not exactly one in ${srcDc} before the move`);
            const byName = after[kind].filter((e) => e.name === name);
            assert.equal(byName.length, 1, `${kind} ${name}: ${byName.length} of that name in the target engine (${byName.map((e) => e.dataCenter).join(", ")})`);
            assert.equal(byName[0].dataCenter, dstDc, `${kind} ${name} is in ${byName[0].dataCenter}, not ${dstDc}`);
            const byId = [...after.vms, ...after.templates].filter((e) => e.id === orig[0].id);
            assert.equal(byId.length, 1, `${kind} ${name}: ${byId.length} entities with its id ${orig[0].id} in the target engine`);
            assert.equal(sums(byName[0]), sums(orig[0]), `${kind} ${name}: disk checksums differ from the source's`);
            assert.ok(byName[0].disks.length > 0, `${kind} ${name} has no disks`);
            assert.equal(inDc(srcAfter[kind], srcDc, name).length, 0, `${kind} ${name} is still listed in ${srcDc}`);
        }
    }
    assert.deepEqual(await unregistered(dst, sd), [], `entities left unregistered on ${sd}`);
}

async function workspace(name: string, engines: Record<string, TestSimulator>, migration: unknown): Promise<PulumiWorkspace> {
    const ws = new PulumiWorkspace(PROJECT, `${name}-${process.pid}`);
    removeStackConfig(PROJECT, ws.stack);
    const config: Record<string, string> = { "ddm:migration": JSON.stringify(migration) };
    const secrets: Record<string, string> = {};
    for (const [ns, t] of Object.entries(engines)) {
        config[`${ns}:url`] = t.sim.url;
        config[`${ns}:caFile`] = t.sim.caFile;
        secrets[`${ns}:password`] = t.password;
    }
    await ws.init(config, secrets);
    return ws;
}

/**
 * SIGKILL of `pulumi <command>` at `when`, the README's recipe (`cancel`, `refresh --clear-pending-creates`, the killed
 * command again), then: no pending operation, and after a destroy an empty state. `atKill` checks the engines' state
 * right after the kill.
 */
async function killAndResumeCommand(
    command: "up" | "destroy",
    ws: PulumiWorkspace,
    engines: TestSimulator[],
    when: () => Promise<boolean>,
    point: string,
    atKill?: () => Promise<void>,
): Promise<{ killMs: number; resumeMs: number }> {
    const killed = await runAndKill(ws, [command, "--yes", "--stack", ws.stack, "--non-interactive"], when, { everyMs: 50 });
    assert.ok(killed.killed, `${point}: the ${command} ended (${killed.code}) before the kill point:\n${killed.output.slice(-4000)}`);
    assert.deepEqual(killed.survivors, [], "processes of the killed CLI's tree survived");
    await atKill?.();
    for (const t of engines) await t.admin("DELETE", "faults");
    const t0 = Date.now();
    // the README's recipe, literally
    const recipe = async () => {
        await ws.run(["cancel", "--yes", "--stack", ws.stack, "--non-interactive"]);
        return ws.run(["refresh", "--clear-pending-creates", "--yes", "--stack", ws.stack, "--non-interactive"]);
    };
    let refresh = await recipe();
    if (cutCheckpoint(refresh)) {
        // the kill cut the file backend's stack metadata (<stack>.json.attrs) while the CLI wrote it: the README's
        // repair (test/support/checkpoint.ts), then the recipe again
        assert.notDeepEqual(repairCutCheckpoint(ws), [], `the checkpoint error, and no cut stack file: ${refresh.output.slice(-2000)}`);
        refresh = await recipe();
    }
    ok(refresh, `${point}: refresh`);
    ok(command === "up" ? await ws.up() : await ws.destroy(), `${point}: ${command} after the kill`);
    const resumeMs = Date.now() - t0;
    assert.deepEqual(await pendingOperations(ws), [], "pending operations left");
    if (command === "destroy") {
        const state = await ws.exportState();
        assert.deepEqual((state.deployment?.resources ?? []).map((r: any) => r.urn), [], "the destroyed stack's state still holds resources");
    }
    return { killMs: killed.ms, resumeMs };
}

const killAndResume = (...a: [PulumiWorkspace, TestSimulator[], () => Promise<boolean>, string, (() => Promise<void>)?]) => killAndResumeCommand("up", ...a);
const killDestroyAndResume = (...a: [PulumiWorkspace, TestSimulator[], () => Promise<boolean>, string, (() => Promise<void>)?]) => killAndResumeCommand("destroy", ...a);

async function assertNoChange(ws: PulumiWorkspace, engines: TestSimulator[]): Promise<void> {
    for (const t of engines) await t.admin("DELETE", "requests");
    const again = ok(await ws.up(), "second up");
    const c = changeCounts(again.output);
    for (const k of ["created", "updated", "deleted", "replaced"]) assert.ok(!c[k], `second up ${k} ${c[k]}:\n${again.output.slice(-3000)}`);
    for (const t of engines) assert.equal((await t.admin("GET", "requests")).mutating, 0, "the second up sent a mutating request");
}

describe("e2e: a data-domain move SIGKILLed at each point of the sequence resumes with the README's recipe", function () {
    this.timeout(10 * 60_000);
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
        for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
    });

    /** The same-engine move of the `up` and the `destroy` kills: tpl, web, thin and db leave dc-src with data-move; stay keeps its disk on data-src. */
    const SAME_ENGINE_MOVING: Moving = { templates: ["tpl"], vms: ["web", "thin", "db"] };
    const sameEngineMigration = {
        method: "data-domain",
        source: { dataCenter: "dc-src" },
        target: { dataCenter: "dc-dst", cluster: "cl-dst", storageDomain: "data-dst" },
        dataDomain: "data-move",
        templates: SAME_ENGINE_MOVING.templates,
        vms: SAME_ENGINE_MOVING.vms,
    };

    /** The cross-engine move of the `up` and the `destroy` kills: base, app and kid leave dc-a of engine A with data-x for dc-b of engine B. */
    const CROSS_ENGINE_MOVING: Moving = { templates: ["base"], vms: ["app", "kid"] };
    const crossEngineMigration = {
        method: "data-domain",
        source: { engine: { $engine: "engineA" }, dataCenter: "dc-a" },
        target: { engine: { $engine: "engineB" }, dataCenter: "dc-b", cluster: "cl-b", storageDomain: "data-b" },
        dataDomain: "data-x",
        templates: CROSS_ENGINE_MOVING.templates,
        vms: CROSS_ENGINE_MOVING.vms,
    };

    /** Engines A and B with those inventories (plus `extra` VMs in each) and a stack declaring that migration, removed after the test. */
    async function crossEngineStack(name: string, extra: { a?: unknown[]; b?: unknown[] } = {}): Promise<{ a: TestSimulator; b: TestSimulator; ws: PulumiWorkspace }> {
        const a = await startTestSimulator({
            password: `${name}-a-pw`,
            engineName: "engine-a",
            inventory: {
                dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a" }, { name: "data-x" }] }],
                templates: [{ name: "base", cluster: "cl-a", storageDomain: "data-x", disks: [{ sizeMiB: 8 }] }],
                vms: [
                    { name: "app", cluster: "cl-a", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 8, storageDomain: "data-x" }, { sizeMiB: 4, sparse: false, storageDomain: "data-x" }] },
                    { name: "kid", cluster: "cl-a", template: "base" },
                    ...((extra.a ?? []) as any[]),
                ],
            },
        });
        cleanup.push(() => a.close());
        const b = await startTestSimulator({
            password: `${name}-b-pw`,
            engineName: "engine-b",
            inventory: {
                dataCenters: [{ name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b" }] }],
                vms: (extra.b ?? []) as any[],
            },
        });
        cleanup.push(() => b.close());
        const ws = await workspace(name, { engineA: a, engineB: b }, crossEngineMigration);
        cleanup.push(async () => {
            removeStackConfig(PROJECT, ws.stack);
            fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
        });
        return { a, b, ws };
    }

    /** A simulator with that inventory (plus `extraVms`) and a stack declaring that migration, both removed after the test. */
    async function sameEngineStack(name: string, extraVms: unknown[] = []): Promise<{ t: TestSimulator; ws: PulumiWorkspace; before: DisksReport }> {
        const t = await startTestSimulator({
            password: `${name}-pw`,
            inventory: {
                dataCenters: [
                    { name: "dc-src", clusters: [{ name: "cl-src" }], hosts: [{ name: "h-src", cluster: "cl-src" }], storageDomains: [{ name: "data-src" }, { name: "data-move" }] },
                    { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] },
                ],
                templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
                vms: [
                    { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 8, storageDomain: "data-move" }] },
                    { name: "thin", cluster: "cl-src", template: "tpl" },
                    { name: "db", cluster: "cl-src", disks: [{ sizeMiB: 4, storageDomain: "data-move" }, { sizeMiB: 4, sparse: false, storageDomain: "data-move" }] },
                    { name: "stay", cluster: "cl-src", disks: [{ sizeMiB: 4, storageDomain: "data-src" }] },
                    ...(extraVms as any[]),
                ],
            },
        });
        cleanup.push(() => t.close());
        const ws = await workspace(name, { ovirt: t }, sameEngineMigration);
        cleanup.push(async () => {
            removeStackConfig(PROJECT, ws.stack);
            fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
        });
        return { t, ws, before: await disks(t) };
    }

    describe("same engine: data-move leaves dc-src for dc-dst", () => {
        const moving = SAME_ENGINE_MOVING;

        async function setup(point: string): Promise<{ t: TestSimulator; ws: PulumiWorkspace; before: DisksReport }> {
            const r = await sameEngineStack(`ddk-${point}`);
            await r.t.admin("PUT", "storage-operation", { ms: STORAGE_OP_MS });
            return r;
        }

        async function finish(t: TestSimulator, ws: PulumiWorkspace, before: DisksReport, times: { killMs: number; resumeMs: number }, point: string) {
            await assertMovedOnce(t, before, "dc-src", t, "dc-dst", "data-move", moving);
            assert.equal(inDc((await disks(t)).vms, "dc-src", "stay").length, 1, "stay (disks on data-src) stays in dc-src");
            await assertNoChange(ws, [t]);
            console.log(`      ${point}: killed after ${times.killMs} ms, resumed in ${times.resumeMs} ms`);
        }

        it("killed while data-move is being deactivated in dc-src", async () => {
            const { t, ws, before } = await setup("deact");
            const times = await killAndResume(ws, [t], async () => ["locked", "preparing_for_maintenance"].includes((await place(t, "data-move")).status ?? ""), "deactivating", async () => {
                const p = await place(t, "data-move");
                assert.equal(p.dc, "dc-src", `at the kill the domain is in ${p.dc}`);
            });
            await finish(t, ws, before, times, "deactivating");
        });

        it("killed right after the detach from dc-src, before the attach to dc-dst", async () => {
            const { t, ws, before } = await setup("detached");
            await hold(t, "POST", "/datacenters/[^/]+/storagedomains$");
            const times = await killAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.known && !p.dc;
            }, "detached", async () => {
                assert.equal(inDc((await disks(t)).vms, "dc-src", "web").length, 0, "at the kill dc-src has forgotten web");
                assert.equal((await place(t, "data-move")).dc, undefined, "at the kill the domain is attached nowhere");
            });
            await finish(t, ws, before, times, "detached");
        });

        it("killed while data-move is being attached to dc-dst", async () => {
            const { t, ws, before } = await setup("attaching");
            const times = await killAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.dc === "dc-dst" && ["locked", "maintenance", "activating"].includes(p.status ?? "");
            }, "attaching");
            await finish(t, ws, before, times, "attaching");
        });

        it("killed after the attach, before any registration", async () => {
            const { t, ws, before } = await setup("attached");
            await hold(t, "POST", "/register$");
            const times = await killAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.dc === "dc-dst" && p.status === "active";
            }, "attached", async () => {
                assert.ok(!(await audit(t)).some((a) => /\/register$/.test(a.path)), "a register reached the engine before the kill");
                assert.deepEqual((await unregistered(t, "data-move")).sort(), ["template tpl", "vm db", "vm thin", "vm web"]);
            });
            await finish(t, ws, before, times, "attached");
        });

        it("killed between two registrations: template registered, VMs not yet", async () => {
            const { t, ws, before } = await setup("between");
            await hold(t, "POST", "/vms/[^/]+/register$");
            const times = await killAndResume(ws, [t], async () => (await audit(t)).some((a) => /\/templates\/[^/]+\/register$/.test(a.path) && a.status === 200), "between", async () => {
                assert.ok(!(await audit(t)).some((a) => /\/vms\/[^/]+\/register$/.test(a.path)), "a VM register reached the engine before the kill");
                assert.deepEqual((await unregistered(t, "data-move")).sort(), ["vm db", "vm thin", "vm web"]);
            });
            await finish(t, ws, before, times, "between");
        });
    });

    describe("cross engine: data-x leaves dc-a of engine A for dc-b of engine B", () => {
        const moving = CROSS_ENGINE_MOVING;

        async function setup(point: string): Promise<{ a: TestSimulator; b: TestSimulator; ws: PulumiWorkspace; before: DisksReport }> {
            const { a, b, ws } = await crossEngineStack(`ddk-x${point}`);
            for (const t of [a, b]) await t.admin("PUT", "storage-operation", { ms: STORAGE_OP_MS });
            return { a, b, ws, before: await disks(a) };
        }

        async function finish(a: TestSimulator, b: TestSimulator, ws: PulumiWorkspace, before: DisksReport, times: { killMs: number; resumeMs: number }, point: string) {
            await assertMovedOnce(a, before, "dc-a", b, "dc-b", "data-x", moving);
            assert.equal((await place(a, "data-x")).known, false, "data-x is still known to engine A");
            const kinds = ((await b.admin("GET", "stats")).jobs as Array<{ kind: string }>).map((j) => j.kind);
            assert.ok(!kinds.some((k) => /^(export|import)/.test(k)), `nothing copied: ${kinds.join(", ")}`);
            await assertNoChange(ws, [a, b]);
            console.log(`      cross ${point}: killed after ${times.killMs} ms, resumed in ${times.resumeMs} ms`);
        }

        // The provider imports the domain into engine B BEFORE it removes it from engine A, so that some engine
        // always knows the domain and its storage connection (removed first, a kill between the two left a move that
        // could not resume). These three points cover the hand-over: detached in A; known to both; removed from A.
        it("killed after the detach from engine A, before engine B imported the domain", async () => {
            const { a, b, ws, before } = await setup("detached");
            await hold(b, "POST", "/api/storagedomains$");
            const times = await killAndResume(ws, [a, b], async () => {
                const pa = await place(a, "data-x");
                return pa.known && !pa.dc;
            }, "detached in A", async () => {
                assert.equal((await place(b, "data-x")).known, false, "at the kill engine B knows data-x already");
                assert.equal(inDc((await disks(a)).vms, "dc-a", "app").length, 0, "at the kill engine A has forgotten app");
            });
            await finish(a, b, ws, before, times, "detached in A");
        });

        it("killed after the import into engine B, before the removal from engine A", async () => {
            const { a, b, ws, before } = await setup("both");
            await hold(a, "DELETE", "/api/storagedomains/[^/]+$");
            const times = await killAndResume(ws, [a, b], async () => (await place(b, "data-x")).known, "known to both", async () => {
                const pa = await place(a, "data-x");
                assert.ok(pa.known && !pa.dc, "at the kill engine A still knows data-x, detached");
            });
            await finish(a, b, ws, before, times, "known to both");
        });

        it("killed after the removal from engine A, before the attach to dc-b", async () => {
            const { a, b, ws, before } = await setup("removed");
            await hold(b, "POST", "/datacenters/[^/]+/storagedomains$");
            const times = await killAndResume(ws, [a, b], async () => !(await place(a, "data-x")).known, "removed from A", async () => {
                const pb = await place(b, "data-x");
                assert.ok(pb.known && !pb.dc, "at the kill engine B knows data-x, attached nowhere");
            });
            await finish(a, b, ws, before, times, "removed from A");
        });
    });
    // Issue 15: destroy never detaches a domain holding VMs the stack did not register, and is resumable too. The
    // destroy of a completed move deletes the VmRegistrations (they remove nothing: a registered VM's removal would
    // delete its disks) and then the DataDomainAttachment, which undoes the move: deactivate + detach in dc-dst,
    // attach + activate in dc-src, register back (template first) what left dc-src with the domain. Each point
    // SIGKILLs `pulumi destroy`, runs the README's recipe with `pulumi destroy`, and checks: the destroy converges,
    // the stack's state is empty, every moved entity is back in dc-src once (same id) with its disks' checksums from
    // before the move, nothing is left unregistered on the domain, and what the stack never registered (stay in
    // dc-src, other in dc-dst) is still there.
    describe("same engine: pulumi destroy of a completed move SIGKILLed while it gives data-move back to dc-src", () => {
        const moving = SAME_ENGINE_MOVING;

        async function moved(point: string): Promise<{ t: TestSimulator; ws: PulumiWorkspace; before: DisksReport }> {
            // `other` lives in dc-dst: the stack never registered it, and the destroy must leave it there
            const { t, ws, before } = await sameEngineStack(`ddd-${point}`, [{ name: "other", cluster: "cl-dst", disks: [{ sizeMiB: 4, storageDomain: "data-dst" }] }]);
            ok(await ws.up(), `${point}: up`);
            await assertMovedOnce(t, before, "dc-src", t, "dc-dst", "data-move", moving);
            await t.admin("PUT", "storage-operation", { ms: STORAGE_OP_MS });
            return { t, ws, before };
        }

        /** Back as before the move: each entity once in dc-src (same id, same checksums), nothing unregistered, nothing foreign lost. */
        async function assertGivenBack(t: TestSimulator, before: DisksReport, times: { killMs: number; resumeMs: number }, point: string): Promise<void> {
            const after = await disks(t);
            for (const kind of ["vms", "templates"] as const) {
                for (const name of moving[kind]) {
                    const orig = inDc(before[kind], "dc-src", name)[0];
                    const now = after[kind].filter((e) => e.name === name);
                    assert.equal(now.length, 1, `${kind} ${name}: ${now.length} of that name after the destroy (${now.map((e) => e.dataCenter).join(", ")})`);
                    assert.equal(now[0].dataCenter, "dc-src", `${kind} ${name} is in ${now[0].dataCenter} after the destroy`);
                    assert.equal(now[0].id, orig.id, `${kind} ${name}: registered back under another id`);
                    assert.equal(sums(now[0]), sums(orig), `${kind} ${name}: disk checksums differ from before the move`);
                }
            }
            for (const [dc, name] of [["dc-src", "stay"], ["dc-dst", "other"]]) {
                const orig = inDc(before.vms, dc, name)[0];
                const now = inDc(after.vms, dc, name);
                assert.equal(now.length, 1, `VM ${name}, which the stack never registered, is gone from ${dc}`);
                assert.equal(sums(now[0]), sums(orig), `VM ${name}'s disks changed`);
            }
            const p = await place(t, "data-move");
            assert.deepEqual([p.dc, p.status], ["dc-src", "active"], "data-move is not back in dc-src, active");
            assert.deepEqual(await unregistered(t, "data-move"), [], "entities left unregistered on data-move");
            console.log(`      destroy ${point}: killed after ${times.killMs} ms, resumed in ${times.resumeMs} ms`);
        }

        it("killed while data-move is being deactivated in dc-dst", async () => {
            const { t, ws, before } = await moved("deact");
            const times = await killDestroyAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.dc === "dc-dst" && ["locked", "preparing_for_maintenance"].includes(p.status ?? "");
            }, "deactivating");
            await assertGivenBack(t, before, times, "deactivating");
        });

        it("killed after the detach from dc-dst, before the attach to dc-src", async () => {
            const { t, ws, before } = await moved("detached");
            await hold(t, "POST", "/datacenters/[^/]+/storagedomains$");
            const times = await killDestroyAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.known && !p.dc;
            }, "detached", async () => {
                assert.equal((await disks(t)).vms.filter((v) => moving.vms.includes(v.name)).length, 0, "at the kill no engine data center lists the moved VMs");
            });
            await assertGivenBack(t, before, times, "detached");
        });

        it("killed while data-move is being attached back to dc-src", async () => {
            const { t, ws, before } = await moved("attaching");
            const times = await killDestroyAndResume(ws, [t], async () => {
                const p = await place(t, "data-move");
                return p.dc === "dc-src" && ["locked", "maintenance", "activating"].includes(p.status ?? "");
            }, "attaching");
            await assertGivenBack(t, before, times, "attaching");
        });

        it("killed between two registrations back in dc-src: template registered, VMs not yet", async () => {
            const { t, ws, before } = await moved("between");
            await hold(t, "POST", "/vms/[^/]+/register$");
            const registersBefore = (await audit(t)).filter((a) => /\/templates\/[^/]+\/register$/.test(a.path) && a.status === 200).length;
            const times = await killDestroyAndResume(ws, [t], async () => (await audit(t)).filter((a) => /\/templates\/[^/]+\/register$/.test(a.path) && a.status === 200).length > registersBefore, "between", async () => {
                assert.deepEqual((await unregistered(t, "data-move")).sort(), ["vm db", "vm thin", "vm web"]);
                assert.equal((await place(t, "data-move")).dc, "dc-src");
            });
            await assertGivenBack(t, before, times, "between");
        });
    });
    // Issue 15, across engines: the destroy of a completed move A -> B gives data-x back to engine A. Its order
    // (run.ts del): deactivate + detach in dc-b, import into engine A, remove without format from engine B, attach +
    // activate in dc-a, register back (template first) what left dc-a. Import before removal, as the up does in the
    // other direction: at every instant one engine knows the domain. Each point SIGKILLs `pulumi destroy`, runs the
    // README's recipe with `pulumi destroy`, and checks: the state is empty, every moved entity is back in dc-a of
    // engine A once (same id, checksums from before the move) and in no data center of B, B has forgotten data-x,
    // nothing is left unregistered, and the VM each engine had that the stack never registered is untouched. The
    // last point makes the window no engine knows the domain (an older provider removed it from B before the
    // import; an operator may do so): the destroy imports it into A from its recorded storage connection.
    describe("cross engine: pulumi destroy of a completed move SIGKILLed while it gives data-x back to engine A", () => {
        const moving = CROSS_ENGINE_MOVING;

        async function moved(point: string): Promise<{ a: TestSimulator; b: TestSimulator; ws: PulumiWorkspace; beforeA: DisksReport; beforeB: DisksReport }> {
            // stay-a (engine A) and other-b (engine B) were never registered by the stack: the destroy must leave them
            const { a, b, ws } = await crossEngineStack(`ddx-${point}`, {
                a: [{ name: "stay-a", cluster: "cl-a", disks: [{ sizeMiB: 4, storageDomain: "data-a" }] }],
                b: [{ name: "other-b", cluster: "cl-b", disks: [{ sizeMiB: 4, storageDomain: "data-b" }] }],
            });
            const beforeA = await disks(a);
            const beforeB = await disks(b);
            ok(await ws.up(), `${point}: up`);
            await assertMovedOnce(a, beforeA, "dc-a", b, "dc-b", "data-x", moving);
            for (const t of [a, b]) await t.admin("PUT", "storage-operation", { ms: STORAGE_OP_MS });
            return { a, b, ws, beforeA, beforeB };
        }

        /** Back in engine A as before the move; engine B holds nothing of it; what the stack never registered is as it was. */
        async function assertGivenBack(a: TestSimulator, b: TestSimulator, beforeA: DisksReport, beforeB: DisksReport, times: { killMs: number; resumeMs: number }, point: string): Promise<void> {
            const afterA = await disks(a);
            const afterB = await disks(b);
            for (const kind of ["vms", "templates"] as const) {
                for (const name of moving[kind]) {
                    const orig = inDc(beforeA[kind], "dc-a", name)[0];
                    const now = afterA[kind].filter((e) => e.name === name);
                    assert.equal(now.length, 1, `${kind} ${name}: ${now.length} of that name in engine A after the destroy (${now.map((e) => e.dataCenter).join(", ")})`);
                    assert.equal(now[0].dataCenter, "dc-a", `${kind} ${name} is in ${now[0].dataCenter} after the destroy`);
                    assert.equal(now[0].id, orig.id, `${kind} ${name}: registered back under another id`);
                    assert.equal([...afterA.vms, ...afterA.templates].filter((e) => e.id === orig.id).length, 1, `${kind} ${name}: its id ${orig.id} more than once in engine A`);
                    assert.equal(sums(now[0]), sums(orig), `${kind} ${name}: disk checksums differ from before the move`);
                    assert.deepEqual(afterB[kind].filter((e) => e.name === name || e.id === orig.id).map((e) => e.dataCenter), [], `${kind} ${name} is still in engine B`);
                }
            }
            for (const [t, before, after, dc, name] of [[a, beforeA, afterA, "dc-a", "stay-a"], [b, beforeB, afterB, "dc-b", "other-b"]] as const) {
                const orig = inDc(before.vms, dc, name)[0];
                const now = inDc(after.vms, dc, name);
                assert.equal(now.length, 1, `VM ${name}, which the stack never registered, is gone from ${dc} (${t.sim.url})`);
                assert.equal(now[0].id, orig.id, `VM ${name}'s id changed`);
                assert.equal(sums(now[0]), sums(orig), `VM ${name}'s disks changed`);
            }
            const pa = await place(a, "data-x");
            assert.deepEqual([pa.dc, pa.status], ["dc-a", "active"], "data-x is not back in dc-a of engine A, active");
            assert.equal((await place(b, "data-x")).known, false, "engine B still knows data-x");
            assert.deepEqual(await unregistered(a, "data-x"), [], "entities left unregistered on data-x in engine A");
            console.log(`      cross destroy ${point}: killed after ${times.killMs} ms, resumed in ${times.resumeMs} ms`);
        }

        it("killed after the detach from dc-b, before engine A imported data-x", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("detached");
            await hold(a, "POST", "/api/storagedomains$");
            const times = await killDestroyAndResume(ws, [a, b], async () => {
                const pb = await place(b, "data-x");
                return pb.known && !pb.dc;
            }, "detached in B", async () => {
                assert.equal((await place(a, "data-x")).known, false, "at the kill engine A knows data-x already");
                assert.equal(inDc((await disks(b)).vms, "dc-b", "app").length, 0, "at the kill dc-b still lists app");
            });
            await assertGivenBack(a, b, beforeA, beforeB, times, "detached in B");
        });

        it("killed after the import into engine A, before the removal from engine B", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("both");
            await hold(b, "DELETE", "/api/storagedomains/[^/]+$");
            const times = await killDestroyAndResume(ws, [a, b], async () => (await place(a, "data-x")).known, "known to both", async () => {
                const pb = await place(b, "data-x");
                assert.ok(pb.known && !pb.dc, "at the kill engine B still knows data-x, detached");
                assert.equal((await place(a, "data-x")).dc, undefined, "at the kill data-x is attached in engine A already");
            });
            await assertGivenBack(a, b, beforeA, beforeB, times, "known to both");
        });

        it("killed after the removal from engine B, before the attach to dc-a", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("removed");
            await hold(a, "POST", "/datacenters/[^/]+/storagedomains$");
            const times = await killDestroyAndResume(ws, [a, b], async () => !(await place(b, "data-x")).known, "removed from B", async () => {
                const pa = await place(a, "data-x");
                assert.ok(pa.known && !pa.dc, "at the kill engine A knows data-x, attached nowhere");
                assert.equal(inDc((await disks(a)).vms, "dc-a", "app").length, 0, "at the kill dc-a lists app already");
            });
            await assertGivenBack(a, b, beforeA, beforeB, times, "removed from B");
        });

        it("killed while data-x is being attached to dc-a", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("attaching");
            const times = await killDestroyAndResume(ws, [a, b], async () => {
                const pa = await place(a, "data-x");
                return pa.dc === "dc-a" && ["locked", "maintenance", "activating"].includes(pa.status ?? "");
            }, "attaching in A");
            await assertGivenBack(a, b, beforeA, beforeB, times, "attaching in A");
        });

        it("killed after the attach to dc-a, before any registration back", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("attached");
            await hold(a, "POST", "/register$");
            const times = await killDestroyAndResume(ws, [a, b], async () => {
                const pa = await place(a, "data-x");
                return pa.dc === "dc-a" && pa.status === "active";
            }, "attached in A", async () => {
                assert.ok(!(await audit(a)).some((x) => /\/register$/.test(x.path) && x.status === 200), "a register back reached engine A before the kill");
                assert.deepEqual((await unregistered(a, "data-x")).sort(), ["template base", "vm app", "vm kid"]);
            });
            await assertGivenBack(a, b, beforeA, beforeB, times, "attached in A");
        });

        it("killed after the detach from dc-b; then engine B forgets data-x before the resume (known to neither engine)", async () => {
            const { a, b, ws, beforeA, beforeB } = await moved("neither");
            await hold(a, "POST", "/api/storagedomains$");
            const times = await killDestroyAndResume(ws, [a, b], async () => {
                const pb = await place(b, "data-x");
                return pb.known && !pb.dc;
            }, "known to neither", async () => {
                // removed from B without format (its content and OVF store stay on the storage), as an older
                // provider's destroy did before the import into A, or an operator by hand
                const sd = arr<any>((await b.api("GET", "storagedomains")).xml?.storage_domains?.storage_domain).find((d) => d.name === "data-x");
                const r = await b.api("DELETE", `storagedomains/${sd["@_id"]}?host=host-b&format=false`);
                assert.equal(r.status, 200, r.text);
                assert.deepEqual([(await place(a, "data-x")).known, (await place(b, "data-x")).known], [false, false], "at the resume an engine knows data-x");
            });
            await assertGivenBack(a, b, beforeA, beforeB, times, "known to neither");
        });
    });
});
