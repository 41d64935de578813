// Audit log for /__admin/audit: every mutating request to /ovirt-engine/api (not GET/HEAD, not SSO) with the
// entities it addressed, created or removed, plus the asynchronous effects of jobs (an import job that ends creates
// or removes its VM/template, an export job creates the copy on the export domain) as entries of their own
// (method "JOB"). Shape and rules: simulator/README.md "Audit log". Kept in memory and appended to
// <stateDir>/audit.jsonl, so it survives restarts of the simulator process.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Engine } from "./engine";
import type { Reply } from "./router";
import type { JobRec } from "./model/types";
import type { XNode } from "./xml/xml";
import { readEntity } from "./storage/contents";

export type AuditKind =
  | "vm" | "template" | "disk" | "storagedomain" | "exportcopy" | "permission" | "datacenter" | "cluster" | "host" | "job"
  | "externalvmimport";
export type AuditRole = "target" | "created" | "removed" | "source" | "parent";

export interface AuditEntity {
  kind: AuditKind;
  id: string;
  name?: string;
  role: AuditRole;
}

export interface AuditEntry {
  seq: number;
  /** epoch ms when the answer was sent (requests) or the job ended (JOB entries) */
  at: number;
  method: string;
  path: string;
  /** HTTP status answered (0: connection reset by an injected fault); JOB entries: 200 finished, 500 failed */
  status: number;
  correlationId: string;
  action: string;
  entities: AuditEntity[];
}

type Pending = Omit<AuditEntry, "seq" | "at">;

const API_PREFIX = "/ovirt-engine/api";
const MAX_ENTRIES = 100_000;

/** Collections whose items are audit entities, by URL segment. */
const KIND_OF: Record<string, AuditKind> = {
  vms: "vm",
  templates: "template",
  disks: "disk",
  storagedomains: "storagedomain",
  datacenters: "datacenter",
  clusters: "cluster",
  hosts: "host",
  jobs: "job",
  permissions: "permission",
  externalvmimports: "externalvmimport",
};
/** Sub-collection names of the API (not action verbs), whether or not their items are audit entities. */
const COLLECTIONS = new Set([
  ...Object.keys(KIND_OF), "snapshots", "nics", "diskattachments", "cpuprofiles", "steps", "tags", "events", "roles",
  "users", "groups", "networks", "affinitygroups", "affinitylabels", "graphicsconsoles", "cdroms", "watchdogs",
  "hostdevices", "statistics", "applications", "reporteddevices", "katelloerrata", "permits", "sessions", "quotas",
]);

interface Seg {
  coll: string;
  id?: string;
}

/** `vms/ID/export` -> chain [{vms, ID}], verb "export". */
function parsePath(apiPath: string): { chain: Seg[]; verb?: string } {
  const segs = apiPath
    .split("/")
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s.split(";")[0]);
      } catch {
        return s.split(";")[0];
      }
    });
  if (segs[0] === "v4") segs.shift();
  const chain: Seg[] = [];
  let verb: string | undefined;
  for (let i = 0; i < segs.length; i += 2) {
    const coll = segs[i];
    if (chain.length && chain[chain.length - 1].id && i === segs.length - 1 && !COLLECTIONS.has(coll)) {
      verb = coll;
      break;
    }
    chain.push({ coll, id: segs[i + 1] });
  }
  return { chain, verb };
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

/** `<storage_domain id="..">` / `<storage_domain><name>..` of a body (root or child). */
function sdRefOf(body: { root: string; node: XNode } | undefined): { id?: string; name?: string } | undefined {
  if (!body) return undefined;
  const n = body.root === "storage_domain" ? body.node : (body.node.storage_domain as XNode | undefined);
  if (!n || typeof n !== "object") return undefined;
  const text = (v: unknown) => (typeof v === "string" ? v : v && typeof v === "object" ? ((v as XNode)["#text"] as string | undefined) : undefined);
  const id = (n["@_id"] as string | undefined) ?? text(n.id);
  const name = text(n.name);
  return id || name ? { id: id || undefined, name: name || undefined } : undefined;
}

export class AuditLog {
  private entries: AuditEntry[] = [];
  private seq = 0;
  private linesInFile = 0;
  /** names of entities seen, for removals whose entity is already gone when they are recorded */
  private names = new Map<string, string>();
  /** correlation id -> requests under way with it; job entries of such an id wait until they are recorded */
  private inFlight = new Map<string, number>();
  private deferred = new Map<string, Pending[]>();

