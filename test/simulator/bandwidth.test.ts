// Issue 11: a storage domain's throughput is shared by the copies that read or write it (one NFS export domain on
// 1 GbE gives about 110 MiB/s in total, not per copy), with an optional cap on each copy (SimulatorOptions
// .copyBandwidthMiBps, --copy-bandwidth, PUT /__admin/bandwidth perCopyMiBps). V2V conversions draw from their target
// domain the same way. These are correctness checks, not speed checks: the bounds are generous (the machine is shared),
// but each one fails if copies were paced on their own (per copy) instead of per domain, or if the cap was ignored.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { VSphereClient } from "../../lib/vsphere";
import { RunningVcsim, seedVcsim, startVcsim } from "../support/vcsim";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";
import { idOf, startExport } from "./helpers";

const MiB = 1024 * 1024;
const DISK_MIB = 16;
const EXPORT_MIBPS = 16;

function inventory(): unknown {
  const vm = (name: string) => ({
    name,
    cluster: "cl-source",
    memoryMiB: 512,
    cpus: 1,
    disks: [{ alias: `${name}_disk0`, sizeMiB: DISK_MIB, sparse: false, format: "raw" }],
  });
  return {
    dataCenters: [
      {
        name: "dc-source",
        clusters: [{ name: "cl-source", cpuArchitecture: "x86_64" }],
        hosts: [{ name: "host-source-1", cluster: "cl-source", status: "up" }],
        // the data domain is fast: the export domain is the bottleneck
        storageDomains: [{ name: "data-source", type: "data", storageType: "nfs", sizeGiB: 50, bandwidthMiBps: 4000 }],
      },
    ],
    exportDomains: [{ name: "export1", path: "exports/export1", attachedTo: "dc-source", status: "active", bandwidthMiBps: EXPORT_MIBPS }],
    templates: [],
    vms: [vm("bw-a"), vm("bw-b")],
  };
}

interface JobStat {
  id: string;
  kind: string;
  startMs: number;
  endMs: number;
  bytes: number;
  status: string;
}

/** Runs exports of the given VMs at the same time; returns their jobs' stats and the engine's busy time meanwhile. */
async function exportAtOnce(t: TestSimulator, vmIds: string[], sd: string): Promise<{ jobs: JobStat[]; busyMs: number }> {
  const busy0 = (await t.admin("GET", "stats")).busyMs as number;
  const ids = await Promise.all(vmIds.map((v) => startExport(t, v, sd, "<exclusive>true</exclusive>")));
  for (const id of ids) assert.equal(await t.waitJob(id, 120_000), "finished");
  const stats = await t.admin("GET", "stats");
  const jobs = (stats.jobs as JobStat[]).filter((j) => ids.includes(j.id));
  assert.equal(jobs.length, ids.length);
  return { jobs, busyMs: stats.busyMs - busy0 };
}

const seconds = (j: JobStat) => (j.endMs - j.startMs) / 1000;
const rateMiBps = (j: JobStat) => j.bytes / MiB / seconds(j);
const span = (jobs: JobStat[]) => (Math.max(...jobs.map((j) => j.endMs)) - Math.min(...jobs.map((j) => j.startMs))) / 1000;

