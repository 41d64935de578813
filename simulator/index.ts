// Programmatic entry point of the engine simulator: startSimulator() (contract in docs/design.md).
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type * as http from "node:http";
import { Engine } from "./engine";
import { Jobs } from "./jobs";
import { Router } from "./router";
import { SimServer, notifyJobEnd } from "./server";
import { Sso } from "./services/sso";
import { ensurePki, Pki } from "./services/pki";
import { FaultInjector } from "./faultInjection";
import { RequestLog } from "./requestLog";
import { makeAdmin } from "./admin";
import { AuditLog, auditFile } from "./audit";
import { WireCheckMode, WireLog, WIRE_CHECK_MODES } from "./xml/wireCheck";
import { Inventory, loadInventoryFile, validateInventory } from "./model/inventory";
import { seedState } from "./seed";
import { defaultInventory } from "./model/defaultInventory";
import { loadState, saveState } from "./model/store";
import { EngineState } from "./model/types";
import { overlayRecordsFor, writeOverlay } from "./storage/volumes";
import { resumeCopies } from "./storage/transfer";
import { volumePath } from "./storage/exportDomain";
import * as api from "./services/api";
import * as datacenters from "./services/datacenters";
import * as clusters from "./services/clusters";
import * as hosts from "./services/hosts";
import * as storageDomains from "./services/storageDomains";
import * as attached from "./services/attachedStorageDomains";
import * as vms from "./services/vms";
import * as templates from "./services/templates";
import * as contents from "./services/exportDomainContents";
import * as jobsSvc from "./services/jobs";
import * as events from "./services/events";
import * as disks from "./services/disks";
import * as external from "./services/externalVmImports";
import * as permissions from "./services/permissions";
import * as domains from "./services/domains";

export type { Inventory } from "./model/inventory";
export type { AuditEntry, AuditEntity } from "./audit";
export { defaultInventory } from "./model/defaultInventory";
export { getExternalVmImportHook, setExternalVmImportHook } from "./services/externalVmImports";
export type { ExternalVmImportHook } from "./services/externalVmImports";

/**
 * How long attach/activate/deactivate/detach block before they answer by default: a real engine answers them when
 * VDSM is done, tens of seconds later, so a client that expects an instant answer fails here too (tests that do not
 * test this pass 0: test/support/simulator.ts).
 */
export const DEFAULT_STORAGE_OPERATION_MS = 2000;

export interface SimulatorOptions {
  port?: number;
  host?: string;
  stateDir: string;
  password: string;
  inventory?: string | Inventory;
  tls?: boolean;
  tokenLifetimeSeconds?: number;
  /**
   * Throughput of every storage domain in MiB/s unless the inventory gives the domain its own (default 200). Shared by
   * all the copies that read or write the domain (an export reads the data domain and writes the export domain).
   */
  bandwidthMiBps?: number;
  /** Optional cap on each single disk copy in MiB/s, on top of the domains' shared throughput (absent or 0: no cap). */
  copyBandwidthMiBps?: number;
  engineName?: string;
  /**
   * Duration of each transitional storage-domain status in ms (attach: locked -> maintenance -> activating -> active;
   * activate: activating; deactivate: preparing_for_maintenance; detach: detaching). Default 150; 0 = instantaneous.
   */
  storageTransitionMs?: number;
  /**
   * How long an attach / activate / deactivate / detach request takes before it answers, in ms (default 0: it answers
   * at once and the domain then walks its transitional statuses, `storageTransitionMs` apart). Like the engine, whose
   * storage-domain commands run synchronously inside the REST call: meanwhile the domain shows the command's statuses
   * (attach: locked, maintenance, activating; deactivate: locked, preparing_for_maintenance; activate: activating;
   * detach: detaching), other operations on it get 409 "Related operation is currently in progress", and a client
   * that drops the connection does not stop it. Also `PUT /__admin/storage-operation {ms}`.
   */
  storageOperationMs?: number;
  /**
   * Bearer token every /__admin request must carry (`Authorization: Bearer <token>`, 401 otherwise). Required when
   * `host` is not a loopback address: the simulator refuses to start without one.
   */
  adminToken?: string;
  /**
   * How many times faster than real time the engine's clock-driven housekeeping runs (default 1). Today: the job
   * purge (JobRepositoryCleanupManager: finished jobs go 10 engine minutes after their end, failed/unknown ones after
   * 60, checked every 10), so 600 makes a finished job disappear 1-2 s after its end. Also `PUT /__admin/time-scale`.
   */
  timeScale?: number;
  /**
   * Wire conformance of every request and response body under /ovirt-engine/api against the official API model
   * (xml/wireCheck.ts, simulator/README.md "Wire conformance"): "record" (default) refuses a request body with an
   * unknown element (400, as the engine's XML reader does) and records everything else in
   * GET /__admin/wire-violations; "fail" also refuses unknown attributes and enum values (400) and answers 500 for a
   * response the simulator would write with anything unknown (the test support runs so); "off" checks nothing.
   */
  wireCheck?: WireCheckMode;
}

