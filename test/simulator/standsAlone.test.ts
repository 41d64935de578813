// The simulator stands on its own: the engine stand-in never loads the client under test. Nothing under simulator/
// imports provider/ (or the package's sdk/), and the neutral libraries in lib/ (vim25 SOAP client, V2V URL forms,
// SSH proxy host) import neither side. Imports are read with TypeScript's own scanner (static imports, re-exports,
// `require(...)` and `import(...)`), so comments and strings do not count.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Every .ts source under `dir` (relative to the repository root). */
function sources(dir: string): string[] {
  const walk = (d: string): string[] =>
    fs.readdirSync(path.join(ROOT, d), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? (e.name === "node_modules" ? [] : walk(path.join(d, e.name))) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.join(d, e.name)] : [],
    );
  return walk(dir);
}

/** `file: specifier` for every import of a file under `dirs` that lands in one of the `forbidden` top folders. */
function crossings(dirs: string[], forbidden: string[]): string[] {
  const out: string[] = [];
  for (const file of dirs.flatMap(sources)) {
    const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
    for (const { fileName: spec } of info.importedFiles) {
      // the package's own name resolves to its sdk/ (package.json exports) and from there to provider/
      const target = spec.startsWith(".") ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)) : spec.startsWith("pulumi-ovirt-migrate") ? "sdk" : undefined;
      if (target === undefined) continue;
      const top = target.split(path.sep)[0];
      if (forbidden.includes(top)) out.push(`${file}: ${spec}`);
    }
  }
  return out;
}

describe("simulator: stands on its own (no import of the provider)", () => {
  it("no file under simulator/ imports provider/ or sdk/", () => {
    const files = sources("simulator");
    assert.ok(files.length > 20, `only ${files.length} simulator sources found under ${ROOT}`);
    assert.deepEqual(crossings(["simulator"], ["provider", "sdk"]), []);
  });

  it("lib/ (shared by provider and simulator) imports neither of them, nor sdk/", () => {
    assert.ok(sources("lib").some((f) => f.endsWith(path.join("vsphere", "index.ts"))), "lib/vsphere/index.ts");
    assert.deepEqual(crossings(["lib"], ["provider", "simulator", "sdk"]), []);
  });

  it("the scan sees imports in every form (a test that imports the provider is caught)", () => {
    // the provider tests import the client statically and `require` resources: both are found
    const found = crossings(["test/provider"], ["provider"]);
    assert.ok(found.some((f) => f.startsWith(path.join("test", "provider", "client.test.ts") + ": ../../provider/client")), found.join("\n"));
    assert.ok(found.some((f) => /: \.\.\/\.\.\/provider\/resources\/permissions$/.test(f)), "require(...) of a resource");
  });
});
