// Scenarios 4, 5, 6, 19: the engine connection. Another URL of the same engine is not another engine (no replace,
// nothing removed); a move from another engine's data center the domain is not in fails at preview; plain http
// needs an explicit allowHttp; a second engine never gets the first engine's password.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changeCounts } from "../support/pulumi";
import { disks } from "../support/e2e";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, attachment, failed, moveEntries, ok, Scenario, smallInventory, vmExport } from "./harness";

describe("safety: engine connections", function () {
    this.timeout(10 * 60_000);
    let s: Scenario | undefined;
    afterEach(async () => {
        await s?.close();
        s = undefined;
    });

    it("4: the engine URL changed from 127.0.0.1 to localhost: no replace at preview, up keeps the copy and the import", async () => {
        s = await Scenario.start("s4", [{ ns: "ovirt", sim: { inventory: smallInventory() } }]);
        const before = await snapshotEntities(s.t);
        const st = await s.stack(moveEntries(["web-01"]));
        ok(await st.up(), "up");
        const vm1 = (await st.resource("import-web-01"))!.outputs.vmId as string;
        const copyId = (await st.resource("export-web-01"))!.id;

        const url = s.t.sim.url;
        assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\//);
        await st.config({ "ovirt:url": url.replace("127.0.0.1", "localhost") });
        const m0 = await s.mutating();
        const pv = await st.preview();
        ok(pv, "preview with the new URL (the simulator's certificate is valid for localhost)");
        const c = changeCounts(pv.output);
        for (const k of ["replace", "create", "delete"]) assert.ok(!c[k], `preview plans ${k}:\n${pv.output}`);
        assert.doesNotMatch(pv.output, /\+-\s|replace/i, pv.output);
        await assertNothingMutated(st, m0, "preview");

        const up = await st.up();
        ok(up, "up with the new URL");
        const cu = changeCounts(up.output);
        for (const k of ["replaced", "created", "deleted"]) assert.ok(!cu[k], `up ${k}:\n${up.output}`);
        await assertNothingMutated(st, m0, "up with the new URL");
        assert.equal((await st.resource("import-web-01"))!.outputs.vmId, vm1, "the import is kept");
        assert.equal((await st.resource("export-web-01"))!.id, copyId, "the copy is kept");
        const d = await disks(s.t);
        assert.ok(d.vms.some((v) => v.id === vm1), "the imported VM still exists");
        assert.ok(d.exportDomains.find((x) => x.name === "export1")!.vms.some((v) => v.name === "web-01"), "the copy is still on the export domain");

        ok(await st.destroy(), "destroy through the new URL");
        assert.equal((await disks(s.t)).vms.find((v) => v.id === vm1), undefined);
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("5: moveFrom a data center of engine A where the domain is not (it sits in another one) fails at preview without takeOver, and nothing changes in either engine", async () => {
        const shared = fs.mkdtempSync(path.join(os.tmpdir(), "safety-shared-"));
        const engineA = {
            dataCenters: ["dc-x", "dc-y"].map((dc) => ({
                name: dc,
                clusters: [{ name: `cl-${dc.slice(3)}`, cpuArchitecture: "x86_64" }],
                hosts: [{ name: `host-${dc.slice(3)}`, cluster: `cl-${dc.slice(3)}`, status: "up" }],
                storageDomains: [{ name: `data-${dc.slice(3)}`, type: "data", storageType: "nfs", sizeGiB: 20 }],
            })),
            exportDomains: [{ name: "export1", path: path.join(shared, "export1"), attachedTo: "dc-y", status: "active" }],
            templates: [],
            vms: [{ name: "web-01", cluster: "cl-y", memoryMiB: 1024, cpus: 1, disks: [{ alias: "web-01_disk0", sizeMiB: 4 }] }],
        };
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
            vms: [],
        };
        s = await Scenario.start(
            "s5",
            [
                { ns: "ovirt", sim: { inventory: engineB as any, engineName: "engine-b" } },
                { ns: "engineA", sim: { inventory: engineA as any, engineName: "engine-a" } },
            ],
            { removeAtClose: [shared] },
        );
        const beforeA = await snapshotEntities(s.engine("engineA"));
        const st = await s.stack([
            attachment("export1-in-b", "dc-b", {
                moveFrom: { dataCenter: "dc-x", engine: { $engine: "engineA" } },
                host: "host-b-1",
                storageConnection: { type: "nfs", address: "127.0.0.1", path: path.join(shared, "export1") },
            }),
        ]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview of a move from the wrong data center");
        assert.match(pv.output, /takeOver/, pv.output);
        assert.match(pv.output, /dc-y/, `the error names where the domain is:\n${pv.output}`);
        await assertNothingMutated(st, m0, "the failed preview");
        const up = await st.up();
        failed(up, "up of the same program");
        await assertNothingMutated(st, m0, "the failed up");
        await assertIntact(s.engine("engineA"), beforeA);
        await st.assertAudit({});
    });

    it("6: an http:// engine URL fails at preview naming engine.url; with engine.allowHttp it works and the preview warns", async () => {
        s = await Scenario.start("s6", [{ ns: "ovirt", sim: { inventory: smallInventory(), tls: false } }]);
        assert.match(s.t.sim.url, /^http:\/\//);
        const before = await snapshotEntities(s.t);
        const st = await s.stack([attachment("export1-in-source", "dc-source"), vmExport("export-web-01", "web-01", {}, ["export1-in-source"])]);
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview over http");
        assert.match(pv.output, /engine\.url/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");

        const allow = { engine: { $engine: "ovirt", allowHttp: true } };
        await st.patch("export1-in-source", allow);
        await st.patch("export-web-01", allow);
        const pv2 = await st.preview();
        ok(pv2, "preview with allowHttp");
        assert.match(pv2.output, /warning:?[\s\S]{0,400}?(http\b|unencrypted|allowHttp)/i, `the preview warns about plain http:\n${pv2.output}`);
        await assertNothingMutated(st, m0, "the preview");
        ok(await st.up(), "up with allowHttp");
        const d = await disks(s.t);
        assert.ok(d.exportDomains.find((x) => x.name === "export1")!.vms.some((v) => v.name === "web-01"), "web-01 was exported");
        ok(await st.destroy(), "destroy");
        await assertIntact(s.t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("19: a second engine given without its own password never gets ovirt:password; the preview names that engine's password field", async () => {
        s = await Scenario.start("s19", [
            { ns: "ovirt", sim: { inventory: smallInventory({ exportAttachedTo: "dc-source" }) } },
            { ns: "engineB", sim: { inventory: smallInventory({ exportAttachedTo: "dc-source" }) }, password: false },
        ]);
        const b = s.engine("engineB");
        assert.notEqual(b.password, s.t.password);
        const beforeB = await snapshotEntities(b);
        const st = await s.stack([
            // engine B by URL and CA only: its password is not given
            vmExport("export-web-01", "web-01", { engine: { url: b.sim.url, caFile: b.sim.caFile } }),
        ]);
        await b.admin("DELETE", "requests");
        const m0 = await s.mutating();
        const pv = await st.preview();
        failed(pv, "preview without engine B's password");
        assert.match(pv.output, /engine\.password/, pv.output);
        await assertNothingMutated(st, m0, "the failed preview");
        const log = (await b.admin("GET", "requests")).log as Array<{ method: string; path: string; status: number }>;
        const logins = log.filter((e) => /\/sso\//.test(e.path) && e.method === "POST");
        assert.deepEqual(logins, [], "engine B was sent a login (with the only password there is: ovirt:password)");
        assert.ok(!pv.output.includes(s.t.password), "the password leaked into the output");
        await assertIntact(b, beforeB);
        await st.assertAudit({ notOwned: beforeB.keys() });
    });
});
