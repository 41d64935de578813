/**
 * Lines under a resource in the CLI's output from the provider process: the Engine service's `Log` RPC at the
 * address the dynamic-provider host got as its first argument (the route of provider/progress.ts, which is fire and
 * forget). This one can be awaited (≤ 2 s): the plan's table must be on its way before the check's answer, which may
 * end the preview. Never throws. Also appended to OVIRT_MIGRATE_PROGRESS_FILE like every progress line.
 */
import * as fs from "node:fs";

let engine: any | null | undefined;

function client(): any | null {
  if (engine !== undefined) return engine;
  engine = null;
  const main = require.main?.filename ?? process.argv[1] ?? "";
  const addr =
    process.env.OVIRT_MIGRATE_ENGINE_ADDRESS ?? (/dynamic-provider|pulumi-resource-pulumi-nodejs/.test(main) ? process.argv[2] : undefined);
  if (addr && /^[\w.\-\[\]:]+:\d+$/.test(addr)) {
    try {
      const grpc = require("@grpc/grpc-js");
      const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
      engine = new engrpc.EngineClient(addr, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
    } catch {
      engine = null;
    }
  }
  return engine;
}

const SEVERITY = { debug: 0, info: 1, warning: 2, error: 3 } as const;

/** Tests: where lines go instead of (or besides) the engine. */
export const sink: { lines: Array<{ severity: string; urn?: string; message: string; ephemeral: boolean }> | undefined } = { lines: undefined };

export function log(severity: keyof typeof SEVERITY, message: string, urn: string | undefined, ephemeral = false): Promise<void> {
  sink.lines?.push({ severity, urn, message, ephemeral });
  const file = process.env.OVIRT_MIGRATE_PROGRESS_FILE;
  if (file) {
    try {
      fs.appendFileSync(file, JSON.stringify({ time: new Date().toISOString(), severity, urn, message, ephemeral }) + "\n");
    } catch {
      // progress never fails anything
    }
  }
  const c = client();
  if (!c) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    try {
      const pb = require("@pulumi/pulumi/proto/engine_pb");
      const req = new pb.LogRequest();
      req.setSeverity(SEVERITY[severity]);
      req.setMessage(message);
      if (urn) req.setUrn(urn);
      req.setStreamid(0);
      req.setEphemeral(ephemeral);
      c.log(req, () => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}
