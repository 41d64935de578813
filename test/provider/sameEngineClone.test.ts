// Issue 13, items 3 and 6 (VmImport): within one engine the source keeps its id, so every import is a clone (new id,
// new MACs, snapshots collapsed, template link dropped). The preview says so per VM, the checked inputs and the
// outputs say collapseSnapshots: true, and a later check/diff is a no-op. A thin VM collapsed on import needs its
// template on the export domain (or a flat export). Migration plans no template copy that no imported VM uses
// unless the template itself was asked for. A cluster and storage domain of two data centers are reported under the
// field that points at the source's data center, with both names. The last part runs the real CLI's preview.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { TestSimulator, startTestSimulator, diskReport, shas } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";
import { CLONE_NOTE } from "../../provider/resources/vmImport";
import { changeCounts } from "../support/pulumi";
import { E2E, example, startE2E } from "../support/e2e";

const EDA = "ExportDomainAttachment";
const urnOf = (name: string) => `urn:pulumi:test::same-engine::pulumi-nodejs:dynamic/ovirt:VmImport::${name}`;

describe("same engine: every import is a clone, and the preview says so (VmImport)", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let engine: any;
  let progressFile: string;
  const saved = process.env.OVIRT_MIGRATE_PROGRESS_FILE;
  const lines = (urn?: string): string[] =>
    fs.existsSync(progressFile)
      ? fs
          .readFileSync(progressFile, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .filter((l) => !urn || l.urn === urn)
          .map((l) => l.message as string)
      : [];
  const base = (name: string, more: any = {}) => ({
    engine,
    exportDomain: "export1",
    name,
    cluster: "cl-target",
    storageDomain: "data-target",
    onConflict: "clone",
    expectExportDomain: { dataCenter: "dc-source" },
    __progressUrn: urnOf(name),
    ...more,
  });

  before(async () => {
    sim = await startTestSimulator(PROVIDER_SIM);
    engine = sim.engine;
    progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "same-engine-")), "progress.jsonl");
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = progressFile;
  });
  after(async () => {
    if (saved === undefined) delete process.env.OVIRT_MIGRATE_PROGRESS_FILE;
    else process.env.OVIRT_MIGRATE_PROGRESS_FILE = saved;
    await closeAllEngines();
    await sim?.close();
  });
  beforeEach(() => clearReadCache());

  it("preview before the export: one clone line per VM, collapseSnapshots true in the checked inputs, nothing sent", async () => {
    await sim.resetRequests();
    const imp = providerOf("VmImport");
    for (const name of ["web-01", "snap-01"]) {
      const r = await imp.check({}, base(name));
      assert.deepEqual(r.failures, [], JSON.stringify(r.failures));
      assert.equal(r.inputs.collapseSnapshots, true, "the preview shows what happens: collapsed");
      assert.equal(r.inputs.__collapseImplied, true);
      const mine = lines(urnOf(name));
      const clone = mine.filter((l) => l.includes(CLONE_NOTE));
      assert.equal(clone.length, 1, mine.join("\n"));
      assert.match(clone[0], new RegExp(`^import ${name}: VM ${name}: imported as a clone: new id, new MACs, snapshots collapsed, template link dropped \\(VM ${name} \\(id [0-9a-f-]+\\) keeps that id in engine \\S+, and ids are unique per engine\\); it arrives as ${name}$`));
      assert.ok(mine.some((l) => /the copy is not made yet: checked against the source VM/.test(l)), mine.join("\n"));
    }
    // a user who asked for collapse gets the line, and the inputs stay as written
    const asked = await imp.check({}, base("app-01", { collapseSnapshots: true }));
    assert.equal(asked.inputs.__collapseImplied, undefined);
    assert.equal(await sim.mutating(), 0, "check sent a mutating request");
  });

  it("a thin VM collapsed on import needs its template on the export domain: named at preview, passes when exported or flat", async () => {
    const imp = providerOf("VmImport");
    let r = await imp.check({}, base("thin-01"));
    const f = r.failures.find((x: any) => x.property === "collapseSnapshots");
    assert.ok(f, JSON.stringify(r.failures));
    assert.match(f.reason, /thin VM based on template rhel9-base/);
    assert.match(f.reason, /a clone always collapses/);
    assert.match(f.reason, /discardSnapshots: true/);
    r = await imp.check({}, base("thin-01", { expectExportDomain: { dataCenter: "dc-source", templates: ["rhel9-base"] } }));
    assert.deepEqual(r.failures, [], "the template is exported by this stack");
    r = await imp.check({}, base("thin-01", { expectExportDomain: { dataCenter: "dc-source", discardSnapshots: true } }));
    assert.deepEqual(r.failures, [], "a flat export has no template link");
  });

  it("up: snap-01 arrives as a clone with one volume per disk; outputs say collapseSnapshots and collapsed; check and diff then change nothing", async () => {
    await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-source", handOffTo: { dataCenter: "dc-target" } });
    await checkAndCreate("VmExport", { engine, exportDomain: "export1", name: "snap-01", dataCenter: "dc-source", exclusive: true });
    await checkAndCreate(EDA, { engine, exportDomain: "export1", dataCenter: "dc-target", moveFrom: { dataCenter: "dc-source" } });
    clearReadCache();
    const imp = providerOf("VmImport");
    const raw = base("snap-01");
    const checked = await imp.check({}, raw);
    assert.deepEqual(checked.failures, []);
    assert.equal(checked.inputs.collapseSnapshots, true);
    const made = await imp.create(checked.inputs);
    const c = connect(engine);
    const src = (await c.vms.findByName("snap-01"))!;
    assert.notEqual(made.outs.vmId, src.id, "a clone gets a new id");
    assert.equal(made.outs.cloned, true);
    assert.equal(made.outs.collapsed, true);
    assert.equal(made.outs.collapseSnapshots, true, "the outputs say what happened");
    const rep = await diskReport(sim);
    const dst = rep.vms.find((v) => v.id === made.outs.vmId)!;
    assert.equal(dst.dataCenter, "dc-target");
    assert.deepEqual(shas(dst), shas(rep.vms.find((v) => v.id === src.id)), "same content");
    const srcSnaps = (await c.vms.snapshots(src.id)).filter((x) => x.snapshot_type !== "active");
    assert.ok(srcSnaps.length >= 2, "the source keeps its snapshots");
    const snaps = (await c.vms.snapshots(made.outs.vmId)).filter((x) => x.snapshot_type !== "active");
    assert.deepEqual(snaps.map((x) => x.description), [], "snapshots collapsed: only the active VM");
    // the next preview: the stored (checked) inputs against the program's raw inputs: nothing to do
    clearReadCache();
    await sim.resetRequests();
    const again = await imp.check(checked.inputs, raw);
    assert.deepEqual(again.failures, []);
    const d = await imp.diff(made.id, { ...made.outs }, again.inputs);
    assert.equal(d.changes, false, JSON.stringify(d));
    assert.deepEqual(d.replaces, []);
    // asking for collapse on a clone changes nothing either (it is collapsed anyway)
    const d2 = await imp.diff(made.id, { ...made.outs, collapseSnapshots: false }, { ...raw, collapseSnapshots: true });
    assert.deepEqual(d2.replaces, []);
    assert.equal(await sim.mutating(), 0);
  });

  describe("a cluster and a storage domain of two data centers: the field that points at the source's, with both names", () => {
    it("cluster of the source data center (the issue's case): reported under cluster, not storageDomain", async () => {
      await sim.resetRequests();
      const imp = providerOf("VmImport");
      // expectExportDomain says where the VM comes from
      let r = await imp.check({}, base("web-01", { cluster: "cl-source", storageDomain: "data-target" }));
      let f = r.failures.find((x: any) => x.property === "cluster");
      assert.ok(f, JSON.stringify(r.failures));
      assert.match(f.reason, /cluster cl-source is in data center dc-source, but storage domain "data-target" is attached to data center dc-target/);
      assert.match(f.reason, /dc-source is where the VM comes from/);
      assert.ok(!r.failures.some((x: any) => x.property === "storageDomain"), JSON.stringify(r.failures));
      // without expectExportDomain: the copy's source tells (snap-01's copy is on export1, its source in dc-source)
      r = await imp.check({}, { ...base("snap-01", { cluster: "cl-source", storageDomain: "data-target" }), expectExportDomain: undefined });
      f = r.failures.find((x: any) => x.property === "cluster");
      assert.ok(f && /data-target/.test(f.reason) && /cl-source/.test(f.reason), JSON.stringify(r.failures));
      assert.ok(!r.failures.some((x: any) => x.property === "storageDomain"), JSON.stringify(r.failures));
      assert.equal(await sim.mutating(), 0);
    });

    it("storage domain of the source data center: reported under storageDomain, with both names", async () => {
      const r = await providerOf("VmImport").check({}, base("web-01", { storageDomain: "data-source" }));
      const f = r.failures.find((x: any) => x.property === "storageDomain");
      assert.ok(f, JSON.stringify(r.failures));
      assert.match(f.reason, /cluster cl-target is in data center dc-target, but storage domain "data-source" is attached to data center dc-source/);
      assert.ok(!r.failures.some((x: any) => x.property === "cluster"), JSON.stringify(r.failures));
    });

    it("create (without a preview) names cluster too", async () => {
      const imp = providerOf("VmImport");
      await assert.rejects(imp.create(base("web-01", { cluster: "cl-source", storageDomain: "data-target" })), (e: any) => {
        assert.equal(e.property, "cluster", e.message);
        assert.match(e.message, /cl-source/);
        assert.match(e.message, /data-target/);
        return true;
      });
    });
  });
});

