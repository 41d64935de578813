/**
 * How the provider process ends: the orphan watchdog, and the SSO logout on the way out.
 *
 * Orphan watchdog. Exits a process the Pulumi CLI started (the dynamic-provider host, the language host, the
 * program) when that CLI is gone. Why: `@pulumi/pulumi/cmd/dynamic-provider` keeps serving after the CLI is killed
 * (SIGKILL of `pulumi up`, a cancelled CI job), and our hooks would go on driving the engine for an update nobody
 * records. Two signals, checked every 500 ms / 1 s:
 *   - the parent process changed (`watchParent`): the CLI that started us (directly, through an `exec` wrapper) died
 *     and we were reparented. Exact and immediate.
 *   - the engine's gRPC address (the host's first argument) refused connections three times in a row (about 3 s):
 *     the CLI's servers are gone. This also covers Pulumi's own `pulumi-resource-pulumi-nodejs` script, which keeps
 *     a shell between the CLI and node (node's parent then never changes).
 * It starts with the process when `tools/language-host/dynamic-provider.js` (this repository's
 * `pulumi-resource-pulumi-nodejs`) or `tools/language-host/orphan-preload.js` (`node --require`) starts it, before
 * `@pulumi/pulumi` is loaded; otherwise (the official host) when the provider code is first loaded (`getProvider`).
 * One watchdog per process, whichever copy of this module starts it (a global registry keyed by a symbol): later
 * calls only add their `onOrphaned` hook. Jobs already started in the engine keep running there; the next
 * `pulumi up` adopts them by correlation id.
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

export interface WatchdogOptions {
  /** `host:port` of a server of the CLI (the engine address); default: the host's first argument (`argv[2]`). */
  address?: string;
  /** Also exit when the parent process changes (use only when the CLI is the direct parent, or the parent's death means ours). */
  watchParent?: boolean;
  /** Run before the process exits as an orphan (bounded: ~1.5 s for all hooks together). */
  onOrphaned?: () => unknown;
  /** What this process is (kept with the reason in the registry). */
  label?: string;
}

interface Registry {
  hooks: Array<() => unknown>;
  address: string;
  startedAt: number;
  /** Why the watchdog ended the process (tests). */
  reason?: string;
}

/** The default hook: this module's engine tokens (one function, so repeated starts add it once). */
const revokeHook = () => revokeEngineTokens();

const REGISTRY = Symbol.for("pulumi-ovirt-migrate.orphanWatchdog");

/** The watchdog running in this process, if any (whichever copy of this module started it). */
export function runningWatchdog(): Registry | undefined {
  return (globalThis as any)[REGISTRY] as Registry | undefined;
}

/** `host:port` taken from an argument list: the first bare `host:port`, else `--engine=` / `--monitor=`. */
export function addressFromArgs(args: string[]): string | undefined {
  const hostPort = /^(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+$/;
  const bare = args.find((a) => hostPort.test(a));
  if (bare) return bare;
  for (const flag of ["--engine=", "--monitor="]) {
    const v = args.find((a) => a.startsWith(flag))?.slice(flag.length);
    if (v && hostPort.test(v)) return v;
  }
  return undefined;
}

/**
 * Starts the orphan watchdog of this process (once; later calls add their hook). Without `address` it starts only
 * inside the dynamic-provider host (tests call the providers directly). Answers whether a watchdog now runs.
 */
export function startOrphanWatchdog(o: WatchdogOptions = {}): boolean {
  const hook = o.onOrphaned ?? revokeHook;
  const running = runningWatchdog();
  if (running) {
    if (!running.hooks.includes(hook)) running.hooks.push(hook);
    return true;
  }
  let address = o.address ? addressFromArgs([o.address]) : undefined;
  if (!address && !o.watchParent) {
    if (started) return false;
    const main = require.main?.filename ?? process.argv[1] ?? "";
    if (!/dynamic-provider/.test(main)) return false; // not inside the Pulumi host
    address = addressFromArgs(process.argv.slice(2, 3));
    if (!address) return false;
  }
  started = true;
  const m = address ? /^(.*):(\d+)$/.exec(address) : null;
  const host = m ? m[1].replace(/^\[|\]$/g, "") : "";
  const port = m ? Number(m[2]) : 0;
  const reg: Registry = { hooks: [hook], address: address ?? "", startedAt: Date.now() };
  (globalThis as any)[REGISTRY] = reg;
  const parent = process.ppid;
  let misses = 0;
  let probing = false;
  let exiting = false;
  let tick = 0;
  const exit = (reason: string) => {
    if (exiting) return;
    exiting = true;
    // nothing is written: stdout/stderr are pipes to the dead CLI
    reg.reason = `${o.label ?? "pulumi-ovirt-migrate"}: ${reason}`;
    const all = Promise.all(reg.hooks.map((h) => Promise.resolve().then(h).catch(() => undefined)));
    const bound = new Promise((r) => setTimeout(r, 1500).unref?.());
    void Promise.race([all, bound]).then(() => process.exit(1));
    // the hooks run on timers and sockets: keep the loop alive until they are done
    setTimeout(() => process.exit(1), 2000);
  };
  const timer = setInterval(() => {
    tick++;
    if (o.watchParent && process.ppid !== parent) return exit(`parent process ${parent} is gone`);
    if (!m || tick % 2 !== 0 || probing) return;
    probing = true;
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      if (!probing) return;
      probing = false;
      sock.destroy();
      misses = ok ? 0 : misses + 1;
      if (misses >= 3) exit(`the Pulumi CLI at ${address} is gone`);
    };
    sock.setTimeout(2000, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  }, 500);
  timer.unref();
  return true;
}
