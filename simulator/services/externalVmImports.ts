// POST /externalvmimports: the engine's external VM import (V2V) for VMware (vpx://), with the KVM (qemu+ssh://)
// and Xen (xen+ssh://) URL forms parsed and validated.
//
// Like the engine: required fields (400 Incomplete parameters), blank username/password (400), target cluster and
// storage domain in one data center, the domain active, the proxy host in the destination data center and up (or
// some up host of the DC chosen), unique VM name in the DC. Then the "GetVmsFromExternalProvider" step: for vpx:// the
// VM is looked up in the real vCenter over SOAP (lib/vsphere) at the datacenter path (folders allowed) and
// cluster/ESXi host of the URL; a VM that is not found fails the POST. The proxy host must have virt-v2v: checked
// over SSH when the host has an SSH endpoint in the inventory (lib/proxyHost), else by its `virtV2v` flag.
//
// Followed (ovirt-engine, read, not copied): restapi BackendExternalVmImportsResource.add (required fields in its
// order, the answer = the request minus the password, with vm/cluster/storage_domain links and a host link only when
// a host was given; 201 without Location), bll ImportVmFromExternalUrlCommand (username/password required for
// non-KVM; disk format: file domain -> raw, block domain -> cow when sparse, raw when preallocated; default sparse)
// and ImportVmFromExternalProviderCommand.validate (domain and cluster in one pool, domain active -> else
// ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL, no storage-type restriction: block domains are valid targets;
// a drivers ISO for a non-KVM source must be on an active ISO domain of the pool -> ERROR_CANNOT_FIND_ISO_IMAGE_PATH,
// and the simulator has no ISO domains). The API model's ExternalVmImportsService has only `add`: no listing.
//
// Differences from a real engine (documented in simulator/README.md):
// - virt-v2v is not run: the conversion is simulated (the job copies at the domain's bandwidth and creates the disks
//   with the source's sizes, sparse or preallocated);
// - during the conversion the source's power state is watched over SOAP: a VM powered on fails the job like
//   virt-v2v ("libvirt domain ... is running"), and the half-made VM is removed (the engine's endWithFailure);
// - KVM/Xen: no libvirt source exists here, so after the URL checks the source lookup fails as "VM not found".
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Ctx, Reply, Router } from "../router";
import { EngineFault, EngineFaults, backend } from "../engineFaults";
import { Engine } from "../engine";
import { Jobs, JobFailure } from "../jobs";
import { DiskRec, HostRec, JobRec, NicRec, VmRec } from "../model/types";
import { bool, child, ref, str } from "../xml/xml";
import { Obj } from "../xml/write";
import { requireBody, resolveCluster, resolveSd } from "./common";
import { volumePath } from "../storage/exportDomain";
import { domainBandwidth } from "../storage/bandwidth";
import { utils } from "ssh2";
import * as ph from "../../lib/proxyHost";
import * as vs from "../../lib/vsphere";
import { parseLibvirtSshUrl, parseVpxUrl, providerOfUrl } from "../../lib/v2vUrl";

/** Shortest conversion (ms), and the bytes accounted at a time against the target domain's throughput. */
const MIN_CONVERT_MS = 300;
const CONVERT_CHUNK = 1024 * 1024;

/** StorageType.isFileDomain() (the others the simulator models, iscsi, are block domains). */
const FILE_TYPES = ["nfs", "posixfs", "glusterfs", "localfs"];
const OP = "Cannot import VM";

/** What one running import needs to watch its source. */
interface SourceWatch {
  kind: "vmware";
  host: string;
  username: string;
  password: string;
  insecure: boolean;
  vmRef: { type: string; value: string };
  vmName: string;
}

const watches = new Map<string, SourceWatch>();

