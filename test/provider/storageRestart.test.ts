// ExportDomainAttachment when the engine restarts in the middle of a storage-domain command (issue 11, item 2). The
// command's job ends `unknown` (a task-less job: JobRepositoryImpl.finalizeJobs) and the engine's start-up
// compensation undoes it (CommandCompensator: the attach is taken back). The resource must read `unknown` as "look at
// the domain", never as "still running" and never as a failure: it finds the domain not attached, attaches once
// more, and completes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator } from "../support/simulator";
import { checkAndCreate, PROVIDER_SIM } from "./helpers";
import { connect, closeAllEngines } from "../../provider/client";
import { clearReadCache } from "../../provider/operations/readCache";

const inventory = {
  dataCenters: [
    { name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a", sizeGiB: 10 }] },
    { name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b", sizeGiB: 10 }] },
  ],
  exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a" }],
  vms: [{ name: "vm-a", cluster: "cl-a", disks: [{ sizeMiB: 1 }] }],
};
const OP_MS = 3000;

describe("provider: ExportDomainAttachment when the engine restarts in the middle of its attach", function () {
  this.timeout(300_000);
  let sim: TestSimulator;
  let progressFile: string;
  const saved = process.env.OVIRT_MIGRATE_PROGRESS_FILE;

  before(async () => {
    progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-progress-")), "progress.jsonl");
    process.env.OVIRT_MIGRATE_PROGRESS_FILE = progressFile;
    sim = await startTestSimulator({ ...PROVIDER_SIM, inventory });
  });
  after(async () => {
    await closeAllEngines();
    await sim?.close();
    if (saved === undefined) delete process.env.OVIRT_MIGRATE_PROGRESS_FILE;
    else process.env.OVIRT_MIGRATE_PROGRESS_FILE = saved;
    fs.rmSync(path.dirname(progressFile), { recursive: true, force: true });
  });

  it("the attach job ends unknown, the domain shows the engine took it back: attached once more, the move completes", async () => {
    clearReadCache();
    await sim.admin("PUT", "/storage-operation", { ms: OP_MS });
    const c = connect(sim.engine);
    const sd = (await c.storageDomains.findByName("exp"))!;
    const dcB = (await c.datacenters.list()).find((d) => d.name === "dc-b")!;
    let restarted = false;
    let stop = false;
    const watcher = (async () => {
      while (!stop && !restarted) {
        const st = await c.attachedStorageDomains.get(dcB.id, sd.id).then((d) => d?.status, () => undefined);
        if (st === "locked") {
          await sim.admin("POST", "/restart", { downMs: 500 });
          restarted = true;
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    let r: { outs: any };
    try {
      r = await checkAndCreate("ExportDomainAttachment", { engine: sim.engine, exportDomain: "exp", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a" } });
    } finally {
      stop = true;
      await watcher;
    }
    assert.ok(restarted, "the engine was restarted during the attach");
    assert.equal(r.outs.status, "active");
    assert.equal((await c.attachedStorageDomains.get(dcB.id, sd.id))?.status, "active");
    const jobs = ((await sim.admin("GET", "/stats")).jobs as any[]).filter((j) => j.description === "Attaching Storage Domain exp to Data Center dc-b");
    assert.deepEqual(jobs.map((j) => j.status).sort(), ["finished", "unknown"], JSON.stringify(jobs));
    const lines = fs.readFileSync(progressFile, "utf8").trim().split("\n").map((l) => JSON.parse(l).message as string);
    assert.ok(lines.some((l) => l.includes("the engine undid the attach of exp to dc-b") && l.includes("attaching it again")), lines.join("\n"));
    await sim.admin("PUT", "/storage-operation", { ms: 0 });
  });
});
