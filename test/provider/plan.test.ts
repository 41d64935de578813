// The migration plan (issue 14) against simulator inventories: every fact a reviewer reads (names in the target,
// conflicts, snapshots, thin VMs and their templates, power state, sizes, space, phases, estimate, risks), a move
// that cannot fit failing at preview with the domain, the space needed and the space free, a second engine, and 0
// mutating requests while it is computed.
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { PROVIDER_SIM } from "./helpers";
import type { Inventory } from "../../simulator";
import { computePlan } from "../../provider/plan/compute";
import { migrationPlanProvider, lastPlans } from "../../provider/plan/resource";
import { renderMarkdown, renderTable } from "../../provider/plan/render";
import { PlanSpec, Plan, MiB, GiB } from "../../provider/plan/model";
import { clearReadCache } from "../../provider/operations/readCache";
import { connect } from "../../provider/client";

const MIG_URN = "urn:pulumi:s::p::ovirt:migrate:Migration::m";

function inventory(opts: { targetGiB?: number; exportGiB?: number; takenInTarget?: boolean } = {}): Inventory & { dataCenters: NonNullable<Inventory["dataCenters"]> } {
  return {
    dataCenters: [
      {
        name: "dc-src",
        clusters: [{ name: "cl-src" }, { name: "cl-ppc", cpuArchitecture: "ppc64" }],
        hosts: [{ name: "h-src", cluster: "cl-src" }],
        storageDomains: [{ name: "data-src", sizeGiB: 50 }],
      },
      {
        name: "dc-tgt",
        clusters: [{ name: "cl-tgt" }],
        hosts: [{ name: "h-tgt", cluster: "cl-tgt" }],
        storageDomains: [
          { name: "data-tgt", sizeGiB: opts.targetGiB ?? 50 },
          { name: "block-tgt", storageType: "iscsi", sizeGiB: 50 },
        ],
      },
    ],
    exportDomains: [{ name: "exp1", path: "exports/exp1", attachedTo: "dc-src", sizeGiB: opts.exportGiB ?? 100 }],
    templates: [{ name: "tpl-a", cluster: "cl-src", disks: [{ alias: "tpl-a_d", sizeMiB: 40 }] }],
    vms: [
      { name: "flat-01", cluster: "cl-src", disks: [{ alias: "flat-01_d", sizeMiB: 64, sparse: true, format: "cow" }] },
      { name: "pre-01", cluster: "cl-src", disks: [{ alias: "pre-01_d", sizeMiB: 30, sparse: false, format: "raw" }] },
      { name: "snap-01", cluster: "cl-src", snapshots: [{ description: "s1" }, { description: "s2" }], disks: [{ alias: "snap-01_d", sizeMiB: 32, sparse: true, format: "cow" }] },
      { name: "thin-01", cluster: "cl-src", template: "tpl-a" },
      { name: "run-01", cluster: "cl-src", status: "up", disks: [{ alias: "run-01_d", sizeMiB: 16 }] },
      { name: "taken-01", cluster: "cl-src", disks: [{ alias: "taken-01_d", sizeMiB: 16 }] },
      { name: "ppc-01", cluster: "cl-ppc", disks: [{ alias: "ppc-01_d", sizeMiB: 8 }] },
      ...(opts.takenInTarget === false ? [] : [{ name: "taken-01", cluster: "cl-tgt", disks: [{ alias: "taken-01_t", sizeMiB: 16 }] }]),
    ],
  };
}

function spec(sim: TestSimulator, over: Partial<PlanSpec> = {}, vms: Array<Partial<PlanSpec["entities"][number]> & { name: string }> = []): PlanSpec {
  return {
    name: "m",
    engine: sim.engine,
    crossEngine: false,
    source: { dataCenter: "dc-src" },
    target: { dataCenter: "dc-tgt", cluster: "cl-tgt", storageDomain: "data-tgt" },
    exportDomain: "exp1",
    stage: "all",
    concurrency: 2,
    entities: vms.map((v) => ({ kind: "vm" as const, exported: true, imported: true, onConflict: "clone" as const, ...v })),
    ...over,
  };
}

const entity = (p: Plan, name: string) => {
  const e = p.entities.find((x) => x.name === name);
  assert.ok(e, `${name} in the plan`);
  return e!;
};

