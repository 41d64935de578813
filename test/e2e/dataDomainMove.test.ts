// Issue 15 with the real Pulumi CLI: a Migration with method "data-domain" (test/e2e/projects/dataDomain) moves the
// data domain holding the VMs' disks and registers them: within one engine and across engines, with equal disk
// checksums (GET /__admin/disks) and no copy; conflicts and partial imports; bad input refused at preview with 0
// mutating requests; `pulumi up` SIGKILLed after the detach resumes with the README's recipe.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PulumiWorkspace, ROOT, changeCounts, CliResult } from "../support/pulumi";
import { disks, inDc, sums } from "../support/e2e";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { runAndKill } from "../reliability/support";

const PROJECT = path.join(ROOT, "test", "e2e", "projects", "dataDomain");

const ok = (r: CliResult, what: string) => {
    assert.equal(r.code, 0, `${what}:\n${r.output.slice(-4000)}`);
    return r;
};
const mutating = async (t: TestSimulator) => (await t.admin("GET", "requests")).mutating as number;

const dcSrc = {
    name: "dc-src",
    clusters: [{ name: "cl-src" }],
    hosts: [{ name: "h-src", cluster: "cl-src" }],
    storageDomains: [{ name: "data-src" }, { name: "data-move" }],
};

async function stack(name: string, engines: Record<string, TestSimulator>, migration: unknown): Promise<PulumiWorkspace> {
    const ws = new PulumiWorkspace(PROJECT, `${name}-${process.pid}`);
    const config: Record<string, string> = { "ddm:migration": JSON.stringify(migration) };
    const secrets: Record<string, string> = {};
    for (const [ns, t] of Object.entries(engines)) {
        config[`${ns}:url`] = t.sim.url;
        config[`${ns}:caFile`] = t.sim.caFile;
        secrets[`${ns}:password`] = t.password;
    }
    await ws.init(config, secrets);
    return ws;
}

/** test/e2e/projects/dataDomainRegister: a DataDomainAttachment and VmRegistrations (arguments a Migration does not expose). */
const REGISTER_PROJECT = path.join(ROOT, "test", "e2e", "projects", "dataDomainRegister");

const setMigration = (ws: PulumiWorkspace, m: unknown) => ws.ok(["config", "set", "--stack", ws.stack, "--", "ddm:migration", JSON.stringify(m)]);

