// Engine fidelity, round 2 (issue 11, simulator side): job purge with a time scale (4), import from an export domain
// that is not attached and active in the target data center (6), export-domain contents while not readable (9),
// `unregistered` listings (10), template search joined with VMs (11), PUT of unmodelled fields (12), no listing of
// external VM imports (13), smaller texts (14). Each case names the engine class it follows.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { arr, ApiReply, startTestSimulator, TestSimulator, withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, moveExportDomain, startExport, vmByName, xmlAction } from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a refused request must leave untouched. */
async function fingerprint(t: TestSimulator): Promise<string> {
  const disks = await t.admin("GET", "disks");
  const stats = await t.admin("GET", "stats");
  const vms = await t.api("GET", "vms");
  const tpls = await t.api("GET", "templates");
  return JSON.stringify({
    disks,
    jobs: stats.jobs.map((j: any) => [j.id, j.status]),
    vms: arr(vms.xml.vms.vm).map((v: any) => [v["@_id"], v.name, v.status, v.description, v.memory]),
    tpls: arr(tpls.xml.templates.template).map((v: any) => [v["@_id"], v.name, v.status]),
  });
}

async function expectFault(t: TestSimulator, call: () => Promise<ApiReply>, status: number, detail: string, opts: { action?: boolean; reason?: string } = {}): Promise<ApiReply> {
  const before = await fingerprint(t);
  const r = await call();
  assert.equal(r.status, status, r.text);
  const action = opts.action ?? true;
  const fault = action ? r.xml?.action?.fault : r.xml?.fault;
  assert.ok(fault, `expected ${action ? "an <action> echoing a <fault>" : "a bare <fault>"}: ${r.text}`);
  assert.equal(fault.reason, opts.reason ?? "Operation Failed");
  assert.equal(fault.detail, detail);
  assert.equal(await fingerprint(t), before, "the engine state changed");
  return r;
}

const UNREACHABLE = "Storage domain cannot be reached. Please ensure it is accessible from the host(s).";

describe("simulator: job purge (JobRepositoryCleanupManager) with a time scale", function () {
  this.timeout(120_000);

  it("finished jobs go 10 engine minutes after their end, failed ones after 60; running ones stay; stats keep them", async () => {
    const t = await startTestSimulator({ bandwidthMiBps: 2000 });
    try {
      const I = await ids(t);
      assert.deepEqual(await t.admin("GET", "time-scale"), { scale: 1 });
      const web = await idOf(t, "vms", "web-01");
      const ok = await startExport(t, web, I.export1);
      assert.equal(await t.waitJob(ok), "finished");
      // a failed import (the half-made VM is removed)
      await exportAndWait(t, await idOf(t, "vms", "app-01"), I.export1);
      await moveExportDomain(t, I.export1, I.dcSource, I.dcTarget);
      await t.admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "app-01", operation: "import" }, effect: { jobFailure: { reason: "injected" } }, max: 1 }] });
      const app = await idOf(t, "vms", "app-01");
      const imp = await t.api("POST", `storagedomains/${I.export1}/vms/${app}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>app-02</name></vm>`));
      assert.equal(imp.status, 202, imp.text);
      const bad = imp.xml.action.job["@_id"];
      assert.equal(await t.waitJob(bad), "failed");
      // real time: a finished job is listed long after its end (10 engine minutes)
      await sleep(300);
      assert.equal((await t.api("GET", `jobs/${ok}`)).status, 200);
      // one engine minute = 10 ms: purge every 100 ms, finished jobs after 100 ms, failed ones after 600 ms
      assert.deepEqual(await t.admin("PUT", "time-scale", { scale: 6000 }), { scale: 6000 });
      await sleep(350);
      assert.equal((await t.api("GET", `jobs/${ok}`)).status, 404, "the finished job is gone");
      assert.ok(!arr((await t.api("GET", "jobs")).xml.jobs?.job).some((j: any) => j["@_id"] === ok));
      const failedEnd = (await t.admin("GET", "stats")).jobs.find((j: any) => j.id === bad).endMs as number;
      if (Date.now() - failedEnd < 550) assert.equal((await t.api("GET", `jobs/${bad}`)).status, 200, "a failed job outlives a finished one");
      const t0 = Date.now();
      while ((await t.api("GET", `jobs/${bad}`)).status === 200 && Date.now() - t0 < 5000) await sleep(50);
      assert.equal((await t.api("GET", `jobs/${bad}`)).status, 404, "the failed job is gone after 60 engine minutes");
      assert.ok(Date.now() - failedEnd >= 600, "not before 60 engine minutes");
      // the admin stats still report both, marked purged
      const st = (await t.admin("GET", "stats")).jobs;
      assert.equal(st.find((j: any) => j.id === ok).status, "finished");
      assert.ok(st.find((j: any) => j.id === bad).purgedMs > 0);
    } finally {
      await t.close();
    }
  });

  it("a running job stays however old; SimulatorOptions.timeScale and the CLI flag set the scale", async () => {
    const t = await startTestSimulator({ bandwidthMiBps: 4, timeScale: 60_000 });
    try {
      assert.deepEqual(await t.admin("GET", "time-scale"), { scale: 60_000 });
      const I = await ids(t);
      const db = await idOf(t, "vms", "db-01"); // 144 MiB at 4 MiB/s: runs for half a minute
      const job = await startExport(t, db, I.export1);
      await sleep(800); // 800 engine minutes
      const j = await t.api("GET", `jobs/${job}`);
      assert.equal(j.status, 200, "a started job is not purged");
      assert.equal(j.xml.job.status, "started");
      await t.admin("PUT", "bandwidth", { MiBps: 4000 });
    } finally {
      await t.close();
    }
    const cli = path.join(__dirname, "..", "..", "simulator", "cli.js");
    const r = spawnSync(process.execPath, [cli, "--state", "/nonexistent-never-created", "--password", "x", "--time-scale", "0"], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--time-scale must be a positive number/);
  });
});

