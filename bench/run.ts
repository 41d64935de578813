// `npm run bench` (scripts/bench.sh): performance figures of issue 6, measured with the real Pulumi CLI against the
// engine simulator, written to bench/last-run.json and printed as a table.
//
// - physicalRatio20 (issue 11): wall time of `pulumi up` migrating 20 VMs (BENCH_DISK_MIB per VM) / the physical
//   limit of the storage: bytes exported / export-domain throughput + bytes imported / the slower of the export and
//   the target data domain. The simulator gives each storage domain a throughput shared by every copy that reads or
//   writes it (BENCH_EXPORT_MIBPS for the export domain, like one NFS export domain on 1 GbE; BENCH_DATA_MIBPS for the
//   data domains), so concurrent copies split it as on a real engine. Bytes come from /__admin/stats (jobs' bytes),
//   throughputs from /__admin/bandwidth.
// - overheadRatio: the same wall time / the simulator's own busy time for the same jobs (/__admin/stats busyMs: time
//   in which at least one disk copy ran). Concurrency = number of VMs (the engine runs every job at once and the
//   domains share out their throughput; a smaller window would only leave copies queued in the provider).
//   `pulumi up` runs with `--parallel 64`: the CLI's default (4 x CPUs = 8 here) would cap the exports at 8 at a time.
//   Also: overheadSeconds (wall - busy, split per run into start-up, the gap between the phases and the tail) and
//   pulumiFloorSeconds (`pulumi up` of bench/floor: one no-op dynamic resource, i.e. Pulumi's own fixed cost).
// - requestsPerVm: HTTP requests the provider sent (simulator request log, SSO included) / migrated VMs.
// - previewSeconds200 / previewRequests200 / previewMutating200: `pulumi preview` of a 200-VM migration.
// - peakRssMiB: peak RSS of the dynamic-provider process during that preview (sampled from /proc every 50 ms).
// - scaling: wall time of `pulumi up` for 1, 5 and 20 VMs, same per-VM disk size.
// - simulator: GET/s and 2,000-VM load time (bench/simulator.bench.ts), when it runs.
// Medians over BENCH_RUNS runs (default 3). Environment knobs: BENCH_RUNS, BENCH_DISK_MIB, BENCH_EXPORT_MIBPS,
// BENCH_DATA_MIBPS, BENCH_COPY_MIBPS (optional per-copy cap; default none), BENCH_OUT (file written instead of
// bench/last-run.json, e.g. for a trial run whose figures are not to be kept).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { PulumiWorkspace, ROOT } from "../scripts/lib/pulumiCli";
import { startTestSimulator, TestSimulator } from "../test/support/simulator";

