// Persistence of the engine state: `<stateDir>/state.json`, written atomically (tmp + rename).
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineState } from "./types";

export function statePath(stateDir: string): string {
  return path.join(stateDir, "state.json");
}

export function loadState(stateDir: string): EngineState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(statePath(stateDir), "utf8");
  } catch {
    return undefined;
  }
  const s = JSON.parse(text) as EngineState;
  if (s.formatVersion !== 1) throw new Error(`unsupported state format ${String(s.formatVersion)} in ${statePath(stateDir)}`);
  s.externalVmImports ??= [];
  return s;
}

export function saveState(stateDir: string, state: EngineState): void {
  fs.mkdirSync(stateDir, { recursive: true });
  const p = statePath(stateDir);
  const tmp = `${p}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, p);
}
