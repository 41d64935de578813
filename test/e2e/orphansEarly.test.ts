// `pulumi up` SIGKILLed at any moment — in its first second, before the dynamic-provider host has loaded any of our
// code, as it starts, or in the middle of an export — leaves no process behind: 10 s after the kill, none of the
// processes the CLI started (language hosts, the program, the dynamic-provider host, the shells in between) is alive.
// Issue 13: a provider started just before the kill stayed alive 107 s, because its watchdog started only when the
// provider code was first loaded. Now tools/language-host/dynamic-provider.js (our `pulumi-resource-pulumi-nodejs`)
// starts it with the process, and the language host and the program start theirs before loading anything.
import { strict as assert } from "assert";
import * as fs from "fs";
import { ROOT } from "../support/pulumi";
import { E2E, startE2E } from "../support/e2e";

interface Proc {
    pid: number;
    start: string;
    cmd: string;
}

/** Live processes carrying this workspace's PULUMI_HOME (the CLI and everything it started, even reparented). */
function processesOf(home: string): Proc[] {
    const out: Proc[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
        try {
            const env = fs.readFileSync(`/proc/${d}/environ`, "utf8");
            if (!env.includes(`PULUMI_HOME=${home}\0`)) continue;
            const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            if (fields[0] === "Z") continue;
            // field 22 of stat (starttime): a pid reused later is another process
            out.push({ pid: Number(d), start: fields[19], cmd: fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim() });
        } catch {
            /* gone, or not ours */
        }
    }
    return out;
}

const key = (p: Proc) => `${p.pid}/${p.start}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("e2e: no orphans after a SIGKILL at any moment of pulumi up", function () {
    this.timeout(10 * 60_000);
    let e: E2E;
    before(async () => {
        // slow copies, so a kill in the middle finds an export running
        e = await startE2E(ROOT, "e2e-orphans-early", { "migration:vms": JSON.stringify(["db-01"]), "migration:templates": "[]" }, { bandwidthMiBps: 4 });
    });
    after(async () => {
        for (const p of processesOf(e.ws.home)) {
            try {
                process.kill(p.pid, "SIGKILL");
            } catch {
                /* gone */
            }
        }
        await e?.close();
    });

    /**
     * Runs `pulumi up` (with its preview, as users do), SIGKILLs the CLI when `when` says so, and answers every
     * process seen during the run and those still alive 10 s after the kill.
     */
    async function killAt(what: string, when: (ms: number, now: Proc[], output: string) => boolean) {
        const seen = new Map<string, Proc>();
        const t0 = Date.now();
        const scan = setInterval(() => {
            for (const p of processesOf(e.ws.home)) seen.set(key(p), p);
        }, 25);
        let killedAt = 0;
        const r = await e.ws.up([], {
            killPollMs: 20,
            killWhen: (output) => {
                const now = processesOf(e.ws.home);
                for (const p of now) seen.set(key(p), p);
                if (!when(Date.now() - t0, now, output)) return false;
                killedAt = Date.now() - t0;
                return true;
            },
        });
        clearInterval(scan);
        assert.equal(r.killed, true, `${what}: the CLI finished before the kill:\n${r.output}`);
        await sleep(10_000);
        // every live process of this workspace: those seen during the run, and any an orphan started after the kill
        const left = processesOf(e.ws.home);
        // the README's recipe after a killed update, so the next run starts clean
        await e.ws.run(["cancel", "--yes", "--stack", "e2e-orphans-early", "--non-interactive"]);
        await e.ws.run(["refresh", "--clear-pending-creates", "--yes", "--stack", "e2e-orphans-early", "--non-interactive"]);
        return { killedAt, seen: [...seen.values()], left, output: r.output };
    }

    const plugins = (ps: Proc[]) => ps.filter((p) => /language-host|dynamic-provider|pulumi-resource|cmd\/run/.test(p.cmd));

    for (const ms of [500, 1200, 3000]) {
        it(`killed ${ms} ms in: nothing the CLI started is alive 10 s later`, async () => {
            const r = await killAt(`${ms} ms`, (t) => t >= ms);
            assert.deepEqual(r.left.map((p) => `${p.pid} ${p.cmd}`), [], `alive 10 s after the kill at ${r.killedAt} ms`);
        });
    }

    it("killed the moment the dynamic-provider host is started (its shell wrapper or node, before @pulumi/pulumi is loaded): gone within 10 s", async () => {
        const r = await killAt("provider start", (_t, now) => now.some((p) => /dynamic-provider|pulumi-resource-pulumi-nodejs/.test(p.cmd)));
        // killed while the wrapper still runs, node starts orphaned (its parent is already gone): the address check ends it
        assert.ok(r.seen.some((p) => /dynamic-provider|pulumi-resource-pulumi-nodejs/.test(p.cmd)), "the dynamic-provider host was starting at the kill");
        assert.deepEqual(r.left.map((p) => `${p.pid} ${p.cmd}`), [], `alive 10 s after the kill at ${r.killedAt} ms`);
    });

    it("killed in the middle of an export: the provider, language hosts and program are gone within 10 s", async () => {
        const r = await killAt("mid-export", (_t, _now, output) => /export of VM db-01|exporting VM db-01/.test(output));
        assert.ok(plugins(r.seen).some((p) => /dynamic-provider/.test(p.cmd)), "the provider was running at the kill");
        assert.deepEqual(r.left.map((p) => `${p.pid} ${p.cmd}`), [], `alive 10 s after the kill at ${r.killedAt} ms`);
    });
});
