// Scenario 17: an export domain that already holds a copy this stack did not make. The preview refuses to overwrite
// it silently (naming exclusive and adopt); adopt: true takes it as it is and keeps it on destroy; exclusive: true
// (force override, an explicit instruction) overwrites it, and destroy then removes it.
import { strict as assert } from "assert";
import { disks } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, idOf, ok, oob, Scenario, smallInventory, vmExport, waitJobsIdle } from "./harness";

describe("safety: copies on the export domain", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("17: a copy not made by this stack fails at preview (exclusive/adopt); adopt keeps it on destroy; exclusive overwrites it and destroy removes it", async () => {
        s = await Scenario.start("s17", [{ ns: "ovirt", sim: { inventory: smallInventory({ exportAttachedTo: "dc-source" }) } }]);
        const web = await idOf(s.t, "vms", "web-01", "dc-source");
        const sd = await idOf(s.t, "storagedomains", "export1");
        const copyId = `${sd}:vm:${web}`;
        // someone exported web-01 before (out of band)
        await oob(s.t, "POST", `vms/${web}/export`, "<action><storage_domain><name>export1</name></storage_domain><exclusive>true</exclusive></action>");
        await waitJobsIdle(s.t);
        const copy = async () => (await disks(s!.t)).exportDomains.find((x) => x.name === "export1")!.vms.find((v) => v.id === web);
        const copyBefore = await copy();
        assert.ok(copyBefore, "the foreign copy is on export1");
        const before = await snapshotEntities(s.t);

        const program = (more: Record<string, unknown>) => [attachment("export1-in-source", "dc-source"), vmExport("export-web-01", "web-01", more, ["export1-in-source"])];
        const st = await s.stack(program({}));
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview over a foreign copy");
        assert.match(pv.output, /exclusive/, pv.output);
        assert.match(pv.output, /adopt/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");

        await st.patch("export-web-01", { adopt: true });
        ok(await st.up(), "up with adopt");
        const out = (await st.resource("export-web-01"))!.outputs;
        assert.equal(out.ownership, "adopted");
        assert.deepEqual(await copy(), copyBefore, "the adopted copy is as it was");
        ok(await st.destroy(), "destroy with the adopted copy");
        assert.deepEqual(await copy(), copyBefore, "destroy keeps the adopted copy");
        assert.ok(!(await st.lastWindow()).some((e) => e.entities.some((x) => x.id === copyId)), "destroy touched the adopted copy");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: [...before.keys(), copyId] }, { reset: true });

        // exclusive: the user says to overwrite it
        await st.setResources(program({ exclusive: true }));
        ok(await st.up(), "up with exclusive");
        const up = await st.lastWindow();
        assert.ok(
            up.some((e) => e.action === "export" && e.entities.some((x) => x.id === web && x.role === "source")),
            `the copy was exported again (overwritten):\n${up.map((e) => `${e.action} ${e.path}`).join("\n")}`,
        );
        assert.equal((await st.resource("export-web-01"))!.outputs.ownership, "created");
        ok(await st.destroy(), "destroy after the overwrite");
        assert.equal(await copy(), undefined, "the copy this stack made is removed");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });
});
