// Every example under examples/ run as a user runs it (issue 13): a project of its own outside the repository, made
// by examples/README.md's recipe with the tarball `npm pack` writes, then the commands of the example's README,
// literally and in order (test/support/exampleProject.ts), with the real Pulumi CLI against the simulator; the
// engine's state is asserted between them. If an example's README changes its commands, the list each test expects
// fails first: change the test with it. (vmware-import: test/v2v/example.test.ts.)
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { changeCounts, CliResult } from "../support/pulumi";
import { disks, inDc, sums } from "../support/e2e";
import { exampleCommands, exampleProject, ExampleProject, ReadmeCommand, ReadmeRunner } from "../support/exampleProject";
import { TestSimulator } from "../support/simulator";

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

/** The commands' shapes (the first two words after `pulumi`, or the program), to fail loudly when a README changes. */
function shapes(commands: ReadmeCommand[]): string[] {
    return commands.map((c) => {
        const w = c.command.split(/\s+/).filter((x) => !/^[A-Z_]+=/.test(x));
        if (w[0] === "pulumi" && w[1] === "config") return `config ${w.find((x, i) => i > 2 && !x.startsWith("--"))}`;
        if (w[0] === "pulumi") return w.slice(0, 2).join(" ");
        if (w[0] === "npm") return "npm run sim";
        return `${path.basename(w[0])} ${w[1]}`;
    });
}

const ok = (r: CliResult | undefined, what: string) => {
    assert.ok(r, what);
    assert.equal(r.code, 0, `${what}:\n${r.output}`);
    return r;
};

/**
 * One example's describe: its project from the packed tarball and a README runner (closed after it), and one test
 * that first asserts the shapes of the README's commands (a README that changes them fails here first), then runs
 * `body`. Only what differs between examples is given: titles, README, expected shapes, and the runner's set-up.
 */
function describeExample(
    o: {
        describe: string;
        it: string;
        /** the example whose README is run */
        readme: string;
        /** the example project to make (default: `readme`) */
        project?: string;
        shapes: string[];
        runner?: (p: ExampleProject) => ReadmeRunner;
        setUp?: (run: ReadmeRunner) => Promise<void>;
    },
    body: (x: { p: ExampleProject; run: ReadmeRunner; commands: ReadmeCommand[] }) => Promise<void>,
): void {
    describe(o.describe, () => {
        let p: ExampleProject;
        let run: ReadmeRunner;
        before(async () => {
            p = await exampleProject(o.project ?? o.readme);
            run = o.runner ? o.runner(p) : new ReadmeRunner(p);
            await o.setUp?.(run);
        });
        after(async () => {
            await run?.close();
            p?.close();
        });

        it(o.it, async () => {
            const commands = exampleCommands(o.readme);
            assert.deepEqual(shapes(commands), o.shapes);
            await body({ p, run, commands });
        });
    });
}

