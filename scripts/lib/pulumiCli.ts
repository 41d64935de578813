// Runs the real Pulumi CLI (built by scripts/toolchain.sh into .tools/bin) on a project directory, with its own
// PULUMI_HOME and file backend, fully offline. Used by the demo, the examples' tests and the end-to-end tests.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..", "..");  // dist/scripts/lib -> repo root
export const PULUMI_BIN = path.join(ROOT, ".tools", "bin", "pulumi");

export interface CliResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr together, in arrival order. */
    output: string;
    ms: number;
    /**
     * With `killWhen` or `killTree`: true when the CLI was killed, by the trigger or the timeout (false: it
     * finished first).
     */
    killed?: boolean;
    /** With `killTree`: processes of the killed tree still alive 1 s after the kill (should be none). */
    survivors?: number[];
    /** With `killTree`: command lines of the processes killed besides the CLI. */
    killedTree?: string[];
}

export interface RunOptions {
    /**
     * Kill the CLI with `killSignal` when `killWhen` answers true for the output so far. Evaluated on every output
     * chunk (and every `killPollMs` when set); an asynchronous answer is awaited with at most one check in flight,
     * and a check that throws or rejects is not a trigger.
     */
    killWhen?: (output: string) => boolean | Promise<boolean>;
    /**
     * Also evaluate `killWhen` every this many ms, not only when output arrives: for triggers that probe something
     * other than the output (the engine's state), which can change while the CLI prints nothing.
     */
    killPollMs?: number;
    killSignal?: NodeJS.Signals;
    /**
     * Kill (on the trigger or the timeout) the CLI and every descendant of it found in /proc, not just the CLI's
     * process group, and report `survivors` and `killedTree`.
     */
    killTree?: boolean;
    env?: Record<string, string>;
    timeoutMs?: number;
    /** Also copy the CLI's output to this process's stdout as it arrives. */
    echo?: boolean;
}

export interface UpOptions extends RunOptions {
    /**
     * Add `--skip-preview`. Off by default: users run `pulumi up` with its preview, and a test that skips it does
     * not test what they run.
     */
    skipPreview?: boolean;
}

/** A Pulumi project directory plus an isolated CLI environment (home, backend, passphrase). */
export class PulumiWorkspace {
    readonly home: string;
    readonly backendDir: string;
    readonly env: Record<string, string>;

    /** `stateDir` holds PULUMI_HOME and the file backend; a new temporary directory when absent. */
    constructor(
        readonly projectDir: string,
        readonly stack = "test",
        extraEnv: Record<string, string> = {},
        stateDir?: string,
        passphrase = "e2e-passphrase",
    ) {
        const base = stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-e2e-"));
        this.home = path.join(base, "home");
        this.backendDir = path.join(base, "backend");
        fs.mkdirSync(this.home, { recursive: true });
        fs.mkdirSync(this.backendDir, { recursive: true });
        this.env = {
            ...(process.env as Record<string, string>),
            PATH: `${path.join(ROOT, ".tools", "bin")}:${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}`,
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            NO_COLOR: "1",
            ...extraEnv,
        };
    }

