// An example of examples/ run as a user runs it (issue 13): a project of its own outside the repository, made by the
// commands of examples/README.md ("Run an example in a project of your own") with the tarball `npm pack` writes, and
// then the commands of the example's own README, literally, in that project. Placeholders get the started engine
// simulator's values; a README command this runner does not know fails the test (change the runner with the README).
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliResult, PulumiWorkspace, ROOT } from "./pulumi";
import { codeBlocks, fileBlock, readmeSection } from "./readme";
import { npm, Packed, packRepository } from "./npm";
import { startTestSimulator, TestSimulator } from "./simulator";

/** The example whose name the examples README's recipe is written for. */
const RECIPE_EXAMPLE = "one-shot";
const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund"];
/** The @pulumi/pulumi projects install: this repository's (the version the CLI here is built from). */
const SDK_VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;

let packing: Promise<{ packed: Packed; dir: string }> | undefined;

/** `npm pack` of this repository, once per test process (the tarball a user installs). */
export function packedOnce(): Promise<Packed> {
    packing ??= (async () => {
        const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-pack-")));
        process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
        return { packed: await packRepository(dir, cliEnv()), dir };
    })();
    return packing.then((p) => p.packed);
}

function cliEnv(): Record<string, string> {
    return {
        ...(process.env as Record<string, string>),
        PATH: `${path.join(ROOT, ".tools", "bin")}:${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
    };
}

export interface ReadmeCommand {
    command: string;
    /** The comment written after the command on its line ("" when none). */
    comment: string;
    /** 1-based line in its README. */
    line: number;
}

/** Every command of a markdown text's bash/sh blocks, in order; `a; b` on one line gives two commands. */
export function readmeCommands(text: string, firstLine = 1): ReadmeCommand[] {
    const out: ReadmeCommand[] = [];
    for (const b of codeBlocks(text, firstLine).filter((x) => x.lang === "bash" || x.lang === "sh")) {
        b.code.split("\n").forEach((raw, k) => {
            const hash = raw.search(/(^|\s)#/);
            const code = hash >= 0 ? raw.slice(0, hash) : raw;
            const comment = hash >= 0 ? raw.slice(hash).replace(/^\s*#\s*/, "").trim() : "";
            // `a; b` and `a && b` are run one after the other (a failing command fails the test anyway)
            for (const part of splitOutsideQuotes(code, ";").flatMap((x) => x.split(" && "))) {
                if (part.trim()) out.push({ command: part.trim(), comment, line: b.line + 1 + k });
            }
        });
    }
    return out;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
    const parts: string[] = [];
    let cur = "";
    let quote = "";
    for (const ch of s) {
        if (quote) {
            if (ch === quote) quote = "";
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === sep) {
            parts.push(cur);
            cur = "";
            continue;
        }
        cur += ch;
    }
    parts.push(cur);
    return parts;
}

/**
 * Words of a command line with the shell's quoting (single and double quotes, no expansions): a `$`, backquote,
 * pipe or redirection is refused, as this runner does not run a shell.
 */
export function shellWords(command: string): string[] {
    const out: string[] = [];
    let cur: string | undefined;
    let quote = "";
    for (const ch of command) {
        if (quote) {
            if (ch === quote) quote = "";
            else cur = (cur ?? "") + ch;
        } else if (ch === "'" || ch === '"') {
            quote = ch;
            cur ??= "";
        } else if (/\s/.test(ch)) {
            if (cur !== undefined) out.push(cur);
            cur = undefined;
        } else if (/[$`|&<>\\]/.test(ch)) {
            throw new Error(`command needs a shell, not supported by this runner: ${command}`);
        } else cur = (cur ?? "") + ch;
    }
    if (quote) throw new Error(`unclosed quote in: ${command}`);
    if (cur !== undefined) out.push(cur);
    return out;
}

/** The commands of `examples/<name>/README.md`. */
export function exampleCommands(name: string): ReadmeCommand[] {
    return readmeCommands(fs.readFileSync(path.join(ROOT, "examples", name, "README.md"), "utf8"));
}

export interface ExampleProject {
    name: string;
    /** The project directory (outside the repository). */
    dir: string;
    ws: PulumiWorkspace;
    packed: Packed;
    close(): void;
}

/**
 * Makes a project for `examples/<name>` by the examples README's recipe: its shell lines with `one-shot` replaced by
 * `name`, `/path/to/pulumi-ovirt-migrate-<v>.tgz` the packed tarball and `/path/to/pulumi-ovirt-migrate` this
 * repository; `Pulumi.yaml` and `tsconfig.json` are the top-level README's blocks ("Use it in your own project").
 */
