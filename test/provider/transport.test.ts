// Transport safety: no plain-HTTP engine without an explicit opt-in, SSO token revoked when the provider is done
// (like the Python SDK's Connection.close()), and SDK engine connections that never borrow another engine's
// credentials.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import * as pulumi from "@pulumi/pulumi";
import { PASSWORD, PROVIDER_SIM } from "./helpers";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { connect, closeAllEngines, EngineUrlError, EngineHttp } from "../../provider/client";
import { Sso } from "../../simulator/services/sso";

/** GET /ovirt-engine/api/datacenters with a bearer token, outside the client under test. */
async function apiStatus(sim: TestSimulator, token: string): Promise<number> {
  const agent = new Agent({ connect: { ca: fs.readFileSync(sim.engine.caFile, "utf8") } });
  try {
    const r = await request(sim.engine.url + "/datacenters", { dispatcher: agent, headers: { authorization: `Bearer ${token}`, version: "4", accept: "application/xml" } });
    await r.body.text();
    return r.statusCode;
  } finally {
    await agent.close();
  }
}

const tokenOf = (h: EngineHttp): string | undefined => (h as any).token;

describe("transport: plain http:// needs engine.allowHttp", function () {
  this.timeout(60_000);
  let t: TestSimulator | undefined;
  after(async () => {
    await closeAllEngines();
    await t?.close();
  });

  it("refuses an http:// URL without allowHttp, naming engine.url, the clear-text password grant and the opt-in", () => {
    for (const make of [
      () => connect({ url: "http://engine.example.com/ovirt-engine/api", username: "admin@internal", password: PASSWORD }),
      () => new EngineHttp({ url: "http://engine.example.com/ovirt-engine/api", username: "admin@internal", password: PASSWORD }),
    ]) {
      assert.throws(make, (e: any) => {
        assert.ok(e instanceof EngineUrlError, String(e));
        assert.match(e.message, /^engine\.url:/);
        assert.match(e.message, /clear text/);
        assert.match(e.message, /https/);
        assert.match(e.message, /engine\.allowHttp: true/);
        assert.ok(!e.message.includes(PASSWORD));
        return true;
      });
    }
    assert.throws(() => connect({ url: "ftp://engine/ovirt-engine/api", username: "a", password: "b" }), /^EngineUrlError: engine\.url:/);
    assert.throws(() => connect({ url: "not a url", username: "a", password: "b" }), /engine\.url:/);
  });

  it("connects over http:// with allowHttp: true, and an http pool is never handed to a caller without it", async () => {
    t = await startTestSimulator({ tls: false, password: PASSWORD });
    assert.match(t.sim.url, /^http:/);
    const opts = { url: t.sim.url, username: "admin@internal", password: PASSWORD };
    const c = connect({ ...opts, allowHttp: true });
    assert.equal((await c.datacenters.list()).length, 2);
    assert.throws(() => connect(opts), /^EngineUrlError: engine\.url:/);
  });
});