  constructor(private readonly file?: string) {
    if (!file) return;
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        this.entries.push(e);
        this.linesInFile++;
        if (e.seq > this.seq) this.seq = e.seq;
      } catch {
        // a torn last line (killed while appending) is skipped
      }
    }
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  list(since = 0): AuditEntry[] {
    return this.entries.filter((e) => e.seq > since);
  }

  /** Empties the log (the sequence keeps counting, so `since` pollers stay correct). */
  reset(): void {
    this.entries = [];
    this.deferred.clear();
    if (this.file) {
      fs.writeFileSync(this.file, "");
      this.linesInFile = 0;
    }
  }

  private append(p: Pending): void {
    for (const en of p.entities) if (en.name) this.names.set(`${en.kind}:${en.id}`, en.name);
    const e: AuditEntry = { seq: ++this.seq, at: Date.now(), ...p };
    this.entries.push(e);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    if (this.file) {
      try {
        if (this.linesInFile >= 2 * MAX_ENTRIES) {
          fs.writeFileSync(this.file, this.entries.map((x) => JSON.stringify(x) + "\n").join(""));
          this.linesInFile = this.entries.length;
        } else {
          fs.appendFileSync(this.file, JSON.stringify(e) + "\n");
          this.linesInFile++;
        }
      } catch (err) {
        process.stderr.write(`audit: cannot write ${this.file}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }

  private nameOf(kind: AuditKind, id: string): string | undefined {
    return this.names.get(`${kind}:${id}`);
  }

  /**
   * Starts the entry of a mutating API request: looks the addressed entities up now (a DELETE removes them).
   * `complete()` records it with the status answered and what the answer created.
   */
  begin(engine: Engine, method: string, fullPath: string, correlationId: string, body?: { root: string; node: XNode }): AuditRequest {
    this.inFlight.set(correlationId, (this.inFlight.get(correlationId) ?? 0) + 1);
    return new AuditRequest(this, engine, method, fullPath, correlationId, body);
  }

  /** @internal: called by AuditRequest.complete */
  recordRequest(p: Pending): void {
    this.append(p);
    const n = (this.inFlight.get(p.correlationId) ?? 1) - 1;
    if (n > 0) {
      this.inFlight.set(p.correlationId, n);
      return;
    }
    this.inFlight.delete(p.correlationId);
    const waiting = this.deferred.get(p.correlationId);
    this.deferred.delete(p.correlationId);
    for (const w of waiting ?? []) this.append(w);
  }

  /** The asynchronous effect of a job that ended (Jobs.onEnd, after the failure path ran). */
  jobEnded(engine: Engine, job: JobRec): void {
    const ok = job.status === "finished";
    const entities: AuditEntity[] = [{ kind: "job", id: job.id, name: job.description, role: "target" }];
    let action: string;
    const entity = (kind: "vm" | "template", id: string | undefined) => {
      if (!id) return undefined;
      const rec = kind === "vm" ? engine.vm(id) : engine.template(id);
      return { rec, name: rec?.name ?? this.nameOf(kind, id) };
    };
    switch (job.kind) {
      case "import_vm":
      case "import_template":
      case "external_import": {
        action = "import";
        const kind = job.kind === "import_template" ? "template" : "vm";
        const id = kind === "vm" ? job.vmId : job.templateId;
        const x = entity(kind, id);
        if (x && id) {
          // ImportVmCommand.endSuccessfully: the VM is complete; endWithFailure: the half-made VM is removed
          if (ok && x.rec) entities.push({ kind, id, name: x.name, role: "created" });
          else if (!ok && !x.rec) entities.push({ kind, id, name: x.name, role: "removed" });
          else entities.push({ kind, id, name: x.name, role: "target" });
        }
        break;
      }
      case "export_vm":
      case "export_template": {
        action = "export";
        const kind = job.kind === "export_vm" ? "vm" : "template";
        const id = kind === "vm" ? job.vmId : job.templateId;
        const x = entity(kind, id);
        const sd = engine.sd(job.storageDomainIds[0]);
        if (id) entities.push({ kind, id, name: x?.name, role: "source" });
        if (sd) {
          if (ok && id) entities.push({ kind: "exportcopy", id: `${sd.id}:${kind}:${id}`, name: x?.name, role: "created" });
          entities.push({ kind: "storagedomain", id: sd.id, name: sd.name, role: "parent" });
        }
        break;
      }
      case "create_snapshot": {
        action = "add";
        const x = entity("vm", job.vmId);
        if (job.vmId) entities.push({ kind: "vm", id: job.vmId, name: x?.name, role: "parent" });
        break;
      }
      default:
        return;
    }
    const p: Pending = { method: "JOB", path: `${API_PREFIX}/jobs/${job.id}`, status: ok ? 200 : 500, correlationId: job.correlationId, action, entities };
    if (this.inFlight.has(job.correlationId)) {
      // the request that started the job has not answered yet (async=false): its entry goes first
      const list = this.deferred.get(job.correlationId) ?? [];
      list.push(p);
      this.deferred.set(job.correlationId, list);
    } else this.append(p);
  }
}

/** One mutating request between its arrival and its answer. */
export class AuditRequest {
  private readonly chain: Seg[];
  private readonly verb?: string;
  private readonly before: AuditEntity[] = [];
  readonly action: string;
  private done = false;
  /** kind of an export copy addressed by the URL (storagedomains/{sd}/vms|templates/{id}) */
  private copyKind?: "vm" | "template";

  constructor(
    private readonly log: AuditLog,
    private readonly engine: Engine,
    private readonly method: string,
    private readonly fullPath: string,
    private readonly correlationId: string,
    private readonly body?: { root: string; node: XNode },
  ) {
    const apiPath = fullPath === API_PREFIX ? "" : fullPath.slice(API_PREFIX.length);
    const { chain, verb } = parsePath(apiPath);
    this.chain = chain;
    this.verb = verb;
    this.action = this.actionName();
    try {
      this.describe();
    } catch {
      // an entity that cannot be looked up is left out; the request is still recorded
    }
  }

  private actionName(): string {
    if (this.verb) return this.verb;
    const last = this.chain[this.chain.length - 1];
    const parent = this.chain[this.chain.length - 2];
    if (this.method === "POST") {
      if (last?.coll === "storagedomains" && !last.id && parent?.coll === "datacenters") return "attach";
      if (last?.coll === "storagedomains" && !last.id && this.chain.length === 1) {
        const imp = this.body?.node?.import;
        const v = typeof imp === "string" ? imp : (imp as XNode | undefined)?.["#text"];
        if (String(v ?? "").trim().toLowerCase() === "true") return "import";
      }
      if (last?.coll === "externalvmimports" && !last.id) return "import";
      return "add";
    }
    if (this.method === "PUT") return "update";
    if (this.method === "DELETE") return last?.coll === "storagedomains" && last.id && parent?.coll === "datacenters" ? "detach" : "remove";
    return this.method.toLowerCase();
  }

  private name(kind: AuditKind, id: string): string | undefined {
    const e = this.engine;
    switch (kind) {
      case "vm":
        return e.vm(id)?.name;
      case "template":
        return e.template(id)?.name ?? (id === "00000000-0000-0000-0000-000000000000" ? "Blank" : undefined);
      case "storagedomain":
        return e.sd(id)?.name;
      case "datacenter":
        return e.dc(id)?.name;
      case "cluster":
        return e.cluster(id)?.name;
      case "host":
        return e.host(id)?.name;
      case "job":
        return e.state.jobs.find((j) => j.id === id)?.description;
      case "disk":
        return e.findDisk(id)?.disk.alias;
      default:
        return undefined;
    }
  }

  private ent(kind: AuditKind, id: string, role: AuditRole, name?: string): AuditEntity {
    const n = name ?? this.name(kind, id);
    return n === undefined ? { kind, id, role } : { kind, id, name: n, role };
  }

  private resolveSd(ref: { id?: string; name?: string } | undefined) {
    if (!ref) return undefined;
    return ref.id ? this.engine.sd(ref.id) ?? { id: ref.id, name: undefined } : this.engine.state.storageDomains.find((s) => s.name === ref.name);
  }

  /** Entities addressed by the URL (and body), looked up before the request runs. */
  private describe(): void {
    const c = this.chain;
    const out = this.before;
    // a copy on an export domain: storagedomains/{sd}/vms|templates/{id}[/import|register]
    if (c.length === 2 && c[0].coll === "storagedomains" && c[0].id && (c[1].coll === "vms" || c[1].coll === "templates") && c[1].id) {
      const kind = c[1].coll === "vms" ? "vm" : "template";
      this.copyKind = kind;
      const sd = this.engine.sd(c[0].id);
      let copyName: string | undefined;
      if (sd?.type === "export") {
        try {
          copyName = readEntity(sd, kind, c[1].id)?.name;
        } catch {
          copyName = undefined;
        }
      }
      out.push({ kind: "exportcopy", id: `${c[0].id}:${kind}:${c[1].id}`, ...(copyName ? { name: copyName } : {}), role: "target" });
      out.push(this.ent("storagedomain", c[0].id, "parent"));
      return;
    }
    // export of a VM/template: the VM is the source; the new copy is created on the export domain
    if (this.verb === "export" && c.length === 1 && (c[0].coll === "vms" || c[0].coll === "templates") && c[0].id) {
      const kind = c[0].coll === "vms" ? "vm" : "template";
      out.push(this.ent(kind, c[0].id, "source"));
      return;
    }
    // attach: POST datacenters/{dc}/storagedomains with the domain in the body
    if (this.action === "attach") {
      const sd = this.resolveSd(sdRefOf(this.body));
      if (sd) out.push(this.ent("storagedomain", sd.id, "target", sd.name));
      out.push(this.ent("datacenter", c[0].id!, "parent"));
      return;
    }
    // generic: the last addressed item is the target, the items above it are parents
    const last = c[c.length - 1];
    for (const s of c) {
      const kind = KIND_OF[s.coll];
      if (!kind || !s.id) continue;
      out.push(this.ent(kind, s.id, s === last ? "target" : "parent"));
    }
  }

  /** Records the request with the status it was answered. */
  complete(status: number, reply?: Reply): void {
    if (this.done) return;
    this.done = true;
    const entities = [...this.before];
    if (isOk(status)) {
      try {
        entities.push(...this.effects(reply));
      } catch {
        // effects that cannot be worked out are left out
      }
    }
    this.log.recordRequest({ method: this.method, path: this.fullPath, status, correlationId: this.correlationId, action: this.action, entities });
  }

  /** What a successful answer created or removed. */
  private effects(reply?: Reply): AuditEntity[] {
    const c = this.chain;
    const out: AuditEntity[] = [];
    const last = c[c.length - 1];
    const content = (reply?.content ?? {}) as XNode;
    const replyId = (x: unknown) => (x && typeof x === "object" ? ((x as XNode)["@_id"] as string | undefined) : undefined);
    if (this.copyKind) {
      if (this.method === "DELETE") {
        const t = this.before[0];
        out.push({ ...t, role: "removed" });
      }
      if (this.verb === "import") {
        // ImportVmCommand adds the VM row at once (addVmToDb in executeVmCommand): created on the answer
        const jobId = replyId(content.job);
        const job = jobId ? this.engine.state.jobs.find((j) => j.id === jobId) : undefined;
        const id = this.copyKind === "vm" ? job?.vmId : job?.templateId;
        if (id) out.push(this.ent(this.copyKind, id, "created"));
      }
      return out;
    }
    if (this.verb === "export" && c.length === 1) {
      const kind = c[0].coll === "vms" ? "vm" : "template";
      const sd = this.resolveSd(sdRefOf(this.body));
      if (sd && c[0].id) {
        out.push({ kind: "exportcopy", id: `${sd.id}:${kind}:${c[0].id}`, ...(this.before[0]?.name ? { name: this.before[0].name } : {}), role: "created" });
        out.push(this.ent("storagedomain", sd.id, "parent", sd.name));
      }
      return out;
    }
    if (this.action === "attach" || this.action === "detach") return out;
    if (this.method === "DELETE" && last?.id && KIND_OF[last.coll]) {
      const t = this.before.find((e) => e.role === "target");
      if (t) out.push({ ...t, role: "removed" });
      return out;
    }
    if (this.method === "POST" && last && !last.id) {
      if (last.coll === "externalvmimports") {
        const id = replyId(content.vm);
        if (id) out.push(this.ent("vm", id, "created"));
        return out;
      }
      const kind = KIND_OF[last.coll];
      const id = replyId(content);
      if (kind && id) {
        // a storage domain added or imported is also what the request addressed
        if (kind === "storagedomain") out.push(this.ent(kind, id, "target"));
        out.push(this.ent(kind, id, "created"));
      }
    }
    return out;
  }
}

export function auditFile(stateDir: string): string {
  return path.join(stateDir, "audit.jsonl");
}
