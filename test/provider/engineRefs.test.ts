// A Migration's children name their engine by reference (`engine: { providerEngine: "source" }`) and reach it
// through the connections their explicit provider is configured with (provider/engineRefs.ts). Driven here as the
// dynamic-provider host drives it: `configure` with the provider's arguments, then the hooks.
import * as assert from "node:assert/strict";
import { TestSimulator, startTestSimulator, diskReport } from "../support/simulator";
import { providerOf, PROVIDER_SIM, PASSWORD } from "./helpers";
import { closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const ref = (name: string) => ({ providerEngine: name });

/** `configure` as the host calls it: the provider's arguments, `engines` as JSON text or as an object. */
async function configure(engines: Record<string, unknown> | undefined, asText = true): Promise<void> {
  const rawConfig = engines === undefined ? {} : { engines: asText ? JSON.stringify(engines) : engines };
  await providerOf("VmExport").configure({ config: { rawConfig } });
}

describe("engine references: a Migration's children reach the engines their provider holds", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  beforeEach(async () => {
    clearReadCache();
    sim = await startTestSimulator(PROVIDER_SIM);
  });
  afterEach(async () => {
    await configure(undefined);
    await closeAllEngines();
    await sim?.close();
  });

  const exportArgs = (name = "web-01") => ({ engine: ref("source"), exportDomain: "export1", name, exclusive: true });

  it("check, create, diff and delete work through the reference; the state holds the engine's URL and no credential", async () => {
    await configure({ source: sim.engine, target: sim.engine });
    const p = providerOf("VmExport");
    // check reads the engine: a VM that is not there fails on `name`
    const bad = await p.check({}, exportArgs("no-such-vm"));
    assert.ok(bad.failures.some((f: any) => f.property === "name" && /no-such-vm/.test(f.reason)), JSON.stringify(bad.failures));
    const c = await p.check({}, exportArgs());
    assert.deepEqual(c.failures, []);
    assert.deepEqual(c.inputs.engine, { providerEngine: "source", __url: sim.engine.url });
    const r = await p.create(c.inputs);
    assert.equal(r.outs.ownership, "created");
    assert.deepEqual(r.outs.engine, { providerEngine: "source", __url: sim.engine.url });
    for (const [what, v] of [["check's inputs", c.inputs], ["outputs", r.outs]] as const) {
      const text = JSON.stringify(v);
      assert.ok(!text.includes(PASSWORD) && !text.includes("password") && !text.includes("admin@internal"), `${what}: ${text}`);
    }
    const d = await p.diff(r.id, r.outs, c.inputs);
    assert.equal(d.changes, false, JSON.stringify(d));
    const copies = async () => (await diskReport(sim)).exportDomains.find((e) => e.name === "export1")!.vms.map((v) => v.id);
    assert.ok((await copies()).includes(r.outs.sourceId));
    await p.delete(r.id, r.outs);
    assert.ok(!(await copies()).includes(r.outs.sourceId), "delete did not remove the copy it made");
  });

  it("the reference keeps the engine it was made on: another engine configured under the same name is a change of engine", async () => {
    const other = await startTestSimulator(PROVIDER_SIM);
    try {
      await configure({ source: sim.engine }, false);
      const p = providerOf("VmExport");
      const c = await p.check({}, exportArgs());
      const r = await p.create(c.inputs);
      // the Migration's source now points at another engine: the recorded reference still means the first one
      await configure({ source: other.engine });
      const c2 = await p.check(c.inputs, exportArgs());
      assert.equal(c2.inputs.engine.__url, other.engine.url);
      const d = await p.diff(r.id, r.outs, c2.inputs);
      assert.ok(d.replaces.includes("engine"), JSON.stringify(d));
    } finally {
      await other.close();
    }
  });

  it("a provider without that engine: check treats it as unknown (nothing read), create refuses naming it", async () => {
    await configure({ target: sim.engine });
    const p = providerOf("VmExport");
    await sim.resetRequests();
    const c = await p.check({}, exportArgs());
    assert.deepEqual(c.failures, []);
    assert.deepEqual(c.inputs.engine, { providerEngine: "source" }, "the reference goes back as declared");
    assert.equal((await sim.admin("GET", "requests")).total, 0, "check read the engine without a connection");
    await assert.rejects(p.create(c.inputs), /engine: .*no engine "source" \(configured: target\)/);
    assert.equal(await sim.mutating(), 0);
  });
});
