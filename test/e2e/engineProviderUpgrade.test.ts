// A stack made before Migrations held their engines in one explicit provider (each child held the connection as a
// secret in its inputs and outputs, under Pulumi's default `pulumi-nodejs` provider) goes on with this version: the
// preview replaces and deletes none of the Migration's resources, `pulumi up` sends the engine nothing that changes
// it, and `pulumi destroy` then removes what the stack made, reading the old outputs through the new provider.
//
// The old state is made from a new one as the previous version wrote it (sdk/engineProvider.ts,
// provider/engineRefs.ts): references replaced by the full connection as a secret, the children moved to a default
// provider, the Migration's provider removed; `pulumi stack import` encrypts the secrets.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { E2E, disks, inDc, startE2E } from "../support/e2e";
import { ROOT } from "../support/pulumi";

const STACK = "e2e-provider-upgrade";
const VMS = ["web-01", "app-01"];
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Every `{ providerEngine }` replaced by the connection the previous version recorded, as a plaintext secret. */
function withConnections(v: any, connection: Record<string, unknown>): any {
  if (v && typeof v === "object" && !Array.isArray(v) && typeof v.providerEngine === "string") {
    return { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(connection) };
  }
  if (Array.isArray(v)) return v.map((x) => withConnections(x, connection));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withConnections(x, connection)]));
  return v;
}

