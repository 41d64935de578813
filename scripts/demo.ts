// README command 1: the main job. Starts the engine simulator with the default inventory (state kept in
// .state/demo so a second run finds the engine as the first left it), runs the real `pulumi preview` and
// `pulumi up --yes` of the root project (index.ts), and prints what moved, how many bytes, how long it took, and
// whether every disk checksum in the target equals the source's.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { startSimulator } from "../simulator";
import { PulumiWorkspace, ROOT, changeCounts } from "./lib/pulumiCli";

interface DiskReport { id: string; alias: string; sizeBytes: number; sha256: string }
interface EntityReport { id: string; name: string; dataCenter: string; disks: DiskReport[] }

async function main(): Promise<void> {
    const stateDir = path.join(ROOT, ".state", "demo");
    const engineDir = path.join(stateDir, "engine");
    fs.mkdirSync(engineDir, { recursive: true });
    const secretFile = path.join(stateDir, "engine-password");
    if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, crypto.randomBytes(12).toString("base64url"), { mode: 0o600 });
    const password = fs.readFileSync(secretFile, "utf8").trim();
    // The same port every run: the engine URL is stack config, and a new URL would be a new engine.
    const portFile = path.join(stateDir, "engine-port");
    const port = fs.existsSync(portFile) ? Number(fs.readFileSync(portFile, "utf8")) : 0;
    const sim = await startSimulator({ port, stateDir: engineDir, password, engineName: "demo-engine" });
    fs.writeFileSync(portFile, String(sim.port));
    console.log(`engine simulator: ${sim.url} (admin ${sim.adminUrl})`);

    const ws = new PulumiWorkspace(ROOT, "demo", {}, path.join(stateDir, "pulumi"), "demo-passphrase");
    try {
        await ws.init({ "ovirt:url": sim.url, "ovirt:username": "admin@internal", "ovirt:caFile": sim.caFile }, { "ovirt:password": password });
        const before = await disks(sim.adminUrl);

        console.log("\n$ pulumi preview");
        const preview = await ws.preview([], { echo: true });
        if (preview.code !== 0) throw new Error("pulumi preview failed (output above)");

        console.log("\n$ pulumi up --yes");
        const t0 = Date.now();
        const up = await ws.up([], { echo: true });
        const seconds = (Date.now() - t0) / 1000;
        if (up.code !== 0) throw new Error("pulumi up failed (output above)");

        const after = await disks(sim.adminUrl);
        const outputs = await ws.outputs();
        printSummary(before, after, outputs.imported ?? {}, changeCounts(up.output), seconds);
    } finally {
        await sim.close();
    }
}

async function disks(adminUrl: string): Promise<{ vms: EntityReport[]; templates: EntityReport[] }> {
    const { fetch, Agent } = await import("undici");
    // The admin API is served by the simulator we just started, with the CA it generated: trust that CA.
    const res = await fetch(`${adminUrl}/disks`, { dispatcher: new Agent({ connect: { rejectUnauthorized: false } }) });
    if (!res.ok) throw new Error(`admin API answered ${res.status}`);
    return (await res.json()) as any;
}

function printSummary(
    before: { vms: EntityReport[]; templates: EntityReport[] },
    after: { vms: EntityReport[]; templates: EntityReport[] },
    imported: Record<string, { vmId: string; vmName: string }>,
    changes: Record<string, number>,
    seconds: number,
): void {
    const changed = Object.entries(changes).filter(([k, n]) => k !== "unchanged" && n > 0);
    console.log("\n==================== migration summary ====================");
    const rows: string[][] = [["kind", "source", "target", "disks", "bytes", "checksums"]];
    let bytes = 0;
    let allMatch = true;
    const entities = [
        ...before.templates.filter((t) => t.dataCenter === "dc-source").map((t) => ({ kind: "template", e: t, pool: after.templates })),
        ...before.vms.filter((v) => v.dataCenter === "dc-source").map((v) => ({ kind: "vm", e: v, pool: after.vms })),
    ];
    for (const { kind, e, pool } of entities) {
        const target = imported[`${kind}:${e.name}`];
        const moved = target
            ? pool.find((x) => x.id === target.vmId)
            : pool.find((x) => x.name === e.name && x.dataCenter !== "dc-source");
        if (!moved) continue;
        const src = e.disks.map((d) => d.sha256).sort().join();
        const dst = moved.disks.map((d) => d.sha256).sort().join();
        const match = src === dst;
        allMatch &&= match;
        const size = moved.disks.reduce((n, d) => n + d.sizeBytes, 0);
        bytes += size;
        rows.push([kind, e.name, `${moved.name} (${moved.dataCenter})`, String(moved.disks.length), mib(size), match ? "match" : "DIFFER"]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
    console.log("-----------------------------------------------------------");
    console.log(`moved: ${rows.length - 1} (${mib(bytes)}) in the target data center`);
    console.log(`this run: ${changed.length ? changed.map(([k, n]) => `${n} ${k}`).join(", ") : "no changes"} in ${seconds.toFixed(1)} s`);
    console.log(`disk checksums: ${rows.length > 1 && allMatch ? "all match the source" : "MISMATCH or nothing moved"}`);
    if (rows.length === 1 || !allMatch) process.exitCode = 1;
}

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

main().catch((e) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
});
