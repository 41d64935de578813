// The migration plan of a data-domain move (issue 14 for method "data-domain"): against simulator inventories,
// every fact a reviewer reads (names and conflicts in the target, running and split VMs, what leaves the source
// without being registered, the template registered before its thin VM, snapshots kept, 0 bytes copied, the storage
// phases and the estimate's basis), shown once by the plan's check and written as Markdown, with 0 mutating requests.
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { PROVIDER_SIM, providerOf, checkAndCreate } from "./helpers";
import { computeDataDomainPlan } from "../../provider/plan/dataDomain";
import { migrationPlanProvider, lastDataDomainPlans, lastPlans } from "../../provider/plan/resource";
import { renderMarkdown, renderSummary, renderTable } from "../../provider/plan/render";
import { sink } from "../../provider/plan/log";
import { PlanSpec, DataDomainPlan, MiB } from "../../provider/plan/model";
import { clearReadCache } from "../../provider/operations/readCache";
import { closeAllEngines } from "../../provider/client";

const MIG_URN = "urn:pulumi:s::p::ovirt:migrate:Migration::m";

const inventory = (opts: { runUp?: boolean } = {}) => ({
  dataCenters: [
    {
      name: "dc-src",
      clusters: [{ name: "cl-src" }],
      hosts: [{ name: "h-src", cluster: "cl-src" }],
      storageDomains: [{ name: "data-src" }, { name: "data-move" }],
    },
    { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] },
  ],
  templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
  vms: [
    { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }, { description: "s2" }], disks: [{ sizeMiB: 16, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-move" }] },
    { name: "thin", cluster: "cl-src", template: "tpl" },
    { name: "split", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-src" }] },
    { name: "run", cluster: "cl-src", status: opts.runUp === false ? ("down" as const) : ("up" as const), disks: [{ sizeMiB: 4, storageDomain: "data-move" }] },
    { name: "stay", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-src" }] },
    // a VM named like web in the target data center: web needs a new name there
    { name: "web", cluster: "cl-dst", disks: [{ sizeMiB: 8, storageDomain: "data-dst" }] },
  ],
});

type Ent = Partial<PlanSpec["entities"][number]> & { name: string; kind?: "vm" | "template" };

function spec(t: TestSimulator, ents: Ent[], over: Partial<PlanSpec> = {}): PlanSpec {
  return {
    name: "m",
    engine: t.engine,
    crossEngine: false,
    method: "data-domain",
    dataDomain: "data-move",
    source: { dataCenter: "dc-src" },
    target: { dataCenter: "dc-dst", cluster: "cl-dst" },
    stage: "all",
    concurrency: 1,
    entities: ents.map((e) => ({ kind: "vm" as const, exported: false, imported: true, ...e })),
    ...over,
  };
}

const entity = (p: DataDomainPlan, name: string) => {
  const e = p.entities.find((x) => x.name === name);
  assert.ok(e, `${name} in the plan`);
  return e!;
};

describe("migration plan of a data-domain move: facts at preview (reads only)", function () {
  this.timeout(120_000);
  let t: TestSimulator;
  before(async () => {
    t = await startTestSimulator({ ...PROVIDER_SIM, inventory: inventory() });
  });
  after(async () => {
    await closeAllEngines({ revoke: false });
    await t?.close();
  });
  beforeEach(async () => {
    clearReadCache();
    await t.resetRequests();
  });
  afterEach(async () => assert.equal(await t.mutating(), 0, "computing the plan sent a mutating request"));

  it("names in the target: a taken name is refused (set newName), newName wins, a clone gets a new id; the split VM keeps its id in the source", async () => {
    const p = await computeDataDomainPlan(
      spec(t, [{ kind: "template", name: "tpl" }, { name: "web" }, { name: "thin" }, { name: "split" }, { name: "run" }], { allowSplitVms: true, allowPartialImport: true }),
    );
    assert.equal(p.where, "source");
    assert.equal(p.domainState, "attached to dc-src");
    assert.equal(entity(p, "web").outcome, "conflict");
    assert.match(entity(p, "web").why!, /a VM named web exists in dc-dst: set newName/);
    assert.equal(entity(p, "thin").outcome, "register");
    assert.equal(entity(p, "thin").targetName, "thin");
    // split stays in dc-src with its disk on data-src, keeping its id: registered without clone it collides
    assert.equal(entity(p, "split").outcome, "conflict");
    assert.match(entity(p, "split").why!, /its id stays in use .*split_Disk2.*set onConflict "clone"/);
    assert.deepEqual(entity(p, "split").notMoving, ["split_Disk2"]);

    const fixed = await computeDataDomainPlan(
      spec(t, [{ kind: "template", name: "tpl" }, { name: "web", newName: "web-moved" }, { name: "thin" }, { name: "split", onConflict: "clone", newName: "split-copy" }, { name: "run" }], {
        allowSplitVms: true,
        allowPartialImport: true,
      }),
    );
    assert.equal(entity(fixed, "web").outcome, "register");
    assert.equal(entity(fixed, "web").targetName, "web-moved");
    assert.equal(entity(fixed, "split").outcome, "clone");
    assert.equal(entity(fixed, "split").targetName, "split-copy");
    assert.ok(fixed.risks.some((r) => /VM split is registered as a clone named split-copy: new id and new MAC addresses/.test(r)), fixed.risks.join("\n"));
    const table = renderTable(fixed);
    assert.match(table, /^VM web\s+web-moved\s+cl-dst\s+2: 24\.0 MiB \/ /m);
    assert.match(table, /^VM split\s+split-copy \(clone: new id\)\s+cl-dst\s+1: 8\.0 MiB \/ .*; stay: split_Disk2/m);
  });

  it("disks are not copied, snapshots kept, the template registered before its thin VM; 0 bytes copied; the domain's data counted", async () => {
    const p = await computeDataDomainPlan(spec(t, [{ kind: "template", name: "tpl" }, { name: "web", newName: "web-moved" }, { name: "thin" }, { name: "run" }], { allowSplitVms: true }));
    const web = entity(p, "web");
    assert.equal(web.snapshots, 2);
    assert.deepEqual(web.disks.map((d) => [d.provisioned, d.onDomain]), [[16 * MiB, true], [8 * MiB, true]]);
    assert.equal(entity(p, "thin").template?.name, "tpl");
    assert.equal(entity(p, "thin").template?.registeredHere, true);
    assert.equal(p.totals.bytesCopied, 0);
    assert.equal(p.totals.entities, 4);
    // what moves: the actual sizes of the migration's disks on the domain, and the domain's own used space
    assert.equal(p.totals.entityBytes, p.entities.flatMap((x) => x.disks.filter((d) => d.onDomain)).reduce((a, d) => a + d.actual, 0));
    assert.ok(p.totals.entityBytes > 0);
    assert.ok(p.totals.domainUsed !== undefined);
    const keys = p.phases.map((x) => x.key);
    assert.deepEqual(keys, ["deactivate", "detach", "attach", "templates", "vms"]);
    assert.ok(keys.indexOf("templates") < keys.indexOf("vms"), "templates are registered before the VMs");
    assert.deepEqual(p.phases.filter((x) => x.key === "templates" || x.key === "vms").map((x) => x.entities), [1, 3]);
    const table = renderTable(p);
    assert.match(table, /4 entities to register, 0 B copied; .* of their disks move with the domain/);
    assert.match(table, /^VM web\s+web-moved\s+cl-dst\s+2: 24\.0 MiB \/ \S+ \S+\s+2, kept\s+none \(flat\)\s+down$/m);
    assert.match(table, /^VM thin\s+thin\s+cl-dst\s+.*tpl \(registered first\)/m);
    // a fresh engine has run no storage job: said, not guessed
    assert.equal(p.estimate.seconds, undefined);
    assert.match(p.estimate.basis, /^no estimate: the engines list no finished storage-domain or register job/);
  });

  it("a running VM blocks the detach; what leaves the source without being registered, and split VMs, are listed", async () => {
    const p = await computeDataDomainPlan(spec(t, [{ kind: "template", name: "tpl" }, { name: "web", newName: "web-moved" }, { name: "thin" }]));
    assert.ok(p.failures.some((f) => f.property === "dataDomain" && /are running in dc-src: run \(up\)/.test(f.reason)), JSON.stringify(p.failures));
    assert.ok(p.failures.some((f) => f.property === "allowSplitVms" && /VM split has disks on data-move \(split_Disk1\) and on other domains \(split_Disk2\)/.test(f.reason)));
    assert.deepEqual(
      [...p.leaving].sort(),
      ["VM split stays, losing disks split_Disk1", "template tpl (cluster cl-src)", "vm run (cluster cl-src): NOT registered by this migration", "vm thin (cluster cl-src)", "vm web (cluster cl-src)"],
    );
    assert.ok(p.risks.some((r) => /^vm run leaves dc-src with data-move but is not registered by this migration/.test(r)), p.risks.join("\n"));
    assert.ok(p.risks.some((r) => /VM split has disks on data-move and elsewhere: it stays in dc-src without split_Disk1/.test(r)));
    const withRun = await computeDataDomainPlan(spec(t, [{ kind: "template", name: "tpl" }, { name: "run" }], { allowSplitVms: true }));
    assert.match(renderTable(withRun), /^VM run\s+run\s+cl-dst\s+1: 4\.0 MiB .*\s+up: blocks the detach$/m);
    assert.match(renderTable(withRun), /^REFUSED \(by the move's own checks\):\n {2}- dataDomain: VMs with disks on data domain data-move are running in dc-src: run \(up\)/m);
  });

  it("the provider's check shows the table once under the Migration, writes the Markdown, and leaves the refusals to the move's own checks", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddplan-md-"));
    sink.lines = [];
    try {
      const file = path.join(dir, "plan.md");
      const { name, engine, ...rest } = spec(t, [{ kind: "template", name: "tpl" }, { name: "web", newName: "web-moved" }, { name: "thin" }, { name: "run" }], { planFile: file, allowSplitVms: true });
      const news = { name, engine, __plan: rest, __migrationUrn: MIG_URN };
      const r = await migrationPlanProvider.check!({}, news);
      // run is up: the attachment's check refuses the move (property storageDomain); the plan says it, the plan's own
      // check does not fail (a failure here would end the preview before the attachment names its argument)
      assert.deepEqual(r.failures, []);
      const plan = lastDataDomainPlans.get("m")!;
      assert.ok(plan, "the data-domain plan is kept");
      assert.equal(lastPlans.has("m") && (lastPlans.get("m") as unknown) === plan, false);
      const mine = sink.lines.filter((l) => l.urn === MIG_URN && /^Migration plan m: /.test(l.message));
      assert.equal(mine.length, 1, "one table per migration");
      assert.equal(mine[0].severity, "warning");
      assert.equal(mine[0].message, `Migration plan m: ${renderTable(plan)}`);
      const md = fs.readFileSync(file, "utf8");
      assert.equal(md.trim(), renderMarkdown(plan).trim());
      assert.match(md, /^### Migration plan `m` \(data-domain move\)$/m);
      assert.match(md, /\| VM web \| web-moved \| cl-dst \| 2: 24\.0 MiB \/ /);
      assert.match(md, /^\*\*Phases\*\* \(4 entities to register, 0 B copied; /m);
      // pulumi up's own run (after its preview): the summary, not the table again
      sink.lines = [];
      await migrationPlanProvider.check!({}, { ...news, __dryRun: false });
      const summary = sink.lines.filter((l) => l.urn === MIG_URN);
      assert.equal(summary.length, 1);
      assert.equal(summary[0].message, `Migration plan m: ${renderSummary(plan)}`);
      assert.doesNotMatch(summary[0].message, /^VM web/m);
      const created = await migrationPlanProvider.create!(r.inputs);
      assert.deepEqual(created.outs.totals, { entities: 4, exportBytes: 0, importBytes: 0, seconds: null });
    } finally {
      sink.lines = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("migration plan of a data-domain move: a resumed move (the domain moved already) and a measured estimate", function () {
  this.timeout(300_000);
  let t: TestSimulator;
  before(async () => {
    t = await startTestSimulator({ ...PROVIDER_SIM, inventory: inventory({ runUp: false }) });
  });
  after(async () => {
    await closeAllEngines({ revoke: false });
    await t?.close();
  });

  it("after the move: entities judged from the domain's unregistered listing, one registered already is done; the estimate from the engine's storage jobs", async () => {
    const ents: Ent[] = [{ kind: "template", name: "tpl" }, { name: "web", newName: "web-moved" }, { name: "thin" }, { name: "run" }];
    // the move and the template's registration, as a `pulumi up` killed after them leaves the engine
    await checkAndCreate("DataDomainAttachment", { engine: t.engine, storageDomain: "data-move", dataCenter: "dc-dst", moveFrom: { dataCenter: "dc-src" }, allowSplitVms: true });
    await checkAndCreate("VmRegistration", { engine: t.engine, storageDomain: "data-move", kind: "template", name: "tpl", cluster: "cl-dst" });
    clearReadCache();
    await t.resetRequests();
    const p = await computeDataDomainPlan(spec(t, ents, { allowSplitVms: true, allowPartialImport: true }));
    assert.equal(await t.mutating(), 0);
    assert.equal(p.where, "target");
    assert.equal(p.domainState, "attached to dc-dst (moved already)");
    assert.equal(entity(p, "tpl").outcome, "done");
    assert.equal(entity(p, "web").outcome, "register");
    assert.equal(entity(p, "web").targetName, "web-moved");
    assert.equal(entity(p, "web").snapshots, 0, "an unregistered listing carries no snapshots: none claimed");
    assert.equal(entity(p, "thin").template?.inTarget, true);
    // the storage operations are behind: only the registrations are left
    assert.deepEqual(p.phases.map((x) => x.key), ["templates", "vms"]);
    assert.deepEqual(p.phases.map((x) => x.entities), [0, 3]);
    // the engine ran deactivate, detach, attach/activate and a register: their jobs are the estimate's basis
    assert.match(p.estimate.basis, /^measured: median durations of \d+ recent storage-domain\/register jobs \(.*register /);
    assert.ok(p.estimate.seconds !== undefined && p.estimate.seconds >= 0);
  });
});
