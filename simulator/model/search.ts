// The engine's search language, the subset clients use: `field=value` criteria joined by `and`/`or`, values
// optionally double-quoted, `*` as wildcard, case-insensitive unless case_sensitive=true.
//
// Followed from ovirt-engine's search backend (read, not copied):
// - SyntaxChecker.analyzeSyntaxState / handleValuePhrase: `'` and `;` anywhere in the text are refused
//   (DISALLOWED_CHARS); a `"` opens a value only at its start and the next `"` closes it: there are NO escape
//   sequences, a backslash is an ordinary character, so `name="a\"b"` is the value `a\` followed by `b"`, whose `"`
//   is not at the start of a value: INVALID_CONDITION_VALUE.
// - SearchQuery.initQueryData: on a syntax error it records the error text and returns no query; the query still
//   "succeeds" (QueriesCommandBase) and BackendResource.getBackendCollection answers the empty collection. So an
//   erroneous search text answers 200 with no entities, also when it is one term of an `or`.
// - SqlInjectionChecker.enforceEscapeCharacters (every condition value): a value ending with `\` throws
//   SearchEngineIllegalCharacterException (again: empty result); `'` and `%` get a backslash unless one precedes
//   them; a `\` is doubled unless a `\` precedes it or a `'`, `%` or `\` follows it (the first character never
//   "has" a following one: the loop's look-ahead starts blank).
// - SyntaxChecker.buildCustomizedValue / escapeUnderScore / BaseConditionFieldAutoCompleter.getMatchingSyntax:
//   `*` becomes `%`, `=` becomes ILIKE (LIKE with case_sensitive) and then `_` becomes `\_`; `!=` becomes NOT ILIKE,
//   where `_` stays a one-character wildcard (escapeUnderScore only looks at LIKE/ILIKE).
// - PostgreSQL (standard_conforming_strings on, DBI18NPrefix empty): the literal is taken as written and LIKE's
//   escape character is `\`: `\x` matches x, `%` any run, `_` any character.
// Net effect: `name="a\\b"` and `name="a\b"` both find the VM named `a\b`.
import { EngineFault } from "../engineFaults";

export type FieldGetter<T> = (e: T) => string | number | undefined | (string | undefined)[];

/** A search text the engine refuses (syntax, or a value it cannot turn into SQL): the engine answers no entities. */
export class SearchSyntaxError extends Error {}

type Op = "=" | "!=" | ">" | "<" | ">=" | "<=";
const OPS = ["=", "!=", ">", "<", ">=", "<="];

interface Cond {
  field: string;
  op: Op;
  value: string;
}
/** A value without `field op` before it: the engine's free-text search, which the simulator does not model. */
interface FreeText {
  freeText: string;
}
type Term = Cond | FreeText;

interface Tok {
  kind: "word" | "quoted" | "op";
  text: string;
}

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (c === "'" || c === ";") throw new SearchSyntaxError(`invalid character ${c}`);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      const j = q.indexOf('"', i + 1);
      if (j < 0) throw new SearchSyntaxError("unterminated quoted value");
      const v = q.slice(i + 1, j);
      if (v.includes("'") || v.includes(";")) throw new SearchSyntaxError("invalid character");
      out.push({ kind: "quoted", text: v });
      i = j + 1;
      continue;
    }
    if ("=!<>".includes(c)) {
      let op = c;
      if (q[i + 1] === "=") op += "=";
      if (!OPS.includes(op)) throw new SearchSyntaxError(`invalid relation ${op}`);
      out.push({ kind: "op", text: op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < q.length && !/\s/.test(q[j]) && !"=!<>\"';".includes(q[j])) j++;
    // a `"` right after other characters of a value is not the start of a value (firstDQRegexp)
    if (q[j] === '"') throw new SearchSyntaxError('" inside a value');
    out.push({ kind: "word", text: q.slice(i, j) });
    i = j;
  }
  return out;
}

/** Parses a query into OR-groups of AND-ed terms. Sorting/paging clauses are ignored. */
export function parseSearch(q: string): Term[][] {
  const toks = tokenize(q.trim());
  const groups: Term[][] = [[]];
  let i = 0;
  // a leading "Vms:"-style prefix
  if (toks[0]?.kind === "word" && /:$/.test(toks[0].text)) i++;
  while (i < toks.length) {
    const t = toks[i];
    const lower = t.text.toLowerCase();
    if (t.kind === "word" && lower === "and") {
      i++;
      continue;
    }
    if (t.kind === "word" && lower === "or") {
      groups.push([]);
      i++;
      continue;
    }
    if (t.kind === "word" && (lower === "sortby" || lower === "page")) break;
    if (t.kind === "op") throw new SearchSyntaxError(`relation ${t.text} without a field`);
    const op = toks[i + 1];
    if (op?.kind !== "op") {
      groups[groups.length - 1].push({ freeText: t.text });
      i++;
      continue;
    }
    const val = toks[i + 2];
    if (t.kind !== "word" || !val || val.kind === "op") throw new SearchSyntaxError("incomplete condition");
    groups[groups.length - 1].push({ field: lower, op: op.text as Op, value: val.text });
    i += 3;
  }
  return groups;
}

