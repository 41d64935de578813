// Issue 6, reliability 1: SIGKILL `pulumi up` of a multi-VM migration (the root project: 3 VMs incl. a thin
// template-based one and one with snapshots, plus their template, with permissions) at a dozen points, then resume
// the way Pulumi v3.260 with the file backend requires (`pulumi cancel` to remove the lock, `pulumi refresh
// --clear-pending-creates` to drop pending creates; see support.ts) and `pulumi up` again. After each resume the
// engine must hold exactly one copy of each VM and the template in the target data center, none missing, every disk
// checksum equal to the source, alice's permission exactly once on each import, and no pending operation left.
//
// The kill points are chosen on the engine's state (admin API: jobs, request log, export domain) or on the CLI's
// output, polled every 50 ms. One simulator is shared: between points its inventory is reseeded (admin POST
// /inventory) and the stack's state is reset to the empty deployment (`pulumi stack import`).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { E2E, disks, startE2E } from "../support/e2e";
import { ROOT } from "../support/pulumi";
import { defaultInventory } from "../../simulator/model/defaultInventory";
import { assertMigrated, exportDomainState, jobs, pendingOperations, recoverAfterKill, requestLog, runAndKill } from "./support";

const STACK = "rel-kill";
const VMS = ["web-01", "thin-01", "snap-01"];
const TEMPLATES = ["rhel9-base"];
const PERM = { user: "alice@internal-authz", role: "UserRole" };

type Probe = (e: E2E, output: string) => Promise<boolean> | boolean;

const exportJobs = async (e: E2E) => (await jobs(e.t)).filter((j) => j.kind.startsWith("export"));
const importJobs = async (e: E2E) => (await jobs(e.t)).filter((j) => j.kind.startsWith("import"));
const seen = async (e: E2E, re: RegExp) => (await requestLog(e.t)).some((r) => re.test(`${r.method} ${r.path}`));

/** Kill points, in the order a migration meets them. */
const POINTS: Array<{ name: string; when: Probe; setup?: (e: E2E) => Promise<unknown> }> = [
    { name: "right after the source attachment is created", when: (_e, out) => /main-source-attachment created/.test(out) },
    { name: "as the first export job starts", when: async (e) => (await exportJobs(e)).length > 0 },
    { name: "mid-export (a VM export has copied bytes)", when: async (e) => (await exportJobs(e)).some((j) => j.kind === "export_vm" && j.status === "started" && j.bytes > 4 * 1048576) },
    { name: "between exports (first export finished, others pending)", when: async (e) => { const j = await exportJobs(e); return j.some((x) => x.status === "finished") && j.length < VMS.length + TEMPLATES.length; } },
    { name: "all exports finished, before the domain move", when: async (e) => (await exportJobs(e)).filter((j) => j.status === "finished").length === VMS.length + TEMPLATES.length },
    { name: "during the domain move (deactivated in the source)", when: (e) => seen(e, /^POST .*\/deactivate$/) },
    { name: "during the domain move (detached, not yet attached to the target)", when: (e) => seen(e, /^DELETE \/ovirt-engine\/api\/datacenters\/[^/]+\/storagedomains\/[^/]+$/) },
    { name: "after the move, as the template import starts", when: async (e) => (await importJobs(e)).some((j) => j.kind === "import_template") },
    { name: "mid-import of a VM", when: async (e) => (await importJobs(e)).some((j) => j.kind === "import_vm" && j.status === "started" && j.bytes > 4 * 1048576) },
    { name: "between imports (one VM imported, others pending)", when: async (e) => { const j = (await importJobs(e)).filter((x) => x.kind === "import_vm"); return j.some((x) => x.status === "finished") && j.filter((x) => x.status === "finished").length < VMS.length; } },
    {
        // the window between an import's end and its permission request is a few ms: the engine holds the first
        // permission request for 3 s (fault rule "delay"), and the kill lands while it is held (not applied yet)
        name: "imported, before its permissions (the first permission request held by the engine)",
        setup: (e) => e.t.admin("PUT", "faults", { rules: [{ match: { method: "POST", path: "/permissions$" }, effect: { transport: "delay", delayMs: 3000 }, max: 1 }] }),
        when: async (e) => (await e.t.admin("GET", "faults")).rules[0]?.hits > 0,
    },
    { name: "after the first permission was granted", when: async (e) => (await requestLog(e.t)).some((r) => /^POST .*\/permissions$/.test(`${r.method} ${r.path}`) && r.status < 300) },
    { name: "at the very end (every import done)", when: async (e) => (await importJobs(e)).filter((j) => j.status === "finished").length === VMS.length + TEMPLATES.length },
];

