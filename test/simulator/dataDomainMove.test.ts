// Moving a DATA domain between data centers (one engine) and between engines, and registering what is on it: the
// zero-copy path of oVirt 4.4+ (services/registration.ts, storage/ovfStore.ts).
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";
import { diskSums, idOf, sumsOf, xmlAction } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const names = (xs: Any) => arr(xs).map((x: Any) => x.name).sort();

async function vmReport(t: TestSimulator, name: string): Promise<Any> {
  return (await diskSums(t)).vms.find((v: Any) => v.name === name);
}

async function tplReport(t: TestSimulator, name: string): Promise<Any> {
  return (await diskSums(t)).templates.find((v: Any) => v.name === name);
}

async function events(t: TestSimulator, code: number): Promise<Any[]> {
  const r = await t.api("GET", `events?search=${encodeURIComponent(`type=${code}`)}`);
  return arr(r.xml.events?.event);
}

async function ok(t: TestSimulator, method: string, p: string, body?: string): Promise<Any> {
  const r = await t.api(method, p, body);
  assert.ok(r.status === 200 || r.status === 201, `${method} ${p}: ${r.status} ${r.text}`);
  return r;
}

async function refused(t: TestSimulator, method: string, p: string, body: string | undefined, status: number, detail: string): Promise<void> {
  const r = await t.api(method, p, body);
  assert.equal(r.status, status, `${method} ${p}: ${r.text}`);
  assert.equal(r.xml.action?.fault?.detail ?? r.xml.fault?.detail, detail);
}