function guestOs(guestId: string): string {
  if (/^windows|^win/i.test(guestId)) return "windows_2019x64";
  if (/rhel9/.test(guestId)) return "rhel_9x64";
  if (/rhel8/.test(guestId)) return "rhel_8x64";
  if (/rhel7/.test(guestId)) return "rhel_7x64";
  return "other_linux";
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

interface SourceVm {
  name: string;
  uuid: string;
  cpus: number;
  memoryMiB: number;
  guestId: string;
  disks: { key: number; capacityBytes: number; thin: boolean }[];
  nics: { mac: string }[];
  watch?: SourceWatch;
}

/** GetVmsFromExternalProvider for vpx://: the VM at the URL's path in the vCenter. */
async function vmwareSource(url: string, username: string, password: string, name: string): Promise<SourceVm> {
  let p;
  try {
    p = parseVpxUrl(url);
  } catch (e) {
    throw backend(400, `${OP}. ${(e as Error).message}`);
  }
  const user = p.username || username;
  const failed = (why: string) => backend(400, `${OP}. Failed to retrieve VMs information from external server ${url}: ${why}`);
  let c;
  try {
    c = await vs.VSphereClient.connect({ host: p.vcenter, username: user, password, tls: { insecure: p.noVerify }, timeoutMs: 30_000 });
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === "login") throw failed(`authentication failed for user ${user}`);
    if (err.code === "tls") throw failed(`SSL certificate problem (${err.message.replace(/ Its certificate.*$/, "")}); add ?no_verify=1 to the URL to skip verification`);
    throw failed(err.message);
  }
  try {
    // the datacenter path is the longest prefix that names a Datacenter; then [cluster/]esxi-host
    let dcLen = 0;
    for (let i = p.segments.length - 1; i >= 1; i--) {
      const r = await c.findByInventoryPath(p.segments.slice(0, i).join("/"));
      if (r?.type === "Datacenter") {
        dcLen = i;
        break;
      }
    }
    if (!dcLen) throw failed(`no datacenter in path /${p.segments.join("/")}`);
    const rest = p.segments.slice(dcLen);
    if (rest.length > 2) throw failed(`path /${p.segments.join("/")} has more than a cluster and a host after the datacenter`);
    const where = rest.length === 2 ? { cluster: rest[0], host: rest[1] } : { host: rest[0] };
    let vm;
    try {
      vm = await c.findVm(p.segments.slice(0, dcLen).join("/"), name, where.cluster ? where : {});
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (err.code === "notFound") throw backend(400, `${OP}. VM ${name} was not found on the external provider: ${err.message}`);
      throw failed(err.message);
    }
    if (!where.cluster && vm.hostName !== where.host) throw backend(400, `${OP}. VM ${name} was not found on host ${where.host} of the external provider`);
    return {
      name: vm.name,
      uuid: vm.uuid,
      cpus: vm.cpus,
      memoryMiB: vm.memoryMiB,
      guestId: vm.guestId,
      disks: vm.disks.map((d) => ({ key: d.key, capacityBytes: d.capacityBytes, thin: d.thin })),
      nics: vm.nics.map((n) => ({ mac: n.macAddress })),
      watch:
        vm.powerState === "poweredOff"
          ? { kind: "vmware", host: p.vcenter, username: user, password, insecure: p.noVerify, vmRef: vm.ref, vmName: vm.name }
          : undefined,
      ...(vm.powerState !== "poweredOff" ? { running: vm.powerState } : {}),
    } as SourceVm & { running?: string };
  } finally {
    await c.logout();
  }
}

function removeImported(engine: Engine, vmId: string | undefined): void {
  const vm = engine.vm(vmId);
  if (!vm) return;
  engine.state.vms = engine.state.vms.filter((v) => v.id !== vm.id);
  for (const d of vm.disks) {
    const sd = engine.sd(d.storageDomainId);
    if (sd) fs.rmSync(path.dirname(volumePath(sd.root, d.id, d.volumes[0]?.id ?? "x")), { recursive: true, force: true });
  }
  engine.markDirty();
}

