/**
 * The plan as text: a compact table for the preview's diagnostics (one message per migration, read in a terminal)
 * and Markdown for a pull-request comment (the file CI posts). Both say the same facts in the same order.
 */
import { AnyPlan, DataDomainPlan, DataDomainPlanEntity, Plan, PlanEntity, formatBytes, formatDuration, isDataDomainPlan } from "./model";

const size = (n: number) => (n > 0 ? formatBytes(n) : "-");

function outcomeText(x: PlanEntity): string {
  switch (x.outcome) {
    case "import":
      return x.targetName;
    case "clone":
      return x.targetName === x.name ? `${x.targetName} (clone)` : `${x.targetName} (clone, renamed)`;
    case "skip":
      return "skipped (exists)";
    case "conflict":
      return "CONFLICT: fails";
    case "done":
      return `${x.targetName} (already imported)`;
    case "none":
      return x.exported ? "export only" : "-";
  }
}

function snapText(x: PlanEntity): string {
  if (x.kind === "template") return "-";
  if (x.snapshots === 0) return "none";
  return x.collapsed ? `${x.snapshots}, collapsed on ${x.collapsedWhere}` : `${x.snapshots}, kept`;
}

function templateText(x: PlanEntity): string {
  if (!x.template) return x.kind === "vm" ? "none (flat)" : "-";
  const t = x.template;
  if (!t.needed) return `${t.name} (not needed: collapsed)`;
  return `${t.name} (${t.travels ? "moved first" : t.inTarget ? "already in target" : "MISSING in target"})`;
}

function powerText(x: PlanEntity): string {
  if (x.kind === "template") return "-";
  if (!x.found) return "not found";
  return x.shutdown ? `${x.status}: ${x.shutdown}` : (x.status ?? "?");
}

function diskText(x: PlanEntity): string {
  if (x.disks.length === 0) return x.found ? "0" : "?";
  const prov = x.disks.reduce((a, d) => a + d.provisioned, 0);
  const act = x.disks.reduce((a, d) => a + d.actual, 0);
  return `${x.disks.length}: ${formatBytes(prov)} / ${formatBytes(act)}`;
}

function whereText(x: PlanEntity): string {
  if (!x.imported) return "-";
  const doms = [...new Set(x.disks.map((d) => d.storageDomain).filter(Boolean))];
  return `${x.cluster ?? "?"} / ${(doms.length ? doms : [x.storageDomain ?? "?"]).join("+")}`;
}

interface Row {
  cells: string[];
}

const HEAD = ["", "in the target", "cluster / storage", "disks: size / allocated", "snapshots", "template", "power", "permissions"];

function rows(p: Plan): Row[] {
  return p.entities.map((x) => ({
    cells: [
      `${x.kind === "vm" ? "VM" : "template"} ${x.name}`,
      outcomeText(x),
      whereText(x),
      diskText(x),
      snapText(x),
      templateText(x),
      powerText(x),
      x.permissions.length ? x.permissions.join(", ") : "-",
    ],
  }));
}

function engineLine(p: Pick<Plan, "crossEngine" | "sourceEngine" | "targetEngine">): string {
  return p.crossEngine ? `from ${p.sourceEngine} to ${p.targetEngine} (cross-engine)` : `within ${p.sourceEngine}`;
}

function phaseLines(p: Plan): string[] {
  return p.phases.map((ph, i) => {
    const parts = [`${i + 1}. ${ph.title}`];
    if (ph.key === "export" || ph.key === "templates" || ph.key === "vms") parts.push(`${ph.entities} entit${ph.entities === 1 ? "y" : "ies"}, ${size(ph.bytes)}`);
    if (ph.key === "permissions") parts.push(`${ph.entities} entit${ph.entities === 1 ? "y" : "ies"}`);
    parts.push(ph.parallel);
    if (ph.seconds !== undefined && ph.bytes > 0) parts.push(`~${formatDuration(ph.seconds)}`);
    return parts.join(" · ");
  });
}

function spaceLines(p: Plan): string[] {
  if (p.space.length === 0) return ["nothing lands anywhere"];
  return p.space.map(
    (s) =>
      `${s.role} ${s.domain}: needs ${formatBytes(s.needed)}, ${s.available !== undefined ? `${formatBytes(s.available)} free` : "free space unknown"}` +
      ` -> ${s.fits ? "fits" : `DOES NOT FIT (short by ${formatBytes(s.needed - (s.available ?? 0))})`}`,
  );
}

function estimateLine(p: Plan): string {
  return p.totalSeconds !== undefined ? `~${formatDuration(p.totalSeconds)} of copying; basis: ${p.throughput.basis}` : p.throughput.basis;
}

function header(p: Plan): string {
  return (
    `${p.sourceDataCenter} -> ${p.targetDataCenter} ${engineLine(p)}, through export domain ${p.exportDomain} ` +
    `(now ${p.exportDomainState}); stage ${p.stage}`
  );
}

