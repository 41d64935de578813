// examples/vmware-import, in a project of its own made from the packed tarball as examples/README.md says and
// configured by its README's commands, with the real Pulumi CLI against vcsim + sshd + the engine simulator: preview sends no
// mutating request and shows the preflight errors, up imports, a second up changes nothing, destroy removes the VM.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { connect } from "../../provider/client";
import { VSphereClient } from "../../lib/vsphere";
import { PULUMI_BIN, PulumiWorkspace, changeCounts } from "../support/pulumi";
import { exampleCommands, exampleProject, ExampleProject, ReadmeRunner } from "../support/exampleProject";
import { admin, startV2vEnv, V2vEnv } from "./env";

describe("v2v: examples/vmware-import in a project of its own from the packed tarball, configured by its README", function () {
  this.timeout(900_000);
  let env: V2vEnv;
  let ws: PulumiWorkspace;
  let keyFile: string;
  let project: ExampleProject;
  let run: ReadmeRunner;

  before(async function () {
    if (!fs.existsSync(PULUMI_BIN)) throw new Error(`${PULUMI_BIN} is missing: run scripts/toolchain.sh`);
    env = await startV2vEnv();
    keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "v2v-key-")), "id");
    fs.writeFileSync(keyFile, env.sshd.installable.privateKey, { mode: 0o600 });
    // the project as examples/README.md makes it, then the README's config commands, literally, with the values of
    // this environment for the keys whose README value is a placeholder (every key of the README must be listed here)
    project = await exampleProject("vmware-import");
    ws = project.ws;
    const values: Record<string, string> = {
      "ovirt:url": env.engine.url,
      "ovirt:password": env.engine.password,
      "vcenter:host": env.vc.host,
      "vcenter:datacenterPath": env.inv.datacenterPath,
      "vcenter:esxiHost": env.inv.esxiHost,
      "vcenter:username": env.vc.username,
      "vcenter:password": env.vc.password,
      "v2v:vms[0]": "example-01",
      "v2v:cluster": "cl-target",
      "v2v:storageDomain": "data-target",
      "v2v:proxyHost": "host-install",
    };
    run = new ReadmeRunner(project, {
      values,
      // the fingerprint recipe (openssl against the vCenter), run as written against vcsim's address
      shellLine: (line) => line.includes("openssl s_client") ? line.replace("vcenter.example.com:443", env.vc.host) : undefined,
    });
    const commands = exampleCommands("vmware-import");
    const configured = commands.filter((c) => c.command.startsWith("pulumi config set")).map((c) => c.command.split(/\s+/).find((w, i) => i > 2 && !w.startsWith("--"))!.replace(/^'|'$/g, ""));
    assert.deepEqual(configured.filter((k) => k !== "vcenter:fingerprint").sort(), Object.keys(values).sort(), "the README's config keys changed: change this test with them");
    const runs = commands.filter((c) => !c.command.startsWith("pulumi config set"));
    assert.deepEqual(runs.map((c) => c.command), ["pulumi preview", "pulumi up"], "the README's runs changed: change this test with them");
    for (const c of commands.filter((x) => x.command.startsWith("pulumi config set"))) {
      const { result } = await run.step(c);
      if (result) assert.equal(result.code, 0, `${c.command}:\n${result.output}`);
    }
    const fingerprint = (await ws.ok(["config", "get", "vcenter:fingerprint", "--stack", ws.stack])).stdout.trim();
    assert.equal(fingerprint.toUpperCase(), env.vc.sha256.toUpperCase(), "the README's openssl recipe gives the vCenter's SHA-256 fingerprint");
    // what this environment needs beyond the README's recipe (the table's optional keys): the caFile of the engine
    // simulator, SSH access to the installable proxy host, and the proxy's trust of vcsim's self-signed certificate
    await ws.init({
      "ovirt:username": env.engine.username,
      "ovirt:caFile": env.engine.caFile,
      "vcenter:cluster": env.inv.cluster,
      // vcsim is self-signed and the simulated proxy host trusts only the system CAs: the explicit opt-in
      "vcenter:proxySkipVerify": "true",
      "v2v:sshKeyFile": keyFile,
      "v2v:sshPort": String(env.sshd.installable.port),
      "v2v:sshUser": env.sshd.installable.username,
      "v2v:sshHostKey": env.sshd.installable.hostKeyFingerprint,
      "v2v:virtV2v": "install",
    });
  });
  after(async () => {
    await env?.close();
    project?.close();
  });

  it("preview is read-only and reports a powered-on source as a preflight error", async () => {
    const vc = await VSphereClient.connect({ host: env.vc.host, username: env.vc.username, password: env.vc.password, tls: { fingerprint: env.vc.sha256 } });
    const vm = await vc.findVm(env.inv.datacenterPath, "example-01");
    await vc.powerOn(vm.ref);
    try {
      await admin(env, "DELETE", "/requests");
      const bad = await ws.preview();
      assert.notEqual(bad.code, 0, bad.output);
      assert.match(bad.output, /"example-01" is poweredOn/);
      assert.equal((await admin(env, "GET", "/requests")).mutating, 0);
    } finally {
      await vc.powerOff(vm.ref);
      await vc.logout();
    }
    const ok = await ws.preview();
    assert.equal(ok.code, 0, ok.output);
    assert.equal(changeCounts(ok.output).create, 2, ok.output); // the stack and the import
    assert.equal((await admin(env, "GET", "/requests")).mutating, 0);
    assert.equal(fs.existsSync(env.sshd.installable.pmLog), false, "preview must not install virt-v2v");
  });

  it("up installs virt-v2v on the proxy and imports; a second up is a no-op; destroy removes the VM", async () => {
    const up = await ws.up();
    assert.equal(up.code, 0, up.output);
    const out = await ws.outputs();
    assert.equal(out.virtV2vInstalled, true);
    assert.equal(out.importedVms.length, 1);
    assert.equal(out.importedVms[0].name, "example-01");
    assert.equal(out.importedVms[0].cpus, 2);
    assert.equal(out.importedVms[0].memoryBytes, 2048 * 1024 * 1024);
    assert.deepEqual(out.importedVms[0].disks, [1024 ** 3]);
    assert.equal(out.importedVms[0].ownership, "created");
    assert.match(up.output, /vCenter password travels from the proxy host without certificate verification/);
    const c = connect(env.engine);
    assert.ok(await c.vms.get(out.importedVms[0].id));
    // secrets stay secret in the state
    const state = JSON.stringify(await ws.exportState());
    assert.ok(!state.includes(env.vc.password) && !state.includes("PRIVATE KEY"), "a secret leaked into the state");

    await admin(env, "DELETE", "/requests");
    const again = await ws.up();
    assert.equal(again.code, 0, again.output);
    assert.equal(changeCounts(again.output).unchanged, 2, again.output);
    assert.equal((await admin(env, "GET", "/requests")).mutating, 0);

    const down = await ws.run(["destroy", "--yes", "--stack", ws.stack, "--non-interactive"]);
    assert.equal(down.code, 0, down.output);
    assert.equal(await c.vms.get(out.importedVms[0].id), undefined);
  });
});