interface Reg {
  type: string;
  name: string;
  inputs: any;
}

describe("Migration plans no template copy that no imported VM uses (Pulumi mocks)", function () {
  this.timeout(30_000);
  const regs: Reg[] = [];
  const logs: string[] = [];
  before(() => {
    pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          regs.push({ type: a.type, name: a.name, inputs: a.inputs });
          return { id: `${a.name}_id`, state: { ...a.inputs, vmId: `${a.name}-vm`, vmName: a.inputs.name, imported: true } };
        },
        call: () => ({}),
      },
      "proj",
      "stack",
      false,
    );
  });

  const build = async (name: string, extra: any) => {
    regs.length = 0;
    logs.length = 0;
    const orig = pulumi.log.info;
    (pulumi.log as any).info = (msg: string) => {
      logs.push(msg);
      return Promise.resolve();
    };
    try {
      const { Migration } = require("../../sdk");
      const m = new Migration(name, {
        source: { dataCenter: "dc-source", engine: { url: "https://a/ovirt-engine/api", password: "pw-a" } },
        target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
        exportDomain: "export1",
        vms: ["web-01", "thin-01"],
        ...extra,
      });
      await new Promise<any>((r) => m.imported.apply((v: any) => (r(v), v)));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      (pulumi.log as any).info = orig;
    }
    const of = (kind: string) => regs.filter((r) => r.type.endsWith(`:${kind}`));
    return {
      exports: of("VmExport").map((r) => `${r.inputs.kind}:${r.inputs.name}`).sort(),
      imports: of("VmImport").map((r) => `${r.inputs.kind}:${r.inputs.name}`).sort(),
      exportOf: (n: string) => of("VmExport").find((r) => r.inputs.name === n)!.inputs,
      importOf: (n: string) => of("VmImport").find((r) => r.inputs.name === n)!.inputs,
      /** the Migration's engine provider (sdk/engineProvider.ts): its `engines` (a secret: the mocks see `{ <sig>, value }`) */
      engines: () => regs.find((r) => r.type === "pulumi:providers:pulumi-nodejs" && r.name === `${name}-engines`)?.inputs?.engines?.value,
    };
  };
  const crossTarget = { dataCenter: "dc-b", cluster: "cl-b", storageDomain: "data-b", engine: { url: "https://b/ovirt-engine/api", password: "pw-b" } };

  it("one engine: a template listed only for thin-01 (neededBy) is neither exported nor imported; thin-01 is exported flat", async () => {
    const p = await build("m1", { templates: [{ name: "rhel9-base", neededBy: ["thin-01"] }] });
    assert.deepEqual(p.exports, ["vm:thin-01", "vm:web-01"]);
    assert.deepEqual(p.imports, ["vm:thin-01", "vm:web-01"]);
    assert.equal(p.exportOf("thin-01").discardSnapshots, true);
    assert.equal(p.exportOf("web-01").discardSnapshots, false, "only the VMs named in neededBy are flattened");
    assert.equal(p.importOf("thin-01").expectExportDomain.discardSnapshots, true);
    assert.equal(p.importOf("thin-01").expectTemplates, undefined);
    assert.ok(logs.some((l) => /template rhel9-base: neither exported nor imported: every VM that needs it \(thin-01\) is imported as a clone/.test(l)), logs.join("\n"));
  });

  it("one engine: a template the user listed is moved (exported and imported)", async () => {
    const p = await build("m2", { templates: ["rhel9-base"] });
    assert.deepEqual(p.exports, ["template:rhel9-base", "vm:thin-01", "vm:web-01"]);
    assert.deepEqual(p.imports, ["template:rhel9-base", "vm:thin-01", "vm:web-01"]);
    assert.equal(p.exportOf("thin-01").discardSnapshots, false);
    assert.deepEqual(p.importOf("thin-01").expectExportDomain.templates, ["rhel9-base"]);
    assert.equal(p.importOf("thin-01").expectExportDomain.dataCenter, "dc-source");
  });

  it("one engine, discardSnapshots: false asked for thin-01: the template is exported (the clone's collapse reads it there) but not imported", async () => {
    const p = await build("m3", { templates: [{ name: "rhel9-base", neededBy: ["thin-01"] }], vms: ["web-01", { name: "thin-01", discardSnapshots: false }] });
    assert.deepEqual(p.exports, ["template:rhel9-base", "vm:thin-01", "vm:web-01"]);
    assert.deepEqual(p.imports, ["vm:thin-01", "vm:web-01"]);
    assert.deepEqual(p.importOf("thin-01").expectExportDomain.templates, ["rhel9-base"]);
  });

  it("across engines the thin VM keeps its template link: the template is exported and imported first", async () => {
    const p = await build("m4", { templates: [{ name: "rhel9-base", neededBy: ["thin-01"] }], target: crossTarget });
    assert.deepEqual(p.imports, ["template:rhel9-base", "vm:thin-01", "vm:web-01"]);
    assert.equal(p.exportOf("thin-01").discardSnapshots, false);
    assert.deepEqual(p.importOf("thin-01").expectTemplates, ["rhel9-base"]);
    // the source engine is named: a reference to the Migration's provider, which holds engine A as "source"
    assert.deepEqual(p.importOf("thin-01").expectExportDomain.engine, { providerEngine: "source" });
    assert.equal(p.engines()?.source?.url, "https://a/ovirt-engine/api", JSON.stringify(p.engines()));
    assert.equal(p.engines()?.target?.url, "https://b/ovirt-engine/api", JSON.stringify(p.engines()));
    assert.equal(p.importOf("thin-01").onConflict, "fail");
  });

  it("across engines with collapseSnapshots for thin-01: nothing of the template is moved", async () => {
    const p = await build("m5", { templates: [{ name: "rhel9-base", neededBy: ["thin-01"] }], target: crossTarget, vms: ["web-01", { name: "thin-01", collapseSnapshots: true }] });
    assert.deepEqual(p.exports, ["vm:thin-01", "vm:web-01"]);
    assert.deepEqual(p.imports, ["vm:thin-01", "vm:web-01"]);
  });

  it("a neededBy naming a VM that is not migrated is refused", async () => {
    await assert.rejects(build("m6", { templates: [{ name: "rhel9-base", neededBy: ["nope-01"] }] }), /templates\[0\]\.neededBy: "nope-01" is not one of the migration's vms/);
  });
});

