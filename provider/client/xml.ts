/**
 * XML <-> plain objects for the oVirt Engine REST API v4.
 *
 * Reading: fast-xml-parser with attributes kept; attributes (`id`, `href`, `rel`) become ordinary keys, every
 * element whose parent is its plural (`vms/vm`, `storage_domains/storage_domain`, `properties/property`) or that is
 * a `link` is always an array, values stay strings (zod schemas in `types.ts` coerce them). Writing: plain objects
 * where the keys `id` and `href` become attributes, arrays repeat the element, `undefined` is skipped, and text is
 * escaped by the builder.
 */
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { z } from "zod";

const ATTR = "@_";
const ATTRIBUTE_KEYS = new Set(["id", "href", "rel"]);

function isPluralOf(parent: string, name: string): boolean {
  if (parent === name + "s") return true;
  if (name.endsWith("y") && parent === name.slice(0, -1) + "ies") return true;
  return false;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name: string, jpath: unknown) => {
    if (name === "link") return true;
    const parts = String(jpath).split(".");
    const parent = parts.length >= 2 ? parts[parts.length - 2] : "";
    return isPluralOf(parent, name);
  },
});

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      const key = k.startsWith(ATTR) ? k.slice(ATTR.length) : k;
      out[key] = normalize(val);
    }
    return out;
  }
  return v;
}

/** Parses an XML document and returns `{ rootName, value }` with attributes merged into the objects. */
export function parseXml(text: string): { root: string; value: any } {
  const doc = parser.parse(text) as Record<string, unknown>;
  const keys = Object.keys(doc).filter((k) => k !== "?xml");
  if (keys.length === 0) throw new Error("empty XML document");
  const root = keys[0];
  let value = normalize(doc[root]);
  if (value === "" || value === undefined) value = {};
  return { root, value };
}

/** Reads one entity of the given root element and validates it. */
export function readEntity<T extends z.ZodTypeAny>(text: string, rootName: string, schema: T): z.infer<T> {
  const { root, value } = parseXml(text);
  if (root !== rootName) throw new Error(`expected <${rootName}> but the engine answered <${root}>`);
  return parseWith(schema, value, rootName);
}

/** Reads a collection such as `<vms><vm/>...</vms>` and validates every element. */
export function readCollection<T extends z.ZodTypeAny>(
  text: string,
  collection: string,
  element: string,
  schema: T,
): z.infer<T>[] {
  const { root, value } = parseXml(text);
  if (root !== collection) throw new Error(`expected <${collection}> but the engine answered <${root}>`);
  const items = (value && typeof value === "object" ? (value as any)[element] : undefined) ?? [];
  const list = Array.isArray(items) ? items : [items];
  return list.map((it, i) => parseWith(schema, it, `${collection}[${i}]`));
}

export function parseWith<T extends z.ZodTypeAny>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(`unexpected engine XML in <${where}> at ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return r.data;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
  processEntities: true,
});

function toBuilderShape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toBuilderShape);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (val === undefined || val === null) continue;
      if (ATTRIBUTE_KEYS.has(k) && (typeof val === "string" || typeof val === "number")) {
        out[ATTR + k] = String(val);
      } else {
        out[k] = toBuilderShape(val);
      }
    }
    return out;
  }
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  return v;
}

/** Writes `{ root: value }` as XML; `id`/`href` keys become attributes, arrays repeat their element. */
export function writeXml(root: string, value: Record<string, unknown>): string {
  return builder.build({ [root]: toBuilderShape(value) }) as string;
}