describe("simulator: export domain not attached and active in the target data center (ImportVmCommand, ImportVmTemplateCommand)", function () {
  this.timeout(120_000);
  withSimulator({ bandwidthMiBps: 2000 }, (t) => {
    let I: Ids;
    let web: string, tpl: string;
    before(async () => {
      I = await ids(t());
      web = await idOf(t(), "vms", "web-01");
      tpl = await idOf(t(), "templates", "rhel9-base");
      await exportAndWait(t(), web, I.export1);
      const r = await t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`));
      assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
    });

    it("active in another data center: VM 400 'VM not exists in export domain', template 400 'Storage Domain doesn't exist'", async () => {
      // export1 is attached and active in dc-source; the import targets dc-target. A clone: a plain import of web-01
      // (still in this engine, its MACs in the same pool) is refused for its MACs first (ImportVmCommandBase.validate)
      await expectFault(
        t(),
        () => t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>web-x</name></vm>`)),
        400,
        "[Cannot import VM. VM not exists in export domain]",
      );
      await expectFault(
        t(),
        () => t().api("POST", `storagedomains/${I.export1}/templates/${tpl}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><template><name>t2</name></template>`)),
        400,
        "[Cannot import Template. Storage Domain doesn't exist.]",
      );
    });

    it("no cluster in the request: 400 'The relevant Cluster doesn't exist.' (no fallback to the OVF's cluster)", async () => {
      await expectFault(
        t(),
        () => t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><clone>true</clone><vm><name>web-nocl</name></vm>`)),
        400,
        "[Cannot import VM. The relevant Cluster doesn't exist.]",
      );
      await expectFault(
        t(),
        () => t().api("POST", `storagedomains/${I.export1}/templates/${tpl}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><clone>true</clone><template><name>t3</name></template>`)),
        400,
        "[Cannot import Template. The relevant Cluster doesn't exist.]",
      );
    });

    it("in maintenance (even in the target data center): listing, get, disks, import and remove answer 400 'cannot be reached'; events 10803 + 200", async () => {
      const d = await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>");
      assert.equal(d.status, 200, d.text);
      try {
        const from = Math.max(0, ...arr((await t().api("GET", "events?max=1")).xml.events?.event).map((e: any) => Number(e["@_id"])));
        for (const p of [`storagedomains/${I.export1}/vms`, `storagedomains/${I.export1}/templates`, `storagedomains/${I.export1}/vms/${web}`, `storagedomains/${I.export1}/vms/${web}/disks`]) {
          await expectFault(t(), () => t().api("GET", p), 400, UNREACHABLE, { action: false });
        }
        await expectFault(t(), () => t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>true</clone><vm><name>w2</name></vm>`)), 400, UNREACHABLE);
        await expectFault(t(), () => t().api("DELETE", `storagedomains/${I.export1}/vms/${web}`), 400, UNREACHABLE, { action: false });
        const ev = arr((await t().api("GET", `events?from=${from}`)).xml.events?.event);
        const vdsm = ev.filter((e: any) => e.code === "10803");
        const info = ev.filter((e: any) => e.code === "200");
        assert.ok(vdsm.length >= 1 && info.length >= 1, JSON.stringify(ev.map((e: any) => [e.code, e.description])));
        assert.equal(vdsm[0].description, `VDSM command GetVmsInfoVDS failed: Storage domain does not exist: ('${I.export1}',)`);
        assert.equal(vdsm[0].severity, "error");
        assert.equal(info[0].description, "Failed to retrieve VM/Templates information from export domain export1");
      } finally {
        const a = await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/activate`, "<action/>");
        assert.equal(a.status, 200, a.text);
      }
    });

    it("unattached: the listing is empty (GetAllFromExportDomainQuery finds no domain in a null pool); get/import 404", async () => {
      await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>");
      const del = await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`);
      assert.equal(del.status, 200, del.text);
      try {
        const l = await t().api("GET", `storagedomains/${I.export1}/vms`);
        assert.equal(l.status, 200, l.text);
        assert.equal(arr(l.xml.vms?.vm).length, 0);
        assert.equal((await t().api("GET", `storagedomains/${I.export1}/vms/${web}`)).status, 404);
        const imp = await t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/>`));
        assert.equal(imp.status, 404, imp.text);
        // export to it: ExportVmCommand sees the pool-less row, status Unknown
        await expectFault(t(), () => t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`)), 409, "[Cannot export Template. The relevant Storage Domain's status is Unknown.]");
      } finally {
        const a = await t().api("POST", `datacenters/${I.dcSource}/storagedomains`, `<storage_domain id="${I.export1}"/>`);
        assert.equal(a.status, 201, a.text);
      }
    });

    it("<clone>false</clone> with a name renames the import and keeps the id (restapi doImport: isSetClone)", async () => {
      const app = await idOf(t(), "vms", "app-01");
      await exportAndWait(t(), app, I.export1);
      assert.equal((await t().api("DELETE", `vms/${app}`)).status, 200);
      const r = await t().api("POST", `storagedomains/${I.export1}/vms/${app}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>false</clone><vm><name>app-renamed</name></vm><async>false</async>`));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.xml.action.status, "complete");
      const vm = await vmByName(t(), "app-renamed");
      assert.equal(vm?.["@_id"], app, "same id, new name");
      assert.equal(await vmByName(t(), "app-01"), undefined);
      // without <clone> the name is not read
      assert.equal((await t().api("DELETE", `vms/${app}`)).status, 200);
      const r2 = await t().api("POST", `storagedomains/${I.export1}/vms/${app}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><vm><name>ignored</name></vm><async>false</async>`));
      assert.equal(r2.status, 200, r2.text);
      assert.equal((await vmByName(t(), "app-01"))?.["@_id"], app);
    });

    it("a failed copy: event 10803 'VDSM command MoveImageGroupVDS failed: <reason>' (IrsBrokerCommand wording)", async () => {
      const thin = await idOf(t(), "vms", "db-01");
      await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "db-01", operation: "export" }, effect: { jobFailure: { reason: "injected write error" } }, max: 1 }] });
      const job = await startExport(t(), thin, I.export1, "", { "Correlation-Id": "fid2-fail-0001" });
      assert.equal(await t().waitJob(job), "failed");
      const ev = arr((await t().api("GET", "events?search=correlation_id%3Dfid2-fail-0001")).xml.events?.event);
      const v = ev.filter((e: any) => e.code === "10803");
      assert.deepEqual(v.map((e: any) => e.description), ["VDSM command MoveImageGroupVDS failed: injected write error"]);
      assert.ok(ev.some((e: any) => e.code === "1151"));
      assert.ok(!ev.some((e: any) => e.code === "10802"));
    });
  });
});

