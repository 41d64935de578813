import * as assert from "node:assert/strict";
import * as tls from "node:tls";
import { PASSWORD, Sim, startSim } from "./helpers";
import { connect, closeAllEngines, EngineError, AuthenticationError, TlsVerificationError, EngineUnavailableError } from "../../provider/client";

describe("engine client against the simulator", function () {
  this.timeout(120_000);
  let sim: Sim;
  before(async () => {
    sim = await startSim();
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });
  beforeEach(async () => {
    await sim.admin("DELETE", "/faults");
  });

  it("logs in with SSO, reads the API root and lists data centers (TLS verified with the CA file)", async () => {
    const c = connect(sim.engine);
    const api = await c.api();
    assert.ok(api.product_info?.name);
    const dcs = await c.datacenters.list();
    assert.deepEqual(dcs.map((d) => d.name).sort(), ["dc-source", "dc-target"]);
  });

  it("renews the SSO token once on 401 (expired tokens) and replays the request", async () => {
    const c = connect(sim.engine);
    await c.datacenters.list();
    const before = c.http.stats.tokenFetches;
    await sim.admin("POST", "/expire-tokens");
    const dcs = await c.datacenters.list();
    assert.equal(dcs.length, 2);
    assert.equal(c.http.stats.tokenFetches, before + 1);
  });

  it("retries a GET answered 503, then succeeds", async () => {
    const c = connect(sim.engine);
    await c.datacenters.list();
    await sim.resetRequests();
    await sim.admin("PUT", "/faults", { rules: [{ method: "GET", path: "/ovirt-engine/api/clusters$", kind: "status", status: 503, max: 2 }] });
    const cls = await c.clusters.list();
    assert.ok(cls.length >= 2);
    const log = await sim.admin("GET", "/requests");
    assert.equal(log.byPath["GET /ovirt-engine/api/clusters"], 3);
  });

  it("retries a GET whose connection is reset", async () => {
    const c = connect(sim.engine);
    await sim.admin("PUT", "/faults", { rules: [{ method: "GET", path: "/ovirt-engine/api/hosts$", kind: "reset", max: 2 }] });
    const hosts = await c.hosts.list();
    assert.ok(hosts.length >= 2);
  });

  it("never retries a POST answered 503 (ambiguous error, one request)", async () => {
    const c = connect(sim.engine);
    const vm = await c.vms.findByName("web-01");
    const sd = await c.storageDomains.findByName("export1");
    await sim.resetRequests();
    await sim.admin("PUT", "/faults", { rules: [{ method: "POST", path: "/export$", kind: "status", status: 503, max: 5 }] });
    await assert.rejects(
      c.vms.export(vm!.id, { exportDomainId: sd!.id, exclusive: false, discardSnapshots: false, correlationId: "0b6f3d4e-1111-4222-8333-444455556666" }),
      (e: any) => e instanceof EngineUnavailableError && e.ambiguous && e.status === 503,
    );
    const log = await sim.admin("GET", "/requests");
    const posts = Object.entries(log.byPath).filter(([k]) => k.startsWith("POST") && k.endsWith("/export"));
    assert.equal(posts.reduce((s, [, n]) => s + (n as number), 0), 1);
  });

  it("parses engine faults (action echo) into EngineError with status, reason and detail", async () => {
    const c = connect(sim.engine);
    const vm = await c.vms.findByName("run-01");
    const sd = await c.storageDomains.findByName("export1");
    await assert.rejects(
      c.vms.export(vm!.id, { exportDomainId: sd!.id, exclusive: false, discardSnapshots: false, correlationId: "0b6f3d4e-2222-4222-8333-444455556666" }),
      (e: any) => e instanceof EngineError && e.status === 409 && /not down/i.test(e.detail) && e.reason.length > 0,
    );
  });

  it("answers 404 lookups as undefined", async () => {
    const c = connect(sim.engine);
    assert.equal(await c.vms.get("00000000-0000-0000-0000-00000000dead"), undefined);
  });

  it("refuses a server certificate not signed by the given CA, with a clear message", async () => {
    const c = connect({ ...sim.engine, caFile: undefined, caPem: tls.rootCertificates[0] });
    await assert.rejects(c.datacenters.list(), (e: any) => e instanceof TlsVerificationError && /engine\.caFile/.test(e.message) && /insecure/.test(e.message));
  });

  it("connects with insecure: true only when asked", async () => {
    const c = connect({ ...sim.engine, caFile: undefined, insecure: true, username: "admin@internal" });
    assert.equal((await c.datacenters.list()).length, 2);
  });

  it("a wrong password fails clearly and the password never appears in the error", async () => {
    const wrong = "Wr0ng-" + PASSWORD;
    const c = connect({ ...sim.engine, password: wrong, username: "admin@internal" });
    await assert.rejects(c.datacenters.list(), (e: any) => {
      assert.ok(e instanceof AuthenticationError, String(e));
      assert.match(e.message, /engine\.password/);
      assert.ok(!e.message.includes(wrong) && !e.message.includes(PASSWORD));
      assert.ok(!String(e.stack).includes(wrong));
      return true;
    });
  });
});
