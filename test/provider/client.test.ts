import * as assert from "node:assert/strict";
import * as tls from "node:tls";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { PASSWORD, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines, EngineError, AuthenticationError, TlsVerificationError, EngineUnavailableError } from "../../provider/client";
import { searchValue, searchEq, searchNames, AmbiguousLookupError } from "../../provider/client";
import { KeyedBatcher } from "../../provider/operations/readCache";
import { vmsNamed } from "../../provider/operations/reads";

describe("engine client against the simulator", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    sim = await startTestSimulator(PROVIDER_SIM);
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
    await sim.admin("PUT", "/faults", { rules: [{ match: { method: "GET", path: "/ovirt-engine/api/clusters$" }, effect: { transport: "status", status: 503 }, max: 2 }] });
    const cls = await c.clusters.list();
    assert.ok(cls.length >= 2);
    const log = await sim.admin("GET", "/requests");
    assert.equal(log.byPath["GET /ovirt-engine/api/clusters"], 3);
  });

  it("retries a GET whose connection is reset", async () => {
    const c = connect(sim.engine);
    await sim.admin("PUT", "/faults", { rules: [{ match: { method: "GET", path: "/ovirt-engine/api/hosts$" }, effect: { transport: "reset" }, max: 2 }] });
    const hosts = await c.hosts.list();
    assert.ok(hosts.length >= 2);
  });

  it("never retries a POST answered 503 (ambiguous error, one request)", async () => {
    const c = connect(sim.engine);
    const vm = await c.vms.findByName("web-01");
    const sd = await c.storageDomains.findByName("export1");
    await sim.resetRequests();
    await sim.admin("PUT", "/faults", { rules: [{ match: { method: "POST", path: "/export$" }, effect: { transport: "status", status: 503 }, max: 5 }] });
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

// ---------------------------------------------------------------------------------------------------------------
// Search escaping, batches, exact user/group lookups, the permissions module (issue "Safety: ownership")
// ---------------------------------------------------------------------------------------------------------------

/** Starts a simulator, edits its persisted state (names, users, groups), and starts it again on that state. */
async function simWithState(edit: (state: any) => void): Promise<TestSimulator> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-client-"));
  const first = await startTestSimulator({ ...PROVIDER_SIM, stateDir });
  await first.close();
  const file = fs.readdirSync(stateDir).find((f) => f.endsWith(".json") && !f.includes("tmp"))!;
  const state = JSON.parse(fs.readFileSync(path.join(stateDir, file), "utf8"));
  edit(state);
  fs.writeFileSync(path.join(stateDir, file), JSON.stringify(state));
  return startTestSimulator({ ...PROVIDER_SIM, stateDir });
}

const DEFAULT_USERS = [
  { id: "00000000-0000-0000-0000-000000000001", userName: "admin@internal-authz", principal: "admin", domain: "internal-authz", firstName: "admin" },
  { id: "5c0fa4e1-0000-4000-8000-00000000a11c", userName: "alice@internal-authz", principal: "alice", domain: "internal-authz", firstName: "Alice" },
  { id: "5c0fa4e1-0000-4000-8000-000000000b0b", userName: "bob@internal-authz", principal: "bob", domain: "internal-authz", firstName: "Bob" },
];

describe("search values quoted the way the engine's search parser reads them (ovirt-engine SyntaxChecker)", () => {
  it("quotes every value and doubles backslashes", () => {
    assert.equal(searchValue("web-01"), '"web-01"');
    assert.equal(searchValue("my vm"), '"my vm"');
    assert.equal(searchValue("a\\b"), '"a\\\\b"');
    assert.equal(searchEq("name", "a\\b"), 'name="a\\\\b"');
  });
  it("a quote (no escape exists inside a value), ' and ; (refused anywhere by the engine) become the wildcard *", () => {
    assert.equal(searchValue('say "hi"'), '"say *hi*"');
    assert.equal(searchValue("o'neil;x"), '"o*neil*x"');
  });
  it("never ends a value with a backslash (the engine refuses it): a trailing * is added", () => {
    assert.equal(searchValue("share\\"), '"share\\\\*"');
    assert.ok(!/\\"$/.test(searchValue("x\\\\")));
  });
  it("prefix search keeps the added * a wildcard", () => {
    assert.equal(searchEq("usrname", "jdoe", { prefix: true }), 'usrname="jdoe*"');
  });
  it("joins several names with or", () => {
    assert.equal(searchNames(["a", 'b"c']), 'name="a" or name="b*c"');
  });
});

describe("KeyedBatcher: one bad key never fails a batch", () => {
  const bad = () => new EngineError({ status: 400, reason: "Operation Failed", detail: "[Search string is not valid]", method: "GET", path: "/vms" });
  it("a batch refused with a 4xx is read again key by key: only the bad key's caller gets the error", async () => {
    const calls: string[][] = [];
    const b = new KeyedBatcher<string>(async (keys) => {
      calls.push(keys);
      if (keys.includes("bad")) throw bad();
      return new Map(keys.map((k) => [k, [k.toUpperCase()]]));
    });
    const [a, x, c] = await Promise.allSettled([b.load("a"), b.load("bad"), b.load("c")]);
    assert.deepEqual(a, { status: "fulfilled", value: ["A"] });
    assert.deepEqual(c, { status: "fulfilled", value: ["C"] });
    assert.equal(x.status, "rejected");
    assert.ok((x as PromiseRejectedResult).reason instanceof EngineError && (x as PromiseRejectedResult).reason.status === 400);
    assert.deepEqual(calls[0].sort(), ["a", "bad", "c"]);
    assert.equal(calls.length, 4);
    assert.equal(b.splits, 1);
  });
  it("other failures (5xx, connection) still reach every caller, without a retry per key", async () => {
    let n = 0;
    const b = new KeyedBatcher<string>(async () => {
      n++;
      throw new EngineUnavailableError({ method: "GET", path: "/vms", status: 503, message: "down", ambiguous: false });
    });
    const r = await Promise.allSettled([b.load("a"), b.load("b")]);
    assert.ok(r.every((x) => x.status === "rejected"));
    assert.equal(n, 1);
  });
  it("vmsNamed: a batch answered 400 by the engine is split, every caller still gets its VMs", async () => {
    const sim = await startTestSimulator(PROVIDER_SIM);
    try {
      const c = connect(sim.engine);
      await c.datacenters.list();
      await sim.admin("PUT", "/faults", { rules: [{ match: { method: "GET", path: "/ovirt-engine/api/vms$" }, effect: { transport: "status", status: 400 }, max: 1 }] });
      const [w, d] = await Promise.all([vmsNamed(c, "web-01"), vmsNamed(c, "db-01")]);
      assert.deepEqual([w.map((v) => v.name), d.map((v) => v.name)], [["web-01"], ["db-01"]]);
    } finally {
      await closeAllEngines();
      await sim.close();
    }
  });
});

describe("names with quotes and backslashes against the simulator", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    sim = await simWithState((st) => {
      const rename: Record<string, string> = { "app-01": `app "01" 'x'; y`, "snap-01": "snap\\01", "thin-01": "thin-01\\" };
      for (const vm of st.vms) if (rename[vm.name]) vm.name = rename[vm.name];
    });
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("finds a VM whose name has a double quote, a single quote and a semicolon (broader search, exact match)", async () => {
    const c = connect(sim.engine);
    const vm = await c.vms.findByName(`app "01" 'x'; y`);
    assert.equal(vm?.name, `app "01" 'x'; y`);
    assert.equal(await c.vms.findByName(`app "01" 'x'; z`), undefined);
  });
  it("finds a VM whose name has a backslash, and one ending in a backslash", async () => {
    const c = connect(sim.engine);
    assert.equal((await c.vms.findByName("snap\\01"))?.name, "snap\\01");
    assert.equal((await c.vms.findByName("thin-01\\"))?.name, "thin-01\\");
    assert.equal(await c.vms.findByName("snap01"), undefined);
  });
  it("batches such names with plain ones in one search", async () => {
    const c = connect(sim.engine);
    const [a, b, w] = await Promise.all([vmsNamed(c, `app "01" 'x'; y`), vmsNamed(c, "snap\\01"), vmsNamed(c, "web-01")]);
    assert.deepEqual([a.length, b.length, w.length], [1, 1, 1]);
  });
});

describe("exact user and group lookups", function () {
  this.timeout(120_000);
  let sim: TestSimulator;
  before(async () => {
    sim = await simWithState((st) => {
      st.users = [
        ...DEFAULT_USERS,
        { id: "5c0fa4e1-0000-4000-8000-0000000000d1", userName: "jdoe@a-authz", principal: "jdoe", domain: "a-authz" },
        { id: "5c0fa4e1-0000-4000-8000-0000000000d2", userName: "jdoe@b-authz", principal: "jdoe", domain: "b-authz" },
        { id: "5c0fa4e1-0000-4000-8000-0000000000d3", userName: "jdoe2@a-authz", principal: "jdoe2", domain: "a-authz" },
        { id: "5c0fa4e1-0000-4000-8000-0000000000d4", userName: "carol@example.com", principal: "carol", domain: "example.com" },
      ];
      st.groups = [
        { id: "6a0fa4e1-0000-4000-8000-0000000000a5", name: "ops", domain: "internal-authz" },
        { id: "6a0fa4e1-0000-4000-8000-0000000000a6", name: "dba", domain: "a-authz" },
        { id: "6a0fa4e1-0000-4000-8000-0000000000a7", name: "dba", domain: "b-authz" },
        { id: "6a0fa4e1-0000-4000-8000-0000000000a8", name: "dba-team", domain: "a-authz" },
      ];
    });
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("user@domain matches user_name exactly; a login profile name matches its authz domain", async () => {
    const c = connect(sim.engine);
    assert.equal((await c.permissions.user("jdoe@a-authz"))?.id, "5c0fa4e1-0000-4000-8000-0000000000d1");
    assert.equal((await c.permissions.user("jdoe@b-authz"))?.id, "5c0fa4e1-0000-4000-8000-0000000000d2");
    assert.equal((await c.permissions.user("carol@example.com"))?.user_name, "carol@example.com");
    assert.equal((await c.permissions.user("alice@internal"))?.user_name, "alice@internal-authz");
    assert.equal(await c.permissions.user("jdoe@c-authz"), undefined);
    assert.equal(await c.permissions.user("jdo@a-authz"), undefined);
  });
  it("a bare login in one domain is fine; in several domains it is an AmbiguousLookupError listing every match", async () => {
    const c = connect(sim.engine);
    assert.equal((await c.permissions.user("carol"))?.user_name, "carol@example.com");
    assert.equal((await c.permissions.user("jdoe2"))?.user_name, "jdoe2@a-authz");
    await assert.rejects(c.permissions.user("jdoe"), (e: any) => {
      assert.ok(e instanceof AmbiguousLookupError, String(e));
      assert.equal(e.what, "user");
      assert.deepEqual(e.matches, ["jdoe@a-authz", "jdoe@b-authz"]);
      assert.match(e.message, /jdoe@a-authz, jdoe@b-authz/);
      assert.match(e.message, /user@domain/);
      return true;
    });
  });
  it("groups: exact name; a name in several domains is ambiguous; name@domain picks one", async () => {
    const c = connect(sim.engine);
    assert.equal((await c.permissions.group("ops"))?.id, "6a0fa4e1-0000-4000-8000-0000000000a5");
    assert.equal(await c.permissions.group("op"), undefined);
    assert.equal((await c.permissions.group("dba-team"))?.id, "6a0fa4e1-0000-4000-8000-0000000000a8");
    assert.equal((await c.permissions.group("dba@b-authz"))?.id, "6a0fa4e1-0000-4000-8000-0000000000a7");
    await assert.rejects(c.permissions.group("dba"), (e: any) => e instanceof AmbiguousLookupError && e.what === "group" && e.matches.join() === "dba@a-authz,dba@b-authz" && /group@domain/.test(e.message));
  });

  describe("provider/operations/permissions.ts", () => {
    const progress = { update() {}, info() {}, warn() {} };
    it("checkPermissions: one failure per bad field, naming what was found and the fix", async () => {
      const { checkPermissions } = require("../../provider/operations/permissions");
      const c = connect(sim.engine);
      const failures: Array<{ property: string; reason: string }> = [];
      await checkPermissions(c, `${sim.engine.url}|perm-check`, [
        { user: "alice@internal-authz", role: "UserVmManager" },
        { user: "jdoe", role: "UserVmManager" },
        { user: "jdoe@c-authz", role: "UserRole" },
        { group: "dba", role: "UserRole" },
        { group: "nobody", role: "NoSuchRole" },
      ], failures);
      const by = Object.fromEntries(failures.map((f) => [f.property, f.reason]));
      assert.deepEqual(Object.keys(by).sort(), ["permissions[1].user", "permissions[2].user", "permissions[3].group", "permissions[4].group", "permissions[4].role"]);
      assert.match(by["permissions[1].user"], /jdoe@a-authz, jdoe@b-authz.*user@domain/);
      assert.match(by["permissions[2].user"], /does not exist.*jdoe@a-authz, jdoe@b-authz.*login@authz-domain/);
      assert.match(by["permissions[3].group"], /dba@a-authz, dba@b-authz/);
      assert.match(by["permissions[4].role"], /NoSuchRole.*Known:/);
    });
    it("applyPermissions: adds the missing grant, reuses an existing one unclaimed, removes only its own", async () => {
      const { applyPermissions } = require("../../provider/operations/permissions");
      const c = connect(sim.engine);
      const vm = (await c.vms.findByName("web-01"))!;
      const roles = await c.permissions.roles();
      const role = (n: string) => roles.find((r) => r.name === n)!.id;
      const bob = (await c.permissions.user("bob@internal-authz"))!;
      // someone else's grant, there before us
      const theirs = await c.permissions.add("vm", vm.id, { roleId: role("UserRole"), userId: bob.id });

      const first = await applyPermissions(c, "vm", vm.id, [
        { user: "bob@internal-authz", role: "UserRole" },
        { user: "alice@internal", role: "UserVmManager" },
        { user: "alice@internal", role: "UserVmManager" },
      ], [], progress);
      assert.equal(first.ids.length, 2);
      assert.ok(first.ids.includes(theirs.id));
      assert.ok(!first.ours.includes(theirs.id));
      assert.equal(first.ours.length, 1);

      // again: nothing changes, ours stays ours
      const again = await applyPermissions(c, "vm", vm.id, [{ user: "bob@internal-authz", role: "UserRole" }, { user: "alice@internal", role: "UserVmManager" }], first.ours, progress);
      assert.deepEqual(again.ours, first.ours);
      assert.deepEqual((await c.permissions.list("vm", vm.id)).length, 2);

      // nothing wanted any more: our grant goes, theirs stays (even though it was listed as wanted before)
      const none = await applyPermissions(c, "vm", vm.id, [], again.ours, progress);
      assert.deepEqual(none, { ids: [], ours: [] });
      const left = await c.permissions.list("vm", vm.id);
      assert.deepEqual(left.map((p) => p.id), [theirs.id]);
    });
    it("applyPermissions: an ambiguous or unknown user fails before anything is written", async () => {
      const { applyPermissions } = require("../../provider/operations/permissions");
      const c = connect(sim.engine);
      const vm = (await c.vms.findByName("db-01"))!;
      await assert.rejects(
        applyPermissions(c, "vm", vm.id, [{ user: "alice@internal", role: "UserRole" }, { user: "jdoe", role: "UserRole" }], [], progress),
        (e: any) => e.name === "ArgError" && e.property === "permissions[1].user" && /user@domain/.test(e.message),
      );
      assert.equal((await c.permissions.list("vm", vm.id)).length, 0);
    });
  });
});
