// ExportDomainAttachment against slow synchronous storage commands (issue 11, item 8). On a real engine the attach,
// deactivate and detach requests answer only when VDSM is done (tens of seconds, sometimes minutes), so the client's
// request timeout or a dropped connection can cut the answer off while the engine goes on. The resource must then
// read the domain's status and carry on from there: no failure, and no request sent again while the first one runs.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const EDA = "ExportDomainAttachment";

const inventory = {
  dataCenters: [
    { name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a", sizeGiB: 10 }] },
    { name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b", sizeGiB: 10 }] },
  ],
  exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a" }],
  vms: [{ name: "vm-a", cluster: "cl-a", disks: [{ sizeMiB: 1 }] }],
};

/** The client's request timeout in this process (read when the engine's connection pool is made). */
const CLIENT_TIMEOUT_MS = 1500;
/** How long each storage command takes in the engine: longer than the client waits. */
const OP_MS = 3000;

describe("provider: ExportDomainAttachment when the engine's answer to a storage command is lost", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let progressFile: string;
  const saved = { timeout: process.env.OVIRT_MIGRATE_REQUEST_TIMEOUT_MS, progress: process.env.OVIRT_MIGRATE_PROGRESS_FILE };

  /** Mutating entries of the simulator's audit after `since`, as [action, status]. */
  const storageAudit = async (since: number) =>
    ((await sim.admin("GET", `/audit?since=${since}`)).entries as any[])
      .filter((e) => ["attach", "activate", "deactivate", "detach"].includes(e.action))
      .map((e) => [e.action, e.status] as [string, number]);
  const auditSeq = async () => ((await sim.admin("GET", "/audit")).entries as any[]).reduce((m, e) => Math.max(m, e.seq), 0);
  const progressLines = (): string[] =>
    fs.existsSync(progressFile) ? fs.readFileSync(progressFile, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).message as string) : [];
  const placement = async (sdName: string) => {
    const c = connect(sim.engine);
    const sd = (await c.storageDomains.findByName(sdName))!;
    const out: Record<string, string | undefined> = {};
    for (const dc of await c.datacenters.list()) out[dc.name] = (await c.attachedStorageDomains.get(dc.id, sd.id))?.status;
    return out;
  };

  before(async () => {
    progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-progress-")), "progress.jsonl");
    process.env.OVIRT_MIGRATE_REQUEST_TIMEOUT_MS = String(CLIENT_TIMEOUT_MS);
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = progressFile;
  });
  after(async () => {
    for (const [k, v] of [["OVIRT_MIGRATE_REQUEST_TIMEOUT_MS", saved.timeout], ["OVIRT_MIGRATE_PROGRESS_FILE", saved.progress]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(path.dirname(progressFile), { recursive: true, force: true });
  });
  // a new simulator for every test (exp attached to dc-a): a test that starts elsewhere moves it there first
  beforeEach(async () => {
    clearReadCache();
    fs.rmSync(progressFile, { force: true });
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory });
  });
  afterEach(async () => {
    await closeAllEngines();
    await sim?.close();
  });

  it("deactivate, detach and attach each outlast the client's timeout: the move completes, each command sent once", async () => {
    await sim.admin("PUT", "/storage-operation", { ms: OP_MS });
    assert.equal(connect(sim.engine).http.timeoutMs, CLIENT_TIMEOUT_MS, "the client waits less than the engine works");
    const since = await auditSeq();
    const t0 = Date.now();
    const r = await checkAndCreate(EDA, { engine: sim.engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
    const took = Date.now() - t0;
    assert.equal(r.outs.status, "active");
    assert.deepEqual(await placement("exp"), { "dc-a": undefined, "dc-b": "active" });
    assert.ok(took >= 3 * OP_MS, `waited for the three commands (${took} ms)`);
    // the engine ran every command to its end (the answers were lost on the way back), and none was sent twice
    const ops = await storageAudit(since);
    const sent = (action: string) => ops.filter(([a]) => a === action);
    assert.deepEqual(sent("deactivate"), [["deactivate", 200]], JSON.stringify(ops));
    assert.deepEqual(sent("detach"), [["detach", 200]], JSON.stringify(ops));
    assert.deepEqual(sent("attach"), [["attach", 201]], JSON.stringify(ops));
    // an activate racing the engine's own activation is refused (409 in progress), never applied twice
    assert.ok(sent("activate").every(([, st]) => st === 409), JSON.stringify(ops));
    const lines = progressLines();
    for (const what of ["deactivating exp in dc-a", "detaching exp from dc-a", "attaching exp to dc-b"]) {
      assert.ok(lines.some((l) => l.includes(`${what}: no answer from the engine`) && /within 2 s|within 1 s/.test(l)), `${what}: lost answer reported\n${lines.join("\n")}`);
    }
    assert.ok(lines.some((l) => /the engine is working on it \(status (locked|preparing_for_maintenance|detaching|activating|maintenance)\)/.test(l)), `status shown while waiting\n${lines.join("\n")}`);
    assert.ok(lines.some((l) => /the engine is attaching exp to dc-b \(status (locked|maintenance|activating)\): waiting for it/.test(l)), lines.join("\n"));
    await sim.admin("PUT", "/storage-operation", { ms: 0 });
  });

  it("connections dropped before the engine got the request: the resource sees no trace, sends it again, and completes", async () => {
    const rules = [
      { match: { method: "POST", path: "/datacenters/[^/]+/storagedomains/[^/]+/deactivate$" }, effect: { transport: "reset" }, max: 1 },
      { match: { method: "DELETE", path: "/datacenters/[^/]+/storagedomains/[^/]+$" }, effect: { transport: "reset" }, max: 1 },
      { match: { method: "POST", path: "/datacenters/[^/]+/storagedomains$" }, effect: { transport: "reset" }, max: 1 },
    ];
    // set-up: exp moved to dc-b (commands answering at once), then the progress of that move forgotten
    await checkAndCreate(EDA, { engine: sim.engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
    clearReadCache();
    fs.rmSync(progressFile, { force: true });
    await sim.admin("PUT", "/faults", { rules });
    const since = await auditSeq();
    const r = await checkAndCreate(EDA, { engine: sim.engine, exportDomain: "exp", dataCenter: "dc-a", moveFrom: { dataCenter: "dc-b" } });
    assert.equal(r.outs.status, "active");
    assert.deepEqual(await placement("exp"), { "dc-a": "active", "dc-b": undefined });
    const hits = (await sim.admin("GET", "/faults")).rules.map((x: any) => x.hits);
    assert.deepEqual(hits, [1, 1, 1], "each command's first request was dropped");
    // status 0 = the connection was reset before the engine saw it; the second request did the work, once
    const ops = (await storageAudit(since)).filter(([a]) => a !== "activate");
    assert.deepEqual(ops, [["deactivate", 0], ["deactivate", 200], ["detach", 0], ["detach", 200], ["attach", 0], ["attach", 201]]);
    const lines = progressLines();
    for (const what of ["deactivation of exp did not reach the engine", "detach of exp did not reach the engine", "attach of exp did not reach the engine"]) {
      assert.ok(lines.some((l) => l.includes(what) && l.includes("sending it again")), `${what}\n${lines.join("\n")}`);
    }
    await sim.admin("DELETE", "/faults");
  });

  it("slow commands whose answers are lost, and status reads dropped while recovering: still one command each", async () => {
    // the reads that follow a lost answer are safe to repeat: the client retries them, the resource goes on
    await sim.admin("PUT", "/storage-operation", { ms: OP_MS });
    await sim.admin("PUT", "/faults", { rules: [{ match: { method: "GET", path: "/datacenters/[^/]+/storagedomains/[^/]+$" }, effect: { transport: "reset" }, max: 2 }] });
    const since = await auditSeq();
    const r = await checkAndCreate(EDA, { engine: sim.engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
    assert.equal(r.outs.status, "active");
    assert.deepEqual(await placement("exp"), { "dc-a": undefined, "dc-b": "active" });
    const ops = (await storageAudit(since)).filter(([a]) => a !== "activate");
    assert.deepEqual(ops, [["deactivate", 200], ["detach", 200], ["attach", 201]]);
    await sim.admin("DELETE", "/faults");
    await sim.admin("PUT", "/storage-operation", { ms: 0 });
  });
});
