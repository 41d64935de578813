/**
 * The whole move's progress on the `Migration` line while `pulumi up` runs, and a summary at its end.
 *
 * Every dynamic resource of a program runs in ONE provider process, so the plan (registered by `MigrationPlan`'s
 * check, which runs in the update too) and the operations of the Migration's children meet here, by URN:
 * - provider/index.ts tells when a child's create/update begins and ends, and when its diff finds nothing to do;
 * - the exports and imports pass their progress through `tap`, which reads the job's percentage from the status
 *   line that `waitForJob` (resources/jobs.ts) writes (`...: 42% of 8.0 GiB, 12 s`).
 * The line on the Migration: "steps 3/8 · 1.2 GiB of 3.4 GiB (35%) · 45.1 MiB/s · ETA 50 s" (ephemeral, at most
 * once a second); when every child is done or unchanged: "moved ...: bytes, time, measured throughput" (kept).
 */
import type { Progress } from "../progress";
import { AnyPlan, childName, childUrn, formatBytes, formatDuration, isDataDomainPlan, MiB } from "./model";
import { log } from "./log";

type State = "pending" | "running" | "done" | "unchanged" | "failed";

interface Child {
  migration: string;
  label: string;
  kind: "vm" | "template" | "attachment";
  op: "export" | "import" | "attach" | "register";
  bytes: number;
  fraction: number;
  state: State;
}

interface Migration {
  urn: string;
  name: string;
  children: string[];
  started?: number;
  finished: boolean;
  lastLine: number;
}

const children = new Map<string, Child>();
const migrations = new Map<string, Migration>();
/** Events of URNs seen before their plan was registered (the children may be checked and diffed first). */
const early = new Map<string, State>();

const T = (k: string) => `pulumi-nodejs:dynamic/ovirt:${k}`;

/** Called by the plan's check: the children of the migration and the bytes each copies. */
export function registerPlan(migrationUrn: string, plan: AnyPlan): void {
  const prev = migrations.get(migrationUrn);
  if (prev?.started) return; // already running in this process: keep what it knows
  const urns: string[] = [];
  const add = (urn: string, c: Omit<Child, "migration" | "fraction" | "state">) => {
    urns.push(urn);
    children.set(urn, { ...c, migration: migrationUrn, fraction: 0, state: early.get(urn) ?? "pending" });
    early.delete(urn);
  };
  if (isDataDomainPlan(plan)) {
    // the domain's move, then one registration per entity (sdk/migration.ts moveDataDomain): no byte is copied
    add(childUrn(migrationUrn, T("DataDomainAttachment"), childName.dataDomain(plan.name)), { label: `move of data domain ${plan.dataDomain}`, kind: "attachment", op: "attach", bytes: 0 });
    for (const x of plan.entities) {
      add(childUrn(migrationUrn, T("VmRegistration"), childName.register(plan.name, x.kind, x.name)), { label: `register of ${x.kind} ${x.name}`, kind: x.kind, op: "register", bytes: 0 });
    }
    migrations.set(migrationUrn, { urn: migrationUrn, name: plan.name, children: urns, finished: false, lastLine: 0 });
    return;
  }
  add(childUrn(migrationUrn, T("ExportDomainAttachment"), childName.sourceAttachment(plan.name)), { label: "source attachment", kind: "attachment", op: "attach", bytes: 0 });
  for (const x of plan.entities.filter((e) => e.exportDeclared)) {
    add(childUrn(migrationUrn, T("VmExport"), childName.export(plan.name, x.kind, x.name)), { label: `export of ${x.kind} ${x.name}`, kind: x.kind, op: "export", bytes: x.exportBytes });
  }
  if (plan.stage !== "export") {
    add(childUrn(migrationUrn, T("ExportDomainAttachment"), childName.targetAttachment(plan.name)), { label: "target attachment", kind: "attachment", op: "attach", bytes: 0 });
    for (const x of plan.entities.filter((e) => e.imported)) {
      add(childUrn(migrationUrn, T("VmImport"), childName.import(plan.name, x.kind, x.name)), { label: `import of ${x.kind} ${x.name}`, kind: x.kind, op: "import", bytes: x.importBytes });
    }
  }
  migrations.set(migrationUrn, { urn: migrationUrn, name: plan.name, children: urns, finished: false, lastLine: 0 });
}

function set(urn: string | undefined, state: State, fraction?: number): void {
  try {
    setState(urn, state, fraction);
  } catch {
    // progress never fails an operation
  }
}

function setState(urn: string | undefined, state: State, fraction?: number): void {
  if (!urn) return;
  const c = children.get(urn);
  if (!c) {
    early.set(urn, state);
    return;
  }
  if (c.state === "done" && state === "running") c.fraction = 0; // an update after a create in the same run
  c.state = state;
  if (fraction !== undefined) c.fraction = fraction;
  const m = migrations.get(c.migration);
  if (!m) return;
  if (state === "running" && !m.started) m.started = Date.now();
  void report(m, state === "failed" ? c : undefined);
}