describe("same engine, real CLI: the preview of examples/one-shot says, once per VM in the plan, that it is imported as a clone", function () {
  this.timeout(5 * 60_000);
  let e: E2E;
  before(async () => {
    e = await startE2E(example("one-shot"), "e2e-same-engine-preview");
  });
  after(async () => e?.close());

  it("the plan's row and risk line per VM (not one more line under each import), no mutating request", async () => {
    const before = await e.mutating();
    const p = await e.ws.preview();
    assert.equal(p.code, 0, p.output);
    for (const name of ["web-01", "app-01", "snap-01"]) {
      assert.equal((p.output.match(new RegExp(`^\\s*VM ${name}\\s+${name} \\(clone\\)\\s`, "gm")) ?? []).length, 1, `${name}: ${p.output}`);
      assert.equal((p.output.match(new RegExp(`VM ${name} arrives as a clone named ${name}: new id, new MAC addresses`, "g")) ?? []).length, 1, `${name}: ${p.output}`);
      // a Migration's imports leave it to the plan (the same line under each import was noise)
      assert.doesNotMatch(p.output, new RegExp(`import ${name}: VM ${name}: ${CLONE_NOTE.replace(/[()]/g, "\\$&")}`), p.output);
    }
    assert.ok(changeCounts(p.output)["create"] > 0, p.output);
    assert.equal(await e.mutating(), before, "preview sent a mutating request");
  });
});

