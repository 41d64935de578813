// SSH access to a V2V proxy host (a host of the target data center that runs virt-v2v): host key pinned and
// verified (a mismatch is refused), detection of `virt-v2v` on the PATH, and an install mode that runs the host's
// package manager (`dnf`, else `yum`) when it is missing. Used by the V2VImport preflight (provider/) and by the
// engine simulator's external import (simulator/): a neutral library, it imports neither side.

import * as crypto from "node:crypto";
import { Client } from "ssh2";

export interface SshTarget {
  host: string;
  port?: number;
  username: string;
  /** Private key (OpenSSH or PEM). */
  privateKey: string;
  passphrase?: string;
  /**
   * Pinned host key: an OpenSSH fingerprint (`SHA256:base64`) or a public key line (`ssh-ed25519 AAAA... [comment]`).
   * Required unless `insecureIgnoreHostKey` is set.
   */
  hostKey?: string;
  insecureIgnoreHostKey?: boolean;
  timeoutMs?: number;
}

export type ProxyHostErrorCode = "hostKey" | "auth" | "connection" | "missing" | "install" | "command" | "config";

export class ProxyHostError extends Error {
  readonly code: ProxyHostErrorCode;
  constructor(code: ProxyHostErrorCode, message: string) {
    super(message);
    this.name = "ProxyHostError";
    this.code = code;
  }
}

export type VirtV2vMode = "check" | "install";

export interface VirtV2vStatus {
  present: boolean;
  path?: string;
  version?: string;
  packageManager?: "dnf" | "yum";
  root: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** OpenSSH-style SHA-256 fingerprint of a public key blob: `SHA256:` + unpadded base64. */
export function fingerprintOfKeyBlob(blob: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** Normalises a pinned host key (fingerprint or public key line) to its SHA-256 fingerprint. */
export function pinnedFingerprint(hostKey: string): string {
  const k = hostKey.trim();
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(k)) return k.replace(/=$/, "");
  const parts = k.split(/\s+/);
  const blob = parts.length >= 2 && /^(ssh-|ecdsa-|sk-)/.test(parts[0]) ? parts[1] : undefined;
  if (blob && /^[A-Za-z0-9+/]+=*$/.test(blob)) return fingerprintOfKeyBlob(Buffer.from(blob, "base64"));
  throw new ProxyHostError(
    "config",
    `pinned SSH host key "${k.slice(0, 60)}" is neither a SHA256:... fingerprint nor an OpenSSH public key line ("ssh-ed25519 AAAA...")`,
  );
}

function label(t: SshTarget): string {
  return `${t.username}@${t.host}:${t.port ?? 22}`;
}

/** One SSH connection to the proxy host. */
export class ProxySsh {
  readonly target: SshTarget;
  private conn: Client | undefined;

  private constructor(target: SshTarget) {
    this.target = target;
  }

