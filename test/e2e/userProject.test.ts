// The README's "Use it in your own project" section, run as a user runs it (issue 13), from a directory outside the
// repository: `npm pack` of this repository, a fresh Pulumi project whose files (Pulumi.yaml, tsconfig.json,
// index.ts) are the README's code blocks and whose commands are the README's shell lines, an install of the tarball
// and @pulumi/pulumi, stack config pointing at a started engine simulator, then `pulumi preview` (nothing sent to
// the engine but reads), `pulumi up --yes` with its preview, a second `up` (no changes), `pulumi destroy --yes`, and
// `pulumi up --yes` again after the destroy, then the README's resume recipe ("Progress, and resuming after a crash")
// after a SIGKILLed `pulumi up`. A README command this test does not know fails the test: change both.
// USER_PROJECT_PULUMI_SDK=<version> installs another @pulumi/pulumi (the peer range's upper end); KEEP_USER_PROJECT=1
// keeps the temporary directory.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changeCounts, CliResult, PulumiWorkspace, ROOT } from "../support/pulumi";
import { disks, EntityReport, inDc, sums } from "../support/e2e";
import { codeBlocks, fileBlock, readmeSection, shellCommands, words } from "../support/readme";
import { readmeCommands, shellWords } from "../support/exampleProject";
import { command, npm, Packed, packRepository } from "../support/npm";
import { startTestSimulator, TestSimulator } from "../support/simulator";

const SECTION = "Use it in your own project";
/** The @pulumi/pulumi the project installs: this repository's (the version the CLI here is built from). */
const SDK_VERSION = process.env.USER_PROJECT_PULUMI_SDK ?? JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
/** The project's files, each a README code block captioned with its name. */
const PROJECT_FILES = ["Pulumi.yaml", "tsconfig.json", "index.ts"];

/** Copies of the VM in the target data center: its own name, or a clone's name + suffix. */
function copiesOf(vms: EntityReport[], name: string): EntityReport[] {
    return inDc(vms, "dc-target").filter((v) => v.name === name || v.name.startsWith(`${name}-`));
}

