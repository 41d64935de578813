// Starts a real OpenSSH sshd (Debian's openssh-server, installed by scripts/install-system-deps.sh) on a
// 127.0.0.1 port as a V2V proxy host: generated host key, one authorized client key, and a PATH shaped per
// environment with `SetEnv PATH=...`:
// (`SetEnv` plus a `ForceCommand` that pins PATH, since root's ~/.bashrc on these machines prepends its own.)
//   - "present":     a stand-in `virt-v2v` on the PATH (the engine simulator does the conversion itself; the proxy
//                    only has to have the tool),
//   - "absent":      no virt-v2v and no package manager,
//   - "installable": no virt-v2v, but a stand-in `dnf` (or `yum`) whose `install -y virt-v2v` puts it on the PATH.

import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export type ProxyEnvKind = "present" | "absent" | "installable";

export interface RunningSshd {
  host: string;
  port: number;
  username: string;
  /** Client private key (OpenSSH format) authorized on this server. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...` line of the server's host key. */
  hostKeyLine: string;
  /** `SHA256:...` of the server's host key. */
  hostKeyFingerprint: string;
  /** The directory on the session PATH that holds (or will hold) virt-v2v. */
  binDir: string;
  dir: string;
  /** Log of every stand-in package manager run. */
  pmLog: string;
  close(): Promise<void>;
}

export const SSHD_BIN = "/usr/sbin/sshd";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, child: ChildProcess, getErr: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`sshd exited with code ${child.exitCode}: ${getErr().slice(-2000)}`));
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on 127.0.0.1:${port}: ${getErr().slice(-2000)}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

const VIRT_V2V_STANDIN = `#!/bin/sh
# virt-v2v stand-in for tests: the engine simulator performs the conversion; this host only has to have the tool.
case "$1" in
  --version|-V) echo "virt-v2v 2.4.0rhel=9,release=1.el9" ;;
  *) echo "virt-v2v: error: this is a test stand-in; conversions are done by the engine simulator" >&2; exit 1 ;;
esac
`;

function packageManagerStandin(name: string, binDir: string, pkgDir: string, log: string): string {
  return `#!/bin/sh
# ${name} stand-in for tests: "${name} install -y virt-v2v" installs the virt-v2v stand-in onto the PATH.
echo "${name} $*" >> '${log}'
[ "$1" = install ] || { echo "Error: ${name} stand-in only supports 'install'" >&2; exit 1; }
shift
ok=0
for p in "$@"; do
  case "$p" in
    -y|--assumeyes) ;;
    virt-v2v) cp '${pkgDir}/virt-v2v' '${binDir}/virt-v2v' && chmod 755 '${binDir}/virt-v2v' && ok=1 ;;
    *) echo "Error: Unable to find a match: $p" >&2; exit 1 ;;
  esac
done
[ "$ok" = 1 ] || { echo "Error: Need to pass a list of pkgs to install" >&2; exit 1; }
echo "Installed:"
echo "  virt-v2v-1:2.4.0-1.el9.x86_64"
echo "Complete!"
`;
}

export async function startSshd(opts: { env: ProxyEnvKind; packageManager?: "dnf" | "yum" } = { env: "present" }): Promise<RunningSshd> {
  if (!fs.existsSync(SSHD_BIN)) {
    throw new Error(`${SSHD_BIN} is missing: run scripts/install-system-deps.sh (Debian package openssh-server)`);
  }
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-${opts.env}-`));
  const binDir = path.join(dir, "bin");
  const pkgDir = path.join(dir, "pkgs");
  fs.mkdirSync(binDir);
  fs.mkdirSync(pkgDir);
  const pmLog = path.join(dir, "pm.log");
  fs.writeFileSync(path.join(pkgDir, "virt-v2v"), VIRT_V2V_STANDIN, { mode: 0o755 });
  if (opts.env === "present") fs.writeFileSync(path.join(binDir, "virt-v2v"), VIRT_V2V_STANDIN, { mode: 0o755 });
  if (opts.env === "installable") {
    const pm = opts.packageManager ?? "dnf";
    fs.writeFileSync(path.join(binDir, pm), packageManagerStandin(pm, binDir, pkgDir, pmLog), { mode: 0o755 });
  }
  const hostKey = path.join(dir, "ssh_host_ed25519_key");
  const clientKey = path.join(dir, "client_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "proxy-host", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "v2v-tests", "-f", clientKey]);
  fs.copyFileSync(`${clientKey}.pub`, path.join(dir, "authorized_keys"));
  const hostKeyLine = fs.readFileSync(`${hostKey}.pub`, "utf8").trim();
  const fpOut = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${hostKey}.pub`]).toString();
  const hostKeyFingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(fpOut)![0];
  // Only the stand-in directory and the system's own directories: Debian has neither virt-v2v nor dnf/yum.
  const sessionPath = `${binDir}:/usr/local/bin:/usr/bin:/bin`;

  let lastErr: Error | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "StrictModes no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        "PrintMotd no",
        `SetEnv PATH=${sessionPath}`,
        // root's ~/.bashrc on these machines prepends toolchain directories; the forced command pins the PATH.
        `ForceCommand PATH=${sessionPath} exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`,
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    const child = spawn(SSHD_BIN, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    try {
      await waitForPort(port, child, () => err);
    } catch (e) {
      lastErr = e as Error;
      child.kill("SIGKILL");
      continue;
    }
    return {
      host: "127.0.0.1",
      port,
      username: os.userInfo().username,
      privateKey: fs.readFileSync(clientKey, "utf8"),
      hostKeyLine,
      hostKeyFingerprint,
      binDir,
      dir,
      pmLog,
      close: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGTERM");
          await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`could not start sshd: ${lastErr?.message}`);
}
