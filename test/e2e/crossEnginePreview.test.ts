// Issue 13, item 2 (cross-engine): `pulumi preview` and `pulumi up` WITH its preview of a cross-engine Migration
// (examples/cross-engine, run as its README says) against two engine simulators. The preview plans the whole move
// while the export domain is still in engine A (the imports are checked against engine A), sends neither engine a
// mutating request, and `pulumi up --yes` (no --skip-preview) moves the VMs with equal disks; a second up is a
// no-op. Without `source.engine` the default engine (`ovirt:*`) is the source; with neither, the preview fails
// naming `source.engine`. A SIGKILLed up (before the domain move, and after it) resumes with the README's recipe.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CliResult, PulumiWorkspace, changeCounts } from "../support/pulumi";
import { DisksReport, disks, example, inDc, removeStackConfig, sums } from "../support/e2e";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { jobs, requestLog, runAndKill } from "../reliability/support";
import { getProvider } from "../../provider";
import { clearReadCache } from "../../provider/operations/readCache";
import { closeAllEngines } from "../../provider/client";

const DIR = example("cross-engine");
const VMS = ["web-01", "db-01"];

interface Pair {
    a: TestSimulator;
    b: TestSimulator;
    ws: PulumiWorkspace;
    close(): Promise<void>;
}

/** Two fresh engines and a stack of the example configured as its README says (engine A as `engineA:*` or `ovirt:*`). */
async function pair(stack: string, sourceAs: "engineA" | "ovirt" | "none", simOpts: { bandwidthMiBps?: number } = {}): Promise<Pair> {
    const a = await startTestSimulator({ password: "engine-a-pw-p1", engineName: "engine-a", ...simOpts });
    const b = await startTestSimulator({ password: "engine-b-pw-p2", engineName: "engine-b", inventory: path.join(DIR, "engine-b-inventory.yaml"), ...simOpts });
    const ws = new PulumiWorkspace(DIR, stack);
    removeStackConfig(DIR, stack);
    const config: Record<string, string> = {
        "engineB:url": b.sim.url,
        "engineB:caFile": b.sim.caFile,
        "migration:exportPath": path.join(a.stateDir, "exports", "export1"),
    };
    const secrets: Record<string, string> = { "engineB:password": b.password };
    if (sourceAs !== "none") {
        config[`${sourceAs}:url`] = a.sim.url;
        config[`${sourceAs}:caFile`] = a.sim.caFile;
        secrets[`${sourceAs}:password`] = a.password;
    }
    await ws.init(config, secrets);
    await a.admin("DELETE", "requests");
    await b.admin("DELETE", "requests");
    return {
        a,
        b,
        ws,
        close: async () => {
            await a.close();
            await b.close();
            removeStackConfig(DIR, stack);
            fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
        },
    };
}

const mutating = async (t: TestSimulator) => (await t.admin("GET", "requests")).mutating as number;

/** `pulumi up --yes` with its preview, as users run it (never --skip-preview). */
function upWithPreview(ws: PulumiWorkspace, opts = {}): Promise<CliResult> {
    return ws.run(["up", "--yes", "--stack", ws.stack, "--non-interactive"], opts);
}

function sourceSums(d: DisksReport): Map<string, string> {
    return new Map(inDc(d.vms, "dc-source").map((v) => [v.name, sums(v)]));
}

/** Every VM exactly once in dc-b with the source's checksums; the sources untouched in engine A. */
async function assertMoved(p: Pair, src: Map<string, string>, label: string): Promise<void> {
    const db = await disks(p.b);
    for (const name of VMS) {
        const vm = inDc(db.vms, "dc-b", name);
        assert.equal(vm.length, 1, `${label}: ${name} in dc-b ${vm.length} times`);
        assert.equal(sums(vm[0]), src.get(name), `${label}: ${name} checksums differ from the source`);
    }
    assert.equal(inDc(db.vms, "dc-b").length, VMS.length, `${label}: other VMs in dc-b`);
    const da = await disks(p.a);
    assert.ok(!da.exportDomains.some((x) => x.name === "export1"), `${label}: export1 still in engine A`);
    assert.ok(db.exportDomains.some((x) => x.name === "export1"), `${label}: export1 not in engine B`);
    for (const name of VMS) {
        const s = inDc(da.vms, "dc-source", name);
        assert.equal(s.length, 1, `${label}: source ${name}`);
        assert.equal(sums(s[0]), src.get(name), `${label}: source ${name} changed`);
        assert.equal(s[0].status, "down", `${label}: source ${name} is ${s[0].status}`);
    }
}

/** A second `pulumi up` (with its preview) changes nothing and sends neither engine a mutating request. */
async function assertNoOp(p: Pair): Promise<void> {
    await p.a.admin("DELETE", "requests");
    await p.b.admin("DELETE", "requests");
    const again = await upWithPreview(p.ws);
    assert.equal(again.code, 0, again.output.slice(-4000));
    assert.doesNotMatch(again.output, /\d+ (created|updated|deleted|replaced)/, again.output);
    assert.equal(await mutating(p.a), 0, "a no-op up sent engine A a mutating request");
    assert.equal(await mutating(p.b), 0, "a no-op up sent engine B a mutating request");
}

