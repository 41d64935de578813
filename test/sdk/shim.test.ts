import * as assert from "node:assert/strict";
import * as path from "node:path";
import { providerModulePath, providerSource } from "../../sdk/shim";

// How Pulumi's dynamic-provider host loads `__provider` (@pulumi/pulumi cmd/dynamic-provider getProvider).
const requireFromString = require("require-from-string");

describe("sdk shim (the __provider module of every resource)", () => {
  it("holds only the kind and the module path; no client, module or secret; about 200 characters", () => {
    const text = providerSource("VmExport");
    assert.match(text, /"VmExport"/);
    assert.ok(text.includes(JSON.stringify(providerModulePath())), "absolute provider path in the text");
    for (const bad of ["undici", "fast-xml-parser", "zod", "Pool(", "password", "EngineHttp", "getToken"]) {
      assert.ok(!text.includes(bad), `the provider module mentions ${bad}`);
    }
    assert.ok(text.length < 300, `the provider module is small (${text.length} chars)`);
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

  it("loaded the way the host loads it, the provider runs check through the real implementation", async () => {
    const revived = requireFromString(providerSource("VmImport")).handler();
    const r = await revived.check({}, { exportDomain: "e", name: "x" });
    assert.ok(r.failures.length > 0);
    assert.ok(r.failures.some((f: any) => f.property === "engine" || f.property.startsWith("engine")), JSON.stringify(r.failures));
    assert.ok(r.failures.some((f: any) => f.property === "cluster"));
  });

  it("a path that does not exist falls back to the installed package, and any other load error is not hidden", () => {
    const missing = requireFromString(providerSource("VmImport", "/nonexistent/dist/provider/index.js"));
    // no package of that name is installed in this repository: the fallback is tried, and its own error surfaces
    assert.throws(() => missing.handler(), (e: any) => e.code === "MODULE_NOT_FOUND" && /pulumi-ovirt-migrate\/dist\/provider/.test(e.message));
    const broken = path.join(path.dirname(providerModulePath()), "progress.js"); // exists, but is not the entry point
    assert.throws(() => requireFromString(providerSource("VmImport", broken)).handler(), /getProvider is not a function/);
  });
});