export function registerCompensation(engine: () => Engine, jobs: Jobs): void {
  jobs.compensators.set("external_import", (job, reason) => compensateImport(engine(), job, reason));
}

/** The engine's endWithFailure of an external import: failure events, the half-made VM and its disks removed. */
export function compensateImport(e: Engine, job: JobRec, reason: string): void {
  {
    const vm = e.vm(job.vmId);
    const name = vm?.name ?? job.vmId;
    const cl = vm ? e.cluster(vm.clusterId) : undefined;
    const dc = cl ? e.dc(cl.dataCenterId) : undefined;
    e.event({ code: 1194, severity: "error", description: `Failed to convert VM ${name}: ${reason}`, correlationId: job.correlationId, vmId: job.vmId, jobId: job.id });
    e.event({
      code: 1153,
      severity: "error",
      description: `Failed to import Vm ${name} to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`,
      correlationId: job.correlationId,
      vmId: job.vmId,
      clusterId: cl?.id,
      dataCenterId: dc?.id,
      jobId: job.id,
    });
    removeImported(e, job.vmId);
    watches.delete(job.id);
    job.failureReason = reason;
  }
}

async function sourcePoweredOn(w: SourceWatch): Promise<string | undefined> {
  try {
    const c = await vs.VSphereClient.connect({ host: w.host, username: w.username, password: w.password, tls: { insecure: w.insecure }, timeoutMs: 15_000 });
    try {
      const st = await c.powerState(w.vmRef);
      return st === "poweredOff" ? undefined : st;
    } finally {
      await c.logout();
    }
  } catch {
    return undefined; // vCenter trouble is not a power-on
  }
}

async function convert(engine: Engine, jobs: Jobs, job: JobRec, vm: VmRec, bytes: number, w: SourceWatch | undefined): Promise<void> {
  // a job failure injected by a fault rule (faultInjection.ts): when the conversion starts, or halfway through it
  const fault = jobs.takeInjectedFailure(job);
  const injected = fault?.reason;
  const exec = jobs.addStep(job, "executing", "Executing");
  const step = jobs.addStep(job, "executing", `Converting VM ${vm.name}`, exec);
  engine.event({ code: 1193, description: `Starting to convert Vm ${vm.name}`, correlationId: job.correlationId, vmId: vm.id, jobId: job.id });
  // the converted disks are written to the target domain: the conversion draws its bytes from that domain's
  // throughput, shared with the other copies on it, like export/import copies (storage/bandwidth.ts); it lasts at
  // least MIN_CONVERT_MS so that a client can see it running
  const flow = domainBandwidth(engine).open(vm.disks.map((d) => d.storageDomainId), () => jobs.abortReason(job.id));
  const start = Date.now();
  let lastCheck = 0;
  let moved = 0;
  // the source's power state is watched beside the copy (a slow vCenter answer does not slow the conversion)
  let poweredOn: string | undefined;
  let checking: Promise<void> | undefined;
  const watch = () => {
    if (!w || checking || Date.now() - lastCheck < 400) return;
    lastCheck = Date.now();
    checking = sourcePoweredOn(w).then((st) => {
      if (st) poweredOn = st;
    }).finally(() => (checking = undefined));
  };
  const refuseIfRunning = () => {
    if (poweredOn) {
      throw new JobFailure(
        `virt-v2v: error: internal error: libvirt domain '${w!.vmName}' is running or paused. It must be shut down in order to perform virt-v2v conversion`,
      );
    }
  };
  watch();
  await checking; // the first look at the source comes before any byte, as virt-v2v opens the source first
  engine.copyStarted();
  try {
    for (;;) {
      const abort = jobs.abortReason(job.id);
      if (abort) throw new JobFailure(abort);
      if (fault?.at === "start") throw new JobFailure(fault.reason);
      // halfway: through the copy, and not before half the shortest conversion
      if (injected && moved >= bytes / 2 && Date.now() - start >= MIN_CONVERT_MS / 2) throw new JobFailure(injected);
      refuseIfRunning();
      watch();
      if (moved >= bytes) {
        const left = MIN_CONVERT_MS - (Date.now() - start);
        if (left <= 0) break;
        await new Promise((r) => setTimeout(r, Math.min(injected ? 50 : 200, left)));
        continue;
      }
      const n = Math.min(CONVERT_CHUNK, bytes - moved);
      await flow.account(n);
      moved += n;
      job.bytes = moved;
      jobs.progress(job, step, (moved / bytes) * 100);
      await new Promise((r) => setImmediate(r)); // let requests in between chunks that needed no wait
    }
    await checking;
    refuseIfRunning();
  } finally {
    engine.copyEnded();
  }
  if (!engine.vm(vm.id)) throw new JobFailure(`VM ${vm.name} was removed during its import`);
  job.bytes = bytes;
  for (const d of vm.disks) d.status = "ok";
  vm.lockJobId = undefined;
  jobs.endStep(job, step, "finished");
  jobs.endStep(job, exec, "finished");
  const cl = engine.cluster(vm.clusterId);
  const dc = cl ? engine.dc(cl.dataCenterId) : undefined;
  engine.event({
    code: 1152,
    description: `Vm ${vm.name} was imported successfully to Data Center ${dc?.name ?? ""}, Cluster ${cl?.name ?? ""}`,
    correlationId: job.correlationId,
    vmId: vm.id,
    clusterId: cl?.id,
    dataCenterId: dc?.id,
    jobId: job.id,
  });
  watches.delete(job.id);
  jobs.end(job, "finished");
}

