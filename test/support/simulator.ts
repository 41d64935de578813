// The one test harness for suites that need an engine simulator (simulator, provider, V2V, reliability suites): a
// temp state dir, a started simulator, a tiny XML/JSON client for the API and the admin API, and the connection
// arguments a provider resource takes:
//
//   const t = await startTestSimulator();            // default inventory, TLS, password "secret"
//   const r = await t.api("GET", "vms?search=name%3Dweb-01");
//   r.status, r.xml (parsed), r.text, r.headers
//   const disks = await t.admin("GET", "disks");     // or "/disks"
//   await checkAndCreate("VmExport", { engine: t.engine, ... });   // test/provider/helpers.ts
//   await t.resetRequests(); ...; await t.mutating() // mutating API requests counted by the simulator
//   await t.close();
//
//   withSimulator({ bandwidthMiBps: 50 }, (t) => { it(..., async () => { await t().api(...) }) });
//   freshSimulator({ inventory }, (t) => { ... });   // a new simulator for every test (independent of order)
//
// Wire conformance (simulator/README.md): every simulator started here runs with `wireCheck: "fail"`, so a request
// body with an element, attribute or enum value the official API model does not know answers 400 and a response the
// simulator would write so answers 500, failing the test that caused it; withSimulator also fails the test after
// which new violations are listed (GET /__admin/wire-violations: a 400/500 a client swallowed), and close() throws
// when any are left. A test that sends such XML on purpose takes them with `t.takeWireViolations()`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { XMLParser } from "fast-xml-parser";
import { RunningSimulator, SimulatorOptions, startSimulator } from "../../simulator";
import type { WireRecord } from "../../simulator/xml/wireCheck";

export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  xml: any;
}

/** The engine arguments of a provider resource (`engine` input) for this simulator, admin@internal. */
export interface EngineArgs {
  url: string;
  username: string;
  password: string;
  caFile: string;
}

export interface TestSimulator {
  sim: RunningSimulator;
  stateDir: string;
  password: string;
  /** connection arguments for the provider under test; follows reopen() (new port) */
  readonly engine: EngineArgs;
  token(): Promise<string>;
  api(method: string, p: string, body?: string, headers?: Record<string, string>): Promise<ApiReply>;
  /** raw request to any path of the server (no auth added) */
  raw(method: string, p: string, body?: string, headers?: Record<string, string>): Promise<ApiReply>;
  /** admin API call (JSON), `p` relative to /__admin with or without a leading slash; throws on 4xx/5xx */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  admin<T = any>(method: string, p: string, body?: unknown): Promise<T>;
  /** mutating requests to /ovirt-engine/api since the simulator started or the counter was last reset */
  mutating(): Promise<number>;
  resetRequests(): Promise<void>;
  /** waits until the job (by id) is no longer `started`; returns its final status */
  waitJob(jobId: string, timeoutMs?: number): Promise<string>;
  /** restarts a simulator on the same state dir (new port) */
  reopen(extra?: Partial<SimulatorOptions>): Promise<void>;
  /** wire-conformance violations recorded since the start or the last take, then forgotten */
  takeWireViolations(): Promise<WireRecord[]>;
  /** throws when wire-conformance violations are recorded (naming them), after forgetting them */
  assertNoWireViolations(context?: string): Promise<void>;
  /** closes the simulator; throws when wire-conformance violations are left */
  close(): Promise<void>;
}