describe("simulator: storage bandwidth shared per domain, optional per-copy cap (issue 11)", function () {
  this.timeout(300_000);
  let t: TestSimulator;
  let a: string;
  let b: string;
  let exp: string;
  before(async () => {
    t = await startTestSimulator({ inventory: inventory() as any, bandwidthMiBps: 4000 });
    a = await idOf(t, "vms", "bw-a");
    b = await idOf(t, "vms", "bw-b");
    exp = await idOf(t, "storagedomains", "export1");
  });
  after(async () => {
    await t?.close();
  });

  it("one copy alone gets the whole domain throughput, not more", async () => {
    const { jobs } = await exportAtOnce(t, [a], exp);
    const [j] = jobs;
    assert.equal(j.bytes, DISK_MIB * MiB);
    const r = rateMiBps(j);
    // at most the domain's 16 MiB/s (+ the 100 ms of slack a lane may make up); far more than half of it
    assert.ok(r <= EXPORT_MIBPS * 1.15, `one copy ran at ${r.toFixed(1)} MiB/s on a ${EXPORT_MIBPS} MiB/s domain`);
    assert.ok(r >= EXPORT_MIBPS * 0.5, `one copy alone ran at ${r.toFixed(1)} MiB/s on a ${EXPORT_MIBPS} MiB/s domain`);
  });

  it("two concurrent copies on one domain each get about half of it and finish in about the time the total bytes need", async () => {
    const { jobs, busyMs } = await exportAtOnce(t, [a, b], exp);
    const total = jobs.reduce((s, j) => s + j.bytes, 0) / MiB;
    assert.equal(total, 2 * DISK_MIB);
    const need = total / EXPORT_MIBPS; // 2 s
    const s = span(jobs);
    assert.ok(s >= need * 0.85, `both copies ended after ${s.toFixed(2)} s; ${total} MiB need ${need} s at ${EXPORT_MIBPS} MiB/s`);
    assert.ok(s <= need * 3, `both copies took ${s.toFixed(2)} s for ${need} s of bytes`);
    for (const j of jobs) {
      const r = rateMiBps(j);
      assert.ok(r <= EXPORT_MIBPS * 0.65, `a copy ran at ${r.toFixed(1)} MiB/s while another shared the ${EXPORT_MIBPS} MiB/s domain`);
      assert.ok(r >= EXPORT_MIBPS * 0.2, `a copy ran at only ${r.toFixed(1)} MiB/s`);
    }
    // fair share: started together, they end together (not one after the other)
    const gap = Math.abs(jobs[0].endMs - jobs[1].endMs) / 1000;
    assert.ok(gap <= s * 0.35, `the copies ended ${gap.toFixed(2)} s apart in a ${s.toFixed(2)} s span`);
    // busyMs is the wall time during which at least one copy ran: the union of the two copies, not their sum
    const sum = jobs.reduce((x, j) => x + seconds(j), 0);
    assert.ok(busyMs / 1000 <= s + 0.05, `busy ${busyMs} ms > span ${s} s`);
    assert.ok(busyMs / 1000 >= s * 0.7 && busyMs / 1000 < sum * 0.8, `busy ${busyMs} ms for copies of ${sum.toFixed(2)} s in a span of ${s.toFixed(2)} s`);
  });

  it("the per-copy cap applies to each copy on its own (PUT /__admin/bandwidth perCopyMiBps), and can be removed", async () => {
    const CAP = 4;
    let st = await t.admin("PUT", "bandwidth", { perCopyMiBps: CAP });
    assert.equal(st.perCopyMiBps, CAP);
    assert.equal(st.storageDomains.find((d: any) => d.name === "export1").MiBps, EXPORT_MIBPS, "the domain keeps its throughput");
    try {
      const { jobs } = await exportAtOnce(t, [a, b], exp);
      for (const j of jobs) {
        const r = rateMiBps(j);
        assert.ok(r <= CAP * 1.15, `a copy capped at ${CAP} MiB/s ran at ${r.toFixed(1)} MiB/s`);
        assert.ok(r >= CAP * 0.5, `a copy capped at ${CAP} MiB/s ran at only ${r.toFixed(1)} MiB/s`);
      }
      // two capped copies run side by side (8 MiB/s together < the domain's 16): about DISK_MIB / CAP, not twice that
      const s = span(jobs);
      assert.ok(s <= (DISK_MIB / CAP) * 1.6, `two capped copies took ${s.toFixed(2)} s together`);
    } finally {
      st = await t.admin("PUT", "bandwidth", { perCopyMiBps: 0 });
    }
    assert.equal(st.perCopyMiBps, null);
    assert.deepEqual((await t.admin("GET", "bandwidth")).perCopyMiBps, null);
  });

  it("PUT /__admin/bandwidth: a domain's own throughput, the default, and errors that name the field", async () => {
    let st = await t.admin("PUT", "bandwidth", { MiBps: 24, storageDomain: "export1" });
    assert.deepEqual(
      st.storageDomains.map((d: any) => [d.name, d.MiBps, d.own]),
      [["data-source", 4000, true], ["export1", 24, true]],
    );
    // the default resets every domain's own setting
    st = await t.admin("PUT", "bandwidth", { MiBps: 300 });
    assert.equal(st.MiBps, 300);
    assert.deepEqual(st.storageDomains.map((d: any) => [d.name, d.MiBps, d.own]), [["data-source", 300, false], ["export1", 300, false]]);
    const bad = async (body: unknown, re: RegExp) => {
      const r = await t.raw("PUT", "/__admin/bandwidth", JSON.stringify(body), { "content-type": "application/json" });
      assert.equal(r.status, 400, r.text);
      assert.match(JSON.parse(r.text).error, re);
    };
    await bad({ MiBps: -1 }, /^MiBps: .*Expected MiBps: a positive number/);
    await bad({}, /neither MiBps nor perCopyMiBps/);
    await bad({ storageDomain: "export1", perCopyMiBps: 2 }, /storageDomain export1 given without MiBps/);
    await bad({ mibps: 5 }, /Unrecognized key.*mibps/i);
    const nf = await t.raw("PUT", "/__admin/bandwidth", JSON.stringify({ MiBps: 5, storageDomain: "nope" }), { "content-type": "application/json" });
    assert.equal(nf.status, 404);
    assert.match(JSON.parse(nf.text).error, /^storageDomain: no storage domain named or with id nope \(known: data-source, export1\)/);
    await t.admin("PUT", "bandwidth", { MiBps: EXPORT_MIBPS, storageDomain: "export1" });
    await t.admin("PUT", "bandwidth", { MiBps: 4000, storageDomain: "data-source" });
  });

  it("SimulatorOptions.copyBandwidthMiBps and the CLI flag --copy-bandwidth set the per-copy cap", async () => {
    const t2 = await startTestSimulator({ copyBandwidthMiBps: 7, bandwidthMiBps: 50 });
    try {
      const st = await t2.admin("GET", "bandwidth");
      assert.equal(st.MiBps, 50);
      assert.equal(st.perCopyMiBps, 7);
    } finally {
      await t2.close();
    }
    const cli = path.resolve(__dirname, "..", "..", "simulator", "cli.js");
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-sim-bwcli-"));
    try {
      const bad = spawnSync(process.execPath, [cli, "--state", stateDir, "--password", "x", "--copy-bandwidth", "-3"], { encoding: "utf8" });
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /--copy-bandwidth must be a non-negative number/);
      const child = spawn(process.execPath, [cli, "--port", "0", "--http", "--state", stateDir, "--bandwidth", "64", "--copy-bandwidth", "9"], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, OVIRT_SIM_PASSWORD: "secret" },
      });
      try {
        const adminUrl: string = await new Promise((resolve, reject) => {
          let out = "";
          child.stdout!.on("data", (d) => {
            out += String(d);
            const m = /Admin URL: (\S+)/.exec(out);
            if (m) resolve(m[1]);
          });
          child.on("exit", (c) => reject(new Error(`cli exited ${c}`)));
        });
        const st = (await (await fetch(`${adminUrl}/bandwidth`)).json()) as { MiBps: number; perCopyMiBps: number };
        assert.equal(st.MiBps, 64);
        assert.equal(st.perCopyMiBps, 9);
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe("simulator: V2V conversions share their target domain's throughput (issue 11)", function () {
  this.timeout(600_000);
  let vc: RunningVcsim;
  let t: TestSimulator;
  const TARGET_MIBPS = 256;
  before(async () => {
    vc = await startVcsim();
    const c = await VSphereClient.connect({ host: vc.host, username: vc.username, password: vc.password, tls: { insecure: true } });
    // a 1 GiB thin disk: a sparse conversion moves a quarter of it (256 MiB)
    await seedVcsim(c, [{ name: "v2v-bw", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] }]);
    await c.logout();
    t = await startTestSimulator({ bandwidthMiBps: 4000 });
    await t.admin("PUT", "bandwidth", { MiBps: TARGET_MIBPS, storageDomain: "data-target" });
  });
  after(async () => {
    await t?.close();
    await vc?.close();
  });

  it("two conversions to one domain each get about half of it; the engine counts them as busy", async () => {
    const cl = await idOf(t, "clusters", "cl-target");
    const sd = await idOf(t, "storagedomains", "data-target");
    const url = `vpx://${vc.username}@${vc.host}/Region%20A/DC%20East/Prod%20Cluster/DC0_C0_H0?no_verify=1`;
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    const body = (target: string) =>
      `<external_vm_import><name>v2v-bw</name><provider>vmware</provider><url>${esc(url)}</url>` +
      `<username>${vc.username}</username><password>${esc(vc.password)}</password>` +
      `<cluster id="${cl}"/><storage_domain id="${sd}"/><vm><name>${target}</name></vm><sparse>true</sparse></external_vm_import>`;
    const busy0 = (await t.admin("GET", "stats")).busyMs as number;
    const before = new Set(arr((await t.api("GET", "jobs")).xml.jobs?.job).map((j: any) => j["@_id"]));
    const rs = await Promise.all(["bw-conv-1", "bw-conv-2"].map((n) => t.api("POST", "externalvmimports", body(n))));
    for (const r of rs) assert.equal(r.status, 201, r.text);
    const ids = arr((await t.api("GET", "jobs")).xml.jobs?.job).map((j: any) => j["@_id"]).filter((id: string) => !before.has(id));
    assert.equal(ids.length, 2);
    for (const id of ids) assert.equal(await t.waitJob(id, 120_000), "finished");
    const stats = await t.admin("GET", "stats");
    const jobs = (stats.jobs as JobStat[]).filter((j) => ids.includes(j.id));
    const total = jobs.reduce((s, j) => s + j.bytes, 0) / MiB;
    assert.equal(total, 2 * 256);
    const need = total / TARGET_MIBPS; // 2 s
    const s = span(jobs);
    assert.ok(s >= need * 0.85, `both conversions ended after ${s.toFixed(2)} s; ${total} MiB need ${need} s at ${TARGET_MIBPS} MiB/s`);
    assert.ok(s <= need * 4, `both conversions took ${s.toFixed(2)} s for ${need} s of bytes`);
    for (const j of jobs) assert.ok(rateMiBps(j) <= TARGET_MIBPS * 0.65, `a conversion ran at ${rateMiBps(j).toFixed(1)} MiB/s beside another`);
    const busy = (stats.busyMs - busy0) / 1000;
    assert.ok(busy >= need * 0.8 && busy <= s + 0.05, `busy ${busy.toFixed(2)} s for conversions spanning ${s.toFixed(2)} s`);
  });
});