  static async connect(t: SshTarget): Promise<ProxySsh> {
    if (!t.hostKey && !t.insecureIgnoreHostKey) {
      throw new ProxyHostError(
        "config",
        `SSH access to ${label(t)} needs a pinned host key (the server's "SHA256:..." fingerprint, from ` +
          "`ssh-keyscan HOST | ssh-keygen -lf -`), or an explicit opt-out of host key verification",
      );
    }
    const expected = t.hostKey ? pinnedFingerprint(t.hostKey) : undefined;
    const conn = new Client();
    const p = new ProxySsh(t);
    let presented: string | undefined;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        conn.end();
        reject(new ProxyHostError("connection", `SSH to ${label(t)} timed out after ${t.timeoutMs ?? 20_000} ms`));
      }, t.timeoutMs ?? 20_000);
      conn.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
      conn.once("error", (err: Error & { level?: string }) => {
        clearTimeout(timer);
        if (expected && presented && presented !== expected) {
          reject(
            new ProxyHostError(
              "hostKey",
              `SSH host key mismatch for ${label(t)}: the server presented ${presented}, but the pinned host key is ${expected}. ` +
                "Refusing to connect: if the host was legitimately re-keyed, pin its new key; otherwise something is impersonating it.",
            ),
          );
        } else if (err.level === "client-authentication") {
          reject(new ProxyHostError("auth", `SSH login to ${label(t)} was refused: the server did not accept the given private key`));
        } else {
          reject(new ProxyHostError("connection", `cannot connect over SSH to ${label(t)}: ${err.message}`));
        }
      });
      try {
        conn.connect({
          host: t.host,
          port: t.port ?? 22,
          username: t.username,
          privateKey: t.privateKey,
          passphrase: t.passphrase,
          readyTimeout: t.timeoutMs ?? 20_000,
          hostVerifier: (key: Buffer) => {
            presented = fingerprintOfKeyBlob(key);
            return expected ? presented === expected : true;
          },
        });
      } catch (e) {
        clearTimeout(timer);
        reject(new ProxyHostError("config", `SSH access to ${label(t)}: ${(e as Error).message}`));
      }
    });
    p.conn = conn;
    return p;
  }

  /** Runs a shell command; never throws for a non-zero exit status. */
  exec(command: string, timeoutMs = 600_000): Promise<ExecResult> {
    const conn = this.conn!;
    return new Promise((resolve, reject) => {
      conn.exec(command, (err, stream) => {
        if (err) return reject(new ProxyHostError("command", `SSH exec on ${label(this.target)} failed: ${err.message}`));
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          stream.close();
          reject(new ProxyHostError("command", `command on ${label(this.target)} did not finish in ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on("data", (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    });
  }

  async detectVirtV2v(): Promise<VirtV2vStatus> {
    const script =
      'p=$(command -v virt-v2v 2>/dev/null); if [ -n "$p" ]; then echo "path=$p"; ' +
      'echo "version=$("$p" --version 2>&1 | head -n 1)"; fi; ' +
      'for m in dnf yum; do if command -v "$m" >/dev/null 2>&1; then echo "pm=$m"; break; fi; done; echo "uid=$(id -u)"';
    const r = await this.exec(script, 60_000);
    const kv = new Map<string, string>();
    for (const line of r.stdout.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1).trim());
    }
    const pm = kv.get("pm");
    return {
      present: kv.has("path"),
      path: kv.get("path"),
      version: kv.get("version"),
      packageManager: pm === "dnf" || pm === "yum" ? pm : undefined,
      root: kv.get("uid") === "0",
    };
  }

  /**
   * `check`: throws a `missing` error when virt-v2v is not on the PATH. `install`: installs it with dnf/yum
   * (through `sudo -n` when not root) when missing, then checks again.
   */
  async ensureVirtV2v(mode: VirtV2vMode): Promise<VirtV2vStatus & { installed: boolean }> {
    const st = await this.detectVirtV2v();
    if (st.present) return { ...st, installed: false };
    const where = label(this.target);
    if (mode === "check") {
      throw new ProxyHostError(
        "missing",
        `virt-v2v is not installed on proxy host ${where} (not on its PATH). Install it there ` +
          `(${st.packageManager ?? "dnf"} install -y virt-v2v), or set the virt-v2v mode to "install" to let this resource install it.`,
      );
    }
    if (!st.packageManager) {
      throw new ProxyHostError(
        "install",
        `virt-v2v is missing on proxy host ${where} and it has neither dnf nor yum to install it with; install virt-v2v there by hand`,
      );
    }
    const cmd = `${st.root ? "" : "sudo -n "}${st.packageManager} install -y virt-v2v`;
    const r = await this.exec(cmd, 1_800_000);
    if (r.code !== 0) {
      const tail = (r.stderr || r.stdout).trim().split("\n").slice(-5).join(" | ");
      throw new ProxyHostError("install", `"${cmd}" failed on proxy host ${where} (exit ${r.code}): ${tail}`);
    }
    const after = await this.detectVirtV2v();
    if (!after.present) {
      throw new ProxyHostError("install", `"${cmd}" succeeded on proxy host ${where}, but virt-v2v is still not on the PATH`);
    }
    return { ...after, installed: true };
  }

  close(): void {
    this.conn?.end();
  }
}

/** Connects, runs `fn`, disconnects. */
export async function withProxySsh<T>(t: SshTarget, fn: (s: ProxySsh) => Promise<T>): Promise<T> {
  const s = await ProxySsh.connect(t);
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

/** Fetches the host key a server presents (for a test or a "what do I pin" hint); does not authenticate. */
export async function scanHostKey(host: string, port = 22, timeoutMs = 10_000): Promise<string> {
  const conn = new Client();
  return new Promise((resolve, reject) => {
    let fp: string | undefined;
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error(`no SSH answer from ${host}:${port}`));
    }, timeoutMs);
    conn.on("error", () => {
      clearTimeout(timer);
      if (fp) resolve(fp);
      else reject(new Error(`no SSH host key from ${host}:${port}`));
    });
    conn.connect({
      host,
      port,
      username: "scan",
      hostVerifier: (key: Buffer) => {
        fp = fingerprintOfKeyBlob(key);
        return false;
      },
    });
  });
}
