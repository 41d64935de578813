// Admin API (JSON under /__admin on the same port; never under /ovirt-engine). See docs/design.md and README.md.
import type * as http from "node:http";
import * as crypto from "node:crypto";
import * as yaml from "js-yaml";
import { z } from "zod";
import { Engine } from "./engine";
import { Jobs } from "./jobs";
import { FaultInjector, FaultRulesSchema } from "./faultInjection";
import { RequestLog } from "./requestLog";
import { AuditLog } from "./audit";
import { Sso } from "./services/sso";
import { DiskRec, TemplateRec, VmRec } from "./model/types";
import { chainSha256, ChainLink } from "./storage/volumes";
import { bandwidthOptions, describeBandwidth } from "./storage/bandwidth";
import { exportedChain } from "./storage/contents";
import { readEntities } from "./storage/contents";
import { Inventory } from "./model/inventory";
import { volumePath, readVolumeMeta } from "./storage/exportDomain";
import { OvfEntity } from "./xml/ovf";
import { WireLog } from "./xml/wireCheck";
import { setStorageOperationMs, storageOperationMs } from "./services/attachedStorageDomains";

export interface AdminDeps {
  engine(): Engine;
  jobs(): Jobs;
  faults: FaultInjector;
  log: RequestLog;
  audit: AuditLog;
  sso: Sso;
  /** `failTasks`: the VDSM tasks of the jobs that carry them are reported failed with that reason after the restart */
  restart(downMs: number, keep?: http.IncomingMessage, failTasks?: string): Promise<{ resumedJobs: number; failedJobs: number; unknownJobs: number }>;
  reseed(inv: Inventory): Promise<void>;
  /** when set, every admin request needs `Authorization: Bearer <adminToken>` */
  adminToken?: string;
  /** wire-conformance violations (xml/wireCheck.ts) */
  wire?: WireLog;
}

/** Constant-time check of `Authorization: Bearer <token>`. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!m) return false;
  const a = crypto.createHash("sha256").update(m[1].trim()).digest();
  const b = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

const Power = z.object({ state: z.enum(["up", "down"]) });

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 1);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function parseBody(body: string): unknown {
  if (!body.trim()) return {};
  try {
    return JSON.parse(body);
  } catch {
    return yaml.load(body);
  }
}

async function sha(chain: ChainLink[] | undefined): Promise<string | null> {
  if (!chain) return null;
  try {
    return await chainSha256(chain);
  } catch {
    return null;
  }
}

async function diskReport(e: Engine, d: DiskRec) {
  let chain: ChainLink[] | undefined;
  try {
    chain = e.chainOf(d);
  } catch {
    chain = undefined;
  }
  return { id: d.id, alias: d.alias, sizeBytes: d.provisionedSize, volumes: d.volumes.length, status: d.status, sha256: await sha(chain) };
}

async function entityReport(e: Engine, x: VmRec | TemplateRec) {
  const disks = [];
  for (const d of x.disks) disks.push(await diskReport(e, d));
  return {
    id: x.id,
    name: x.name,
    dataCenter: e.dcOfCluster(x.clusterId)?.name,
    cluster: e.cluster(x.clusterId)?.name,
    status: x.status,
    templateId: "templateId" in x ? x.templateId : undefined,
    snapshots: "snapshots" in x ? x.snapshots.filter((s) => s.type !== "active").length : undefined,
    disks,
  };
}

/** Chain of an exported disk; a thin disk whose template is not on the export domain is read through the engine's template. */
function exportChain(e: Engine, root: string, sdRec: Parameters<typeof exportedChain>[0], x: OvfEntity, diskId: string): ChainLink[] | undefined {
  const c = exportedChain(sdRec, x, diskId);
  if (c) return c;
  const d = x.disks.find((k) => k.diskId === diskId);
  const first = d?.volumes[0];
  if (!d || !first?.parentDiskId) return undefined;
  const hit = e.findDisk(first.parentDiskId);
  if (!hit) return undefined;
  const base = e.chainOf(hit.disk);
  return [
    ...base,
    ...d.volumes.map((v) => ({ path: volumePath(root, diskId, v.id), kind: (readVolumeMeta(root, diskId, v.id)?.simKind ?? "overlay") as "base" | "overlay", size: d.provisionedSize })),
  ];
}

