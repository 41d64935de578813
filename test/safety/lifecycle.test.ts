// Scenarios 10, 11, 12, 15: what happens to an imported VM after the import - the stack's state is lost, someone
// starts the VM, renames it, or uses it before a change that would replace it. The stack finds its own VM again (by
// its correlation id), never stops a running VM, removes its VM by id, and refuses to replace a VM that has run.
import { strict as assert } from "assert";
import { disks, inDc } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, failed, moveEntries, ok, renameVm, Scenario, smallInventory } from "./harness";

describe("safety: the imported VM's life after the import", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("10: a stack whose state was lost, re-run under the same project and stack name, imports nothing twice and resumes its own VM", async () => {
        s = await Scenario.start("s10", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        // after the first run web-01 exists in dc-source and dc-target: a program that is re-run names the source's
        // data center (README: VmExport.dataCenter; Migration sets it)
        const st = await s.stack(moveEntries(["web-01"], { exportArgs: { dataCenter: "dc-source" } }));
        ok(await st.up(), "first up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;
        assert.ok(vm1);

        await st.loseState();
        assert.equal(await st.resource("import-web-01"), undefined, "the state is empty");
        const up = await st.up();
        ok(up, "up after the state was lost");
        const again = (await st.resource("import-web-01"))!.outputs;
        assert.equal(again.vmId, vm1, "the same VM");
        assert.equal(again.ownership, "created", "its own earlier import (proven by its correlation id), not an adopted one");
        const inTarget = inDc((await disks(s.t)).vms, "dc-target");
        assert.deepEqual(inTarget.map((v) => v.id), [vm1], "exactly one VM in dc-target");
        const w = await st.lastWindow();
        assert.deepEqual(
            w.filter((e) => e.action === "import").map((e) => `${e.method} ${e.path}`),
            [],
            "no second import was started",
        );

        ok(await st.destroy(), "destroy");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm1), undefined, "the resumed VM is the stack's own: destroy removes it");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("11: destroy fails while the imported VM runs and never stops it; once it is down out of band, destroy removes it", async () => {
        s = await Scenario.start("s11", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"]));
        ok(await st.up(), "up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;
        await s.t.admin("POST", `vms/${vm1}/power`, { state: "up" });

        const d1 = await st.destroy();
        failed(d1, "destroy while the VM runs");
        assert.match(d1.output, /web-01|import-web-01/, d1.output);
        assert.match(d1.output, /running|is up|status up|powered on|not down/i, `the failure says the VM runs:\n${d1.output}`);
        const vm = (await disks(s.t)).vms.find((v) => v.id === vm1);
        assert.ok(vm, "the VM still exists");
        assert.equal(vm.status, "up", "the VM still runs");
        const w = await st.lastWindow();
        assert.deepEqual(
            w.filter((e) => ["shutdown", "stop", "remove"].includes(e.action) && e.entities.some((x) => x.id === vm1)).map((e) => `${e.action} ${e.path}`),
            [],
            "the running VM was stopped or removed",
        );
        await assertIntact(s.t, before);

        await s.t.admin("POST", `vms/${vm1}/power`, { state: "down" });
        ok(await st.destroy(), "destroy after the VM is down");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm1), undefined, "destroy removed it");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("12: destroy after an out-of-band rename removes the imported VM by id and touches nothing else", async () => {
        s = await Scenario.start("s12", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"]));
        ok(await st.up(), "up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;
        await renameVm(s.t, vm1, "renamed-01");
        const before2 = await snapshotEntities(s.t);
        assert.equal(before2.get(vm1.toLowerCase())!.name, "renamed-01");

        ok(await st.destroy(), "destroy");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm1), undefined, "the renamed VM is removed");
        await assertIntact(s.t, before2, { gone: [vm1] });
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("15: a change that would replace a VM that has run since the import fails at preview naming the field, and nothing is changed", async () => {
        s = await Scenario.start("s15", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"]));
        ok(await st.up(), "up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;
        // someone runs the VM for a moment (its data may have changed since the import), then powers it off
        await s.t.admin("POST", `vms/${vm1}/power`, { state: "up" });
        await new Promise((r) => setTimeout(r, 2000));
        await s.t.admin("POST", `vms/${vm1}/power`, { state: "down" });
        const before2 = await snapshotEntities(s.t);

        await st.patch("import-web-01", { storageDomain: "data-target2" });
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of a replace of a VM that has run");
        assert.match(pv.output, /storageDomain/, pv.output);
        assert.match(pv.output, /run|ran|started/i, `the error says the VM has run:\n${pv.output}`);
        await assertNothingMutated(st, m0, "the failed preview");

        const up = await st.up();
        failed(up, "up of the same change");
        await assertNothingMutated(st, m0, "the failed up");
        await assertIntact(s.t, before2);
        assert.equal((await st.resource("import-web-01"))!.outputs.vmId, vm1);
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });
});