export interface RunningSimulator {
  url: string;
  adminUrl: string;
  caFile: string;
  port: number;
  close(): Promise<void>;
}

export function buildRouter(): Router {
  const r = new Router();
  for (const m of [api, datacenters, clusters, hosts, storageDomains, attached, vms, templates, contents, jobsSvc, events, disks, external, permissions, domains]) m.register(r);
  return r;
}

async function seed(stateDir: string, inv: Inventory, engineName: string): Promise<EngineState> {
  const { state, overlaysToWrite } = seedState(inv, { stateDir, engineName });
  for (const { sd, disk, vol } of overlaysToWrite) {
    await writeOverlay(volumePath(sd.root, disk.id, vol.id), disk.provisionedSize, overlayRecordsFor(`${disk.id}:${vol.id}`, disk.provisionedSize));
  }
  saveState(stateDir, state);
  return state;
}

function wireJobs(getEngine: () => Engine, jobs: Jobs, audit: AuditLog): void {
  jobs.startCleanup();
  jobs.onEnd.push(notifyJobEnd);
  jobs.onEnd.push((job) => audit.jobEnded(getEngine(), job));
  vms.registerCompensation(getEngine, jobs);
  templates.registerCompensation(getEngine, jobs);
  contents.registerCompensation(getEngine, jobs);
  jobs.compensators.set("external_import", (job, reason) => {
    const h = external.getExternalVmImportHook();
    h?.compensate?.({ engine: getEngine() }, job, reason);
  });
  // export/import copies are VDSM tasks: they outlive the engine and the command ends when they end (jobs.ts
  // finalizeAtStart); the simulator goes on with them from the plan kept in state.json
  for (const kind of ["export_vm", "export_template", "import_vm", "import_template"] as const) {
    jobs.resumers.set(kind, (job) => resumeCopies(getEngine(), jobs, job));
  }
  // work that ran in the simulator's own process and cannot be picked up again: the conversion of a V2V import runs
  // on the proxy host (virt-v2v), which the simulator plays in-process, so the restarted engine's ConvertVmCallback
  // finds no conversion job on the host and fails the import with its JOB_DOES_NOT_EXIST_MSG (endWithFailure removes
  // the VM); a snapshot's CreateVolume task would go on on a real SPM, here its command fails (README: known differences)
  jobs.lostAtStart.set("external_import", "Lost contact with the conversion process");
  jobs.lostAtStart.set("create_snapshot", "Engine was restarted while the job was running");
}

