// XML shapes of the API: root, entities with href/id, DC-scoped storage domains, follow, search, max, faults.
import * as assert from "node:assert/strict";
import { arr, withSimulator } from "../support/simulator";
import { ids, Ids, idOf } from "./helpers";

describe("simulator: XML shapes, search and follow", function () {
  this.timeout(30_000);
  withSimulator({}, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });

    it("API root: product info, special objects, summary, collection and search links", async () => {
      const r = await t().api("GET", "");
      assert.equal(r.status, 200);
      assert.match(String(r.headers["content-type"]), /application\/xml/);
      const api = r.xml.api;
      assert.equal(api.product_info.name, "oVirt Engine");
      assert.equal(api.product_info.vendor, "ovirt.org");
      assert.equal(api.product_info.version.major, "4");
      assert.equal(api.special_objects.blank_template["@_id"], "00000000-0000-0000-0000-000000000000");
      const rels = arr(api.link).map((l: any) => l["@_rel"]);
      for (const rel of ["vms", "vms/search", "datacenters", "storagedomains", "jobs", "events", "externalvmimports"]) assert.ok(rels.includes(rel), rel);
      assert.equal(arr(api.link).find((l: any) => l["@_rel"] === "vms/search")["@_href"], "/ovirt-engine/api/vms?search={query}");
      assert.equal(api.summary.vms.total, "7");
    });

    it("VM entity: href/id, status, cpu architecture, memory, links; follow=disk_attachments.disk,nics inlines them", async () => {
      const id = await idOf(t(), "vms", "db-01");
      const r = await t().api("GET", `vms/${id}?follow=disk_attachments.disk,nics`);
      const vm = r.xml.vm;
      assert.equal(vm["@_href"], `/ovirt-engine/api/vms/${id}`);
      assert.equal(vm["@_id"], id);
      assert.equal(vm.status, "down");
      assert.equal(vm.memory, String(8192 * 1024 * 1024));
      assert.equal(vm.cpu.architecture, "x86_64");
      assert.equal(vm.template["@_id"], "00000000-0000-0000-0000-000000000000");
      assert.equal(vm.cluster["@_id"], I.clSource);
      assert.ok(arr(vm.link).some((l: any) => l["@_rel"] === "diskattachments"));
      assert.ok(arr(vm.actions.link).some((l: any) => l["@_rel"] === "export"));
      const das = arr(vm.disk_attachments.disk_attachment);
      assert.equal(das.length, 2);
      assert.deepEqual(das.map((d: any) => d.disk.alias).sort(), ["db-01_data", "db-01_os"]);
      const os = das.find((d: any) => d.disk.alias === "db-01_os").disk;
      assert.equal(os.format, "raw");
      assert.equal(os.sparse, "false");
      assert.equal(os.provisioned_size, String(48 * 1024 * 1024));
      assert.equal(arr(os.storage_domains.storage_domain)[0]["@_id"], I.dataSource);
      assert.equal(arr(vm.nics.nic).length, 1);
      assert.match(arr(vm.nics.nic)[0].mac.address, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    });

    it("search: case-insensitive, * wildcard, quoted values, and/or, max; unknown field is a 400", async () => {
      const names = async (q: string) => arr((await t().api("GET", `vms?search=${encodeURIComponent(q)}`)).xml.vms?.vm).map((v: any) => v.name).sort();
      assert.deepEqual(await names("name=WEB-01"), ["web-01"]);
      assert.deepEqual(await names('name="web-01"'), ["web-01"]);
      assert.deepEqual(await names("name=*-01 and status=up"), ["run-01"]);
      assert.deepEqual(await names("name=web* or name=db*"), ["db-01", "web-01"]);
      assert.deepEqual(await names("Vms: cluster=cl-source-ppc"), ["ppc-01"]);
      assert.deepEqual(await names("name=web-01 and datacenter=dc-target"), []);
      const m = await t().api("GET", "vms?max=2");
      assert.equal(arr(m.xml.vms.vm).length, 2);
      const cs = await t().api("GET", `vms?search=${encodeURIComponent("name=WEB-01")}&case_sensitive=true`);
      assert.equal(arr(cs.xml.vms?.vm).length, 0);
      const bad = await t().api("GET", `vms?search=${encodeURIComponent("bogus=1")}`);
      assert.equal(bad.status, 400);
      assert.ok(bad.xml.fault);
      const dcs = await t().api("GET", `datacenters?search=${encodeURIComponent('storage="export1"')}`);
      assert.deepEqual(arr(dcs.xml.data_centers.data_center).map((d: any) => d.name), ["dc-source"]);
    });

    it("storage domains: global status only when unattached; DC-scoped view carries status and data_center", async () => {
      const g = await t().api("GET", `storagedomains/${I.export1}`);
      assert.equal(g.xml.storage_domain.type, "export");
      assert.equal(g.xml.storage_domain.status, undefined);
      assert.equal(g.xml.storage_domain.storage.type, "nfs");
      assert.equal(arr(g.xml.storage_domain.data_centers.data_center)[0]["@_id"], I.dcSource);
      const s = await t().api("GET", `datacenters/${I.dcSource}/storagedomains/${I.export1}`);
      assert.equal(s.xml.storage_domain.status, "active");
      assert.equal(s.xml.storage_domain["@_href"], `/ovirt-engine/api/datacenters/${I.dcSource}/storagedomains/${I.export1}`);
      assert.equal(s.xml.storage_domain.data_center["@_id"], I.dcSource);
      const other = await t().api("GET", `datacenters/${I.dcTarget}/storagedomains/${I.export1}`);
      assert.equal(other.status, 404);
      const blk = await t().api("GET", `storagedomains/${I.blockTarget}`);
      assert.equal(blk.xml.storage_domain.storage.type, "iscsi");
      const list = await t().api("GET", `datacenters/${I.dcTarget}/storagedomains`);
      assert.deepEqual(arr(list.xml.storage_domains.storage_domain).map((x: any) => x.name).sort(), ["block-target", "data-target"]);
    });

    it("snapshots of a VM include the active one; templates list includes Blank; thin VM links its template", async () => {
      const snap = await idOf(t(), "vms", "snap-01");
      const s = await t().api("GET", `vms/${snap}/snapshots`);
      assert.deepEqual(arr(s.xml.snapshots.snapshot).map((x: any) => x.description), ["before-upgrade", "after-upgrade", "Active VM"]);
      const tl = await t().api("GET", "templates");
      assert.deepEqual(arr(tl.xml.templates.template).map((x: any) => x.name), ["Blank", "rhel9-base"]);
      const thin = await idOf(t(), "vms", "thin-01");
      const tpl = await idOf(t(), "templates", "rhel9-base");
      assert.equal((await t().api("GET", `vms/${thin}`)).xml.vm.template["@_id"], tpl);
    });

    it("faults: unknown entity -> 404 bare fault; unknown path -> 404; wrong method -> 405; malformed XML -> 400", async () => {
      const r = await t().api("GET", "vms/00000000-1111-2222-3333-444444444444");
      assert.equal(r.status, 404);
      assert.ok(r.xml.fault.reason);
      assert.equal((await t().api("GET", "nosuchcollection")).status, 404);
      assert.equal((await t().api("PUT", "datacenters", "<data_center/>")).status, 405);
      const id = await idOf(t(), "vms", "web-01");
      const bad = await t().api("POST", `vms/${id}/export`, "<action><storage_domain");
      assert.equal(bad.status, 400);
      assert.ok(bad.xml.fault);
    });

    it("hosts, clusters and events: shapes and events `from`", async () => {
      const h = await t().api("GET", "hosts");
      assert.ok(arr(h.xml.hosts.host).every((x: any) => x.status === "up" && x.cluster["@_id"]));
      const c = await t().api("GET", `clusters/${I.clSource}`);
      assert.equal(c.xml.cluster.cpu.architecture, "x86_64");
      assert.equal(c.xml.cluster.data_center["@_id"], I.dcSource);
      const run = await idOf(t(), "vms", "run-01");
      const evs0 = arr((await t().api("GET", "events?max=1")).xml.events?.event);
      const last = evs0.length ? Number(evs0[0].index) : 0;
      await t().api("POST", `vms/${run}/stop`, "<action/>");
      const evs = arr((await t().api("GET", `events?from=${last}`)).xml.events.event);
      assert.ok(evs.length >= 1);
      assert.ok(evs.every((e: any) => Number(e.index) > last));
      assert.ok(evs.some((e: any) => e.code === "33" && e.vm["@_id"] === run));
      await t().api("POST", `vms/${run}/start`, "<action/>");
    });

    it("DELETE answers 202 with X-Ovirt-Expect: 202-accepted (or ?async=true)", async () => {
      const app = await idOf(t(), "vms", "app-01");
      const r = await t().api("DELETE", `vms/${app}`, undefined, { "x-ovirt-expect": "202-accepted" });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.xml.action.status, "complete");
      assert.equal((await t().api("GET", `vms/${app}`)).status, 404);
    });
  });
});
