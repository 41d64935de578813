// Destroy is predictable (issue 13, item 4), with the real Pulumi CLI the way users run it (`pulumi up --yes` with
// its preview, `pulumi destroy --yes`):
//  - the copies on the export domain are removed (unless kept): the target attachment's delete brings the domain
//    back to the source data center first, so the exports' deletes find it attached;
//  - the export domain ends where the stack found it: unattached, attached and active in the source data center, or
//    back in the source engine after a cross-engine move;
//  - a VM the migration shut down stays down (destroy never starts a source VM) and destroy says so, naming it;
//  - what destroy will do is in the preview of `pulumi destroy` (each resource's `onDestroy`, shown with --diff);
//  - the same program applies again after destroy (preview included), and the ownership rule holds throughout.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { disks, inDc } from "../support/e2e";
import { TestSimulator } from "../support/simulator";
import { assertIntact, assertOwnershipInAudit, snapshotEntities } from "../safety/audit";
import { Entry, ok, Scenario, smallInventory, smallVm, Stack } from "../safety/harness";

interface Placement {
    /** the engine knows the domain */
    known: boolean;
    /** data centers it is attached to, with its status there */
    attached: Array<{ dc: string; status: string }>;
}

const list = (x: any) => (x === undefined || x === "" ? [] : Array.isArray(x) ? x : [x]);

/** Where export domain `name` sits in engine `t` (read through the API, as a user would look). */
async function placement(t: TestSimulator, name = "export1"): Promise<Placement> {
    const sds = list((await t.api("GET", "storagedomains")).xml?.storage_domains?.storage_domain);
    const sd = sds.find((x: any) => x.name === name);
    if (!sd) return { known: false, attached: [] };
    const attached: Placement["attached"] = [];
    for (const dc of list((await t.api("GET", "datacenters")).xml?.data_centers?.data_center)) {
        const att = list((await t.api("GET", `datacenters/${dc["@_id"]}/storagedomains`)).xml?.storage_domains?.storage_domain);
        const hit = att.find((x: any) => x["@_id"] === sd["@_id"]);
        if (hit) attached.push({ dc: dc.name, status: hit.status });
    }
    return { known: true, attached };
}

/** Copies (VM and template names) on export domain `name` (the simulator's disk report). */
async function copies(t: TestSimulator, name = "export1"): Promise<string[]> {
    const d = (await disks(t)).exportDomains.find((x) => x.name === name);
    return d ? [...d.vms, ...d.templates].map((x) => x.name).sort() : [];
}

const migration = (args: Record<string, unknown>): Entry => ({
    type: "Migration",
    name: "main",
    args: {
        source: { dataCenter: "dc-source" },
        target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
        exportDomain: "export1",
        ...args,
    },
});

async function destroyPreview(st: Stack) {
    return st.recorded(["destroy", "--preview-only", "--diff", "--stack", st.name, "--non-interactive"]);
}