/** 127.0.0.0/8, ::1 (also as an IPv4-mapped address) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export async function startSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const host = opts.host ?? "127.0.0.1";
  if (opts.adminToken !== undefined && opts.adminToken.trim() === "") throw new Error("adminToken: an empty admin token is not allowed");
  if (!isLoopbackHost(host) && !opts.adminToken) {
    throw new Error(
      `the admin API (/__admin) would be reachable on ${host}, which is not a loopback address: set an admin token ` +
        "(adminToken option, --admin-token-file FILE or OVIRT_SIM_ADMIN_TOKEN) or bind to 127.0.0.1",
    );
  }
  const stateDir = path.resolve(opts.stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const engineName = opts.engineName ?? "engine";
  const eopts = {
    stateDir,
    password: opts.password,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 3600,
    bandwidthMiBps: opts.bandwidthMiBps ?? 200,
    copyBandwidthMiBps: opts.copyBandwidthMiBps || undefined,
    engineName,
    storageTransitionMs: opts.storageTransitionMs ?? 150,
    storageOperationMs: opts.storageOperationMs ?? DEFAULT_STORAGE_OPERATION_MS,
    timeScale: opts.timeScale ?? 1,
  };
  if (!(eopts.timeScale > 0) || !Number.isFinite(eopts.timeScale)) throw new Error("timeScale: a positive number is required");
  const audit = new AuditLog(auditFile(stateDir));
  let state = loadState(stateDir);
  if (!state) {
    const inv = typeof opts.inventory === "string" ? loadInventoryFile(opts.inventory) : (opts.inventory ?? defaultInventory);
    state = await seed(stateDir, inv, engineName);
  }
  // storage-domain commands the stop cut off are undone first (the engine's CommandCompensator runs before
  // finalizeJobs: attachedStorageDomains.ts compensateAtStart)
  attached.compensateAtStart(state);
  let engine = new Engine(eopts, state);
  let jobs = new Jobs(engine);
  wireJobs(() => engine, jobs, audit);
  // jobs found running in the persisted state: the engine was stopped under them (copies go on, task-less jobs
  // become `unknown`: jobs.ts finalizeAtStart)
  jobs.finalizeAtStart();
  attached.monitorAtStart(engine);
  engine.flush();

  const tls = opts.tls !== false;
  const pki: Pki | undefined = tls ? ensurePki(stateDir, engineName) : undefined;
  const sso = new Sso(opts.password, eopts.tokenLifetimeSeconds);
  const faults = new FaultInjector();
  const log = new RequestLog();
  if (opts.wireCheck !== undefined && !WIRE_CHECK_MODES.includes(opts.wireCheck)) throw new Error(`wireCheck: '${opts.wireCheck}' is not one of ${WIRE_CHECK_MODES.join(", ")}`);
  const wire = new WireLog(opts.wireCheck ?? "record");
  let down = false;
  let server: SimServer | undefined = undefined;

  const restart = async (downMs: number, keep?: http.IncomingMessage, failTasks?: string) => {
    down = true;
    server?.dropConnections(keep?.socket);
    await jobs.abortAll("Engine was restarted while the job was running");
    engine.dispose();
    engine.flush();
    sso.expireAll();
    const reloaded = loadState(stateDir)!;
    attached.compensateAtStart(reloaded);
    engine = new Engine(eopts, reloaded);
    jobs = new Jobs(engine);
    wireJobs(() => engine, jobs, audit);
    const r = jobs.finalizeAtStart({ failTasks });
    attached.monitorAtStart(engine);
    engine.flush();
    if (downMs > 0) setTimeout(() => (down = false), downMs);
    else down = false;
    return { resumedJobs: r.resumed, failedJobs: r.failed, unknownJobs: r.unknown };
  };

  const reseed = async (inv: Inventory) => {
    // a bad inventory is refused before anything is torn down
    validateInventory(inv, stateDir);
    await jobs.abortAll("Inventory replaced");
    engine.dispose();
    engine.flush();
    // forget the old inventory's storage under the state dir
    for (const sd of engine.state.storageDomains) {
      if (sd.root.startsWith(stateDir + path.sep)) await fsp.rm(sd.root, { recursive: true, force: true });
    }
    await fsp.rm(path.join(stateDir, "storage"), { recursive: true, force: true });
    const st = await seed(stateDir, inv, engineName);
    engine = new Engine(eopts, st);
    jobs = new Jobs(engine);
    wireJobs(() => engine, jobs, audit);
  };

  server = new SimServer(
    {
      getEngine: () => engine,
      getJobs: () => jobs,
      router: buildRouter(),
      sso,
      pki,
      faults,
      log,
      audit,
      admin: makeAdmin({ engine: () => engine, jobs: () => jobs, faults, log, audit, sso, restart, reseed, adminToken: opts.adminToken, wire }),
      isDown: () => down,
      wire,
    },
    tls,
  );
  const port = await server.listen(opts.port ?? 0, host);
  const scheme = tls ? "https" : "http";
  const hostPart = host.includes(":") ? `[${host}]` : host;
  let closed = false;
  return {
    url: `${scheme}://${hostPart}:${port}/ovirt-engine/api`,
    adminUrl: `${scheme}://${hostPart}:${port}/__admin`,
    caFile: pki?.caFile ?? "",
    port,
    async close() {
      if (closed) return;
      closed = true;
      await server!.close();
      await jobs.abortAll("Engine was stopped while the job was running");
      engine.dispose();
      engine.flush();
    },
  };
}