describe("migration plan: facts at preview from the engine (reads only)", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory: inventory() });
  });
  after(async () => sim?.close());
  beforeEach(async () => {
    clearReadCache();
    await sim.resetRequests();
  });
  afterEach(async () => assert.equal(await sim.mutating(), 0, "computing the plan sent a mutating request"));

  it("names in the target: every import within one engine is a clone; a taken name gets -clone, newName/cloneSuffix win", async () => {
    const p = await computePlan(
      spec(sim, {}, [{ name: "flat-01" }, { name: "taken-01" }, { name: "pre-01", newName: "pre-new" }, { name: "snap-01", onConflict: "skip" }]),
    );
    assert.deepEqual(
      p.entities.map((e) => [e.name, e.outcome, e.targetName]),
      [
        ["flat-01", "clone", "flat-01"],
        ["taken-01", "clone", "taken-01-clone"],
        ["pre-01", "clone", "pre-new"],
        ["snap-01", "skip", "snap-01"],
      ],
    );
    assert.match(entity(p, "taken-01").why!, /taken-01 exists in dc-tgt: renamed/);
    assert.equal(entity(p, "snap-01").importBytes, 0, "a skipped VM copies nothing into the target");
    assert.ok(p.risks.some((r) => /VM taken-01 arrives as a clone named taken-01-clone: new id, new MAC addresses/.test(r)), p.risks.join("\n"));
  });

  it("one batch, one CPU architecture: the migration's VMs are checked once, by the plan, naming each VM's architecture", async () => {
    const mixed = await computePlan(spec(sim, {}, [{ name: "flat-01" }, { name: "ppc-01" }, { name: "pre-01" }]));
    const f = mixed.failures.find((x) => x.property === "vms");
    assert.ok(f, JSON.stringify(mixed.failures));
    assert.match(f!.reason, /batch "m" mixes CPU architectures: flat-01 \(x86_64\), ppc-01 \(ppc64\), pre-01 \(x86_64\)/);
    assert.match(f!.reason, /split the migration into one per architecture/);
    const same = await computePlan(spec(sim, {}, [{ name: "flat-01" }, { name: "pre-01" }]));
    assert.ok(!same.failures.some((x) => x.property === "vms"), JSON.stringify(same.failures));
    const alone = await computePlan(spec(sim, {}, [{ name: "ppc-01" }]));
    assert.ok(!alone.failures.some((x) => x.property === "vms"), "one VM is no batch");
  });

  it("disks, snapshots and the template: sizes as the engine reports them, collapse on export or import, thin VM without collapse", async () => {
    const p = await computePlan(
      spec(sim, {}, [{ name: "flat-01" }, { name: "snap-01", discardSnapshots: true }, { name: "thin-01" }]),
    );
    const flat = entity(p, "flat-01");
    assert.deepEqual(flat.disks.map((d) => [d.alias, d.provisioned, d.format, d.sparse, d.storageDomain]), [["flat-01_d", 64 * MiB, "cow", true, "data-tgt"]]);
    assert.ok(flat.disks[0].actual > 0 && flat.disks[0].actual <= 64 * MiB);
    const snap = entity(p, "snap-01");
    assert.equal(snap.snapshots, 2);
    assert.equal(snap.collapsed, true);
    assert.equal(snap.collapsedWhere, "export");
    assert.ok(p.risks.some((r) => /VM snap-01 loses its 2 snapshots: collapsed on export \(discardSnapshots\)/.test(r)), p.risks.join("\n"));
    const thin = entity(p, "thin-01");
    // within one engine the clone collapses: the template is not needed in the target
    assert.deepEqual(thin.template, { name: "tpl-a", travels: false, inTarget: false, needed: false });
    assert.equal(renderTable(p).split("\n").filter((l) => /^VM thin-01 /.test(l)).length, 1);
  });

  it("power: a running VM is shut down with shutdownIfRunning, else its export is refused (both are risks)", async () => {
    const p = await computePlan(spec(sim, {}, [{ name: "run-01", shutdownIfRunning: true }]));
    assert.equal(entity(p, "run-01").shutdown, "will be shut down");
    assert.equal(entity(p, "run-01").status, "up");
    assert.ok(p.risks.some((r) => /VM run-01 is up: it is shut down for the export/.test(r)), p.risks.join("\n"));
    clearReadCache();
    const q = await computePlan(spec(sim, {}, [{ name: "run-01" }]));
    assert.equal(entity(q, "run-01").shutdown, "running: export refused");
    assert.ok(q.risks.some((r) => /VM run-01 is up: the export is refused unless/.test(r)), q.risks.join("\n"));
  });

  it("phases, totals and space: waves of `concurrency`, bytes per phase, what lands on the export domain and the target", async () => {
    const p = await computePlan(
      spec(sim, { concurrency: 2, throughputMiBps: 50 }, [{ name: "flat-01" }, { name: "pre-01" }, { name: "snap-01" }]),
    );
    const phase = (k: string) => p.phases.find((x) => x.key === k)!;
    assert.deepEqual(p.phases.map((x) => x.key), ["attach", "export", "move", "templates", "vms", "permissions"]);
    assert.equal(phase("export").entities, 3);
    assert.match(phase("export").parallel, /^2 waves of at most 2/);
    // pre-01 is preallocated raw: its whole size is copied and lands as is
    const pre = entity(p, "pre-01");
    assert.equal(pre.exportBytes, 30 * MiB);
    assert.equal(pre.exportSpace, 30 * MiB);
    assert.equal(phase("export").bytes, p.entities.reduce((a, e) => a + e.exportBytes, 0));
    assert.equal(phase("vms").bytes, p.totals.importBytes);
    const exp = p.space.find((s) => s.role === "export domain")!;
    assert.equal(exp.domain, "exp1");
    assert.equal(exp.needed, p.entities.reduce((a, e) => a + e.exportSpace, 0));
    assert.ok(exp.available! > 90 * GiB && exp.fits);
    // a COW disk takes 10% more (StorageConstants.QCOW_OVERHEAD_FACTOR)
    assert.ok(entity(p, "flat-01").exportSpace > entity(p, "flat-01").exportBytes);
    const tgt = p.space.find((s) => s.role === "target")!;
    assert.equal(tgt.domain, "data-tgt");
    assert.equal(tgt.blockerGiB, 5);
    // declared throughput: the estimate is bytes / throughput, with its basis
    assert.match(p.throughput.basis, /^declared: throughputMiBps 50/);
    assert.ok(Math.abs(p.totalSeconds! - (p.totals.exportBytes + p.totals.importBytes) / (50 * MiB)) < 0.01);
  });

  it("per-disk domains: each target domain is checked against what lands on it", async () => {
    const p = await computePlan(spec(sim, {}, [{ name: "flat-01", diskDomains: [{ alias: "flat-01_d", storageDomain: "block-tgt" }] }, { name: "pre-01" }]));
    assert.deepEqual(p.space.filter((s) => s.role === "target").map((s) => s.domain).sort(), ["block-tgt", "data-tgt"]);
    assert.deepEqual(Object.keys(entity(p, "flat-01").importSpace), ["block-tgt"]);
  });

  it("the estimate is measured from the engine's recent export jobs (durations and sizes) when none is declared", async () => {
    const none = await computePlan(spec(sim, {}, [{ name: "pre-01" }]));
    assert.equal(none.throughput.bytesPerSecond, undefined);
    assert.match(none.throughput.basis, /no estimate/);
    assert.equal(none.totalSeconds, undefined);
    // one real export (not part of the plan's requests: the counter is reset after it)
    const c = connect({ url: sim.engine.url, username: sim.engine.username, password: sim.engine.password, caFile: sim.engine.caFile });
    const vm = (await c.vms.list('name="pre-01"'))[0];
    const sd = (await c.storageDomains.list()).find((d) => d.name === "exp1")!;
    await c.vms.export(vm.id, { exportDomainId: sd.id, exclusive: true, discardSnapshots: false, correlationId: "6b1f0a52-6d7e-4c59-9d1b-2f3c4a5b6c7d" });
    for (let i = 0; i < 100 && !(await c.events.list({ search: "type=1150" })).length; i++) await new Promise((r) => setTimeout(r, 100));
    await sim.resetRequests();
    clearReadCache();
    const p = await computePlan(spec(sim, {}, [{ name: "pre-01" }]));
    assert.match(p.throughput.basis, /^measured: 1 recent export\/import job, 30\.0 MiB in /, p.throughput.basis);
    assert.ok(p.throughput.bytesPerSecond! > 0);
    assert.ok(p.totalSeconds! > 0);
    assert.equal(entity(p, "pre-01").onExportDomain, true);
  });

  it("the outputs hold a digest of the spec, not a second copy; a new entity is a change, where the plan is written is not", async () => {
    clearReadCache();
    const { name, engine, ...rest } = spec(sim, {}, [{ name: "flat-01" }, { name: "pre-01" }]);
    const news = { name, engine, __plan: rest, __migrationUrn: MIG_URN };
    const r = await migrationPlanProvider.check!({}, news);
    assert.deepEqual(r.failures, []);
    const { outs } = await migrationPlanProvider.create!(r.inputs);
    assert.equal(outs.__plan, undefined, "the spec is not copied into the outputs");
    assert.match(outs.__planDigest, /^[0-9a-f]{64}$/);
    assert.equal(outs.name, "m");
    assert.deepEqual(outs.engine, engine, "the engine stays (a secret output), compared as it is");
    assert.equal(outs.totals.entities, 2);
    const diff = (n: any) => migrationPlanProvider.diff!("plan:m", outs, n);
    assert.equal((await diff(news)).changes, false, "the same program");
    assert.equal((await diff({ ...news, __plan: { ...rest, planFile: "/tmp/elsewhere.md", throughputMiBps: 7 } })).changes, false, "planFile and throughputMiBps change no migration");
    assert.equal((await diff({ ...news, __plan: { ...rest, entities: [...rest.entities, { ...rest.entities[0], name: "new-01" }] } })).changes, true, "a new VM");
    assert.equal((await diff({ ...news, __plan: { ...rest, target: { ...rest.target, storageDomain: "data-other" } } })).changes, true, "another target");
    assert.equal((await diff({ ...news, engine: { ...engine, username: "other@internal" } })).changes, true, "another engine user");
    // a state written before the digest (the whole spec in the outputs) is compared as before
    const old = { ...news, totals: outs.totals };
    assert.equal((await migrationPlanProvider.diff!("plan:m", old, news)).changes, false);
    assert.equal((await migrationPlanProvider.diff!("plan:m", old, { ...news, __plan: { ...rest, concurrency: 9 } })).changes, true);
  });

  it("the provider's check shows the table, writes the Markdown file and registers nothing changed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-md-"));
    try {
      const file = path.join(dir, "sub", "plan.md");
      const { name, engine, ...rest } = spec(sim, { planFile: file }, [{ name: "flat-01" }]);
      const news = { name, engine, __plan: rest, __migrationUrn: MIG_URN };
      const r = await migrationPlanProvider.check!({}, news);
      assert.deepEqual(r.failures, []);
      const md = fs.readFileSync(file, "utf8");
      assert.equal(md.trim(), renderMarkdown(lastPlans.get("m")!).trim());
      assert.match(md, /\| VM flat-01 \| flat-01 \(clone\) \| cl-tgt \/ data-tgt \| 1: 64\.0 MiB \/ /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("migration plan: a move that cannot fit fails at preview", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    // 0.05 GiB = 51.2 MiB in the target (taken-01 uses 16 MiB of it); the export domain holds 0.08 GiB = 81.9 MiB
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory: inventory({ targetGiB: 0.05, exportGiB: 0.08 }) });
  });
  after(async () => sim?.close());

  it("names the domain, the space needed and the space free (target domain and export domain), changing nothing", async () => {
    clearReadCache();
    await sim.resetRequests();
    const { name, engine, ...rest } = spec(sim, {}, [{ name: "flat-01" }, { name: "pre-01" }]);
    const r = await migrationPlanProvider.check!({}, { name, engine, __plan: rest, __migrationUrn: MIG_URN });
    assert.equal(await sim.mutating(), 0);
    const byProp = new Map(r.failures!.map((f) => [f.property, f.reason]));
    // 51.2 MiB minus the 16 MiB of the taken-01 already there
    assert.match(
      byProp.get("target.storageDomain") ?? "",
      /^target\.storageDomain: target data-tgt cannot hold this migration: it needs [\d.]+ MiB and has 35\.2 MiB free \(short by [\d.]+ MiB\)/,
      JSON.stringify(r.failures),
    );
    assert.match(byProp.get("exportDomain") ?? "", /^exportDomain: export domain exp1 cannot hold this migration: it needs [\d.]+ MiB and has 81\.9 MiB free/, JSON.stringify(r.failures));
    const p = lastPlans.get("m")!;
    const needed = p.space.find((s) => s.domain === "data-tgt")!.needed;
    assert.equal(needed, p.entities.reduce((a, e) => a + (e.importSpace["data-tgt"] ?? 0), 0));
    assert.ok(needed > 35.2 * MiB);
    assert.match(renderTable(p), /target data-tgt: needs [\d.]+ MiB, 35\.2 MiB free -> DOES NOT FIT/);
  });
});