function totalsLine(p: Plan): string {
  return `${p.totals.entities} entit${p.totals.entities === 1 ? "y" : "ies"} to copy: ${size(p.totals.exportBytes)} exported, ${size(p.totals.importBytes)} imported`;
}

/** Columns padded to their widest cell: the header line and one line per row. */
function padded(head: string[], body: string[][]): string[] {
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return all.map(line);
}

/** The preview's table: plain text, columns padded, one message. */
export function renderTable(p: AnyPlan): string {
  if (isDataDomainPlan(p)) return ddTable(p);
  const out = [header(p), ...padded(HEAD, rows(p).map((r) => r.cells))];
  out.push(`Phases: ${totalsLine(p)}`, ...phaseLines(p).map((l) => `  ${l}`));
  out.push("Space:", ...spaceLines(p).map((l) => `  ${l}`));
  out.push(`Estimate: ${estimateLine(p)}`);
  if (p.risks.length) out.push("Risks:", ...p.risks.map((r) => `  - ${r}`));
  if (p.notes.length) out.push("Not known at preview:", ...p.notes.map((r) => `  - ${r}`));
  if (p.failures.length) out.push("FAILS:", ...p.failures.map((f) => `  - ${f.reason}`));
  return out.join("\n");
}

/**
 * The plan in a few lines, for the check of `pulumi up`'s own deployment: the table was shown by the preview that
 * `up` runs first (printing it again put the same table twice in one output). Failures are listed whole.
 */
export function renderSummary(p: AnyPlan): string {
  if (isDataDomainPlan(p)) return ddSummary(p);
  const out = [`${header(p)}; ${totalsLine(p)}; estimate: ${estimateLine(p)}${p.risks.length ? `; ${p.risks.length} risk${p.risks.length === 1 ? "" : "s"} (see the preview)` : ""}`];
  if (p.failures.length) out.push("FAILS:", ...p.failures.map((f) => `  - ${f.reason}`));
  return out.join("\n");
}

const md = (s: string) => s.replace(/\|/g, "\\|");

/** The same plan in Markdown (a pull-request comment). */
export function renderMarkdown(p: AnyPlan): string {
  if (isDataDomainPlan(p)) return ddMarkdown(p);
  const out: string[] = [];
  out.push(`### Migration plan \`${md(p.name)}\``, "");
  out.push(`${md(p.sourceDataCenter)} → ${md(p.targetDataCenter)} ${md(engineLine(p))}, through export domain \`${md(p.exportDomain)}\` (now ${md(p.exportDomainState)}); stage \`${p.stage}\`.`, "");
  if (p.failures.length) out.push("**This migration fails at preview:**", "", ...p.failures.map((f) => `- ${md(f.reason)}`), "");
  out.push(`| ${HEAD.map((h) => h || "entity").join(" | ")} |`, `|${HEAD.map(() => "---").join("|")}|`);
  for (const r of rows(p)) out.push(`| ${r.cells.map(md).join(" | ")} |`);
  out.push("", `**Phases** (${md(totalsLine(p))}):`, "", ...phaseLines(p).map((l) => `${md(l)}`), "");
  out.push("**Space:**", "", ...spaceLines(p).map((l) => `- ${md(l)}`), "");
  out.push(`**Estimate:** ${md(estimateLine(p))}`, "");
  if (p.risks.length) out.push("**Risks:**", "", ...p.risks.map((r) => `- ${md(r)}`), "");
  if (p.notes.length) out.push("**Not known at preview:**", "", ...p.notes.map((r) => `- ${md(r)}`), "");
  return out.join("\n");
}

// ---- method "data-domain": the same layout (header, one row per entity, phases, estimate, risks), no copy columns

const DD_HEAD = ["", "in the target", "cluster", "disks: size / allocated (not copied)", "snapshots", "template", "power"];

function ddOutcome(x: DataDomainPlanEntity): string {
  switch (x.outcome) {
    case "register":
      return x.targetName;
    case "clone":
      return `${x.targetName} (clone: new id)`;
    case "conflict":
      return `REFUSED: ${x.why}`;
    case "done":
      return `${x.targetName} (registered already)`;
    case "stays":
      return "stays: no disk on the domain";
  }
}

function ddDisks(x: DataDomainPlanEntity): string {
  if (!x.disks.length) return x.found ? "0" : "?";
  const on = x.disks.filter((d) => d.onDomain);
  const prov = on.reduce((a, d) => a + d.provisioned, 0);
  const act = on.reduce((a, d) => a + d.actual, 0);
  const stay = x.notMoving.length ? `; stay: ${x.notMoving.join(", ")}` : "";
  return `${on.length}: ${formatBytes(prov)} / ${formatBytes(act)}${stay}`;
}

function ddTemplate(x: DataDomainPlanEntity): string {
  if (!x.template) return x.kind === "vm" ? "none (flat)" : "-";
  const t = x.template;
  return `${t.name} (${t.registeredHere ? "registered first" : t.inTarget ? "already in target" : "MISSING in target"})`;
}

