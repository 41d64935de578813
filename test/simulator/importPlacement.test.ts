// Issue 11 items 1, 3 and 7: where an import from an export domain puts the disks, when it applies per-disk
// allocation, and where it reads collapse_snapshots — as the 4.5 engine does:
// - restapi AbstractBackendStorageDomainContentResource.getDiskToDestinationMap reads <action><vm><disk_attachments>
//   for VMs AND templates (a <template><disk_attachments> is never read); ensureDomainMap fills in the default
//   domain only when that map is empty;
// - only BackendStorageDomainVmResource reads allocation (setVolumesTypeFormat), and bll ImportVmCommand applies it
//   only to a collapsed copy (isCopyCollapseOrNoSnapshots): a chain copied as it is keeps its volumes' own;
// - collapse_snapshots is read through ParametersHelper (query or matrix parameter) only, never from the body.
import * as assert from "node:assert/strict";
import { arr, TestSimulator, withSimulator } from "../support/simulator";
import { Inventory } from "../../simulator/model/inventory";
import { diskSums, exportAndWait, idOf, moveExportDomain, sumsOf, xmlAction } from "./helpers";

const inventory: Inventory = {
  dataCenters: [
    {
      name: "dc-a",
      description: "",
      clusters: [{ name: "cl-a", cpuArchitecture: "x86_64", cpuProfiles: [] }],
      hosts: [{ name: "host-a", cluster: "cl-a", status: "up", virtV2v: true }],
      storageDomains: [{ name: "data-a", type: "data", storageType: "nfs", sizeGiB: 50 }],
    },
    {
      name: "dc-b",
      description: "",
      clusters: [{ name: "cl-b", cpuArchitecture: "x86_64", cpuProfiles: [] }],
      hosts: [{ name: "host-b", cluster: "cl-b", status: "up", virtV2v: true }],
      storageDomains: [
        { name: "data-b1", type: "data", storageType: "nfs", sizeGiB: 50 },
        { name: "data-b2", type: "data", storageType: "nfs", sizeGiB: 50 },
      ],
    },
  ],
  exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a", status: "active", sizeGiB: 100 }],
  templates: [
    {
      name: "tpl",
      cluster: "cl-a",
      storageDomain: "data-a",
      memoryMiB: 1024,
      cpus: 1,
      disks: [
        { alias: "tpl_os", sizeMiB: 8, sparse: false, format: "raw", interface: "virtio_scsi" },
        { alias: "tpl_data", sizeMiB: 4, sparse: true, format: "cow", interface: "virtio_scsi", bootable: false },
      ],
    },
  ],
  vms: [
    { name: "thin", cluster: "cl-a", status: "down", memoryMiB: 1024, cpus: 1, description: "", template: "tpl", snapshots: [], disks: [], nics: 1 },
    {
      name: "snappy", cluster: "cl-a", status: "down", memoryMiB: 1024, cpus: 1, description: "", snapshots: [{ description: "s1" }], nics: 1,
      disks: [{ alias: "snappy_disk", sizeMiB: 8, sparse: true, format: "cow", interface: "virtio_scsi" }],
    },
    {
      name: "flat", cluster: "cl-a", status: "down", memoryMiB: 1024, cpus: 1, description: "", snapshots: [], nics: 1,
      disks: [{ alias: "flat_disk", sizeMiB: 8, sparse: true, format: "cow", interface: "virtio_scsi" }],
    },
  ],
  macPools: [],
  groups: [],
} as unknown as Inventory;

interface Ctx {
  dcA: string;
  dcB: string;
  exp: string;
  b1: string;
  b2: string;
  clB: string;
  tpl: string;
  thin: string;
  snappy: string;
  flat: string;
  /** disk ids of the copies on the export domain, by alias */
  disk: Record<string, string>;
}

