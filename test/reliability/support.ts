// Support for the reliability suites: the real Pulumi CLI killed at a point chosen by polling the engine
// simulator's admin API, Pulumi's pending-operation handling after a kill, and engine-state assertions
// (exactly one copy of every migrated VM/template in the target, checksums equal to the source).
import * as assert from "assert";
import { CliResult, PulumiWorkspace } from "../support/pulumi";
import { DisksReport, disks, inDc, sums } from "../support/e2e";
import { TestSimulator } from "../support/simulator";
import { cutCheckpoint, repairCutCheckpoint, stackFiles } from "../support/checkpoint";

export interface KillRun extends CliResult {
    /** True when the trigger fired and the CLI was killed (false: it finished first). */
    killed: boolean;
    /** Processes of the killed tree still alive 1 s after the kill (should be none). */
    survivors: number[];
    /** Command lines of the processes killed besides the CLI. */
    killedTree: string[];
}

/**
 * Runs `pulumi <args>` and SIGKILLs its whole process tree (CLI, language host, dynamic-provider host) as soon
 * as `trigger(output)` answers true; the trigger is evaluated on every output chunk and every `everyMs`.
 */
export async function runAndKill(
    ws: PulumiWorkspace,
    args: string[],
    trigger: (output: string) => Promise<boolean> | boolean,
    opts: { everyMs?: number; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<KillRun> {
    const r = await ws.run(args, {
        killWhen: trigger,
        killPollMs: opts.everyMs ?? 50,
        killSignal: "SIGKILL",
        killTree: true,
        timeoutMs: opts.timeoutMs ?? 10 * 60_000,
        env: opts.env,
    });
    return { ...r, killed: r.killed!, survivors: r.survivors!, killedTree: r.killedTree! };
}

/** Pending operations (creating/updating/deleting) the killed update left in the stack's state. */
export async function pendingOperations(ws: PulumiWorkspace): Promise<Array<{ type: string; urn: string }>> {
    const state = await ws.exportState();
    return (state.deployment?.pending_operations ?? []).map((p: any) => ({ type: p.type, urn: p.resource?.urn }));
}

/**
 * What Pulumi v3.260 with the file (self-managed) backend requires after a killed update (found by trying it):
 * 1. the killed CLI leaves its lock file under `.pulumi/locks/`: every later command fails with "the stack is
 *    currently locked by 1 lock(s) ... delete the lock file with `pulumi cancel`"; `pulumi cancel --yes` removes it
 *    (on the file backend `cancel` only deletes the lock);
 * 2. the checkpoint keeps `pending_operations` (type `creating`) for resources whose create was in flight. A plain
 *    `pulumi up` only warns "Attempting to deploy or update resources with N pending operations" and *keeps* them in
 *    the state afterwards; `pulumi refresh --clear-pending-creates --yes` drops them (and reads every other resource
 *    back from the engine). The next `up` creates the dropped resources again, and our creates adopt what the
 *    killed run left in the engine (a running or finished job found by its stable correlation id, an export or
 *    import already there);
 * 3. a kill while the CLI wrote the stack can leave fileblob's metadata file `<stack>.json.attrs` empty (`failed to
 *    load checkpoint: EOF` on every later command): the README's repair deletes it (test/support/checkpoint.ts).
 */
export async function recoverAfterKill(ws: PulumiWorkspace): Promise<{ cancel: CliResult; refresh: CliResult }> {
    let cancel = await ws.run(["cancel", "--yes", "--stack", ws.stack]);
    const refreshArgs = ["refresh", "--stack", ws.stack, "--yes", "--non-interactive", "--clear-pending-creates"];
    let refresh = await ws.run(refreshArgs);
    if (cutCheckpoint(refresh)) {
        // 3. the kill cut the stack's metadata file mid-write: the README's repair, then the recipe again
        assert.notDeepEqual(repairCutCheckpoint(ws), [], `the checkpoint error, and no cut stack file: ${refresh.output.slice(-2000)}`);
        cancel = await ws.run(["cancel", "--yes", "--stack", ws.stack]);
        refresh = await ws.run(refreshArgs);
    }
    if (refresh.code !== 0) throw new Error(`pulumi ${refreshArgs.join(" ")} exited ${refresh.code} (stack files: ${stackFiles(ws)}):\n${refresh.output.slice(-3000)}`);
    return { cancel, refresh };
}

/** Admin-API probes used as kill triggers. */
export async function jobs(t: TestSimulator): Promise<Array<{ kind: string; status: string; bytes: number; description: string; startMs: number }>> {
    return (await t.admin("GET", "stats")).jobs;
}

export async function exportDomainState(t: TestSimulator, name = "export1"): Promise<{ dataCenter?: string; status: string; vms: number; templates: number }> {
    const d = await disks(t);
    const ed = (d.exportDomains as any[]).find((x) => x.name === name);
    return { dataCenter: ed?.dataCenter, status: ed?.status, vms: ed?.vms.length ?? 0, templates: ed?.templates.length ?? 0 };
}

export async function requestLog(t: TestSimulator, since = 0): Promise<Array<{ seq: number; method: string; path: string; status: number }>> {
    return (await t.admin("GET", `requests?since=${since}`)).log;
}

/**
 * The engine holds exactly one copy of each migrated VM/template in `targetDc` (same name, or name + suffix for
 * a clone), every disk checksum equal to the source's, and the source untouched.
 */
export function assertMigrated(before: DisksReport, after: DisksReport, vms: string[], templates: string[], sourceDc = "dc-source", targetDc = "dc-target"): void {
    const check = (kind: "vms" | "templates", name: string) => {
        const src = inDc(before[kind], sourceDc, name);
        assert.strictEqual(src.length, 1, `${kind} ${name}: not exactly one in the source before`);
        const srcAfter = inDc(after[kind], sourceDc, name);
        assert.strictEqual(srcAfter.length, 1, `${kind} ${name}: the source copy is gone or duplicated`);
        assert.strictEqual(sums(srcAfter[0]), sums(src[0]), `${kind} ${name}: the source disks changed`);
        const copies = after[kind].filter((e) => e.dataCenter === targetDc && (e.name === name || e.name.startsWith(`${name}-`)));
        assert.strictEqual(copies.length, 1, `${kind} ${name}: ${copies.length} copies in ${targetDc} (${copies.map((c) => c.name).join(", ")})`);
        assert.ok(copies[0].disks.length > 0, `${kind} ${name}: the target copy has no disks`);
        assert.strictEqual(sums(copies[0]), sums(src[0]), `${kind} ${name}: target disk checksums differ from the source`);
    };
    for (const t of templates) check("templates", t);
    for (const v of vms) check("vms", v);
    // nothing else appeared in the target
    const expected = vms.length + templates.length;
    const inTarget = [...after.vms, ...after.templates].filter((e) => e.dataCenter === targetDc).length;
    const inTargetBefore = [...before.vms, ...before.templates].filter((e) => e.dataCenter === targetDc).length;
    assert.strictEqual(inTarget - inTargetBefore, expected, `target holds ${inTarget - inTargetBefore} new entities, expected ${expected}`);
}