describe("reliability: SIGKILL of `pulumi up` and resume", function () {
    this.timeout(20 * 60_000);
    let e: E2E;
    let emptyState: string;
    const upArgs = ["up", "--yes", "--stack", STACK, "--non-interactive"]; // with its preview, as users run it

    before(async function () {
        this.timeout(120_000);
        e = await startE2E(
            ROOT,
            STACK,
            {
                "migration:vms": JSON.stringify(VMS),
                "migration:templates": JSON.stringify(TEMPLATES),
                "migration:concurrency": "2",
                "migration:permissions": JSON.stringify([PERM]),
            },
            { bandwidthMiBps: 24 },
        );
        // the empty deployment of the fresh stack: imported again between points to start over
        emptyState = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rel-kill-")), "empty.json");
        fs.writeFileSync(emptyState, JSON.stringify(await e.ws.exportState()));
    });
    after(async () => {
        await e?.close();
        if (emptyState) fs.rmSync(path.dirname(emptyState), { recursive: true, force: true });
    });

    async function reset(): Promise<void> {
        await e.t.admin("POST", "inventory", defaultInventory);
        await e.t.admin("DELETE", "requests");
        await e.ws.ok(["stack", "import", "--stack", STACK, "--force", "--file", emptyState]);
    }

    async function assertConverged(label: string): Promise<void> {
        const after = await disks(e.t);
        assertMigrated(beforeReport!, after, VMS, TEMPLATES);
        assert.deepStrictEqual(await pendingOperations(e.ws), [], `${label}: pending operations left in the state`);
        // alice's permission exactly once on every import (no duplicate from the replayed create)
        for (const name of VMS) {
            const vm = after.vms.find((v) => v.dataCenter === "dc-target" && v.name === name)!;
            const r = await e.t.api("GET", `vms/${vm.id}/permissions`);
            const perms = [r.xml?.permissions?.permission ?? []].flat();
            const alice = perms.filter((p: any) => p.user?.["@_id"] === "5c0fa4e1-0000-4000-8000-00000000a11c");
            assert.strictEqual(alice.length, 1, `${label}: ${name} has ${alice.length} permissions for alice`);
        }
        // every source VM is where it was, none started or locked
        for (const name of VMS) {
            const src = after.vms.find((v) => v.dataCenter === "dc-source" && v.name === name)!;
            assert.strictEqual(src.status, "down", `${label}: source ${name} is ${src.status}`);
        }
    }

    let beforeReport: Awaited<ReturnType<typeof disks>> | undefined;

    for (const [i, point] of POINTS.entries()) {
        it(`kill #${i + 1}: ${point.name} -> refresh --clear-pending-creates -> up converges`, async () => {
            await reset();
            beforeReport = await disks(e.t);
            await point.setup?.(e);
            const k = await runAndKill(e.ws, upArgs, (out) => point.when(e, out));
            await e.t.admin("DELETE", "faults");
            assert.ok(k.killed, `the kill point was never reached; the up ended with ${k.code}:\n${k.output.slice(-3000)}`);
            assert.deepStrictEqual(k.survivors, [], "processes of the killed CLI's tree survived the SIGKILL");
            assert.ok(k.killedTree.some((c) => /dynamic-provider/.test(c)), `the dynamic-provider host was not running at the kill: ${k.killedTree.join("; ")}`);
            const { cancel } = await recoverAfterKill(e.ws);
            assert.strictEqual(cancel.code, 0, cancel.output);
            const up = await e.ws.up();
            assert.strictEqual(up.code, 0, `resume failed after a kill ${point.name}:\n${up.output.slice(-4000)}`);
            await assertConverged(point.name);
        });
    }

    it("a resume killed again (mid-export, then mid-import) still converges, and a further up is a no-op", async () => {
        await reset();
        beforeReport = await disks(e.t);
        const k1 = await runAndKill(e.ws, upArgs, (out) => POINTS[2].when(e, out));
        assert.ok(k1.killed);
        await recoverAfterKill(e.ws);
        const k2 = await runAndKill(e.ws, upArgs, (out) => POINTS[8].when(e, out));
        assert.ok(k2.killed, k2.output.slice(-3000));
        await recoverAfterKill(e.ws);
        const up = await e.ws.up();
        assert.strictEqual(up.code, 0, up.output.slice(-4000));
        await assertConverged("double kill");
        await e.t.admin("DELETE", "requests");
        const again = await e.ws.up();
        assert.strictEqual(again.code, 0, again.output.slice(-3000));
        assert.match(again.output, /\d+ unchanged/);
        assert.doesNotMatch(again.output, /\d+ (created|updated|deleted|replaced)/);
        assert.strictEqual((await e.t.admin("GET", "requests")).mutating, 0, "a no-op up sent a mutating request");
    });
});
