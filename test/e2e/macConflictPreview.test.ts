// Issue 11, item 5 at `pulumi preview`: the cross-engine example (examples/cross-engine) against two engine
// simulators, where engine B already has a VM holding web-01's MAC in cl-b's MAC pool (which allows no duplicates).
// A plain import of web-01 would be refused by the engine ("would create duplicates in target MAC pool"): the preview
// fails on web-01's import under `clone`, naming the VM, its MAC, the VM holding it and the fix, while db-01 plans
// normally; neither engine receives a mutating request.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PulumiWorkspace } from "../support/pulumi";
import { example, removeStackConfig } from "../support/e2e";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";

const DIR = example("cross-engine");
const STACK = "e2e-mac-conflict";

describe("e2e: pulumi preview of a cross-engine move whose MACs are taken in the target pool", function () {
    this.timeout(10 * 60_000);
    let a: TestSimulator;
    let b: TestSimulator;
    let ws: PulumiWorkspace;
    let webMac: string;

    before(async () => {
        a = await startTestSimulator({ password: "engine-a-pw-mac", engineName: "engine-a" });
        const web = arr((await a.api("GET", "vms?search=name%3Dweb-01&follow=nics")).xml.vms.vm)[0];
        webMac = String(arr(web.nics.nic)[0].mac.address).toLowerCase();
        // engine B as the example describes it, plus one VM that already has web-01's MAC
        const inv = yaml.load(fs.readFileSync(path.join(DIR, "engine-b-inventory.yaml"), "utf8")) as any;
        inv.vms = [{ name: "mac-holder", cluster: "cl-b", nics: [{ name: "eth0", mac: webMac }], disks: [{ sizeMiB: 4, storageDomain: "data-b" }] }];
        b = await startTestSimulator({ password: "engine-b-pw-mac", engineName: "engine-b", inventory: inv });
        ws = new PulumiWorkspace(DIR, STACK);
        removeStackConfig(DIR, STACK);
        await ws.init(
            {
                "engineA:url": a.sim.url,
                "engineA:caFile": a.sim.caFile,
                "engineB:url": b.sim.url,
                "engineB:caFile": b.sim.caFile,
                "migration:exportPath": path.join(a.stateDir, "exports", "export1"),
            },
            { "engineA:password": a.password, "engineB:password": b.password },
        );
        await a.admin("DELETE", "requests");
        await b.admin("DELETE", "requests");
    });
    after(async () => {
        await a?.close();
        await b?.close();
        removeStackConfig(DIR, STACK);
        if (ws) fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
    });

    it("fails on web-01's import under `clone` with the MAC, its holder and the fix; db-01 is fine; nothing sent", async () => {
        const r = await ws.preview();
        assert.notEqual(r.code, 0, r.output);
        const mac = webMac; // hex digits and colons only
        // web-01's failure under its own name, or listed by a resource of its check group that was still checking when
        // it failed (provider/checkGroups.ts: "1 other resource declared with this one failed its check in this run")
        assert.match(
            r.output,
            new RegExp(`(VmImport resource 'cross-import-vm-web-01'.*has a problem|- cross-import-vm-web-01 \\(VmImport\\)): clone: a plain import keeps the MAC addresses of VM web-01`),
            r.output,
        );
        assert.match(r.output, new RegExp(`${mac} \\(nic1\\) is used by VM mac-holder \\(eth0\\)`), r.output);
        assert.match(r.output, /Set clone: true, or onConflict: "clone"/, r.output);
        // db-01 has no problem of its own (at most the pointer to web-01's, when its check was still running)
        assert.doesNotMatch(r.output, /cross-import-vm-db-01'[^\n]*has a problem: (?!1 other resource declared with this one failed its check)/, r.output);
        assert.equal((await a.admin("GET", "requests")).mutating, 0, "the preview sent engine A a mutating request");
        assert.equal((await b.admin("GET", "requests")).mutating, 0, "the preview sent engine B a mutating request");
    });
});
