// npm as a user runs it: `npm pack` of this repository (its `prepare` script builds the package) and installs into a
// project directory outside the repository.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./pulumi";

export interface NpmResult {
    code: number | null;
    output: string;
    stdout: string;
}

/** Runs `npm <args>` in `cwd`; throws with the whole output when it fails. */
export function npm(args: string[], cwd: string, env?: Record<string, string>, timeoutMs?: number): Promise<NpmResult> {
    return command("npm", args, cwd, env, timeoutMs);
}

/** Runs `file <args>` in `cwd` (no shell); throws with the whole output when it fails. */
export function command(
    file: string,
    args: string[],
    cwd: string,
    env: Record<string, string> = process.env as Record<string, string>,
    timeoutMs = 5 * 60_000,
): Promise<NpmResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        let stdout = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (b) => {
            stdout += b;
            output += b;
        });
        child.stderr.on("data", (b) => (output += b));
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            if (code !== 0) reject(new Error(`${file} ${args.join(" ")} (in ${cwd}) exited ${code}:\n${output}`));
            else resolve({ code, output, stdout });
        });
    });
}

export interface PackedFile {
    path: string;
    size: number;
}
export interface Packed {
    /** Absolute path of the tarball. */
    tarball: string;
    filename: string;
    name: string;
    version: string;
    /** Size of the tarball (bytes). */
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: PackedFile[];
}

/** `npm pack` of this repository into `destination` (runs `prepare`, which compiles the package). */
export async function packRepository(destination: string, env?: Record<string, string>): Promise<Packed> {
    const r = await npm(["pack", "--json", "--pack-destination", destination], ROOT, env);
    // lifecycle output goes to stderr with --json; stdout is the JSON array
    const [info] = JSON.parse(r.stdout);
    const tarball = path.join(destination, info.filename);
    if (!fs.existsSync(tarball)) throw new Error(`npm pack wrote no ${tarball}:\n${r.output}`);
    return {
        tarball,
        filename: info.filename,
        name: info.name,
        version: info.version,
        size: info.size,
        unpackedSize: info.unpackedSize,
        entryCount: info.entryCount,
        files: info.files.map((f: PackedFile) => ({ path: f.path, size: f.size })),
    };
}