describe("same engine, real CLI: examples/template-thin-vm with the template listed only for thin-01 (neededBy)", function () {
  this.timeout(5 * 60_000);
  let e: E2E;
  before(async () => {
    e = await startE2E(example("template-thin-vm"), "e2e-thin-needed-by", { "migration:templateOnlyForThinVm": "true" });
  });
  after(async () => e?.close());

  it("the preview plans no template copy and says why; up moves thin-01 flat with equal content; nothing of the template moves", async () => {
    const before = await e.mutating();
    const p = await e.ws.preview();
    assert.equal(p.code, 0, p.output);
    assert.match(p.output, /template rhel9-base: neither exported nor imported: every VM that needs it \(thin-01\) is imported as a clone/, p.output);
    assert.doesNotMatch(p.output, /export-template-rhel9-base|import-template-rhel9-base/, p.output);
    assert.match(p.output, /^\s*VM thin-01\s+thin-01 \(clone\)\s/m, p.output);
    assert.equal(await e.mutating(), before, "preview sent a mutating request");
    const src = (await diskReportOf(e)).vms.find((v) => v.name === "thin-01" && v.dataCenter === "dc-source")!;
    const up = await e.ws.run(["up", "--yes", "--stack", e.ws.stack, "--non-interactive"]);
    assert.equal(up.code, 0, up.output.slice(-4000));
    const rep = await diskReportOf(e);
    const dst = rep.vms.filter((v) => v.name === "thin-01" && v.dataCenter === "dc-target");
    assert.equal(dst.length, 1);
    assert.notEqual(dst[0].id, src.id, "a clone");
    assert.deepEqual(shas(dst[0]), shas(src), "the flat clone has the thin VM's content");
    assert.equal(rep.templates.filter((t) => t.dataCenter === "dc-target").length, 0, "no template copied to dc-target");
    assert.equal(rep.exportDomains.find((x) => x.name === "export1")!.templates.length, 0, "no template on the export domain");
    const out = (await e.ws.outputs()).imported["vm:thin-01"];
    assert.equal(out.cloned, true);
    assert.equal(out.collapsed, true);
  });
});

async function diskReportOf(e: E2E) {
  return (await e.t.admin("GET", "disks")) as Awaited<ReturnType<typeof diskReport>>;
}