async function expectFault(r: Promise<{ status: number; xml: any; text: string }>, status: number, detail: string | RegExp): Promise<void> {
  const x = await r;
  assert.equal(x.status, status, x.text);
  const f = x.xml.fault ?? x.xml.action?.fault;
  assert.ok(f, x.text);
  if (typeof detail === "string") assert.equal(f.detail, detail);
  else assert.match(f.detail, detail);
}

/** storage domain id, format and sparse of each disk of a VM or template, by alias */
async function placedDisks(t: TestSimulator, coll: "vms" | "templates", id: string): Promise<Record<string, { sd: string; format: string; sparse: string }>> {
  const r = await t.api("GET", `${coll}/${id}?follow=disk_attachments.disk`);
  assert.equal(r.status, 200, r.text);
  const out: Record<string, { sd: string; format: string; sparse: string }> = {};
  const e = coll === "vms" ? r.xml.vm : r.xml.template;
  for (const d of arr(e.disk_attachments?.disk_attachment).map((a: any) => a.disk)) out[d.alias] = { sd: arr(d.storage_domains?.storage_domain)[0]?.["@_id"], format: d.format, sparse: d.sparse };
  return out;
}

/** <vm> or <template> element with per-disk entries (placement and optional allocation) */
function diskEntries(tag: "vm" | "template", entries: Array<{ id: string; sd?: string; sdName?: string; format?: string; sparse?: boolean }>): string {
  const da = entries
    .map((e) => {
      const sd = e.sd ? `<storage_domains><storage_domain id="${e.sd}"/></storage_domains>` : e.sdName ? `<storage_domains><storage_domain><name>${e.sdName}</name></storage_domain></storage_domains>` : "";
      const fmt = e.format ? `<format>${e.format}</format>` : "";
      const sp = e.sparse === undefined ? "" : `<sparse>${e.sparse}</sparse>`;
      return `<disk_attachment><disk id="${e.id}">${fmt}${sp}${sd}</disk></disk_attachment>`;
    })
    .join("");
  return `<${tag}><disk_attachments>${da}</disk_attachments></${tag}>`;
}