/** What is kept of an import (never the password). */
interface ImportRec {
  id: string;
  name: string;
  provider: string;
  url: string;
  username?: string;
  clusterId: string;
  storageDomainId: string;
  hostId: string;
  sparse: boolean;
  vmId: string;
  jobId: string;
}

function renderImport(ctx: Ctx, r: ImportRec): Obj {
  return {
    name: r.name,
    provider: r.provider,
    url: r.url,
    username: r.username,
    cluster: ctx.w.link(`clusters/${r.clusterId}`, r.clusterId),
    storage_domain: ctx.w.link(`storagedomains/${r.storageDomainId}`, r.storageDomainId),
    host: ctx.w.link(`hosts/${r.hostId}`, r.hostId),
    sparse: r.sparse,
    vm: ctx.w.link(`vms/${r.vmId}`, r.vmId),
  };
}

async function post(ctx: Ctx): Promise<Reply> {
  const n = requireBody(ctx, "external_vm_import", "add");
  const name = str(n, "name");
  const provider = str(n, "provider");
  const url = str(n, "url");
  const clRef = ref(n, "cluster");
  const sdRef = ref(n, "storage_domain");
  // BackendExternalVmImportsResource.add: validateParameters(provider, url, name, cluster.id|name, storageDomain.id|name)
  const missing = [
    !provider && "provider",
    !url && "url",
    !name && "name",
    !(clRef?.id || clRef?.name) && "cluster.id|name",
    !(sdRef?.id || sdRef?.name) && "storageDomain.id|name",
  ].filter(Boolean) as string[];
  if (missing.length) throw EngineFaults.incomplete("ExternalVmImport", missing, "add");
  const prov = provider!.toLowerCase();
  if (!["vmware", "kvm", "xen"].includes(prov)) throw EngineFaults.invalidEnum(provider!, "ExternalVmProviderType");
  const username = str(n, "username") ?? "";
  const password = str(n, "password") ?? "";
  if (prov !== "kvm") {
    if (!username.trim()) throw backend(400, `${OP}. No username specified.`);
    if (!password.trim()) throw backend(400, `${OP}. No password specified.`);
  }
  let urlProvider: string;
  try {
    urlProvider = providerOfUrl(url!);
    if (urlProvider === "kvm" || urlProvider === "xen") parseLibvirtSshUrl(url!);
  } catch (e) {
    throw backend(400, `${OP}. ${(e as Error).message}`);
  }
  if (urlProvider !== prov && !(urlProvider === "ova" && prov === "kvm")) {
    throw backend(400, `${OP}. The URL ${url} does not belong to provider ${prov}.`);
  }
  const cl = resolveCluster(ctx, clRef)!;
  const sd = resolveSd(ctx, sdRef)!;
  const dc = ctx.engine.dc(cl.dataCenterId);
  if (!dc) throw EngineFaults.clusterNotValid("import", "VM");
  if (sd.type !== "data") throw EngineFaults.storageTypeIllegal("import", "VM");
  if (sd.dataCenterId !== dc.id) throw backend(400, `${OP}. Storage Domain and Cluster must be in the same Storage Pool.`);
  // ImportVmFromExternalProviderCommand.validate: ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL (no status in it);
  // no storage-type check: block domains are valid V2V targets (formats below)
  if (sd.status !== "active") throw EngineFaults.storageInaccessible("import", "VM");
  // proxy host
  let proxy = hostByRef(ctx, ref(n, "host"), cl.id);
  const inDc = (h: HostRec) => ctx.engine.dcOfCluster(h.clusterId)?.id === dc.id;
  if (proxy) {
    if (!inDc(proxy)) throw backend(400, `${OP}. The selected proxy Host must be in the destination Storage Pool.`);
    const pcl = ctx.engine.cluster(proxy.clusterId);
    if (pcl && pcl.cpuArchitecture !== "x86_64") {
      throw backend(400, `${OP}. Host ${proxy.name} cannot serve as proxy. Verify its cluster architecture and compatibility version are supported.`);
    }
    if (proxy.status !== "up") throw EngineFaults.vdsStatusIllegal("import", "VM", "up");
  } else {
    // hosts known to have virt-v2v first, then hosts reachable over SSH (checked below)
    const candidates = ctx.engine.state.hosts.filter((h) => inDc(h) && h.status === "up" && ctx.engine.cluster(h.clusterId)?.cpuArchitecture === "x86_64");
    proxy = candidates.find((h) => h.virtV2v && !h.ssh) ?? candidates.find((h) => h.ssh);
    if (!proxy) throw backend(409, `${OP}. No Host in Data Center ${dc.name} can serve as proxy.`);
  }
  const targetName = str(child(n, "vm"), "name") ?? name!;
  const dcVmNames = ctx.engine.state.vms.filter((v) => ctx.engine.dcOfCluster(v.clusterId)?.id === dc.id).map((v) => v.name);
  if (dcVmNames.includes(targetName)) throw EngineFaults.nameUsed("import", "VM");
  if (!(await hasVirtV2v(ctx.engine, proxy))) {
    ctx.engine.event({ code: 1187, severity: "error", description: `Host ${proxy.name} cannot be used as proxy: virt-v2v is not installed`, correlationId: ctx.correlationId, hostId: proxy.id });
    throw backend(409, `${OP}. virt-v2v is not installed on proxy Host ${proxy.name}.`);
  }
  // GetVmsFromExternalProvider
  let src: SourceVm & { running?: string };
  if (prov === "vmware") src = await vmwareSource(url!, username, password, name!);
  else throw backend(400, `${OP}. VM ${name} was not found on the external provider (${url}): no ${prov} source is reachable from this simulator.`);

  // no <sparse>: ExternalVmProviderImporter.getAutoDetectedVolumeType -> Sparse
  const sparse = bool(n, "sparse") ?? true;
  const bytes = src.disks.reduce((s, d) => s + d.capacityBytes, 0);

  // CPU profile (BackendExternalVmImportsResource reads the id only; CpuProfileHelper.setAndValidateCpuProfile):
  // must exist and belong to the target cluster; the same texts as on UpdateVm
  const cpr = ref(n, "cpu_profile");
  let cpuProfileId: string | undefined;
  if (cpr?.id) {
    const p = ctx.engine.cpuProfile(cpr.id);
    if (!p) throw backend(400, `${OP}. CPU profile with id \${cpuProfileId} doesn't exist.`);
    if (p.clusterId !== cl.id) throw backend(400, `${OP}. CPU Profile doesn't match provided Cluster.`);
    cpuProfileId = p.id;
  }

  const needed = sparse ? Math.ceil(bytes / 10) : bytes;
  const free = sd.sizeBytes - ctx.engine.usedBytes(sd.id);
  if (needed > free) throw EngineFaults.diskSpaceLow("import", "VM", sd.name);

  // drivers ISO (restapi: drivers_iso id = the ISO's file name; no domain id is passed, so the engine looks for it on
  // an active ISO domain of the pool): none exists in the simulator -> ERROR_CANNOT_FIND_ISO_IMAGE_PATH. (The engine
  // ignores the ISO for KVM sources; only VMware sources get this far here.)
  const driversIso = child(n, "drivers_iso");
  const isoName = (driversIso?.["@_id"] as string | undefined) ?? str(driversIso, "id");
  if (isoName) throw EngineFaults.isoImagePathNotFound();

  // ImportVmFromExternalUrlCommand.getDiskVolumeFormat: file domain -> RAW; block domain -> COW if sparse, else RAW
  const fileDomain = FILE_TYPES.includes(sd.storageType);
  const format: "raw" | "cow" = fileDomain || !sparse ? "raw" : "cow";

  const e = ctx.engine;
  const vmId = e.uuid();
  const usedMacs = new Set(e.state.vms.flatMap((v) => v.nics.map((x) => x.mac.toLowerCase())));
  const nics: NicRec[] = src.nics.map((x, i) => {
    let mac = x.mac.toLowerCase();
    if (!mac || usedMacs.has(mac)) mac = `56:6f:${[0, 0, 0, 0].map(() => Math.floor(Math.random() * 256).toString(16).padStart(2, "0")).join(":")}`;
    usedMacs.add(mac);
    return { id: e.uuid(), name: `nic${i + 1}`, mac, interface: "virtio" };
  });
  const disks: DiskRec[] = src.disks.map((d, i) => {
    const diskId = e.uuid();
    return {
      id: diskId,
      alias: `${targetName}-${i === 0 ? "000" : String(i).padStart(3, "0")}`,
      provisionedSize: d.capacityBytes,
      sparse,
      format,
      storageDomainId: sd.id,
      bootable: i === 0,
      interface: "virtio_scsi",
      status: "locked",
      volumes: [{ id: e.uuid(), format, kind: "base", seed: `v2v:${src.uuid}:${d.key}` }],
    } as DiskRec;
  });
  const now = new Date().toISOString();
  const vm: VmRec = {
    id: vmId,
    name: targetName,
    description: "",
    comment: "",
    clusterId: cl.id,
    status: "down", // the engine creates the VM row as down at once (createVmDynamic), not image_locked
    memoryBytes: src.memoryMiB * 1024 * 1024,
    cpus: src.cpus,
    cpuArchitecture: "x86_64",
    osType: guestOs(src.guestId),
    templateId: "00000000-0000-0000-0000-000000000000",
    origin: prov,
    type: "server",
    creationTime: now,
    stopTime: now, // ImportVmCommandBase.createVmDynamic (the V2V command extends it): lastStopTime = now
    snapshots: [{ id: e.uuid(), description: "Active VM", date: now, type: "active", status: "ok" }],
    disks,
    nics,
    cpuProfileId,
  };
  const fault = ctx.faults.atOperation("vm", name!, "import");
  const job = ctx.jobs.create({
    kind: "external_import",
    injectedFailure: fault.jobFailure,
    description: `Importing VM ${targetName} to Cluster ${cl.name}`,
    correlationId: ctx.correlationId,
    storageDomainIds: [sd.id],
    vmId,
    // ConvertVmCommand runs VDSCommandType.ConvertVm on the proxy host (a VdsBrokerCommand)
    vdsmCommand: { name: "ConvertVmVDS", host: proxy.name },
  });
  vm.lockJobId = job.id;
  e.state.vms.push(vm);
  e.markDirty();
  e.event({ code: 1165, description: `Starting to import Vm ${targetName} to Data Center ${dc.name}, Cluster ${cl.name}`, correlationId: ctx.correlationId, vmId, clusterId: cl.id, dataCenterId: dc.id, jobId: job.id });

  if (src.running) {
    // the conversion starts on the proxy and virt-v2v refuses the running guest
    void ctx.jobs.run(job, async () => {
      await new Promise((r) => setTimeout(r, 200));
      throw new JobFailure(
        `virt-v2v: error: internal error: libvirt domain '${src.name}' is running or paused. It must be shut down in order to perform virt-v2v conversion`,
      );
    });
  } else {
    if (src.watch) watches.set(job.id, src.watch);
    void ctx.jobs.run(job, () => convert(e, ctx.jobs, job, vm, sparse ? Math.ceil(bytes / 4) : bytes, src.watch));
  }
  const rec: ImportRec = {
    id: vmId,
    name: name!,
    provider: prov,
    url: url!,
    username: username || undefined,
    clusterId: cl.id,
    storageDomainId: sd.id,
    hostId: proxy.id,
    sparse,
    vmId,
    jobId: job.id,
  };
  e.state.externalVmImports.push(rec as unknown as Record<string, unknown>);
  e.markDirty();
  // BackendExternalVmImportsResource.add: the request as received, password cleared, vm/cluster/storage_domain as id
  // links, host as a link only when the request named one; Response.ok(...).status(CREATED): no Location header
  const answer: Obj = {};
  for (const [k, v] of Object.entries(n)) if (k !== "password") answer[k] = v as Obj[string];
  answer.vm = ctx.w.link(`vms/${vmId}`, vmId);
  answer.cluster = ctx.w.link(`clusters/${cl.id}`, cl.id);
  answer.storage_domain = ctx.w.link(`storagedomains/${sd.id}`, sd.id);
  if (n.host !== undefined) answer.host = ctx.w.link(`hosts/${proxy.id}`, proxy.id);
  return { status: 201, root: "external_vm_import", content: answer };
}