export function makeAdmin(d: AdminDeps) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams, body: string): Promise<void> => {
    const m = (req.method ?? "GET").toUpperCase();
    if (d.adminToken !== undefined && !bearerMatches(req.headers.authorization, d.adminToken)) {
      const text = JSON.stringify({ error: "admin token required: Authorization: Bearer <token>" });
      res.writeHead(401, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "WWW-Authenticate": 'Bearer realm="simulator-admin"' });
      res.end(text);
      return;
    }
    try {
      if (path === "/audit" && m === "GET") return send(res, 200, { entries: d.audit.list(Number(query.get("since") ?? 0) || 0) });
      if (path === "/audit" && m === "DELETE") {
        d.audit.reset();
        return send(res, 200, { ok: true });
      }
      if (path === "/requests" && m === "GET") return send(res, 200, d.log.snapshot(Number(query.get("since") ?? 0)));
      // wire conformance (xml/wireCheck.ts): what request and response bodies held that the API model does not know
      if (path === "/wire-violations" && m === "GET" && d.wire) return send(res, 200, d.wire.snapshot(Number(query.get("since") ?? 0) || 0));
      if (path === "/wire-violations" && m === "DELETE" && d.wire) {
        d.wire.reset();
        return send(res, 200, { ok: true });
      }
      if (path === "/requests" && m === "DELETE") {
        d.log.reset();
        return send(res, 200, { ok: true });
      }
      // fault rules (faultInjection.ts): PUT replaces the list, GET lists it with each rule's seen/hits counts
      if (path === "/faults" && m === "PUT") {
        const r = FaultRulesSchema.safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
        d.faults.set(r.data.rules);
        return send(res, 200, { rules: d.faults.list() });
      }
      if (path === "/faults" && m === "GET") return send(res, 200, { rules: d.faults.list() });
      if (path === "/faults" && m === "DELETE") {
        d.faults.clear();
        return send(res, 200, { ok: true });
      }
      // the former special endpoints are fault rules now
      if (path === "/fail-next-job" || /^\/vms\/[^/]+\/ignore-shutdown$/.test(path)) return send(res, 410, { error: `${path} was replaced by fault rules: PUT /__admin/faults with effect { jobFailure: { reason } } or { guest: "ignore-shutdown" } (simulator/README.md, "Fault injection")` });
      if (path === "/expire-tokens" && m === "POST") return send(res, 200, { expired: d.sso.expireAll() });
      if (path === "/token-lifetime" && m === "PUT") {
        const r = z.object({ seconds: z.number().positive() }).safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: "seconds: a positive number is required" });
        d.sso.tokenLifetimeSeconds = r.data.seconds;
        return send(res, 200, { seconds: r.data.seconds });
      }
      // a domain's throughput is shared by every copy reading or writing it (storage/bandwidth.ts); changes apply
      // from the next chunk of the copies already running too
      if (path === "/bandwidth" && m === "GET") return send(res, 200, describeBandwidth(d.engine()));
      if (path === "/bandwidth" && m === "PUT") {
        const r = z
          .object({ MiBps: z.number().positive().optional(), storageDomain: z.string().optional(), perCopyMiBps: z.number().nonnegative().nullable().optional() })
          .strict()
          .safeParse(parseBody(body));
        const usage = "MiBps: a positive number (the default throughput of a storage domain, or of storageDomain: a name or id); perCopyMiBps: a positive number caps each copy, 0 or null removes the cap";
        if (!r.success) return send(res, 400, { error: `${r.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}. Expected ${usage}` });
        if (r.data.MiBps === undefined && r.data.perCopyMiBps === undefined) return send(res, 400, { error: `neither MiBps nor perCopyMiBps given. Expected ${usage}` });
        if (r.data.storageDomain !== undefined && r.data.MiBps === undefined) return send(res, 400, { error: `storageDomain ${r.data.storageDomain} given without MiBps (the per-copy cap is not per domain). Expected ${usage}` });
        const e = d.engine();
        if (r.data.MiBps !== undefined && r.data.storageDomain !== undefined) {
          const sd = e.state.storageDomains.find((s) => s.name === r.data.storageDomain || s.id === r.data.storageDomain);
          if (!sd) return send(res, 404, { error: `storageDomain: no storage domain named or with id ${r.data.storageDomain} (known: ${e.state.storageDomains.map((s) => s.name).join(", ")})` });
          sd.bandwidthMiBps = r.data.MiBps;
        } else if (r.data.MiBps !== undefined) {
          e.opts.bandwidthMiBps = r.data.MiBps;
          for (const sd of e.state.storageDomains) sd.bandwidthMiBps = undefined;
        }
        if (r.data.perCopyMiBps !== undefined) bandwidthOptions(e).copyBandwidthMiBps = r.data.perCopyMiBps || undefined;
        e.markDirty();
        return send(res, 200, { ok: true, ...describeBandwidth(e) });
      }
      if (path === "/restart" && m === "POST") {
        // failRunning: the copies that would go on after the restart fail instead (reason: `reason`), e.g. the SPM
        // lost them; without it they go on and the jobs end when the copies end (jobs.ts finalizeAtStart)
        const r = z
          .object({ downMs: z.number().min(0).optional(), failRunning: z.boolean().optional(), reason: z.string().min(1).optional() })
          .safeParse(parseBody(body) ?? {});
        if (!r.success) return send(res, 400, { error: "downMs: a non-negative number; failRunning: true|false; reason: a text (all optional)" });
        const failTasks = r.data.failRunning ? (r.data.reason ?? "Engine was restarted while the job was running") : undefined;
        const out = await d.restart(r.data.downMs ?? 0, req, failTasks);
        return send(res, 200, { ok: true, ...out });
      }
      if (path === "/inventory" && (m === "POST" || m === "PUT")) {
        await d.reseed(parseBody(body) as Inventory);
        return send(res, 200, { ok: true });
      }
      const pm = /^\/vms\/([^/]+)\/power$/.exec(path);
      if (pm && m === "POST") {
        const r = Power.safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: "state: up|down is required" });
        const e = d.engine();
        const name = decodeURIComponent(pm[1]);
        const vm = e.state.vms.find((v) => v.name === name || v.id === name);
        if (!vm) return send(res, 404, { error: `no VM ${name}` });
        if (vm.lockJobId) return send(res, 409, { error: `VM ${name} is locked by job ${vm.lockJobId}` });
        const wasRunning = vm.status !== "down";
        vm.status = r.data.state;
        vm.hostId = r.data.state === "up" ? e.state.hosts.find((h) => h.clusterId === vm.clusterId && h.status === "up")?.id : undefined;
        // run history as the engine records it (CreateVDSCommand / ResourceManager.internalSetVmStatus)
        if (r.data.state === "up" && !wasRunning) vm.startTime = new Date().toISOString();
        if (r.data.state === "down" && wasRunning) vm.stopTime = new Date().toISOString();
        e.markDirty();
        return send(res, 200, { name: vm.name, status: vm.status });
      }
      // the engine's housekeeping clock (job purge, JobRepositoryCleanupManager): N times faster than real time
      if (path === "/time-scale" && m === "GET") return send(res, 200, { scale: d.engine().opts.timeScale ?? 1 });
      if (path === "/time-scale" && m === "PUT") {
        const r = z.object({ scale: z.number().positive().finite() }).safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: "scale: a positive number is required" });
        d.engine().opts.timeScale = r.data.scale;
        d.jobs().startCleanup(); // the next run one (scaled) period from now
        return send(res, 200, { scale: r.data.scale });
      }
      if (path === "/purge-jobs" && m === "POST") return send(res, 200, { purged: d.jobs().purgeCompleted() });
      if (path === "/storage-transition" && m === "PUT") {
        const r = z.object({ ms: z.number().min(0) }).safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: "ms: a non-negative number is required" });
        d.engine().opts.storageTransitionMs = r.data.ms;
        return send(res, 200, { ms: r.data.ms });
      }
      // how long attach/activate/deactivate/detach take before they answer (services/attachedStorageDomains.ts)
      if (path === "/storage-operation" && m === "GET") return send(res, 200, { ms: storageOperationMs(d.engine()) });
      if (path === "/storage-operation" && m === "PUT") {
        const r = z.object({ ms: z.number().min(0).finite() }).safeParse(parseBody(body));
        if (!r.success) return send(res, 400, { error: "ms: a non-negative number is required" });
        setStorageOperationMs(d.engine(), r.data.ms);
        return send(res, 200, { ms: r.data.ms });
      }
      if (path === "/disks" && m === "GET") {
        const e = d.engine();
        const vms = [];
        for (const v of e.state.vms) vms.push(await entityReport(e, v));
        const templates = [];
        for (const t of e.state.templates) templates.push(await entityReport(e, t));
        const exportDomains = [];
        for (const sd of e.state.storageDomains.filter((s) => s.type === "export")) {
          const ents = async (kind: "vm" | "template") => {
            const out = [];
            for (const x of readEntities(sd, kind)) {
              const disks = [];
              for (const dk of x.disks) disks.push({ id: dk.diskId, alias: dk.alias, sizeBytes: dk.provisionedSize, volumes: dk.volumes.length, sha256: await sha(exportChain(e, sd.root, sd, x, dk.diskId)) });
              out.push({ id: x.id, name: x.name, templateId: x.templateId, snapshots: x.snapshots.filter((s) => s.type !== "active").length, disks });
            }
            return out;
          };
          exportDomains.push({ id: sd.id, name: sd.name, dataCenter: e.dc(sd.dataCenterId)?.name, status: sd.status ?? "unattached", path: sd.exportPath, vms: await ents("vm"), templates: await ents("template") });
        }
        return send(res, 200, { vms, templates, exportDomains });
      }
      if (path === "/stats" && m === "GET") {
        const e = d.engine();
        // jobs the engine purged are still reported here (with purgedMs), after the ones it still lists
        return send(res, 200, {
          busyMs: e.busyMs(),
          jobs: [
            ...(e.state.purgedJobs ?? []),
            ...e.state.jobs.map((j) => ({ id: j.id, kind: j.kind, description: j.description, status: j.status, correlationId: j.correlationId, startMs: j.startMs, endMs: j.endMs ?? null, bytes: j.bytes, failureReason: j.failureReason ?? null })),
          ],
        });
      }
      if (path === "/hosts" && m === "GET") {
        const e = d.engine();
        return send(res, 200, { hosts: e.state.hosts.map((h) => ({ id: h.id, name: h.name, cluster: e.cluster(h.clusterId)?.name, dataCenter: e.dcOfCluster(h.clusterId)?.name, status: h.status, virtV2v: h.virtV2v, ssh: h.ssh ?? null })) });
      }
      if (path === "/state" && m === "GET") {
        const e = d.engine();
        return send(res, 200, { engineId: e.state.engineId, engineName: e.state.engineName, stateDir: e.opts.stateDir, runningJobs: d.jobs().runningJobs().length, vms: e.state.vms.length, templates: e.state.templates.length });
      }
      return send(res, 404, { error: `no admin endpoint ${m} ${path}` });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // a bad inventory (schema, paths) is the caller's error; anything else is a simulator bug: no details out
      if (/^invalid inventory/.test(msg)) return send(res, 400, { error: msg });
      const requestId = crypto.randomUUID();
      process.stderr.write(`simulator: internal error (request id ${requestId}) on admin ${m} ${path}: ${err instanceof Error ? err.stack : msg}\n`);
      return send(res, 500, { error: "internal error", requestId });
    }
  };
}