describe("e2e: destroy restores what the stack found, and the program applies again", function () {
    this.timeout(15 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("same engine, domain found unattached: copies removed, domain detached again, the VM it shut down stays down and destroy names it; up again works", async () => {
        s = await Scenario.start("d1", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        assert.deepEqual(await placement(s.t), { known: true, attached: [] }, "export1 starts unattached");
        const before = await snapshotEntities(s.t);
        const run01 = [...before.values()].find((e) => e.name === "run-01")!;
        assert.equal(run01.status, "up");
        const st = await s.stack([migration({ vms: ["web-01", { name: "run-01", shutdownIfRunning: true }] })]);

        // the preview of up already says what destroy will do, per resource
        const pv = await st.preview();
        ok(pv, "preview");
        assert.match(pv.output, /onDestroy\s*: \[\s*\[0\]: "removes the copy of VM web-01 that this resource makes from export1"/, pv.output);
        assert.match(pv.output, /"VM run-01 is running now: the export shuts it down, and destroy does not start it again"/, pv.output);
        assert.match(pv.output, /"returns export domain export1 to dc-source, where it is taken from,"/, pv.output);
        assert.match(pv.output, /"deactivates and detaches export domain export1 from dc-source \(it is not attached anywhere now\)"/, pv.output);

        const up = await st.up();
        ok(up, "up");
        assert.match(up.output, /run-01 shut down for export \(destroy does not start it again/, up.output);
        assert.match(up.output, /export domain export1 is active in dc-target \(taken from dc-source: destroy returns it there\)/, up.output);
        assert.deepEqual(await copies(s.t), ["run-01", "web-01"]);
        assert.deepEqual((await placement(s.t)).attached, [{ dc: "dc-target", status: "active" }]);

        // the preview of destroy: the same words, before anything is deleted (and nothing is sent to the engine)
        const m0 = await s.mutating();
        const dp = await destroyPreview(st);
        ok(dp, "destroy preview");
        assert.match(dp.output, /"removes the copy of VM web-01 that this resource makes from export1"/, dp.output);
        assert.match(dp.output, /"returns export domain export1 to dc-source, where it is taken from,"/, dp.output);
        assert.match(dp.output, /"VM run-01 is running now: the export shuts it down, and destroy does not start it again"/, dp.output);
        assert.deepEqual(await s.mutating(), m0, "the destroy preview sent a mutating request");

        const d = await st.destroy();
        ok(d, "destroy");
        assert.doesNotMatch(d.output, /is not attached|stays on it/, d.output);
        assert.match(d.output, /returned export domain export1 to dc-source, where this resource found it/, d.output);
        assert.match(d.output, /removed the copy of VM web-01 from export1/, d.output);
        assert.match(d.output, /VM run-01 \(id [0-9a-f-]+\) was shut down by this stack for its export and stays down/, d.output);
        assert.match(d.output, /detached export domain export1 from dc-source/, d.output);
        assert.deepEqual(await copies(s.t), [], "destroy removed the copies");
        assert.deepEqual(await placement(s.t), { known: true, attached: [] }, "export1 is unattached again, as found");
        assert.deepEqual(inDc((await disks(s.t)).vms, "dc-target"), [], "the imported VMs are gone");
        // run-01 stays down (never started by destroy); everything else as before
        await assertIntact(s.t, before, { statusMay: { [run01.id]: ["down"] } });
        assert.equal((await snapshotEntities(s.t)).get(run01.id.toLowerCase())!.status, "down");

        // the same program again, with its preview: it applies (run-01 is down now: nothing to shut down)
        const again = await st.up();
        ok(again, "up after destroy");
        assert.equal(inDc((await disks(s.t)).vms, "dc-target").length, 2, "both VMs migrated again");
        ok(await st.destroy(), "second destroy");
        assert.deepEqual(await copies(s.t), []);
        assert.deepEqual(await placement(s.t), { known: true, attached: [] });
        await st.assertAudit({ notOwned: before.keys(), sourceActions: [{ id: run01.id, actions: ["shutdown", "stop"] }] });
    });

    it("same engine, domain found active in the source data center: destroy leaves it there, copies removed; up again works", async () => {
        s = await Scenario.start("d2", [{ ns: "ovirt", sim: { inventory: smallInventory({ exportAttachedTo: "dc-source" }) } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack([migration({ vms: ["web-01", "app-01"], templates: ["rhel9-base"], keepExportsOnDelete: false })]);
        ok(await st.up(), "up");
        assert.deepEqual(await copies(s.t), ["app-01", "rhel9-base", "web-01"]);
        const d = await st.destroy();
        ok(d, "destroy");
        assert.match(d.output, /was attached to dc-source before this stack; it stays attached/, d.output);
        assert.deepEqual(await copies(s.t), [], "destroy removed the copies");
        assert.deepEqual(await placement(s.t), { known: true, attached: [{ dc: "dc-source", status: "active" }] }, "export1 active in dc-source, as found");
        await assertIntact(s.t, before);
        ok(await st.up(), "up after destroy");
        ok(await st.destroy(), "second destroy");
        assert.deepEqual(await placement(s.t), { known: true, attached: [{ dc: "dc-source", status: "active" }] });
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("keepExportsOnDelete: the copies stay, the domain still goes back where it was found", async () => {
        s = await Scenario.start("d3", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const st = await s.stack([migration({ vms: ["web-01"], keepExportsOnDelete: true })]);
        const pv = await st.preview();
        ok(pv, "preview");
        assert.match(pv.output, /"keeps the copy of VM web-01 on export1 \(keepOnDelete\)"/, pv.output);
        ok(await st.up(), "up");
        const d = await st.destroy();
        ok(d, "destroy");
        assert.match(d.output, /keepOnDelete: the copy of VM web-01 stays on export1/, d.output);
        assert.deepEqual(await copies(s.t), ["web-01"]);
        assert.deepEqual(await placement(s.t), { known: true, attached: [] });
    });

    it("takeOver: an attachment that took the domain from a data center the stack does not manage returns it there", async () => {
        s = await Scenario.start("d5", [{ ns: "ovirt", sim: { inventory: smallInventory({ exportAttachedTo: "dc-target" }) } }]);
        const st = await s.stack([{ type: "ExportDomainAttachment", name: "export1-here", args: { exportDomain: "export1", dataCenter: "dc-source", takeOver: true } }]);
        const pv = await st.preview();
        ok(pv, "preview");
        assert.match(pv.output, /"returns export domain export1 to dc-target, where it is taken from"/, pv.output);
        ok(await st.up(), "up");
        assert.deepEqual((await st.resource("export1-here"))!.outputs.takenFrom, { dataCenter: "dc-target" });
        assert.deepEqual((await placement(s.t)).attached, [{ dc: "dc-source", status: "active" }]);
        const d = await st.destroy();
        ok(d, "destroy");
        assert.match(d.output, /returned export domain export1 to dc-target, where this resource found it/, d.output);
        assert.deepEqual(await placement(s.t), { known: true, attached: [{ dc: "dc-target", status: "active" }] });
        await st.assertAudit({});
    });

    it("cross-engine: destroy brings the domain back to the source engine's data center, removes the copies there; up again works", async () => {
        const shared = fs.mkdtempSync(path.join(os.tmpdir(), "destroy-shared-"));
        const engineA = smallInventory({ exportAttachedTo: "dc-source", exportPath: path.join(shared, "export1") });
        const engineB = {
            dataCenters: [
                {
                    name: "dc-b",
                    clusters: [{ name: "cl-b", cpuArchitecture: "x86_64" }],
                    hosts: [{ name: "host-b-1", cluster: "cl-b", status: "up" }],
                    storageDomains: [{ name: "data-b", type: "data", storageType: "nfs", sizeGiB: 20 }],
                },
            ],
            exportDomains: [],
            templates: [],
            vms: [smallVm("other-01", "cl-b")],
        };
        s = await Scenario.start(
            "d4",
            [
                { ns: "ovirt", sim: { inventory: engineA, engineName: "engine-a" } },
                { ns: "engineB", sim: { inventory: engineB as any, engineName: "engine-b" } },
            ],
            { removeAtClose: [shared] },
        );
        const a = s.t;
        const b = s.engine("engineB");
        const beforeA = await snapshotEntities(a);
        const beforeB = await snapshotEntities(b);
        const st = await s.stack([
            migration({
                target: { engine: { $engine: "engineB" }, dataCenter: "dc-b", cluster: "cl-b", storageDomain: "data-b" },
                vms: ["web-01"],
            }),
        ]);
        ok(await st.up(), "up");
        assert.equal(inDc((await disks(b)).vms, "dc-b", "web-01").length, 1, "web-01 migrated to engine B");
        // where the domain came from is recorded without credentials (takenFrom is not a secret output)
        const target = (await st.resource("main-target-attachment"))!.outputs;
        assert.equal(target.takenFrom?.dataCenter, "dc-source");
        const state = JSON.stringify(await st.state());
        for (const pw of [a.password, b.password]) assert.ok(!state.includes(pw), "an engine password is in the state in plain text");
        assert.equal((await placement(a)).known, false, "export1 left engine A");
        assert.deepEqual((await placement(b)).attached, [{ dc: "dc-b", status: "active" }]);

        const dp = await destroyPreview(st);
        ok(dp, "destroy preview");
        assert.match(dp.output, /"returns export domain export1 to dc-source of engine https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api, where it is taken from,"/, dp.output);

        const d = await st.destroy();
        ok(d, "destroy");
        assert.doesNotMatch(d.output, /is not attached|stays on it/, d.output);
        assert.match(d.output, /returned export domain export1 to dc-source of engine/, d.output);
        assert.equal((await placement(b)).known, false, "export1 left engine B");
        assert.deepEqual(await placement(a), { known: true, attached: [{ dc: "dc-source", status: "active" }] }, "export1 back, active in dc-source of engine A");
        assert.deepEqual(await copies(a), [], "the copy is removed");
        assert.deepEqual(inDc((await disks(b)).vms, "dc-b", "web-01"), [], "the imported VM is removed");
        await assertIntact(a, beforeA);
        await assertIntact(b, beforeB);

        const again = await st.up();
        ok(again, "up after destroy (with its preview)");
        assert.equal(inDc((await disks(b)).vms, "dc-b", "web-01").length, 1, "migrated again");
        ok(await st.destroy(), "second destroy");
        assert.deepEqual(await placement(a), { known: true, attached: [{ dc: "dc-source", status: "active" }] });
        // per engine: a cross-engine import keeps the source's id, so engine A's sources are not engine B's
        await assertOwnershipInAudit(a, st.windows.get("ovirt") ?? [], { owned: st.owned, notOwned: beforeA.keys() }, "engine A");
        await assertOwnershipInAudit(b, st.windows.get("engineB") ?? [], { owned: st.owned, notOwned: beforeB.keys() }, "engine B");
    });
});
