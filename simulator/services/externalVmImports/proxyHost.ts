// The proxy host of an external import: which host converts (the one named, or one the engine picks in the target
// data center), and whether it has virt-v2v (over SSH with the engine's own key, else the host's `virtV2v` flag).
//
// Followed (ovirt-engine, read, not copied): ImportVmFromExternalProviderCommand.validate (the proxy host in the
// destination pool, of a supported architecture, up; without one, some up host of the pool is chosen); host-deploy
// (the engine's SSH key engine_id_rsa on every host, the host's key fingerprint stored at first contact).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { utils } from "ssh2";
import { Ctx } from "../../router";
import { EngineFaults, backend } from "../../engineFaults";
import { Engine } from "../../engine";
import { HostRec } from "../../model/types";
import { ref } from "../../xml/xml";
import * as ph from "../../../lib/proxyHost";
import { ImportRequest, OP } from "./request";

/** The host the request names (id, or name looked up in the target cluster first), checked; else one chosen. */
export function chooseProxyHost(ctx: Ctx, req: ImportRequest): HostRec {
  const { cl, dc } = req;
  let proxy = hostByRef(ctx, ref(req.n, "host"), cl.id);
  const inDc = (h: HostRec) => ctx.engine.dcOfCluster(h.clusterId)?.id === dc.id;
  if (proxy) {
    if (!inDc(proxy)) throw backend(400, `${OP}. The selected proxy Host must be in the destination Storage Pool.`);
    const pcl = ctx.engine.cluster(proxy.clusterId);
    if (pcl && pcl.cpuArchitecture !== "x86_64") {
      throw backend(400, `${OP}. Host ${proxy.name} cannot serve as proxy. Verify its cluster architecture and compatibility version are supported.`);
    }
    if (proxy.status !== "up") throw EngineFaults.vdsStatusIllegal("import", "VM", "up");
  } else {
    // hosts known to have virt-v2v first, then hosts reachable over SSH (checked by requireVirtV2v)
    const candidates = ctx.engine.state.hosts.filter((h) => inDc(h) && h.status === "up" && ctx.engine.cluster(h.clusterId)?.cpuArchitecture === "x86_64");
    proxy = candidates.find((h) => h.virtV2v && !h.ssh) ?? candidates.find((h) => h.ssh);
    if (!proxy) throw backend(409, `${OP}. No Host in Data Center ${dc.name} can serve as proxy.`);
  }
  return proxy;
}

function hostByRef(ctx: Ctx, r: { id?: string; name?: string } | undefined, clusterId: string): HostRec | undefined {
  if (!r) return undefined;
  const hosts = ctx.engine.state.hosts;
  if (r.id) {
    const h = hosts.find((x) => x.id === r.id);
    if (!h) throw EngineFaults.entityNotFound("Host", `id=${r.id}`);
    return h;
  }
  if (r.name) {
    // the engine looks a host name up in the cluster first, then everywhere
    const h = hosts.find((x) => x.name === r.name && x.clusterId === clusterId) ?? hosts.find((x) => x.name === r.name);
    if (!h) throw EngineFaults.entityNotFound("Host", `name=${r.name}`);
    return h;
  }
  return undefined;
}

/** A proxy without virt-v2v refuses the import (409) with event 1187. */
export async function requireVirtV2v(ctx: Ctx, proxy: HostRec): Promise<void> {
  if (!(await hasVirtV2v(ctx.engine, proxy))) {
    ctx.engine.event({ code: 1187, severity: "error", description: `Host ${proxy.name} cannot be used as proxy: virt-v2v is not installed`, correlationId: ctx.correlationId, hostId: proxy.id });
    throw backend(409, `${OP}. virt-v2v is not installed on proxy Host ${proxy.name}.`);
  }
}

/**
 * The engine's own SSH key (like ovirt-engine's engine_id_rsa, deployed to every host at host-deploy): generated
 * once in `<stateDir>/v2v/`. Tests authorize `engineSshPublicKey(stateDir)` on their proxy host's sshd.
 */
export function engineSshKeyFiles(stateDir: string): { privateKey: string; publicKey: string } {
  const dir = path.join(stateDir, "v2v");
  const priv = path.join(dir, "engine_ssh_key");
  const pub = `${priv}.pub`;
  if (!fs.existsSync(priv) || !fs.existsSync(pub)) {
    fs.mkdirSync(dir, { recursive: true });
    const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ type: "sec1", format: "pem" }).toString();
    const parsed = utils.parseKey(pem);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key instanceof Error) throw key;
    const line = `${key.type} ${key.getPublicSSH().toString("base64")} ovirt-engine-simulator`;
    fs.writeFileSync(priv, pem, { mode: 0o600 });
    fs.writeFileSync(pub, line + "\n");
  }
  return { privateKey: priv, publicKey: pub };
}

/** The public key line of the engine's SSH key (created on first use). */
export function engineSshPublicKey(stateDir: string): string {
  return fs.readFileSync(engineSshKeyFiles(stateDir).publicKey, "utf8").trim();
}

/**
 * virt-v2v on the proxy host: over SSH with the engine's key when the host has an SSH endpoint in the inventory
 * (its host key is remembered at first contact, like host-deploy stores the fingerprint, and a changed key is
 * refused), else the host's `virtV2v` flag.
 */
async function hasVirtV2v(e: Engine, h: HostRec): Promise<boolean> {
  const ssh = h.ssh;
  if (!ssh) return h.virtV2v;
  const keys = engineSshKeyFiles(e.opts.stateDir);
  const knownFile = path.join(e.opts.stateDir, "v2v", "known_hosts.json");
  let known: Record<string, string> = {};
  try {
    known = JSON.parse(fs.readFileSync(knownFile, "utf8"));
  } catch {
    /* none yet */
  }
  const id = `${ssh.host}:${ssh.port}`;
  const pinned = known[id];
  try {
    if (!pinned) {
      known[id] = await ph.scanHostKey(ssh.host, ssh.port);
      fs.writeFileSync(knownFile, JSON.stringify(known, null, 2));
    }
    const st = await ph.withProxySsh(
      { host: ssh.host, port: ssh.port, username: ssh.user ?? "root", privateKey: fs.readFileSync(keys.privateKey, "utf8"), hostKey: known[id], timeoutMs: 15_000 },
      (s) => s.detectVirtV2v(),
    );
    return st.present;
  } catch (err) {
    throw backend(409, `${OP}. Cannot reach proxy Host ${h.name} over SSH: ${(err as Error).message}`);
  }
}
