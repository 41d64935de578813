import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";

interface Reg { type: string; name: string; inputs: any; provider?: string }

describe("sdk Migration component (Pulumi mocks)", function () {
  this.timeout(30_000);
  const regs: Reg[] = [];
  before(() => {
    pulumi.runtime.setMocks(
      {
        newResource: (a) => {
          regs.push({ type: a.type, name: a.name, inputs: a.inputs, provider: a.provider });
          return { id: `${a.name}_id`, state: { ...a.inputs, vmId: `${a.name}-vm`, vmName: a.inputs.name, imported: true } };
        },
        call: () => ({}),
      },
      "proj",
      "stack",
      false,
    );
  });

  const build = async (stage: "export" | "all", extra: any = {}) => {
    regs.length = 0;
    const { Migration } = require("../../sdk");
    const m = new Migration(`m-${stage}`, {
      source: { dataCenter: "dc-source", engine: { url: "https://e/ovirt-engine/api", password: "pw-secret" } },
      target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
      exportDomain: "export1",
      templates: ["rhel9-base"],
      vms: ["web-01", "db-01", "thin-01"],
      concurrency: 2,
      stage,
      ...extra,
    });
    const imported = await new Promise<any>((r) => m.imported.apply((v: any) => (r(v), v)));
    await new Promise((r) => setTimeout(r, 300)); // let every registration reach the mocks
    return { m, imported };
  };

  it("stage all: attachments, exports, imports with expectTemplates and same-engine clone default; the batch is the plan's", async () => {
    const { imported } = await build("all");
    const names = regs.map((r) => r.name);
    assert.ok(names.includes("m-all-source-attachment") && names.includes("m-all-target-attachment"));
    const imports = regs.filter((r) => r.type.endsWith(":VmImport"));
    assert.equal(imports.length, 4);
    const thin = imports.find((r) => r.inputs.name === "thin-01")!;
    assert.deepEqual(thin.inputs.expectTemplates, ["rhel9-base"]);
    // one batch for the whole migration, checked once by the plan: no member list repeated on every export and import
    // (it made a 1,000-VM preview move 2,000 lists of 1,000 names)
    for (const r of regs.filter((x) => /:Vm(Import|Export)$/.test(x.type))) assert.equal(r.inputs.batch, undefined, r.name);
    const plan = regs.find((r) => r.type.endsWith(":MigrationPlan"))!;
    assert.deepEqual(plan.inputs.__plan.entities.filter((e: any) => e.kind === "vm").map((e: any) => e.name), ["web-01", "db-01", "thin-01"]);
    assert.equal(thin.inputs.onConflict, "clone");
    const tgt = regs.find((r) => r.name === "m-all-target-attachment")!;
    assert.equal(tgt.inputs.moveFrom.dataCenter, "dc-source");
    assert.equal(regs.find((r) => r.name === "m-all-source-attachment")!.inputs.handOffTo.dataCenter, "dc-target");
    for (const r of regs.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/ovirt:"))) {
      assert.match(r.inputs.__progressUrn, /^urn:pulumi:stack::proj::ovirt:migrate:Migration\$pulumi-nodejs:dynamic\/ovirt:/);
    }
    assert.equal(Object.keys(imported).length, 4);
  });

  it("stage export: only the source attachment and the exports", async () => {
    await build("export");
    assert.equal(regs.filter((r) => r.type.endsWith(":VmImport")).length, 0);
    assert.equal(regs.filter((r) => r.type.endsWith(":VmExport")).length, 4);
    assert.ok(!regs.some((r) => r.name === "m-export-target-attachment"));
  });

  it("cross-engine: onConflict defaults to fail and the move names the source engine", async () => {
    await build("all", { target: { dataCenter: "dc-b", cluster: "cl-b", storageDomain: "data-b", engine: { url: "https://b/ovirt-engine/api", password: "pw-b" } } });
    const imp = regs.find((r) => r.type.endsWith(":VmImport"))!;
    assert.equal(imp.inputs.onConflict, "fail");
    const tgt = regs.find((r) => r.name === "m-all-target-attachment")!;
    // the source engine is named: a reference to the Migration's provider, which holds engine e as "source"
    assert.deepEqual(tgt.inputs.moveFrom.engine, { providerEngine: "source" });
    assert.deepEqual(tgt.inputs.engine, { providerEngine: "target" });
    // one secret holding both connections
    const secret = regs.find((r) => r.type === "pulumi:providers:pulumi-nodejs" && r.name === "m-all-engines")?.inputs?.engines;
    assert.equal(secret?.["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", JSON.stringify(secret));
    const engines = secret.value;
    assert.equal(engines?.source?.url, "https://e/ovirt-engine/api", JSON.stringify(engines));
    assert.equal(engines?.target?.url, "https://b/ovirt-engine/api", JSON.stringify(engines));
  });

  it("every child is managed through the Migration's engine provider and holds no connection of its own", async () => {
    await build("all");
    const children = regs.filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/ovirt:"));
    assert.ok(children.length >= 10);
    for (const r of children) {
      assert.match(JSON.stringify(r.inputs.engine), /^\{"providerEngine":"(source|target)"\}$/, r.name);
      assert.match(String(r.provider), /pulumi:providers:pulumi-nodejs::m-all-engines::/, r.name);
      assert.ok(!JSON.stringify(r.inputs).includes("pw-secret"), `${r.name} holds the password`);
    }
  });
});
