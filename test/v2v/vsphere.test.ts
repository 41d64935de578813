// The vim25 SOAP client against VMware's own vCenter simulator (vcsim).
import * as assert from "node:assert/strict";
import { VSphereClient, VSphereError } from "../../lib/vsphere";
import { buildVpxUrl, parseVpxUrl, buildLibvirtSshUrl, parseLibvirtSshUrl, providerOfUrl } from "../../lib/v2vUrl";
import { V2VImportArgs, sourceUrlOf, proxyTlsWarning } from "../../provider/resources/v2vImport";
import { RunningVcsim, SeededInventory, seedVcsim, startVcsim } from "../support/vcsim";

describe("v2v: vSphere SOAP client against vcsim", function () {
  this.timeout(120_000);
  let vc: RunningVcsim;
  let inv: SeededInventory;
  const opts = () => ({ host: vc.host, username: vc.username, password: vc.password, tls: { fingerprint: vc.sha256 } });

  before(async () => {
    vc = await startVcsim();
    const c = await VSphereClient.connect(opts());
    inv = await seedVcsim(c);
    await c.logout();
  });
  after(async () => vc?.close());

  it("logs in with a pinned SHA-256 or SHA-1 fingerprint, or with verification explicitly off", async () => {
    for (const tls of [{ fingerprint: vc.sha256 }, { fingerprint: vc.sha1 }, { fingerprint: vc.sha256.replace(/:/g, "").toLowerCase() }, { insecure: true }]) {
      const c = await VSphereClient.connect({ ...opts(), tls });
      assert.match(c.content.about.fullName, /vCenter/);
      await c.logout();
    }
  });

  it("refuses the self-signed certificate by default and says which fingerprint to pin", async () => {
    await assert.rejects(VSphereClient.connect({ ...opts(), tls: {} }), (e: VSphereError) => {
      assert.equal(e.code, "tls");
      assert.ok(e.message.includes(vc.sha256), e.message);
      return true;
    });
  });

  it("refuses a certificate that does not match the pinned fingerprint", async () => {
    const wrong = "AB:".repeat(31) + "AB";
    await assert.rejects(VSphereClient.connect({ ...opts(), tls: { fingerprint: wrong } }), (e: VSphereError) => {
      assert.equal(e.code, "tls");
      assert.match(e.message, /does not match the pinned fingerprint/);
      return true;
    });
  });

  it("bad credentials: a clear login error that never contains the password", async () => {
    const pw = "S3cret pass&<word>";
    await assert.rejects(VSphereClient.connect({ ...opts(), password: pw }), (e: VSphereError) => {
      assert.equal(e.code, "login");
      assert.match(e.message, /refused the login of user "vcadmin"/);
      for (const form of [pw, encodeURIComponent(pw), "S3cret", "&lt;word&gt;"]) assert.ok(!e.message.includes(form), e.message);
      return true;
    });
  });

  it("finds a VM by datacenter path inside a folder, with spaces, and reads CPUs, memory, disks", async () => {
    const c = await VSphereClient.connect(opts());
    try {
      assert.deepEqual((await c.datacenters()).map((d) => d.path), ["Region A/DC East"]);
      const vm = await c.findVm(inv.datacenterPath, "web app 01", { cluster: inv.cluster, host: inv.esxiHost });
      assert.equal(vm.powerState, "poweredOff");
      assert.equal(vm.cpus, 2);
      assert.equal(vm.memoryMiB, 3072);
      assert.deepEqual(vm.disks.map((d) => [d.capacityBytes, d.thin]), [[1 * 1024 ** 3, true], [2 * 1024 ** 3, false]]);
      assert.equal(vm.hostName, inv.esxiHost);
      assert.equal(vm.clusterName, inv.cluster);
      assert.equal(vm.nics.length, 1);
    } finally {
      await c.logout();
    }
  });

  it("a wrong datacenter path is reported with the paths that exist", async () => {
    const c = await VSphereClient.connect(opts());
    try {
      await assert.rejects(c.findVm("DC East", "web app 01"), (e: VSphereError) => {
        assert.equal(e.code, "notFound");
        assert.match(e.message, /no datacenter at inventory path "DC East".*"Region A\/DC East"/);
        return true;
      });
      await assert.rejects(c.findVm(inv.datacenterPath, "web app 01", { cluster: "Nope" }), /no cluster "Nope"/);
      await assert.rejects(c.findVm(inv.datacenterPath, "web app 01", { cluster: inv.cluster, host: "DC0_C0_H1" }), /runs on ESXi host "DC0_C0_H0"/);
      await assert.rejects(c.findVm(inv.datacenterPath, "no such vm"), /no VM named "no such vm"/);
    } finally {
      await c.logout();
    }
  });

  it("powers a VM on and off", async () => {
    const c = await VSphereClient.connect(opts());
    try {
      const vm = await c.findVm(inv.datacenterPath, "tools-01");
      await c.powerOn(vm.ref);
      assert.equal(await c.powerState(vm.ref), "poweredOn");
      await c.powerOff(vm.ref);
      assert.equal(await c.powerState(vm.ref), "poweredOff");
    } finally {
      await c.logout();
    }
  });
});

