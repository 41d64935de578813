// `pulumi up` / `pulumi destroy` through the real CLI against an engine whose storage commands are slow and
// synchronous like a real one (issue 11, item 8): the attach answers only after a few seconds, longer than the
// provider's request timeout, so the answer is lost and the provider must carry on from the domain's status.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fetchAudit } from "./audit";
import { attachment, idOf, ok, Scenario, smallInventory } from "./harness";

const OP_MS = 3000;
const CLIENT_TIMEOUT_MS = 1500;

describe("safety: slow synchronous attach/detach through the Pulumi CLI", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("up attaches export1 although the attach outlasts the provider's request timeout; destroy detaches it the same way", async () => {
        s = await Scenario.start("slowsd", [{ ns: "ovirt", sim: { inventory: smallInventory(), storageOperationMs: OP_MS } }]);
        const progressFile = path.join(s.tempDir("slowsd-progress-"), "progress.jsonl");
        const st = await s.stack([attachment("export1-in-target", "dc-target")]);
        // the provider process inherits the CLI's environment
        Object.assign(st.ws.env, { OVIRT_MIGRATE_REQUEST_TIMEOUT_MS: String(CLIENT_TIMEOUT_MS), OVIRT_MIGRATE_PROGRESS_FILE: progressFile });
        const sd = await idOf(s.t, "storagedomains", "export1");
        const dc = await idOf(s.t, "datacenters", "dc-target");
        const status = async () => {
            const r = await s!.t.api("GET", `datacenters/${dc}/storagedomains/${sd}`);
            return r.status === 200 ? String(r.xml?.storage_domain?.status) : `HTTP ${r.status}`;
        };
        const ops = async (since: number) =>
            (await fetchAudit(s!.t)).filter((e) => e.seq > since && ["attach", "activate", "deactivate", "detach"].includes(e.action)).map((e) => [e.action, e.status]);
        const lines = () => fs.readFileSync(progressFile, "utf8").trim().split("\n").map((l) => JSON.parse(l).message as string);

        const t0 = Date.now();
        const up = await st.up();
        ok(up, "up");
        assert.ok(Date.now() - t0 >= OP_MS, "the attach took the engine's time");
        assert.equal(await status(), "active");
        assert.equal((await st.resource("export1-in-target"))!.outputs.status, "active");
        const attachOps = await ops(0);
        assert.deepEqual(attachOps.filter(([a]) => a !== "activate"), [["attach", 201]], `one attach: ${JSON.stringify(attachOps)}`);
        assert.ok(attachOps.filter(([a]) => a === "activate").every(([, st]) => st === 409), JSON.stringify(attachOps));
        assert.ok(lines().some((l) => /attaching export1 to dc-target: no answer from the engine/.test(l)), lines().join("\n"));
        assert.ok(lines().some((l) => /the engine is attaching export1 to dc-target \(status \w+\): waiting for it/.test(l)), lines().join("\n"));

        const mark = (await fetchAudit(s.t)).reduce((m, e) => Math.max(m, e.seq), 0);
        ok(await st.destroy(), "destroy");
        assert.equal(await status(), "HTTP 404", "export1 left dc-target");
        assert.deepEqual(await ops(mark), [["deactivate", 200], ["detach", 200]]);
        await st.assertAudit();
    });
});
