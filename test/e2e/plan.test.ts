// The migration plan with the real Pulumi CLI (issue 14): `pulumi preview` of the default migration shows ONE plan
// table under the Migration and writes the same plan as Markdown to OVIRT_MIGRATE_PLAN_FILE, with no mutating
// request; `pulumi up` shows the whole move's progress on the Migration's line and a summary at the end; a preview
// after the up says every entity is already imported.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../support/pulumi";
import { E2E, startE2E } from "../support/e2e";

const VMS = ["web-01", "db-01", "app-01", "snap-01", "thin-01"];

describe("e2e: the migration plan at preview and the progress on up (real CLI)", function () {
    this.timeout(10 * 60_000);
    let e: E2E;
    let dir: string;
    const stack = `e2e-plan-${crypto.randomBytes(3).toString("hex")}`;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-e2e-"));
        e = await startE2E(ROOT, stack, { "migration:vms": JSON.stringify(VMS) });
    });
    after(async () => {
        await e?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("preview: one plan table under the Migration, the same plan as Markdown in the file, nothing changed", async () => {
        const file = path.join(dir, "plan.md");
        const before = await e.mutating();
        const r = await e.ws.preview([], { env: { OVIRT_MIGRATE_PLAN_FILE: file } });
        assert.equal(r.code, 0, r.output);
        assert.equal(await e.mutating(), before, "the plan reads only");
        // one table for the migration, not one per resource
        assert.equal(r.output.match(/Migration plan main: dc-source -> dc-target/g)?.length, 1, r.output);
        const rowOf = (name: string) => r.output.split("\n").find((l) => new RegExp(`^\\s*VM ${name}\\s`).test(l)) ?? "";
        // within one engine every import is a clone; the names are free in dc-target, so they are kept
        assert.match(rowOf("web-01"), /web-01 \(clone\)\s+cl-target \/ data-target\s+1: 32\.0 MiB \/ 16\.0 MiB\s+none/, r.output);
        assert.match(rowOf("snap-01"), /2, collapsed on import/, r.output);
        assert.match(rowOf("thin-01"), /rhel9-base \(not needed: collapsed\)/, r.output);
        assert.match(rowOf("db-01"), /2: 144\.0 MiB \/ 96\.0 MiB/, r.output);
        assert.match(r.output, /export domain export1: needs [\d.]+ MiB, [\d.]+ GiB free -> fits/, r.output);
        assert.match(r.output, /target data-target: needs [\d.]+ MiB, [\d.]+ GiB free -> fits/, r.output);
        assert.match(r.output, /2 waves of at most 4 \(concurrency\)/, r.output);
        assert.match(r.output, /VM snap-01 loses its 2 snapshots/, r.output);
        // `--diff` shows no connection block under each resource: each child names an engine of the Migration's
        // provider (one secret, `engines`), and the plan names the engine once
        assert.doesNotMatch(r.output, /^\s*url\s*: "https:/m, r.output);
        assert.equal(r.output.match(/^\s*engines: \[secret\]$/gm)?.length, 1, r.output);
        assert.ok((r.output.match(/^\s*providerEngine: "(source|target)"$/gm)?.length ?? 0) >= VMS.length * 2, r.output);

        const md = fs.readFileSync(file, "utf8");
        assert.match(md, /^### Migration plan `main`/);
        assert.match(md, /\| VM web-01 \| web-01 \(clone\) \| cl-target \/ data-target \|/);
        assert.match(md, /\| VM snap-01 \|.*\| 2, collapsed on import \|/);
        assert.match(md, /\*\*Space:\*\*/);
    });

    it("up: the Migration's line shows the move's progress and ends with a summary; a later preview says it is done", async () => {
        const progressFile = path.join(dir, "progress.jsonl");
        const r = await e.ws.up([], { env: { OVIRT_MIGRATE_PROGRESS_FILE: progressFile } });
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /migration main: done: 5 VMs and 1 template moved, [\d.]+ MiB copied in \d+/, r.output);
        // the table once (the preview `up` runs first), then one summary line from the deployment itself
        assert.equal(r.output.match(/^\s*in the target\s+cluster \/ storage/gm)?.length, 1, r.output);
        assert.match(r.output, /Migration plan main: dc-source -> dc-target .*; 6 entities to copy: [\d.]+ MiB exported, [\d.]+ MiB imported; estimate: /, r.output);
        const lines = fs.readFileSync(progressFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
        const onMigration = lines.filter((l) => typeof l.urn === "string" && l.urn.endsWith("ovirt:migrate:Migration::main"));
        const live = onMigration.filter((l) => l.ephemeral && /^migration main: steps \d+\/\d+ · /.test(l.message));
        assert.ok(live.length >= 1, JSON.stringify(onMigration, null, 1));
        assert.ok(live.some((l) => / of [\d.]+ MiB \(\d+%\)/.test(l.message)), JSON.stringify(live, null, 1));

        const file = path.join(dir, "after.md");
        const p = await e.ws.preview([], { env: { OVIRT_MIGRATE_PLAN_FILE: file } });
        assert.equal(p.code, 0, p.output);
        const md = fs.readFileSync(file, "utf8");
        for (const vm of VMS) assert.match(md, new RegExp(`\\| VM ${vm} \\| ${vm} \\(already imported\\) \\|`), md);
        assert.match(md, /0 entities to copy/, md);
    });
});
