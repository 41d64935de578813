/**
 * Exits the dynamic-provider process when the Pulumi CLI that started it is gone.
 *
 * Why: `@pulumi/pulumi/cmd/dynamic-provider` keeps serving after the CLI is killed (SIGKILL of `pulumi up`, a
 * cancelled CI job), and our hooks would go on driving the engine for an update nobody records. Pulumi's Go plugins
 * avoid this by health-checking the engine; we do the same from inside the provider: the host's first argument is
 * the engine's gRPC address, and when it refuses connections three times in a row (6 s) we exit. Jobs already
 * started in the engine keep running there; the next `pulumi up` adopts them by correlation id.
 */
import * as net from "node:net";

let started = false;

export function startOrphanWatchdog(): void {
  if (started) return;
  started = true;
  const main = require.main?.filename ?? process.argv[1] ?? "";
  if (!/dynamic-provider/.test(main)) return; // not inside the Pulumi host (tests call the providers directly)
  const m = /^(.*):(\d+)$/.exec(process.argv[2] ?? "");
  if (!m) return;
  const host = m[1].replace(/^\[|\]$/g, "");
  const port = Number(m[2]);
  let misses = 0;
  const timer = setInterval(() => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      misses = ok ? 0 : misses + 1;
      if (misses >= 3) process.exit(1);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  }, 2000);
  timer.unref();
}
