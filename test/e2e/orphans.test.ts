// When `pulumi up` is killed (SIGKILL of the CLI alone, as a cancelled CI job does), the language host and the
// dynamic provider it started must not linger as orphans driving the engine: both notice the engine is gone and exit.
import { strict as assert } from "assert";
import * as fs from "fs";
import { ROOT } from "../support/pulumi";
import { E2E, startE2E } from "../support/e2e";

/** Pids of live processes whose environment carries this PULUMI_HOME (the plugins of one workspace). */
function pluginsOf(home: string): number[] {
    const pids: number[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
        try {
            const env = fs.readFileSync(`/proc/${d}/environ`, "utf8");
            const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
            if (env.includes(`PULUMI_HOME=${home}\0`) && /language-host|dynamic-provider/.test(cmd)) pids.push(Number(d));
        } catch {
            /* gone or not ours */
        }
    }
    return pids;
}

describe("e2e: no orphans after the CLI is killed", function () {
    this.timeout(5 * 60_000);
    let e: E2E;
    before(async () => {
        // slow copies, so the CLI is killed while the provider is still waiting on the engine
        e = await startE2E(ROOT, "e2e-orphans", { "migration:vms": JSON.stringify(["db-01"]), "migration:templates": "[]" }, { bandwidthMiBps: 4 });
    });
    after(async () => {
        for (const pid of pluginsOf(e.ws.home)) process.kill(pid, "SIGKILL");
        await e?.close();
    });

    it("the language host and the dynamic provider exit within seconds of the CLI's death", async () => {
        const r = await e.ws.up([], { killWhen: (out) => /export of VM db-01/.test(out), killSignal: "SIGKILL" });
        assert.equal(r.signal, "SIGKILL", r.output);
        assert.ok(pluginsOf(e.ws.home).length >= 2, "the plugins were running when the CLI died");
        const deadline = Date.now() + 20_000;
        while (pluginsOf(e.ws.home).length > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500));
        assert.deepEqual(pluginsOf(e.ws.home), [], "plugins still running 20 s after the CLI was killed");
    });
});
