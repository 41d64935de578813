// SSH to a V2V proxy host against a real OpenSSH sshd.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { ProxyHostError, ProxySsh, SshTarget, withProxySsh, pinnedFingerprint } from "../../lib/proxyHost";
import { RunningSshd, startSshd } from "../support/sshd";

function target(s: RunningSshd, over: Partial<SshTarget> = {}): SshTarget {
  return { host: s.host, port: s.port, username: s.username, privateKey: s.privateKey, hostKey: s.hostKeyFingerprint, ...over };
}

describe("v2v: proxy host over SSH (real sshd)", function () {
  this.timeout(60_000);
  let present: RunningSshd;
  let absent: RunningSshd;
  let installable: RunningSshd;
  before(async () => {
    [present, absent, installable] = await Promise.all([startSshd({ env: "present" }), startSshd({ env: "absent" }), startSshd({ env: "installable", packageManager: "dnf" })]);
  });
  after(async () => {
    await Promise.all([present?.close(), absent?.close(), installable?.close()]);
  });

  it("finds virt-v2v on the proxy's PATH (pinned fingerprint or public key line)", async () => {
    for (const hostKey of [present.hostKeyFingerprint, present.hostKeyLine]) {
      const st = await withProxySsh(target(present, { hostKey }), (s) => s.ensureVirtV2v("check"));
      assert.equal(st.present, true);
      assert.equal(st.installed, false);
      assert.match(st.version!, /^virt-v2v 2\./);
    }
  });

  it("check mode: a clear error when virt-v2v is missing", async () => {
    await assert.rejects(withProxySsh(target(absent), (s) => s.ensureVirtV2v("check")), (e: ProxyHostError) => {
      assert.equal(e.code, "missing");
      assert.match(e.message, /virt-v2v is not installed on proxy host .*dnf install -y virt-v2v.*"install"/);
      return true;
    });
    await assert.rejects(withProxySsh(target(absent), (s) => s.ensureVirtV2v("install")), /neither dnf nor yum/);
  });

  it("install mode: runs dnf install -y virt-v2v, then finds it", async () => {
    const st = await withProxySsh(target(installable), (s) => s.ensureVirtV2v("install"));
    assert.equal(st.installed, true);
    assert.equal(st.packageManager, "dnf");
    assert.ok(st.path!.startsWith(installable.binDir));
    assert.match(fs.readFileSync(installable.pmLog, "utf8"), /^dnf install -y virt-v2v$/m);
    // a second run finds it and installs nothing
    const again = await withProxySsh(target(installable), (s) => s.ensureVirtV2v("install"));
    assert.equal(again.installed, false);
  });

  it("refuses a host key mismatch before authenticating", async () => {
    await assert.rejects(ProxySsh.connect(target(present, { hostKey: absent.hostKeyFingerprint })), (e: ProxyHostError) => {
      assert.equal(e.code, "hostKey");
      assert.ok(e.message.includes(present.hostKeyFingerprint) && e.message.includes(absent.hostKeyFingerprint), e.message);
      assert.match(e.message, /Refusing to connect/);
      return true;
    });
  });

  it("requires a pinned host key and rejects a malformed one", async () => {
    await assert.rejects(ProxySsh.connect(target(present, { hostKey: undefined })), /needs a pinned host key/);
    assert.throws(() => pinnedFingerprint("not-a-key"), /neither a SHA256/);
  });

  it("a key the server does not authorize is refused as an authentication error", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "otherkey-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const other = fs.readFileSync(path.join(dir, "k"), "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    await assert.rejects(ProxySsh.connect(target(present, { privateKey: other })), (e: ProxyHostError) => e.code === "auth");
  });
});
