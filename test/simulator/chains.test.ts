// Snapshot chains and thin template-based VMs: what lands on the export domain, and checksums through import.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { arr, withSimulator } from "../support/simulator";
import { diskSums, exportAndWait, ids, Ids, idOf, moveExportDomain, sumsOf, xmlAction } from "./helpers";

describe("simulator: snapshot chains and thin VMs", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 1000 }, (t) => {
    let I: Ids;
    let root: string;
    before(async () => {
      I = await ids(t());
      root = path.join(t().stateDir, "exports", "export1", I.export1);
    });
    const volumesOf = (diskId: string) => fs.readdirSync(path.join(root, "images", diskId)).filter((f) => !f.endsWith(".meta")).length;

    it("exports a snapshot chain as a chain (3 volumes), and flattened with discard_snapshots (1 volume); same content", async () => {
      const snap = await idOf(t(), "vms", "snap-01");
      await exportAndWait(t(), snap, I.export1);
      const disk = (await diskSums(t())).vms.find((v: any) => v.name === "snap-01").disks[0];
      assert.equal(volumesOf(disk.id), 3);
      const ovf = fs.readFileSync(path.join(root, "master", "vms", snap, `${snap}.ovf`), "utf8");
      assert.match(ovf, /<Description>before-upgrade<\/Description>/);
      assert.match(ovf, /ovf:parentRef="[0-9a-f-]+\/[0-9a-f-]+"/);
      const meta = fs.readdirSync(path.join(root, "images", disk.id)).filter((f) => f.endsWith(".meta"));
      const metas = meta.map((m) => fs.readFileSync(path.join(root, "images", disk.id, m), "utf8"));
      assert.equal(metas.filter((m) => /VOLTYPE=LEAF/.test(m)).length, 1);
      assert.equal(metas.filter((m) => /VOLTYPE=INTERNAL/.test(m)).length, 2);
      let sums = await diskSums(t());
      assert.deepEqual(sumsOf(sums.exportDomains[0].vms.find((v: any) => v.id === snap)), sumsOf(sums.vms.find((v: any) => v.id === snap)));
      const lst = await t().api("GET", `storagedomains/${I.export1}/vms/${snap}?follow=snapshots`);
      assert.equal(arr(lst.xml.vm.snapshots.snapshot).length, 3);

      await exportAndWait(t(), snap, I.export1, "<exclusive>true</exclusive><discard_snapshots>true</discard_snapshots>");
      assert.equal(volumesOf(disk.id), 1);
      sums = await diskSums(t());
      assert.deepEqual(sumsOf(sums.exportDomains[0].vms.find((v: any) => v.id === snap)), sumsOf(sums.vms.find((v: any) => v.id === snap)));
      // the flattened content differs from the base volume alone: the chain really holds deltas
      const base = sums.vms.find((v: any) => v.id === snap).disks[0];
      assert.equal(base.volumes, 3);
    });

    it("a thin VM exported without collapse keeps its template reference and only its own volumes", async () => {
      const thin = await idOf(t(), "vms", "thin-01");
      const tpl = await idOf(t(), "templates", "rhel9-base");
      await exportAndWait(t(), thin, I.export1);
      const x = await t().api("GET", `storagedomains/${I.export1}/vms/${thin}`);
      assert.equal(x.xml.vm.template["@_id"], tpl);
      const disk = (await diskSums(t())).vms.find((v: any) => v.name === "thin-01").disks[0];
      assert.equal(volumesOf(disk.id), 1, "only the overlay; the template's volume is not copied");
      const m = fs.readFileSync(path.join(root, "images", disk.id, fs.readdirSync(path.join(root, "images", disk.id)).find((f) => f.endsWith(".meta"))!), "utf8");
      assert.doesNotMatch(m, /PUUID=00000000-0000-0000-0000-000000000000/);
      const sums = await diskSums(t());
      assert.deepEqual(sumsOf(sums.exportDomains[0].vms.find((v: any) => v.id === thin)), sumsOf(sums.vms.find((v: any) => v.id === thin)));
    });

    it("imports the thin VM into the other DC after its template (same ids), without collapse; content equal", async () => {
      const thin = await idOf(t(), "vms", "thin-01");
      const tpl = await idOf(t(), "templates", "rhel9-base");
      // set-up: the thin VM's copy without collapse (as the test before makes it; exclusive replaces one it left)
      await exportAndWait(t(), thin, I.export1, "<exclusive>true</exclusive>");
      const te = await t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/><async>false</async>`));
      assert.equal(te.xml.action.status, "complete");
      const before = await diskSums(t());
      const srcThin = sumsOf(before.vms.find((v: any) => v.id === thin));
      // remove the source VM and template so that ids are free in this engine (a move)
      assert.equal((await t().api("DELETE", `vms/${thin}`)).status, 200);
      assert.equal((await t().api("DELETE", `templates/${tpl}`)).status, 200);
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      try {
        const ti = await t().api("POST", `storagedomains/${I.export1}/templates/${tpl}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><async>false</async>`));
        assert.equal(ti.xml.action.status, "complete", ti.text);
        const vi = await t().api("POST", `storagedomains/${I.export1}/vms/${thin}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><async>false</async>`));
        assert.equal(vi.xml.action.status, "complete", vi.text);
        const vm = await t().api("GET", `vms/${thin}`);
        assert.equal(vm.xml.vm.template["@_id"], tpl, "still thin: refers to its template");
        const after = await diskSums(t());
        const dst = after.vms.find((v: any) => v.id === thin);
        assert.equal(dst.dataCenter, "dc-target");
        assert.deepEqual(sumsOf(dst), srcThin);
        // the template cannot be removed while the thin VM depends on it
        const del = await t().api("DELETE", `templates/${tpl}`);
        assert.equal(del.status, 409);
        assert.equal(del.xml.fault.detail, "[Cannot delete Template. Template is being used by the following VMs: thin-01.]");
        // collapse on import gives a standalone copy
        const ci = await t().api("POST", `storagedomains/${I.export1}/vms/${thin}/import?collapse_snapshots=true`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>thin-flat</name></vm><collapse_snapshots>true</collapse_snapshots><async>false</async>`));
        assert.equal(ci.xml.action.status, "complete", ci.text);
        const flat = (await diskSums(t())).vms.find((v: any) => v.name === "thin-flat");
        assert.equal(flat.templateId, "00000000-0000-0000-0000-000000000000");
        assert.deepEqual(sumsOf(flat), srcThin);
      } finally {
        await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
      }
    });

    it("collapse_snapshots given only as a body element is not read (restapi: ParametersHelper, query/matrix only)", async () => {
      const snap = await idOf(t(), "vms", "snap-01");
      // the copy with its snapshot chain (the first test left a flat one)
      await exportAndWait(t(), snap, I.export1, "<exclusive>true</exclusive>");
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      try {
        const r = await t().api("POST", `storagedomains/${I.export1}/vms/${snap}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>snap-body</name></vm><collapse_snapshots>true</collapse_snapshots><async>false</async>`));
        assert.equal(r.status, 400, r.text);
        assert.equal((r.xml.fault ?? r.xml.action?.fault)?.detail, "[Cannot import VM. The VM snap-01 has snapshots that must be collapsed.]");
      } finally {
        await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
      }
    });
  });
});