/** One readable line per violation: direction, method, path, status and what the model says. */
export function formatWireViolations(v: WireRecord[]): string {
  return v
    .map((r) => `  ${r.direction} ${r.method} ${r.path}${r.status ? ` (${r.status})` : ""}: ${r.violations.map((x) => `${x.path}: ${x.detail}`).join("; ")}`)
    .join("\n");
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", parseTagValue: false });

export type TestSimOptions = Partial<SimulatorOptions> & { keepStateDir?: boolean };

export async function startTestSimulator(opts: TestSimOptions = {}): Promise<TestSimulator> {
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-sim-"));
  const password = opts.password ?? "secret";
  // storage-domain transitions are instantaneous here unless a suite asks for them (transitions.test.ts does)
  let sim = await startSimulator({ ...opts, storageTransitionMs: opts.storageTransitionMs ?? 0, storageOperationMs: opts.storageOperationMs ?? 0, wireCheck: opts.wireCheck ?? "fail", stateDir, password, port: opts.port ?? 0 });
  let agent = new Agent({ connect: sim.caFile ? { ca: fs.readFileSync(sim.caFile) } : {}, keepAliveTimeout: 10_000 });
  let cached: string | undefined;
  const origin = () => new URL(sim.url).origin;

  const raw = async (method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<ApiReply> => {
    const r = await request(origin() + p, { method: method as "GET", body, headers, dispatcher: agent });
    const text = await r.body.text();
    let xml: unknown;
    if (String(r.headers["content-type"] ?? "").includes("xml") && text) xml = parser.parse(text);
    return { status: r.statusCode, headers: r.headers, text, xml };
  };
  const carried: WireRecord[] = [];
  const takeWire = async (): Promise<WireRecord[]> => {
    const r = await raw("GET", "/__admin/wire-violations");
    if (r.status !== 200) throw new Error(`GET /__admin/wire-violations: ${r.status} ${r.text}`);
    const v = (JSON.parse(r.text) as { violations: WireRecord[] }).violations;
    if (v.length > 0) await raw("DELETE", "/__admin/wire-violations");
    return v;
  };
  const token = async () => {
    if (cached) return cached;
    const r = await raw("POST", "/ovirt-engine/sso/oauth/token", `grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=${encodeURIComponent(password)}`, {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
    cached = JSON.parse(r.text).access_token as string;
    return cached;
  };
  const t: TestSimulator = {
    get sim() {
      return sim;
    },
    get engine() {
      return { url: sim.url, username: "admin@internal", password, caFile: sim.caFile };
    },
    stateDir,
    password,
    token,
    raw,
    async api(method, p, body, headers = {}) {
      const h: Record<string, string> = { accept: "application/xml", version: "4", ...headers };
      if (body !== undefined) h["content-type"] = "application/xml";
      if (!("authorization" in h)) h.authorization = `Bearer ${await token()}`;
      let r = await raw(method, `/ovirt-engine/api${p ? "/" + p : ""}`, body, h);
      if (r.status === 401 && !("authorization" in headers)) {
        cached = undefined;
        h.authorization = `Bearer ${await token()}`;
        r = await raw(method, `/ovirt-engine/api${p ? "/" + p : ""}`, body, h);
      }
      return r;
    },
    async admin(method, p, body) {
      const r = await raw(method, `/__admin/${p.replace(/^\//, "")}`, body === undefined ? undefined : JSON.stringify(body), { "content-type": "application/json" });
      if (r.status >= 400) throw new Error(`admin ${method} ${p}: ${r.status} ${r.text}`);
      return r.text ? JSON.parse(r.text) : undefined;
    },
    async mutating() {
      return (await t.admin<{ mutating: number }>("GET", "requests")).mutating;
    },
    async resetRequests() {
      await t.admin("DELETE", "requests");
    },
    async waitJob(jobId, timeoutMs = 60_000) {
      const t0 = Date.now();
      for (;;) {
        const r = await t.api("GET", `jobs/${jobId}`);
        const st = r.xml?.job?.status;
        if (st && st !== "started") return st;
        if (Date.now() - t0 > timeoutMs) throw new Error(`job ${jobId} still ${st} after ${timeoutMs} ms`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async reopen(extra = {}) {
      // the violations of the simulator being closed are checked by the next takeWireViolations/close: keep them
      // (a test that stopped the simulator itself left nothing to ask)
      carried.push(...(await takeWire().catch(() => [])));
      await sim.close();
      await agent.close();
      sim = await startSimulator({ ...opts, storageTransitionMs: opts.storageTransitionMs ?? 0, storageOperationMs: opts.storageOperationMs ?? 0, wireCheck: opts.wireCheck ?? "fail", ...extra, stateDir, password, port: 0 });
      agent = new Agent({ connect: sim.caFile ? { ca: fs.readFileSync(sim.caFile) } : {} });
      cached = undefined;
    },
    takeWireViolations: async () => [...carried.splice(0), ...(await takeWire())],
    async assertNoWireViolations(context) {
      const v = await t.takeWireViolations();
      if (v.length > 0) throw new Error(`wire conformance${context ? ` (${context})` : ""}: XML the official API model does not know (simulator/README.md, Wire conformance):\n${formatWireViolations(v)}`);
    },
    async close() {
      let left: WireRecord[] = [];
      try {
        left = await t.takeWireViolations();
      } catch {
        // a simulator that no longer answers (a test stopped it) leaves nothing to check
      }
      await sim.close();
      await agent.close();
      if (!opts.keepStateDir && !opts.stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
      if (left.length > 0) throw new Error(`wire conformance: XML the official API model does not know was exchanged with this simulator (simulator/README.md, Wire conformance):\n${formatWireViolations(left)}`);
    },
  };
  return t;
}

/** Mocha helper: one simulator for the enclosing describe block. */
export function withSimulator(opts: TestSimOptions, body: (get: () => TestSimulator) => void): void {
  let t: TestSimulator | undefined;
  before(async function () {
    this.timeout(30_000);
    t = await startTestSimulator(opts);
  });
  // the test that exchanged XML the API model does not know fails here, even when its client swallowed the 400/500
  afterEach(async function () {
    if (!t) return;
    if (this.currentTest?.state !== "failed") return t.assertNoWireViolations(this.currentTest?.fullTitle());
    // the test failed already: its violations are shown with it rather than failing the next hook
    const v = await t.takeWireViolations().catch(() => []);
    if (v.length > 0) process.stderr.write(`wire conformance (${this.currentTest.fullTitle()}):\n${formatWireViolations(v)}\n`);
  });
  after(async () => {
    await t?.close();
  });
  body(() => {
    if (!t) throw new Error("simulator not started");
    return t;
  });
}

/**
 * Mocha helper: a new simulator for every test of the enclosing describe block, so that no test depends on what
 * an earlier one left in the engine (each `it` can run alone: scripts/testsAlone.ts). For suites whose tests each
 * change the inventory; a suite whose tests only read shares one with withSimulator.
 */
export function freshSimulator(opts: TestSimOptions, body: (get: () => TestSimulator) => void): void {
  let t: TestSimulator | undefined;
  beforeEach(async function () {
    this.timeout(30_000);
    t = await startTestSimulator(opts);
  });
  afterEach(async function () {
    const s = t;
    t = undefined;
    if (!s) return;
    if (this.currentTest?.state !== "failed") return s.close();
    // the test failed already: its violations are shown with it rather than failing the hook
    const v = await s.takeWireViolations().catch(() => []);
    if (v.length > 0) process.stderr.write(`wire conformance (${this.currentTest.fullTitle()}):\n${formatWireViolations(v)}\n`);
    await s.close();
  });
  body(() => {
    if (!t) throw new Error("simulator not started");
    return t;
  });
}

/** The simulator's disk report (GET /__admin/disks): every VM/template by data center and on export domains, with each disk's sha256. */
export async function diskReport(t: TestSimulator) {
  return t.admin<{
    vms: Array<{ id: string; name: string; dataCenter: string; status: string; disks: Array<{ id: string; alias: string; sizeBytes: number; sha256: string }> }>;
    templates: Array<{ id: string; name: string; dataCenter: string; disks: Array<{ id: string; sha256: string }> }>;
    exportDomains: Array<{ id: string; name: string; vms: Array<{ id: string; name: string; disks: Array<{ id: string; sha256: string }> }>; templates: Array<{ id: string; name: string; disks: Array<{ id: string; sha256: string }> }> }>;
  }>("GET", "disks");
}

/** Sorted sha256 list of an entry's disks (content identity independent of disk ids). */
export function shas(entry: { disks: Array<{ sha256: string }> } | undefined): string[] {
  return (entry?.disks ?? []).map((d) => d.sha256).sort();
}

/** Lists as arrays: fast-xml-parser gives an object for one child, an array for several, undefined for none. */
export function arr<T = any>(v: T | T[] | undefined): T[] {
  if (v === undefined || v === null || (v as unknown) === "") return [];
  return Array.isArray(v) ? v : [v];
}
