// Preview (check) and refresh (read) when the export domain's contents cannot be read (issue 11, item 9): the engine
// lists an export domain's VMs/templates only while the domain is active in its data center (400 "Storage domain
// cannot be reached" in maintenance; nothing at all when attached nowhere). The preview must say "export domain X is
// <status>; its contents cannot be read" instead of judging on an empty listing, and neither the preview nor the
// refresh may fail or change anything. And an export or import that went on from a recent "active" answer fails, once
// the engine refuses it, as a fresh check would.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";
import { attachedDomains } from "../../provider/operations/reads";

const inventory = {
  dataCenters: [
    { name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a", sizeGiB: 10 }] },
  ],
  exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a" }],
  vms: [{ name: "vm-a", cluster: "cl-a", disks: [{ sizeMiB: 1 }] }],
};

const urn = (name: string) => `urn:pulumi:test::proj::pulumi-nodejs:dynamic:Resource::${name}`;

describe("provider: preview and refresh with an export domain whose contents cannot be read", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let progressFile: string;
  const saved = process.env.OVIRT_MIGRATE_PROGRESS_FILE;
  let exported: { id: string; outs: any };
  let imported: { id: string; outs: any };

  const lines = (): string[] =>
    fs.existsSync(progressFile) ? fs.readFileSync(progressFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).message as string) : [];
  const exportInputs = (name: string) => ({ engine: sim.engine, exportDomain: "exp", name: "vm-a", __progressUrn: urn(name) });
  const importInputs = (name: string) => ({ engine: sim.engine, exportDomain: "exp", name: "vm-a", cluster: "cl-a", storageDomain: "data-a", onConflict: "clone", __progressUrn: urn(name) });
  const ids = async () => {
    const c = connect(sim.engine);
    return { c, dc: (await c.datacenters.findByName("dc-a"))!, sd: (await c.storageDomains.findByName("exp"))! };
  };

  before(async () => {
    progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-progress-")), "progress.jsonl");
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = progressFile;
  });
  after(async () => {
    if (saved === undefined) delete process.env.OVIRT_MIGRATE_PROGRESS_FILE;
    else process.env.OVIRT_MIGRATE_PROGRESS_FILE = saved;
    fs.rmSync(path.dirname(progressFile), { recursive: true, force: true });
  });
  // a new simulator for every test: each takes the domain from active to the status it is about
  beforeEach(async () => {
    clearReadCache();
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory });
    // a copy made by one resource, and a VM imported from it, while the domain is active
    exported = await checkAndCreate("VmExport", exportInputs("export-1"));
    imported = await checkAndCreate("VmImport", importInputs("import-1"));
    clearReadCache();
    fs.rmSync(progressFile, { force: true });
  });
  afterEach(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("active: another resource's preview reads the copy and refuses it as foreign (the listing is what decides)", async () => {
    const r = await providerOf("VmExport").check({}, exportInputs("export-2"));
    assert.ok(r.failures.length > 0 && r.failures.some((f: any) => /vm-a/.test(f.reason)), JSON.stringify(r.failures));
  });

  it("maintenance: preview says the contents cannot be read (no failure), refresh keeps both resources, nothing is changed", async () => {
    const { c, dc, sd } = await ids();
    await c.attachedStorageDomains.deactivate(dc.id, sd.id);
    for (let i = 0; i < 100 && (await c.attachedStorageDomains.get(dc.id, sd.id))?.status !== "maintenance"; i++) await new Promise((r) => setTimeout(r, 50));
    await sim.resetRequests();
    const exp = await providerOf("VmExport").check({}, exportInputs("export-2"));
    assert.deepEqual(exp.failures, [], "the domain may be activated by the stack before the export runs");
    assert.ok(
      lines().some((l) => l.includes("export domain exp is maintenance in data center dc-a; its contents cannot be read") && /copy of VM vm-a .*checked when the export runs/.test(l)),
      lines().join("\n"),
    );
    const imp = await providerOf("VmImport").check({}, importInputs("import-2"));
    assert.deepEqual(imp.failures, [], JSON.stringify(imp.failures));
    assert.ok(lines().some((l) => l.includes("export domain exp is maintenance in data center dc-a; its contents cannot be read: the copy of vm-a is looked for")), lines().join("\n"));
    // refresh: the copy cannot be listed, the imported VM is read by id; both stay in the state as they are
    const rx = await providerOf("VmExport").read(exported.id, exported.outs);
    assert.equal(rx.id, exported.id);
    assert.equal(rx.props.sourceId, exported.outs.sourceId);
    const ri = await providerOf("VmImport").read(imported.id, imported.outs);
    assert.equal(ri.id, imported.id);
    assert.equal(await sim.mutating(), 0, "preview and refresh change nothing");
  });

  it("attached nowhere: the preview says so instead of treating the domain as empty; refresh keeps the copy", async () => {
    const { c, dc, sd } = await ids();
    // set-up: the domain in maintenance (a detach needs it)
    await c.attachedStorageDomains.deactivate(dc.id, sd.id);
    for (let i = 0; i < 100 && (await c.attachedStorageDomains.get(dc.id, sd.id))?.status !== "maintenance"; i++) await new Promise((r) => setTimeout(r, 50));
    await c.attachedStorageDomains.detach(dc.id, sd.id);
    for (let i = 0; i < 100 && (await c.attachedStorageDomains.get(dc.id, sd.id)); i++) await new Promise((r) => setTimeout(r, 50));
    await sim.resetRequests();
    const exp = await providerOf("VmExport").check({}, exportInputs("export-3"));
    assert.ok(!exp.failures.some((f: any) => /copy/.test(f.reason)), JSON.stringify(exp.failures));
    assert.ok(lines().some((l) => l.includes("export domain exp is not attached to any data center; its contents cannot be read")), lines().join("\n"));
    const imp = await providerOf("VmImport").check({}, importInputs("import-3"));
    assert.ok(lines().some((l) => /export domain exp is not attached to any data center; its contents cannot be read: the copy of vm-a/.test(l)), `${JSON.stringify(imp.failures)}\n${lines().join("\n")}`);
    const rx = await providerOf("VmExport").read(exported.id, exported.outs);
    assert.equal(rx.id, exported.id);
    assert.equal(await sim.mutating(), 0);
  });

  // provider/operations/readCache.ts recentRead: an export or import goes on from a recent "active" answer; when the
  // domain has left the active state since, the engine refuses and the resource fails as a fresh check would
  for (const kind of ["export", "import"] as const) {
    it(`maintenance after a recent "active" answer: the ${kind} fails naming exportDomain and the status; nothing changed`, async () => {
      const { c, dc, sd } = await ids();
      // the resources' read of the data center's domains, just before (the same connection): active
      assert.equal((await attachedDomains(c, dc.id)).find((d) => d.id === sd.id)?.status, "active");
      await c.attachedStorageDomains.deactivate(dc.id, sd.id);
      for (let i = 0; i < 100 && (await c.attachedStorageDomains.get(dc.id, sd.id))?.status !== "maintenance"; i++) await new Promise((r) => setTimeout(r, 50));
      await sim.resetRequests();
      const create = kind === "export" ? providerOf("VmExport").create(exportInputs("export-2")) : providerOf("VmImport").create(importInputs("import-2"));
      await assert.rejects(create, (e: any) => {
        assert.match(e.message, /^exportDomain: export domain exp is maintenance in /);
        assert.match(e.message, /ExportDomainAttachment of exp/);
        return true;
      });
      assert.equal(await sim.mutating(), 0, "nothing may change in the engine");
      // it went on from the recent answer (read the domain's listing, refused in maintenance), then judged afresh
      const seen = (await sim.admin("GET", "/requests")).log.filter((x: any) => x.method === "GET").map((x: any) => x.path as string);
      assert.ok(seen.some((p: string) => p.endsWith(`/storagedomains/${sd.id}/vms`)), `the recent answer was not used: ${seen.join(", ")}`);
    });
  }
});
