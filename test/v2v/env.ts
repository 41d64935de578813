// One V2V test environment: vcsim (seeded), three real sshd proxy hosts (virt-v2v present / absent / installable
// with a stand-in dnf) authorized for the engine simulator's SSH key, and the engine simulator whose target data
// center has those hosts and a file (NFS) and a block (iSCSI) data domain. The simulator is the one test harness's
// (test/support/simulator.ts): admin calls, request counter and the wire-conformance check at close come from there.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineSshPublicKey } from "../../simulator/services/externalVmImports";
import { VSphereClient } from "../../lib/vsphere";
import { RunningSshd, startSshd } from "../support/sshd";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { RunningVcsim, SeededInventory, seedVcsim, startVcsim } from "../support/vcsim";

export interface V2vEnv {
  vc: RunningVcsim;
  inv: SeededInventory;
  sshd: { present: RunningSshd; absent: RunningSshd; installable: RunningSshd };
  sim: TestSimulator;
  simPassword: string;
  stateDir: string;
  engine: TestSimulator["engine"];
  close(): Promise<void>;
}

export async function startV2vEnv(opts: { bandwidthMiBps?: number } = {}): Promise<V2vEnv> {
  const vc = await startVcsim();
  const c = await VSphereClient.connect({ host: vc.host, username: vc.username, password: vc.password, tls: { fingerprint: vc.sha256 } });
  const inv = await seedVcsim(c);
  await c.logout();
  const [present, absent, installable] = await Promise.all([
    startSshd({ env: "present" }),
    startSshd({ env: "absent" }),
    startSshd({ env: "installable", packageManager: "dnf" }),
  ]);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "v2v-sim-"));
  // the engine's SSH key, authorized on every proxy host (what host-deploy does on a real engine)
  const engineKey = engineSshPublicKey(stateDir);
  for (const s of [present, absent, installable]) fs.appendFileSync(path.join(s.dir, "authorized_keys"), engineKey + "\n");
  const host = (name: string, s: RunningSshd) => ({ name, cluster: "cl-target", status: "up" as const, virtV2v: false, ssh: { host: s.host, port: s.port, user: s.username } });
  const simPassword = "sim-admin-pass";
  const sim = await startTestSimulator({
    stateDir,
    password: simPassword,
    bandwidthMiBps: opts.bandwidthMiBps ?? 512,
    // the simulator's own storage-domain transition pace (the harness's default is instantaneous), as before
    storageTransitionMs: 150,
    inventory: {
      dataCenters: [
        {
          name: "dc-other",
          clusters: [{ name: "cl-other", cpuArchitecture: "x86_64" }],
          hosts: [{ name: "host-other", cluster: "cl-other", status: "up", virtV2v: true }],
          storageDomains: [{ name: "data-other", type: "data", storageType: "nfs", sizeGiB: 100 }],
        },
        {
          name: "dc-target",
          clusters: [{ name: "cl-target", cpuArchitecture: "x86_64", cpuProfiles: ["gold"] }],
          hosts: [host("host-v2v", present), host("host-nov2v", absent), host("host-install", installable)],
          storageDomains: [
            { name: "data-target", type: "data", storageType: "nfs", sizeGiB: 200 },
            { name: "block-target", type: "data", storageType: "iscsi", sizeGiB: 200 },
          ],
        },
      ],
      exportDomains: [],
      templates: [],
      vms: [],
    } as any,
  });
  return {
    vc,
    inv,
    sshd: { present, absent, installable },
    sim,
    simPassword,
    stateDir,
    engine: sim.engine,
    async close() {
      try {
        // throws when XML the official API model does not know was exchanged (simulator/README.md, Wire conformance)
        await sim.close();
      } finally {
        await Promise.all([present.close(), absent.close(), installable.close(), vc.close()]);
        fs.rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/** Admin API of the simulator (JSON); throws on an error status. Shorthand for `env.sim.admin`. */
export const admin = (env: V2vEnv, method: string, p: string, body?: unknown): Promise<any> => env.sim.admin(method, p, body);

/** The progress URN of a V2VImport resource named `name` (ownership.ts derives the import's correlation id from it). */
export const v2vUrn = (name: string): string => `urn:pulumi:test::v2v::pulumi-nodejs:dynamic/ovirt:V2VImport::${name}`;

/** `proxySsh` inputs that reach one of the env's proxy hosts (its port, user, key and pinned host key). */
export function proxySshOf(s: RunningSshd): { port: number; user: string; privateKey: string; hostKey: string } {
  return { port: s.port, user: s.username, privateKey: s.privateKey, hostKey: s.hostKeyFingerprint };
}

/**
 * V2VImport inputs against this env: the seeded vCenter (pinned fingerprint; `proxySkipVerify: true` because vcsim's
 * certificate is self-signed and the simulated proxy host trusts only the system CAs: an explicit opt-in), target
 * cluster cl-target, domain data-target, proxy host host-v2v. `over` replaces fields, except `over.vcenter`, which
 * is merged into the vCenter block.
 */
export function v2vInputs(env: V2vEnv, over: Record<string, any> = {}): Record<string, any> {
  return {
    engine: env.engine,
    vcenter: {
      host: env.vc.host,
      datacenterPath: env.inv.datacenterPath,
      cluster: env.inv.cluster,
      esxiHost: env.inv.esxiHost,
      username: env.vc.username,
      password: env.vc.password,
      certificateFingerprint: env.vc.sha256,
      proxySkipVerify: true,
      ...(over.vcenter ?? {}),
    },
    cluster: "cl-target",
    storageDomain: "data-target",
    proxyHost: "host-v2v",
    ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== "vcenter")),
  };
}

/** Mocha hooks of a suite that shares one env: started before its tests, closed after; `set` receives it. */
export function withV2vEnv(set: (env: V2vEnv) => void, opts: { bandwidthMiBps?: number } = {}): void {
  let env: V2vEnv | undefined;
  before(async () => {
    env = await startV2vEnv(opts);
    set(env);
  });
  after(async () => env?.close());
}
