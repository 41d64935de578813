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
}

export interface RunOptions {
    /** Kill the CLI (and its process group) with this signal when `killWhen` matches the output so far. */
    killWhen?: (output: string) => boolean;
    killSignal?: NodeJS.Signals;
    env?: Record<string, string>;
    timeoutMs?: number;
    /** Also copy the CLI's output to this process's stdout as it arrives. */
    echo?: boolean;
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
            const kill = (sig: NodeJS.Signals) => {
                if (killed || child.pid === undefined) return;
                killed = true;
                try {
                    process.kill(-child.pid, sig);
                } catch {
                    /* already gone */
                }
            };
            const timer = setTimeout(() => kill("SIGKILL"), opts.timeoutMs ?? 15 * 60_000);
            const onData = (which: "out" | "err") => (b: Buffer) => {
                const s = b.toString();
                if (which === "out") stdout += s;
                else stderr += s;
                output += s;
                if (opts.echo) process.stdout.write(s);
                if (opts.killWhen && opts.killWhen(output)) kill(opts.killSignal ?? "SIGKILL");
            };
            child.stdout.on("data", onData("out"));
            child.stderr.on("data", onData("err"));
            child.on("error", reject);
            child.on("close", (code, signal) => {
                clearTimeout(timer);
                resolve({ code, signal, stdout, stderr, output, ms: Date.now() - t0 });
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

    up(extra: string[] = [], opts?: RunOptions) {
        return this.run(["up", "--yes", "--stack", this.stack, "--non-interactive", "--skip-preview", ...extra], opts);
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
