// Issue 11, item 2: the engine restarts while the real `pulumi up` of the root project copies a VM. Like the real
// engine (JobRepositoryImpl.finalizeJobs: a job whose steps carry VDSM tasks stays `started`, the tasks go on and the
// command ends when they end), the import's copy goes on over the restart; the provider rides out the outage (dropped
// connections, 503 while the engine starts, its SSO token gone) and keeps waiting on the same job: ONE `pulumi up`
// completes the migration and nothing is submitted twice. Both an admin restart (same process) and a new simulator
// process on the same state dir and port (the engine stopped and started again) are covered. Every verdict reads the
// engine's state (admin API).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { E2E, disks, startE2E } from "../support/e2e";
import { ROOT } from "../support/pulumi";
import { defaultInventory } from "../../simulator/model/defaultInventory";
import { RunningSimulator, startSimulator } from "../../simulator";
import { assertMigrated, jobs, pendingOperations } from "./support";

const STACK = "rel-restart";
const VMS = ["web-01", "snap-01"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("reliability: an engine restart in the middle of `pulumi up`", function () {
    this.timeout(15 * 60_000);
    let e: E2E;
    let emptyState: string;
    let second: RunningSimulator | undefined;

    before(async function () {
        this.timeout(120_000);
        e = await startE2E(
            ROOT,
            STACK,
            { "migration:vms": JSON.stringify(VMS), "migration:templates": JSON.stringify([]), "migration:concurrency": "2" },
            { bandwidthMiBps: 12, password: "Pw-restart-7q2" },
        );
        emptyState = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rel-restart-")), "empty.json");
        fs.writeFileSync(emptyState, JSON.stringify(await e.ws.exportState()));
    });
    after(async () => {
        await second?.close();
        await e?.close();
        if (emptyState) fs.rmSync(path.dirname(emptyState), { recursive: true, force: true });
    });

    /** A fresh inventory and an empty stack. */
    async function reset(): Promise<void> {
        await e.t.admin("POST", "inventory", defaultInventory);
        await e.t.admin("DELETE", "audit");
        await e.ws.ok(["stack", "import", "--stack", STACK, "--force", "--file", emptyState]);
    }

    /** Runs `pulumi up` once while `restart` is called as soon as a VM import has copied some bytes. */
    async function upWithRestart(restart: () => Promise<unknown>): Promise<{ up: { code: number | null; output: string }; restarted: boolean }> {
        let restarted = false;
        let stop = false;
        const watcher = (async () => {
            while (!stop && !restarted) {
                const js = await jobs(e.t).catch(() => []);
                if (js.some((j) => j.kind === "import_vm" && j.status === "started" && j.bytes > 2 * 1048576)) {
                    await restart();
                    restarted = true;
                }
                await sleep(50);
            }
        })();
        try {
            const up = await e.ws.up();
            return { up, restarted };
        } finally {
            stop = true;
            await watcher;
        }
    }

    async function assertOnce(label: string): Promise<void> {
        const audit = (await e.t.admin("GET", "audit")).entries as Array<{ method: string; path: string; action: string; status: number }>;
        const imports = audit.filter((a) => a.method === "POST" && a.action === "import" && /\/vms\/[^/]+\/import$/.test(a.path));
        const exports = audit.filter((a) => a.method === "POST" && a.action === "export");
        assert.strictEqual(imports.length, VMS.length, `${label}: ${imports.length} VM import requests for ${VMS.length} VMs`);
        assert.strictEqual(exports.length, VMS.length, `${label}: ${exports.length} export requests for ${VMS.length} VMs`);
        const js = await jobs(e.t);
        const bad = js.filter((j) => j.status !== "finished");
        assert.deepStrictEqual(bad, [], `${label}: jobs that did not finish`);
        assert.strictEqual(js.filter((j) => j.kind === "import_vm").length, VMS.length, `${label}: one import job per VM`);
    }

    it("admin restart mid-import (API down 3 s, tokens gone): one up completes, the copy goes on, nothing is sent twice", async () => {
        await reset();
        const before = await disks(e.t);
        let result: any;
        const { up, restarted } = await upWithRestart(async () => {
            result = await e.t.admin("POST", "restart", { downMs: 3000 });
        });
        assert.ok(restarted, "the engine was never restarted (no import was running)");
        assert.ok(result.resumedJobs >= 1 && result.failedJobs === 0, JSON.stringify(result));
        assert.strictEqual(up.code, 0, `the up failed over the restart:\n${up.output.slice(-4000)}`);
        assertMigrated(before, await disks(e.t), VMS, []);
        await assertOnce("admin restart");
        assert.deepStrictEqual(await pendingOperations(e.ws), []);
    });

    it("the engine process stopped mid-import and started again on the same state and port: one up completes, nothing is sent twice", async () => {
        await reset();
        const before = await disks(e.t);
        const port = e.t.sim.port;
        const { up, restarted } = await upWithRestart(async () => {
            // stopped: the jobs stay `started` in state.json; a new engine on the same state dir and port goes on with
            // their copies (the test client keeps talking to that port; the CA is the state dir's)
            await e.t.sim.close();
            second = await startSimulator({ stateDir: e.t.stateDir, password: e.t.password, port, bandwidthMiBps: 12, storageTransitionMs: 0, storageOperationMs: 0, wireCheck: "fail" });
        });
        assert.ok(restarted, "the engine was never restarted (no import was running)");
        assert.strictEqual(second!.port, port);
        assert.strictEqual(up.code, 0, `the up failed over the restart:\n${up.output.slice(-4000)}`);
        assertMigrated(before, await disks(e.t), VMS, []);
        await assertOnce("new process");
    });
});
