// Scenario 20: the whole Migration over the default inventory, up then destroy: every source VM and template keeps
// its disk checksums and its power state, and the engine's audit shows the sources only ever exported.
import { strict as assert } from "assert";
import { disks, inDc } from "../support/e2e";
import { assertIntact, fetchAudit, snapshotEntities } from "./audit";
import { ok, Scenario } from "./harness";

const VMS = ["web-01", "db-01", "app-01", "snap-01", "thin-01"];

describe("safety: a whole migration", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("20: Migration up then destroy: sources keep checksums and power state; the audit shows only exports on them", async () => {
        s = await Scenario.start("s20", [{ ns: "ovirt" }]); // the simulator's default inventory
        const before = await snapshotEntities(s.t);
        assert.ok([...before.values()].some((e) => e.status === "up"), "the default inventory has a running VM (run-01)");
        const st = await s.stack([
            {
                type: "Migration",
                name: "main",
                args: {
                    source: { dataCenter: "dc-source" },
                    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
                    exportDomain: "export1",
                    templates: ["rhel9-base"],
                    vms: VMS,
                },
            },
        ]);
        ok(await st.up(), "up");
        const d = await disks(s.t);
        for (const n of VMS) assert.equal(inDc(d.vms, "dc-target", n).length, 1, `${n} migrated`);
        await assertIntact(s.t, before);
        ok(await st.destroy(), "destroy");
        assert.deepEqual(inDc((await disks(s.t)).vms, "dc-target").map((v) => v.name), [], "destroy removed the imported VMs");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });

        // no out-of-band change in this test: the whole audit is the stack's
        const sources = new Set(before.keys());
        const onSources = (await fetchAudit(s.t)).flatMap((e) =>
            e.entities.filter((x) => sources.has(x.id.toLowerCase()) && x.role !== "parent").map((x) => `${e.action} ${x.kind} ${x.name} as ${x.role}`),
        );
        assert.ok(onSources.length > 0, "the exports are in the audit");
        assert.deepEqual(
            onSources.filter((l) => !/^export (vm|template) .* as source$/.test(l)),
            [],
            "sources were touched other than by being exported",
        );
    });
});
