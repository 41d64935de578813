// Starts VMware's vCenter simulator (vcsim, built by tools/vcsim/build.sh into .tools/bin/vcsim) on a
// 127.0.0.1 port, and seeds a realistic inventory over SOAP: a datacenter inside a folder, names with spaces,
// VMs with thin and preallocated disks, all powered off.

import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { VSphereClient, probeCertificate } from "../../lib/vsphere";
import { MoRef, moRef, refXml, text, xmlEscape } from "../../lib/vsphere/soap";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const VCSIM_BIN = path.join(REPO_ROOT, ".tools", "bin", "vcsim");

export interface RunningVcsim {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  username: string;
  password: string;
  /** SHA-256 fingerprint of vcsim's certificate (AA:BB:...). */
  sha256: string;
  sha1: string;
  close(): Promise<void>;
}

/** Builds vcsim if needed (never silently skipped: a build failure throws with the build's output). */
export function ensureVcsimBuilt(): string {
  if (!fs.existsSync(VCSIM_BIN)) {
    try {
      execFileSync("bash", [path.join(REPO_ROOT, "tools", "vcsim", "build.sh")], { stdio: "pipe", timeout: 600_000 });
    } catch (e) {
      const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`building vcsim failed (tools/vcsim/build.sh): ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  }
  return VCSIM_BIN;
}

export async function startVcsim(opts: { username?: string; password?: string; extraArgs?: string[] } = {}): Promise<RunningVcsim> {
  const bin = ensureVcsimBuilt();
  // vcsim v0.46.3 refuses every login when the -username contains "@" (administrator@vsphere.local style):
  // it re-reads the user from its listen URL. So the default test user is a plain name.
  const username = opts.username ?? "vcadmin";
  const password = opts.password ?? "Vcsim-Pass 1!";
  const child: ChildProcess = spawn(
    bin,
    ["-l", "127.0.0.1:0", "-autostart=false", "-username", username, "-password", password, ...(opts.extraArgs ?? [])],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vcsim did not print GOVC_URL within 20 s; stderr: ${err.slice(-2000)}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      // "export GOVC_URL=https://user:pass@127.0.0.1:PORT/sdk GOVC_SIM_PID=N"
      const m = /GOVC_URL=\S*@127\.0\.0\.1:(\d+)\/sdk/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited with code ${code} before listening; stderr: ${err.slice(-2000)}`));
    });
  });
  const host = `127.0.0.1:${port}`;
  const cert = await probeCertificate(host);
  return {
    host,
    port,
    username,
    password,
    sha256: cert.sha256,
    sha1: cert.sha1,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

export interface SeedDisk {
  sizeGiB: number;
  thin: boolean;
}
export interface SeedVm {
  name: string;
  cpus: number;
  memoryMiB: number;
  disks: SeedDisk[];
  guestId?: string;
}

export interface SeededInventory {
  /** Inventory path of the datacenter (inside a folder, with spaces). */
  datacenterPath: string;
  cluster: string;
  esxiHost: string;
  vms: SeedVm[];
}

export const DEFAULT_SEED_VMS: SeedVm[] = [
  { name: "web app 01", cpus: 2, memoryMiB: 3072, disks: [{ sizeGiB: 1, thin: true }, { sizeGiB: 2, thin: false }], guestId: "rhel8_64Guest" },
  { name: "db-01", cpus: 4, memoryMiB: 8192, disks: [{ sizeGiB: 2, thin: false }], guestId: "rhel8_64Guest" },
  { name: "running-01", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] },
  { name: "guarded-01", cpus: 2, memoryMiB: 2048, disks: [{ sizeGiB: 4, thin: true }] },
  { name: "tools-01", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] },
  { name: "block-01", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] },
  { name: "example-01", cpus: 2, memoryMiB: 2048, disks: [{ sizeGiB: 1, thin: true }] },
];

/**
 * vcsim's default model has datacenter DC0 with cluster DC0_C0 and hosts DC0_C0_H0..2. We move DC0 into a folder
 * "Region A", rename it "DC East", rename the cluster "Prod Cluster", and create the VMs (powered off).
 */
export async function seedVcsim(c: VSphereClient, vms: SeedVm[] = DEFAULT_SEED_VMS): Promise<SeededInventory> {
  const s = c.session;
  const root = c.content.rootFolder;
  const folderRes = await s.call("CreateFolder", `${refXml("_this", root)}<name>Region A</name>`);
  const folder = moRef(folderRes.returnval?.[0])!;
  const dc = (await c.findByInventoryPath("DC0"))!;
  await c.runTask("MoveIntoFolder_Task", `${refXml("_this", folder)}${refXml("list", dc)}`);
  await c.runTask("Rename_Task", `${refXml("_this", dc)}<newName>DC East</newName>`);
  const cl = (await c.findByInventoryPath("Region A/DC East/host/DC0_C0"))!;
  await c.runTask("Rename_Task", `${refXml("_this", cl)}<newName>Prod Cluster</newName>`);
  const esxiHost = "DC0_C0_H0";
  const hostRef = (await c.findByInventoryPath(`Region A/DC East/host/Prod Cluster/${esxiHost}`))!;
  const dcProps = (await c.retrieve([dc], "Datacenter", ["vmFolder"])).get(`${dc.type}:${dc.value}`)!;
  const vmFolder = moRef(dcProps.vmFolder)!;
  const clProps = (await c.retrieve([cl], cl.type, ["resourcePool"])).get(`${cl.type}:${cl.value}`)!;
  const pool = moRef(clProps.resourcePool)!;
  for (const vm of vms) await createVm(c, vmFolder, pool, hostRef, vm);
  return { datacenterPath: "Region A/DC East", cluster: "Prod Cluster", esxiHost, vms };
}

async function createVm(c: VSphereClient, folder: MoRef, pool: MoRef, host: MoRef, vm: SeedVm): Promise<void> {
  let devices =
    `<deviceChange><operation>add</operation><device xsi:type="ParaVirtualSCSIController"><key>-100</key>` +
    `<busNumber>0</busNumber><sharedBus>noSharing</sharedBus></device></deviceChange>`;
  vm.disks.forEach((d, i) => {
    devices +=
      `<deviceChange><operation>add</operation><fileOperation>create</fileOperation>` +
      `<device xsi:type="VirtualDisk"><key>${-101 - i}</key>` +
      `<backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode>` +
      `<thinProvisioned>${d.thin}</thinProvisioned></backing>` +
      `<controllerKey>-100</controllerKey><unitNumber>${i}</unitNumber>` +
      `<capacityInKB>${d.sizeGiB * 1024 * 1024}</capacityInKB><capacityInBytes>${d.sizeGiB * 1024 ** 3}</capacityInBytes></device></deviceChange>`;
  });
  devices +=
    `<deviceChange><operation>add</operation><device xsi:type="VirtualVmxnet3"><key>-200</key>` +
    `<backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing>` +
    `<addressType>generated</addressType></device></deviceChange>`;
  const body =
    `${refXml("_this", folder)}<config><name>${xmlEscape(vm.name)}</name><guestId>${vm.guestId ?? "otherGuest64"}</guestId>` +
    `<files><vmPathName>[LocalDS_0]</vmPathName></files><numCPUs>${vm.cpus}</numCPUs><memoryMB>${vm.memoryMiB}</memoryMB>` +
    `${devices}</config>${refXml("pool", pool)}${refXml("host", host)}`;
  await c.runTask("CreateVM_Task", body);
}

export { text };