describe("v2v: source URLs", () => {
  it("builds and parses vpx:// with folders, spaces, a port and an @ in the user", () => {
    const url = buildVpxUrl({
      username: "administrator@vsphere.local",
      vcenter: "vc.example.com:8443",
      datacenterPath: "/Region A/DC East/",
      cluster: "Prod Cluster",
      esxiHost: "esxi-1.example.com",
      noVerify: true,
    });
    assert.equal(url, "vpx://administrator%40vsphere.local@vc.example.com:8443/Region%20A/DC%20East/Prod%20Cluster/esxi-1.example.com?no_verify=1");
    const p = parseVpxUrl(url);
    assert.deepEqual(p, {
      username: "administrator@vsphere.local",
      vcenter: "vc.example.com:8443",
      segments: ["Region A", "DC East", "Prod Cluster", "esxi-1.example.com"],
      noVerify: true,
    });
    assert.equal(parseVpxUrl("vpx://u@vc/DC/esxi").noVerify, false);
    assert.throws(() => parseVpxUrl("vpx://u@vc/only"), /must have the form/);
  });

  it("V2VImport's vpx URL: no no_verify with a pinned fingerprint (the proxy host verifies) unless proxySkipVerify or verifyCertificate: false", () => {
    const args = (vcenter: Record<string, unknown>) =>
      V2VImportArgs.parse({
        engine: { url: "https://engine.example.com/ovirt-engine/api", username: "admin@internal", password: "pw" },
        vcenter: { host: "vc.example.com", datacenterPath: "Region A/DC East", cluster: "Prod Cluster", esxiHost: "esxi-1", username: "u", password: "p", ...vcenter },
        sourceVms: ["web-01"],
        cluster: "cl-target",
        storageDomain: "data-target",
        proxyHost: "host-1",
      });
    const pinned = args({ certificateFingerprint: "AA:BB" });
    assert.equal(sourceUrlOf(pinned), "vpx://u@vc.example.com/Region%20A/DC%20East/Prod%20Cluster/esxi-1");
    assert.equal(proxyTlsWarning(pinned), undefined);
    assert.doesNotMatch(sourceUrlOf(args({ caPem: "-----BEGIN CERTIFICATE-----" })), /no_verify/);
    assert.doesNotMatch(sourceUrlOf(args({})), /no_verify/);
    const skip = args({ certificateFingerprint: "AA:BB", proxySkipVerify: true });
    assert.match(sourceUrlOf(skip), /\?no_verify=1$/);
    assert.match(proxyTlsWarning(skip)!, /proxySkipVerify: true.*vCenter password travels from the proxy host without certificate verification.*install the vCenter CA/);
    const off = args({ verifyCertificate: false });
    assert.match(sourceUrlOf(off), /\?no_verify=1$/);
    assert.match(proxyTlsWarning(off)!, /verifyCertificate: false/);
  });

  it("builds and parses the KVM and Xen forms", () => {
    assert.equal(buildLibvirtSshUrl({ scheme: "qemu+ssh", username: "root", host: "kvm1", path: "" }), "qemu+ssh://root@kvm1/system");
    assert.equal(buildLibvirtSshUrl({ scheme: "xen+ssh", username: "root", host: "xen1", path: "" }), "xen+ssh://root@xen1");
    assert.deepEqual(parseLibvirtSshUrl("qemu+ssh://root@kvm1:2222/system"), { scheme: "qemu+ssh", username: "root", host: "kvm1", port: 2222, path: "/system" });
    assert.equal(parseLibvirtSshUrl("xen+ssh://root@xen1").host, "xen1");
    assert.throws(() => parseLibvirtSshUrl("qemu+ssh://root@kvm1/"), /must end in \/system/);
    assert.equal(providerOfUrl("xen+ssh://root@xen1"), "xen");
    assert.equal(providerOfUrl("qemu+ssh://root@kvm1/system"), "kvm");
    assert.equal(providerOfUrl("vpx://u@vc/DC/h"), "vmware");
  });
});