/** provider/index.ts: a child's create or update begins / ends; its diff found nothing to change. */
export const began = (urn?: string) => set(urn, "running");
export const ended = (urn: string | undefined, ok: boolean) => set(urn, ok ? "done" : "failed", ok ? 1 : undefined);
export const unchanged = (urn?: string) => set(urn, "unchanged");

/** The progress of an export or import, read from its status line (`...: 42% of 8.0 GiB, 12 s`). */
export function tap(p: Progress, urn: string | undefined): Progress {
  return {
    ...p,
    update(message: string) {
      p.update(message);
      const m = /: (\d{1,3})% of /.exec(message);
      const c = urn ? children.get(urn) : undefined;
      if (m && c && c.state === "running") {
        c.fraction = Math.min(1, Number(m[1]) / 100);
        const mig = migrations.get(c.migration);
        if (mig) void report(mig);
      }
    },
  };
}

function totals(m: Migration) {
  const cs = m.children.map((u) => children.get(u)!).filter(Boolean);
  const active = cs.filter((c) => c.state !== "unchanged");
  const bytes = active.reduce((a, c) => a + c.bytes, 0);
  const done = active.reduce((a, c) => a + c.bytes * (c.state === "done" ? 1 : c.fraction), 0);
  return { cs, active, bytes, done, settled: cs.filter((c) => c.state === "done" || c.state === "unchanged").length };
}

async function report(m: Migration, failed?: Child): Promise<void> {
  if (m.finished || !m.started) return;
  const t = totals(m);
  const elapsed = (Date.now() - m.started) / 1000;
  if (failed) {
    m.finished = true;
    await log("info", `migration ${m.name}: stopped: the ${failed.label} failed after ${formatDuration(elapsed)}; ${t.settled} of ${t.cs.length} steps done, ${formatBytes(t.done)} of ${formatBytes(t.bytes)} copied`, m.urn);
    return;
  }
  if (t.settled === t.cs.length) {
    m.finished = true;
    const ran = t.active.filter((c) => c.state === "done");
    // what moved: the imports that ran (the exports alone in the export stage)
    const op = m.children.some((u) => children.get(u)?.op === "register") ? "register" : m.children.some((u) => children.get(u)?.op === "import") ? "import" : "export";
    const count = (kind: string) => ran.filter((c) => c.op === op && c.kind === kind).length;
    const vms = count("vm");
    const tpls = count("template");
    const rate = elapsed > 0 ? t.done / elapsed : 0;
    const unchangedSteps = t.cs.length - t.active.length;
    if (op === "register") {
      await log(
        "info",
        `migration ${m.name}: done: ${vms} VM${vms === 1 ? "" : "s"} and ${tpls} template${tpls === 1 ? "" : "s"} registered with the data domain's move` +
          `${unchangedSteps ? ` (${unchangedSteps} step${unchangedSteps === 1 ? "" : "s"} unchanged)` : ""}, 0 B copied, in ${formatDuration(elapsed)}`,
        m.urn,
      );
      return;
    }
    await log(
      "info",
      `migration ${m.name}: done: ${vms} VM${vms === 1 ? "" : "s"} and ${tpls} template${tpls === 1 ? "" : "s"} moved` +
        `${t.cs.length - t.active.length ? ` (${t.cs.length - t.active.length} step${t.cs.length - t.active.length === 1 ? "" : "s"} unchanged)` : ""}` +
        `, ${formatBytes(t.done)} copied in ${formatDuration(elapsed)} (${(rate / MiB).toFixed(1)} MiB/s measured)`,
      m.urn,
    );
    return;
  }
  const now = Date.now();
  if (now - m.lastLine < 1000) return;
  m.lastLine = now;
  const rate = elapsed > 1 ? t.done / elapsed : 0;
  const eta = rate > 0 && t.bytes > t.done ? ` · ETA ${formatDuration((t.bytes - t.done) / rate)}` : "";
  const pct = t.bytes > 0 ? ` (${Math.floor((100 * t.done) / t.bytes)}%)` : "";
  if (t.cs.some((c) => c.op === "register")) {
    // a data-domain move copies nothing: its progress is the steps (the domain's move, then each registration)
    await log("info", `migration ${m.name}: steps ${t.settled}/${t.cs.length} · nothing copied (data-domain move)`, m.urn, true);
    return;
  }
  await log(
    "info",
    `migration ${m.name}: steps ${t.settled}/${t.cs.length} · ${formatBytes(t.done)} of ${formatBytes(t.bytes)}${pct}${rate > 0 ? ` · ${(rate / MiB).toFixed(1)} MiB/s` : ""}${eta}`,
    m.urn,
    true,
  );
}

/** Tests: forget everything. */
export function resetLive(): void {
  children.clear();
  migrations.clear();
  early.clear();
}
