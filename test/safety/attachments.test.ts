// Scenario 18: an export domain that was already attached and active in the data center before the stack is the
// user's: the attachment resource takes it as it is, and destroy leaves it attached and active.
import { strict as assert } from "assert";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, idOf, ok, Scenario, smallInventory } from "./harness";

describe("safety: export domain attachments", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("18: an attachment of a domain already attached and active in that data center leaves it attached on destroy", async () => {
        s = await Scenario.start("s18", [{ ns: "ovirt", sim: { inventory: smallInventory({ exportAttachedTo: "dc-source" }) } }]);
        const before = await snapshotEntities(s.t);
        const sd = await idOf(s.t, "storagedomains", "export1");
        const dc = await idOf(s.t, "datacenters", "dc-source");
        const status = async () => {
            const r = await s!.t.api("GET", `datacenters/${dc}/storagedomains/${sd}`);
            return r.status === 200 ? String(r.xml?.storage_domain?.status) : `HTTP ${r.status}`;
        };
        assert.equal(await status(), "active");
        const st = await s.stack([attachment("export1-in-source", "dc-source")]);
        const m0 = await s.mutating();
        ok(await st.up(), "up");
        await assertNothingMutated(st, m0, "up over an existing attachment");
        const out = (await st.resource("export1-in-source"))!.outputs;
        assert.equal(out.exportDomainId, sd);
        assert.notEqual(out.ownership, "created", "the attachment existed before: it is not the stack's");

        ok(await st.destroy(), "destroy");
        assert.equal(await status(), "active", "export1 is still attached and active in dc-source");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: [...before.keys(), sd, dc] });
    });
});