    /** Runs `pulumi <args>` in the project directory, with `--stack` added for stack-scoped commands. */
    run(args: string[], opts: RunOptions = {}): Promise<CliResult> {
        const t0 = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn(PULUMI_BIN, args, {
                cwd: this.projectDir,
                env: { ...this.env, ...(opts.env ?? {}) },
                stdio: ["ignore", "pipe", "pipe"],
                detached: true,
            });
            let stdout = "";
            let stderr = "";
            let output = "";
            let killed = false;
            let done = false;
            let checking = false;
            let tree: number[] = [];
            let killedTree: string[] = [];
            const kill = (sig: NodeJS.Signals) => {
                // after `close` the pid may already belong to another process
                if (killed || done || child.pid === undefined) return;
                killed = true;
                if (!opts.killTree) {
                    try {
                        process.kill(-child.pid, sig);
                    } catch {
                        /* already gone */
                    }
                    return;
                }
                // The CLI starts its plugins (language host, dynamic-provider host) in process groups of their own:
                // killing only the CLI's group leaves them running (and finishing their operations). A killed CI job
                // loses the whole tree, so collect every descendant first, then signal them all at once.
                tree = descendants(child.pid);
                killedTree = tree.map(cmdline);
                for (const pid of [child.pid, ...tree]) {
                    try {
                        process.kill(pid, sig);
                    } catch {
                        /* gone */
                    }
                }
            };
            const check = () => {
                if (!opts.killWhen || checking || killed || done) return;
                const sig = opts.killSignal ?? "SIGKILL";
                let verdict: boolean | Promise<boolean>;
                try {
                    verdict = opts.killWhen(output);
                } catch {
                    return; // a failed probe is not a trigger
                }
                if (typeof verdict === "boolean") {
                    if (verdict) kill(sig);
                    return;
                }
                checking = true;
                verdict
                    .then((yes) => { if (yes) kill(sig); }, () => { /* a failed probe is not a trigger */ })
                    .finally(() => { checking = false; });
            };
            const timer = setTimeout(() => kill("SIGKILL"), opts.timeoutMs ?? 15 * 60_000);
            const poll = opts.killWhen && opts.killPollMs ? setInterval(check, opts.killPollMs) : undefined;
            const onData = (which: "out" | "err") => (b: Buffer) => {
                const s = b.toString();
                if (which === "out") stdout += s;
                else stderr += s;
                output += s;
                if (opts.echo) process.stdout.write(s);
                check();
            };
            child.stdout.on("data", onData("out"));
            child.stderr.on("data", onData("err"));
            child.on("error", reject);
            child.on("close", async (code, signal) => {
                done = true;
                clearTimeout(timer);
                clearInterval(poll);
                const r: CliResult = { code, signal, stdout, stderr, output, ms: Date.now() - t0 };
                if (opts.killWhen || opts.killTree) r.killed = killed;
                if (opts.killTree) {
                    r.survivors = [];
                    r.killedTree = killedTree;
                    if (killed && child.pid !== undefined) {
                        await new Promise((res) => setTimeout(res, 1000));
                        r.survivors = [child.pid, ...tree].filter(alive);
                    }
                }
                resolve(r);
            });
        });
    }

    /** Runs a command and throws with its whole output when it exits non-zero. */
    async ok(args: string[], opts: RunOptions = {}): Promise<CliResult> {
        const r = await this.run(args, opts);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
        return r;
    }

    /** Creates the stack (or selects it when it exists) and sets its config. */
    async init(config: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
        const ls = await this.run(["stack", "select", this.stack]);
        if (ls.code !== 0) await this.ok(["stack", "init", this.stack]);
        for (const [k, v] of Object.entries(config)) await this.ok(["config", "set", "--stack", this.stack, "--", k, v]);
        for (const [k, v] of Object.entries(secrets)) {
            await this.ok(["config", "set", "--secret", "--stack", this.stack, "--", k, v]);
        }
    }

    preview(extra: string[] = [], opts?: RunOptions) {
        return this.run(["preview", "--stack", this.stack, "--non-interactive", "--diff", ...extra], opts);
    }

    /**
     * `pulumi up --yes`, with its preview, as users run it (the preview runs the program and every resource's
     * `check`/`diff` before anything changes). `skipPreview: true` adds `--skip-preview`: only with a reason written
     * next to the call.
     */
    up(extra: string[] = [], opts: UpOptions = {}) {
        const { skipPreview, ...runOpts } = opts;
        const args = ["up", "--yes", "--stack", this.stack, "--non-interactive", ...(skipPreview ? ["--skip-preview"] : []), ...extra];
        return this.run(args, runOpts);
    }

    /** `pulumi destroy --yes`, with its preview, as users run it. */
    destroy(extra: string[] = [], opts: RunOptions = {}) {
        return this.run(["destroy", "--yes", "--stack", this.stack, "--non-interactive", ...extra], opts);
    }

    /** The stack's exported state (deployment JSON). */
    async exportState(): Promise<any> {
        const r = await this.ok(["stack", "export", "--stack", this.stack]);
        return JSON.parse(r.stdout);
    }

    /** Stack outputs as JSON (secrets shown only when asked). */
    async outputs(showSecrets = false): Promise<any> {
        const args = ["stack", "output", "--json", "--stack", this.stack];
        if (showSecrets) args.push("--show-secrets");
        const r = await this.ok(args);
        return JSON.parse(r.stdout);
    }
}

function procStat(pid: number | string): { state: string; ppid: number } | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { state: fields[0], ppid: Number(fields[1]) };
    } catch {
        return undefined;
    }
}

function alive(pid: number): boolean {
    const s = procStat(pid);
    return !!s && s.state !== "Z";
}

function cmdline(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
        return "?";
    }
}

/** Every live descendant of `root` (from /proc). */
export function descendants(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        const s = procStat(d);
        if (!s) continue;
        children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(d)]);
    }
    const out: number[] = [];
    const walk = (p: number) => {
        for (const c of children.get(p) ?? []) {
            out.push(c);
            walk(c);
        }
    };
    walk(root);
    return out;
}

/** Parses the "Resources:" block of `pulumi up`/`preview` output into counts by change kind. */
export function changeCounts(output: string): Record<string, number> {
    const counts: Record<string, number> = {};
    const block = output.split(/\nResources:\n/).pop() ?? "";
    for (const line of block.split("\n")) {
        const m = /^\s+[+~\-±]*\s*(\d+) (to create|created|to update|updated|to delete|deleted|to replace|replaced|unchanged)/.exec(line);
        if (m) counts[m[2].replace(/^to /, "")] = Number(m[1]);
    }
    return counts;
}
