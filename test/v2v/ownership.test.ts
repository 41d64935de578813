// V2VImport and the shared ownership rule (provider/resources/ownership.ts), against vcsim + sshd + the engine
// simulator: a VM of the target name is this resource's only when the engine's audit log proves it; anything else is
// refused (clone / adopt) or adopted and then never stopped or removed; destroy never stops a VM; cpuProfile changes in
// place; a replace that would delete a VM that has run is refused at diff; virt-v2v verifies the vCenter certificate
// unless the user opts out explicitly.
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { v2vImportProvider, V2VImportOutputs } from "../../provider/resources/v2vImport";
import { connect } from "../../provider/client";
import { admin, startV2vEnv, v2vInputs, v2vUrn, V2vEnv } from "./env";

describe("v2v: V2VImport ownership, destroy, replace guard and vCenter TLS", function () {
  this.timeout(300_000);
  let env: V2vEnv;
  let progressFile: string;
  const savedProgressFile = process.env.OVIRT_MIGRATE_PROGRESS_FILE;

  before(async () => {
    env = await startV2vEnv();
    progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "v2v-progress-")), "progress.jsonl");
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = progressFile;
  });
  after(async () => {
    if (savedProgressFile === undefined) delete process.env.OVIRT_MIGRATE_PROGRESS_FILE;
    else process.env.OVIRT_MIGRATE_PROGRESS_FILE = savedProgressFile;
    await env?.close();
  });

  const inputs = (urn: string, over: Record<string, any> = {}) => v2vInputs(env, { __progressUrn: v2vUrn(urn), sourceVms: ["tools-01"], ...over });
  const engine = () => connect(env.engine);
  const mutating = async () => (await admin(env, "GET", "/requests")).mutating as number;
  const progressLines = (): string[] =>
    fs.existsSync(progressFile) ? fs.readFileSync(progressFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).message as string) : [];
  const power = (name: string, state: "up" | "down") => admin(env, "POST", `/vms/${encodeURIComponent(name)}/power`, { state });

  /** An import made outside this stack (the Administration Portal): origin vmware, another correlation id. */
  async function portalImport(source: string, target: string) {
    const c = engine();
    const cl = (await c.clusters.findByName("cl-target"))!;
    const sd = (await c.storageDomains.findByName("data-target"))!;
    const host = (await c.hosts.list()).find((h) => h.name === "host-v2v")!;
    const cid = crypto.randomUUID();
    await c.http.add(
      "/externalvmimports",
      "external_vm_import",
      {
        name: source,
        provider: "vmware",
        url: `vpx://${env.vc.username}@${env.vc.host}/Region%20A/DC%20East/Prod%20Cluster/${env.inv.esxiHost}?no_verify=1`,
        username: env.vc.username,
        password: env.vc.password,
        cluster: { id: cl.id },
        storage_domain: { id: sd.id },
        vm: { name: target },
        sparse: true,
        host: { id: host.id },
      },
      z.any(),
      { correlationId: cid },
    );
    const t0 = Date.now();
    for (;;) {
      const jobs = await c.jobs.byCorrelationId(cid);
      if (jobs.length && jobs.every((j) => j.status === "finished")) break;
      if (Date.now() - t0 > 60_000) throw new Error(`portal import of ${source} did not finish: ${JSON.stringify(jobs)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const vm = (await c.vms.findByName(target))!;
    assert.equal(vm.origin, "vmware");
    return vm;
  }

  it("a portal-imported VM of the same name (origin vmware) is refused without adopt: true, naming clone and adopt; nothing is changed on it", async () => {
    const vm = await portalImport("db-01", "db-01");
    const c = engine();
    const permsBefore = await c.permissions.list("vm", vm.id);
    const a = inputs("refuse", { sourceVms: ["db-01"], cpuProfile: "gold", permissions: [{ user: "alice@internal-authz", role: "UserVmManager" }] });
    await admin(env, "DELETE", "/requests");
    const chk = await v2vImportProvider.check!({}, a);
    const f = (chk.failures ?? []).find((x) => x.property === "sourceVms");
    assert.ok(f, JSON.stringify(chk.failures));
    assert.match(f!.reason, new RegExp(`VM "db-01" \\(id ${vm.id}, cluster cl-target, origin vmware\\) already exists`));
    assert.match(f!.reason, /not created by this resource.*clone: \{ name.*adopt: true/);
    await assert.rejects(v2vImportProvider.create(a), (e: Error) => {
      assert.match(e.message, new RegExp(`VM "db-01" \\(id ${vm.id}, cluster cl-target, origin vmware\\).*clone.*adopt: true`));
      return true;
    });
    assert.equal(await mutating(), 0, "nothing may be sent to the engine");
    const after = (await c.vms.get(vm.id))!;
    assert.equal(after.status, vm.status);
    assert.equal(after.cpu_profile?.id, vm.cpu_profile?.id);
    assert.equal((await c.permissions.list("vm", vm.id)).length, permsBefore.length);
    // another stack (another URN) importing the same source as the same name does not own this stack's VM either
    const mine = await v2vImportProvider.create(inputs("stack-a", { clone: { suffix: "-a" } }));
    const other = await v2vImportProvider.check!({}, inputs("stack-b", { clone: { suffix: "-a" } }));
    assert.ok((other.failures ?? []).some((x) => x.property === "clone" && /tools-01-a.*not created by this resource/.test(x.reason)), JSON.stringify(other.failures));
    // ... while the same resource (same URN) proves its own import: no failure, and a re-run takes it
    assert.deepEqual((await v2vImportProvider.check!({}, inputs("stack-a", { clone: { suffix: "-a" } }))).failures ?? [], []);
    await v2vImportProvider.delete!(mine.id, mine.outs);
    assert.equal(await c.vms.get((mine.outs as V2VImportOutputs).vms[0].id), undefined);
  });

  it("adopt: true adopts it (announced at preview; CPU profile applied); destroy and a replace keep it, never stopped", async () => {
    const c = engine();
    // the portal-imported db-01 of the test before; alone, this test imports it the same way
    const vm = (await c.vms.findByName("db-01")) ?? (await portalImport("db-01", "db-01"));
    const gold = (await c.clusters.cpuProfiles(vm.cluster!.id!)).find((p) => p.name === "gold")!;
    const a = inputs("adopt", { sourceVms: ["db-01"], adopt: true, cpuProfile: "gold" });
    const chk = await v2vImportProvider.check!({}, a);
    assert.deepEqual(chk.failures ?? [], []);
    assert.ok(progressLines().some((l) => l.includes(`adopting VM db-01 (id ${vm.id}) — it will be kept on destroy`)), progressLines().join("\n"));
    const created = await v2vImportProvider.create(a);
    const out = (created.outs as V2VImportOutputs).vms[0];
    assert.equal(out.id, vm.id);
    assert.equal(out.ownership, "adopted");
    assert.equal(out.adopted, true);
    assert.equal((await c.vms.get(vm.id))!.cpu_profile?.id, gold.id, "an adopted VM may be configured");
    // in production now: a replace is allowed (it never deletes an adopted VM), and destroy keeps it, running
    await power("db-01", "up");
    const d = await v2vImportProvider.diff!(created.id, created.outs, { ...a, sparse: false });
    assert.deepEqual(d.replaces, ["sparse"]);
    await admin(env, "DELETE", "/requests");
    await v2vImportProvider.delete!(created.id, created.outs);
    assert.equal(await mutating(), 0, "destroy must not touch an adopted VM");
    assert.equal((await c.vms.get(vm.id))?.status, "up");
    await power("db-01", "down");
    await c.vms.remove(vm.id);
  });

  it("a created VM: cpuProfile is an update in place; a replace after it ran is refused at diff; a running VM fails destroy without being stopped; then it is removed", async () => {
    const c = engine();
    const a = inputs("created", { clone: { suffix: "-own" } });
    assert.deepEqual((await v2vImportProvider.check!({}, a)).failures ?? [], []);
    const created = await v2vImportProvider.create(a);
    const outs = created.outs as V2VImportOutputs;
    const id = outs.vms[0].id;
    assert.equal(outs.vms[0].ownership, "created");
    assert.equal(outs.vms[0].name, "tools-01-own");

    // cpuProfile: an in-place update (validated at preview), the VM keeps its id
    const withGold = { ...a, cpuProfile: "gold" };
    assert.deepEqual((await v2vImportProvider.check!(a, withGold)).failures ?? [], []);
    const bad = await v2vImportProvider.check!(a, { ...a, cpuProfile: "platinum" });
    assert.ok((bad.failures ?? []).some((f) => f.property === "cpuProfile" && /platinum/.test(f.reason)), JSON.stringify(bad.failures));
    const d1 = await v2vImportProvider.diff!(created.id, created.outs, withGold);
    assert.equal(d1.changes, true);
    assert.deepEqual(d1.replaces, []);
    const updated = await v2vImportProvider.update!(created.id, created.outs, withGold);
    const gold = (await c.clusters.cpuProfiles(outs.clusterId)).find((p) => p.name === "gold")!;
    assert.equal((await c.vms.get(id))!.cpu_profile?.id, gold.id);
    assert.equal((updated.outs as V2VImportOutputs).vms[0].id, id);

    // the same engine by another host name is not another engine: no replace
    const alias = { ...withGold, engine: { ...env.engine, url: env.engine.url.replace("127.0.0.1", "localhost") } };
    assert.deepEqual((await v2vImportProvider.diff!(created.id, updated.outs, alias)).replaces, []);

    // sparse: a replace, allowed while the VM never ran ...
    const sparse = { ...withGold, sparse: false };
    const d2 = await v2vImportProvider.diff!(created.id, updated.outs, sparse);
    assert.deepEqual(d2.replaces, ["sparse"]);
    // ... refused at diff (preview) once it has run, naming the field and the safe way
    await power("tools-01-own", "up");
    await admin(env, "DELETE", "/requests");
    await assert.rejects(v2vImportProvider.diff!(created.id, updated.outs, sparse), (e: Error) => {
      assert.match(e.message, /^sparse: changing sparse would replace .*VM tools-01-own .*has run since the import/);
      assert.match(e.message, /keepOnDelete: true/);
      return true;
    });

    // destroy never stops a VM: it fails, nothing is sent to the engine, the VM stays up
    await assert.rejects(v2vImportProvider.delete!(created.id, updated.outs), /tools-01-own .* is up: destroy never stops a VM.*Shut it down yourself.*keepOnDelete/);
    assert.equal(await mutating(), 0);
    assert.equal((await c.vms.get(id))?.status, "up");

    // keepOnDelete (in place): then a replace deletes nothing and is allowed, and destroy keeps the VM
    const keep = { ...withGold, keepOnDelete: true };
    const d3 = await v2vImportProvider.diff!(created.id, updated.outs, keep);
    assert.deepEqual(d3.replaces, []);
    assert.equal(d3.changes, true);
    const kept = await v2vImportProvider.update!(created.id, updated.outs, keep);
    assert.deepEqual((await v2vImportProvider.diff!(created.id, kept.outs, { ...keep, sparse: false })).replaces, ["sparse"]);
    await v2vImportProvider.delete!(created.id, kept.outs);
    assert.equal((await c.vms.get(id))?.status, "up");

    // shut down: destroy removes the VM it created
    await power("tools-01-own", "down");
    await v2vImportProvider.delete!(created.id, updated.outs);
    assert.equal(await c.vms.get(id), undefined);
  });

  it("pinned fingerprint without proxySkipVerify: no no_verify, the proxy host verifies vCenter (self-signed vcsim is refused, with the fix); the opt-in warns at preview", async () => {
    const c = engine();
    const lines = () => progressLines().filter((l) => /travels from the proxy host without certificate verification/.test(l));
    const before = lines().length;
    const strict = inputs("tls", { sourceVms: ["block-01"], clone: { suffix: "-tls" }, vcenter: { proxySkipVerify: false } });
    assert.deepEqual((await v2vImportProvider.check!({}, strict)).failures ?? [], []);
    assert.equal(lines().length, before, "no warning when the proxy host verifies");
    await assert.rejects(v2vImportProvider.create(strict), (e: any) => {
      assert.equal(e.property, "vcenter.proxySkipVerify");
      assert.match(e.message, /SSL certificate problem/);
      assert.match(e.message, /install the vCenter CA on the proxy host.*vcenter\.proxySkipVerify: true/);
      return true;
    });
    assert.equal(await c.vms.findByName("block-01-tls"), undefined);
    const log = (await admin(env, "GET", "/requests")).log as Array<{ method: string; path: string; query?: string }>;
    assert.ok(log.some((r) => r.method === "POST" && /externalvmimports/.test(r.path)));

    // the explicit opt-in: a warning at preview, and the import runs with no_verify=1
    const optIn = inputs("tls", { sourceVms: ["block-01"], clone: { suffix: "-tls" } });
    assert.deepEqual((await v2vImportProvider.check!({}, optIn)).failures ?? [], []);
    assert.equal(lines().length, before + 1);
    const created = await v2vImportProvider.create(optIn);
    assert.match((created.outs as V2VImportOutputs).sourceUrl, /\?no_verify=1$/);
    await v2vImportProvider.delete!(created.id, created.outs);
  });
});
