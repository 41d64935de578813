// Wire-level conformance: walks an XML document against the official API model (apiModel.json, generated from the
// oVirt Python SDK by tools/wire-model/generate.py) and returns every element and attribute the model does not know
// for that type, with its path (/vm/disk_attachments/disk_attachment/foo, /vm/cpu/@href), and every enum value the
// model does not list. The simulator runs it on every request body and every response body under /ovirt-engine/api
// (server.ts); see simulator/README.md, "Wire conformance".
//
// What the engine writes and reads beyond the SDK's member lists comes from the engine's own schema, not from guesses:
// the restapi's hand-written api.xsd (backend/manager/modules/restapi/interface/definition/src/main/schema/api.xsd)
// is merged with the one the metamodel's SchemaGenerator (ovirt-engine-api-metamodel tool/SchemaGenerator.java)
// generates from the model, and the engine's JAXB classes come from that merged schema:
//   - every identified type (and Api: SchemaGenerator isRoot = `type.isExtension(identifiedType) || type == apiType`)
//     extends BaseResource: attributes href and id; elements actions (type Actions: `<link>` children), name,
//     description, comment, creation_status and any number of `<link href rel/>` (type Link: attributes href, rel);
//   - the collection of an identified type extends BaseResources: elements actions, size, total, active;
//   - any other type is a plain complexType of its members: its only attribute is an `id` member the model declares
//     (VolumeGroup, LogicalUnit, Vlan, Method: SchemaNames.isRepresentedAsAttribute puts id and href in attributes).
//     The SDK reads and writes `href` on every struct (its Struct base class), but the engine's schema declares href
//     only on BaseResource, so a href on e.g. `<cpu>` is reported.
import { XMLParser } from "fast-xml-parser";
import modelJson from "./apiModel.json";

export interface ElementSpec {
  /** one struct of this type */
  type?: string;
  /** a list of structs of this type, each in an `item` element */
  list?: string;
  /** a primitive: string, boolean, integer, decimal, date or enum */
  value?: string;
  /** a list of primitives, each in an `item` element */
  values?: string;
  enum?: string;
  item?: string;
}

export interface TypeSpec {
  tag: string;
  collectionTag: string | null;
  identified: boolean;
  sdkAttributes: string[];
  elements: Record<string, ElementSpec>;
}

export interface ApiModel {
  source: { package: string; version: string };
  roots: Record<string, { type?: string; list?: string; item?: string }>;
  types: Record<string, TypeSpec>;
  enums: Record<string, string[]>;
}

export const apiModel = modelJson as unknown as ApiModel;

export interface WireViolation {
  /** element path from the document root; attributes as `/@name` */
  path: string;
  kind: "element" | "attribute" | "value";
  /** what the model says at that place */
  detail: string;
}

/** api.xsd BaseResource: the members every identified type (and Api) has beyond its own. */
const BASE_RESOURCE_PRIMITIVES = new Set(["name", "description", "comment", "creation_status"]);
/** api.xsd BaseResources: the members of every collection of an identified type. */
const BASE_RESOURCES_PRIMITIVES = new Set(["size", "total", "active"]);
/** api.xsd Link: `<link href rel/>`. */
const LINK_ATTRIBUTES = new Set(["href", "rel"]);

type PNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function tagOf(n: PNode): string | undefined {
  return Object.keys(n).find((k) => k !== ":@" && k !== "#text" && k !== "#comment");
}
function childrenOf(n: PNode, tag: string): PNode[] {
  const c = n[tag];
  return Array.isArray(c) ? (c as PNode[]) : [];
}
function attrsOf(n: PNode): string[] {
  const a = n[":@"];
  return a && typeof a === "object" ? Object.keys(a as object) : [];
}
function textOf(n: PNode, tag: string): string {
  return childrenOf(n, tag)
    .filter((c) => "#text" in c)
    .map((c) => String(c["#text"]))
    .join("");
}

class Walker {
  readonly out: WireViolation[] = [];
  constructor(private readonly m: ApiModel) {}

  private bad(path: string, kind: WireViolation["kind"], detail: string): void {
    this.out.push({ path, kind, detail });
  }

  private isBaseResource(typeName: string): boolean {
    return !!this.m.types[typeName]?.identified || typeName === "Api";
  }

  private attributes(n: PNode, path: string, allowed: ReadonlySet<string>, what: string): void {
    for (const a of attrsOf(n)) if (!allowed.has(a)) this.bad(`${path}/@${a}`, "attribute", `${what} has no attribute '${a}'${allowed.size ? ` (known: ${[...allowed].join(", ")})` : ""}`);
  }

  private noChildren(n: PNode, tag: string, path: string, what: string): void {
    for (const c of childrenOf(n, tag)) {
      const t = tagOf(c);
      if (t) this.bad(`${path}/${t}`, "element", `${what} has no child elements`);
    }
  }

  primitive(n: PNode, tag: string, path: string, spec: { value?: string; values?: string; enum?: string }, kind: string): void {
    this.attributes(n, path, new Set(), `a ${kind} value`);
    this.noChildren(n, tag, path, `a ${kind} value`);
    if (spec.enum) {
      const v = textOf(n, tag);
      const values = this.m.enums[spec.enum] ?? [];
      if (v !== "" && !values.includes(v)) this.bad(path, "value", `'${v}' is not a value of ${spec.enum} (known: ${values.join(", ")})`);
    }
  }

  private link(n: PNode, path: string): void {
    this.attributes(n, path, LINK_ATTRIBUTES, "link");
    this.noChildren(n, "link", path, "link");
  }

