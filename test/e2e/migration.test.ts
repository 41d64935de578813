// The main job with the real Pulumi CLI against the simulator: preview reads only, up migrates with identical
// disks, a second up is a no-op, refresh notices an out-of-band deletion that the next up repairs, destroy removes
// only what the stack created, and a bad argument fails at preview naming the field.
import { strict as assert } from "assert";
import { ROOT, changeCounts } from "../support/pulumi";
import { disks, E2E, inDc, startE2E, sums } from "../support/e2e";

const VMS = ["web-01", "app-01", "snap-01", "thin-01"];

describe("e2e: the default migration with the real Pulumi CLI", function () {
    this.timeout(10 * 60_000);
    let e: E2E;
    let sourceBefore: Map<string, string>;

    before(async () => {
        e = await startE2E(ROOT, "e2e-main", { "migration:vms": JSON.stringify(VMS) });
        const d = await disks(e.t);
        sourceBefore = new Map(inDc(d.vms, "dc-source").map((v) => [v.name, sums(v)]));
    });
    after(async () => e?.close());

    it("preview plans the whole migration and sends no mutating request to the engine", async () => {
        const before = await e.mutating();
        const r = await e.ws.preview();
        assert.equal(r.code, 0, r.output);
        const counts = changeCounts(r.output);
        // stack + component + its engine provider + its plan + 2 attachments + 1 template export/import + 4 VM exports/imports
        assert.equal(counts["create"], 2 + 1 + 1 + 2 + 2 + 2 * VMS.length, r.output);
        assert.equal(await e.mutating(), before, "pulumi preview must not change the engine");
        const d = await disks(e.t);
        assert.equal(inDc(d.vms, "dc-target").length, 0);
    });

    it("up migrates every VM and the template, with disk checksums identical to the source", async () => {
        const r = await e.ws.up();
        assert.equal(r.code, 0, r.output);
        const d = await disks(e.t);
        for (const name of VMS) {
            const target = inDc(d.vms, "dc-target", name);
            assert.equal(target.length, 1, `exactly one ${name} in dc-target`);
            assert.ok(target[0].disks.length > 0);
            assert.equal(sums(target[0]), sourceBefore.get(name), `${name}: disk content differs`);
        }
        const tpl = d.templates.filter((t) => t.dataCenter === "dc-target");
        assert.equal(tpl.length, 1, "the template is in dc-target");
        // progress reached the CLI while it ran (the provider's Engine.Log route)
        assert.match(r.output, /export of VM web-01|import of VM web-01/i);
    });

    // these start from a migrated stack: in the whole run the hook's up is the second one (a no-op), alone it is
    // the first (each test passes alone: scripts/testsAlone.ts)
    describe("once the stack is up", () => {
        before(async () => {
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
        });

        it("a second up changes nothing and sends no mutating request", async () => {
            const before = await e.mutating();
            const r = await e.ws.up();
            assert.equal(r.code, 0, r.output);
            const counts = changeCounts(r.output);
            for (const k of ["created", "updated", "deleted", "replaced"]) assert.ok(!counts[k], `${k}: ${r.output}`);
            assert.ok(counts["unchanged"] >= 2 + 2 * VMS.length, r.output);
            assert.equal(await e.mutating(), before);
        });

        it("refresh notices a VM deleted out of band, and the next up imports it again", async () => {
            const d = await disks(e.t);
            const victim = inDc(d.vms, "dc-target", "app-01")[0];
            const del = await e.t.api("DELETE", `vms/${victim.id}`);
            assert.ok(del.status < 300, del.text);

            const refresh = await e.ws.run(["refresh", "--yes", "--stack", "e2e-main", "--non-interactive"]);
            assert.equal(refresh.code, 0, refresh.output);
            assert.match(refresh.output, /main-import-vm-app-01/);
            assert.ok((changeCounts(refresh.output)["deleted"] ?? 0) >= 1, refresh.output);

            const up = await e.ws.up();
            assert.equal(up.code, 0, up.output);
            assert.equal(changeCounts(up.output)["created"], 1, up.output);
            const after = await disks(e.t);
            const back = inDc(after.vms, "dc-target", "app-01");
            assert.equal(back.length, 1);
            assert.equal(sums(back[0]), sourceBefore.get("app-01"));
        });

        it("the engine password never appears in the stack state", async () => {
            const state = JSON.stringify(await e.ws.exportState());
            assert.ok(!state.includes(e.t.password), "password in plaintext in the state");
            assert.match(state, /ciphertext/, "the password is kept as a secret");
        });

        it("the state records where each resource was declared: the SDK's constructor down to the program's line, not the loader below it", async () => {
            const children = (await e.ws.exportState()).deployment.resources.filter((r: any) => r.type.startsWith("pulumi-nodejs:dynamic/ovirt:"));
            assert.ok(children.length >= 3 + 2 * VMS.length);
            for (const r of children) {
                assert.match(r.sourcePosition, /^project:\/\/\/sdk\/\w+\.ts#\d+,\d+$/, r.urn);
                // (a native frame between them, Array.prototype.forEach, has no position)
                const frames = (r.stackTrace ?? []).map((f: any) => f.sourcePosition).filter(Boolean);
                // VmImport's constructor, Migration's, then the program's `new Migration(...)` (index.ts)
                assert.deepStrictEqual(frames.map((f: string) => f?.replace(/#.*$/, "")), ["project:///sdk/" + r.sourcePosition.split("/sdk/")[1].replace(/#.*$/, ""), "project:///sdk/migration.ts", "project:///index.ts"], `${r.urn}: ${JSON.stringify(frames)}`);
            }
        });

        it("destroy removes what the stack created and never a source VM", async () => {
            const r = await e.ws.run(["destroy", "--yes", "--stack", "e2e-main", "--non-interactive"]);
            assert.equal(r.code, 0, r.output);
            const d = await disks(e.t);
            assert.equal(inDc(d.vms, "dc-target").length, 0, "imported VMs removed");
            assert.equal(d.templates.filter((t) => t.dataCenter === "dc-target").length, 0, "imported template removed");
            const source = inDc(d.vms, "dc-source");
            for (const [name, sum] of sourceBefore) {
                const vm = source.filter((v) => v.name === name);
                assert.equal(vm.length, 1, `source VM ${name} still exists`);
                assert.equal(sums(vm[0]), sum, `source VM ${name} unchanged`);
            }
        });
    });
});

describe("e2e: bad arguments fail at preview", function () {
    this.timeout(5 * 60_000);
    let e: E2E;
    before(async () => {
        e = await startE2E(ROOT, "e2e-bad", { "migration:vms": JSON.stringify(["web-01", "no-such-vm"]) });
    });
    after(async () => e?.close());

    it("an unknown VM names the field and the fix, and nothing changes in the engine", async () => {
        const before = await e.mutating();
        const r = await e.ws.preview();
        assert.notEqual(r.code, 0);
        // the CLI's check-failure line names the property, and the reason repeats it with the fix
        assert.match(r.output, /property name value \{?no-such-vm\}? has a problem: name: .*no-such-vm/);
        assert.equal(await e.mutating(), before);
    });

    it("a running VM is refused at preview unless shutdown is asked for", async () => {
        await e.ws.ok(["config", "set", "--stack", "e2e-bad", "migration:vms", JSON.stringify(["run-01"])]);
        const before = await e.mutating();
        const r = await e.ws.preview();
        assert.notEqual(r.code, 0, r.output);
        assert.match(r.output, /run-01/);
        assert.match(r.output, /shutdownIfRunning|not down|running/i);
        assert.equal(await e.mutating(), before);
    });
});