describe("e2e: cross-engine preview and up with its preview (examples/cross-engine)", function () {
    this.timeout(15 * 60_000);

    describe("source engine as engineA:* (source.engine set)", () => {
        let p: Pair;
        before(async () => {
            p = await pair("e2e-xprev", "engineA");
        });
        after(async () => p?.close());

        it("pulumi preview plans the whole move, checked against engine A, with 0 mutating requests in both engines", async () => {
            const r = await p.ws.preview();
            assert.equal(r.code, 0, r.output);
            const counts = changeCounts(r.output);
            // stack + component + its engine provider + its plan + 2 attachments + 2 exports + 2 imports
            assert.equal(counts["create"], 10, r.output);
            for (const name of VMS) {
                assert.match(r.output, new RegExp(`cross-import-vm-${name}`), r.output);
            }
            // the plan says once what each import is checked against before the domain and the copies exist (its
            // imports no longer repeat it under each one)
            assert.match(r.output, new RegExp(`not on export domain export1 yet \\(exported by this migration first\\): ${VMS.join(", ")}; the imports are checked against the sources until then`), r.output);
            assert.match(r.output, /Migration plan cross: dc-source -> dc-b from https:\S+ to https:\S+ \(cross-engine\)/, r.output);
            assert.doesNotMatch(r.output, /does not exist in engine/, r.output);
            assert.doesNotMatch(r.output, /imported as a clone/, "across engines the VMs keep their ids");
            assert.equal(await mutating(p.a), 0, "preview sent engine A a mutating request");
            assert.equal(await mutating(p.b), 0, "preview sent engine B a mutating request");
        });

        it("pulumi up --yes (with its preview) moves the VMs with equal disks; a second up is a no-op", async () => {
            const src = sourceSums(await disks(p.a));
            const r = await upWithPreview(p.ws);
            assert.equal(r.code, 0, r.output.slice(-6000));
            assert.doesNotMatch(r.output, /--skip-preview/);
            await assertMoved(p, src, "up");
            // across engines: the same ids, no clone, no collapse
            const out = (await p.ws.outputs()).imported;
            const da = await disks(p.a);
            for (const name of VMS) {
                assert.equal(out[`vm:${name}`].vmId, inDc(da.vms, "dc-source", name)[0].id, `${name} keeps its id across engines`);
                assert.equal(out[`vm:${name}`].cloned, false);
                assert.equal(out[`vm:${name}`].collapsed, false);
            }
            await assertNoOp(p);
        });
    });

    describe("source engine left out (source.engine unset)", () => {
        let p: Pair;
        let none: Pair;
        before(async () => {
            p = await pair("e2e-xprev-ovirt", "ovirt");
            none = await pair("e2e-xprev-none", "none");
        });
        after(async () => {
            await p?.close();
            await none?.close();
        });

        it("the default engine (ovirt:*) is the source: preview plans the move, up moves the VMs", async () => {
            const pv = await p.ws.preview();
            assert.equal(pv.code, 0, pv.output);
            assert.match(pv.output, /not on export domain export1 yet \(exported by this migration first\): web-01/, pv.output);
            assert.equal((await mutating(p.a)) + (await mutating(p.b)), 0, "preview sent a mutating request");
            const src = sourceSums(await disks(p.a));
            const r = await upWithPreview(p.ws);
            assert.equal(r.code, 0, r.output.slice(-6000));
            await assertMoved(p, src, "up (ovirt:*)");
        });

        it("with no source engine at all the preview fails naming source.engine, in Migration's terms", async () => {
            const pv = await none.ws.preview();
            assert.notEqual(pv.code, 0, pv.output);
            assert.match(pv.output, /source\.engine: Migration cross moves the export domain to another engine \(target\.engine is set\), so it needs the source engine/, pv.output);
            assert.doesNotMatch(pv.output, /moveFrom|storageConnection/, pv.output);
            assert.equal((await mutating(none.a)) + (await mutating(none.b)), 0);
        });
    });

    // A SIGKILL of the whole CLI tree, then the README's recipe: pulumi cancel, refresh --clear-pending-creates, up.
    const KILLS: Array<{ name: string; when: (p: Pair) => Promise<boolean> }> = [
        {
            name: "mid-export, before the domain move",
            when: async (p) => (await jobs(p.a)).some((j) => j.kind === "export_vm" && j.status === "started" && j.bytes > 4 * 1048576),
        },
        {
            name: "after the domain reached engine B, before the imports",
            when: async (p) =>
                (await requestLog(p.b)).some((r) => r.method === "POST" && /^\/ovirt-engine\/api\/storagedomains$/.test(r.path) && r.status < 300),
        },
    ];
    for (const k of KILLS) {
        describe(`SIGKILL ${k.name}`, () => {
            let p: Pair;
            before(async () => {
                p = await pair(`e2e-xkill-${KILLS.indexOf(k)}`, "engineA", { bandwidthMiBps: 16 });
            });
            after(async () => p?.close());

            it("resumes with pulumi cancel, refresh --clear-pending-creates, up: every VM once, equal disks, then a no-op", async () => {
                const src = sourceSums(await disks(p.a));
                const killed = await runAndKill(p.ws, ["up", "--yes", "--stack", p.ws.stack, "--non-interactive"], () => k.when(p));
                assert.ok(killed.killed, `the kill point was never reached; up ended with ${killed.code}:\n${killed.output.slice(-3000)}`);
                assert.deepEqual(killed.survivors, [], "processes of the killed CLI's tree survived");
                // the README's recipe, literally
                const cancel = await p.ws.run(["cancel", "--yes", "--stack", p.ws.stack]);
                assert.equal(cancel.code, 0, cancel.output);
                const refresh = await p.ws.run(["refresh", "--clear-pending-creates", "--yes", "--stack", p.ws.stack, "--non-interactive"]);
                assert.equal(refresh.code, 0, refresh.output.slice(-4000));
                const up = await upWithPreview(p.ws);
                assert.equal(up.code, 0, `resume after a kill ${k.name}:\n${up.output.slice(-6000)}`);
                await assertMoved(p, src, `resume (${k.name})`);
                const state = await p.ws.exportState();
                assert.deepEqual(state.deployment?.pending_operations ?? [], [], "pending operations left");
                await assertNoOp(p);
            });
        });
    }

    // The same check without the CLI, for what the example does not hold: a thin VM and its template, an
    // architecture the target cluster does not run, a name taken in the target data center.
    describe("VmImport check before the move, reading engine A (provider, no CLI)", () => {
        let a: TestSimulator;
        let b: TestSimulator;
        const eng = (t: TestSimulator) => ({ url: t.sim.url, username: "admin@internal", password: t.password, caFile: t.sim.caFile });
        before(async () => {
            a = await startTestSimulator({ password: "engine-a-pw-p3" });
            b = await startTestSimulator({
                password: "engine-b-pw-p4",
                inventory: {
                    dataCenters: [
                        {
                            name: "dc-b",
                            clusters: [{ name: "cl-b", cpuArchitecture: "x86_64" }],
                            hosts: [{ name: "host-b-1", cluster: "cl-b", status: "up" }],
                            storageDomains: [{ name: "data-b", type: "data", storageType: "nfs", sizeGiB: 50 }],
                        },
                    ],
                    exportDomains: [],
                    templates: [],
                    vms: [{ name: "app-01", cluster: "cl-b", memoryMiB: 1024, cpus: 1, disks: [{ alias: "app-01_disk0", sizeMiB: 4, storageDomain: "data-b" }] }],
                },
            });
        });
        after(async () => {
            await closeAllEngines();
            await a?.close();
            await b?.close();
        });
        beforeEach(() => clearReadCache());
        const check = (name: string, more: any = {}): Promise<{ failures: any[] }> =>
            (getProvider("VmImport") as any).check({}, {
                engine: eng(b),
                exportDomain: "export1",
                name,
                cluster: "cl-b",
                storageDomain: "data-b",
                expectExportDomain: { dataCenter: "dc-source", engine: eng(a) },
                ...more,
            });

        it("judges architecture, conflicts and a thin VM's template against engine A's source, sending nothing", async () => {
            await a.admin("DELETE", "requests");
            await b.admin("DELETE", "requests");
            let r = await check("web-01");
            assert.deepEqual(r.failures, [], JSON.stringify(r.failures));
            r = await check("ppc-01");
            assert.ok(r.failures.some((f: any) => f.property === "cluster" && /ppc64/.test(f.reason)), JSON.stringify(r.failures));
            r = await check("app-01");
            assert.ok(r.failures.some((f: any) => f.property === "onConflict" && /app-01/.test(f.reason)), JSON.stringify(r.failures));
            r = await check("thin-01");
            const t = r.failures.find((f: any) => f.property === "collapseSnapshots");
            assert.ok(t && /template rhel9-base, which is not in the target data center/.test(t.reason), JSON.stringify(r.failures));
            r = await check("thin-01", { expectTemplates: ["rhel9-base"] });
            assert.deepEqual(r.failures, [], "the template is imported first by this stack");
            r = await check("rhel9-base", { kind: "template" });
            assert.deepEqual(r.failures, []);
            r = await check("web-01", { batch: { id: "b", members: ["web-01", "ppc-01"] } });
            assert.ok(r.failures.some((f: any) => f.property === "batch" && /ppc-01 \(ppc64\)/.test(f.reason)), JSON.stringify(r.failures));
            // engine A unreadable (a fresh connection with a wrong password): the failure names the field that holds it
            clearReadCache();
            await closeAllEngines();
            r = await check("web-01", { expectExportDomain: { dataCenter: "dc-source", engine: { ...eng(a), password: "wrong-password" } } });
            assert.ok(r.failures.some((f: any) => f.property === "expectExportDomain.engine.password"), JSON.stringify(r.failures));
            assert.equal((await mutating(a)) + (await mutating(b)), 0, "check sent a mutating request");
        });
    });
});
