// provider/checkGroups.ts: a failing check of a group member is deferred (logged under its resource, answered without
// failures) until the group's last member is checked, which then fails with every member's failure; connection
// failures are not deferred; while a failure is pending no create/update/delete runs.
import { strict as assert } from "assert";
import { groupedCheck, pendingCheckFailures, resetCheckGroups } from "../../provider/checkGroups";
import { getProvider } from "../../provider";

const urn = (n: string) => `urn:pulumi:s::p::ovirt:migrate:Migration$pulumi-nodejs:dynamic/ovirt:VmExport::${n}`;
const news = (n: string, size = 3, id = "g1") => ({ name: n, __checkGroup: { id, size }, __progressUrn: urn(n) });

describe("provider: every failing check of a group in one run (checkGroups)", () => {
  let logged: Array<[string, string]>;
  const log = async (m: string, u: string) => void logged.push([m, u]);
  beforeEach(() => {
    resetCheckGroups();
    logged = [];
  });
  after(() => resetCheckGroups());

  it("defers the failures of earlier members and reports them all on the last one", async () => {
    const bad1 = await groupedCheck("VmExport", news("a"), { inputs: news("a"), failures: [{ property: "name", reason: "name: VM a does not exist" }] }, urn("a"), log);
    assert.deepEqual(bad1.failures, []);
    assert.match(logged[0][0], /VmExport resource 'a': property name value \{a\} has a problem: name: VM a does not exist/);
    assert.equal(logged[0][1], urn("a"));
    assert.match(pendingCheckFailures() ?? "", /refused: 1 resource\(s\)/);
    const good = await groupedCheck("VmExport", news("b"), { inputs: news("b") }, urn("b"), log);
    assert.deepEqual(good.failures, undefined);
    const last = await groupedCheck("VmExport", news("c"), { inputs: news("c"), failures: [{ property: "cluster", reason: "cluster: nope" }] }, urn("c"), log);
    assert.equal(last.failures!.length, 2);
    assert.equal(last.failures![0].property, "cluster");
    assert.match(last.failures![1].reason, /1 other resource declared with this one failed its check in this run[^]*- a \(VmExport\): name: VM a does not exist/);
    assert.equal(pendingCheckFailures(), undefined, "reported: nothing pending any more");
  });

  it("a group without failures answers as the checks did", async () => {
    for (const n of ["a", "b", "c"]) assert.deepEqual((await groupedCheck("VmExport", news(n), { inputs: news(n) }, urn(n), log)).failures, undefined);
    assert.deepEqual(logged, []);
  });

  it("an engine connection failure is reported at once, with what was deferred", async () => {
    await groupedCheck("VmExport", news("a"), { inputs: news("a"), failures: [{ property: "name", reason: "bad a" }] }, urn("a"), log);
    const r = await groupedCheck("VmExport", news("b"), { inputs: news("b"), failures: [{ property: "engine.url", reason: "engine.url: nobody listens" }] }, urn("b"), log);
    assert.equal(r.failures!.length, 2);
    assert.match(r.failures![1].reason, /- a \(VmExport\): bad a/);
  });

  it("without a group (or a group of one) a failure is answered at once", async () => {
    const plain = { name: "x", __progressUrn: urn("x") };
    const r = await groupedCheck("VmExport", plain, { inputs: plain, failures: [{ property: "name", reason: "bad" }] }, urn("x"), log);
    assert.equal(r.failures!.length, 1);
    const one = news("y", 1);
    assert.equal((await groupedCheck("VmExport", one, { inputs: one, failures: [{ property: "name", reason: "bad" }] }, urn("y"), log)).failures!.length, 1);
  });

  it("a member checked again starts a new round (a second deployment in the same process)", async () => {
    await groupedCheck("VmExport", news("a", 2), { inputs: news("a", 2) }, urn("a"), log);
    await groupedCheck("VmExport", news("b", 2), { inputs: news("b", 2) }, urn("b"), log);
    const again = await groupedCheck("VmExport", news("a", 2), { inputs: news("a", 2), failures: [{ property: "name", reason: "bad" }] }, urn("a"), log);
    assert.deepEqual(again.failures, [], "deferred: b is still to come in this round");
    const last = await groupedCheck("VmExport", news("b", 2), { inputs: news("b", 2) }, urn("b"), log);
    assert.equal(last.failures!.length, 1);
  });

  it("while a failure is pending, the providers refuse create, update and delete before touching anything", async () => {
    await groupedCheck("VmExport", news("a"), { inputs: news("a"), failures: [{ property: "name", reason: "name: VM a does not exist" }] }, urn("a"), log);
    const p = getProvider("VmExport");
    await assert.rejects(() => p.create({ name: "b" }), /refused: 1 resource\(s\) of this program failed their checks[^]*a \(VmExport\)/);
    await assert.rejects(() => p.update!("id", {}, {}), /refused/);
    await assert.rejects(() => p.delete!("id", {}), /refused/);
  });
});