describe("e2e: data-domain move through Migration(method: \"data-domain\") with the Pulumi CLI", function () {
    this.timeout(15 * 60_000);
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
        for (const f of cleanup.splice(0)) await f().catch(() => undefined);
    });

    it("same engine: bad input and conflicts refused at preview (0 mutating requests); fixed by one value each; registered with equal disks; killed after the detach, resumed", async () => {
        const t = await startTestSimulator({
            password: "ddm-same-pw",
            inventory: {
                dataCenters: [dcSrc, { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] }],
                templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
                vms: [
                    { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-move" }], nics: [{ mac: "56:6f:00:00:00:10" }] },
                    { name: "thin", cluster: "cl-src", template: "tpl" },
                    { name: "split", cluster: "cl-src", status: "up", disks: [{ sizeMiB: 8, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-src" }] },
                    { name: "stay", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-src" }] },
                    // a VM named like web in the target data center: the register needs a new name
                    { name: "web", cluster: "cl-dst", disks: [{ sizeMiB: 8, storageDomain: "data-dst" }] },
                ],
            },
        });
        cleanup.push(() => t.close());
        const base = { method: "data-domain", source: { dataCenter: "dc-src" }, target: { dataCenter: "dc-dst", cluster: "cl-dst", storageDomain: "data-dst" }, dataDomain: "data-move", templates: ["tpl"], vms: ["web", "thin"] };
        const ws = await stack("ddm-same", { ovirt: t }, base);
        cleanup.push(async () => fs.rmSync(path.dirname(ws.home), { recursive: true, force: true }));
        await t.admin("DELETE", "requests");
        // 1. one preview names every problem: split (running, with disks here and elsewhere) and web's name in dc-dst
        const p1 = await ws.preview();
        assert.notEqual(p1.code, 0, p1.output);
        assert.match(p1.output, /VMs with disks on data domain data-move are running in dc-src: split \(up\)/);
        assert.match(p1.output, /allowSplitVms: VM split has disks on data-move/);
        assert.match(p1.output, /newName: a VM named web already exists in the target data center/);
        assert.equal(await mutating(t), 0, "the failed preview changed the engine");
        // 2. fixes: split goes down, its disk on data-move is accepted to leave and is registered without the other
        //    one as a clone (split keeps its id in dc-src); web gets a new name in the target
        await t.api("POST", `vms/${(await t.api("GET", "vms?search=name%3Dsplit")).xml.vms.vm["@_id"]}/stop`, "<action/>");
        const fixed = { ...base, vms: [{ name: "web", newName: "web-moved" }, "thin", { name: "split", onConflict: "clone", newName: "split-copy" }], allowSplitVms: true, allowPartialImport: true };
        await setMigration(ws, fixed);
        await t.admin("DELETE", "requests");
        const p2 = ok(await ws.preview(), "preview after the fixes");
        assert.match(p2.output, /vm web \(cluster cl-src\)/);
        assert.match(p2.output, /VM split stays, losing disks split_Disk1|vm split/);
        assert.equal(await mutating(t), 0, "the preview changed the engine");
        const before = await disks(t);
        const src = new Map([...inDc(before.vms, "dc-src"), ...inDc(before.templates, "dc-src")].map((v) => [v.name, sums(v)]));
        const splitMoving = inDc(before.vms, "dc-src", "split")[0].disks.filter((d) => d.alias === "split_Disk1").map((d) => d.sha256);

        // 3. up, SIGKILLed once the domain has left dc-src (the engine forgot web), then the README's resume recipe
        const killed = await runAndKill(ws, ["up", "--yes", "--stack", ws.stack, "--non-interactive"], async () => inDc((await disks(t)).vms, "dc-src", "web").length === 0);
        assert.ok(killed.killed, `the up ended before the kill point:\n${killed.output.slice(-3000)}`);
        await ws.run(["cancel", "--yes", "--stack", ws.stack, "--non-interactive"]);
        ok(await ws.run(["refresh", "--clear-pending-creates", "--yes", "--stack", ws.stack, "--non-interactive"]), "refresh");
        ok(await ws.up(), "up after the kill");
        const after = await disks(t);
        assert.equal(sums(inDc(after.vms, "dc-dst", "web-moved")[0]), src.get("web"), "web: same bytes");
        assert.equal(sums(inDc(after.vms, "dc-dst", "thin")[0]), src.get("thin"), "thin: same bytes through its template");
        assert.equal(sums(inDc(after.templates, "dc-dst", "tpl")[0]), src.get("tpl"));
        assert.deepEqual(inDc(after.vms, "dc-dst", "split-copy")[0].disks.map((d) => d.sha256), splitMoving, "split: registered without its disk on data-src");
        assert.equal(inDc(after.vms, "dc-src", "stay").length, 1, "stay stays");
        assert.equal(inDc(after.vms, "dc-src", "split").length, 1, "split's rest stays in dc-src (allowSplitVms)");
        const again = ok(await ws.up(), "second up");
        assert.ok(!changeCounts(again.output)["created"] && !changeCounts(again.output)["updated"], again.output);
    });

    it("the plan: pulumi preview shows the data-domain plan once under the Migration and writes it as Markdown (0 mutating requests); up prints its summary and the registrations' end", async () => {
        const t = await startTestSimulator({
            password: "ddm-plan-pw",
            inventory: {
                dataCenters: [dcSrc, { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] }],
                templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
                vms: [
                    { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-move" }] },
                    { name: "thin", cluster: "cl-src", template: "tpl" },
                    { name: "web", cluster: "cl-dst", disks: [{ sizeMiB: 8, storageDomain: "data-dst" }] },
                ],
            },
        });
        cleanup.push(() => t.close());
        const ws = await stack("ddm-plan", { ovirt: t }, {
            method: "data-domain", source: { dataCenter: "dc-src" }, target: { dataCenter: "dc-dst", cluster: "cl-dst", storageDomain: "data-dst" },
            dataDomain: "data-move", templates: ["tpl"], vms: [{ name: "web", newName: "web-moved" }, "thin"],
        });
        cleanup.push(async () => fs.rmSync(path.dirname(ws.home), { recursive: true, force: true }));
        const file = path.join(path.dirname(ws.home), "plan.md");
        await t.admin("DELETE", "requests");
        const p = ok(await ws.preview([], { env: { OVIRT_MIGRATE_PLAN_FILE: file } }), "preview");
        assert.equal(await mutating(t), 0, "the plan reads only");
        assert.equal(p.output.match(/Migration plan ddm: dc-src -> dc-dst within .*, moving data domain data-move \(now attached to dc-src\); nothing is copied/g)?.length, 1, p.output);
        const rowOf = (name: string) => p.output.split("\n").find((l) => new RegExp(`^\\s*VM ${name}\\s`).test(l)) ?? "";
        assert.match(rowOf("web"), /web-moved\s+cl-dst\s+1: 16\.0 MiB \/ \S+ MiB\s+1, kept\s+none \(flat\)\s+down/, p.output);
        assert.match(rowOf("thin"), /thin\s+cl-dst\s+.*tpl \(registered first\)\s+down/, p.output);
        assert.match(p.output, /3 entities to register, 0 B copied; [\d.]+ MiB of their disks move with the domain/, p.output);
        assert.match(p.output, /maintenance: deactivate data-move in dc-src/, p.output);
        const md = fs.readFileSync(file, "utf8");
        assert.match(md, /^### Migration plan `ddm` \(data-domain move\)/);
        assert.match(md, /\| VM web \| web-moved \| cl-dst \| 1: 16\.0 MiB \//);
        assert.match(md, /\*\*Leaves dc-src with `data-move`:\*\*/);

        const up = ok(await ws.up(), "up");
        // the table once (the preview up runs first), the summary from the deployment, the end on the Migration's line
        assert.equal(up.output.match(/^\s*in the target\s+cluster\s+disks: size \/ allocated \(not copied\)/gm)?.length, 1, up.output);
        assert.match(up.output, /Migration plan ddm: dc-src -> dc-dst .*; 3 entities to register, 0 B copied; .*; estimate: /, up.output);
        assert.match(up.output, /migration ddm: done: 2 VMs and 1 template registered with the data domain's move, 0 B copied, in \d+/, up.output);
        assert.equal(inDc((await disks(t)).vms, "dc-dst", "web-moved").length, 1);
    });

    it("registration domain mappings: a target authz domain the engine does not list is refused at preview with 0 mutating requests; fixed by one value", async () => {
        const t = await startTestSimulator({
            password: "ddm-dm-pw",
            inventory: {
                authzDomains: ["corp.example"],
                dataCenters: [dcSrc, { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] }],
                vms: [{ name: "web", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-move" }] }],
            },
        });
        cleanup.push(() => t.close());
        const ws = new PulumiWorkspace(REGISTER_PROJECT, `ddm-dm-${process.pid}`);
        cleanup.push(async () => {
            fs.rmSync(path.join(REGISTER_PROJECT, `Pulumi.${ws.stack}.yaml`), { force: true });
            fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
        });
        const registrations = (to: string) => [{
            storageDomain: "data-move", name: "web", cluster: "cl-dst", expectFrom: { dataCenter: "dc-src" },
            registrationConfiguration: { domainMappings: [{ from: "ad.example", to }] },
        }];
        await ws.init(
            {
                "ovirt:url": t.sim.url,
                "ovirt:caFile": t.sim.caFile,
                "ddr:attachment": JSON.stringify({ storageDomain: "data-move", dataCenter: "dc-dst", moveFrom: { dataCenter: "dc-src" } }),
                "ddr:registrations": JSON.stringify(registrations("ldap.example")),
            },
            { "ovirt:password": t.password },
        );
        await t.admin("DELETE", "requests");
        const p1 = await ws.preview();
        assert.notEqual(p1.code, 0, p1.output);
        assert.match(p1.output, /registrationConfiguration\.domainMappings\[0\]\.to: authz domain "ldap\.example" does not exist in engine \S+ \(its domains: corp\.example, internal-authz\)/);
        assert.match(p1.output, /Map to one of those domains, or configure "ldap\.example"/);
        assert.equal(await mutating(t), 0, "the failed preview changed the engine");
        await ws.ok(["config", "set", "--stack", ws.stack, "--", "ddr:registrations", JSON.stringify(registrations("corp.example"))]);
        const p2 = ok(await ws.preview(), "preview with a domain the engine lists");
        assert.doesNotMatch(p2.output, /authz domain "[^"]*" does not exist/);
        assert.equal(await mutating(t), 0, "the preview changed the engine");
    });

    it("cross engine: the domain leaves engine A (removed without format) and its VMs are registered in engine B with equal disks; partial import of a split VM", async () => {
        const a = await startTestSimulator({
            password: "ddm-a-pw",
            engineName: "engine-a",
            inventory: {
                dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a" }, { name: "data-x" }] }],
                vms: [
                    { name: "app", cluster: "cl-a", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-x" }, { sizeMiB: 8, sparse: false, storageDomain: "data-x" }] },
                    { name: "two", cluster: "cl-a", disks: [{ sizeMiB: 8, storageDomain: "data-x" }, { sizeMiB: 8, storageDomain: "data-a" }] },
                ],
            },
        });
        cleanup.push(() => a.close());
        const b = await startTestSimulator({
            password: "ddm-b-pw",
            engineName: "engine-b",
            inventory: { dataCenters: [{ name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b" }] }] },
        });
        cleanup.push(() => b.close());
        const m = {
            method: "data-domain",
            source: { engine: { $engine: "engineA" }, dataCenter: "dc-a" },
            target: { engine: { $engine: "engineB" }, dataCenter: "dc-b", cluster: "cl-b", storageDomain: "data-b" },
            dataDomain: "data-x",
            vms: ["app", "two"],
        };
        const ws = await stack("ddm-cross", { engineA: a, engineB: b }, m);
        cleanup.push(async () => fs.rmSync(path.dirname(ws.home), { recursive: true, force: true }));
        await a.admin("DELETE", "requests");
        await b.admin("DELETE", "requests");
        const p1 = await ws.preview();
        assert.notEqual(p1.code, 0);
        assert.match(p1.output, /allowSplitVms: VM two has disks on data-x/);
        assert.match(p1.output, /allowPartialImport: VM two has disks that will not be on an active domain of the target data center \(two_Disk2\)/);
        assert.equal((await mutating(a)) + (await mutating(b)), 0, "the preview changed an engine");
        await setMigration(ws, { ...m, allowSplitVms: true, allowPartialImport: true });
        ok(await ws.preview(), "preview");
        assert.equal((await mutating(a)) + (await mutating(b)), 0, "the preview changed an engine");
        const da = await disks(a);
        const app = sums(inDc(da.vms, "dc-a", "app")[0]);
        const twoMoving = inDc(da.vms, "dc-a", "two")[0].disks.filter((d) => d.alias === "two_Disk1").map((d) => d.sha256);
        const t0 = Date.now();
        ok(await ws.up(), "up");
        const upMs = Date.now() - t0;
        const db = await disks(b);
        assert.equal(sums(inDc(db.vms, "dc-b", "app")[0]), app, "app: same bytes in engine B");
        assert.equal(inDc(db.vms, "dc-b", "app")[0].id, inDc(da.vms, "dc-a", "app")[0].id, "the id is kept across engines");
        assert.deepEqual(inDc(db.vms, "dc-b", "two")[0].disks.map((d) => d.sha256), twoMoving);
        const after = await disks(a);
        assert.equal(inDc(after.vms, "dc-a", "app").length, 0, "app left engine A with the domain");
        assert.deepEqual(inDc(after.vms, "dc-a", "two")[0].disks.map((d) => d.alias), ["two_Disk2"]);
        const sds = (await a.api("GET", "storagedomains")).text;
        assert.ok(!sds.includes("<name>data-x</name>"), "data-x removed from engine A");
        const kinds = ((await b.admin("GET", "stats")).jobs as Array<{ kind: string }>).map((j) => j.kind);
        assert.ok(!kinds.some((k) => /^(export|import)/.test(k)), `nothing copied: ${kinds.join(", ")}`);
        console.log(`      cross-engine data-domain up: ${upMs} ms`);
    });
});