  private actions(n: PNode, path: string): void {
    this.attributes(n, path, new Set(), "actions");
    for (const c of childrenOf(n, "actions")) {
      const t = tagOf(c);
      if (!t) continue;
      if (t === "link") this.link(c, `${path}/link`);
      else this.bad(`${path}/${t}`, "element", "actions holds only link elements");
    }
  }

  struct(n: PNode, tag: string, typeName: string, path: string): void {
    const spec = this.m.types[typeName];
    if (!spec) {
      this.bad(path, "element", `unknown type ${typeName}`);
      return;
    }
    const base = this.isBaseResource(typeName);
    this.attributes(n, path, new Set(base ? spec.sdkAttributes : spec.sdkAttributes.filter((a) => a !== "href")), typeName);
    for (const c of childrenOf(n, tag)) {
      const t = tagOf(c);
      if (!t) continue;
      const p = `${path}/${t}`;
      const e = spec.elements[t];
      if (e) this.element(c, t, e, p);
      else if (base && t === "link") this.link(c, p);
      else if (base && t === "actions") this.actions(c, p);
      else if (base && BASE_RESOURCE_PRIMITIVES.has(t)) this.primitive(c, t, p, {}, "string");
      else this.bad(p, "element", `${typeName} has no element '${t}'`);
    }
  }

  list(n: PNode, tag: string, typeName: string, item: string, path: string): void {
    const base = this.isBaseResource(typeName);
    this.attributes(n, path, new Set(), `a list of ${typeName}`);
    for (const c of childrenOf(n, tag)) {
      const t = tagOf(c);
      if (!t) continue;
      const p = `${path}/${t}`;
      if (t === item) this.struct(c, t, typeName, p);
      else if (base && t === "actions") this.actions(c, p);
      else if (base && BASE_RESOURCES_PRIMITIVES.has(t)) this.primitive(c, t, p, { value: "integer" }, "integer");
      else this.bad(p, "element", `a list of ${typeName} holds '${item}' elements`);
    }
  }

  element(n: PNode, tag: string, e: ElementSpec, path: string): void {
    if (e.type) this.struct(n, tag, e.type, path);
    else if (e.list) this.list(n, tag, e.list, e.item ?? "", path);
    else if (e.values) {
      this.attributes(n, path, new Set(), `a list of ${e.values}`);
      for (const c of childrenOf(n, tag)) {
        const t = tagOf(c);
        if (!t) continue;
        if (t === e.item) this.primitive(c, t, `${path}/${t}`, { value: e.values, enum: e.enum }, e.enum ?? e.values);
        else this.bad(`${path}/${t}`, "element", `a list of ${e.enum ?? e.values} holds '${e.item}' elements`);
      }
    } else this.primitive(n, tag, path, e, e.enum ?? e.value ?? "string");
  }
}

/** Checks one XML document; an empty list when every element and attribute is known to the model. */
export function checkXml(xml: string, model: ApiModel = apiModel): WireViolation[] {
  if (!xml.trim()) return [];
  let doc: PNode[];
  try {
    doc = parser.parse(xml) as PNode[];
  } catch {
    return []; // not well-formed: the XML reader answers that (400 Request syntactically incorrect)
  }
  const w = new Walker(model);
  for (const n of doc) {
    const t = tagOf(n);
    if (!t) continue;
    const r = model.roots[t];
    if (!r) w.out.push({ path: `/${t}`, kind: "element", detail: `'${t}' is not a document root of the API model` });
    else if (r.type) w.struct(n, t, r.type, `/${t}`);
    else if (r.list) w.list(n, t, r.list, r.item ?? "", `/${t}`);
  }
  return w.out;
}

/** One line per violation, for faults and logs. */
export function describeViolations(v: WireViolation[], max = 5): string {
  const head = v.slice(0, max).map((x) => `${x.path}: ${x.detail}`);
  return head.join("; ") + (v.length > max ? `; and ${v.length - max} more` : "");
}

/**
 * What the simulator does with a violation (SimulatorOptions.wireCheck):
 *   off     nothing is checked (not even what the engine itself refuses; for benchmarks only);
 *   record  (default) an unknown element in a request body is refused as the engine refuses it (400); everything
 *           else is recorded: GET /__admin/wire-violations;
 *   fail    also an unknown attribute or enum value in a request answers 400, and a response the simulator writes
 *           with anything unknown answers 500 (the test support runs every simulator so).
 */
export type WireCheckMode = "off" | "record" | "fail";

export const WIRE_CHECK_MODES: readonly WireCheckMode[] = ["off", "record", "fail"];

export interface WireRecord {
  direction: "request" | "response";
  method: string;
  /** the request path, e.g. /ovirt-engine/api/vms/123 */
  path: string;
  /** a request: 400 when it was refused (absent: recorded only); a response: the status sent (500 when replaced) */
  status?: number;
  violations: WireViolation[];
}

/** The violations seen since the start (or the last reset); the first 1000 are kept, all are counted. */
export class WireLog {
  private entries: WireRecord[] = [];
  private count = 0;
  constructor(public mode: WireCheckMode = "record") {}

  add(r: WireRecord): void {
    this.count++;
    if (this.entries.length < 1000) this.entries.push(r);
  }
  snapshot(since = 0): { mode: WireCheckMode; total: number; violations: WireRecord[] } {
    return { mode: this.mode, total: this.count, violations: this.entries.slice(since) };
  }
  reset(): void {
    this.entries = [];
    this.count = 0;
  }
}