/** SqlInjectionChecker.enforceEscapeCharacters (see the header): the value as it goes into the SQL literal. */
export function enforceEscapeCharacters(v: string): string {
  if (v.endsWith("\\")) throw new SearchSyntaxError("value ends with the escape character");
  if (!/[\\%']/.test(v)) return v;
  let out = "";
  let prev = " ";
  let next = " ";
  for (let k = 0; k < v.length; k++) {
    const c = v[k];
    if (c === "'" || c === "%") out += k > 0 && prev === "\\" ? c : "\\" + c;
    else if (c === "\\") out += (k > 0 && prev === "\\") || next === "'" || next === "%" || next === "\\" ? c : "\\\\";
    else out += c;
    prev = c;
    next = k + 2 < v.length ? v[k + 2] : " ";
  }
  return out;
}

function reEscape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** PostgreSQL LIKE pattern (escape `\`) -> anchored RegExp. */
function likeToRegex(p: string, caseSensitive: boolean): RegExp {
  let re = "";
  const cs = Array.from(p); // code points, as PostgreSQL counts characters
  for (let k = 0; k < cs.length; k++) {
    let c = cs[k];
    if (c === "\\") {
      c = cs[++k] ?? "";
      re += reEscape(c);
    } else if (c === "%") re += "[\\s\\S]*";
    else if (c === "_") re += "[\\s\\S]";
    else re += reEscape(c);
  }
  return new RegExp(`^${re}$`, caseSensitive ? "u" : "iu");
}

/** The pattern the engine builds for `field op value` on a text column (`=`: ILIKE, `!=`: NOT ILIKE). */
export function likePattern(value: string, op: "=" | "!="): string {
  let p = enforceEscapeCharacters(value).replace(/\*/g, "%");
  if (op === "=") p = p.replace(/_/g, "\\_");
  return p;
}

/**
 * A cross-reference object of the searched entity (SearchObjectAutoCompleter: the <Entity>CrossRefAutoCompleter
 * lists which objects, addJoin how they join): `vm.name = x` / `vms.name = x` matches the entities that have at
 * least one related item satisfying the condition (the engine's LEFT OUTER JOIN + WHERE on the joined view).
 */
export interface CrossRef<T> {
  related: (e: T) => unknown[];
  fields: Record<string, FieldGetter<never>>;
}

/** The condition on one value getter: `=`/`!=` as (NOT) ILIKE patterns, the others numerically. */
function condTest<T>(c: Cond, getter: FieldGetter<T>, caseSensitive: boolean): (e: T) => boolean {
  if (c.op === "=" || c.op === "!=") {
    const re = likeToRegex(likePattern(c.value, c.op), caseSensitive);
    const hit = (e: T) => {
      const raw = getter(e);
      return (Array.isArray(raw) ? raw : [raw]).some((v) => v !== undefined && re.test(String(v)));
    };
    return c.op === "=" ? hit : (e: T) => !hit(e);
  }
  enforceEscapeCharacters(c.value);
  const num = Number(c.value);
  return (e: T) => {
    const raw = getter(e);
    const vals = Array.isArray(raw) ? raw : [raw];
    return vals.some((v) => {
      if (v === undefined) return false;
      const n = Number(v);
      if (c.op === ">") return n > num;
      if (c.op === "<") return n < num;
      if (c.op === ">=") return n >= num;
      return n <= num;
    });
  };
}

export function applySearch<T>(
  items: T[],
  q: string | null | undefined,
  fields: Record<string, FieldGetter<T>>,
  caseSensitive = false,
  crossRefs: Record<string, CrossRef<T>> = {},
): T[] {
  if (!q || !q.trim()) return items;
  let groups: Term[][];
  try {
    groups = parseSearch(q);
  } catch (e) {
    if (e instanceof SearchSyntaxError) return [];
    throw e;
  }
  let tests: ((e: T) => boolean)[][];
  try {
    tests = groups.map((g) =>
      g.map((c) => {
        if ("freeText" in c) {
          throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. Free-text search ('${c.freeText}') is not supported by the simulator]`);
        }
        const dot = c.field.indexOf(".");
        if (dot > 0 && !fields[c.field]) {
          // SyntaxChecker: CROSS_REF_OBJ DOT CONDITION_FIELD; a trailing "s" is the plural of the object
          const obj = c.field.slice(0, dot);
          const xr = crossRefs[obj] ?? (obj.endsWith("s") ? crossRefs[obj.slice(0, -1)] : undefined);
          const sub = c.field.slice(dot + 1);
          if (!xr) throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. Unknown cross-reference '${obj}']`);
          const g = xr.fields[sub] as FieldGetter<unknown> | undefined;
          if (!g) throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. Unknown field '${sub}' of '${obj}']`);
          const t = condTest<unknown>(c, g, caseSensitive);
          return (e: T) => xr.related(e).some(t);
        }
        const getter = fields[c.field];
        if (!getter) {
          const xr = crossRefs[c.field] ?? (c.field.endsWith("s") ? crossRefs[c.field.slice(0, -1)] : undefined);
          if (xr) throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. '${c.field}' without a field (free text on a cross-reference) is not supported by the simulator: name one, e.g. ${c.field}.name]`);
          throw new EngineFault(400, "Operation Failed", `[Search string is not valid: ${q}. Unknown field '${c.field}']`);
        }
        return condTest(c, getter, caseSensitive);
      }),
    );
  } catch (e) {
    if (e instanceof SearchSyntaxError) return [];
    throw e;
  }
  return items.filter((e) => tests.some((g) => g.every((t) => t(e))));
}
