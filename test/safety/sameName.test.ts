// Scenarios 2 and 14: VM names are unique per data center, not per engine. A source is chosen by data center and
// remembered by id: the VM of the same name elsewhere is never exported, shut down or removed.
import { strict as assert } from "assert";
import { disks, inDc } from "../support/e2e";
import { assertIntact, fetchAudit, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, idOf, moveEntries, noChanges, ok, renameVm, Scenario, smallInventory, smallVm, vmExport } from "./harness";

const dcOther = {
    name: "dc-other",
    clusters: [{ name: "cl-other", cpuArchitecture: "x86_64" }],
    hosts: [{ name: "host-other-1", cluster: "cl-other", status: "up" }],
    storageDomains: [{ name: "data-other", type: "data", storageType: "nfs", sizeGiB: 20 }],
};

describe("safety: the same VM name in two data centers", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("2: without dataCenter the preview lists both VMs; with it, shutdownIfRunning and the export touch only the VM of that data center", async () => {
        s = await Scenario.start("s2", [
            {
                ns: "ovirt",
                sim: {
                    inventory: smallInventory({
                        dataCenters: [dcOther],
                        vms: [smallVm("dup-01", "cl-source"), smallVm("dup-01", "cl-other", { status: "up" })],
                    }),
                },
            },
        ]);
        const before = await snapshotEntities(s.t);
        const inSource = await idOf(s.t, "vms", "dup-01", "dc-source");
        const inOther = await idOf(s.t, "vms", "dup-01", "dc-other");
        const st = await s.stack([
            attachment("export1-in-other", "dc-other"),
            vmExport("export-dup-01", "dup-01", { shutdownIfRunning: true, shutdownTimeoutSeconds: 30 }, ["export1-in-other"]),
        ]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of an ambiguous source");
        assert.match(pv.output, /dataCenter/, pv.output);
        for (const id of [inSource, inOther]) assert.ok(pv.output.includes(id), `the error lists ${id}:\n${pv.output}`);
        // dc-source appears in the program nowhere: only the error can name it
        assert.match(pv.output, /dc-source/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");
        await assertIntact(s.t, before);

        await st.patch("export-dup-01", { dataCenter: "dc-other" });
        ok(await st.up(), "up with dataCenter");
        const exp = (await st.resource("export-dup-01"))!.outputs;
        assert.equal(exp.sourceId, inOther, "the VM of dc-other is exported");
        const d = await disks(s.t);
        const copies = d.exportDomains.find((x) => x.name === "export1")!.vms;
        assert.deepEqual(copies.map((c) => c.id), [inOther], "only the VM of dc-other is on the export domain");
        assert.equal(d.vms.find((v) => v.id === inOther)!.status, "down", "the running source was shut down (shutdownIfRunning)");
        await assertIntact(s.t, before, { statusMay: { [inOther]: ["down"] } });

        ok(await st.destroy(), "destroy");
        await assertIntact(s.t, before, { statusMay: { [inOther]: ["down"] } });
        await st.assertAudit({ notOwned: before.keys() });
        // the other VM of that name was never the target of anything
        // (the test changed nothing out of band here: the whole audit is the stack's)
        const all = await fetchAudit(s.t);
        assert.ok(all.length > 0, "the stack's work is in the audit");
        assert.ok(!all.some((e) => e.entities.some((x) => x.id === inSource)), "dup-01 of dc-source appears in the audit");
    });

    it("14: refresh after a VM of the same name appears in another data center changes nothing; up is a no-op; destroy leaves that VM", async () => {
        s = await Scenario.start("s14", [
            { ns: "ovirt", sim: { inventory: smallInventory({ dataCenters: [dcOther], vms: [smallVm("other-01", "cl-other")] }) } },
        ]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"]));
        ok(await st.up(), "up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;

        // out of band: a VM of dc-other is renamed web-01 (a third web-01: source, imported, this one)
        const otherId = await idOf(s.t, "vms", "other-01", "dc-other");
        await renameVm(s.t, otherId, "web-01");
        assert.equal(inDc((await disks(s.t)).vms, "dc-other", "web-01").length, 1);
        const before2 = await snapshotEntities(s.t);

        const m0 = await s.mutating();
        const rf = await st.refresh();
        ok(rf, "refresh");
        noChanges(rf, "refresh");
        await assertNothingMutated(st, m0, "refresh");

        const up = await st.up();
        ok(up, "second up");
        noChanges(up, "second up");
        await assertNothingMutated(st, m0, "second up");
        assert.equal((await st.resource("import-web-01"))!.outputs.vmId, vm1);

        ok(await st.destroy(), "destroy");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm1), undefined, "the imported VM is removed");
        await assertIntact(s.t, before2, { gone: [vm1] });
        await assertIntact(s.t, new Map([...before].filter(([id]) => id !== otherId.toLowerCase())));
        // before: what existed before the stack (the renamed VM of dc-other included), not the stack's own import
        await st.assertAudit({ notOwned: before.keys() });
    });
});