// --quick: one repetition of everything (still writes bench/last-run.json, with config.runs = 1).
// --main-only: only the 20-VM `pulumi up` runs, printed, file not written (for iterating on the provider).
// BENCH_LOG=file: the request log of the first 20-VM run is written there as JSON lines.
const QUICK = process.argv.includes("--quick");
const MAIN_ONLY = process.argv.includes("--main-only");
// --plan: only issue 14's figures (planFigures below), merged into the existing output file
const PLAN_ONLY = process.argv.includes("--plan");
// --data-domain: only issue 15's figures (dataDomainFigures below), merged into the existing output file
const DATA_DOMAIN_ONLY = process.argv.includes("--data-domain");
// --up200: one `pulumi up` of 200 VMs of 1 MiB, printed (wall, busy, requests by path), file not written (for iterating
// on the provider's per-VM overhead)
const UP200_ONLY = process.argv.includes("--up200");
const RUNS = QUICK ? 1 : Number(process.env.BENCH_RUNS ?? 3);
// 20 x 256 MiB = 5 GiB through one export domain of 110 MiB/s in all (one NFS export domain on 1 GbE), shared by the
// 20 copies of a phase: each phase (all exports, then all imports) needs about 46.5 s. The data domains are faster
// (400 MiB/s), so the export domain is the limit in both phases.
const DISK_MIB = Number(process.env.BENCH_DISK_MIB ?? 256);
const EXPORT_MIBPS = Number(process.env.BENCH_EXPORT_MIBPS ?? 110);
const DATA_MIBPS = Number(process.env.BENCH_DATA_MIBPS ?? 400);
const COPY_MIBPS = process.env.BENCH_COPY_MIBPS ? Number(process.env.BENCH_COPY_MIBPS) : undefined;
const OUT = path.resolve(process.env.BENCH_OUT ?? path.join(ROOT, "bench", "last-run.json"));
for (const [k, v] of Object.entries({ BENCH_DISK_MIB: DISK_MIB, BENCH_EXPORT_MIBPS: EXPORT_MIBPS, BENCH_DATA_MIBPS: DATA_MIBPS, BENCH_COPY_MIBPS: COPY_MIBPS ?? 1 })) {
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${k}=${process.env[k]}: a positive number is required`);
}
if (process.env.BENCH_MIBPS) throw new Error("BENCH_MIBPS (a per-copy rate) is gone: set BENCH_EXPORT_MIBPS / BENCH_DATA_MIBPS (per storage domain, shared by its copies) or BENCH_COPY_MIBPS (a per-copy cap)");
const PASSWORD = "bench-password";

/**
 * The same VMs with their disks on a data domain of their own (data-vms) next to dc-source's master (data-source): what
 * the data-domain path moves. Same domain throughputs.
 */
function dataDomainInventory(n: number, diskMiB: number): unknown {
    const inv = inventory(n, diskMiB) as any;
    inv.dataCenters[0].storageDomains.push({ name: "data-vms", type: "data", storageType: "nfs", sizeGiB: 2000, bandwidthMiBps: DATA_MIBPS });
    for (const vm of inv.vms) for (const d of vm.disks) d.storageDomain = "data-vms";
    return inv;
}

function inventory(n: number, diskMiB: number): unknown {
    const vms = Array.from({ length: n }, (_, i) => ({
        name: `vm-${String(i + 1).padStart(3, "0")}`,
        cluster: "cl-source",
        memoryMiB: 1024,
        cpus: 1,
        disks: [{ alias: `vm-${String(i + 1).padStart(3, "0")}_disk0`, sizeMiB: diskMiB, sparse: false, format: "raw" }],
    }));
    return {
        dataCenters: [
            {
                name: "dc-source",
                clusters: [{ name: "cl-source", cpuArchitecture: "x86_64" }],
                hosts: [{ name: "host-source-1", cluster: "cl-source", status: "up" }],
                storageDomains: [{ name: "data-source", type: "data", storageType: "nfs", sizeGiB: 2000, bandwidthMiBps: DATA_MIBPS }],
            },
            {
                name: "dc-target",
                clusters: [{ name: "cl-target", cpuArchitecture: "x86_64" }],
                hosts: [{ name: "host-target-1", cluster: "cl-target", status: "up" }],
                storageDomains: [{ name: "data-target", type: "data", storageType: "nfs", sizeGiB: 2000, bandwidthMiBps: DATA_MIBPS }],
            },
        ],
        exportDomains: [{ name: "export1", path: "exports/export1", attachedTo: "dc-source", status: "active", bandwidthMiBps: EXPORT_MIBPS }],
        templates: [],
        vms,
    };
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface Env {
    t: TestSimulator;
    ws: PulumiWorkspace;
    close(): Promise<void>;
}

async function env(n: number, diskMiB: number, stack: string, dataDomain?: string): Promise<Env> {
    // every domain has its own throughput in the inventory; the default only matters for domains it does not list
    const inv = dataDomain ? dataDomainInventory(n, diskMiB) : inventory(n, diskMiB);
    // wireCheck off: checking every request and answer against the API model is the test suite's job (the tests run
    // with "fail"); here it would only add the simulator's CPU, on the same 2 cores, to the provider's overhead
    const t = await startTestSimulator({ password: PASSWORD, bandwidthMiBps: DATA_MIBPS, copyBandwidthMiBps: COPY_MIBPS, inventory: inv as any, wireCheck: "off" });
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pulumi-"));
    const ws = new PulumiWorkspace(ROOT, stack, {}, base);
    const names = Array.from({ length: n }, (_, i) => `vm-${String(i + 1).padStart(3, "0")}`);
    fs.rmSync(path.join(ROOT, `Pulumi.${stack}.yaml`), { force: true });
    await ws.init(
        {
            "ovirt:url": t.sim.url,
            "ovirt:caFile": t.sim.caFile,
            "migration:vms": JSON.stringify(names),
            "migration:templates": "[]",
            "migration:concurrency": String(Math.max(1, n)),
            ...(dataDomain ? { "migration:method": "data-domain", "migration:dataDomain": dataDomain } : {}),
        },
        { "ovirt:password": PASSWORD },
    );
    return {
        t,
        ws,
        async close() {
            await t.close();
            fs.rmSync(path.join(ROOT, `Pulumi.${stack}.yaml`), { force: true });
            fs.rmSync(base, { recursive: true, force: true });
        },
    };
}

/** One `pulumi up` of n VMs on a fresh simulator: wall time, busy time, requests. */
async function upRun(n: number, stack: string) {
    const e = await env(n, DISK_MIB, stack);
    try {
        // the simulator writes a seeded disk's bytes the first time they are read; a real engine's source disks exist
        // already, so they are written (and checksummed) before the clock starts
        await e.t.admin("GET", "disks");
        await e.t.admin("DELETE", "requests");
        const busy0 = (await e.t.admin("GET", "stats")).busyMs as number;
        const upStartMs = Date.now();
        const up = await e.ws.up(["--parallel", "64"], { skipPreview: true }); // the engine-work figures exclude the preview (timed apart)
        if (up.code !== 0) throw new Error(`pulumi up of ${n} VMs failed:\n${up.output.slice(-3000)}`);
        const stats = await e.t.admin("GET", "stats");
        const req = await e.t.admin("GET", "requests");
        const d = await e.t.admin("GET", "disks");
        const moved = d.vms.filter((v: any) => v.dataCenter === "dc-target").length;
        if (moved !== n) throw new Error(`${moved} of ${n} VMs in the target`);
        if (process.env.BENCH_LOG && !fs.existsSync(process.env.BENCH_LOG)) {
            fs.writeFileSync(process.env.BENCH_LOG, (req.log as unknown[]).map((l) => JSON.stringify(l)).join("\n") + "\n");
            fs.writeFileSync(process.env.BENCH_LOG + ".jobs.json", JSON.stringify({ upStartMs, upMs: up.ms, jobs: stats.jobs }, null, 1));
        }
        const jobs = stats.jobs as Array<{ startMs: number; endMs: number; kind: string; bytes: number; status: string }>;
        // the physical limit: every exported byte goes through the export domain, every imported one through the
        // export domain and the target data domain (issue 11's definition)
        const bw = await e.t.admin("GET", "bandwidth");
        const mibps = (name: string) => {
            const d = (bw.storageDomains as Array<{ name: string; MiBps: number }>).find((x) => x.name === name);
            if (!d) throw new Error(`no storage domain ${name} in GET /__admin/bandwidth`);
            return d.MiBps;
        };
        const exportMiBps = mibps("export1");
        const importMiBps = Math.min(exportMiBps, mibps("data-target"));
        const bytesOf = (prefix: string) => jobs.filter((j) => j.kind.startsWith(prefix) && j.status === "finished").reduce((a, j) => a + j.bytes, 0);
        const exportedBytes = bytesOf("export");
        const importedBytes = bytesOf("import");
        const physicalMs = ((exportedBytes / 1048576) / exportMiBps + (importedBytes / 1048576) / importMiBps) * 1000;
        const firstJob = Math.min(...jobs.map((j) => j.startMs));
        const lastJob = Math.max(...jobs.map((j) => j.endMs));
        const exportsEnd = Math.max(...jobs.filter((j) => j.kind.startsWith("export")).map((j) => j.endMs));
        const importsStart = Math.min(...jobs.filter((j) => j.kind.startsWith("import")).map((j) => j.startMs));
        return {
            wallMs: up.ms,
            // where the time outside engine work goes: before the first job, between the phases, after the last job
            startupMs: firstJob - upStartMs,
            phaseGapMs: importsStart - exportsEnd,
            tailMs: upStartMs + up.ms - lastJob,
            busyMs: stats.busyMs - busy0,
            physicalMs,
            exportedBytes,
            importedBytes,
            exportMiBps,
            importMiBps,
            requests: req.total as number,
            mutating: req.mutating as number,
            byPath: req.byPath as Record<string, number>,
            jobsSpanMs: lastJob - firstJob,
        };
    } finally {
        await e.close();
    }
}

/**
 * Issue 15: `pulumi up` of the same n VMs by the data-domain path (data-vms moves from dc-source to dc-target and
 * its VMs are registered there; no byte copied): wall time, and the proof that every VM arrived with equal disks.
 */
async function dataDomainRun(n: number, stack: string): Promise<{ wallMs: number; copiedBytes: number }> {
    const e = await env(n, DISK_MIB, stack, "data-vms");
    try {
        const before = await e.t.admin("GET", "disks");
        const sums = new Map((before.vms as any[]).map((v) => [v.name, JSON.stringify(v.disks.map((d: any) => d.sha256).sort())]));
        const busy0 = (await e.t.admin("GET", "stats")).busyMs as number;
        const up = await e.ws.up(["--parallel", "64"], { skipPreview: true }); // as upRun: the preview is timed apart
        if (up.code !== 0) throw new Error(`pulumi up of ${n} VMs by the data-domain path failed:\n${up.output.slice(-3000)}`);
        const d = await e.t.admin("GET", "disks");
        const moved = (d.vms as any[]).filter((v) => v.dataCenter === "dc-target");
        if (moved.length !== n) throw new Error(`${moved.length} of ${n} VMs in the target after the data-domain move`);
        for (const v of moved) if (JSON.stringify(v.disks.map((x: any) => x.sha256).sort()) !== sums.get(v.name)) throw new Error(`${v.name}: disks differ after the data-domain move`);
        const stats = await e.t.admin("GET", "stats");
        const copiedBytes = (stats.jobs as Array<{ bytes: number; startMs: number }>).reduce((a, j) => a + (j.bytes ?? 0), 0);
        if ((stats.busyMs as number) !== busy0) console.log(`  note: the data-domain run kept the engine copying for ${stats.busyMs - busy0} ms`);
        return { wallMs: up.ms, copiedBytes };
    } finally {
        await e.close();
    }
}

/**
 * `pulumi up` of bench/floor on a fresh stack: Pulumi's own cost. No argument: one no-op dynamic resource (the fixed
 * cost of any run); `vms`: no-ops in the graph a `Migration` of that many VMs registers (Pulumi's cost per resource);
 * `credentials`: each of those also holds an engine connection as a secret input and output (what checkpointing the
 * credentials that every resource's delete needs costs).
 */
async function floorRun(vms?: number, credentials = false): Promise<number> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "bench-floor-"));
    const ws = new PulumiWorkspace(path.join(ROOT, "bench", "floor"), "floor", {}, base);
    try {
        await ws.init({ ...(vms ? { "floor:vms": String(vms) } : {}), ...(credentials ? { "floor:credentials": "true" } : {}) });
        const up = await ws.up(["--parallel", "64"], { skipPreview: true }); // as before: figures comparable across runs
        if (up.code !== 0) throw new Error(`pulumi up of bench/floor failed:\n${up.output.slice(-3000)}`);
        return up.ms;
    } finally {
        fs.rmSync(path.join(ROOT, "bench", "floor", "Pulumi.floor.yaml"), { force: true });
        fs.rmSync(base, { recursive: true, force: true });
    }
}

function providerPids(): number[] {
    const out: number[] = [];
    for (const d of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8");
            // Pulumi's own host (…/dynamic-provider/index.js) or ours (tools/language-host/dynamic-provider.js)
            if (/dynamic-provider(\/index)?\.js/.test(cmd)) out.push(Number(d));
        } catch {
            /* gone */
        }
    }
    return out;
}

function rssMiB(pid: number): number {
    try {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
        return m ? Number(m[1]) / 1024 : 0;
    } catch {
        return 0;
    }
}

async function preview200() {
    const e = await env(200, 1, "bench-preview");
    try {
        const results: Array<{ ms: number; requests: number; mutating: number; peakRss: number; gets: Record<string, number> }> = [];
        for (let i = 0; i < RUNS; i++) {
            await e.t.admin("DELETE", "requests");
            const before = new Set(providerPids());
            let peak = 0;
            const sampler = setInterval(() => {
                for (const pid of providerPids()) if (!before.has(pid)) peak = Math.max(peak, rssMiB(pid));
            }, 50);
            const p = await e.ws.preview();
            clearInterval(sampler);
            if (p.code !== 0) throw new Error(`preview of 200 VMs failed:\n${p.output.slice(-3000)}`);
            const req = await e.t.admin("GET", "requests");
            results.push({ ms: p.ms, requests: req.total, mutating: req.mutating, peakRss: peak, gets: req.byPath });
        }
        return results;
    } finally {
        await e.close();
    }
}

function simulatorFigures(): Record<string, unknown> | undefined {
    const f = path.join(ROOT, "dist", "bench", "simulator.bench.js");
    if (!fs.existsSync(f)) return undefined;
    try {
        const out = execFileSync(process.execPath, [f, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 180_000 });
        const m = /\{[\s\S]*\}\s*$/.exec(out.trim());
        if (m) {
            try {
                return JSON.parse(m[0]);
            } catch {
                /* not JSON */
            }
        }
        return { output: out.trim().split("\n").slice(-12) };
    } catch (err) {
        return { error: String(err).slice(0, 300) };
    }
}

/**
 * One `pulumi up` of 200 VMs of 1 MiB on a fresh simulator (`--plan`, `--up200`): wall time, engine busy time,
 * requests. `verbose` (--up200): BENCH_UP_ARGS adds `pulumi up` flags (e.g. --profiling=/tmp/cli, the CLI's CPU
 * profile), and BENCH_LOG=file writes the request log there, with the jobs and the state next to it.
 */
async function up200Run(verbose = false): Promise<{ ms: number; busyMs: number; requests: number; byPath: Record<string, number> }> {
    const u = await env(200, 1, "bench-200");
    try {
        await u.t.admin("GET", "disks"); // source disks written before the clock starts (see upRun)
        await u.t.admin("DELETE", "requests");
        const busy0 = (await u.t.admin("GET", "stats")).busyMs as number;
        const extra = verbose && process.env.BENCH_UP_ARGS ? process.env.BENCH_UP_ARGS.split(" ").filter(Boolean) : [];
        const up = await u.ws.up(["--parallel", "64", ...extra], { skipPreview: true }); // as upRun: the preview is timed apart
        if (up.code !== 0) throw new Error(`pulumi up of 200 VMs failed:\n${up.output.slice(-3000)}`);
        const stats = await u.t.admin("GET", "stats");
        const req = await u.t.admin("GET", "requests");
        if (verbose && process.env.BENCH_LOG) {
            fs.writeFileSync(process.env.BENCH_LOG, (req.log as unknown[]).map((l) => JSON.stringify(l)).join("\n") + "\n");
            fs.writeFileSync(process.env.BENCH_LOG + ".jobs.json", JSON.stringify({ upMs: up.ms, jobs: stats.jobs }, null, 1));
            fs.writeFileSync(process.env.BENCH_LOG + ".state.json", JSON.stringify(await u.ws.exportState()));
        }
        return { ms: up.ms, busyMs: (stats.busyMs as number) - busy0, requests: req.total as number, byPath: req.byPath };
    } finally {
        await u.close();
    }
}

/**
 * Issue 14 (`--plan`): `previewSeconds1000` / `previewMutating1000` / `previewPeakRssMiB1000` (`pulumi preview` of a
 * 1,000-VM migration, its plan included: wall time, mutating requests, peak RSS of the provider process) and
 * `upOverheadSecondsPerVm200` (`pulumi up` of 200 VMs of 1 MiB: (wall - engine busy time - Pulumi's floor for the same
 * graph, `pulumiFloorSeconds200`) / 200; `upOverheadSecondsPerVm200OverOneResourceFloor` subtracts the one-resource
 * floor instead, so it also counts Pulumi's own cost per resource; `upOverheadSecondsPerVm200OverCredentialsFloor`
 * subtracts `pulumiFloorWithCredentialsSeconds200`, the same graph with an engine connection secret in every
 * resource's inputs and outputs: what the Migration's engine provider saves), plus `requestsPerVm200` of that up. Medians of RUNS; merged into OUT next to the
 * keys a full run wrote.
 */
async function planFigures(): Promise<Record<string, number>> {
    const pv: Array<{ ms: number; mutating: number; peak: number }> = [];
    const e = await env(1000, 1, "bench-preview-1000");
    try {
        for (let i = 0; i < RUNS; i++) {
            await e.t.admin("DELETE", "requests");
            const before = new Set(providerPids());
            let peak = 0;
            const sampler = setInterval(() => {
                for (const pid of providerPids()) if (!before.has(pid)) peak = Math.max(peak, rssMiB(pid));
            }, 50);
            const p = await e.ws.preview();
            clearInterval(sampler);
            if (p.code !== 0) throw new Error(`preview of 1000 VMs failed:\n${p.output.slice(-3000)}`);
            if (!/Migration plan main: /.test(p.output)) throw new Error("the preview of 1000 VMs shows no plan");
            pv.push({ ms: p.ms, mutating: (await e.t.admin("GET", "requests")).mutating, peak });
            console.log(`  preview of 1000 VMs: ${(p.ms / 1000).toFixed(1)} s, peak RSS ${peak.toFixed(0)} MiB`);
        }
    } finally {
        await e.close();
    }
    // two floors: one no-op resource (Pulumi's fixed cost), and the same graph as the 200-VM Migration in no-ops
    // (Pulumi's cost per resource included: registering, stepping and checkpointing 405 resources)
    // and that graph with an engine connection secret in every resource's inputs and outputs
    const floor: number[] = [];
    const floor200: number[] = [];
    const floorCred: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        floor.push(await floorRun());
        floor200.push(await floorRun(200));
        floorCred.push(await floorRun(200, true));
        console.log(
            `  Pulumi floor: ${(floor[i] / 1000).toFixed(2)} s (1 no-op), ${(floor200[i] / 1000).toFixed(2)} s (the 200-VM graph in no-ops), ` +
                `${(floorCred[i] / 1000).toFixed(2)} s (the same with an engine connection secret in and out)`,
        );
    }
    const over: number[] = [];
    const overOne: number[] = [];
    const overCred: number[] = [];
    const reqs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        const u = await up200Run();
        over.push((u.ms - u.busyMs - median(floor200)) / 1000 / 200);
        overOne.push((u.ms - u.busyMs - median(floor)) / 1000 / 200);
        overCred.push((u.ms - u.busyMs - median(floorCred)) / 1000 / 200);
        reqs.push(u.requests / 200);
        console.log(`  up of 200 VMs: ${(u.ms / 1000).toFixed(1)} s, busy ${(u.busyMs / 1000).toFixed(1)} s`);
    }
    return {
        previewSeconds1000: round(median(pv.map((p) => p.ms)) / 1000),
        previewMutating1000: Math.max(...pv.map((p) => p.mutating)),
        previewPeakRssMiB1000: round(median(pv.map((p) => p.peak)), 1),
        upOverheadSecondsPerVm200: round(median(over), 3),
        upOverheadSecondsPerVm200OverOneResourceFloor: round(median(overOne), 3),
        upOverheadSecondsPerVm200OverCredentialsFloor: round(median(overCred), 3),
        pulumiFloorSeconds200: round(median(floor200) / 1000),
        pulumiFloorWithCredentialsSeconds200: round(median(floorCred) / 1000),
        requestsPerVm200: round(median(reqs), 1),
    };
}

/**
 * Issue 15: the same 20-VM set (BENCH_DISK_MIB each, same domain throughputs) moved both ways: `exportDomainPathSeconds20`
 * (copy through the export domain: the 20-VM runs above, or RUNS new ones) and `dataDomainPathSeconds20` (the data
 * domain moves, its VMs are registered). Medians of RUNS.
 */
async function dataDomainFigures(exportWallMs?: number[]): Promise<Record<string, number>> {
    const exp = exportWallMs ?? [];
    if (!exp.length) for (let i = 0; i < RUNS; i++) exp.push((await upRun(20, "bench-20")).wallMs);
    const dd: number[] = [];
    let copied = 0;
    for (let i = 0; i < RUNS; i++) {
        const r = await dataDomainRun(20, "bench-dd-20");
        dd.push(r.wallMs);
        copied += r.copiedBytes;
        console.log(`  20 VMs by the data-domain path run ${i + 1}: up ${(r.wallMs / 1000).toFixed(1)} s, ${r.copiedBytes} bytes copied`);
    }
    return {
        exportDomainPathSeconds20: round(median(exp) / 1000),
        dataDomainPathSeconds20: round(median(dd) / 1000),
        dataDomainPathCopiedBytes20: copied,
    };
}

async function main(): Promise<void> {
    const started = Date.now();
    if (DATA_DOMAIN_ONLY) {
        const figures = await dataDomainFigures();
        const prev = fs.existsSync(OUT) ? JSON.parse(fs.readFileSync(OUT, "utf8")) : {};
        fs.writeFileSync(OUT, JSON.stringify({ ...prev, ...figures }, null, 2) + "\n");
        console.log(JSON.stringify(figures, null, 1));
        return;
    }
    if (UP200_ONLY) {
        const u = await up200Run(true);
        console.log(`up of 200 VMs: ${(u.ms / 1000).toFixed(1)} s, busy ${(u.busyMs / 1000).toFixed(1)} s, ${u.requests} requests (${(u.requests / 200).toFixed(1)} per VM)`);
        console.log(JSON.stringify(u.byPath, null, 1));
        const f200 = await floorRun(200);
        console.log(`Pulumi floor of the same graph: ${(f200 / 1000).toFixed(1)} s; overhead per VM beyond it ${((u.ms - u.busyMs - f200) / 1000 / 200).toFixed(3)} s`);
        const fc = await floorRun(200, true);
        console.log(`... with an engine connection secret in and out: ${(fc / 1000).toFixed(1)} s; overhead per VM beyond it ${((u.ms - u.busyMs - fc) / 1000 / 200).toFixed(3)} s`);
        return;
    }
    if (PLAN_ONLY) {
        const figures = await planFigures();
        const prev = fs.existsSync(OUT) ? JSON.parse(fs.readFileSync(OUT, "utf8")) : {};
        fs.writeFileSync(OUT, JSON.stringify({ ...prev, ...figures }, null, 2) + "\n");
        console.log(JSON.stringify(figures, null, 1));
        return;
    }
    console.log(
        `bench: ${RUNS} runs, ${DISK_MIB} MiB per VM, export domain ${EXPORT_MIBPS} MiB/s, data domains ${DATA_MIBPS} MiB/s ` +
            `(shared by their copies)${COPY_MIBPS ? `, ${COPY_MIBPS} MiB/s per copy` : ""}, concurrency = VMs`,
    );
    const main20: Awaited<ReturnType<typeof upRun>>[] = [];
    for (let i = 0; i < RUNS; i++) {
        const r = await upRun(20, "bench-20");
        console.log(
            `  20 VMs run ${i + 1}: up ${(r.wallMs / 1000).toFixed(1)} s, physical limit ${(r.physicalMs / 1000).toFixed(1)} s, engine busy ${(r.busyMs / 1000).toFixed(1)} s ` +
                `(outside: ${(r.startupMs / 1000).toFixed(2)} s to the first job, ${(r.phaseGapMs / 1000).toFixed(2)} s between ` +
                `exports and imports, ${(r.tailMs / 1000).toFixed(2)} s after the last), ${r.requests} requests`,
        );
        main20.push(r);
    }
    if (MAIN_ONLY) {
        for (const r of main20) console.log(`  physicalRatio ${round(r.wallMs / r.physicalMs, 3)}, overheadRatio ${round(r.wallMs / r.busyMs, 3)}, requestsPerVm ${round(r.requests / 20, 1)}, mutating ${r.mutating}`);
        console.log(JSON.stringify(main20[0].byPath, null, 1));
        return;
    }
    const scaling: Record<string, number> = {};
    for (const n of [1, 5]) {
        const w: number[] = [];
        for (let i = 0; i < RUNS; i++) w.push((await upRun(n, `bench-${n}`)).wallMs);
        scaling[String(n)] = round(median(w) / 1000);
        console.log(`  ${n} VMs: up ${scaling[String(n)]} s (median)`);
    }
    scaling["20"] = round(median(main20.map((r) => r.wallMs)) / 1000);
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) floor.push(await floorRun());
    console.log(`  Pulumi floor (one no-op dynamic resource): ${floor.map((f) => (f / 1000).toFixed(2) + " s").join(", ")}`);
    const pv = await preview200();
    console.log(`  preview of 200 VMs: ${pv.map((p) => (p.ms / 1000).toFixed(1) + " s").join(", ")}`);
    const sim = simulatorFigures();
    const paths = await dataDomainFigures(main20.map((r) => r.wallMs));

    const perRun = main20.map((r) => ({
        wallSeconds: round(r.wallMs / 1000),
        physicalSeconds: round(r.physicalMs / 1000),
        physicalRatio: round(r.wallMs / r.physicalMs, 3),
        exportedMiB: round(r.exportedBytes / 1048576, 1),
        importedMiB: round(r.importedBytes / 1048576, 1),
        busySeconds: round(r.busyMs / 1000),
        overheadRatio: round(r.wallMs / r.busyMs, 3),
        overheadSeconds: round((r.wallMs - r.busyMs) / 1000),
        startupSeconds: round(r.startupMs / 1000),
        phaseGapSeconds: round(r.phaseGapMs / 1000),
        tailSeconds: round(r.tailMs / 1000),
        requests: r.requests,
        requestsPerVm: round(r.requests / 20, 1),
        mutating: r.mutating,
    }));
    const result = {
        date: new Date().toISOString(),
        machine: {
            cpus: os.cpus().length,
            cpuModel: os.cpus()[0]?.model,
            memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
            os: `${os.type()} ${os.release()}`,
            node: process.version,
            pulumi: (() => {
                try {
                    return execFileSync(path.join(ROOT, ".tools", "bin", "pulumi"), ["version"], { encoding: "utf8" }).trim();
                } catch {
                    return "?";
                }
            })(),
        },
        config: {
            runs: RUNS,
            vms: 20,
            diskMiBPerVm: DISK_MIB,
            totalGiB: round((20 * DISK_MIB) / 1024, 2),
            // per storage domain, shared by the copies that read or write it (as read back from /__admin/bandwidth)
            exportDomainMiBps: main20[0].exportMiBps,
            dataDomainMiBps: DATA_MIBPS,
            perCopyMiBps: COPY_MIBPS ?? null,
            concurrency: "number of VMs",
            pulumiParallel: 64,
            tls: true,
            backend: "file",
        },
        // wall / (bytes exported / export-domain throughput + bytes imported / the slower of export and target domain)
        physicalRatio20: round(median(perRun.map((r) => r.physicalRatio)), 3),
        physicalSeconds20: round(median(perRun.map((r) => r.physicalSeconds))),
        overheadRatio: round(median(perRun.map((r) => r.overheadRatio)), 3),
        // wall - busy: a fixed cost, not a share of the copy (see runs20 for where it goes)
        overheadSeconds: round(median(perRun.map((r) => r.overheadSeconds))),
        // of which Pulumi's own: `pulumi up` of one no-op dynamic resource (bench/floor)
        pulumiFloorSeconds: round(median(floor) / 1000),
        requestsPerVm: round(median(perRun.map((r) => r.requestsPerVm)), 1),
        previewSeconds200: round(median(pv.map((p) => p.ms)) / 1000),
        previewRequests200: median(pv.map((p) => p.requests)),
        previewMutating200: Math.max(...pv.map((p) => p.mutating)),
        peakRssMiB: round(median(pv.map((p) => p.peakRss)), 1),
        scaling,
        ...paths,
        targets: { physicalRatio20: "<= 1.10", overheadRatio: "<= 1.05", requestsPerVm: "<= 15", previewSeconds200: "< 20", previewMutating200: "0" },
        runs20: perRun,
        requestsByPath20: main20[0].byPath,
        previewRequestsByPath200: pv[0].gets,
        simulator: sim,
        benchSeconds: round((Date.now() - started) / 1000, 0),
    };
    // keys only other modes measure (--plan) are kept from the previous file
    const prev = fs.existsSync(OUT) ? JSON.parse(fs.readFileSync(OUT, "utf8")) : {};
    const kept = Object.fromEntries(Object.entries(prev).filter(([k]) => /1000$|200$/.test(k) && !(k in result)));
    fs.writeFileSync(OUT, JSON.stringify({ ...result, ...kept }, null, 2) + "\n");

    const rows: Array<[string, string, string]> = [
        ["figure", "value", "target"],
        ["physicalRatio20 (wall / storage limit)", String(result.physicalRatio20), "<= 1.10"],
        ["overheadRatio (20 VMs)", String(result.overheadRatio), "<= 1.05"],
        ["overheadSeconds (wall - busy)", String(result.overheadSeconds), ""],
        ["pulumiFloorSeconds (no-op up)", String(result.pulumiFloorSeconds), ""],
        ["requestsPerVm", String(result.requestsPerVm), "<= 15"],
        ["exportDomainPathSeconds20 (copy)", String(paths.exportDomainPathSeconds20), ""],
        ["dataDomainPathSeconds20 (move + register)", String(paths.dataDomainPathSeconds20), "seconds"],
        ["previewSeconds200", String(result.previewSeconds200), "< 20"],
        ["previewRequests200", String(result.previewRequests200), "batched"],
        ["previewMutating200", String(result.previewMutating200), "0"],
        ["peakRssMiB (provider, preview 200)", String(result.peakRssMiB), ""],
        ["scaling 1 / 5 / 20 VMs (s)", `${scaling["1"]} / ${scaling["5"]} / ${scaling["20"]}`, ""],
    ];
    const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
    console.log(`wrote ${path.relative(process.cwd(), OUT) || OUT} (${result.benchSeconds} s)`);
}

main().catch((e) => {
    console.error(`bench failed: ${e instanceof Error ? e.stack : e}`);
    process.exit(1);
});
