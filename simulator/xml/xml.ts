// XML reading (request bodies) and writing (responses) with fast-xml-parser. Kept apart from the services.
import { XMLBuilder, XMLParser } from "fast-xml-parser";
import { EngineFault } from "../engineFaults";

export type XNode = Record<string, unknown>;

const LIST_CHILDREN = new Set([
  "disk_attachment", "storage_domain", "link", "disk", "nic", "snapshot", "vm", "template", "host", "cluster",
  "data_center", "job", "step", "event", "permission",
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  isArray: (name, jpath) => {
    // list children only directly inside their plural container, e.g. storage_domains/storage_domain
    const parts = String(jpath).split(".");
    const parent = parts[parts.length - 2];
    return LIST_CHILDREN.has(name) && parent === `${name}s`;
  },
});

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  suppressEmptyNode: true,
  processEntities: true,
});

/** Parses a request body; returns the root element name and its content. Empty body -> undefined. */
export function parseXml(body: string): { root: string; node: XNode } | undefined {
  if (!body || !body.trim()) return undefined;
  let doc: XNode;
  try {
    doc = parser.parse(body, true) as XNode;
  } catch (e) {
    throw new EngineFault(400, "Bad Request", `Request syntactically incorrect. ${e instanceof Error ? e.message.split("\n")[0] : ""}`.trim());
  }
  const root = Object.keys(doc).find((k) => !k.startsWith("?"));
  if (!root) return undefined;
  const node = doc[root];
  return { root, node: (node && typeof node === "object" ? node : { "#text": node ?? "" }) as XNode };
}

export function buildXml(rootName: string, content: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n` + builder.build({ [rootName]: content });
}

// ---------- readers
export function child(n: XNode | undefined, name: string): XNode | undefined {
  const v = n?.[name];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v[0] as XNode;
  if (typeof v === "object") return v as XNode;
  return { "#text": String(v) };
}

export function str(n: XNode | undefined, name: string): string | undefined {
  const v = n?.[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "object") {
    const t = (v as XNode)["#text"];
    return t === undefined ? "" : String(t);
  }
  return String(v);
}

export function bool(n: XNode | undefined, name: string): boolean | undefined {
  const s = str(n, name);
  if (s === undefined) return undefined;
  const l = s.trim().toLowerCase();
  if (l === "true") return true;
  if (l === "false") return false;
  throw new EngineFault(400, "Bad Request", `Invalid boolean value '${s}' for '${name}'`);
}

export function num(n: XNode | undefined, name: string): number | undefined {
  const s = str(n, name);
  if (s === undefined || s === "") return undefined;
  const v = Number(s);
  if (!Number.isFinite(v)) throw new EngineFault(400, "Bad Request", `Invalid number '${s}' for '${name}'`);
  return v;
}

export interface Ref {
  id?: string;
  name?: string;
}

/** `<x id="..."/>` or `<x><name>..</name></x>` or `<x><id>..</id></x>`. */
export function ref(n: XNode | undefined, name: string): Ref | undefined {
  const c = child(n, name);
  if (!c) return undefined;
  const id = (c["@_id"] as string | undefined) ?? str(c, "id");
  const nm = str(c, "name");
  if (!id && !nm) return {};
  return { id: id || undefined, name: nm || undefined };
}

export function list(n: XNode | undefined, plural: string, singular: string): XNode[] {
  const c = child(n, plural);
  if (!c) return [];
  const v = c[singular];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === "object" && x ? (x as XNode) : ({ "#text": String(x) } as XNode)));
}