describe("e2e: a Migration's stack from before its engine provider goes on unchanged (real CLI)", function () {
  this.timeout(10 * 60_000);
  let e: E2E;

  before(async function () {
    this.timeout(120_000);
    e = await startE2E(ROOT, STACK, { "migration:vms": JSON.stringify(VMS), "migration:templates": "[]" });
  });
  after(async () => {
    await e?.close();
  });

  it("preview: nothing replaced or deleted; up: no change in the engine; destroy removes what the stack made", async () => {
    const before = await disks(e.t);
    const up = await e.ws.up();
    assert.strictEqual(up.code, 0, up.output.slice(-3000));
    for (const vm of VMS) assert.strictEqual(inDc((await disks(e.t)).vms, "dc-target", vm).length, 1, vm);

    // the state as the previous version wrote it
    const state = await e.ws.exportState();
    const res: any[] = state.deployment.resources;
    const engines = res.find((r) => r.type === "pulumi:providers:pulumi-nodejs" && r.urn.endsWith("::main-engines"));
    assert.ok(engines, "the Migration has no engine provider");
    const stackUrn = res.find((r) => r.type === "pulumi:pulumi:Stack").urn as string;
    const defaultUrn = stackUrn.replace(/pulumi:pulumi:Stack::.*$/, "pulumi:providers:pulumi-nodejs::default");
    const defaultRef = `${defaultUrn}::${crypto.randomUUID()}`;
    const connection = { url: e.t.sim.url, username: "admin@internal", password: e.t.password, caFile: e.t.sim.caFile };
    const old: any[] = [];
    for (const r of res) {
      if (r === engines) continue;
      if (r.provider === `${engines.urn}::${engines.id}`) {
        old.push({
          ...r,
          provider: defaultRef,
          inputs: withConnections(r.inputs, connection),
          outputs: withConnections(r.outputs, connection),
          additionalSecretOutputs: [...new Set([...(r.additionalSecretOutputs ?? []), "engine"])],
        });
      } else old.push(r);
      if (r.type === "pulumi:pulumi:Stack") {
        old.push({ urn: defaultUrn, custom: true, id: defaultRef.split("::").pop(), type: "pulumi:providers:pulumi-nodejs", inputs: {}, outputs: {} });
      }
    }
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "upgrade-")), "old.json");
    fs.writeFileSync(file, JSON.stringify({ ...state, deployment: { ...state.deployment, resources: old } }));
    await e.ws.ok(["stack", "import", "--stack", STACK, "--file", file]);
    const imported = JSON.stringify(await e.ws.exportState());
    assert.ok(!imported.includes(e.t.password), "stack import kept a plaintext password");
    assert.ok(!imported.includes("providerEngine"), "the old state still names engines by reference");

    // the preview with this version: the children move to the Migration's provider; none is replaced or deleted
    const preview = await e.ws.run(["preview", "--stack", STACK, "--non-interactive", "--json"]);
    assert.strictEqual(preview.code, 0, preview.output.slice(-3000));
    // `--json` lists the steps that change something; the summary counts them all
    const plan = JSON.parse(preview.stdout);
    const steps: Array<{ op: string; urn: string }> = plan.steps ?? [];
    const changing = steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    assert.deepStrictEqual(changing.filter((s) => !s.startsWith("update ")), ["create main-engines"], JSON.stringify(plan.changeSummary));
    // the stack, the component, the plan, 2 attachments, an export and an import per VM: unchanged or updated
    assert.ok((plan.changeSummary.same ?? 0) + (plan.changeSummary.update ?? 0) >= 5 + 2 * VMS.length, JSON.stringify(plan.changeSummary));

    const mutating = await e.mutating();
    const again = await e.ws.up();
    assert.strictEqual(again.code, 0, again.output.slice(-3000));
    assert.strictEqual(await e.mutating(), mutating, "the up after the upgrade changed the engine");
    const after = JSON.parse(JSON.stringify((await e.ws.exportState()).deployment.resources));
    for (const r of after.filter((x: any) => x.type.startsWith("pulumi-nodejs:dynamic/ovirt:"))) {
      assert.ok(String(r.provider).includes("::main-engines::"), `${r.urn} is still under ${r.provider}`);
    }

    // destroy reads what the old outputs recorded (ids, ownership) through the Migration's provider
    const destroyed = await e.ws.destroy();
    assert.strictEqual(destroyed.code, 0, destroyed.output.slice(-3000));
    const end = await disks(e.t);
    for (const vm of VMS) {
      assert.strictEqual(inDc(end.vms, "dc-target", vm).length, 0, `${vm}: the import the stack made is still in dc-target`);
      assert.strictEqual(inDc(end.vms, "dc-source", vm).length, inDc(before.vms, "dc-source", vm).length, `${vm}: the source VM is gone`);
    }
    assert.strictEqual(end.exportDomains.find((d) => d.name === "export1")?.vms.length ?? 0, before.exportDomains.find((d) => d.name === "export1")?.vms.length ?? 0, "the copies the stack exported are still on export1");
  });

  describe("a changed connection", () => {
    let c: E2E;
    before(async function () {
      this.timeout(120_000);
      c = await startE2E(ROOT, `${STACK}-ca`, { "migration:vms": JSON.stringify(VMS), "migration:templates": "[]" });
    });
    after(async () => {
      await c?.close();
    });

    it("updates the Migration's provider in place: no child replaced, nothing sent to the engine that changes it", async () => {
      const up = await c.ws.up();
      assert.strictEqual(up.code, 0, up.output.slice(-3000));
      // the same CA at another path: the connection the provider holds changes, the engine does not
      const moved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ca-")), "engine-ca.pem");
      fs.copyFileSync(c.t.sim.caFile!, moved);
      await c.ws.ok(["config", "set", "--stack", `${STACK}-ca`, "ovirt:caFile", moved]);
      const preview = await c.ws.run(["preview", "--stack", `${STACK}-ca`, "--non-interactive", "--json"]);
      assert.strictEqual(preview.code, 0, preview.output.slice(-3000));
      const plan = JSON.parse(preview.stdout);
      const steps: Array<{ op: string; urn: string }> = plan.steps ?? [];
      const provider = steps.find((s) => s.urn.endsWith("::main-engines"));
      assert.strictEqual(provider?.op, "update", JSON.stringify(steps.map((s) => [s.op, s.urn])));
      assert.deepStrictEqual(Object.keys(plan.changeSummary).filter((k) => !["same", "update"].includes(k)), [], `a resource would be replaced, created or deleted: ${JSON.stringify(plan.changeSummary)}`);
      const mutating = await c.mutating();
      const again = await c.ws.up();
      assert.strictEqual(again.code, 0, again.output.slice(-3000));
      assert.strictEqual(await c.mutating(), mutating, "the up after the change sent the engine a mutating request");
      const state = JSON.stringify(await c.ws.exportState());
      assert.ok(!state.includes(c.t.password), "a plaintext password in the state");
    });
  });
});

