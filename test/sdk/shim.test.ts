import * as assert from "node:assert/strict";
import * as path from "node:path";
import { makeProvider, providerModulePath } from "../../sdk/shim";

describe("sdk shim (serialized dynamic provider)", () => {
  it("captures only the kind and the module path; no client, module or secret", async () => {
    const runtime = require("@pulumi/pulumi/runtime");
    const provider = makeProvider("VmExport");
    const sf = await runtime.serializeFunction(() => provider, { allowSecrets: false });
    const text: string = sf.text;
    assert.match(text, /"VmExport"/);
    assert.ok(text.includes(JSON.stringify(providerModulePath()).slice(1, -1)), "absolute provider path in the text");
    for (const bad of ["undici", "fast-xml-parser", "zod", "Pool(", "password", "EngineHttp", "getToken"]) {
      assert.ok(!text.includes(bad), `serialized provider mentions ${bad}`);
    }
    assert.ok(text.length < 4000, `serialized provider is small (${text.length} chars)`);
  });

  it("the captured path points at dist/provider/index.js, which answers every kind", () => {
    const p = providerModulePath();
    assert.equal(path.basename(p), "index.js");
    assert.equal(path.basename(path.dirname(p)), "provider");
    const mod = require(p);
    for (const k of ["ExportDomainAttachment", "VmExport", "VmImport"]) {
      const prov = mod.getProvider(k);
      for (const hook of ["check", "diff", "create", "read", "update", "delete"]) assert.equal(typeof prov[hook], "function", `${k}.${hook}`);
    }
    assert.throws(() => mod.getProvider("Nope"), /unknown resource kind/);
  });

  it("the deserialized provider runs check through the real implementation", async () => {
    const runtime = require("@pulumi/pulumi/runtime");
    const provider = makeProvider("VmImport");
    const sf = await runtime.serializeFunction(() => provider);
    const requireFromString = require("require-from-string");
    const revived = requireFromString(sf.text).handler();
    const r = await revived.check({}, { exportDomain: "e", name: "x" });
    assert.ok(r.failures.length > 0);
    assert.ok(r.failures.some((f: any) => f.property === "engine" || f.property.startsWith("engine")), JSON.stringify(r.failures));
    assert.ok(r.failures.some((f: any) => f.property === "cluster"));
  });
});