describe("migration plan: a second engine", function () {
  this.timeout(120_000);
  let a: TestSimulator;
  let b: TestSimulator;
  before(async () => {
    a = await startTestSimulator({ ...PROVIDER_SIM, inventory: { ...inventory({ takenInTarget: false }), dataCenters: inventory().dataCenters.slice(0, 1) } });
    const inv = inventory();
    b = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: { dataCenters: inv.dataCenters.slice(1), vms: [{ name: "taken-01", cluster: "cl-tgt", disks: [{ alias: "t", sizeMiB: 8 }] }] },
    });
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it("plain imports keep their names and ids; a name taken there fails with onConflict fail; a thin VM needs its template there", async () => {
    clearReadCache();
    await a.resetRequests();
    await b.resetRequests();
    const p = await computePlan(
      spec(a, { crossEngine: true, targetEngine: b.engine }, [
        { name: "flat-01", onConflict: "fail" },
        { name: "taken-01", onConflict: "fail" },
        { name: "thin-01", onConflict: "fail" },
        { name: "snap-01", onConflict: "fail" },
      ]),
    );
    assert.equal(await a.mutating(), 0);
    assert.equal(await b.mutating(), 0);
    assert.equal(p.crossEngine, true);
    assert.equal(p.targetEngine, b.engine.url);
    assert.deepEqual(
      p.entities.map((e) => [e.name, e.outcome, e.targetName]),
      [
        ["flat-01", "import", "flat-01"],
        ["taken-01", "conflict", "taken-01"],
        ["thin-01", "import", "thin-01"],
        ["snap-01", "import", "snap-01"],
      ],
    );
    // no clone across engines: snapshots are kept, the thin VM keeps its template link
    assert.equal(entity(p, "snap-01").collapsed, false);
    assert.deepEqual(entity(p, "thin-01").template, { name: "tpl-a", travels: false, inTarget: false, needed: true });
    assert.ok(p.risks.some((r) => /VM thin-01 is thin on template tpl-a, which is neither in dc-tgt nor moved by this migration/.test(r)), p.risks.join("\n"));
    assert.ok(p.risks.some((r) => /vm taken-01: taken-01 exists in dc-tgt \(onConflict: fail\): its import fails/.test(r)), p.risks.join("\n"));
    assert.ok(p.risks.some((r) => /^cross-engine move: export domain exp1 leaves/.test(r)), p.risks.join("\n"));
    assert.match(renderTable(p), /from https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api to https:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api \(cross-engine\)/);

    // the template moved by the migration: the thin VM's template "travels"
    clearReadCache();
    const q = await computePlan(
      spec(a, { crossEngine: true, targetEngine: b.engine }, [{ name: "thin-01", onConflict: "fail" }]),
    );
    assert.equal(entity(q, "thin-01").template?.needed, true);
    const withTemplate = await computePlan({
      ...spec(a, { crossEngine: true, targetEngine: b.engine }, [{ name: "thin-01", onConflict: "fail" }]),
      entities: [
        { kind: "template", name: "tpl-a", exported: true, imported: true, onConflict: "fail" },
        { kind: "vm", name: "thin-01", exported: true, imported: true, onConflict: "fail" },
      ],
    });
    assert.deepEqual(entity(withTemplate, "thin-01").template, { name: "tpl-a", travels: true, inTarget: false, needed: true });
    assert.equal(entity(withTemplate, "tpl-a").outcome, "import");
    assert.equal(withTemplate.phases.find((x) => x.key === "templates")!.entities, 1);
    assert.ok(!withTemplate.risks.some((r) => /thin on template/.test(r)));
  });
});