function ddPower(x: DataDomainPlanEntity): string {
  if (x.kind === "template") return "-";
  if (!x.status) return x.found ? "?" : "not found";
  return x.status === "down" ? "down" : `${x.status}: blocks the detach`;
}

function ddRows(p: DataDomainPlan): string[][] {
  return p.entities.map((x) => [
    `${x.kind === "vm" ? "VM" : "template"} ${x.name}`,
    ddOutcome(x),
    x.outcome === "stays" ? "-" : (x.cluster ?? "?"),
    ddDisks(x),
    x.kind === "template" ? "-" : x.snapshots ? `${x.snapshots}, kept` : "none",
    ddTemplate(x),
    ddPower(x),
  ]);
}

function ddHeader(p: DataDomainPlan): string {
  return `${p.sourceDataCenter} -> ${p.targetDataCenter} ${engineLine(p)}, moving data domain ${p.dataDomain} (now ${p.domainState}); nothing is copied`;
}

function ddTotals(p: DataDomainPlan): string {
  return (
    `${p.totals.entities} entit${p.totals.entities === 1 ? "y" : "ies"} to register, 0 B copied; ` +
    `${formatBytes(p.totals.entityBytes)} of their disks move with the domain` +
    (p.totals.domainUsed !== undefined ? ` (${formatBytes(p.totals.domainUsed)} used on ${p.dataDomain})` : "")
  );
}

function ddPhaseLines(p: DataDomainPlan): string[] {
  return p.phases.map((ph, i) => {
    const parts = [`${i + 1}. ${ph.title}`];
    if (ph.key === "templates" || ph.key === "vms") parts.push(`${ph.entities} entit${ph.entities === 1 ? "y" : "ies"}`);
    parts.push(ph.parallel);
    if (ph.seconds !== undefined && ph.entities > 0) parts.push(`~${formatDuration(ph.seconds)}`);
    return parts.join(" · ");
  });
}

const ddEstimate = (p: DataDomainPlan) => (p.estimate.seconds !== undefined ? `~${formatDuration(p.estimate.seconds)} of storage operations; basis: ${p.estimate.basis}` : p.estimate.basis);

function ddTable(p: DataDomainPlan): string {
  const out = [ddHeader(p), ...padded(DD_HEAD, ddRows(p))];
  out.push(`Phases: ${ddTotals(p)}`, ...ddPhaseLines(p).map((l) => `  ${l}`));
  if (p.leaving.length) out.push(`Leaves ${p.sourceDataCenter} with ${p.dataDomain}:`, ...p.leaving.map((l) => `  - ${l}`));
  out.push(`Estimate: ${ddEstimate(p)}`);
  if (p.risks.length) out.push("Risks:", ...p.risks.map((r) => `  - ${r}`));
  if (p.notes.length) out.push("Not known at preview:", ...p.notes.map((r) => `  - ${r}`));
  if (p.failures.length) out.push("REFUSED (by the move's own checks):", ...p.failures.map((f) => `  - ${f.reason}`));
  return out.join("\n");
}

function ddSummary(p: DataDomainPlan): string {
  const out = [`${ddHeader(p)}; ${ddTotals(p)}; estimate: ${ddEstimate(p)}${p.risks.length ? `; ${p.risks.length} risk${p.risks.length === 1 ? "" : "s"} (see the preview)` : ""}`];
  if (p.failures.length) out.push("REFUSED:", ...p.failures.map((f) => `  - ${f.reason}`));
  return out.join("\n");
}

function ddMarkdown(p: DataDomainPlan): string {
  const out: string[] = [];
  out.push(`### Migration plan \`${md(p.name)}\` (data-domain move)`, "");
  out.push(`${md(p.sourceDataCenter)} → ${md(p.targetDataCenter)} ${md(engineLine(p))}, moving data domain \`${md(p.dataDomain)}\` (now ${md(p.domainState)}); nothing is copied.`, "");
  if (p.failures.length) out.push("**This migration is refused at preview:**", "", ...p.failures.map((f) => `- ${md(f.reason)}`), "");
  out.push(`| ${DD_HEAD.map((h) => h || "entity").join(" | ")} |`, `|${DD_HEAD.map(() => "---").join("|")}|`);
  for (const r of ddRows(p)) out.push(`| ${r.map(md).join(" | ")} |`);
  out.push("", `**Phases** (${md(ddTotals(p))}):`, "", ...ddPhaseLines(p).map((l) => md(l)), "");
  if (p.leaving.length) out.push(`**Leaves ${md(p.sourceDataCenter)} with \`${md(p.dataDomain)}\`:**`, "", ...p.leaving.map((l) => `- ${md(l)}`), "");
  out.push(`**Estimate:** ${md(ddEstimate(p))}`, "");
  if (p.risks.length) out.push("**Risks:**", "", ...p.risks.map((r) => `- ${md(r)}`), "");
  if (p.notes.length) out.push("**Not known at preview:**", "", ...p.notes.map((r) => `- ${md(r)}`), "");
  return out.join("\n");
}
