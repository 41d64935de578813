// Scenario 1: an import whose target is the source's own data center conflicts with the source itself. The preview
// says so (naming onConflict) and sends nothing; with onConflict "clone" a clone is made next to the source, and
// destroy removes only the clone.
import { strict as assert } from "assert";
import { disks, sums } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, idOf, ok, Scenario, smallInventory, vmExport, vmImport } from "./harness";

describe("safety: import into the source's own data center", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("1: preview fails naming onConflict (it is the source) and sends nothing; a clone is made next to it; destroy removes only the clone", async () => {
        s = await Scenario.start("s1", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const webId = await idOf(s.t, "vms", "web-01", "dc-source");
        const base = [attachment("export1-in-source", "dc-source"), vmExport("export-web-01", "web-01", {}, ["export1-in-source"])];
        const st = await s.stack(base);
        ok(await st.up(), "up of the export");

        await st.setResources([...base, vmImport("import-web-01", "web-01", { cluster: "cl-source", storageDomain: "data-source" }, ["export-web-01"])]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of an import into the source's data center");
        assert.match(pv.output, /onConflict/, pv.output);
        assert.match(pv.output, /the source itself|is the source|source VM/i, `the error should say the conflicting VM is the source:\n${pv.output}`);
        assert.ok(pv.output.includes(webId), `the error should name the source's id ${webId}:\n${pv.output}`);
        await assertNothingMutated(st, m0, "the failed preview");
        await assertIntact(s.t, before);

        await st.patch("import-web-01", { onConflict: "clone" });
        ok(await st.up(), "up with onConflict clone");
        const imp = (await st.resource("import-web-01"))!.outputs;
        const d = await disks(s.t);
        const clone = d.vms.find((v) => v.id === imp.vmId);
        assert.ok(clone, `the clone ${imp.vmId} exists`);
        assert.notEqual(clone.id, webId, "a clone has a new id");
        assert.equal(clone.dataCenter, "dc-source");
        assert.notEqual(clone.name, "web-01", "the clone needs another name in the source's data center");
        assert.equal(sums(clone), before.get(webId.toLowerCase())!.sums, "the clone has the source's content");
        await assertIntact(s.t, before);

        ok(await st.destroy(), "destroy");
        const after = await disks(s.t);
        assert.equal(after.vms.find((v) => v.id === imp.vmId), undefined, "destroy removes the clone");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });
});
