/**
 * Test support for the provider suites: a simulator per suite (via `startSimulator` of the simulator's
 * programmatic API, docs/design.md), admin API calls, and the engine args the resources take.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Agent, request } from "undici";
import { formatWireViolations } from "../support/simulator";

export const PASSWORD = "s3cret-Pa55word!";

export interface Sim {
  url: string;
  adminUrl: string;
  caFile: string;
  stateDir: string;
  close(): Promise<void>;
  admin<T = any>(method: string, p: string, body?: unknown): Promise<T>;
  /** mutating requests to /ovirt-engine/api since the counter was last reset */
  mutating(): Promise<number>;
  resetRequests(): Promise<void>;
  /** GET on the API with Basic auth, parsed as XML (for assertions independent of the client under test) */
  engine: { url: string; username: string; password: string; caFile: string };
}

export async function startSim(opts: { inventory?: unknown; tokenLifetimeSeconds?: number; bandwidthMiBps?: number; stateDir?: string } = {}): Promise<Sim> {
  const simMod = require(path.resolve(__dirname, "..", "..", "simulator"));
  const stateDir = opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-prov-"));
  const s = await simMod.startSimulator({
    port: 0,
    stateDir,
    password: PASSWORD,
    inventory: opts.inventory,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds,
    bandwidthMiBps: opts.bandwidthMiBps ?? 2000,
    // what the provider sends and the simulator writes is checked against the official API model: an unknown
    // element, attribute or enum value answers 400 (request) or 500 (response), and close() throws when any was seen
    wireCheck: "fail",
  });
  const ca = fs.readFileSync(s.caFile, "utf8");
  const agent = new Agent({ connect: { ca } });
  const admin = async (method: string, p: string, body?: unknown) => {
    const r = await request(`${s.adminUrl}${p}`, {
      method: method as any,
      dispatcher: agent,
      headers: body !== undefined ? { "content-type": "application/json" } : undefined,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.body.text();
    if (r.statusCode >= 400) throw new Error(`admin ${method} ${p}: ${r.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url: s.url,
    adminUrl: s.adminUrl,
    caFile: s.caFile,
    stateDir,
    engine: { url: s.url, username: "admin@internal", password: PASSWORD, caFile: s.caFile },
    admin,
    async mutating() {
      return (await admin("GET", "/requests")).mutating;
    },
    async resetRequests() {
      await admin("DELETE", "/requests");
    },
    async close() {
      const wire = await admin("GET", "/wire-violations").catch(() => undefined);
      await agent.close().catch(() => undefined);
      await s.close();
      if (wire?.violations?.length) {
        throw new Error(`wire conformance: XML the official API model does not know (simulator/README.md, Wire conformance):\n${formatWireViolations(wire.violations)}`);
      }
    },
  };
}

/** The admin disk report entry of a VM/template by name in a data center, or on the export domain. */
export async function diskReport(sim: Sim) {
  return sim.admin<{
    vms: Array<{ id: string; name: string; dataCenter: string; status: string; disks: Array<{ id: string; alias: string; sizeBytes: number; sha256: string }> }>;
    templates: Array<{ id: string; name: string; dataCenter: string; disks: Array<{ id: string; sha256: string }> }>;
    exportDomains: Array<{ id: string; name: string; vms: Array<{ id: string; name: string; disks: Array<{ id: string; sha256: string }> }>; templates: Array<{ id: string; name: string; disks: Array<{ id: string; sha256: string }> }> }>;
  }>("GET", "/disks");
}

/** Sorted sha256 list of a VM's disks (content identity independent of disk ids). */
export function shas(entry: { disks: Array<{ sha256: string }> } | undefined): string[] {
  return (entry?.disks ?? []).map((d) => d.sha256).sort();
}

export function providerOf(kind: string): any {
  const { getProvider } = require("../../provider");
  return getProvider(kind);
}

/** Runs a create through the provider after a check, like the engine does. */
export async function checkAndCreate(kind: string, inputs: any): Promise<{ id: string; outs: any }> {
  const p = providerOf(kind);
  const c = await p.check({}, inputs);
  if (c.failures?.length) throw new Error(`check failed: ${JSON.stringify(c.failures)}`);
  return p.create(c.inputs);
}