export interface ExternalVmImportHook {
  create(ctx: Ctx): Promise<Reply> | Reply;
  /** Optional: XML of one stored import (kept for hooks; the engine has no GET of imports, so nothing calls it) */
  render?(ctx: Ctx, rec: Record<string, unknown>): Obj;
  /** Optional: compensation for a job of kind external_import failed at a restart */
  compensate?(ctx: { engine: Ctx["engine"] }, job: import("../model/types").JobRec, reason: string): void;
}

let hook: ExternalVmImportHook | undefined;

/** Installs the V2V implementation (called by the V2V module at load time). */
export function setExternalVmImportHook(h: ExternalVmImportHook | undefined): void {
  hook = h;
}

export function getExternalVmImportHook(): ExternalVmImportHook | undefined {
  return hook;
}

export function register(r: Router): void {
  r.post("externalvmimports", async (ctx) => {
    if (!hook) throw backend(400, "Cannot import VM. Importing VMs from external providers is not supported by this simulator build.");
    return hook.create(ctx);
  });
  // no GET: the API model's ExternalVmImportsService has only Add (GET /externalvmimports -> 405, /{id} -> 404)
}

setExternalVmImportHook({
  create: (ctx) => post(ctx),
  render: (ctx, rec) => renderImport(ctx, rec as unknown as ImportRec),
  compensate: (c, job, reason) => compensateImport(c.engine, job, reason),
});
