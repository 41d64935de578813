// Issue 11, item 2 (task-less jobs): the engine restarts while the real `pulumi up` of the root project moves the
// export domain between data centers. On the engine the storage-domain commands are monitored jobs without VDSM tasks
// (ExecutionHandler; ExecutionMessages.properties job.AttachStorageDomainToPool ...), so a restart in the middle ends
// the job `unknown` (JobRepositoryImpl.finalizeJobs), and the start-up compensation (CommandCompensator) undoes what
// the command had changed: an attach is taken back (the domain is no longer attached), a deactivation leaves the
// domain `unknown` until the pool refresh takes VDSM's view (maintenance once DeactivateStorageDomainVDS ran). The
// provider reads `unknown` as "look at the domain", never as "still running": it sends a command again only when the
// domain shows the engine undid it, and the ONE `pulumi up` completes the migration. Every verdict reads the engine
// (admin API: jobs, audit log of requests).
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { E2E, disks, startE2E } from "../support/e2e";
import { ROOT } from "../support/pulumi";
import { defaultInventory } from "../../simulator/model/defaultInventory";
import { assertMigrated, jobs, pendingOperations } from "./support";

const STACK = "rel-sd-restart";
const VMS = ["web-01"];
/** How long each storage-domain command runs in the engine (its REST call answers at the end). */
const OP_MS = 6000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AuditRow {
    method: string;
    path: string;
    action: string;
    status: number;
    correlationId?: string;
}

