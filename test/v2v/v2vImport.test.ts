// V2VImport end to end against real peers: vcsim (vCenter), OpenSSH sshd (proxy hosts), and the engine simulator's
// POST /externalvmimports (which itself talks SOAP to vcsim and SSH to the proxy host).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { v2vImportProvider, V2VImportOutputs } from "../../provider/resources/v2vImport";
import { z } from "zod";
import { connect } from "../../provider/client";
import { poll } from "../../provider/client/wait";
import { VSphereClient } from "../../lib/vsphere";
import { admin, proxySshOf, v2vInputs, v2vUrn, V2vEnv, withV2vEnv } from "./env";

describe("v2v: V2VImport against vcsim + sshd + engine simulator", function () {
  this.timeout(300_000);
  let env: V2vEnv;
  withV2vEnv((e) => (env = e));

  const inputs = (over: Record<string, any> = {}) =>
    v2vInputs(env, {
      sourceVms: ["web app 01"],
      // one resource URN for this file: a repeated create is a re-run of the same resource (ownership.ts)
      __progressUrn: v2vUrn("import"),
      proxySsh: proxySshOf(env.sshd.present),
      ...over,
    });
  const engine = () => connect(env.engine);
  const vcsim = () => VSphereClient.connect({ host: env.vc.host, username: env.vc.username, password: env.vc.password, tls: { fingerprint: env.vc.sha256 } });
  const mutating = async () => (await admin(env, "GET", "/requests")).mutating as number;

  it("imports a VMware VM with the source's CPUs, memory and disk sizes; a re-run takes its own VM; delete removes it", async () => {
    const chk = await v2vImportProvider.check!({}, inputs());
    assert.deepEqual(chk.failures ?? [], []);
    const created = await v2vImportProvider.create(inputs());
    const outs = created.outs as V2VImportOutputs;
    assert.equal(outs.vms.length, 1);
    const out = outs.vms[0];
    assert.equal(out.name, "web app 01");
    assert.equal(out.adopted, false);
    assert.equal(out.ownership, "created");
    assert.match(outs.sourceUrl, /^vpx:\/\/vcadmin@127\.0\.0\.1:\d+\/Region%20A\/DC%20East\/Prod%20Cluster\/DC0_C0_H0\?no_verify=1$/);
    const c = engine();
    const vm = (await c.vms.get(out.id))!;
    assert.equal(vm.origin, "vmware");
    assert.equal(vm.status, "down");
    assert.equal(vm.memory, 3072 * 1024 * 1024);
    const topo = vm.cpu?.topology;
    assert.equal((topo?.sockets ?? 1) * (topo?.cores ?? 1) * (topo?.threads ?? 1), 2);
    const disks = await c.vms.disks(vm.id);
    assert.deepEqual(disks.map((d) => d.provisioned_size).sort(), [1 * 1024 ** 3, 2 * 1024 ** 3]);
    assert.ok(disks.every((d) => d.sparse === true && d.status === "ok"));
    const events = await c.events.list({ search: "type=1152" });
    assert.ok(events.some((e) => /web app 01 was imported successfully/.test(e.description ?? "")), JSON.stringify(events));

    // idempotent: a second create (an interrupted run of this resource repeated) takes its own VM, no new import
    const before = await mutating();
    const again = await v2vImportProvider.create(inputs());
    assert.equal((again.outs as V2VImportOutputs).vms[0].id, out.id);
    assert.equal((again.outs as V2VImportOutputs).vms[0].ownership, "created");
    assert.equal((again.outs as V2VImportOutputs).vms[0].adopted, false);
    assert.equal(await mutating(), before);

    // a VM of the target name that this resource (source, target) did not create blocks the name: clone or adopt
    const chk2 = await v2vImportProvider.check!({}, { ...inputs({ provider: "kvm", sourceUrl: "qemu+ssh://root@kvm1/system", sourceVms: ["web app 01"] }), vcenter: undefined, proxySsh: undefined });
    assert.ok(chk2.failures!.some((f) => f.property === "sourceVms" && /already exists.*clone.*adopt: true/.test(f.reason)), JSON.stringify(chk2.failures));

    await v2vImportProvider.delete!(created.id, created.outs);
    assert.equal(await c.vms.get(out.id), undefined);
  });

  it("preallocated import (sparse: false) as a clone with a new name", async () => {
    const a = inputs({ sourceVms: ["db-01"], sparse: false, clone: { name: "db-01-migrated" } });
    assert.deepEqual((await v2vImportProvider.check!({}, a)).failures ?? [], []);
    const created = await v2vImportProvider.create(a);
    const outs = created.outs as V2VImportOutputs;
    assert.equal(outs.vms[0].name, "db-01-migrated");
    assert.equal(outs.vms[0].cpus, 4);
    assert.equal(outs.vms[0].memoryBytes, 8192 * 1024 * 1024);
    assert.deepEqual(outs.vms[0].disks.map((d) => [d.provisionedBytes, d.sparse]), [[2 * 1024 ** 3, false]]);
    await v2vImportProvider.delete!(created.id, created.outs);
  });

  it("cpuProfile (name or id) is validated in the target cluster at preview and set on the VM; permissions are applied after the import", async () => {
    const c = engine();
    const cl = (await c.clusters.findByName("cl-target"))!;
    const profiles = await c.clusters.cpuProfiles(cl.id);
    const gold = profiles.find((p) => p.name === "gold")!;
    assert.ok(gold, JSON.stringify(profiles));
    // unknown profile: a preview failure naming cpuProfile and listing the cluster's profiles; nothing sent
    const before = await mutating();
    const bad = await v2vImportProvider.check!({}, inputs({ sourceVms: ["db-01"], clone: { suffix: "-cp" }, cpuProfile: "platinum" }));
    const f = (bad.failures ?? []).find((x) => x.property === "cpuProfile");
    assert.ok(f && /platinum/.test(f.reason) && /"cl-target"/.test(f.reason) && /"gold"/.test(f.reason), JSON.stringify(bad.failures));
    assert.equal(await mutating(), before);
    // unknown role / user in permissions: preview failures naming the entry, before anything is imported
    const badPerm = await v2vImportProvider.check!({}, inputs({ sourceVms: ["db-01"], clone: { suffix: "-cp" }, permissions: [{ user: "mallory@internal-authz", role: "NoSuchRole" }] }));
    assert.ok((badPerm.failures ?? []).some((x) => x.property === "permissions[0].role" && /NoSuchRole/.test(x.reason)), JSON.stringify(badPerm.failures));
    assert.ok((badPerm.failures ?? []).some((x) => x.property === "permissions[0].user" && /mallory/.test(x.reason)), JSON.stringify(badPerm.failures));
    assert.equal(await mutating(), before);
    // the profile's id is accepted as well
    assert.deepEqual((await v2vImportProvider.check!({}, inputs({ sourceVms: ["db-01"], clone: { suffix: "-cp" }, cpuProfile: gold.id }))).failures ?? [], []);

    const a = inputs({
      sourceVms: ["db-01"],
      clone: { suffix: "-cp" },
      cpuProfile: "gold",
      permissions: [{ user: "alice@internal-authz", role: "UserVmManager" }, { group: "ops", role: "UserRole" }],
    });
    assert.deepEqual((await v2vImportProvider.check!({}, a)).failures ?? [], []);
    const created = await v2vImportProvider.create(a);
    const out = (created.outs as V2VImportOutputs).vms[0];
    assert.equal(out.name, "db-01-cp");
    const vm = (await c.vms.get(out.id))!;
    assert.equal(vm.cpu_profile?.id, gold.id, "the engine VM runs with the requested CPU profile");
    const perms = await c.permissions.list("vm", out.id);
    const alice = (await c.permissions.user("alice@internal-authz"))!;
    const ops = (await c.permissions.group("ops"))!;
    const uvm = (await c.permissions.role("UserVmManager"))!;
    const ur = (await c.permissions.role("UserRole"))!;
    assert.ok(perms.some((p: any) => p.user?.id === alice.id && p.role?.id === uvm.id), JSON.stringify(perms));
    assert.ok(perms.some((p: any) => p.group?.id === ops.id && p.role?.id === ur.id), JSON.stringify(perms));
    // a re-run adopts the VM and does not duplicate the permissions
    const again = await v2vImportProvider.create(a);
    assert.equal((again.outs as V2VImportOutputs).vms[0].id, out.id);
    assert.equal((await c.permissions.list("vm", out.id)).length, perms.length);
    await v2vImportProvider.delete!(created.id, created.outs);
    assert.equal(await c.vms.get(out.id), undefined);
  });

  it("VM powered on before the run: clear preflight error, nothing created", async () => {
    const vc = await vcsim();
    const vm = await vc.findVm(env.inv.datacenterPath, "running-01");
    await vc.powerOn(vm.ref);
    try {
      await admin(env, "DELETE", "/requests");
      const a = inputs({ sourceVms: ["running-01"] });
      const chk = await v2vImportProvider.check!({}, a);
      const f = chk.failures!.find((x) => x.property === "sourceVms");
      assert.ok(f, JSON.stringify(chk.failures));
      assert.match(f!.reason, /"running-01" is poweredOn .* shut it down in VMware first/);
      await assert.rejects(v2vImportProvider.create(a), /"running-01" is poweredOn/);
      assert.equal(await mutating(), 0);
      assert.equal(await engine().vms.findByName("running-01"), undefined);
    } finally {
      await vc.powerOff(vm.ref);
      await vc.logout();
    }
  });

  it("VM powered on during the import: stopped, nothing half-made left, clear error", async () => {
    const a = inputs({ sourceVms: ["guarded-01"], sparse: false, watchIntervalMs: 200 });
    const vc = await vcsim();
    const vm = await vc.findVm(env.inv.datacenterPath, "guarded-01");
    const c = engine();
    try {
      const creating = v2vImportProvider.create(a);
      // wait until the engine created the VM row and its job runs, then power the source on
      const t0 = Date.now();
      while (!(await c.vms.findByName("guarded-01"))) {
        if (Date.now() - t0 > 60_000) throw new Error("the import never started");
        await new Promise((r) => setTimeout(r, 100));
      }
      await vc.powerOn(vm.ref);
      await assert.rejects(creating, (e: Error) => {
        assert.match(e.message, /"guarded-01" was powered on in vCenter .* during its import/);
        assert.match(e.message, /partially imported VM was removed/);
        return true;
      });
      assert.equal(await c.vms.findByName("guarded-01"), undefined);
      const failed = await c.events.list({ search: "type=1194" });
      assert.ok(failed.some((e) => /guarded-01.*is running or paused/.test(e.description ?? "")), JSON.stringify(failed));
      const disks = await admin(env, "GET", "/disks");
      assert.ok(!disks.vms.some((v: any) => v.name === "guarded-01"));
    } finally {
      await vc.powerOff(vm.ref);
      await vc.logout();
    }
  });

  it("wrong datacenter path: names the field and the paths that exist", async () => {
    const chk = await v2vImportProvider.check!({}, inputs({ vcenter: { datacenterPath: "DC East" } }));
    const f = chk.failures!.find((x) => x.property === "vcenter.datacenterPath");
    assert.ok(f, JSON.stringify(chk.failures));
    assert.match(f!.reason, /no datacenter at inventory path "DC East".*"Region A\/DC East".*folders included/);
  });

  it("bad vCenter credentials: clear error without the password", async () => {
    const pw = "Wr0ng-P@ss word";
    const chk = await v2vImportProvider.check!({}, inputs({ vcenter: { password: pw } }));
    const f = chk.failures!.find((x) => x.property === "vcenter.password");
    assert.ok(f, JSON.stringify(chk.failures));
    assert.match(f!.reason, /refused the login of user "vcadmin"/);
    const all = JSON.stringify(chk.failures);
    for (const form of [pw, encodeURIComponent(pw), "Wr0ng"]) assert.ok(!all.includes(form), all);
  });

  it("virt-v2v missing on the proxy: check mode fails clearly; install mode installs it, then imports", async () => {
    const ssh = (s = env.sshd.absent, mode = "check") => ({ port: s.port, user: s.username, privateKey: s.privateKey, hostKey: s.hostKeyFingerprint, virtV2v: mode });
    const chk = await v2vImportProvider.check!({}, inputs({ proxyHost: "host-nov2v", proxySsh: ssh(), sourceVms: ["tools-01"] }));
    const f = chk.failures!.find((x) => x.property === "proxySsh.virtV2v");
    assert.ok(f, JSON.stringify(chk.failures));
    assert.match(f!.reason, /virt-v2v is not installed on proxy host host-nov2v.*virtV2v: "install"/);

    // install mode: the preview stays read-only (nothing installed), create installs and imports
    const a = inputs({ proxyHost: "host-install", proxySsh: ssh(env.sshd.installable, "install"), sourceVms: ["tools-01"] });
    assert.deepEqual((await v2vImportProvider.check!({}, a)).failures ?? [], []);
    assert.ok(!fs.existsSync(env.sshd.installable.pmLog) || fs.readFileSync(env.sshd.installable.pmLog, "utf8") === "");
    const created = await v2vImportProvider.create(a);
    const outs = created.outs as V2VImportOutputs;
    assert.equal(outs.virtV2vInstalled, true);
    assert.match(fs.readFileSync(env.sshd.installable.pmLog, "utf8"), /^dnf install -y virt-v2v$/m);
    assert.ok(fs.existsSync(`${env.sshd.installable.binDir}/virt-v2v`));
    assert.equal(outs.vms[0].name, "tools-01");
    await v2vImportProvider.delete!(created.id, created.outs);

    // without SSH access the engine itself refuses a proxy without virt-v2v
    const noSsh = { ...inputs({ proxyHost: "host-nov2v", sourceVms: ["tools-01"] }), proxySsh: undefined };
    await assert.rejects(v2vImportProvider.create(noSsh), /virt-v2v is not installed on proxy Host host-nov2v/);
    assert.equal(await engine().vms.findByName("tools-01"), undefined);
  });

  it("SSH host key mismatch is refused", async () => {
    const s = env.sshd.present;
    const chk = await v2vImportProvider.check!({}, inputs({ proxySsh: { port: s.port, user: s.username, privateKey: s.privateKey, hostKey: env.sshd.absent.hostKeyFingerprint } }));
    const f = chk.failures!.find((x) => x.property === "proxySsh.hostKey");
    assert.ok(f, JSON.stringify(chk.failures));
    assert.match(f!.reason, /host key mismatch.*Refusing to connect/);
  });

  it("block storage target accepted like the engine (4.4+): preflight passes it, the engine imports with cow disks when sparse", async () => {
    const a = inputs({ storageDomain: "block-target", sourceVms: ["block-01"] });
    const chk = await v2vImportProvider.check!({}, a);
    assert.ok(!chk.failures!.some((x) => x.property === "storageDomain"), JSON.stringify(chk.failures));
    // asked directly, the engine takes it (ImportVmFromExternalUrlCommand: block + sparse -> cow)
    const c = engine();
    const cl = (await c.clusters.findByName("cl-target"))!;
    const sd = (await c.storageDomains.findByName("block-target"))!;
    await c.http.add(
      "/externalvmimports",
      "external_vm_import",
      { name: "block-01", provider: "vmware", url: `vpx://vcadmin@${env.vc.host}/Region%20A/DC%20East/Prod%20Cluster/DC0_C0_H0?no_verify=1`, username: "vcadmin", password: env.vc.password, cluster: { id: cl.id }, storage_domain: { id: sd.id }, sparse: true },
      z.any(),
    );
    const vm = await c.vms.findByName("block-01");
    assert.ok(vm, "the engine created the VM on the block domain");
    // let the conversion finish before the next test, then look at the disk format
    await poll(async () => {
      const v = await c.vms.get(vm!.id);
      return v && v.status !== "image_locked" ? { done: true, value: true } : { done: false };
    }, { what: "block-01 import", deadline: Date.now() + 120_000 });
    const disks = await c.vms.disks(vm!.id);
    assert.ok(disks.length > 0 && disks.every((d) => d.format === "cow"), JSON.stringify(disks));
  });

  it("proxy host outside the target data center and KVM/Xen URL forms are checked", async () => {
    const chk = await v2vImportProvider.check!({}, { ...inputs({ proxyHost: "host-other" }), proxySsh: undefined });
    assert.ok(chk.failures!.some((f) => f.property === "proxyHost" && /not in data center dc-target/.test(f.reason)), JSON.stringify(chk.failures));
    const kvm = { ...inputs({ provider: "kvm", sourceUrl: "qemu+ssh://root@kvm1/", sourceVms: ["k1"] }), vcenter: undefined, proxySsh: undefined };
    const k = await v2vImportProvider.check!({}, kvm);
    assert.ok(k.failures!.some((f) => f.property === "sourceUrl" && /must end in \/system/.test(f.reason)), JSON.stringify(k.failures));
    const xen = { ...inputs({ provider: "xen", sourceUrl: "qemu+ssh://root@kvm1/system", sourceVms: ["x1"] }), vcenter: undefined, proxySsh: undefined };
    const x = await v2vImportProvider.check!({}, xen);
    assert.ok(x.failures!.some((f) => f.property === "sourceUrl" && /xen\+ssh/.test(f.reason)), JSON.stringify(x.failures));
    // the engine accepts the KVM form but has no libvirt source here
    const c = engine();
    const cl = (await c.clusters.findByName("cl-target"))!;
    const sd = (await c.storageDomains.findByName("data-target"))!;
    await assert.rejects(
      c.http.add("/externalvmimports", "external_vm_import", { name: "k1", provider: "kvm", url: "qemu+ssh://root@kvm1/system", cluster: { id: cl.id }, storage_domain: { id: sd.id } }, z.any()),
      (e: any) => e.status === 400 && /k1 was not found on the external provider/.test(e.message),
    );
    await assert.rejects(
      c.http.add("/externalvmimports", "external_vm_import", { name: "x1", provider: "xen", url: "xen+ssh://root@xen1", cluster: { id: cl.id }, storage_domain: { id: sd.id } }, z.any()),
      (e: any) => e.status === 400 && /No username specified/.test(e.message),
    );
  });
  it("a re-run during a running import waits for it and takes the VM; refresh sees an out-of-band delete", async () => {
    const a = inputs({ sourceVms: ["web app 01"], sparse: false, clone: { suffix: "-rerun" } });
    const c = engine();
    const first = v2vImportProvider.create(a);
    const t0 = Date.now();
    while (!(await c.vms.findByName("web app 01-rerun"))) {
      if (Date.now() - t0 > 60_000) throw new Error("the import never started");
      await new Promise((r) => setTimeout(r, 100));
    }
    // the "interrupted" run is still importing when the next run starts
    const second = await v2vImportProvider.create(a);
    const firstRes = await first;
    const o1 = firstRes.outs as V2VImportOutputs;
    const o2 = second.outs as V2VImportOutputs;
    assert.equal(o2.vms[0].id, o1.vms[0].id);
    assert.equal(o2.vms[0].ownership, "created", "the earlier run's import is this resource's own");
    assert.equal((await c.vms.list()).filter((v) => v.name === "web app 01-rerun").length, 1);
    // refresh: deleted out of band -> gone
    await c.vms.remove(o1.vms[0].id);
    assert.deepEqual(await v2vImportProvider.read!(firstRes.id, firstRes.outs), {});
    await v2vImportProvider.delete!(firstRes.id, firstRes.outs); // nothing left to remove: no error
  });

  it("an import job that fails in the engine leaves nothing behind, and the next run imports", async () => {
    await admin(env, "PUT", "/faults", { rules: [{ match: { entity: "vm", name: "db-01", operation: "import", path: "/externalvmimports$" }, effect: { jobFailure: { reason: "VDSM: disk write error on the proxy" } }, max: 1 }] });
    const a = inputs({ sourceVms: ["db-01"], clone: { suffix: "-retry" } });
    await assert.rejects(v2vImportProvider.create(a), /import of db-01 as db-01-retry failed in the engine: .*(disk write error|Failed to)/);
    const c = engine();
    assert.equal(await c.vms.findByName("db-01-retry"), undefined);
    const ok = await v2vImportProvider.create(a);
    assert.equal((ok.outs as V2VImportOutputs).vms[0].name, "db-01-retry");
    await v2vImportProvider.delete!(ok.id, ok.outs);
  });
});
