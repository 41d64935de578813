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

/** Specifiers imported by `text` (a file at `file`, relative to the root) that land in one of the `forbidden` top folders. */
function crossingsIn(file: string, text: string, forbidden: string[]): string[] {
  const out: string[] = [];
  const info = ts.preProcessFile(text, true, true);
  for (const { fileName: spec } of info.importedFiles) {
    // the package's own name resolves to its sdk/ (package.json exports) and from there to provider/
    const target = spec.startsWith(".") ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)) : spec.startsWith("pulumi-ovirt-migrate") ? "sdk" : undefined;
    if (target === undefined) continue;
    const top = target.split(path.sep)[0];
    if (forbidden.includes(top)) out.push(spec);
  }
  return out;
}

/** `file: specifier` for every import of a file under `dirs` that lands in one of the `forbidden` top folders. */
function crossings(dirs: string[], forbidden: string[]): string[] {
  return dirs.flatMap(sources).flatMap((file) => crossingsIn(file, fs.readFileSync(path.join(ROOT, file), "utf8"), forbidden).map((spec) => `${file}: ${spec}`));
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

  it("the scan sees imports in every form, and not imports in comments or strings", () => {
    // a made-up simulator file (the scan must not depend on which tests happen to import what today)
    const text = [
      `import { a } from "../provider/a";`,
      `import "../provider/sideEffect";`,
      `export { b } from "../provider/b";`,
      `const c = require("../provider/c");`,
      `async function d() { return import("../provider/d"); }`,
      `import { e } from "pulumi-ovirt-migrate";`,
      `import { ok } from "./neighbour";`,
      `import { lib } from "../lib/vsphere";`,
      `// import { f } from "../provider/f";`,
      `const g = "require('../provider/g')";`,
    ].join("\n");
    assert.deepEqual(crossingsIn(path.join("simulator", "made-up.ts"), text, ["provider", "sdk"]), [
      "../provider/a",
      "../provider/sideEffect",
      "../provider/b",
      "../provider/c",
      "../provider/d",
      "pulumi-ovirt-migrate",
    ]);
  });
});
