// MAC pools (issue 11, item 5): pools per cluster, MACs allocated from the pool's ranges, and an import's MAC rules,
// each following the engine class named in simulator/model/macPools.ts and services/macPools.ts:
// - ImportVmCommandBase.validate: a plain import whose MACs are in use in the target cluster's pool is refused (409,
//   ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES naming the NICs), before the VM-id rule, unless the
//   pool allows duplicates;
// - a clone gets new MACs from the target pool (addVmInterfaces) and needs enough of them
//   (MAC_POOL_NOT_ENOUGH_MAC_ADDRESSES); a plain import keeps its MACs and reports those outside the ranges (925).
import * as assert from "node:assert/strict";
import { arr, ApiReply, startTestSimulator, TestSimulator } from "../support/simulator";
import { exportAndWait, idOf, moveExportDomain, xmlAction } from "./helpers";

const DUPLICATES =
  "Cannot import Virtual Machine, because that action would create duplicates in target MAC pool, which are not allowed. " +
  "Either allow duplicate MACs in MAC Pool, or allow reassignment of bad MACs during import. Problematic NICs are ";

const inventory = {
  macPools: [
    { name: "Default", ranges: [{ from: "56:6f:00:00:00:00", to: "56:6f:00:00:00:0f" }] },
    { name: "dup-ok", allowDuplicates: true, ranges: [{ from: "56:6f:00:01:00:00", to: "56:6f:00:01:00:ff" }] },
    { name: "tiny", ranges: [{ from: "56:6f:00:02:00:00", to: "56:6f:00:02:00:00" }] },
  ],
  dataCenters: [
    {
      name: "dc-src",
      clusters: [{ name: "cl-src" }],
      hosts: [{ name: "h-src", cluster: "cl-src" }],
      storageDomains: [{ name: "data-src" }],
    },
    {
      name: "dc-dst",
      clusters: [{ name: "cl-dst" }, { name: "cl-dup", macPool: "dup-ok" }, { name: "cl-tiny", macPool: "tiny" }],
      hosts: [{ name: "h-dst", cluster: "cl-dst" }],
      storageDomains: [{ name: "data-dst" }],
    },
  ],
  exportDomains: [{ name: "export1", path: "exports/export1", attachedTo: "dc-src" }],
  vms: [
    { name: "web", cluster: "cl-src", disks: [{ sizeMiB: 4 }] },
    { name: "two", cluster: "cl-src", nics: 2, disks: [{ sizeMiB: 4 }] },
    // a MAC from outside every range (a VM that came from another engine)
    { name: "ext", cluster: "cl-src", nics: [{ name: "eth0", mac: "00:1A:4A:16:01:51" }], disks: [{ sizeMiB: 4 }] },
    // takes the only MAC of pool "tiny"
    { name: "holder", cluster: "cl-tiny", nics: [{ mac: "56:6f:00:02:00:00" }], disks: [{ sizeMiB: 4 }] },
  ],
};

async function nicsOf(t: TestSimulator, vmId: string): Promise<Array<{ name: string; mac: string }>> {
  const r = await t.api("GET", `vms/${vmId}/nics`);
  assert.equal(r.status, 200, r.text);
  return arr(r.xml.nics?.nic).map((n: any) => ({ name: n.name, mac: n.mac.address }));
}

/** A refused import: status, the engine's detail, and nothing changed (no VM, no job). */
async function refused(t: TestSimulator, call: () => Promise<ApiReply>, status: number, detail: string): Promise<void> {
  const before = JSON.stringify([arr((await t.api("GET", "vms")).xml.vms.vm).map((v: any) => v["@_id"]), (await t.admin("GET", "stats")).jobs.length]);
  const r = await call();
  assert.equal(r.status, status, r.text);
  assert.equal(r.xml.action.fault.reason, "Operation Failed");
  assert.equal(r.xml.action.fault.detail, detail);
  const after = JSON.stringify([arr((await t.api("GET", "vms")).xml.vms.vm).map((v: any) => v["@_id"]), (await t.admin("GET", "stats")).jobs.length]);
  assert.equal(after, before, "a refused import changed the engine");
}

