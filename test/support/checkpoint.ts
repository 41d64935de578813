// README "Progress, and resuming after a crash": a SIGKILL can cut the file backend's stack file while the CLI
// rewrites it in place (`failed to load checkpoint: EOF` on the next command); the CLI keeps the version before that
// write as `<stack>.json.bak`, which the README tells the user to copy back. The kill tests follow that recipe.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CliResult, PulumiWorkspace } from "../../scripts/lib/pulumiCli";

/** Whether a CLI result is the cut stack file's error. */
export function cutCheckpoint(r: CliResult): boolean {
    return r.code !== 0 && /failed to load checkpoint/.test(r.output);
}

/** `<backend>/.pulumi/stacks/<project>/<stack>.json.bak` back to `<stack>.json`, as the README says. */
export function restoreCheckpointBackup(ws: PulumiWorkspace): void {
    const stacks = path.join(ws.backendDir, ".pulumi", "stacks");
    const found = fs.readdirSync(stacks).map((p) => path.join(stacks, p, `${ws.stack}.json.bak`)).filter((f) => fs.existsSync(f));
    assert.equal(found.length, 1, `one ${ws.stack}.json.bak under ${stacks}`);
    fs.copyFileSync(found[0], found[0].replace(/\.bak$/, ""));
}

/** The backend's stack files with their sizes, for an error message (what a cut checkpoint left). */
export function stackFiles(ws: PulumiWorkspace): string {
    const stacks = path.join(ws.backendDir, ".pulumi", "stacks");
    if (!fs.existsSync(stacks)) return `(no ${stacks})`;
    const out: string[] = [];
    for (const p of fs.readdirSync(stacks)) {
        for (const f of fs.readdirSync(path.join(stacks, p))) out.push(`${p}/${f}: ${fs.statSync(path.join(stacks, p, f)).size} bytes`);
    }
    return out.join(", ");
}
