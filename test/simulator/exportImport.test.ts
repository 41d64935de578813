// Async export + import through the REST API, with checksums through the admin API.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { arr, withSimulator } from "../support/simulator";
import { diskSums, exportAndWait, ids, Ids, idOf, moveExportDomain, startExport, sumsOf, vmByName, xmlAction } from "./helpers";

describe("simulator: export and import", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 400 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
    });

    it("exports a VM asynchronously: 202 + job, image_locked meanwhile, job steps, events, OVF and volumes on disk", async () => {
      const vmId = await idOf(t(), "vms", "db-01");
      const cid = "11111111-2222-3333-4444-555555555555";
      const r = await t().api("POST", `vms/${vmId}/export`, xmlAction(`<storage_domain><name>export1</name></storage_domain><exclusive>true</exclusive>`), { "Correlation-Id": cid });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.headers["correlation-id"], cid);
      assert.equal(r.xml.action.async, "true");
      const jobId = r.xml.action.job["@_id"];
      assert.match(r.xml.action.job["@_href"], new RegExp(`/ovirt-engine/api/jobs/${jobId}$`));
      const vm = await t().api("GET", `vms/${vmId}`);
      assert.equal(vm.xml.vm.status, "image_locked");
      const byCid = await t().api("GET", `jobs?search=correlation_id%3D${cid}`);
      assert.equal(arr(byCid.xml.jobs.job).length, 1);
      assert.equal(arr(byCid.xml.jobs.job)[0]["@_id"], jobId);
      assert.equal(arr(byCid.xml.jobs.job)[0].description, "Exporting VM db-01 To Export Domain export1");
      assert.equal(await t().waitJob(jobId), "finished");
      const after = await t().api("GET", `vms/${vmId}`);
      assert.equal(after.xml.vm.status, "down");
      const steps = await t().api("GET", `jobs/${jobId}/steps`);
      const st = arr(steps.xml.steps.step);
      assert.ok(st.some((s: any) => s.type === "validating" && s.status === "finished"));
      assert.ok(st.some((s: any) => s.description === "Copying Image" && s.progress === "100"));
      assert.equal(st.filter((s: any) => s.description === "Copying Image").length, 2, "one copy step per disk");
      const ev = await t().api("GET", `events?search=correlation_id%3D${cid}`);
      const codes = arr(ev.xml.events.event).map((e: any) => e.code);
      assert.deepEqual(codes.sort(), ["1150", "1162"]);
      // on-disk layout
      const sdRoot = path.join(t().stateDir, "exports", "export1", I.export1);
      assert.ok(fs.existsSync(path.join(sdRoot, "master", "vms", vmId, `${vmId}.ovf`)));
      assert.match(fs.readFileSync(path.join(sdRoot, "dom_md", "metadata"), "utf8"), new RegExp(`SDUUID=${I.export1}`));
      const list = await t().api("GET", `storagedomains/${I.export1}/vms`);
      assert.deepEqual(arr(list.xml.vms.vm).map((v: any) => v.name), ["db-01"]);
      const sums = await diskSums(t());
      const src = sums.vms.find((v: any) => v.name === "db-01");
      const exp = sums.exportDomains[0].vms.find((v: any) => v.name === "db-01");
      assert.deepEqual(sumsOf(exp), sumsOf(src));
    });

    it("<async>false</async> blocks and answers 200 complete", async () => {
      const vmId = await idOf(t(), "vms", "web-01");
      const r = await t().api("POST", `vms/${vmId}/export`, xmlAction(`<storage_domain id="${I.export1}"/><async>false</async>`));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "complete");
      assert.ok(r.xml.action.job["@_id"]);
      assert.equal((await t().api("GET", `vms/${vmId}`)).xml.vm.status, "down");
    });

    it("moves the export domain and imports with clone + new name + collapse; checksums equal", async () => {
      const snapId = await idOf(t(), "vms", "snap-01");
      await exportAndWait(t(), snapId, I.export1);
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${snapId}/import?collapse_snapshots=true`,
        xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster><name>cl-target</name></cluster><clone>true</clone><vm><name>snap-01-copy</name></vm>`),
      );
      assert.equal(r.status, 202, r.text);
      const jobId = r.xml.action.job["@_id"];
      const during = await vmByName(t(), "snap-01-copy");
      assert.equal(during.status, "image_locked");
      assert.equal(await t().waitJob(jobId), "finished");
      const vm = await vmByName(t(), "snap-01-copy");
      assert.equal(vm.status, "down");
      assert.notEqual(vm["@_id"], snapId, "clone gets a new id");
      const snaps = await t().api("GET", `vms/${vm["@_id"]}/snapshots`);
      assert.deepEqual(arr(snaps.xml.snapshots.snapshot).map((s: any) => s.snapshot_type), ["active"], "collapsed: no snapshots left");
      const sums = await diskSums(t());
      const src = sums.vms.find((v: any) => v.name === "snap-01");
      const dst = sums.vms.find((v: any) => v.name === "snap-01-copy");
      assert.equal(dst.dataCenter, "dc-target");
      assert.deepEqual(sumsOf(dst), sumsOf(src));
      assert.equal(dst.disks[0].volumes, 1);
      assert.equal(src.disks[0].volumes, 3);
      // move back for the other tests
      await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
    });

    it("imports without clone keeping id, per-disk options (format/sparse/storage domain)", async () => {
      const appId = await idOf(t(), "vms", "app-01");
      await exportAndWait(t(), appId, I.export1);
      // remove the source VM, then import it back (same engine) as-is
      const del = await t().api("DELETE", `vms/${appId}`);
      assert.equal(del.status, 200, del.text);
      const info = await t().api("GET", `storagedomains/${I.export1}/vms/${appId}/disks`);
      const diskId = arr(info.xml.disks.disk)[0]["@_id"];
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${appId}/import`,
        xmlAction(
          `<storage_domain><name>data-source</name></storage_domain><cluster id="${I.clSource}"/><async>false</async>` +
            `<vm><disk_attachments><disk_attachment><disk id="${diskId}"><sparse>false</sparse><format>raw</format></disk></disk_attachment></disk_attachments></vm>`,
        ),
      );
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "complete");
      const vm = await t().api("GET", `vms/${appId}?follow=disk_attachments.disk`);
      assert.equal(vm.xml.vm.status, "down");
      const disk = arr(vm.xml.vm.disk_attachments.disk_attachment)[0].disk;
      assert.equal(disk["@_id"], diskId);
      assert.equal(disk.format, "raw");
      assert.equal(disk.sparse, "false");
      const sums = await diskSums(t());
      const exp = sums.exportDomains[0].vms.find((v: any) => v.id === appId);
      const vmSum = sums.vms.find((v: any) => v.id === appId);
      assert.deepEqual(sumsOf(vmSum), sumsOf(exp));
    });

    it("removes a VM copy from the export domain (files gone)", async () => {
      const appId = await idOf(t(), "vms", "app-01");
      // set-up: app-01's copy (the test before leaves one; exclusive replaces it)
      await exportAndWait(t(), appId, I.export1, "<exclusive>true</exclusive>");
      const r = await t().api("DELETE", `storagedomains/${I.export1}/vms/${appId}`);
      assert.equal(r.status, 200, r.text);
      const g = await t().api("GET", `storagedomains/${I.export1}/vms/${appId}`);
      assert.equal(g.status, 404);
      assert.ok(!fs.existsSync(path.join(t().stateDir, "exports", "export1", I.export1, "master", "vms", appId)));
    });

    it("template export and import into the other data center", async () => {
      const tplId = await idOf(t(), "templates", "rhel9-base");
      const r = await t().api("POST", `templates/${tplId}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`));
      assert.equal(r.status, 202, r.text);
      assert.equal((await t().api("GET", `templates/${tplId}`)).xml.template.status, "locked");
      assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
      assert.equal((await t().api("GET", `templates/${tplId}`)).xml.template.status, "ok");
      const lst = await t().api("GET", `storagedomains/${I.export1}/templates`);
      assert.deepEqual(arr(lst.xml.templates.template).map((x: any) => x.name), ["rhel9-base"]);
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      const imp = await t().api("POST", `storagedomains/${I.export1}/templates/${tplId}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><template><name>rhel9-base-t</name></template>`));
      assert.equal(imp.status, 202, imp.text);
      assert.equal(await t().waitJob(imp.xml.action.job["@_id"]), "finished");
      const sums = await diskSums(t());
      const a = sums.templates.find((x: any) => x.name === "rhel9-base");
      const b = sums.templates.find((x: any) => x.name === "rhel9-base-t");
      assert.equal(b.dataCenter, "dc-target");
      assert.deepEqual(sumsOf(b), sumsOf(a));
      // template names are unique per data center (the engine looks the name up in the target storage pool):
      // the clone's name is taken in dc-target, the source's name is taken only in dc-source
      const again = (name: string) =>
        t().api("POST", `storagedomains/${I.export1}/templates/${tplId}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><template><name>${name}</name></template>`));
      const taken = await again("rhel9-base-t");
      assert.equal(taken.status, 409, taken.text);
      assert.match(taken.text, /Template Name already exists/);
      const same = await again("rhel9-base");
      assert.equal(same.status, 202, same.text);
      assert.equal(await t().waitJob(same.xml.action.job["@_id"]), "finished");
      const named = (await diskSums(t())).templates.filter((x: any) => x.name === "rhel9-base");
      assert.deepEqual(named.map((x: any) => x.dataCenter).sort(), ["dc-source", "dc-target"]);
      const sameId = named.find((x: any) => x.dataCenter === "dc-target").id;
      assert.equal((await t().api("DELETE", `templates/${sameId}`)).status, 200);
      await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
    });

    it("start/stop/shutdown change the VM status and emit events", async () => {
      const id = await idOf(t(), "vms", "run-01");
      let r = await t().api("POST", `vms/${id}/stop`, "<action/>");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "complete");
      assert.equal((await t().api("GET", `vms/${id}`)).xml.vm.status, "down");
      r = await t().api("POST", `vms/${id}/start`, "<action/>");
      assert.equal(r.status, 200);
      const up = await t().api("GET", `vms/${id}`);
      assert.equal(up.xml.vm.status, "up");
      assert.ok(up.xml.vm.host["@_id"]);
      r = await t().api("POST", `vms/${id}/shutdown`, "<action/>");
      assert.equal(r.status, 200);
      assert.equal((await t().api("GET", `vms/${id}`)).xml.vm.status, "down");
      const ev = await t().api("GET", `events?search=vm.id%3D${id}`);
      const codes = arr(ev.xml.events.event).map((e: any) => e.code);
      for (const c of ["33", "153", "73"]) assert.ok(codes.includes(c), `event ${c}`);
      // back up for other suites using the same state
      await t().admin("POST", "vms/run-01/power", { state: "up" });
    });
  });
});