describe("simulator: MAC pools per cluster and the import's MAC rules", function () {
  this.timeout(120_000);
  let t: TestSimulator;
  const id: Record<string, string> = {};
  before(async () => {
    t = await startTestSimulator({ inventory, bandwidthMiBps: 2000 });
    for (const n of ["web", "two", "ext", "holder"]) id[n] = await idOf(t, "vms", n);
    for (const n of ["cl-src", "cl-dst", "cl-dup", "cl-tiny"]) id[n] = await idOf(t, "clusters", n);
    for (const n of ["export1", "data-dst"]) id[n] = await idOf(t, "storagedomains", n);
    for (const n of ["dc-src", "dc-dst"]) id[n] = await idOf(t, "datacenters", n);
  });
  after(async () => t?.close());

  const importBody = (cluster: string, extra = "") => xmlAction(`<storage_domain id="${id["data-dst"]}"/><cluster id="${id[cluster]}"/>${extra}`);
  const importVm = (vm: string, cluster: string, extra = "") => t.api("POST", `storagedomains/${id.export1}/vms/${id[vm]}/import`, importBody(cluster, extra));

  it("GET /macpools and /macpools/{id}: the pools with the API model's fields; each cluster links its pool", async () => {
    const r = await t.api("GET", "macpools");
    assert.equal(r.status, 200, r.text);
    const pools = arr(r.xml.mac_pools.mac_pool);
    assert.deepEqual(pools.map((p: any) => p.name).sort(), ["Default", "dup-ok", "tiny"]);
    const def = pools.find((p: any) => p.name === "Default");
    // dbscripts 00210_insert_mac_pools.sql: the default pool's id, description and flags
    assert.equal(def["@_id"], "58ca604b-017d-0374-0220-00000000014e");
    assert.equal(def.description, "Default MAC pool");
    assert.equal(def.default_pool, "true");
    assert.equal(def.allow_duplicates, "false");
    assert.deepEqual(arr(def.ranges.range), [{ from: "56:6f:00:00:00:00", to: "56:6f:00:00:00:0f" }]);
    const dup = pools.find((p: any) => p.name === "dup-ok");
    assert.equal(dup.allow_duplicates, "true");
    assert.equal(dup.default_pool, "false");
    const one = await t.api("GET", `macpools/${dup["@_id"]}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.xml.mac_pool.name, "dup-ok");
    assert.equal((await t.api("GET", "macpools/00000000-0000-0000-0000-00000000dead")).status, 404);
    const cl = await t.api("GET", `clusters/${id["cl-dup"]}`);
    assert.equal(cl.xml.cluster.mac_pool["@_id"], dup["@_id"]);
    const dst = await t.api("GET", `clusters/${id["cl-dst"]}`);
    assert.equal(dst.xml.cluster.mac_pool["@_id"], def["@_id"]);
  });

  it("seeded VMs take their MACs from their cluster's pool, from the bottom of its range, once each; explicit MACs stay", async () => {
    const web = await nicsOf(t, id.web);
    const two = await nicsOf(t, id.two);
    // Range.findUnusedMac: the next clear bit, starting at the bottom
    assert.deepEqual([...web, ...two].map((n) => n.mac), ["56:6f:00:00:00:00", "56:6f:00:00:00:01", "56:6f:00:00:00:02"]);
    assert.deepEqual(two.map((n) => n.name), ["nic1", "nic2"]);
    assert.deepEqual(await nicsOf(t, id.ext), [{ name: "eth0", mac: "00:1a:4a:16:01:51" }]);
    assert.deepEqual((await nicsOf(t, id.holder)).map((n) => n.mac), ["56:6f:00:02:00:00"]);
  });

  it("an inventory giving one MAC twice in a pool without duplicates is refused, naming both VMs and the fix", async () => {
    await assert.rejects(
      startTestSimulator({
        inventory: {
          dataCenters: [{ name: "d", clusters: [{ name: "c" }], storageDomains: [{ name: "s" }] }],
          vms: [
            { name: "a", cluster: "c", nics: [{ mac: "56:6f:aa:aa:00:01" }] },
            { name: "b", cluster: "c", nics: [{ mac: "56:6f:aa:aa:00:01" }] },
          ],
        },
      }),
      /MAC 56:6f:aa:aa:00:01 is given to VM a \(nic1\) and VM b \(nic1\), and MAC pool 'Default' allows no duplicates/,
    );
  });

  describe("imports", () => {
    before(async () => {
      for (const vm of ["web", "two", "ext"]) await exportAndWait(t, id[vm], id.export1);
      await moveExportDomain(t, id.export1, id["dc-src"], id["dc-dst"]);
    });

    it("a plain import whose MACs are in use in the target pool: 409 naming the NIC, before the VM-id rule", async () => {
      // web still exists (same id, same MAC, same Default pool): the engine answers for the MACs first
      await refused(t, () => importVm("web", "cl-dst"), 409, `[${DUPLICATES}\tnic1]`);
      // the NIC list as ReplacementUtils writes it
      await refused(t, () => importVm("two", "cl-dst"), 409, `[${DUPLICATES}\tnic1,\n\tnic2]`);
      // <clone>false</clone> is a plain import too
      await refused(t, () => importVm("web", "cl-dst", "<clone>false</clone>"), 409, `[${DUPLICATES}\tnic1]`);
    });

    it("a pool that allows duplicates lets the MACs through: the next rule (VM id already there) answers", async () => {
      await refused(t, () => importVm("web", "cl-dup"), 409, "[Import VM failed - VM ID already exists in the system. Please remove the VM (web) from the system first]");
    });

    it("a clone gets new MACs: the lowest free ones of the target cluster's pool", async () => {
      const r = await importVm("web", "cl-dst", "<clone>true</clone><vm><name>web-clone</name></vm>");
      assert.equal(r.status, 202, r.text);
      assert.equal(await t.waitJob(r.xml.action.job["@_id"]), "finished");
      const clone = await idOf(t, "vms", "web-clone");
      // 00..02 are web's and two's: the clone's single NIC gets 03
      assert.deepEqual(await nicsOf(t, clone), [{ name: "nic1", mac: "56:6f:00:00:00:03" }]);
      assert.deepEqual((await nicsOf(t, id.web)).map((n) => n.mac), ["56:6f:00:00:00:00"], "the source keeps its MAC");
    });

    it("a clone into a cluster whose pool has no free MAC: 409 Not enough MAC addresses", async () => {
      await refused(t, () => importVm("web", "cl-tiny", "<clone>true</clone><vm><name>web-tiny</name></vm>"), 409, "[Cannot import VM. Not enough MAC addresses left in MAC Address Pool.]");
    });

    it("once the source VM is removed its MACs are free: the plain import keeps them", async () => {
      const del = await t.api("DELETE", `vms/${id.web}`);
      assert.equal(del.status, 200, del.text);
      const r = await importVm("web", "cl-dst");
      assert.equal(r.status, 202, r.text);
      assert.equal(await t.waitJob(r.xml.action.job["@_id"]), "finished");
      assert.deepEqual(await nicsOf(t, id.web), [{ name: "nic1", mac: "56:6f:00:00:00:00" }]);
    });

    it("a plain import of MACs outside the pool's ranges: imported as they are, with event 925 naming them", async () => {
      const del = await t.api("DELETE", `vms/${id.ext}`);
      assert.equal(del.status, 200, del.text);
      const r = await t.api("POST", `storagedomains/${id.export1}/vms/${id.ext}/import`, importBody("cl-dst"), { "Correlation-Id": "mac-ext-1" });
      assert.equal(r.status, 202, r.text);
      assert.equal(await t.waitJob(r.xml.action.job["@_id"]), "finished");
      assert.deepEqual(await nicsOf(t, id.ext), [{ name: "eth0", mac: "00:1a:4a:16:01:51" }]);
      const ev = await t.api("GET", `events?search=${encodeURIComponent("correlation_id=mac-ext-1")}`);
      const e925 = arr(ev.xml.events.event).filter((e: any) => e.code === "925");
      assert.equal(e925.length, 1, ev.text);
      assert.equal(e925[0].description, "VM ext has MAC address(es) 00:1a:4a:16:01:51, which is/are out of its MAC pool definitions.");
      assert.equal(e925[0].severity, "warning");
    });
  });
});
