// README "Progress, and resuming after a crash": a kill can leave the file backend's `<stack>.json.attrs` empty
// (gocloud fileblob rewrites it in place), after which every command fails with `failed to load checkpoint: EOF`;
// deleting it is the fix the README gives. Checked with the real CLI on a real stack: the claim, and the repair the
// kill tests apply (test/support/checkpoint.ts).
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiWorkspace, ROOT } from "../support/pulumi";
import { cutCheckpoint, repairCutCheckpoint } from "../support/checkpoint";

describe("reliability: a stack file cut by a kill, repaired as the README says (real CLI)", function () {
    this.timeout(120_000);
    let base: string;
    let ws: PulumiWorkspace;
    before(async () => {
        base = fs.mkdtempSync(path.join(os.tmpdir(), "cut-checkpoint-"));
        ws = new PulumiWorkspace(ROOT, `cut-${crypto.randomBytes(3).toString("hex")}`, {}, base);
        await ws.init({});
        // a checkpoint of this stack on disk (an import writes it as any update does)
        const state = await ws.exportState();
        const file = path.join(base, "state.json");
        fs.writeFileSync(file, JSON.stringify(state));
        await ws.ok(["stack", "import", "--stack", ws.stack, "--file", file]);
    });
    after(() => {
        fs.rmSync(path.join(ROOT, `Pulumi.${ws.stack}.yaml`), { force: true });
        fs.rmSync(base, { recursive: true, force: true });
    });

    it("an empty <stack>.json.attrs fails every command with 'failed to load checkpoint: EOF'; deleting it (the README's step) repairs the stack", async () => {
        const stacks = path.join(ws.backendDir, ".pulumi", "stacks");
        const [attrs] = fs.readdirSync(stacks).map((p) => path.join(stacks, p, `${ws.stack}.json.attrs`)).filter((f) => fs.existsSync(f));
        assert.ok(attrs, `no ${ws.stack}.json.attrs under ${stacks}`);
        fs.writeFileSync(attrs, ""); // what a kill between fileblob's os.Create and its JSON encode leaves
        const broken = await ws.run(["stack", "export", "--stack", ws.stack]);
        assert.ok(cutCheckpoint(broken), broken.output);
        assert.match(broken.output, /failed to load checkpoint: EOF/);
        assert.deepEqual(repairCutCheckpoint(ws), [`removed the cut ${ws.stack}.json.attrs`]);
        const state = await ws.exportState();
        assert.equal(state.version, 3);
        assert.deepEqual(repairCutCheckpoint(ws), [], "nothing more to repair");
    });
});