describe("simulator: moving a data domain between data centers and registering its VMs and templates", function () {
  this.timeout(120_000);
  // a new simulator for every test: each runs the steps of the move that come before it (set-up functions below)
  let t: TestSimulator;
  const I: Record<string, string> = {};
  let sums: Record<string, string[]> = {};
  beforeEach(async () => {
    t = await startTestSimulator({
      engineName: "engine-dd",
      bandwidthMiBps: 1000,
      inventory: {
        macPools: [
          { name: "Default", ranges: [{ from: "56:6f:dd:00:00:00", to: "56:6f:dd:00:00:ff" }] },
          { name: "src-pool", ranges: [{ from: "56:6f:aa:00:00:00", to: "56:6f:aa:00:00:ff" }] },
        ],
        dataCenters: [
          {
            name: "dc-src",
            clusters: [{ name: "cl-src", macPool: "src-pool" }],
            hosts: [{ name: "h-src", cluster: "cl-src" }],
            storageDomains: [{ name: "data-src" }, { name: "data-move" }],
          },
          {
            name: "dc-dst",
            clusters: [{ name: "cl-dst" }, { name: "cl-dst-ppc", cpuArchitecture: "ppc64" }],
            hosts: [{ name: "h-dst", cluster: "cl-dst" }],
            storageDomains: [{ name: "data-dst" }],
          },
        ],
        templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
        vms: [
          { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-move" }, { sizeMiB: 8, sparse: false, storageDomain: "data-move" }], nics: [{ mac: "56:6f:aa:00:00:10" }] },
          { name: "thin", cluster: "cl-src", template: "tpl" },
          { name: "split", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-src" }] },
          { name: "run", cluster: "cl-src", status: "up", disks: [{ sizeMiB: 8, storageDomain: "data-move" }] },
          { name: "stay", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-src" }] },
          // holds web's MAC in the target cluster's pool (Default): a plain register of web duplicates it
          { name: "dst-holder", cluster: "cl-dst", disks: [{ sizeMiB: 8 }], nics: [{ mac: "56:6f:aa:00:00:10" }] },
        ],
      },
    });
    for (const n of ["dc-src", "dc-dst"]) I[n] = await idOf(t, "datacenters", n);
    for (const n of ["data-src", "data-move", "data-dst"]) I[n] = await idOf(t, "storagedomains", n);
    for (const n of ["web", "thin", "split", "run", "stay"]) I[n] = await idOf(t, "vms", n);
    I.tpl = await idOf(t, "templates", "tpl");
    // the content before any move, compared with what is registered after it
    sums = {
      web: sumsOf(await vmReport(t, "web")),
      thin: sumsOf(await vmReport(t, "thin")),
      // split's disk on data-move only (the one that moves)
      split: (await vmReport(t, "split")).disks.filter((d: Any) => d.alias === "split_Disk1").map((d: Any) => d.sha256),
      tpl: sumsOf(await tplReport(t, "tpl")),
    };
  });
  afterEach(async () => {
    await t?.close();
  });

  const sdIn = (dc: string, sd: string) => `datacenters/${I[dc]}/storagedomains/${I[sd]}`;
  const reg = (kind: "vms" | "templates", id: string, inner: string) => t.api("POST", `storagedomains/${I["data-move"]}/${kind}/${id}/register`, xmlAction(inner));
  // set-up steps of the scenario, each test running those before it
  const deactivated = async () => {
    await ok(t, "POST", `vms/${I.run}/stop`, "<action/>");
    await ok(t, "POST", `${sdIn("dc-src", "data-move")}/deactivate`, "<action/>");
  };
  const movedToDst = async () => {
    await deactivated();
    await ok(t, "DELETE", sdIn("dc-src", "data-move"));
    await ok(t, "POST", `datacenters/${I["dc-dst"]}/storagedomains`, `<storage_domain id="${I["data-move"]}"/>`);
  };
  const registered = async () => {
    await movedToDst();
    const cl = "<cluster><name>cl-dst</name></cluster>";
    for (const [kind, id, inner] of [["templates", I.tpl, cl], ["vms", I.thin, cl], ["vms", I.web, `${cl}<reassign_bad_macs>true</reassign_bad_macs>`], ["vms", I.run, `${cl}<name>run-moved</name>`]] as const) {
      const r = await reg(kind, id, inner);
      assert.equal(r.status, 200, `set-up: register ${kind} ${id}: ${r.text}`);
    }
  };

  it("refuses to deactivate a data domain with running VMs on it and to detach the master while other domains are attached", async () => {
    assert.ok(sums.web.every((s) => /^[0-9a-f]{64}$/.test(s)));
    // DeactivateStorageDomainCommand: VMs not down with disks on the domain
    await refused(t, "POST", `${sdIn("dc-src", "data-move")}/deactivate`, "<action/>", 409,
      '[Cannot deactivate Storage. VMs in a state other than "Down" were detected.\n-Please ensure all VMs associated with this Storage Domain are stopped and in the Down state first.]');
    await ok(t, "POST", `vms/${I.run}/stop`, "<action/>");
    await ok(t, "POST", `${sdIn("dc-src", "data-move")}/deactivate`, "<action/>");
    // the master goes to maintenance too (no other active domain takes the role); it cannot leave while data-move is attached
    await ok(t, "POST", `${sdIn("dc-src", "data-src")}/deactivate`, "<action/>");
    await refused(t, "DELETE", sdIn("dc-src", "data-src"), undefined, 409,
      "[Cannot detach the master Storage Domain from the Data Center while there are other storage domains attached to it.\n-Please try to activate another Storage Domain in the Data Center.]");
    // and a non-master cannot leave while the master is not active (checkMasterDomainIsUp)
    await refused(t, "DELETE", sdIn("dc-src", "data-move"), undefined, 409,
      "[Failed to detach Storage due to an error on the Data Center master Storage Domain.\n-Please activate the master Storage Domain first.]");
    await ok(t, "POST", `${sdIn("dc-src", "data-src")}/activate`, "<action/>");
    // nothing moved: the VMs are still there
    assert.ok(await vmReport(t, "web"));
  });

  it("detach removes the domain's entities from the engine; attach elsewhere lists them as unregistered", async () => {
    await deactivated();
    await ok(t, "DELETE", sdIn("dc-src", "data-move"));
    const vms = names((await t.api("GET", "vms")).xml.vms?.vm);
    // whole VMs on the domain (and the thin VM of a template there) are gone; split keeps its disk on data-src
    assert.deepEqual(vms, ["dst-holder", "split", "stay"]);
    assert.ok(!names((await t.api("GET", "templates")).xml.templates?.template).includes("tpl"));
    assert.equal((await vmReport(t, "split")).disks.length, 1);
    // not attached anywhere: nothing unregistered is read yet... (the rows come with the attach)
    await ok(t, "POST", `datacenters/${I["dc-dst"]}/storagedomains`, `<storage_domain id="${I["data-move"]}"/>`);
    const st = await t.api("GET", sdIn("dc-dst", "data-move"));
    assert.equal(st.xml.storage_domain.status, "active");
    const un = await t.api("GET", `storagedomains/${I["data-move"]}/vms?unregistered=true`);
    assert.equal(un.status, 200, un.text);
    assert.deepEqual(names(un.xml.vms.vm), ["run", "split", "thin", "web"]);
    const unT = await t.api("GET", `storagedomains/${I["data-move"]}/templates;unregistered`);
    assert.deepEqual(names(unT.xml.templates.template), ["tpl"]);
    // without the parameter: the registered entities with disks there (none yet)
    assert.deepEqual(arr((await t.api("GET", `storagedomains/${I["data-move"]}/vms`)).xml.vms?.vm), []);
  });

  it("register: templates before their thin VMs, the cluster's architecture, MACs, names; disks are the same bytes", async () => {
    await movedToDst();
    // a thin VM needs its template registered first (ImportVmCommand.templateExists)
    let r = await reg("vms", I.thin, `<cluster><name>cl-dst</name></cluster>`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import VM. The relevant Template doesn't exist.]");
    r = await reg("templates", I.tpl, `<cluster><name>cl-dst-ppc</name></cluster>`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import Template. The selected cluster doesn't support Template's architecture]");
    r = await reg("templates", I.tpl, `<cluster><name>cl-dst</name></cluster>`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.xml.action.status, "complete");
    assert.deepEqual(sumsOf(await tplReport(t, "tpl")), sums.tpl);
    assert.equal((await tplReport(t, "tpl")).dataCenter, "dc-dst");
    assert.equal((await events(t, 180)).length, 1);
    r = await reg("vms", I.thin, `<cluster><name>cl-dst</name></cluster>`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(sumsOf(await vmReport(t, "thin")), sums.thin, "the thin VM reads through the registered template's volume");
    // thin's MAC came from the source pool, outside the target's ranges: kept, reported (MAC_ADDRESS_IS_EXTERNAL)
    assert.ok((await events(t, 925)).some((ev) => /^VM thin has MAC address\(es\) 56:6f:aa:/.test(ev.description)));

    // web's MAC is in use in the target pool (dst-holder): refused without reassign_bad_macs (ImportVmCommandBase.validate
    // checks MACs before ImportVmCommand's architecture check)
    r = await reg("vms", I.web, `<cluster><name>cl-dst-ppc</name></cluster>`);
    assert.equal(r.status, 409, r.text);
    assert.match(r.xml.action.fault.detail, /would create duplicates in target MAC pool.*Problematic NICs are \tnic1\]$/s);
    r = await reg("vms", I.web, `<cluster><name>cl-dst-ppc</name></cluster><reassign_bad_macs>true</reassign_bad_macs>`);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import VM. The selected cluster doesn't support VM architecture]");
    r = await reg("vms", I.web, `<cluster><name>cl-dst</name></cluster><reassign_bad_macs>true</reassign_bad_macs>`);
    assert.equal(r.status, 200, r.text);
    const web = await vmReport(t, "web");
    assert.equal(web.dataCenter, "dc-dst");
    assert.deepEqual(sumsOf(web), sums.web, "registered disks are the same volumes: same bytes");
    const nics = arr((await t.api("GET", `vms/${I.web}/nics`)).xml.nics.nic);
    assert.match(nics[0].mac.address, /^56:6f:dd:00:00:/, "a new MAC from the target pool");
    assert.equal(arr((await t.api("GET", `vms/${I.web}/snapshots`)).xml.snapshots.snapshot).length, 2, "snapshots come with the OVF");
    const jobs = arr((await t.api("GET", "jobs")).xml.jobs.job).map((j: Any) => j.description);
    assert.ok(jobs.includes("Importing VM web from configuration to Cluster cl-dst"), jobs.join("; "));
    assert.ok((await events(t, 174)).some((ev) => ev.description === "VM web has been successfully imported from the given configuration."));

    // registered entities leave the unregistered list
    const un = await t.api("GET", `storagedomains/${I["data-move"]}/vms?unregistered=true`);
    assert.deepEqual(names(un.xml.vms.vm), ["run", "split"]);
    // name taken in the data center (the action's <name> renames)
    r = await reg("vms", I.run, `<cluster><name>cl-dst</name></cluster><name>web</name>`);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.xml.action.fault.detail, "[Import VM failed - VM Name already exists in the Data Center. Please rename the VM in the Data Center first]");
    r = await reg("vms", I.run, `<cluster><name>cl-dst</name></cluster><name>run-moved</name>`);
    assert.equal(r.status, 200, r.text);
    assert.equal((await vmReport(t, "run-moved")).id, I.run);
  });

  it("partial import: a disk on a domain that did not move, a disk the engine still has, the VM id in use", async () => {
    await registered();
    // split's second disk is on data-src (still in dc-src, and still split's in this engine)
    let r = await reg("vms", I.split, `<cluster><name>cl-dst</name></cluster>`);
    assert.equal(r.status, 409, r.text);
    assert.match(r.xml.action.fault.detail, /^\[Cannot import VM\. The following disks already exist: split_Disk2\. Please import as a clone\.\]$/);
    r = await reg("vms", I.split, `<cluster><name>cl-dst</name></cluster><allow_partial_import>true</allow_partial_import>`);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.xml.action.fault.detail, "[Import VM failed - VM ID already exists in the system. Please remove the VM (split) from the system first]");
    // rename with <vm><name> crashes the engine's restapi on this path (null parameters VM)
    r = await reg("vms", I.split, `<cluster><name>cl-dst</name></cluster><clone>true</clone><vm><name>x</name></vm>`);
    assert.equal(r.status, 500, r.text);
    r = await reg("vms", I.split, `<cluster><name>cl-dst</name></cluster><allow_partial_import>true</allow_partial_import><clone>true</clone><name>split-copy</name>`);
    assert.equal(r.status, 200, r.text);
    const copy = await vmReport(t, "split-copy");
    assert.notEqual(copy.id, I.split);
    assert.equal(sums.split.length, 1);
    assert.deepEqual(sumsOf(copy), sums.split);
    assert.ok((await events(t, 1188)).some((ev) => ev.description === "The following entities could not be verified and will not be part of the imported VM split-copy: 'Disks: split_Disk2 ' (User: admin@internal-authz)."));
    assert.deepEqual(arr((await t.api("GET", `storagedomains/${I["data-move"]}/vms?unregistered=true`)).xml.vms?.vm), []);
  });

  it("the OVF store moves with the domain: deactivate writes it, a second move lists the registered entities again", async () => {
    await registered();
    const copy = await reg("vms", I.split, `<cluster><name>cl-dst</name></cluster><allow_partial_import>true</allow_partial_import><clone>true</clone><name>split-copy</name>`);
    assert.equal(copy.status, 200, `set-up: register split as split-copy: ${copy.text}`);
    // the domain now holds registered entities of dc-dst; moving it back lists them in dc-src
    await ok(t, "POST", `${sdIn("dc-dst", "data-move")}/deactivate`, "<action/>");
    await ok(t, "DELETE", sdIn("dc-dst", "data-move"));
    assert.equal(await vmReport(t, "web"), undefined);
    await ok(t, "POST", `datacenters/${I["dc-src"]}/storagedomains`, `<storage_domain id="${I["data-move"]}"/>`);
    const un = await t.api("GET", `storagedomains/${I["data-move"]}/vms?unregistered=true`);
    assert.deepEqual(names(un.xml.vms.vm), ["run-moved", "split-copy", "thin", "web"]);
    const r = await reg("vms", I.web, `<cluster><name>cl-src</name></cluster>`);
    assert.equal(r.status, 200, r.text);
    const web = await vmReport(t, "web");
    assert.equal(web.dataCenter, "dc-src");
    assert.deepEqual(sumsOf(web), sums.web, "two moves later: still the same bytes");
  });
});

describe("simulator: moving a data domain to another engine (remove without format, import, attach, register)", function () {
  this.timeout(120_000);
  let A: TestSimulator, B: TestSimulator;
  before(async () => {
    A = await startTestSimulator({
      engineName: "engine-a",
      bandwidthMiBps: 1000,
      inventory: {
        dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a" }, { name: "data-x" }] }],
        vms: [
          { name: "app", cluster: "cl-a", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-x" }, { sizeMiB: 8, sparse: false, storageDomain: "data-x" }] },
          // one disk stays behind on data-a: engine B can register it only partially
          { name: "two", cluster: "cl-a", disks: [{ sizeMiB: 8, storageDomain: "data-x" }, { sizeMiB: 8, storageDomain: "data-a" }] },
        ],
      },
    });
    B = await startTestSimulator({
      engineName: "engine-b",
      bandwidthMiBps: 1000,
      inventory: { dataCenters: [{ name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b" }] }] },
    });
  });
  after(async () => {
    await A?.close();
    await B?.close();
  });

  it("engine B registers engine A's VM from the imported domain; the disks are the same bytes", async () => {
    const app = await idOf(A, "vms", "app");
    const sdX = await idOf(A, "storagedomains", "data-x");
    const dcA = await idOf(A, "datacenters", "dc-a");
    const src = sumsOf(await vmReport(A, "app"));
    const two = await idOf(A, "vms", "two");
    const twoMoving = (await vmReport(A, "two")).disks.filter((d: Any) => d.alias === "two_Disk1").map((d: Any) => d.sha256);
    await ok(A, "POST", `datacenters/${dcA}/storagedomains/${sdX}/deactivate`, "<action/>");
    await ok(A, "DELETE", `datacenters/${dcA}/storagedomains/${sdX}`);
    await ok(A, "DELETE", `storagedomains/${sdX}?host=host-a&format=false`);
    assert.equal(await vmReport(A, "app"), undefined);

    const hostB = await idOf(B, "hosts", "host-b");
    const mount = path.join(A.stateDir, "storage", "data-x");
    const add = await B.api("POST", "storagedomains", `<storage_domain><name>data-x</name><type>data</type><import>true</import><host id="${hostB}"/><storage><type>nfs</type><address>127.0.0.1</address><path>${mount}</path></storage></storage_domain>`);
    assert.equal(add.status, 201, add.text);
    assert.equal(add.xml.storage_domain["@_id"], sdX);
    // unattached: the OVF store is read only when the domain joins a data center
    assert.deepEqual(arr((await B.api("GET", `storagedomains/${sdX}/vms?unregistered=true`)).xml.vms?.vm), []);
    let r = await B.api("POST", `storagedomains/${sdX}/vms/${app}/register`, xmlAction(`<cluster><name>cl-b</name></cluster>`));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import VM. VM is not found.]");

    const dcB = await idOf(B, "datacenters", "dc-b");
    await ok(B, "POST", `datacenters/${dcB}/storagedomains`, `<storage_domain id="${sdX}"/>`);
    const un = await B.api("GET", `storagedomains/${sdX}/vms?unregistered=true`);
    assert.deepEqual(names(un.xml.vms.vm), ["app", "two"]);
    // no cluster given and none named like the OVF's (cl-a) in engine B
    r = await B.api("POST", `storagedomains/${sdX}/vms/${app}/register`, xmlAction(""));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import VM. The relevant Cluster doesn't exist.]");
    // a cluster mapping cl-a -> cl-b picks the cluster
    r = await B.api("POST", `storagedomains/${sdX}/vms/${app}/register`, xmlAction(`<registration_configuration><cluster_mappings><registration_cluster_mapping><from><name>cl-a</name></from></registration_cluster_mapping></cluster_mappings></registration_configuration>`));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.fault?.detail ?? r.xml.action?.fault?.detail, "Cluster name is missing from destination.");
    r = await B.api("POST", `storagedomains/${sdX}/vms/${app}/register`, xmlAction(`<registration_configuration><cluster_mappings><registration_cluster_mapping><from><name>cl-a</name></from><to><name>cl-b</name></to></registration_cluster_mapping></cluster_mappings></registration_configuration>`));
    assert.equal(r.status, 200, r.text);
    const vm = await vmReport(B, "app");
    assert.equal(vm.id, app);
    assert.equal(vm.dataCenter, "dc-b");
    assert.deepEqual(sumsOf(vm), src);
    // two's second disk is on data-a, which engine B does not have (ImportValidator.validateStorageExistForUnregisteredEntity)
    r = await B.api("POST", `storagedomains/${sdX}/vms/${two}/register`, xmlAction(`<cluster><name>cl-b</name></cluster>`));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.xml.action.fault.detail, "[Cannot import VM. Storage Domain doesn't exist.]");
    r = await B.api("POST", `storagedomains/${sdX}/vms/${two}/register`, xmlAction(`<cluster><name>cl-b</name></cluster><allow_partial_import>true</allow_partial_import>`));
    assert.equal(r.status, 200, r.text);
    const twoB = await vmReport(B, "two");
    assert.deepEqual(twoB.disks.map((d: Any) => d.sha256), twoMoving);
    const partial = arr((await B.api("GET", `events?search=${encodeURIComponent("type=1188")}`)).xml.events?.event);
    assert.ok(partial.some((ev: Any) => ev.description === "The following entities could not be verified and will not be part of the imported VM two: 'Disks: two_Disk2 ' (User: admin@internal-authz)."));
    // engine A still has two with its disk on data-a (Remove_Entities_From_storage_domain keeps VMs with disks elsewhere)
    assert.deepEqual((await vmReport(A, "two")).disks.map((d: Any) => d.alias), ["two_Disk2"]);
    // once registered, a second register is refused (the row is gone)
    r = await B.api("POST", `storagedomains/${sdX}/vms/${app}/register`, xmlAction(`<cluster><name>cl-b</name></cluster>`));
    assert.equal(r.status, 400, r.text);
  });
});