describe("transport: the SSO token is revoked when the provider is done", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator(PROVIDER_SIM);
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("closeAllEngines revokes each token at /ovirt-engine/services/sso-logout; the engine then answers 401 to it", async () => {
    await closeAllEngines();
    const c = connect(sim.engine);
    await c.datacenters.list();
    const token = tokenOf(c.http)!;
    assert.ok(token);
    assert.equal(await apiStatus(sim, token), 200);
    await sim.resetRequests();
    const t0 = Date.now();
    const r = await closeAllEngines();
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(r.revoked, 1);
    assert.equal(c.http.stats.revokes, 1);
    const log = await sim.admin("GET", "/requests");
    assert.equal(log.byPath["POST /ovirt-engine/services/sso-logout"], 1);
    assert.equal(await apiStatus(sim, token), 401);
  });

  it("nothing to revoke without a token; an unreachable engine does not hold the shutdown past the bound", async () => {
    await closeAllEngines();
    const idle = connect(sim.engine);
    assert.deepEqual(await closeAllEngines(), { revoked: 0 });
    assert.equal(idle.http.stats.revokes, 0);
    // a token for an engine that has gone away: the revoke fails quickly and quietly
    const other = await startTestSimulator(PROVIDER_SIM);
    const c = connect(other.engine);
    await c.datacenters.list();
    await other.close();
    const t0 = Date.now();
    assert.deepEqual(await closeAllEngines({ timeoutMs: 500 }), { revoked: 0 });
    assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  it("the simulator's revoke: form scope + token, idempotent, a missing token is invalid_request", () => {
    const sso = new Sso("pw", 3600);
    const [st, json] = sso.token(new URLSearchParams({ grant_type: "password", scope: "ovirt-app-api", username: "admin@internal", password: "pw" }));
    assert.equal(st, 200);
    const token = json.access_token;
    assert.equal(sso.authenticate(`Bearer ${token}`), "admin@internal");
    assert.equal(sso.activeTokens(), 1);
    assert.deepEqual(sso.revoke(new URLSearchParams({ scope: "ovirt-app-api", token })), [200, {}]);
    assert.equal(sso.authenticate(`Bearer ${token}`), undefined);
    assert.equal(sso.revoked, 1);
    assert.deepEqual(sso.revoke(new URLSearchParams({ scope: "ovirt-app-api", token })), [200, {}]);
    assert.equal(sso.revoked, 1);
    assert.equal(sso.revoke(new URLSearchParams({ scope: "ovirt-app-api" }))[0], 400);
  });

  describe("provider process end (provider/orphanWatchdog.ts installShutdownHooks)", () => {
    const dist = path.resolve(__dirname, "..", "..", "provider");
    const script = (mode: string) => `
      const { connect } = require(${JSON.stringify(path.join(dist, "client"))});
      const { installShutdownHooks } = require(${JSON.stringify(path.join(dist, "orphanWatchdog"))});
      installShutdownHooks();
      (async () => {
        const c = connect(JSON.parse(process.env.ENGINE));
        await c.datacenters.list();
        process.stdout.write(JSON.stringify({ token: c.http.token }) + "\\n");
        ${mode === "wait" ? "setInterval(() => {}, 1000);" : ""}
      })();
    `;

    async function run(mode: "wait" | "end", signal?: NodeJS.Signals): Promise<{ token: string; code: number | null; signal: NodeJS.Signals | null; ms: number }> {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-shutdown-")), "child.js");
      fs.writeFileSync(file, script(mode));
      const child = spawn(process.execPath, [file], { env: { ...process.env, ENGINE: JSON.stringify(sim.engine) }, stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      const token = await new Promise<string>((resolve, reject) => {
        child.stdout!.on("data", (d) => {
          out += String(d);
          const line = out.split("\n")[0];
          if (out.includes("\n")) resolve(JSON.parse(line).token);
        });
        child.once("exit", (code) => reject(new Error(`child exited (${code}) before it logged in: ${out}`)));
      });
      const t0 = Date.now();
      if (signal) child.kill(signal);
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once("exit", (c, s) => r([c, s])));
      return { token, code, signal: sig, ms: Date.now() - t0 };
    }

    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      it(`${sig}: the token is revoked, then the process ends by the signal, within about a second`, async () => {
        const r = await run("wait", sig);
        assert.equal(r.signal, sig);
        assert.ok(r.ms < 2000, `${r.ms} ms`);
        assert.equal(await apiStatus(sim, r.token), 401);
      });
    }

    it("a normal end (event loop empty, beforeExit) revokes the token too", async () => {
      const r = await run("end");
      assert.equal(r.code, 0);
      assert.equal(await apiStatus(sim, r.token), 401);
    });
  });
});

describe("sdk engine connections never borrow another engine's credentials", () => {
  let saved: Record<string, string>;
  before(() => {
    saved = pulumi.runtime.allConfig();
    pulumi.runtime.setAllConfig(
      {
        "ovirt:url": "https://a.example.com/ovirt-engine/api",
        "ovirt:username": "admin@internal",
        "ovirt:password": "pw-a",
        "ovirt:caFile": "/etc/a-ca.pem",
        "ovirt:insecure": "true",
        "ovirt:engineId": "engine-a",
        "engineB:url": "http://b.example.com/ovirt-engine/api",
        "engineB:password": "pw-b",
        "engineB:allowHttp": "true",
        "engineB:engineId": "engine-b",
      },
      ["ovirt:password", "engineB:password"],
    );
  });
  after(() => {
    pulumi.runtime.setAllConfig(saved);
  });
  const value = async (v: any) => (pulumi.Output.isInstance(v) ? (v as any).promise() : v);

  it("engineFromConfig reads only its namespace (allowHttp, engineId included) and resources pass it through as it is", async () => {
    const { engineFromConfig, resolveEngine } = require("../../sdk/connection");
    const b = engineFromConfig("engineB");
    assert.equal(b.url, "http://b.example.com/ovirt-engine/api");
    assert.equal(await value(b.password), "pw-b");
    assert.equal(b.username, "admin@internal");
    assert.equal(b.allowHttp, true);
    assert.equal(b.id, "engine-b");
    assert.equal(b.caFile, undefined);
    assert.equal(b.insecure, undefined);
    // what every resource does with args.engine: must not complete it from ovirt:*
    const again = resolveEngine(b);
    assert.equal(again, b);
    assert.equal(again.caFile, undefined);
    assert.equal(again.insecure, undefined);
    assert.deepEqual(Object.keys(again).sort(), ["allowHttp", "id", "password", "url", "username"]);
  });

  it("explicit args naming another engine's URL take nothing else from the namespace", async () => {
    const { resolveEngine } = require("../../sdk/connection");
    const x = resolveEngine({ url: "https://c.example.com/ovirt-engine/api" });
    assert.equal(x.password, undefined);
    assert.equal(x.caFile, undefined);
    assert.equal(x.insecure, undefined);
    assert.equal(x.id, undefined);
    assert.equal(x.username, "admin@internal");
    // the namespace's own engine (same URL, or none given) still gets its config
    const a = resolveEngine({ url: "https://A.example.com:443/ovirt-engine/api/" });
    assert.equal(await value(a.password), "pw-a");
    assert.equal(a.caFile, "/etc/a-ca.pem");
    assert.equal(a.id, "engine-a");
    const d = resolveEngine(undefined);
    assert.equal(await value(d.password), "pw-a");
    assert.equal(d.insecure, true);
    assert.equal(d.allowHttp, undefined);
  });

  it("resolveEngine(args, ns) for another namespace never falls back to ovirt:*", async () => {
    const { resolveEngine } = require("../../sdk/connection");
    const e = resolveEngine({}, "engineC"); // nothing configured for engineC
    assert.equal(e.url, undefined);
    assert.equal(e.password, undefined);
    assert.equal(e.caFile, undefined);
    assert.equal(e.id, undefined);
  });
});
