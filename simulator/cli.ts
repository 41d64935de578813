#!/usr/bin/env node
// npm run sim -- --port 0 --state DIR (--password-file FILE | env OVIRT_SIM_PASSWORD | --password SECRET)
//                [--inventory FILE] [--http] [--token-lifetime S] [--bandwidth MiBps] [--storage-transition-ms MS]
//                [--storage-operation-ms MS] [--copy-bandwidth MiBps]
//                [--name NAME] [--host ADDR] [--admin-token-file FILE | env OVIRT_SIM_ADMIN_TOKEN] [--time-scale N]
import * as fs from "node:fs";
import { startSimulator } from "./index";
import { WireCheckMode, WIRE_CHECK_MODES } from "./xml/wireCheck";

const USAGE =
  "usage: npm run sim -- --state DIR (--password-file FILE | OVIRT_SIM_PASSWORD=... | --password SECRET) [--port N] [--inventory FILE] [--http] " +
  "[--token-lifetime S] [--bandwidth MiBps] [--copy-bandwidth MiBps] [--storage-transition-ms MS] [--storage-operation-ms MS] [--name NAME] [--host ADDR] [--admin-token-file FILE] [--time-scale N] [--wire-check off|record|fail]\n" +
  "  --storage-operation-ms MS: attach/activate/deactivate/detach requests take MS before they answer, like the engine's synchronous storage commands (default 2000; 0 = answer at once)\n" +
  "  --bandwidth MiBps: throughput of each storage domain, shared by the copies reading or writing it (default 200)\n" +
  "  --copy-bandwidth MiBps: also cap each single disk copy at this rate (default 0: no cap)\n" +
  "  --time-scale N: the engine's housekeeping clock runs N times faster (job purge: finished jobs after 10 engine minutes)\n" +
  "  --wire-check MODE: XML conformance to the API model (default record: unknown request elements refused, the rest listed in /__admin/wire-violations; fail: also refused/500)\n" +
  "  a --host that is not a loopback address needs an admin token: --admin-token-file FILE or OVIRT_SIM_ADMIN_TOKEN\n";

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

/** A secret read from a file (a trailing newline is not part of it). */
function readSecretFile(opt: string, file: string): string {
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    usage(`${opt} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const v = text.replace(/\r?\n$/, "");
  if (!v) usage(`${opt} ${file}: the file is empty`);
  return v;
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
  const known = new Set([
    "port", "state", "password", "password-file", "inventory", "http", "token-lifetime", "bandwidth", "name", "host",
    "storage-transition-ms", "storage-operation-ms", "admin-token-file", "time-scale", "copy-bandwidth",
    "wire-check",
  ]);
  for (const k of Object.keys(o)) if (!known.has(k)) usage(`unknown option --${k}`);
  if (typeof o.state !== "string") usage("--state DIR is required");
  if (o.password !== undefined && o["password-file"] !== undefined) usage("give either --password or --password-file, not both");
  let password: string | undefined;
  if (typeof o["password-file"] === "string") password = readSecretFile("--password-file", o["password-file"]);
  else if (typeof o.password === "string") {
    process.stderr.write("warning: --password is visible in the process list; use --password-file FILE or OVIRT_SIM_PASSWORD instead\n");
    password = o.password;
  } else password = process.env.OVIRT_SIM_PASSWORD;
  if (!password) usage("a password is required: --password-file FILE, OVIRT_SIM_PASSWORD or --password SECRET");
  const adminToken =
    typeof o["admin-token-file"] === "string" ? readSecretFile("--admin-token-file", o["admin-token-file"]) : process.env.OVIRT_SIM_ADMIN_TOKEN || undefined;
  const num = (k: string) => {
    if (o[k] === undefined) return undefined;
    const n = Number(o[k]);
    if (!Number.isFinite(n) || n < 0) usage(`--${k} must be a non-negative number`);
    return n;
  };
  const timeScale = () => {
    const n = num("time-scale");
    if (n !== undefined && n <= 0) usage("--time-scale must be a positive number");
    return n;
  };
  const wireCheck = (): WireCheckMode | undefined => {
    if (o["wire-check"] === undefined) return undefined;
    if (!WIRE_CHECK_MODES.includes(o["wire-check"] as WireCheckMode)) usage(`--wire-check must be one of ${WIRE_CHECK_MODES.join(", ")}`);
    return o["wire-check"] as WireCheckMode;
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
    copyBandwidthMiBps: num("copy-bandwidth"),
    storageTransitionMs: num("storage-transition-ms"),
    storageOperationMs: num("storage-operation-ms"),
    timeScale: timeScale(),
    engineName: typeof o.name === "string" ? o.name : undefined,
    wireCheck: wireCheck(),
    adminToken,
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
