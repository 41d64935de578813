#!/usr/bin/env node
// npm run sim -- --port 0 --state DIR --password SECRET [--inventory FILE] [--http] [--token-lifetime S]
//                [--bandwidth MiBps] [--storage-transition-ms MS] [--name NAME] [--host ADDR]
import { startSimulator } from "./index";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    "usage: npm run sim -- --state DIR --password SECRET [--port N] [--inventory FILE] [--http] [--token-lifetime S] [--bandwidth MiBps] [--storage-transition-ms MS] [--name NAME] [--host ADDR]\n",
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const o: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--http") o.http = true;
    else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) o[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const v = args[++i];
        if (v === undefined) usage(`${a} needs a value`);
        o[a.slice(2)] = v;
      }
    } else usage(`unexpected argument ${a}`);
  }
  const known = new Set(["port", "state", "password", "inventory", "http", "token-lifetime", "bandwidth", "name", "host", "storage-transition-ms"]);
  for (const k of Object.keys(o)) if (!known.has(k)) usage(`unknown option --${k}`);
  if (typeof o.state !== "string") usage("--state DIR is required");
  const password = typeof o.password === "string" ? o.password : process.env.OVIRT_SIM_PASSWORD;
  if (!password) usage("--password SECRET (or OVIRT_SIM_PASSWORD) is required");
  const num = (k: string) => {
    if (o[k] === undefined) return undefined;
    const n = Number(o[k]);
    if (!Number.isFinite(n) || n < 0) usage(`--${k} must be a non-negative number`);
    return n;
  };
  const sim = await startSimulator({
    port: num("port") ?? 0,
    host: typeof o.host === "string" ? o.host : undefined,
    stateDir: o.state,
    password,
    inventory: typeof o.inventory === "string" ? o.inventory : undefined,
    tls: !o.http,
    tokenLifetimeSeconds: num("token-lifetime"),
    bandwidthMiBps: num("bandwidth"),
    storageTransitionMs: num("storage-transition-ms"),
    engineName: typeof o.name === "string" ? o.name : undefined,
  });
  process.stdout.write(`API URL: ${sim.url}\nAdmin URL: ${sim.adminUrl}\nCA file: ${sim.caFile}\n`);
  const stop = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  process.stderr.write(`simulator failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
