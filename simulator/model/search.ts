// The engine's search language, the subset clients use: `field=value` criteria joined by `and`/`or`, values
// optionally quoted, `*` as wildcard, case-insensitive unless case_sensitive=true (E-srch SyntaxChecker).
import { EngineFault } from "../faults";

export type FieldGetter<T> = (e: T) => string | number | undefined | (string | undefined)[];

interface Cond {
  field: string;
  op: "=" | "!=" | ">" | "<" | ">=" | "<=";
  value: string;
}

function tokenize(q: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const j = q.indexOf('"', i + 1);
      const end = j < 0 ? q.length : j;
      out.push(`"${q.slice(i + 1, end)}"`);
      i = end + 1;
      continue;
    }
    if ("=!<>".includes(c)) {
      let op = c;
      if (q[i + 1] === "=") op += "=";
      out.push(op);
      i += op.length;
      continue;
    }
    let j = i;
    while (j < q.length && !/\s/.test(q[j]) && !"=!<>\"".includes(q[j])) j++;
    out.push(q.slice(i, j));
    i = j;
  }
  return out;
}

/** Parses a query into OR-groups of AND-ed conditions. Sorting/paging clauses are ignored. */
export function parseSearch(q: string): Cond[][] {
  const toks = tokenize(q.trim());
  const groups: Cond[][] = [[]];
  let i = 0;
  // strip a leading "Vms:"-style prefix
  if (toks[0] && /:$/.test(toks[0])) i++;
  while (i < toks.length) {
    const t = toks[i];
    const lower = t.toLowerCase();
    if (lower === "and") {
      i++;
      continue;
    }
    if (lower === "or") {
      groups.push([]);
      i++;
      continue;
    }
    if (lower === "sortby" || lower === "page") break;
    const op = toks[i + 1];
    const val = toks[i + 2];
    if (!op || !["=", "!=", ">", "<", ">=", "<="].includes(op) || val === undefined) {
      throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}]`);
    }
    groups[groups.length - 1].push({ field: lower, op: op as Cond["op"], value: val.startsWith('"') ? val.slice(1, -1) : val });
    i += 3;
  }
  return groups;
}

function likeToRegex(v: string, caseSensitive: boolean): RegExp {
  const esc = v.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${esc}$`, caseSensitive ? "" : "i");
}

export function applySearch<T>(items: T[], q: string | null | undefined, fields: Record<string, FieldGetter<T>>, caseSensitive = false): T[] {
  if (!q || !q.trim()) return items;
  const groups = parseSearch(q);
  const tests = groups.map((g) =>
    g.map((c) => {
      const getter = fields[c.field];
      if (!getter) throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. Unknown field '${c.field}']`);
      const re = likeToRegex(c.value, caseSensitive);
      return (e: T) => {
        const raw = getter(e);
        const vals = Array.isArray(raw) ? raw : [raw];
        if (c.op === "=") return vals.some((v) => v !== undefined && re.test(String(v)));
        if (c.op === "!=") return !vals.some((v) => v !== undefined && re.test(String(v)));
        const num = Number(c.value);
        return vals.some((v) => {
          if (v === undefined) return false;
          const n = Number(v);
          if (c.op === ">") return n > num;
          if (c.op === "<") return n < num;
          if (c.op === ">=") return n >= num;
          return n <= num;
        });
      };
    }),
  );
  return items.filter((e) => tests.some((g) => g.every((t) => t(e))));
}
