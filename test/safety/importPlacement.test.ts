// Issue 11 item 1 at `pulumi preview`: a template import's per-disk allocation, which the engine would silently ignore
// (BackendStorageDomainTemplateResource.doImport reads none), fails the preview under the field, with the value and
// the fix, and nothing is sent to the engine.
import { strict as assert } from "assert";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, Scenario, smallInventory, vmExport, vmImport } from "./harness";

describe("safety: template import allocation at preview", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    after(async () => {
        await s?.close();
        s = undefined;
    });

    it("disks[0].allocation on a template import fails the preview naming the field, the value and the fix; nothing changes", async () => {
        s = await Scenario.start("s-tplalloc", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack([
            attachment("export1-in-source", "dc-source", { handOffTo: { dataCenter: "dc-target" } }),
            vmExport("export-tpl", "rhel9-base", { kind: "template" }, ["export1-in-source"]),
            attachment("export1-in-target", "dc-target", { moveFrom: { dataCenter: "dc-source" } }, ["export-tpl"]),
            vmImport("import-tpl", "rhel9-base", { kind: "template", onConflict: "clone", disks: [{ alias: "rhel9-base_disk", allocation: "preallocated", storageDomain: "data-target2" }] }, ["export1-in-target"]),
        ]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of a template import with an allocation");
        assert.match(pv.output, /VmImport resource 'import-tpl'/, pv.output);
        assert.match(pv.output, /disks\[0\]\.allocation: "preallocated" cannot be applied to template rhel9-base/, pv.output);
        assert.match(pv.output, /Remove allocation from disks\[0\]/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");
        await assertIntact(s.t, before);
    });
});
