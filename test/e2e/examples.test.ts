// Every example under examples/ run with the real Pulumi CLI against the simulator, asserting the engine's state.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changeCounts, PulumiWorkspace } from "../support/pulumi";
import { disks, E2E, example, inDc, removeStackConfig, startE2E, sums } from "../support/e2e";
import { startTestSimulator, TestSimulator } from "../support/simulator";

/** The id of the entity whose <name> (or <user_name>) is `name` in a collection's XML. */
function idOf(xml: string, name: string): string {
    for (const chunk of xml.split(/(?=<(?:role|user) )/)) {
        if (chunk.includes(`<name>${name}</name>`) || chunk.includes(`<user_name>${name}</user_name>`)) {
            const m = / id="([^"]+)"/.exec(chunk);
            if (m) return m[1];
        }
    }
    throw new Error(`${name} not found in ${xml.slice(0, 400)}`);
}

function sourceSums(d: Awaited<ReturnType<typeof disks>>): Map<string, string> {
    return new Map(inDc(d.vms, "dc-source").map((v) => [v.name, sums(v)]));
}

describe("e2e: examples", function () {
    this.timeout(10 * 60_000);

    describe("staged-migration: export stage, then import stage by one config value", () => {
        let e: E2E;
        before(async () => {
            e = await startE2E(example("staged-migration"), "e2e-staged", { "migration:stage": "export" });
        });
        after(async () => e?.close());

        it("the export stage exports and imports nothing", async () => {
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const d = await disks(e.t);
            const onDomain = d.exportDomains.find((x) => x.name === "export1")!;
            assert.deepEqual(onDomain.vms.map((v) => v.name).sort(), ["app-01", "web-01"]);
            assert.equal(inDc(d.vms, "dc-target").length, 0);
        });

        it("flipping migration:stage to import previews the move read-only, then up imports", async () => {
            await e.ws.ok(["config", "set", "--stack", "e2e-staged", "migration:stage", "import"]);
            const before = await e.mutating();
            const p = await e.ws.preview();
            assert.equal(p.code, 0, p.output);
            assert.equal(changeCounts(p.output)["create"], 3, p.output); // target attachment + 2 imports
            assert.equal(await e.mutating(), before);

            const src = sourceSums(await disks(e.t));
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const d = await disks(e.t);
            for (const name of ["web-01", "app-01"]) {
                const vm = inDc(d.vms, "dc-target", name);
                assert.equal(vm.length, 1, name);
                assert.equal(sums(vm[0]), src.get(name));
            }
        });
    });

    describe("one-shot: several VMs in one up, permissions re-applied", () => {
        let e: E2E;
        before(async () => {
            e = await startE2E(example("one-shot"), "e2e-oneshot");
        });
        after(async () => e?.close());

        it("moves all VMs with equal disks and gives alice UserVmManager on each", async () => {
            const src = sourceSums(await disks(e.t));
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const d = await disks(e.t);
            const roleId = idOf((await e.t.api("GET", "roles")).text, "UserVmManager");
            const userId = idOf((await e.t.api("GET", "users")).text, "alice@internal-authz");
            for (const name of ["web-01", "app-01", "snap-01"]) {
                const vm = inDc(d.vms, "dc-target", name);
                assert.equal(vm.length, 1, name);
                assert.equal(sums(vm[0]), src.get(name), name);
                const perms = (await e.t.api("GET", `vms/${vm[0].id}/permissions`)).text;
                const granted = perms.split("</permission>").some((p) => p.includes(`<role href="/ovirt-engine/api/roles/${roleId}" id="${roleId}"`) && p.includes(`id="${userId}"`));
                assert.ok(granted, `${name}: no UserVmManager for alice in ${perms}`);
            }
            const again = await e.ws.up();
            assert.ok(!changeCounts(again.output)["created"], again.output);
        });
    });

    describe("template-thin-vm: the template first, then the thin VM (a clone within one engine: flat, no template link)", () => {
        let e: E2E;
        before(async () => {
            e = await startE2E(example("template-thin-vm"), "e2e-thin");
        });
        after(async () => e?.close());

        it("imports rhel9-base and thin-01 into dc-target with equal content", async () => {
            const src = sourceSums(await disks(e.t));
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const d = await disks(e.t);
            assert.equal(d.templates.filter((t) => t.dataCenter === "dc-target").length, 1);
            const thin = inDc(d.vms, "dc-target", "thin-01");
            assert.equal(thin.length, 1);
            assert.equal(sums(thin[0]), src.get("thin-01"));
        });
    });

    describe("clone-on-conflict: a taken name becomes a clone with a suffix", () => {
        let e: E2E;
        let oldApp: string;
        before(async () => {
            e = await startE2E(example("clone-on-conflict"), "e2e-clone", {}, {
                inventory: path.join(example("clone-on-conflict"), "inventory.yaml"),
            });
            oldApp = sums(inDc((await disks(e.t)).vms, "dc-target", "app-01")[0]);
        });
        after(async () => e?.close());

        it("imports app-01 as app-01-migrated, leaves the existing app-01 alone, and destroy removes only the clone", async () => {
            const src = sourceSums(await disks(e.t));
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const out = await e.ws.outputs();
            assert.equal(out.vmName, "app-01-migrated");
            assert.equal(out.cloned, true);
            let d = await disks(e.t);
            const clone = inDc(d.vms, "dc-target", "app-01-migrated");
            assert.equal(clone.length, 1);
            assert.equal(sums(clone[0]), src.get("app-01"));
            assert.equal(sums(inDc(d.vms, "dc-target", "app-01")[0]), oldApp, "the existing app-01 is untouched");

            const destroy = await e.ws.run(["destroy", "--yes", "--stack", "e2e-clone", "--non-interactive"]);
            assert.equal(destroy.code, 0, destroy.output);
            d = await disks(e.t);
            assert.equal(inDc(d.vms, "dc-target", "app-01-migrated").length, 0);
            assert.equal(inDc(d.vms, "dc-target", "app-01").length, 1);
            assert.equal(inDc(d.vms, "dc-source", "app-01").length, 1);
        });
    });

    describe("cross-engine: the export domain moves to a data center of a second engine", () => {
        let a: TestSimulator;
        let b: TestSimulator;
        let ws: PulumiWorkspace;
        const dir = example("cross-engine");
        before(async () => {
            a = await startTestSimulator({ password: "engine-a-pw-x7", engineName: "engine-a" });
            b = await startTestSimulator({
                password: "engine-b-pw-y8",
                engineName: "engine-b",
                inventory: path.join(dir, "engine-b-inventory.yaml"),
            });
            ws = new PulumiWorkspace(dir, "e2e-cross");
            removeStackConfig(dir, "e2e-cross");
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
        });
        after(async () => {
            await a?.close();
            await b?.close();
            removeStackConfig(dir, "e2e-cross");
        });

        it("exports from engine A, imports the domain into engine B and the VMs into dc-b", async () => {
            const src = sourceSums(await disks(a));
            const r = await ws.up([]);
            assert.equal(r.code, 0, r.output);
            const db = await disks(b);
            for (const name of ["web-01", "db-01"]) {
                const vm = inDc(db.vms, "dc-b", name);
                assert.equal(vm.length, 1, name);
                assert.equal(sums(vm[0]), src.get(name), name);
            }
            // engine A no longer knows the domain; its source VMs are untouched
            const da = await disks(a);
            assert.ok(!da.exportDomains.some((x) => x.name === "export1"), "export1 removed from engine A");
            assert.equal(inDc(da.vms, "dc-source", "web-01").length, 1);
            const state = JSON.stringify(await ws.exportState());
            assert.ok(!state.includes(a.password) && !state.includes(b.password), "no engine password in state");
        });
    });

    describe("ci-pipeline: preview on a pull request, apply on merge", () => {
        let e: E2E;
        before(async () => {
            e = await startE2E(example("one-shot"), "e2e-ci");
        });
        after(async () => e?.close());

        const pipeline = (event: string, previewFile: string) =>
            new Promise<{ code: number | null; output: string }>((resolve) => {
                const child = spawn(path.join(example("ci-pipeline"), "pipeline.sh"), [event], {
                    env: { ...e.ws.env, STACK: "e2e-ci", PROJECT_DIR: example("one-shot"), PREVIEW_FILE: previewFile },
                    stdio: ["ignore", "pipe", "pipe"],
                });
                let output = "";
                child.stdout.on("data", (b) => (output += b));
                child.stderr.on("data", (b) => (output += b));
                child.on("close", (code) => resolve({ code, output }));
            });

        it("a pull request only previews (saved for review, nothing changed); a merge applies and converges", async () => {
            const previewFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ci-")), "preview.txt");
            const before = await e.mutating();
            const pr = await pipeline("pull_request", previewFile);
            assert.equal(pr.code, 0, pr.output);
            assert.equal(await e.mutating(), before, "a pull request must not change the engine");
            assert.match(fs.readFileSync(previewFile, "utf8"), /one-shot-import-vm-web-01/);
            assert.equal(inDc((await disks(e.t)).vms, "dc-target").length, 0);

            const merge = await pipeline("push", previewFile);
            assert.equal(merge.code, 0, merge.output);
            assert.match(merge.output, /convergence check/);
            assert.equal(inDc((await disks(e.t)).vms, "dc-target").length, 3);

            const bad = await pipeline("schedule", previewFile);
            assert.equal(bad.code, 2);
            assert.match(bad.output, /must be pull_request or push/);
        });
    });
});