export async function exampleProject(name: string): Promise<ExampleProject> {
    const packed = await packedOnce();
    const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `ovirt-example-${name}-`)));
    assert.ok(!base.startsWith(ROOT + path.sep), "the project must be outside the repository");
    const env = cliEnv();
    const own = readmeSection("Use it in your own project");
    const ownBlocks = codeBlocks(own.text, own.line);
    const recipe = readmeSection("Run an example in a project of your own", path.join(ROOT, "examples", "README.md"));
    const commands = readmeCommands(recipe.text, recipe.line);
    let cwd = base;
    let ws: PulumiWorkspace | undefined;
    for (const c of commands) {
        const w = shellWords(c.command).map((x) => x.split(RECIPE_EXAMPLE).join(name));
        const where = `examples/README.md line ${c.line}: \`${c.command}\``;
        if (w[0] === "mkdir" && w.length === 2) fs.mkdirSync(path.join(cwd, w[1]));
        else if (w[0] === "cd" && w.length === 2) {
            cwd = path.join(cwd, w[1]);
            // the project's files of the top-level README, before anything runs in the project
            for (const f of ["Pulumi.yaml", "tsconfig.json"]) fs.writeFileSync(path.join(cwd, f), fileBlock(ownBlocks, f).code);
        } else if (w[0] === "npm" && (w[1] === "init" || w[1] === "pkg")) await npm(w.slice(1), cwd, env);
        else if (w[0] === "npm" && w[1] === "install") {
            const args = w.slice(1).map((a) => {
                if (a.endsWith(".tgz")) {
                    assert.equal(path.basename(a), packed.filename, `${where}: the README names another tarball than npm pack writes`);
                    return packed.tarball;
                }
                return a === "@pulumi/pulumi" ? `@pulumi/pulumi@${SDK_VERSION}` : a;
            });
            await npm([...args, ...NPM_FLAGS], cwd, env);
        } else if (w[0] === "cp" && w.length === 3) {
            const prefix = "/path/to/pulumi-ovirt-migrate/";
            assert.ok(w[1].startsWith(prefix), `${where}: copy from the clone (${prefix}…)`);
            const from = path.join(ROOT, w[1].slice(prefix.length));
            fs.copyFileSync(from, path.join(cwd, w[2] === "." ? path.basename(from) : w[2]));
        } else if (w[0] === "pulumi" && w[1] === "stack" && w[2] === "init" && w.length === 4) {
            ws = new PulumiWorkspace(cwd, w[3], {
                // Pulumi's Node.js language host sets this from the runtime option `typescript` (default true); the
                // host built here (tools/language-host) passes its environment through (see userProject.test.ts)
                PULUMI_NODEJS_TYPESCRIPT: "true",
            }, path.join(base, "pulumi"));
            await ws.ok(["stack", "init", w[3]]);
        } else throw new Error(`${where} is not covered by test/support/exampleProject.ts: teach it the new command`);
    }
    assert.ok(ws, "examples/README.md's recipe has no `pulumi stack init`");
    assert.ok(fs.existsSync(path.join(cwd, "index.ts")), "examples/README.md's recipe copies no index.ts");
    return {
        name,
        dir: cwd,
        ws,
        packed,
        close: () => {
            if (!process.env.KEEP_USER_PROJECT) fs.rmSync(base, { recursive: true, force: true });
            else console.log(`      kept ${base}`);
        },
    };
}

/** A simulator started by a README's `npm run sim -- …` line (or by the runner when the README gives none). */
export interface ReadmeEngine {
    t: TestSimulator;
    /** The `--state` directory the README names: paths under it mean the same paths under `t.stateDir`. */
    readmeState?: string;
}

export interface StepResult {
    command: ReadmeCommand;
    /** The CLI's result for pulumi commands and pipeline runs. */
    result?: CliResult;
}

/**
 * Runs an example README's commands in its project, one at a time (so that the test can assert between them).
 * `pulumi config set <ns>:url|caFile|password` get the values of the engine that namespace stands for (`ovirt` and
 * `engineA`: the first engine started, `engineB`: the second); a value under a README `--state` directory is moved to
 * that engine's state directory; every other value is used as written.
 */
export interface ReadmeRunnerOptions {
    /** Other example projects by name (a pipeline's `PROJECT_DIR=examples/<name>`). */
    projects?: Record<string, ExampleProject>;
    /**
     * Values for config keys whose README value stands for something of the test's environment (a vCenter's host, a
     * VM's name): a README `config set` of a key not named here (and not an engine's url/caFile/password) is used as
     * written.
     */
    values?: Record<string, string>;
    /**
     * For a README line that needs a shell (`$(…)`): the line to run with bash in the project instead (the same line
     * with the test environment's host names), or undefined to refuse it.
     */
    shellLine?: (command: string) => string | undefined;
}

export class ReadmeRunner {
    readonly engines: ReadmeEngine[] = [];

    constructor(readonly project: ExampleProject, readonly opts: ReadmeRunnerOptions = {}) {}

    get ws(): PulumiWorkspace {
        return this.project.ws;
    }

