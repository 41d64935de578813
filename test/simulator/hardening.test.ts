// Hardening: admin token and non-loopback binds, storage paths of the inventory kept inside the state directory,
// 500 answers without a stack trace, the CLI's password sources.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { request } from "undici";
import { defaultInventory, getExternalVmImportHook, setExternalVmImportHook, startSimulator } from "../../simulator";
import { startTestSimulator } from "../support/simulator";

const CLI = path.resolve(__dirname, "../../simulator/cli.js");

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-sim-hard-"));
}

/** Runs the CLI until it prints its URLs (then SIGTERM) or exits; answers exit code, stdout, stderr. */
function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, OVIRT_SIM_PASSWORD: undefined, OVIRT_SIM_ADMIN_TOKEN: undefined, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => {
      out += String(b);
      if (out.includes("CA file:")) child.kill("SIGTERM");
    });
    child.stderr.on("data", (b) => (err += String(b)));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("simulator: hardening", function () {
  this.timeout(60_000);

  describe("admin API access", () => {
    it("refuses to start on a non-loopback host without an admin token", async () => {
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", host: "0.0.0.0", tls: false }), /not a loopback address.*admin token/);
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", host: "::", tls: false }), /admin token/);
    });

    it("with a token every /__admin request needs Authorization: Bearer <token> (401 otherwise); the API is unaffected", async () => {
      const sim = await startSimulator({ stateDir: tmp(), password: "x", host: "0.0.0.0", tls: false, adminToken: "s3cret-token" });
      try {
        const base = `http://127.0.0.1:${sim.port}`;
        const get = (p: string, h: Record<string, string> = {}) => request(base + p, { headers: h }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));
        assert.equal((await get("/__admin/state")).status, 401);
        assert.equal((await get("/__admin/audit", { authorization: "Bearer wrong" })).status, 401);
        assert.equal((await get("/__admin/state", { authorization: "Basic czNjcmV0LXRva2Vu" })).status, 401);
        const ok = await get("/__admin/state", { authorization: "Bearer s3cret-token" });
        assert.equal(ok.status, 200, ok.text);
        assert.ok(JSON.parse(ok.text).engineId);
        assert.equal((await get("/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA")).status, 404, "no PKI with tls=false; not an admin path");
      } finally {
        await sim.close();
      }
    });

    it("loopback binds keep working without a token", async () => {
      const t = await startTestSimulator({});
      try {
        assert.ok((await t.admin("GET", "state")).engineId);
      } finally {
        await t.close();
      }
    });
  });

  describe("storage paths of the inventory", () => {
    const inv = (over: { dataPath?: string; dataName?: string; exportPath?: string }) => ({
      dataCenters: [
        {
          name: "dc",
          clusters: [{ name: "cl" }],
          hosts: [{ name: "h", cluster: "cl" }],
          storageDomains: [{ name: over.dataName ?? "data", ...(over.dataPath ? { path: over.dataPath } : {}) }],
        },
      ],
      exportDomains: [{ name: "exp", path: over.exportPath ?? "exports/exp", attachedTo: "dc" }],
    });

    it("a relative path leaving the state directory is refused, naming the field", async () => {
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", tls: false, inventory: inv({ exportPath: "../elsewhere" }) }), /exportDomains\[0\]\.path: '\.\.\/elsewhere' leaves the state directory/);
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", tls: false, inventory: inv({ dataPath: "a/../../b" }) }), /dataCenters\[0\]\.storageDomains\[0\]\.path/);
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", tls: false, inventory: inv({ dataName: "../../../x" }) }), /dataCenters\[0\]\.storageDomains\[0\]\.name/);
    });

    it("an absolute path is allowed for export domains only (the shared export domain of two engines)", async () => {
      const shared = tmp();
      await assert.rejects(startSimulator({ stateDir: tmp(), password: "x", tls: false, inventory: inv({ dataPath: path.join(shared, "data") }) }), /storageDomains\[0\]\.path: .* is absolute/);
      const sim = await startSimulator({ stateDir: tmp(), password: "x", tls: false, inventory: inv({ exportPath: shared }) });
      await sim.close();
      assert.ok(fs.readdirSync(shared).length === 1, "the export domain was created in the shared directory");
    });

    it("a symbolic link inside the state directory leading out is refused", async () => {
      const dir = tmp();
      fs.symlinkSync(tmp(), path.join(dir, "link"));
      await assert.rejects(startSimulator({ stateDir: dir, password: "x", tls: false, inventory: inv({ exportPath: "link/exp" }) }), /exportDomains\[0\]\.path: .*symbolic link/);
    });

    it("the admin inventory replacement refuses a bad path with 400 and keeps the current state", async () => {
      const t = await startTestSimulator({});
      try {
        const r = await t.raw("POST", "/__admin/inventory", JSON.stringify(inv({ exportPath: "../../etc" })), { "content-type": "application/json" });
        assert.equal(r.status, 400, r.text);
        assert.match(JSON.parse(r.text).error, /exportDomains\[0\]\.path/);
        assert.equal((await t.admin("GET", "state")).vms, defaultInventory.vms!.length);
      } finally {
        await t.close();
      }
    });
  });

  describe("internal errors", () => {
    it("a 500 carries no stack: detail 'internal error (request id …)'; the stack goes to stderr", async () => {
      const t = await startTestSimulator({});
      const hook = getExternalVmImportHook();
      const write = process.stderr.write.bind(process.stderr);
      let captured = "";
      try {
        setExternalVmImportHook({ ...hook!, create: () => { throw new Error("boom in a handler"); } });
        (process.stderr as any).write = (chunk: unknown) => {
          captured += String(chunk);
          return true;
        };
        const r = await t.api("POST", "externalvmimports", "<external_vm_import/>");
        (process.stderr as any).write = write;
        assert.equal(r.status, 500);
        assert.equal(r.xml.fault.reason, "Internal Server Error");
        const m = /^internal error \(request id ([0-9a-f-]{36})\)$/.exec(r.xml.fault.detail);
        assert.ok(m, r.text);
        assert.ok(!/boom|at .*\.js|Error:/.test(r.text), r.text);
        assert.match(captured, new RegExp(`request id ${m![1]}.*boom in a handler[\\s\\S]*at `));
        const audit = (await t.admin("GET", "audit")).entries;
        assert.equal(audit[audit.length - 1].status, 500);
      } finally {
        (process.stderr as any).write = write;
        setExternalVmImportHook(hook);
        await t.close();
      }
    });
  });

  describe("CLI password and admin token sources", () => {
    it("--password-file and OVIRT_SIM_PASSWORD start without a warning; --password warns once about the process list", async () => {
      const pw = path.join(tmp(), "pw");
      fs.writeFileSync(pw, "from-file\n");
      const a = await runCli(["--port", "0", "--http", "--state", tmp(), "--password-file", pw]);
      assert.match(a.out, /^API URL: http:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api$/m);
      assert.doesNotMatch(a.err, /warning/);
      const b = await runCli(["--port", "0", "--http", "--state", tmp()], { OVIRT_SIM_PASSWORD: "from-env" });
      assert.match(b.out, /API URL:/);
      assert.doesNotMatch(b.err, /warning/);
      const c = await runCli(["--port", "0", "--http", "--state", tmp(), "--password", "on-the-command-line"]);
      assert.match(c.out, /API URL:/);
      assert.equal(c.err.split("\n").filter((l) => /warning/.test(l)).length, 1);
      assert.match(c.err, /visible in the process list/);
      assert.doesNotMatch(c.err, /on-the-command-line/);
    });

    it("the password from the file is the one that logs in", async () => {
      const pw = path.join(tmp(), "pw");
      fs.writeFileSync(pw, "file-secret\n");
      const state = tmp();
      const child = spawn(process.execPath, [CLI, "--port", "0", "--http", "--state", state, "--password-file", pw], { stdio: ["ignore", "pipe", "inherit"] });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.on("data", (b) => {
            out += String(b);
            const m = /API URL: (\S+)/.exec(out);
            if (m) resolve(m[1]);
          });
          child.on("exit", (code) => reject(new Error(`exited ${code}`)));
        });
        const origin = new URL(url).origin;
        const login = async (p: string) =>
          (
            await request(`${origin}/ovirt-engine/sso/oauth/token`, {
              method: "POST",
              body: `grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=${p}`,
              headers: { "content-type": "application/x-www-form-urlencoded" },
            })
          ).statusCode;
        assert.equal(await login("file-secret"), 200);
        assert.notEqual(await login("file-secret%0A"), 200);
      } finally {
        child.kill("SIGTERM");
      }
    });

    it("refuses --password with --password-file, a missing password, and a public --host without a token", async () => {
      const pw = path.join(tmp(), "pw");
      fs.writeFileSync(pw, "x");
      assert.equal((await runCli(["--state", tmp(), "--password", "a", "--password-file", pw])).code, 2);
      const none = await runCli(["--state", tmp()]);
      assert.equal(none.code, 2);
      assert.match(none.err, /password is required/);
      const pub = await runCli(["--port", "0", "--http", "--state", tmp(), "--password-file", pw, "--host", "0.0.0.0"]);
      assert.equal(pub.code, 1);
      assert.match(pub.err, /admin token/);
      const tok = path.join(tmp(), "tok");
      fs.writeFileSync(tok, "t0ken\n");
      const withTok = await runCli(["--port", "0", "--http", "--state", tmp(), "--password-file", pw, "--host", "0.0.0.0", "--admin-token-file", tok]);
      assert.match(withTok.out, /Admin URL: http:\/\/0\.0\.0\.0:\d+\/__admin/);
      const envTok = await runCli(["--port", "0", "--http", "--state", tmp(), "--password-file", pw, "--host", "0.0.0.0"], { OVIRT_SIM_ADMIN_TOKEN: "t" });
      assert.match(envTok.out, /API URL:/);
    });
  });
});
