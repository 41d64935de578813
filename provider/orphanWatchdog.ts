/**
 * How the provider process ends: the orphan watchdog, and the SSO logout on the way out.
 *
 * Orphan watchdog. Exits the dynamic-provider process when the Pulumi CLI that started it is gone.
 * Why: `@pulumi/pulumi/cmd/dynamic-provider` keeps serving after the CLI is killed (SIGKILL of `pulumi up`, a
 * cancelled CI job), and our hooks would go on driving the engine for an update nobody records. Pulumi's Go plugins
 * avoid this by health-checking the engine; we do the same from inside the provider: the host's first argument is
 * the engine's gRPC address, and when it refuses connections three times in a row (6 s) we exit. Jobs already
 * started in the engine keep running there; the next `pulumi up` adopts them by correlation id.
 *
 * SSO logout. Every engine connection holds an SSO access token that stays valid on the engine for its lifetime
 * (hours) unless it is revoked. Like the Python SDK's `Connection.close()`, the provider revokes its tokens when it
 * ends: when the event loop runs dry (`beforeExit`), on SIGTERM / SIGINT (the Pulumi CLI interrupts its plugins
 * before it kills them), and before the watchdog exits. Best effort, bounded to about one second in all.
 */
import * as net from "node:net";

let started = false;
let hooked = false;
let closing: Promise<void> | undefined;

/** Revokes every engine token and closes the pools, once per process, bounded to `timeoutMs`. Never throws. */
export function revokeEngineTokens(timeoutMs = 1000): Promise<void> {
  if (!closing) {
    closing = (async () => {
      try {
        // loaded only when a client was used (a process that never connected has nothing to revoke)
        const mod = require.cache[require.resolve("./client/http")];
        if (!mod) return;
        const http = mod.exports as typeof import("./client/http");
        let t: NodeJS.Timeout | undefined;
        await Promise.race([
          http.closeAllEngines({ timeoutMs }).catch(() => undefined),
          new Promise<void>((r) => {
            t = setTimeout(r, timeoutMs + 200);
            t.unref?.();
          }),
        ]);
        clearTimeout(t);
      } catch {
        // best effort
      }
    })();
  }
  return closing;
}

/**
 * Revoke the engine tokens when the process ends normally (`beforeExit`) or is signalled (SIGTERM, SIGINT). After a
 * signal the process then ends the way the signal would have ended it (unless someone else also listens for it,
 * who then decides). Idempotent.
 */
export function installShutdownHooks(timeoutMs = 1000): void {
  if (hooked) return;
  hooked = true;
  process.on("beforeExit", () => {
    // once: the revoke's own work would otherwise bring beforeExit back when it is done
    if (!closing) void revokeEngineTokens(timeoutMs);
  });
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    const handler = () => {
      void revokeEngineTokens(timeoutMs).then(() => {
        if (process.listenerCount(sig) > 1) return; // another listener handles this signal
        process.removeListener(sig, handler);
        process.kill(process.pid, sig);
      });
    };
    process.on(sig, handler);
  }
}

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
  let exiting = false;
  const timer = setInterval(() => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      misses = ok ? 0 : misses + 1;
      if (misses >= 3 && !exiting) {
        exiting = true;
        void revokeEngineTokens().then(() => process.exit(1));
      }
    };
    sock.setTimeout(2000, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  }, 2000);
  timer.unref();
}