    /** The engine a config namespace stands for; the default inventory's simulator is started on first use. */
    async engine(namespace: string): Promise<TestSimulator> {
        const index = namespace === "engineB" ? 1 : 0;
        while (this.engines.length <= index) this.engines.push({ t: await startTestSimulator({ password: `pw-${Date.now().toString(36)}` }) });
        return this.engines[index].t;
    }

    private relocate(value: string): string {
        for (const e of this.engines) {
            if (e.readmeState && (value === e.readmeState || value.startsWith(e.readmeState + "/"))) return e.t.stateDir + value.slice(e.readmeState.length);
        }
        return value;
    }

    async step(c: ReadmeCommand): Promise<StepResult> {
        const where = `line ${c.line}: \`${c.command}\``;
        if (c.command.includes("$(")) {
            const line = this.opts.shellLine?.(c.command);
            assert.ok(line, `README ${where}: needs a shell, and the test gave no line for it`);
            return { command: c, result: await runScript("bash", ["-c", line], this.project.dir, this.ws.env) };
        }
        const assignments: Record<string, string> = {};
        let w = shellWords(c.command);
        while (w.length && /^[A-Z_]+=/.test(w[0])) {
            const [k, ...v] = w[0].split("=");
            assignments[k] = v.join("=");
            w = w.slice(1);
        }
        if (w[0] === "npm" && w[1] === "run" && w[2] === "sim" && w[3] === "--") {
            const opt = (flag: string) => {
                const i = w.indexOf(flag);
                return i >= 0 ? w[i + 1] : undefined;
            };
            const inventory = opt("--inventory");
            const t = await startTestSimulator({
                password: opt("--password"),
                inventory: inventory ? path.resolve(ROOT, inventory) : undefined,
            });
            this.engines.push({ t, readmeState: opt("--state") });
            return { command: c };
        }
        if (w[0] === "pulumi" && w[1] === "config" && w[2] === "set") {
            const secret = w.includes("--secret");
            const p = w.includes("--path");
            const [key, value] = w.slice(3).filter((x) => x !== "--secret" && x !== "--path");
            assert.ok(key && value !== undefined, `${where}: a key and a value`);
            const [ns, field] = key.split(":");
            let v = this.opts.values?.[key] ?? this.relocate(value);
            if (!(key in (this.opts.values ?? {})) && ["url", "caFile", "password"].includes(field) && ["ovirt", "engineA", "engineB"].includes(ns)) {
                const t = await this.engine(ns);
                if (field === "url") v = t.sim.url;
                else if (field === "password") {
                    assert.ok(secret, `${where}: the password must be set with --secret`);
                    v = t.password;
                } else if (!path.isAbsolute(value)) fs.writeFileSync(path.join(this.project.dir, value), fs.readFileSync(t.sim.caFile));
                else if (v === value) v = t.sim.caFile; // a placeholder path (not under a started engine's state)
            }
            await this.ws.ok(["config", "set", ...(secret ? ["--secret"] : []), ...(p ? ["--path"] : []), "--stack", this.ws.stack, "--", key, v]);
            return { command: c };
        }
        if (w[0] === "pulumi" && (w[1] === "preview" || w[1] === "up") && w.length === 2) {
            return { command: c, result: w[1] === "up" ? await this.ws.up() : await this.ws.preview() };
        }
        if (w[0] === "pulumi" && ["cancel", "refresh", "destroy"].includes(w[1])) {
            return { command: c, result: await this.ws.run([...w.slice(1), "--stack", this.ws.stack, "--non-interactive"]) };
        }
        if (w[0] === "pulumi" && w[1] === "stack" && w[2] === "output" && w.length === 4) {
            const r = await this.ws.ok(["stack", "output", w[3], "--stack", this.ws.stack]);
            if (c.comment) assert.equal(r.stdout.trim(), c.comment, `${where}: the README says ${c.comment}`);
            return { command: c, result: r };
        }
        if (w[0].endsWith("pipeline.sh")) {
            // PROJECT_DIR names an example: its project here; STACK is this runner's stack
            const project = assignments.PROJECT_DIR ? this.opts.projects?.[path.basename(assignments.PROJECT_DIR)] : this.project;
            assert.ok(project, `${where}: no project made for ${assignments.PROJECT_DIR}`);
            return { command: c, result: await runScript(path.join(ROOT, w[0]), w.slice(1), project.dir, { ...project.ws.env, ...assignments, STACK: project.ws.stack, PROJECT_DIR: project.dir }) };
        }
        throw new Error(`README ${where} is not covered by test/support/exampleProject.ts: teach it the new command`);
    }

    async close(): Promise<void> {
        for (const e of this.engines) await e.t.close();
    }
}

function runScript(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let output = "";
        child.stdout.on("data", (b) => { stdout += b; output += b; });
        child.stderr.on("data", (b) => { stderr += b; output += b; });
        child.on("error", reject);
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, output, ms: Date.now() - t0 }));
    });
}