describe("e2e: examples, each in a project of its own from the packed tarball, run by its README", function () {
    this.timeout(15 * 60_000);

    describeExample(
        {
            describe: "staged-migration: export stage, then import stage by one config value",
            it: "runs the README: the export stage exports only, the preview of the import stage changes nothing, up imports",
            readme: "staged-migration",
            shapes: ["config ovirt:url", "config ovirt:caFile", "config ovirt:password", "config migration:stage", "pulumi up", "config migration:stage", "pulumi preview", "pulumi up"],
        },
        async ({ run, commands }) => {
            let t: TestSimulator | undefined;
            let src: Map<string, string> | undefined;
            let before = 0;
            for (const [i, c] of commands.entries()) {
                if (i === 6) before = (await t!.admin("GET", "requests")).mutating;
                const { result } = await run.step(c);
                t ??= run.engines[0]?.t;
                if (i === 3) src = sourceSums(await disks(t!));
                if (i === 4) {
                    ok(result, c.command);
                    const d = await disks(t!);
                    const onDomain = d.exportDomains.find((x) => x.name === "export1")!;
                    assert.deepEqual(onDomain.vms.map((v) => v.name).sort(), ["app-01", "web-01"]);
                    assert.equal(inDc(d.vms, "dc-target").length, 0);
                }
                if (i === 6) {
                    ok(result, c.command);
                    assert.equal(changeCounts(result!.output)["create"], 3, result!.output); // target attachment + 2 imports
                    assert.equal((await t!.admin("GET", "requests")).mutating, before, "the preview changed the engine");
                }
                if (i === 7) {
                    ok(result, c.command);
                    const d = await disks(t!);
                    for (const name of ["web-01", "app-01"]) {
                        const vm = inDc(d.vms, "dc-target", name);
                        assert.equal(vm.length, 1, name);
                        assert.equal(sums(vm[0]), src!.get(name));
                    }
                }
            }
        },
    );

    describeExample(
        {
            describe: "one-shot: several VMs in one up, permissions re-applied",
            it: "runs the README: moves all VMs with equal disks, alice gets UserVmManager on each; a second up changes nothing",
            readme: "one-shot",
            shapes: ["config ovirt:url", "config ovirt:caFile", "config ovirt:password", "pulumi preview", "pulumi up"],
        },
        async ({ p, run, commands }) => {
            let src: Map<string, string> | undefined;
            for (const c of commands) {
                if (c.command === "pulumi up") src = sourceSums(await disks(run.engines[0].t));
                const { result } = await run.step(c);
                if (result) ok(result, c.command);
            }
            const t = run.engines[0].t;
            const d = await disks(t);
            const roleId = idOf((await t.api("GET", "roles")).text, "UserVmManager");
            const userId = idOf((await t.api("GET", "users")).text, "alice@internal-authz");
            for (const name of ["web-01", "app-01", "snap-01"]) {
                const vm = inDc(d.vms, "dc-target", name);
                assert.equal(vm.length, 1, name);
                assert.equal(sums(vm[0]), src!.get(name), name);
                const perms = (await t.api("GET", `vms/${vm[0].id}/permissions`)).text;
                const granted = perms.split("</permission>").some((x) => x.includes(`<role href="/ovirt-engine/api/roles/${roleId}" id="${roleId}"`) && x.includes(`id="${userId}"`));
                assert.ok(granted, `${name}: no UserVmManager for alice in ${perms}`);
            }
            // the README: "A second `pulumi up` changes nothing."
            const again = ok(await p.ws.up(), "second pulumi up");
            assert.ok(!changeCounts(again.output)["created"], again.output);
        },
    );

    describeExample(
        {
            describe: "template-thin-vm: the template first, then the thin VM (a clone within one engine: flat, no template link)",
            it: "runs the README: imports rhel9-base and thin-01 into dc-target with equal content",
            readme: "template-thin-vm",
            shapes: ["config ovirt:url", "config ovirt:caFile", "config ovirt:password", "pulumi preview", "pulumi up"],
        },
        async ({ run, commands }) => {
            let src: Map<string, string> | undefined;
            for (const c of commands) {
                if (c.command === "pulumi up") src = sourceSums(await disks(run.engines[0].t));
                const { result } = await run.step(c);
                if (result) ok(result, c.command);
            }
            const d = await disks(run.engines[0].t);
            assert.equal(d.templates.filter((x) => x.dataCenter === "dc-target").length, 1);
            const thin = inDc(d.vms, "dc-target", "thin-01");
            assert.equal(thin.length, 1);
            assert.equal(sums(thin[0]), src!.get("thin-01"));
        },
    );

    describeExample(
        {
            describe: "clone-on-conflict: a taken name becomes a clone with a suffix",
            it: "runs the README (its inventory): app-01 arrives as app-01-migrated, the existing app-01 untouched; destroy removes only the clone",
            readme: "clone-on-conflict",
            shapes: ["npm run sim", "config ovirt:url", "config ovirt:caFile", "config ovirt:password", "pulumi preview", "pulumi up", "pulumi stack"],
        },
        async ({ p, run, commands }) => {
            let src: Map<string, string> | undefined;
            let oldApp = "";
            for (const c of commands) {
                if (c.command === "pulumi preview") {
                    const d = await disks(run.engines[0].t);
                    src = sourceSums(d);
                    oldApp = sums(inDc(d.vms, "dc-target", "app-01")[0]);
                }
                const { result } = await run.step(c); // `pulumi stack output vmName` is compared with its comment
                if (result) ok(result, c.command);
            }
            const t = run.engines[0].t;
            const out = await p.ws.outputs();
            assert.equal(out.cloned, true);
            let d = await disks(t);
            const clone = inDc(d.vms, "dc-target", "app-01-migrated");
            assert.equal(clone.length, 1);
            assert.equal(sums(clone[0]), src!.get("app-01"));
            assert.equal(sums(inDc(d.vms, "dc-target", "app-01")[0]), oldApp, "the existing app-01 is untouched");

            // the README: "`pulumi destroy` removes only the clone"
            ok(await p.ws.destroy(), "pulumi destroy");
            d = await disks(t);
            assert.equal(inDc(d.vms, "dc-target", "app-01-migrated").length, 0);
            assert.equal(inDc(d.vms, "dc-target", "app-01").length, 1);
            assert.equal(inDc(d.vms, "dc-source", "app-01").length, 1);
        },
    );

    describeExample(
        {
            describe: "cross-engine: the export domain moves to a data center of a second engine",
            it: "runs the README: the preview reads only; `pulumi up` SIGKILLed mid-export, the README's resume recipe converges: web-01 and db-01 in dc-b, equal disks",
            readme: "cross-engine",
            shapes: [
                "npm run sim", "npm run sim", "config engineA:url", "config engineA:caFile", "config engineA:password",
                "config engineB:url", "config engineB:caFile", "config engineB:password", "config migration:exportPath",
                "pulumi preview", "pulumi up", "pulumi cancel", "pulumi refresh", "pulumi up",
            ],
        },
        async ({ p, run, commands }) => {
            const upAt = commands.findIndex((c) => c.command === "pulumi up");
            for (const c of commands.slice(0, upAt)) {
                const { result } = await run.step(c);
                if (result) ok(result, c.command);
            }
            const [a, b] = run.engines.map((e) => e.t);
            assert.equal((await a.admin("GET", "requests")).mutating + (await b.admin("GET", "requests")).mutating, 0, "the preview changed an engine");
            const src = sourceSums(await disks(a));

            // `pulumi up`, killed (the whole process tree) once engine A runs an export: the README's crash
            const exports = async () => ((await a.admin("GET", "stats")).jobs as Array<{ kind: string }>).filter((j) => j.kind.startsWith("export")).length;
            const killed = await p.ws.run(["up", "--yes", "--stack", p.ws.stack, "--non-interactive"], {
                killWhen: async () => (await exports()) > 0, killPollMs: 50, killSignal: "SIGKILL", killTree: true, timeoutMs: 5 * 60_000,
            });
            assert.ok(killed.killed, `the up ended before the kill point:\n${killed.output.slice(-2000)}`);
            // the README's resume recipe, as written (cancel may find nothing to cancel)
            for (const c of commands.slice(upAt + 1)) {
                const { result } = await run.step(c);
                if (!c.command.startsWith("pulumi cancel")) ok(result, c.command);
            }
            const db = await disks(b);
            for (const name of ["web-01", "db-01"]) {
                const vm = inDc(db.vms, "dc-b", name);
                assert.equal(vm.length, 1, name);
                assert.equal(sums(vm[0]), src.get(name), name);
            }
            const da = await disks(a);
            assert.ok(!da.exportDomains.some((x) => x.name === "export1"), "export1 removed from engine A");
            assert.equal(inDc(da.vms, "dc-source", "web-01").length, 1);
            const state = JSON.stringify(await p.ws.exportState());
            assert.ok(!state.includes(a.password) && !state.includes(b.password), "no engine password in state");
        },
    );

    describeExample(
        {
            describe: "ci-pipeline: preview on a pull request, apply on merge (the one-shot project)",
            it: "runs the README: a pull request only previews (saved for review, nothing changed); a merge applies and converges",
            readme: "ci-pipeline",
            project: "one-shot",
            runner: (p) => new ReadmeRunner(p, { projects: { "one-shot": p } }),
            setUp: async (run) => {
                // the pipeline's stack: configured as one-shot's README says
                for (const c of exampleCommands("one-shot").filter((x) => x.command.startsWith("pulumi config"))) await run.step(c);
            },
            shapes: ["pipeline.sh pull_request", "pipeline.sh push"],
        },
        async ({ p, run, commands }) => {
            const t = run.engines[0].t;
            const before = (await t.admin("GET", "requests")).mutating;
            const pr = ok((await run.step(commands[0])).result, commands[0].command);
            assert.equal((await t.admin("GET", "requests")).mutating, before, "a pull request must not change the engine");
            assert.match(fs.readFileSync(path.join(p.dir, "preview.txt"), "utf8"), /one-shot-import-vm-web-01/, pr.output);
            // the plan the workflow posts on the pull request, written by the same preview next to preview.txt
            const plan = fs.readFileSync(path.join(p.dir, "plan.md"), "utf8");
            assert.match(plan, /^### Migration plan `one-shot`/, plan);
            assert.match(plan, /\| VM snap-01 \| snap-01 \(clone\) \| cl-target \/ data-target \|.*\| 2, collapsed on export \|/, plan);
            assert.equal(inDc((await disks(t)).vms, "dc-target").length, 0);

            const merge = ok((await run.step(commands[1])).result, commands[1].command);
            assert.match(merge.output, /Previewing update/, "the merge's up runs with its preview");
            assert.match(merge.output, /convergence check/);
            assert.equal(inDc((await disks(t)).vms, "dc-target").length, 3);

            const bad = (await run.step({ ...commands[0], command: commands[0].command.replace("pull_request", "schedule") })).result!;
            assert.equal(bad.code, 2);
            assert.match(bad.output, /must be pull_request or push/);
        },
    );

    describeExample(
        {
            describe: "data-domain-move: the data domain moves, its VMs are registered (zero copy), destroy undoes it",
            it: "runs the README: the preview reads only and lists what leaves; up registers everything in dc-target with equal disks and no copy; destroy brings it back",
            readme: "data-domain-move",
            shapes: ["npm run sim", "config ovirt:url", "config ovirt:caFile", "config ovirt:password", "pulumi preview", "pulumi up", "pulumi destroy"],
        },
        async ({ run, commands }) => {
            const names = ["web-01", "db-01", "app-01"];
            let src: Map<string, string> | undefined;
            for (const c of commands) {
                const t = run.engines[0]?.t;
                if (c.command === "pulumi preview") await t!.admin("DELETE", "requests");
                if (c.command === "pulumi up") src = sourceSums(await disks(t!));
                const { result } = await run.step(c);
                if (result) ok(result, c.command);
                if (c.command === "pulumi preview") {
                    assert.equal((await t!.admin("GET", "requests")).mutating, 0, "the preview changed the engine");
                    for (const n of [...names, "base"]) assert.match(result!.output, new RegExp(`(vm|template) ${n} \\(cluster cl-source\\)`), `the preview lists ${n} as leaving`);
                }
                if (c.command === "pulumi up") {
                    const d = await disks(t!);
                    for (const n of names) {
                        const vm = inDc(d.vms, "dc-target", n);
                        assert.equal(vm.length, 1, n);
                        assert.equal(sums(vm[0]), src!.get(n), `${n}: the same bytes`);
                    }
                    assert.equal(inDc(d.templates, "dc-target", "base").length, 1);
                    assert.equal(inDc(d.vms, "dc-source", "tools-01").length, 1, "tools-01 stays");
                    // nothing was copied: no export or import job ran
                    const kinds = ((await t!.admin("GET", "stats")).jobs as Array<{ kind: string }>).map((j) => j.kind);
                    assert.ok(!kinds.some((k) => /^(export|import)/.test(k)), kinds.join(", "));
                }
                if (c.command.startsWith("pulumi destroy")) {
                    const d = await disks(t!);
                    for (const n of names) {
                        const vm = inDc(d.vms, "dc-source", n);
                        assert.equal(vm.length, 1, `${n} back in dc-source`);
                        assert.equal(sums(vm[0]), src!.get(n), n);
                    }
                }
            }
        },
    );
});
