// Persistence and restarts: state kept; jobs running at a restart are failed like the engine does.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { arr, startTestSimulator, withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, startExport } from "./helpers";

describe("simulator: persistence and restarts", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 1000 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });

    it("admin restart fails the running export, unlocks the VM, keeps state, keeps the port, invalidates tokens", async () => {
      const web = await idOf(t(), "vms", "web-01");
      const app = await idOf(t(), "vms", "app-01");
      await exportAndWait(t(), app, I.export1);
      await t().admin("PUT", "bandwidth", { MiBps: 4 });
      const job = await startExport(t(), web, I.export1);
      const tok = await t().token();
      const port = t().sim.port;
      const r = await t().admin("POST", "restart", {});
      assert.equal(r.ok, true);
      assert.equal(t().sim.port, port);
      assert.equal((await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 401);
      assert.equal(await t().waitJob(job, 5000), "failed");
      assert.equal((await t().api("GET", `vms/${web}`)).xml.vm.status, "down");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${web}`)).status, 404);
      assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${app}`)).status, 200, "earlier export kept");
      const ev = arr((await t().api("GET", `events?search=${encodeURIComponent(`type=1151 and vm.id=${web}`)}`)).xml.events?.event);
      assert.equal(ev.length, 1);
      await t().admin("PUT", "bandwidth", { MiBps: 1000 });
    });

    it("admin restart with downMs answers 503 meanwhile", async () => {
      await t().admin("POST", "restart", { downMs: 400 });
      const r = await t().raw("GET", "/ovirt-engine/api");
      assert.equal(r.status, 503);
      await new Promise((res) => setTimeout(res, 500));
      assert.equal((await t().api("GET", "")).status, 200);
    });

    it("a new process on the same state dir keeps the inventory (ids, statuses, imports)", async () => {
      const before = (await t().api("GET", "vms")).xml.vms.vm.map((v: any) => [v["@_id"], v.name, v.status]);
      await t().reopen();
      const after = (await t().api("GET", "vms")).xml.vms.vm.map((v: any) => [v["@_id"], v.name, v.status]);
      assert.deepEqual(after, before);
    });
  });

  it("a simulator process killed mid-export: at the next start the job is failed and the VM unlocked", async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-sim-kill-"));
    const cli = path.resolve(__dirname, "..", "..", "simulator", "cli.js");
    const child = spawn(process.execPath, [cli, "--port", "0", "--state", stateDir, "--bandwidth", "2"], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, OVIRT_SIM_PASSWORD: "secret" },
    });
    const url: string = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b) => {
        out += String(b);
        const m = /API URL: (\S+)/.exec(out);
        if (m && /CA file:/.test(out)) resolve(m[1]);
      });
      child.on("exit", (c) => reject(new Error(`cli exited ${c}`)));
    });
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api$/);
    // drive it through a test client bound to the same state dir's CA
    const { Agent, request } = await import("undici");
    const agent = new Agent({ connect: { ca: fs.readFileSync(path.join(stateDir, "pki", "ca.pem")) } });
    const auth = `Basic ${Buffer.from("admin@internal:secret").toString("base64")}`;
    const get = async (p: string) => (await request(`${url}/${p}`, { headers: { authorization: auth }, dispatcher: agent })).body.text();
    const vmsXml = await get("vms?search=name%3Dweb-01");
    const vmId = /<vm href="[^"]+" id="([^"]+)"/.exec(vmsXml)![1];
    const sdXml = await get("storagedomains?search=name%3Dexport1");
    const sdId = /<storage_domain href="[^"]+" id="([^"]+)"/.exec(sdXml)![1];
    const r = await request(`${url}/vms/${vmId}/export`, { method: "POST", headers: { authorization: auth, "content-type": "application/xml" }, body: `<action><storage_domain id="${sdId}"/></action>`, dispatcher: agent });
    assert.equal(r.statusCode, 202);
    await r.body.text();
    await new Promise((res) => setTimeout(res, 300));
    assert.match(await get(`vms/${vmId}`), /<status>image_locked<\/status>/);
    child.kill("SIGKILL");
    await new Promise((res) => child.on("exit", res));
    await agent.close();

    const t2 = await startTestSimulator({ stateDir });
    try {
      const vm = await t2.api("GET", `vms/${vmId}`);
      assert.equal(vm.xml.vm.status, "down");
      const jobs = arr((await t2.api("GET", "jobs")).xml.jobs.job);
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0].status, "failed");
      const ev = arr((await t2.api("GET", "events?search=type%3D1151")).xml.events?.event);
      assert.equal(ev.length, 1);
    } finally {
      await t2.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
