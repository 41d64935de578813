// Simulator benchmark (issue 3 point 10): load time of a 2,000-VM inventory (seed, and reload from the state dir)
// and GET requests per second on loopback. Standalone: node dist/bench/simulator.bench.js [--json]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { startSimulator } from "../simulator";
import type { Inventory } from "../simulator/model/inventory";

function inventory(n: number): Inventory {
  const vms = [];
  for (let i = 0; i < n; i++) vms.push({ name: `vm-${String(i).padStart(5, "0")}`, cluster: "cl", memoryMiB: 1024, disks: [{ sizeMiB: 16 }] });
  return {
    dataCenters: [{ name: "dc", clusters: [{ name: "cl" }], hosts: [{ name: "h", cluster: "cl" }], storageDomains: [{ name: "data", sizeGiB: 10000 }] }],
    exportDomains: [{ name: "export", path: "exports/export", attachedTo: "dc" }],
    vms,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const N = 2000;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-bench-"));
  try {
    let t0 = performance.now();
    let sim = await startSimulator({ stateDir, password: "bench", inventory: inventory(N), tls: true });
    const seedMs = performance.now() - t0;
    await sim.close();
    t0 = performance.now();
    sim = await startSimulator({ stateDir, password: "bench", tls: true });
    const loadMs = performance.now() - t0;

    const agent = new Agent({ connect: { ca: fs.readFileSync(sim.caFile) }, connections: 8, pipelining: 1 });
    const origin = new URL(sim.url).origin;
    const tokRes = await request(`${origin}/ovirt-engine/sso/oauth/token`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=bench",
    });
    const token = JSON.parse(await tokRes.body.text()).access_token;
    const listRes = await request(`${sim.url}/vms?search=name%3Dvm-0000*`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    const ids = [...(await listRes.body.text()).matchAll(/<vm href="[^"]+" id="([^"]+)"/g)].map((m) => m[1]);
    const headers = { authorization: `Bearer ${token}`, version: "4", accept: "application/xml" };
    const run = async (ms: number) => {
      let n = 0;
      let errors = 0;
      const end = performance.now() + ms;
      const worker = async () => {
        while (performance.now() < end) {
          const id = ids[n % ids.length];
          const r = await request(`${sim.url}/vms/${id}`, { dispatcher: agent, headers });
          await r.body.text();
          if (r.statusCode !== 200) errors++;
          n++;
        }
      };
      const t1 = performance.now();
      await Promise.all(Array.from({ length: 8 }, worker));
      return { n, errors, secs: (performance.now() - t1) / 1000 };
    };
    await run(500); // warm-up
    const r = await run(3000);
    const getsPerSecond = r.n / r.secs;
    await agent.close();
    await sim.close();
    const result = {
      vms: N,
      seedMs: Math.round(seedMs),
      loadMs: Math.round(loadMs),
      getsPerSecond: Math.round(getsPerSecond),
      getErrors: r.errors,
      transport: "https, keep-alive, 8 concurrent connections, GET /vms/{id}",
      machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`,
      targets: { loadMs: "< 2000", getsPerSecond: "> 500" },
      pass: loadMs < 2000 && seedMs < 2000 && getsPerSecond > 500,
    };
    if (json) process.stdout.write(JSON.stringify(result) + "\n");
    else {
      process.stdout.write(`simulator bench (${result.machine})\n`);
      process.stdout.write(`  inventory of ${N} VMs: seed ${result.seedMs} ms, reload from state dir ${result.loadMs} ms (target < 2000 ms)\n`);
      process.stdout.write(`  GET /vms/{id}: ${result.getsPerSecond} requests/s over ${result.transport} (target > 500/s), errors ${r.errors}\n`);
      process.stdout.write(`  ${result.pass ? "PASS" : "FAIL"}\n`);
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
  process.exit(1);
});
