// Finds order-dependent tests: runs each compiled test file whole, then each of its tests alone (mocha --grep on
// the test's anchored full title), and reports the tests that pass in the whole run but fail alone (they rely on
// a test before them: a shared variable it assigned, state it left in a shared simulator).
//
//   . scripts/env.sh && tsc -p tsconfig.json
//   node dist/scripts/testsAlone.js dist/test/simulator/*.test.js dist/test/provider/*.test.js
//
// Options: --no-whole (skip the whole-file run: every failure alone is listed), --timeout <ms> (per mocha run,
// default 600000). Exit status 1 when a test fails alone. Runs one mocha at a time: the machine is shared.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

interface MochaJson {
  stats: { tests: number; passes: number; failures: number; pending: number };
  tests: Array<{ title: string; fullTitle: string; err: { message?: string } }>;
  passes: Array<{ fullTitle: string }>;
  failures: Array<{ fullTitle: string; err: { message?: string } }>;
  pending: Array<{ fullTitle: string }>;
}

const MOCHA = path.resolve(__dirname, "..", "..", "node_modules", ".bin", "mocha");

function mocha(file: string, extra: string[], timeoutMs: number): { json?: MochaJson; output: string; ms: number } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tests-alone-")), "report.json");
  const t0 = Date.now();
  const r = spawnSync(MOCHA, ["--reporter", "json", "--reporter-option", `output=${out}`, "--timeout", String(timeoutMs), "--exit", ...extra, file], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Date.now() - t0;
  let json: MochaJson | undefined;
  try {
    json = JSON.parse(fs.readFileSync(out, "utf8")) as MochaJson;
  } catch {
    // mocha crashed before writing its report: the output says why
  }
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { json, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, ms };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

function main(): number {
  const args = process.argv.slice(2);
  let whole = true;
  let timeoutMs = 600_000;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--no-whole") whole = false;
    else if (args[i] === "--timeout") timeoutMs = Number(args[++i]);
    else files.push(args[i]);
  }
  if (files.length === 0) {
    process.stderr.write("usage: node dist/scripts/testsAlone.js [--no-whole] [--timeout ms] <compiled test file>...\n");
    return 2;
  }
  let ran = 0;
  const dependent: string[] = [];
  const broken: string[] = [];
  for (const file of files) {
    const list = mocha(file, ["--dry-run"], timeoutMs);
    if (!list.json) {
      broken.push(`${file}: cannot list tests:\n${list.output.slice(-2000)}`);
      continue;
    }
    const titles = [...new Set(list.json.tests.map((t) => t.fullTitle))];
    const failedWhole = new Set<string>();
    if (whole) {
      const w = mocha(file, [], timeoutMs);
      if (!w.json) broken.push(`${file}: whole run crashed:\n${w.output.slice(-2000)}`);
      for (const f of w.json?.failures ?? []) failedWhole.add(f.fullTitle);
      process.stdout.write(`${file}: ${titles.length} tests, whole run ${w.json?.stats.passes ?? "?"} passed ${w.json?.stats.failures ?? "?"} failed (${(w.ms / 1000).toFixed(1)} s)\n`);
    } else {
      process.stdout.write(`${file}: ${titles.length} tests\n`);
    }
    for (const title of titles) {
      const a = mocha(file, ["--grep", `^${escape(title)}$`], timeoutMs);
      ran++;
      const failure = a.json?.failures.find((f) => f.fullTitle === title) ?? a.json?.failures[0];
      const passed = a.json !== undefined && a.json.stats.failures === 0 && a.json.passes.some((p) => p.fullTitle === title);
      const pending = a.json?.pending.some((p) => p.fullTitle === title) ?? false;
      const state = passed ? "ok" : pending ? "pending" : "FAILED";
      process.stdout.write(`  ${state.padEnd(7)} ${(a.ms / 1000).toFixed(1).padStart(6)} s  ${title}\n`);
      if (passed || pending) continue;
      const why = failure ? `${failure.fullTitle}: ${(failure.err.message ?? "").split("\n").slice(0, 4).join(" | ")}` : a.output.slice(-800);
      const line = `${file} :: ${title}\n      ${why}`;
      if (failedWhole.has(title)) broken.push(line);
      else dependent.push(line);
    }
  }
  process.stdout.write(`\n${ran} tests run alone; ${dependent.length} failed alone${whole ? " but pass in their file's whole run (order-dependent)" : ""}\n`);
  for (const d of dependent) process.stdout.write(`  ${d}\n`);
  if (broken.length > 0) {
    process.stdout.write(`\nfailing in the whole run too (not an order dependency) or not runnable:\n`);
    for (const b of broken) process.stdout.write(`  ${b}\n`);
  }
  return dependent.length > 0 || broken.length > 0 ? 1 : 0;
}

process.exit(main());