describe("simulator: unregistered=true on /storagedomains/{id}/vms|templates (BackendStorageDomainVmsResource.list)", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 2000 }, (t) => {
    let I: Ids;
    before(async () => {
      I = await ids(t());
      await exportAndWait(t(), await idOf(t(), "vms", "web-01"), I.export1);
    });
    it("export domain: empty (GetUnregisteredVms reads the OVF-store rows, never the export files); without it, the files", async () => {
      for (const q of ["?unregistered=true", "?unregistered", ";unregistered", ";unregistered=yes", "?unregistered=1"]) {
        const r = await t().api("GET", `storagedomains/${I.export1}/vms${q}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(arr(r.xml.vms?.vm).length, 0, q);
        const tl = await t().api("GET", `storagedomains/${I.export1}/templates${q}`);
        assert.equal(arr(tl.xml.templates?.template).length, 0, q);
      }
      // false, or a value ParametersHelper cannot read (ignored -> missing -> false): the export domain's files
      for (const q of ["", "?unregistered=false", "?unregistered=no", "?unregistered=maybe"]) {
        const r = await t().api("GET", `storagedomains/${I.export1}/vms${q}`);
        assert.deepEqual(arr(r.xml.vms?.vm).map((v: any) => v.name), ["web-01"], q);
      }
    });
    it("data domain: nothing unregistered (the engine's answer when every entity is registered); an unknown id: empty too", async () => {
      const reg = await t().api("GET", `storagedomains/${I.dataSource}/vms`);
      assert.ok(arr(reg.xml.vms.vm).length > 0);
      const un = await t().api("GET", `storagedomains/${I.dataSource}/vms?unregistered=true`);
      assert.equal(un.status, 200, un.text);
      assert.equal(arr(un.xml.vms?.vm).length, 0);
      const unknown = await t().api("GET", "storagedomains/00000000-1111-2222-3333-444444444444/templates?unregistered=true");
      assert.equal(unknown.status, 200, unknown.text);
      assert.equal((await t().api("GET", "storagedomains/00000000-1111-2222-3333-444444444444/templates")).status, 404);
    });
  });
});

describe("simulator: template search joined with VMs (TemplateCrossRefAutoCompleter)", function () {
  this.timeout(60_000);
  withSimulator({}, (t) => {
    const names = async (q: string) => {
      const r = await t().api("GET", `templates?search=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200, r.text);
      return arr(r.xml.templates?.template).map((x: any) => x.name).sort();
    };
    it("vm.<field> / vms.<field>: the templates with a VM made from them matching the condition", async () => {
      assert.deepEqual(await names("vm.name=thin-01"), ["rhel9-base"]);
      assert.deepEqual(await names("Vms.name=THIN*"), ["rhel9-base"]);
      assert.deepEqual(await names("Templates: vm.name=thin-01 and name=rhel*"), ["rhel9-base"]);
      assert.deepEqual(await names("vm.name=web-01"), ["Blank"], "web-01 is based on no template: Blank");
      assert.deepEqual(await names("vm.name=nope"), []);
      assert.deepEqual(await names("vm.status=up"), ["Blank"], "run-01 is up");
      assert.deepEqual(await names("vm.cluster=cl-source-ppc"), ["Blank"]);
      assert.deepEqual(await names("vm.name=thin-01 or vm.name=web-01"), ["Blank", "rhel9-base"]);
      assert.deepEqual(await names("storage.name=data-source"), ["rhel9-base"]);
    });
    it("an unknown field of the cross-reference, or a cross-reference without a field: 400", async () => {
      for (const q of ["vm.nosuch=1", "vms=thin-01", "nosuch.name=x"]) {
        const r = await t().api("GET", `templates?search=${encodeURIComponent(q)}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
      }
    });
  });
});

describe("simulator: PUT of fields the simulator does not model answers 400 naming them", function () {
  this.timeout(60_000);
  withSimulator({}, (t) => {
    it("vm.memory, vm.cpu.topology, template.os, cpu_profile by name: 400, nothing changes; modelled fields still work", async () => {
      const vm = await idOf(t(), "vms", "web-01");
      const tpl = await idOf(t(), "templates", "rhel9-base");
      const cases: [string, string, string][] = [
        [`vms/${vm}`, "<vm><memory>1073741824</memory></vm>", "vm.memory"],
        [`vms/${vm}`, "<vm><description>x</description><cpu><topology><sockets>4</sockets></topology></cpu></vm>", "vm.cpu"],
        [`vms/${vm}`, "<vm><cpu_profile><name>cl-source</name></cpu_profile></vm>", "vm.cpu_profile.name"],
        [`templates/${tpl}`, "<template><os><type>rhel_8x64</type></os></template>", "template.os"],
      ];
      for (const [p, body, field] of cases) {
        const before = await fingerprint(t());
        const r = await t().api("PUT", p, body);
        assert.equal(r.status, 400, r.text);
        assert.equal(r.xml.fault.reason, "Bad Request");
        assert.ok(r.xml.fault.detail.includes(`does not model updates of ${field}`), r.text);
        assert.ok(r.xml.fault.detail.includes("it updates only name, description, comment, cpu_profile (id)"), r.text);
        assert.equal(await fingerprint(t()), before, "the engine state changed");
      }
      const ok = await t().api("PUT", `vms/${vm}`, `<vm id="${vm}"><name>web-01</name><description>d</description><comment>c</comment></vm>`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.xml.vm.description, "d");
      const profile = arr((await t().api("GET", "cpuprofiles?search=name%3Dcl-source")).xml.cpu_profiles.cpu_profile)[0]["@_id"];
      const cp = await t().api("PUT", `vms/${vm}`, `<vm><cpu_profile id="${profile}"/></vm>`);
      assert.equal(cp.status, 200, cp.text);
    });
  });
});

describe("simulator: external VM imports have no listing (ExternalVmImportsService: add only)", function () {
  withSimulator({}, (t) => {
    it("GET /externalvmimports: 405; GET /externalvmimports/{id}: 404", async () => {
      assert.equal((await t().api("GET", "externalvmimports")).status, 405);
      assert.equal((await t().api("GET", "externalvmimports/00000000-1111-2222-3333-444444444444")).status, 404);
    });
  });
});
