// README "Progress, and resuming after a crash": a SIGKILL can leave the file backend unable to load the stack
// (`failed to load checkpoint: EOF` on the next command). Pulumi writes `<stack>.json` atomically (gocloud fileblob:
// a temp file renamed into place), but fileblob writes its metadata side file `<stack>.json.attrs` in place
// (attrs.go `setAttrs`: os.Create, then a JSON encode): a kill between the two leaves it empty, and every read of
// the stack then fails decoding it. fileblob treats a missing `.attrs` as default metadata, so the README's fix is
// to delete a cut one (and, should `<stack>.json` itself be empty, to copy `<stack>.json.bak` over it). The kill
// tests follow that recipe.
import * as fs from "node:fs";
import * as path from "node:path";
import type { CliResult, PulumiWorkspace } from "../../scripts/lib/pulumiCli";

/** Whether a CLI result is the cut stack file's error. */
export function cutCheckpoint(r: CliResult): boolean {
    return r.code !== 0 && /failed to load checkpoint/.test(r.output);
}

/** The stack's files under `<backend>/.pulumi/stacks/<project>/`. */
function stackDirs(ws: PulumiWorkspace): string[] {
    const stacks = path.join(ws.backendDir, ".pulumi", "stacks");
    return fs.existsSync(stacks) ? fs.readdirSync(stacks).map((p) => path.join(stacks, p)) : [];
}

const parses = (f: string): boolean => {
    try {
        JSON.parse(fs.readFileSync(f, "utf8"));
        return true;
    } catch {
        return false;
    }
};

/**
 * The README's repair: a cut `<stack>.json.attrs` deleted, an empty `<stack>.json` replaced by `<stack>.json.bak`.
 * Answers what it did (empty when nothing was cut).
 */
export function repairCutCheckpoint(ws: PulumiWorkspace): string[] {
    const done: string[] = [];
    for (const dir of stackDirs(ws)) {
        const json = path.join(dir, `${ws.stack}.json`);
        const attrs = `${json}.attrs`;
        if (fs.existsSync(attrs) && !parses(attrs)) {
            fs.rmSync(attrs);
            done.push(`removed the cut ${path.basename(attrs)}`);
        }
        if (fs.existsSync(json) && !parses(json) && fs.existsSync(`${json}.bak`)) {
            fs.copyFileSync(`${json}.bak`, json);
            done.push(`${path.basename(json)}.bak copied over the cut ${path.basename(json)}`);
        }
    }
    return done;
}

/** The backend's stack files with their sizes, for an error message (what a cut checkpoint left). */
export function stackFiles(ws: PulumiWorkspace): string {
    const out: string[] = [];
    for (const dir of stackDirs(ws)) for (const f of fs.readdirSync(dir)) out.push(`${path.basename(dir)}/${f}: ${fs.statSync(path.join(dir, f)).size} bytes`);
    return out.join(", ") || "(none)";
}