describe("e2e: a user's own project, as the README says (npm pack, npm install, preview, up, destroy, up)", function () {
    this.timeout(8 * 60_000);

    const { text, line } = readmeSection(SECTION);
    const blocks = codeBlocks(text, line);
    const commands = shellCommands(blocks);
    // The section ends with the first preview and `pulumi up`; everything before is setup.
    const firstPulumiRun = commands.findIndex((c) => /^pulumi (preview|up)\b/.test(c.command));
    const setup = commands.slice(0, firstPulumiRun);
    const runs = commands.slice(firstPulumiRun).map((c) => c.command);

    let base: string;
    let projectDir: string;
    let packed: Packed | undefined;
    let t: TestSimulator;
    let ws: PulumiWorkspace;
    let env: Record<string, string>;
    let sourceWeb: EntityReport;
    const mutating = async () => (await t.admin("GET", "requests")).mutating as number;

    /**
     * The README's setup, in its order: the project's files where their code blocks are, the shell lines (repository
     * ones in the repository, the others in the project).
     */
    async function runSetup(): Promise<void> {
        const ca = fs.readFileSync(t.sim.caFile);
        const files = PROJECT_FILES.map((file) => ({ file, block: fileBlock(blocks, file) }));
        for (const { command: cmd, line: at } of setup) {
            for (const f of files.filter((x) => x.block.line < at && !fs.existsSync(path.join(projectDir, x.file)))) {
                fs.writeFileSync(path.join(projectDir, f.file), f.block.code);
            }
            const w = words(cmd);
            const where = `README line ${at}: \`${cmd}\``;
            if (cmd === "npm ci") {
                // the repository's dependencies: installed by scripts/toolchain.sh (npm ci) before any test runs
                assert.ok(fs.existsSync(path.join(ROOT, "node_modules", "typescript", "package.json")), `${where}: run npm ci first`);
            } else if (cmd === "npm pack") {
                packed = await packRepository(base, env);
                console.log(`      npm pack: ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)`);
            } else if (w[0] === "npm" && (w[1] === "init" || w[1] === "pkg")) {
                await npm(w.slice(1), projectDir, env);
            } else if (w[0] === "npm" && w[1] === "install") {
                const args = w.slice(1).map((a) => {
                    if (a.endsWith(".tgz")) {
                        assert.ok(packed, `${where}: the tarball is installed before \`npm pack\` made it`);
                        assert.equal(path.basename(a), packed.filename, `${where}: the README names another tarball than npm pack writes`);
                        return packed.tarball;
                    }
                    return a === "@pulumi/pulumi" ? `@pulumi/pulumi@${SDK_VERSION}` : a;
                });
                const r = await npm([...args, ...NPM_FLAGS], projectDir, env);
                if (args.includes(packed?.tarball ?? "")) console.log(`      ${r.output.trim().split("\n").filter((l) => /added|install-scripts {3}/.test(l)).join("\n      ")}`);
            } else if (w[0] === "pulumi" && w[1] === "stack" && w[2] === "init" && w.length === 4) {
                ws = new PulumiWorkspace(projectDir, w[3], {
                    // Pulumi's own Node.js language host sets this from the runtime option `typescript` (default true):
                    // the program runs as TypeScript with ts-node and the project's `typescript`. The host built here
                    // (tools/language-host) runs programs as JavaScript and passes its environment through.
                    PULUMI_NODEJS_TYPESCRIPT: "true",
                }, path.join(base, "pulumi"));
                await ws.ok(["stack", "init", w[3]]);
            } else if (w[0] === "pulumi" && w[1] === "config" && w[2] === "set") {
                assert.ok(ws, `${where}: config before \`pulumi stack init\``);
                const secret = w[3] === "--secret";
                const [key, value] = w.slice(secret ? 4 : 3);
                let v: string;
                if (key === "ovirt:url") v = t.sim.url;
                else if (key === "ovirt:password") {
                    assert.ok(secret, `${where}: the password must be set with --secret`);
                    v = t.password; // the README's command prompts for it
                } else if (key === "ovirt:caFile") {
                    assert.ok(value && !path.isAbsolute(value), `${where}: expected a relative CA file path`);
                    fs.writeFileSync(path.join(projectDir, value), ca); // the simulator's CA where the README puts it
                    v = value;
                } else {
                    assert.ok(value !== undefined, `${where}: no value`);
                    v = value;
                }
                await ws.ok(["config", "set", ...(secret ? ["--secret"] : []), "--stack", ws.stack, "--", key, v]);
            } else {
                throw new Error(`${where} is not covered by test/e2e/userProject.test.ts: teach the test the new command`);
            }
        }
    }

    before(async function () {
        this.timeout(5 * 60_000);
        assert.ok(firstPulumiRun > 0, `the README section "${SECTION}" has no pulumi preview/up`);
        assert.deepEqual(runs, ["pulumi preview", "pulumi up"], "the README's runs changed: change this test with them");
        base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-user-project-")));
        projectDir = path.join(base, "my-migration");
        fs.mkdirSync(projectDir);
        assert.ok(!projectDir.startsWith(ROOT + path.sep), "the project must be outside the repository");
        t = await startTestSimulator({ password: `pw-${crypto.randomBytes(9).toString("base64url")}` });
        sourceWeb = inDc((await disks(t)).vms, "dc-source", "web-01")[0];
        env = {
            ...(process.env as Record<string, string>),
            PATH: `${path.join(ROOT, ".tools", "bin")}:${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
        };
        await runSetup();
        for (const file of PROJECT_FILES) assert.ok(fs.existsSync(path.join(projectDir, file)), `${file}: its README block comes after the first preview`);
    });

    after(async () => {
        await t?.close();
        if (base && !process.env.KEEP_USER_PROJECT) fs.rmSync(base, { recursive: true, force: true });
        else if (base) console.log(`      kept ${base}`);
    });

    it("the tarball holds the compiled sdk, provider and lib, their types, README and LICENSE, nothing else", () => {
        assert.ok(packed, "npm pack did not run: the README section lost its `npm pack`");
        const files = packed.files.map((f) => f.path);
        const stray = files.filter((f) => /(^|\/)(test|simulator|tools|examples|bench|scripts|docs)\//.test(f) || /\.ts$/.test(f) && !/\.d\.ts$/.test(f));
        assert.deepEqual(stray, [], "tests, simulator, tools, examples, scripts or sources in the tarball");
        const allowed = (f: string) => ["LICENSE", "README.md", "package.json"].includes(f) || /^dist\/(sdk|provider|lib)\/.+\.(js|d\.ts)$/.test(f);
        assert.deepEqual(files.filter((f) => !allowed(f)), [], "unexpected files in the tarball");
        for (const f of ["LICENSE", "README.md", "package.json", "dist/sdk/index.js", "dist/sdk/index.d.ts", "dist/provider/index.js", "dist/sdk/shim.js"]) {
            assert.ok(files.includes(f), `${f} missing from the tarball`);
        }
        // every shipped file comes from a current source (no stale output of a deleted file), and every source ships
        const shipped = new Set(files);
        for (const f of files.filter((x) => x.startsWith("dist/"))) {
            const src = f.replace(/^dist\//, "").replace(/(\.d\.ts|\.js)$/, ".ts");
            assert.ok(fs.existsSync(path.join(ROOT, src)), `${f} has no source ${src} (stale build output)`);
        }
        for (const dir of ["sdk", "provider", "lib"]) {
            const walk = (d: string): string[] => fs.readdirSync(path.join(ROOT, d), { withFileTypes: true }).flatMap((e) =>
                e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.join(d, e.name)] : []);
            for (const src of walk(dir)) {
                for (const ext of [".js", ".d.ts"]) assert.ok(shipped.has(`dist/${src.replace(/\.ts$/, ext)}`), `dist/${src.replace(/\.ts$/, ext)} missing`);
            }
        }
        assert.ok(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8").includes("Apache License"), "LICENSE is the Apache License");
    });

    it("the installed package resolves as the user's program and the dynamic provider load it, with one @pulumi/pulumi", async () => {
        const pkgDir = path.join(projectDir, "node_modules", "pulumi-ovirt-migrate");
        assert.ok(!fs.lstatSync(pkgDir).isSymbolicLink(), "installed as a copy, not a link");
        const probe = await command("node", ["-e", `
            const path = require("path");
            const sdk = require.resolve("pulumi-ovirt-migrate");
            const provider = require.resolve("pulumi-ovirt-migrate/dist/provider");   // the shim's fallback
            const pulumiFromSdk = require.resolve("@pulumi/pulumi", { paths: [path.dirname(sdk)] });
            const m = require("pulumi-ovirt-migrate");
            console.log(JSON.stringify({ sdk, provider, pulumiFromSdk, pulumi: require.resolve("@pulumi/pulumi"),
                providerModulePath: m.providerModulePath(), exports: Object.keys(m).sort() }));
        `], projectDir, env);
        const r = JSON.parse(probe.stdout);
        assert.equal(r.sdk, path.join(pkgDir, "dist", "sdk", "index.js"));
        assert.equal(r.provider, path.join(pkgDir, "dist", "provider", "index.js"));
        assert.equal(r.providerModulePath, r.provider, "the shim points at the installed provider");
        assert.equal(r.pulumiFromSdk, r.pulumi, "the package uses the project's @pulumi/pulumi (a peer dependency)");
        assert.equal(JSON.parse(fs.readFileSync(path.join(projectDir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version, SDK_VERSION);
        for (const name of ["Migration", "ExportDomainAttachment", "VmExport", "VmImport", "V2VImport", "engineFromConfig"]) assert.ok(r.exports.includes(name), name);
        // the types resolve through `types` (the README's tsconfig) and through `exports` (node16 resolution)
        const tsc = path.join(projectDir, "node_modules", "typescript", "bin", "tsc");
        await command("node", [tsc, "--noEmit", "-p", "tsconfig.json"], projectDir, env);
        await command("node", [tsc, "--noEmit", "-p", "tsconfig.json", "--module", "node16", "--moduleResolution", "node16"], projectDir, env);
    });

    it("`pulumi preview` plans the migration and sends the engine nothing but reads", async () => {
        const before = await mutating();
        const r = await ws.run(["preview", "--stack", ws.stack, "--non-interactive"]);
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /move-web-01/);
        // stack, component, source and target attachments, one export, one import
        assert.ok((changeCounts(r.output)["create"] ?? 0) >= 5, r.output);
        assert.equal(await mutating(), before, "pulumi preview must not change the engine");
        assert.equal(copiesOf((await disks(t)).vms, "web-01").length, 0);
    });

    const upMigrates = async (r: CliResult, what: string) => {
        assert.equal(r.code, 0, `${what}:\n${r.output}`);
        assert.match(r.output, /Previewing update/, `${what} ran without its preview`);
        const copies = copiesOf((await disks(t)).vms, "web-01");
        assert.equal(copies.length, 1, `${what}: ${copies.length} copies of web-01 in dc-target`);
        assert.equal(sums(copies[0]), sums(sourceWeb), `${what}: disks differ from the source`);
    };

    it("`pulumi up --yes` (with its preview) migrates web-01 with identical disks, from the installed package", async () => {
        await upMigrates(await ws.up(), "pulumi up");
        const out = await ws.outputs();
        assert.ok(out.imported && Object.keys(out.imported).length === 1, JSON.stringify(out));
        // the dynamic provider that ran is the installed package's, not this repository's
        const state = JSON.stringify(await ws.exportState());
        assert.ok(state.includes(path.join(projectDir, "node_modules", "pulumi-ovirt-migrate", "dist", "provider", "index.js")), "the state's provider is not the installed package's");
        assert.ok(!state.includes(path.join(ROOT, "dist")), "the state refers to the repository's dist/");
        assert.ok(!state.includes(t.password), "the password is in the state in clear text");
    });

    // these start from a stack that has migrated web-01: in the whole run the hook's up is the second one (a
    // no-op), alone it is the first (each test passes alone: scripts/testsAlone.ts)
    describe("once `pulumi up` has migrated web-01", () => {
        before(async () => upMigrates(await ws.up(), "pulumi up (the hook)"));

        it("a second `pulumi up --yes` changes nothing and sends no mutating request", async () => {
            const before = await mutating();
            const r = await ws.up();
            assert.equal(r.code, 0, r.output);
            const counts = changeCounts(r.output);
            for (const k of ["created", "updated", "deleted", "replaced"]) assert.ok(!counts[k], `${k}: ${r.output}`);
            assert.equal(await mutating(), before);
        });

        it("`pulumi destroy --yes` removes the imported VM and keeps the source", async () => {
            const r = await ws.destroy();
            assert.equal(r.code, 0, r.output);
            const d = await disks(t);
            assert.equal(copiesOf(d.vms, "web-01").length, 0, "the imported VM is removed");
            const src = inDc(d.vms, "dc-source", "web-01");
            assert.equal(src.length, 1, "the source VM is kept");
            assert.equal(sums(src[0]), sums(sourceWeb), "the source VM is unchanged");
        });

        it("`pulumi up --yes` after the destroy applies the same program again", async () => {
            const destroyed = await ws.destroy(); // a no-op after the test before; alone, the destroy this is after
            assert.equal(destroyed.code, 0, destroyed.output);
            await upMigrates(await ws.up(), "pulumi up after destroy");
        });

        it("the README's resume recipe, run literally after `pulumi up` is SIGKILLed mid-export, converges: one copy, equal disks", async () => {
            const destroyed = await ws.destroy();
            assert.equal(destroyed.code, 0, destroyed.output);
            const exportJobs = async () => ((await t.admin("GET", "stats")).jobs as Array<{ kind: string }>).filter((j) => j.kind.startsWith("export")).length;
            const before = await exportJobs();
            // kill the whole tree (CLI, language host, provider) once this run's export job runs in the engine
            const killed = await ws.run(["up", "--yes", "--stack", ws.stack, "--non-interactive"], {
                killWhen: async () => (await exportJobs()) > before,
                killPollMs: 50,
                killSignal: "SIGKILL",
                killTree: true,
                timeoutMs: 5 * 60_000,
            });
            assert.ok(killed.killed, `the up ended before the kill point:\n${killed.output.slice(-2000)}`);
            // the recipe: the README's own lines; an interactive `pulumi up` gets the flags a script must add
            const recipe = shellCommands(codeBlocks(readmeSection("Progress, and resuming after a crash").text));
            assert.deepEqual(recipe.map((c) => words(c.command).slice(0, 2).join(" ")), ["pulumi cancel", "pulumi refresh", "pulumi up"], "the README's recipe changed: change this test too");
            let last: CliResult | undefined;
            for (const { command } of recipe) {
                const args = words(command).slice(1);
                if (args[0] === "up") args.push("--yes", "--non-interactive");
                last = await ws.run([...args, "--stack", ws.stack]);
                if (args[0] !== "cancel") assert.equal(last.code, 0, `${command}:\n${last.output}`);
            }
            await upMigrates(last!, "pulumi up after the resume recipe");
        });

        it("the README's \"Pointing it at a real engine\" commands, as written: the CA fetched with curl, the config, a preview verifying the engine with it", async () => {
            const { text: real, line: at } = readmeSection("Pointing it at a real engine");
            const cmds = readmeCommands(real, at);
            assert.deepEqual(cmds.map((c) => c.command.split(/\s+/).slice(0, 4).join(" ")), [
                "pulumi config set ovirt:url", "curl -k -o engine-ca.pem", "openssl x509 -in engine-ca.pem", "pulumi config set ovirt:caFile",
                "pulumi config set ovirt:username", "pulumi config set --secret", "pulumi preview",
            ], "the README's commands changed: change this test with them");
            fs.rmSync(path.join(projectDir, "engine-ca.pem"), { force: true });
            const host = new URL(t.sim.url).host;
            let fingerprint = "";
            const before = await mutating();
            for (const c of cmds) {
                if (/^(curl|openssl) /.test(c.command)) {
                    // a real shell line (quotes, &): run by bash, the simulator's host for the engine's
                    const r = await command("bash", ["-c", c.command.split("engine.example.com").join(host)], projectDir, env);
                    if (c.command.startsWith("openssl")) fingerprint = r.stdout.trim();
                    continue;
                }
                const w = shellWords(c.command);
                if (w[1] === "preview") {
                    const r = await ws.run(["preview", "--stack", ws.stack, "--non-interactive"]);
                    assert.equal(r.code, 0, r.output);
                    continue;
                }
                const secret = w[3] === "--secret";
                const [key, value] = w.slice(secret ? 4 : 3);
                const v = key === "ovirt:url" ? t.sim.url : key === "ovirt:password" ? t.password : value;
                assert.ok(v !== undefined, `${c.command}: no value`);
                await ws.ok(["config", "set", ...(secret ? ["--secret"] : []), "--stack", ws.stack, "--", key, v]);
            }
            assert.equal(fs.readFileSync(path.join(projectDir, "engine-ca.pem"), "utf8").trim(), fs.readFileSync(t.sim.caFile, "utf8").trim(), "curl fetched the engine's CA");
            const expected = crypto.createHash("sha256").update(new crypto.X509Certificate(fs.readFileSync(t.sim.caFile)).raw).digest("hex").toUpperCase().match(/../g)!.join(":");
            assert.equal(fingerprint.split("=")[1]?.toUpperCase(), expected, `openssl printed the CA's SHA-256 fingerprint: ${fingerprint}`);
            assert.equal(await mutating(), before, "the preview changed the engine");
        });
    });
});
