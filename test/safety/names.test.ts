// Scenario 7: names that need quoting in the engine's search language (`"` and `\`) are exported in the same batch
// as plain names, each as itself; and a bare user name that matches users of two authz domains is refused at
// preview, listing both, instead of granting a role to whichever comes first.
import { strict as assert } from "assert";
import { disks } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, idOf, moveEntries, ok, Scenario, smallInventory, smallVm, vmExport } from "./harness";

const QUOTE = 'q"uote-01';
const BACKSLASH = "back\\slash-01";

describe("safety: names", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it('7a: VMs named with " and \\ are exported in one batch with a plain name, each as itself', async () => {
        s = await Scenario.start("s7a", [{ ns: "ovirt", sim: { inventory: smallInventory({ vms: [smallVm(QUOTE, "cl-source"), smallVm(BACKSLASH, "cl-source")] }) } }]);
        const before = await snapshotEntities(s.t);
        const names = ["web-01", QUOTE, BACKSLASH];
        const ids = new Map<string, string>();
        for (const n of names) ids.set(n, await idOf(s.t, "vms", n, "dc-source"));
        const batch = { id: "mixed-names", members: names };
        const st = await s.stack([
            attachment("export1-in-source", "dc-source"),
            ...names.map((n, i) => vmExport(`export-${i}`, n, { batch }, ["export1-in-source"])),
        ]);
        ok(await st.up(), "up");
        const copies = (await disks(s.t)).exportDomains.find((x) => x.name === "export1")!.vms;
        for (const n of names) {
            const c = copies.filter((x) => x.name === n);
            assert.equal(c.length, 1, `one copy of ${n} on export1: ${JSON.stringify(copies.map((x) => x.name))}`);
            assert.equal(c[0].id, ids.get(n), `the copy of ${n} is that VM`);
        }
        for (const [i, n] of names.entries()) assert.equal((await st.resource(`export-${i}`))!.outputs.sourceId, ids.get(n));
        ok(await st.destroy(), "destroy");
        assert.deepEqual((await disks(s.t)).exportDomains.find((x) => x.name === "export1")!.vms, [], "the copies are removed");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("7b: a permission for bare jdoe when jdoe@a and jdoe@b exist fails at preview listing both", async () => {
        const users = ["a", "b"].map((domain, i) => ({
            id: `7b000000-0000-4000-8000-00000000000${i}`,
            userName: `jdoe@${domain}`,
            principal: "jdoe",
            domain,
            firstName: "John",
        }));
        s = await Scenario.start("s7b", [{ ns: "ovirt", sim: { inventory: smallInventory({ users }) } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"], { importArgs: { permissions: [{ user: "jdoe", role: "UserRole" }] } }));
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview with an ambiguous user");
        assert.match(pv.output, /permissions\[0\]\.user/, pv.output);
        assert.match(pv.output, /jdoe@a/, pv.output);
        assert.match(pv.output, /jdoe@b/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });
});