describe("reliability: an engine restart in the middle of a storage-domain command during `pulumi up`", function () {
    this.timeout(15 * 60_000);
    let e: E2E;
    let emptyState: string;
    let dcTarget: string;
    let dcSource: string;

    before(async function () {
        this.timeout(120_000);
        // timeScale 5: the engine's pool refresh (10 s) comes after 2 s
        e = await startE2E(
            ROOT,
            STACK,
            { "migration:vms": JSON.stringify(VMS), "migration:templates": JSON.stringify([]) },
            { bandwidthMiBps: 200, storageOperationMs: OP_MS, timeScale: 5, password: "Pw-sd-restart-4k8" },
        );
        emptyState = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rel-sd-restart-")), "empty.json");
        fs.writeFileSync(emptyState, JSON.stringify(await e.ws.exportState()));
    });
    after(async () => {
        await e?.close();
        if (emptyState) fs.rmSync(path.dirname(emptyState), { recursive: true, force: true });
    });

    async function reset(): Promise<void> {
        await e.t.admin("POST", "inventory", defaultInventory);
        await e.t.admin("PUT", "storage-operation", { ms: OP_MS });
        await e.t.admin("DELETE", "audit");
        await e.ws.ok(["stack", "import", "--stack", STACK, "--force", "--file", emptyState]);
        const dcs = (await e.t.api("GET", "datacenters")).xml.data_centers.data_center as any[];
        dcSource = dcs.find((d) => d.name === "dc-source")["@_id"];
        dcTarget = dcs.find((d) => d.name === "dc-target")["@_id"];
    }

    /** Runs `pulumi up` once; restarts the engine (admin) as soon as `when()` holds. */
    async function upWithRestart(when: () => Promise<boolean>): Promise<{ up: { code: number | null; output: string }; restarted: boolean }> {
        let restarted = false;
        let stop = false;
        const watcher = (async () => {
            while (!stop && !restarted) {
                if (await when().catch(() => false)) {
                    await e.t.admin("POST", "restart", { downMs: 1500 });
                    restarted = true;
                }
                await sleep(50);
            }
        })();
        try {
            return { up: await e.ws.up(), restarted };
        } finally {
            stop = true;
            await watcher;
        }
    }

    const audit = async (): Promise<AuditRow[]> => (await e.t.admin("GET", "audit")).entries;
    const storageJobs = async (prefix: string) => (await jobs(e.t)).filter((j) => j.description.startsWith(prefix));
    const running = async (prefix: string) => (await storageJobs(prefix)).some((j) => j.status === "started");

    it("restart mid-attach: the attach job ends unknown, the engine took the attach back, the provider attaches once more and the up completes", async () => {
        await reset();
        const before = await disks(e.t);
        // the attach to the target data center runs OP_MS; restart in its first half (map row `locked`)
        const { up, restarted } = await upWithRestart(async () => {
            const r = await e.t.api("GET", `datacenters/${dcTarget}/storagedomains`);
            const sds = ([] as any[]).concat(r.xml.storage_domains?.storage_domain ?? []);
            return (await running("Attaching Storage Domain export1 to Data Center dc-target")) && sds.some((s) => s.name === "export1" && s.status === "locked");
        });
        assert.ok(restarted, "the engine was never restarted (no attach was running)");
        assert.strictEqual(up.code, 0, `the up failed over the restart:\n${up.output.slice(-4000)}`);
        assertMigrated(before, await disks(e.t), VMS, []);
        const attachJobs = await storageJobs("Attaching Storage Domain export1 to Data Center dc-target");
        assert.deepStrictEqual(attachJobs.map((j) => j.status).sort(), ["finished", "unknown"], JSON.stringify(attachJobs));
        // every attach that reached the engine has a job: the interrupted one (unknown, undone by the engine) and ONE
        // more; the audit log records answered requests: the second attach, answered 201, is the only one
        const rows = (await audit()).filter((a) => a.action === "attach" && a.path.includes(`/datacenters/${dcTarget}/`));
        assert.deepStrictEqual(rows.map((a) => a.status), [201], JSON.stringify(rows));
        assert.match(up.output, /the engine undid the attach of export1 to dc-target|did not reach the engine \(not attached to dc-target\)/);
        // nothing else was sent twice
        const all = await audit();
        for (const action of ["deactivate", "detach"]) {
            assert.strictEqual(all.filter((a) => a.action === action && a.status === 200).length, all.filter((a) => a.action === action).length, `${action}: ${JSON.stringify(all.filter((a) => a.action === action))}`);
        }
        assert.strictEqual(all.filter((a) => a.method === "POST" && a.action === "import").length, VMS.length);
        assert.strictEqual(all.filter((a) => a.method === "POST" && a.action === "export").length, VMS.length);
        assert.deepStrictEqual(await pendingOperations(e.ws), []);
    });

    it("restart mid-deactivate after VDSM deactivated: the job ends unknown, the domain is unknown and then in maintenance; nothing is sent again", async () => {
        await reset();
        const before = await disks(e.t);
        const { up, restarted } = await upWithRestart(async () => {
            const r = await e.t.api("GET", `datacenters/${dcSource}/storagedomains`);
            const sds = ([] as any[]).concat(r.xml.storage_domains?.storage_domain ?? []);
            return (await running("Deactivating Storage Domain export1 in Data Center dc-source")) && sds.some((s) => s.name === "export1" && s.status === "preparing_for_maintenance");
        });
        assert.ok(restarted, "the engine was never restarted (no deactivation was running)");
        assert.strictEqual(up.code, 0, `the up failed over the restart:\n${up.output.slice(-4000)}`);
        assertMigrated(before, await disks(e.t), VMS, []);
        const deactivations = await storageJobs("Deactivating Storage Domain export1 in Data Center dc-source");
        assert.deepStrictEqual(deactivations.map((j) => j.status), ["unknown"], JSON.stringify(deactivations));
        const all = await audit();
        const rows = (action: string) => all.filter((a) => a.action === action && a.path.includes(`/datacenters/${dcSource}/`));
        // the one deactivation (its job above) lost its answer to the restart; none was sent again (a second one would
        // be in the audit log, answered or refused)
        assert.deepStrictEqual(rows("deactivate"), []);
        assert.deepStrictEqual(rows("detach").map((a) => a.status), [200]);
        assert.deepStrictEqual(all.filter((a) => a.action === "attach").map((a) => a.status), [201]);
        assert.strictEqual(all.filter((a) => a.method === "POST" && a.action === "import").length, VMS.length);
        assert.deepStrictEqual(await pendingOperations(e.ws), []);
    });
});