describe("simulator: import placement, allocation and collapse_snapshots (issue 11 items 1, 3, 7)", function () {
  this.timeout(120_000);
  withSimulator({ inventory, bandwidthMiBps: 2000 }, (t) => {
    const c = {} as Ctx;
    const importAction = (coll: "vms" | "templates", id: string, inner: string, q = "") =>
      t().api("POST", `storagedomains/${c.exp}/${coll}/${id}/import${q}`, xmlAction(`<storage_domain id="${c.b1}"/><cluster id="${c.clB}"/><async>false</async>${inner}`));
    const removeImported = async (coll: "vms" | "templates", id: string) => {
      const r = await t().api("DELETE", `${coll}/${id}`);
      assert.equal(r.status, 200, r.text);
    };

    before(async () => {
      c.dcA = await idOf(t(), "datacenters", "dc-a");
      c.dcB = await idOf(t(), "datacenters", "dc-b");
      c.exp = await idOf(t(), "storagedomains", "exp");
      c.b1 = await idOf(t(), "storagedomains", "data-b1");
      c.b2 = await idOf(t(), "storagedomains", "data-b2");
      c.clB = await idOf(t(), "clusters", "cl-b");
      c.tpl = await idOf(t(), "templates", "tpl");
      c.thin = await idOf(t(), "vms", "thin");
      c.snappy = await idOf(t(), "vms", "snappy");
      c.flat = await idOf(t(), "vms", "flat");
      const te = await t().api("POST", `templates/${c.tpl}/export`, xmlAction(`<storage_domain id="${c.exp}"/><async>false</async>`));
      assert.equal(te.status, 200, te.text);
      for (const v of [c.thin, c.snappy, c.flat]) await exportAndWait(t(), v, c.exp);
      // the sources leave this engine (ids are unique per engine): the copies are imported with their own ids
      for (const v of [c.thin, c.snappy, c.flat]) await removeImported("vms", v);
      await removeImported("templates", c.tpl);
      await moveExportDomain(t(), c.exp, c.dcA, c.dcB);
      c.disk = {};
      for (const [coll, id] of [["templates", c.tpl], ["vms", c.thin], ["vms", c.snappy], ["vms", c.flat]] as const) {
        const r = await t().api("GET", `storagedomains/${c.exp}/${coll}/${id}/disks`);
        for (const d of arr(r.xml.disks.disk)) c.disk[d.alias] = d["@_id"];
      }
    });

    it("item 1: a template's per-disk placement under <template> is never read: every disk lands on the action's storage_domain", async () => {
      const r = await importAction("templates", c.tpl, diskEntries("template", [{ id: c.disk.tpl_os, sd: c.b2 }, { id: c.disk.tpl_data, sd: c.b2 }]));
      assert.equal(r.status, 200, r.text);
      const placed = await placedDisks(t(), "templates", c.tpl);
      assert.deepEqual(Object.values(placed).map((d) => d.sd), [c.b1, c.b1]);
      await removeImported("templates", c.tpl);
    });

    it("item 1: under <vm> (getDiskToDestinationMap) the template's disks land where mapped; allocation there is ignored", async () => {
      const r = await importAction("templates", c.tpl, diskEntries("vm", [{ id: c.disk.tpl_os, sd: c.b2, format: "cow", sparse: true }, { id: c.disk.tpl_data, sd: c.b1, format: "raw", sparse: false }]));
      assert.equal(r.status, 200, r.text);
      const placed = await placedDisks(t(), "templates", c.tpl);
      assert.deepEqual(placed.tpl_os, { sd: c.b2, format: "raw", sparse: "false" }, "placed, allocation of the OVF kept");
      assert.deepEqual(placed.tpl_data, { sd: c.b1, format: "cow", sparse: "true" });
      await removeImported("templates", c.tpl);
    });

    it("a non-empty map must name every disk (ensureDomainMap fills defaults only into an empty map); a domain given by name is not read", async () => {
      await expectFault(importAction("templates", c.tpl, diskEntries("vm", [{ id: c.disk.tpl_os, sd: c.b2 }])), 400, "[Cannot import Template. Storage Domain doesn't exist.]");
      // a VM's disk without id: setVolumesTypeFormat's validateParameters (a template import never reads it)
      await expectFault(importAction("vms", c.flat, `<vm><disk_attachments><disk_attachment><disk><sparse>false</sparse></disk></disk_attachment></disk_attachments></vm>`), 400, "Disk [id] required for setVolumesTypeFormat");
      // name only: no entry in the map, so the default domain (data-b1)
      const r = await importAction("templates", c.tpl, diskEntries("vm", [{ id: c.disk.tpl_os, sdName: "data-b2" }, { id: c.disk.tpl_data, sdName: "data-b2" }]));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.values(await placedDisks(t(), "templates", c.tpl)).map((d) => d.sd), [c.b1, c.b1]);
      await removeImported("templates", c.tpl);
    });

    it("item 1: a thin VM finds its template only where the template really landed", async () => {
      // the template placed on data-b2 (both disks) the way the engine reads it
      const ti = await importAction("templates", c.tpl, diskEntries("vm", [{ id: c.disk.tpl_os, sd: c.b2 }, { id: c.disk.tpl_data, sd: c.b2 }]));
      assert.equal(ti.status, 200, ti.text);
      // default destination data-b1: the template is not there
      await expectFault(importAction("vms", c.thin, ""), 400, "[Cannot import VM. The selected Storage Domain does not contain the VM Template.]");
      const r = await t().api("POST", `storagedomains/${c.exp}/vms/${c.thin}/import`, xmlAction(`<storage_domain id="${c.b2}"/><cluster id="${c.clB}"/><async>false</async>`));
      assert.equal(r.status, 200, r.text);
      const placed = await placedDisks(t(), "vms", c.thin);
      assert.deepEqual(Object.values(placed).map((d) => d.sd), [c.b2, c.b2]);
      const sums = await diskSums(t());
      const vm = sums.vms.find((v: any) => v.id === c.thin);
      const copy = sums.exportDomains[0].vms.find((v: any) => v.id === c.thin);
      assert.deepEqual(sumsOf(vm), sumsOf(copy), "the thin VM reads its template's volumes on data-b2");
      await removeImported("vms", c.thin);
      await removeImported("templates", c.tpl);
    });

    it("item 3: without collapse a VM with snapshots keeps its chain and the per-disk format/sparse are ignored", async () => {
      const r = await importAction("vms", c.snappy, diskEntries("vm", [{ id: c.disk.snappy_disk, format: "raw", sparse: false }]));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await placedDisks(t(), "vms", c.snappy)).snappy_disk, { sd: c.b1, format: "cow", sparse: "true" });
      const snaps = await t().api("GET", `vms/${c.snappy}/snapshots`);
      assert.equal(arr(snaps.xml.snapshots.snapshot).length, 2, "the snapshot came along");
      await removeImported("vms", c.snappy);
      // collapsed (query parameter): one volume with the allocation asked for
      const r2 = await importAction("vms", c.snappy, diskEntries("vm", [{ id: c.disk.snappy_disk, format: "raw", sparse: false }]), "?collapse_snapshots=true");
      assert.equal(r2.status, 200, r2.text);
      assert.deepEqual((await placedDisks(t(), "vms", c.snappy)).snappy_disk, { sd: c.b1, format: "raw", sparse: "false" });
      await removeImported("vms", c.snappy);
    });

    it("item 3: a VM without snapshots or template is copied collapsed anyway: allocation applies without collapse_snapshots", async () => {
      const r = await importAction("vms", c.flat, diskEntries("vm", [{ id: c.disk.flat_disk, format: "raw", sparse: false, sd: c.b2 }]));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await placedDisks(t(), "vms", c.flat)).flat_disk, { sd: c.b2, format: "raw", sparse: "false" });
      await removeImported("vms", c.flat);
    });

    it("item 7: collapse_snapshots in the <action> body (where the Python SDK puts it) is not read; query and matrix parameters are", async () => {
      const body = `<clone>true</clone><vm><name>snappy-body</name></vm><collapse_snapshots>true</collapse_snapshots>`;
      await expectFault(importAction("vms", c.snappy, body), 400, "[Cannot import VM. The VM snappy has snapshots that must be collapsed.]");
      assert.equal(arr((await t().api("GET", "vms?search=name%3Dsnappy-body")).xml.vms?.vm).length, 0);
      // not a clone: imported with its chain, snapshots kept
      const plain = await importAction("vms", c.snappy, `<collapse_snapshots>true</collapse_snapshots>`);
      assert.equal(plain.status, 200, plain.text);
      assert.equal(arr((await t().api("GET", `vms/${c.snappy}/snapshots`)).xml.snapshots.snapshot).length, 2);
      await removeImported("vms", c.snappy);
      // ?collapse_snapshots=false is false (ParametersHelper), ;collapse_snapshots (matrix, empty value) is true
      await expectFault(importAction("vms", c.snappy, `<clone>true</clone><vm><name>snappy-q</name></vm>`, "?collapse_snapshots=false"), 400, /must be collapsed/);
      const m = await importAction("vms", c.snappy, `<clone>true</clone><vm><name>snappy-m</name></vm>`, ";collapse_snapshots");
      assert.equal(m.status, 200, m.text);
      const vm = arr((await t().api("GET", "vms?search=name%3Dsnappy-m")).xml.vms?.vm)[0];
      assert.equal(arr((await t().api("GET", `vms/${vm["@_id"]}/snapshots`)).xml.snapshots.snapshot).length, 1, "collapsed: the active snapshot only");
      await removeImported("vms", vm["@_id"]);
    });
  });
});
