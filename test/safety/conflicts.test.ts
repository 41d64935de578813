// Scenarios 9, 13, 16, 21: an import whose target already holds a VM or template this stack did not create. It
// fails at preview (onConflict), imports a clone, skips, or adopts - and whatever it finds there is never
// removed, stopped or overwritten, by the stack's up or by its destroy.
import { strict as assert } from "assert";
import { disks, inDc, sums } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import {
    assertNothingMutated,
    attachment,
    failed,
    idOf,
    moveEntries,
    ok,
    Scenario,
    smallInventory,
    smallVm,
    vmExport,
    vmImport,
} from "./harness";

describe("safety: conflicts in the target", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("9: a second stack importing the same VM fails at preview, imports a clone with onConflict clone, and never touches the first stack's VM", async () => {
        s = await Scenario.start("s9", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const first = await s.stack(moveEntries(["web-01"]));
        ok(await first.up(), "up of the first stack");
        const vm1 = (await first.resource("import-web-01"))!.outputs.vmId as string;
        assert.ok(vm1, "the first stack imported web-01");

        const before2 = await snapshotEntities(s.t);
        // the same program text and resource name, another stack: its URN (and correlation ids) differ
        const second = await s.stack([vmImport("import-web-01", "web-01")]);
        const m0 = await s.mutating();
        const pv = await second.preview();
        failed(pv, "preview of the second stack");
        assert.match(pv.output, /onConflict/, pv.output);
        await assertNothingMutated(second, m0, "the second stack's failed preview");

        await second.patch("import-web-01", { onConflict: "clone" });
        ok(await second.up(), "up of the second stack with onConflict clone");
        const vm2 = (await second.resource("import-web-01"))!.outputs.vmId as string;
        assert.ok(vm2 && vm2 !== vm1, "the second stack made its own VM");
        const d = await disks(s.t);
        const clone = d.vms.find((v) => v.id === vm2)!;
        assert.equal(clone.dataCenter, "dc-target");
        assert.notEqual(clone.name, "web-01", "the clone has another name than the first stack's VM");
        await assertIntact(s.t, before2);

        ok(await second.destroy(), "destroy of the second stack");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm2), undefined, "the clone is removed");
        await assertIntact(s.t, before2);
        await second.assertAudit({ notOwned: before2.keys() });
        await first.assertAudit({ notOwned: before.keys() });
    });

    it("13: a template of the same name in the target fails the template import at preview, is cloned with onConflict clone, and stays untouched", async () => {
        s = await Scenario.start("s13", [
            {
                ns: "ovirt",
                sim: {
                    inventory: smallInventory({
                        templates: [{ name: "rhel9-base", cluster: "cl-target", storageDomain: "data-target", memoryMiB: 1024, cpus: 1, disks: [{ alias: "rhel9-base_disk", sizeMiB: 4 }] }],
                    }),
                },
            },
        ]);
        const before = await snapshotEntities(s.t);
        const existing = await idOf(s.t, "templates", "rhel9-base", "dc-target");
        const sourceTpl = await idOf(s.t, "templates", "rhel9-base", "dc-source");
        const staged = [
            attachment("export1-in-source", "dc-source", { handOffTo: { dataCenter: "dc-target" } }),
            vmExport("export-rhel9-base", "rhel9-base", { kind: "template", dataCenter: "dc-source" }, ["export1-in-source"]),
            attachment("export1-in-target", "dc-target", { moveFrom: { dataCenter: "dc-source" } }, ["export-rhel9-base"]),
        ];
        const st = await s.stack(staged);
        ok(await st.up(), "up of the export stage");
        const exp = (await st.resource("export-rhel9-base"))!.outputs;
        assert.equal(exp.sourceId, sourceTpl, "the template of dc-source is exported");

        await st.setResources([...staged, vmImport("import-rhel9-base", "rhel9-base", { kind: "template" }, ["export1-in-target"])]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of the template import");
        assert.match(pv.output, /onConflict/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");

        await st.patch("import-rhel9-base", { onConflict: "clone" });
        ok(await st.up(), "up with onConflict clone");
        const imp = (await st.resource("import-rhel9-base"))!.outputs;
        const d = await disks(s.t);
        const clone = d.templates.find((x) => x.id === imp.vmId)!;
        assert.ok(clone && clone.id !== existing && clone.id !== sourceTpl, "a new template");
        assert.equal(clone.dataCenter, "dc-target");
        assert.notEqual(clone.name, "rhel9-base");
        assert.equal(sums(clone), before.get(sourceTpl.toLowerCase())!.sums);
        await assertIntact(s.t, before);

        ok(await st.destroy(), "destroy");
        assert.equal((await disks(s.t)).templates.find((x) => x.id === imp.vmId), undefined, "the clone is removed");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("16: VmImport with adopt: true over an existing VM says so at preview, keeps it as it is, and destroy leaves it", async () => {
        s = await Scenario.start("s16", [{ ns: "ovirt", sim: { inventory: smallInventory({ vms: [smallVm("web-01", "cl-target")] }) } }]);
        const before = await snapshotEntities(s.t);
        const existing = await idOf(s.t, "vms", "web-01", "dc-target");
        // two VMs are named web-01 now (the source and the one in dc-target): the export names its data center
        const staged = moveEntries(["web-01"], { exportArgs: { dataCenter: "dc-source" } }).filter((e) => e.type !== "VmImport");
        const st = await s.stack(staged);
        ok(await st.up(), "up of the export stage");

        await st.setResources([...staged, vmImport("import-web-01", "web-01", { adopt: true }, ["export1-in-target"])]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        ok(pv, "preview of the adopting import");
        assert.match(pv.output, /adopting/i, pv.output);
        assert.match(pv.output, /kept on destroy/i, pv.output);
        assert.ok(pv.output.includes(existing), `the preview names the adopted VM's id ${existing}:\n${pv.output}`);
        await assertNothingMutated(st, m0, "the preview");

        ok(await st.up(), "up");
        const imp = (await st.resource("import-web-01"))!.outputs;
        assert.equal(imp.vmId, existing, "the existing VM is adopted");
        assert.equal(imp.ownership, "adopted");
        assert.equal(inDc((await disks(s.t)).vms, "dc-target", "web-01").length, 1, "nothing imported next to it");
        await assertIntact(s.t, before);

        ok(await st.destroy(), "destroy");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("21: onConflict skip keeps the existing VM, and destroy leaves it", async () => {
        s = await Scenario.start("s21", [{ ns: "ovirt", sim: { inventory: smallInventory({ vms: [smallVm("web-01", "cl-target")] }) } }]);
        const before = await snapshotEntities(s.t);
        const existing = await idOf(s.t, "vms", "web-01", "dc-target");
        const st = await s.stack(moveEntries(["web-01"], { importArgs: { onConflict: "skip" }, exportArgs: { dataCenter: "dc-source" } }));
        ok(await st.up(), "up");
        const imp = (await st.resource("import-web-01"))!.outputs;
        assert.equal(imp.vmId, existing, "the existing VM is reported");
        assert.equal(imp.ownership, "skipped");
        assert.equal(imp.imported, false);
        assert.equal(inDc((await disks(s.t)).vms, "dc-target").length, 1, "nothing imported");

        ok(await st.destroy(), "destroy");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });
});
