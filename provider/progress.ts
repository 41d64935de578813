/**
 * Progress the user can see while `pulumi up` runs.
 *
 * Route (see docs/design.md, "Progress"): Pulumi 3.260 hides a provider's stdout/stderr (debug level only) and the
 * dynamic-provider host does not wire `pulumi.log` to the engine. But the host is started with the engine's gRPC
 * address as its first argument (`process.argv[2]`), and the Engine service has `Log(severity, message, urn,
 * streamId, ephemeral)`. We call it directly from the provider process: with the resource URN (the SDK computes it
 * with `pulumi.createUrn` and passes it as the hidden input `__progressUrn`) and `ephemeral: true` the message is
 * shown on the resource's status line in the CLI ("exporting web-01: 42% of 8.0 GiB"); start, finish and failure
 * lines are sent non-ephemeral (they stay in the diagnostics of the resource).
 *
 * Fallback: when the env var OVIRT_MIGRATE_PROGRESS_FILE names a file, every progress line is also appended to it
 * as JSON (`{time, urn, message}`), e.g. for `tail -f` in CI. Nothing here ever throws into the resource logic.
 */
import * as fs from "node:fs";

export interface Progress {
  /** Status-line text (ephemeral, rate-limited). */
  update(message: string): void;
  /** A line that stays (start, finish, warnings). */
  info(message: string): void;
  warn(message: string): void;
}

let engineClient: any | null | undefined;

function engineAddress(): string | undefined {
  if (process.env.OVIRT_MIGRATE_ENGINE_ADDRESS) return process.env.OVIRT_MIGRATE_ENGINE_ADDRESS;
  const main = require.main?.filename ?? process.argv[1] ?? "";
  if (!/dynamic-provider/.test(main) && !/pulumi-resource-pulumi-nodejs/.test(main)) return undefined;
  const addr = process.argv[2];
  return addr && /^[\w.\-\[\]:]+:\d+$/.test(addr) ? addr : undefined;
}

function getEngineClient(): any | null {
  if (engineClient !== undefined) return engineClient;
  engineClient = null;
  const addr = engineAddress();
  if (!addr) return null;
  try {
    const grpc = require("@grpc/grpc-js");
    const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
    engineClient = new engrpc.EngineClient(addr, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
    });
  } catch {
    engineClient = null;
  }
  return engineClient;
}

/** Severity numbers of pulumirpc.LogSeverity. */
const SEVERITY = { debug: 0, info: 1, warning: 2, error: 3 } as const;

function sendLog(severity: keyof typeof SEVERITY, message: string, urn: string | undefined, ephemeral: boolean): void {
  const client = getEngineClient();
  if (client) {
    try {
      const pb = require("@pulumi/pulumi/proto/engine_pb");
      const req = new pb.LogRequest();
      req.setSeverity(SEVERITY[severity]);
      req.setMessage(message);
      if (urn) req.setUrn(urn);
      req.setStreamid(0);
      req.setEphemeral(ephemeral);
      client.log(req, () => undefined);
    } catch {
      // never fail the resource because of progress
    }
  }
  const file = process.env.OVIRT_MIGRATE_PROGRESS_FILE;
  if (file) {
    try {
      fs.appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), severity, urn, message }) + "\n");
    } catch {
      // ignore
    }
  }
}

/** Where progress goes for one resource operation. `urn` may be undefined (then no status line, file only). */
export function progressFor(urn: string | undefined, label: string, minIntervalMs = 1000): Progress {
  let last = 0;
  let lastMsg = "";
  return {
    update(message: string) {
      const now = Date.now();
      if (message === lastMsg || now - last < minIntervalMs) return;
      last = now;
      lastMsg = message;
      sendLog("info", `${label}: ${message}`, urn, true);
    },
    info(message: string) {
      sendLog("info", `${label}: ${message}`, urn, false);
    },
    warn(message: string) {
      sendLog("warning", `${label}: ${message}`, urn, false);
    },
  };
}

/** A Progress that records into an array (tests). */
export function recordingProgress(lines: string[]): Progress {
  return { update: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`) };
}

export const silentProgress: Progress = { update() {}, info() {}, warn() {} };
