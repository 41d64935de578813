// The engine's rules (issue 3 point 4): each asserts the HTTP status, the fault's reason and detail text, and that
// nothing changed in the engine (VMs, templates, export domain contents, jobs, disk checksums).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { arr, ApiReply, startTestSimulator, TestSimulator, withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, moveExportDomain, startExport, xmlAction } from "./helpers";

/** Everything a failed request must leave untouched. */
async function fingerprint(t: TestSimulator): Promise<string> {
  const disks = await t.admin("GET", "disks");
  const stats = await t.admin("GET", "stats");
  const vms = await t.api("GET", "vms");
  const tpls = await t.api("GET", "templates");
  const sds = await t.api("GET", "storagedomains");
  return JSON.stringify({
    disks,
    jobs: stats.jobs.map((j: any) => [j.id, j.status]),
    vms: arr(vms.xml.vms.vm).map((v: any) => [v["@_id"], v.name, v.status]),
    tpls: arr(tpls.xml.templates.template).map((v: any) => [v["@_id"], v.name, v.status]),
    sds: arr(sds.xml.storage_domains.storage_domain).map((s: any) => [s["@_id"], s.name, s.status ?? "attached", s.data_centers?.data_center?.["@_id"]]),
  });
}

/** Runs `call`, asserts status + fault texts, and that the engine state did not change. */
async function expectFault(t: TestSimulator, call: () => Promise<ApiReply>, status: number, detail: string, opts: { action?: boolean; reason?: string } = {}): Promise<void> {
  const before = await fingerprint(t);
  const r = await call();
  assert.equal(r.status, status, r.text);
  const action = opts.action ?? true;
  const fault = action ? r.xml?.action?.fault : r.xml?.fault;
  assert.ok(fault, `expected ${action ? "an <action> echoing a <fault>" : "a bare <fault>"}: ${r.text}`);
  if (action) assert.equal(r.xml.action.status, "failed");
  assert.equal(fault.reason, opts.reason ?? "Operation Failed");
  assert.equal(fault.detail, detail);
  assert.equal(await fingerprint(t), before, "the engine state changed");
}

describe("simulator: engine rules and their faults", function () {
  this.timeout(90_000);
  withSimulator({ bandwidthMiBps: 400 }, (t) => {
    let I: Ids;
    let web: string, run: string, snap: string, thin: string, ppc: string, tpl: string;
    before(async () => {
      I = await ids(t());
      web = await idOf(t(), "vms", "web-01");
      run = await idOf(t(), "vms", "run-01");
      snap = await idOf(t(), "vms", "snap-01");
      thin = await idOf(t(), "vms", "thin-01");
      ppc = await idOf(t(), "vms", "ppc-01");
      tpl = await idOf(t(), "templates", "rhel9-base");
    });

    it("VM not down on export: 409", async () => {
      await expectFault(t(), () => t().api("POST", `vms/${run}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`)), 409, "[Cannot export VM. At least one of the VMs is not down.]");
    });

    it("export without a storage domain: 400 Incomplete parameters", async () => {
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction("")), 400, "Action [storageDomain.id|name] required for export", { reason: "Incomplete parameters" });
    });

    it("unknown storage domain name: 404 bare fault", async () => {
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction("<storage_domain><name>nope</name></storage_domain>")), 404, "Entity not found: Storage: name=nope");
    });

    it("export to a data domain: 400 not an export domain", async () => {
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction(`<storage_domain id="${I.dataSource}"/>`)), 400, "[Cannot export VM. The specified domain 'data-source' is not an export domain.]");
    });

    it("entity locked: a second export of a VM being exported, and of a template being exported: 409", async () => {
      // the two exports share the export domain's 16 MiB/s (8 each): web-01 (32 MiB) and rhel9-base (24 MiB) stay
      // running for a few seconds, long enough for the checks below
      // set-up: the first disk report of a simulator hashes every disk, which can outlast these exports; done here,
      // the fingerprints below read cached sums (as they do when the tests before ran)
      await fingerprint(t());
      await t().admin("PUT", "bandwidth", { MiBps: 16 });
      try {
        const job = await startExport(t(), web, I.export1);
        await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`)), 409, "[Cannot export VM. Related operation is currently in progress. Please try again later.]");
        await expectFault(t(), () => t().api("POST", `vms/${web}/start`, "<action/>"), 409, "[Cannot run VM: VM is locked. Please try again in a few minutes.]");
        await expectFault(t(), () => t().api("DELETE", `vms/${web}`), 409, "[Cannot remove VM. Related operation is currently in progress. Please try again later.]", { action: false });
        const tj = await t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`));
        assert.equal(tj.status, 202, tj.text);
        await expectFault(t(), () => t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`)), 409, "[Cannot export Template. Template rhel9-base is being exported.]");

        // detaching a domain with running tasks (deactivate, then detach)
        await expectFault(
          t(),
          () => t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, xmlAction("<force>true</force>")),
          409,
          "[Cannot deactivate Storage while there are running tasks on this Storage.\n-Tasks running: ExportVm, ExportVmTemplate\n-Please wait until tasks will finish and try again.]",
        );
        await expectFault(
          t(),
          () => t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`),
          409,
          "[Cannot detach Storage while there are running tasks on this Storage.\n-Tasks running: ExportVm, ExportVmTemplate\n-Please wait until tasks will finish and try again.]",
          { action: false },
        );
        assert.equal(await t().waitJob(job), "finished");
        assert.equal(await t().waitJob(tj.xml.action.job["@_id"]), "finished");
      } finally {
        await t().admin("PUT", "bandwidth", { MiBps: 400 });
      }
    });

    it("VM or template already on the export domain without exclusive: 409 (exclusive overrides)", async () => {
      // set-up: web-01 and rhel9-base on the export domain (the test before leaves them; exclusive replaces them)
      await exportAndWait(t(), web, I.export1, "<exclusive>true</exclusive>");
      const te = await t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive><async>false</async>`));
      assert.equal(te.status, 200, te.text);
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`)), 409, "[Cannot export VM. VM with the same identifier already exists.]");
      await expectFault(t(), () => t().api("POST", `templates/${tpl}/export`, xmlAction(`<storage_domain id="${I.export1}"/>`)), 409, "[Cannot export Template. The Template name is already in use, please choose a unique name and try again.]");
      await exportAndWait(t(), web, I.export1, "<exclusive>true</exclusive>");
    });

    it("export domain not active (maintenance) or not attached (status Unknown: ExportVmCommand reads the pool-less row): 409", async () => {
      let r = await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>");
      assert.equal(r.status, 200, r.text);
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`)), 409, "[Cannot export VM. The relevant Storage Domain's status is Maintenance.]");
      await expectFault(t(), () => t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>"), 409, "[Cannot deactivate Storage. The relevant Storage Domain's status is Maintenance.]");
      r = await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`);
      assert.equal(r.status, 200, r.text);
      // AuditLogableBase.getStorageDomain falls back to the domain's row without a pool, whose NULL status
      // StorageDomainDaoImpl reads as 0 (Unknown); StorageDomainValidator.isDomainExistAndActive comes first
      await expectFault(t(), () => t().api("POST", `vms/${web}/export`, xmlAction(`<storage_domain id="${I.export1}"/><exclusive>true</exclusive>`)), 409, "[Cannot export VM. The relevant Storage Domain's status is Unknown.]");
      // an unattached export domain lists nothing
      const l = await t().api("GET", `storagedomains/${I.export1}/vms`);
      assert.equal(arr(l.xml.vms?.vm).length, 0);
      r = await t().api("POST", `datacenters/${I.dcSource}/storagedomains`, `<storage_domain><name>export1</name></storage_domain>`);
      assert.equal(r.status, 201, r.text);
      await expectFault(t(), () => t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`), 409, "[Cannot detach Storage. The relevant Storage Domain's status is Active.]", { action: false });
    });

    it("export domain already attached to another data center: 400 (VDSM StorageDomainAlreadyAttached)", async () => {
      await expectFault(
        t(),
        () => t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`),
        400,
        "[The Domain is already used by another Data Center.\nIn order to use it, detach it from the Data Center it is currently attached to.]",
        { action: false },
      );
    });

    it("a data center holding more than one export domain: 409", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "export2-"));
      const host = await idOf(t(), "hosts", "host-source-1");
      const add = await t().api("POST", "storagedomains", `<storage_domain><name>export2</name><type>export</type><host id="${host}"/><storage><type>nfs</type><address>127.0.0.1</address><path>${dir}</path></storage></storage_domain>`);
      assert.equal(add.status, 201, add.text);
      assert.equal(add.xml.storage_domain.status, "unattached");
      await expectFault(
        t(),
        () => t().api("POST", `datacenters/${I.dcSource}/storagedomains`, `<storage_domain><name>export2</name></storage_domain>`),
        409,
        "[Cannot attach more than one Import/Export Storage Domain to the same Data Center. If you want to use a newly created Domain, detach the existing attached Domain and attach the new one.]",
        { action: false },
      );
      const del = await t().api("DELETE", `storagedomains/${add.xml.storage_domain["@_id"]}?host=host-source-1&format=true`);
      assert.equal(del.status, 200, del.text);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("imports", () => {
      before(async () => {
        // web-01's copy: the id and name rules below import it (exclusive: a test before may have left one)
        await exportAndWait(t(), web, I.export1, "<exclusive>true</exclusive>");
        await exportAndWait(t(), snap, I.export1);
        await exportAndWait(t(), thin, I.export1);
        await exportAndWait(t(), ppc, I.export1);
      });

      it("id already in the engine without clone: 409 (its MACs, in the same pool, answer first)", async () => {
        // ImportVmCommandBase.validate checks the MAC pool before validateNoDuplicateVm: the source still holds the
        // copy's MACs in the (default) pool. The id rule itself: test/simulator/macPools.test.ts (a pool allowing duplicates)
        await expectFault(
          t(),
          () => t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/>`)),
          409,
          "[Cannot import Virtual Machine, because that action would create duplicates in target MAC pool, which are not allowed. Either allow duplicate MACs in MAC Pool, or allow reassignment of bad MACs during import. Problematic NICs are \tnic1]",
        );
      });

      it("name already in the target data center (clone, same name): 409", async () => {
        await expectFault(
          t(),
          () => t().api("POST", `storagedomains/${I.export1}/vms/${web}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>true</clone>`)),
          409,
          "[Import VM failed - VM Name already exists in the Data Center. Please rename the VM in the Data Center first]",
        );
      });

      it("clone import without collapsed snapshots: 400", async () => {
        await expectFault(
          t(),
          () => t().api("POST", `storagedomains/${I.export1}/vms/${snap}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clSource}"/><clone>true</clone><vm><name>snap-x</name></vm>`)),
          400,
          "[Cannot import VM. The VM snap-01 has snapshots that must be collapsed.]",
        );
      });

      it("a thin VM whose id is still in this engine: refused before the template rules (409, its MACs in the same pool)", async () => {
        await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
        try {
          const body = xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/>`);
          // the template rules themselves are checked in "rules needing their own inventory" (the id is freed there)
          await expectFault(t(), () => t().api("POST", `storagedomains/${I.export1}/vms/${thin}/import`, body), 409, "[Cannot import Virtual Machine, because that action would create duplicates in target MAC pool, which are not allowed. Either allow duplicate MACs in MAC Pool, or allow reassignment of bad MACs during import. Problematic NICs are \tnic1]");
        } finally {
          await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
        }
      });

      it("mixed CPU architectures: a ppc64 VM into an x86_64 cluster: 400", async () => {
        await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
        try {
          await expectFault(
            t(),
            () => t().api("POST", `storagedomains/${I.export1}/vms/${ppc}/import`, xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>ppc-copy</name></vm>`)),
            400,
            "[Cannot import VM. The selected cluster doesn't support VM architecture]",
          );
        } finally {
          await moveExportDomain(t(), I.export1, I.dcTarget, I.dcSource);
        }
      });

      it("import of an entity that is not on the export domain: 404", async () => {
        await expectFault(t(), () => t().api("POST", `storagedomains/${I.export1}/vms/${run}/import`, xmlAction(`<storage_domain id="${I.dataSource}"/>`)), 404, "Resource not found", { reason: "Resource not found" });
      });

      it("import into a cluster of another data center than the storage domain: 400", async () => {
        await expectFault(
          t(),
          () => t().api("POST", `storagedomains/${I.export1}/vms/${snap}/import?collapse_snapshots=true`, xmlAction(`<storage_domain id="${I.dataSource}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>snap-y</name></vm>`)),
          400,
          "[Cannot import VM. Cluster ID is not valid.]",
        );
      });
    });
  });
});

describe("simulator: rules needing their own inventory", function () {
  this.timeout(60_000);
  const inventory = {
    dataCenters: [
      {
        name: "dc-a",
        clusters: [{ name: "cl-a" }],
        hosts: [{ name: "h-a", cluster: "cl-a" }],
        storageDomains: [{ name: "data-a", sizeGiB: 1 }],
      },
      {
        name: "dc-b",
        clusters: [{ name: "cl-b" }],
        hosts: [{ name: "h-b", cluster: "cl-b" }],
        storageDomains: [{ name: "data-b", sizeGiB: 0.02 }],
      },
    ],
    exportDomains: [{ name: "exp", path: "exports/exp", attachedTo: "dc-a" }],
    templates: [{ name: "base", cluster: "cl-a", disks: [{ sizeMiB: 8 }] }],
    vms: [
      { name: "big", cluster: "cl-a", disks: [{ sizeMiB: 32 }] },
      { name: "thin", cluster: "cl-a", template: "base", snapshots: [{ description: "s1" }] },
    ],
  };
  let t: TestSimulator;
  let exp: string, dcA: string, dcB: string, dataB: string, clB: string, big: string, thin: string;
  before(async () => {
    t = await startTestSimulator({ inventory, bandwidthMiBps: 1000 });
    exp = await idOf(t, "storagedomains", "exp");
    dcA = await idOf(t, "datacenters", "dc-a");
    dcB = await idOf(t, "datacenters", "dc-b");
    dataB = await idOf(t, "storagedomains", "data-b");
    clB = await idOf(t, "clusters", "cl-b");
    big = await idOf(t, "vms", "big");
    thin = await idOf(t, "vms", "thin");
    await exportAndWait(t, big, exp);
    await exportAndWait(t, thin, exp);
    await moveExportDomain(t, exp, dcA, dcB);
  });
  after(async () => t.close());

  it("not enough space on the target storage domain: 409", async () => {
    await expectFault(
      t,
      () => t.api("POST", `storagedomains/${exp}/vms/${big}/import`, xmlAction(`<storage_domain id="${dataB}"/><cluster id="${clB}"/><clone>true</clone><vm><name>big-b</name></vm>`)),
      409,
      "[Cannot import VM. Low disk space on Storage Domain data-b.]",
    );
  });

  it("thin VM without collapse whose template is not in the target: 400; collapse without the template on the export domain: 400", async () => {
    // free the id in this engine so that only the template rule applies
    const del = await t.api("DELETE", `vms/${thin}`);
    assert.equal(del.status, 200, del.text);
    await expectFault(
      t,
      () => t.api("POST", `storagedomains/${exp}/vms/${thin}/import`, xmlAction(`<storage_domain id="${dataB}"/><cluster id="${clB}"/>`)),
      400,
      "[Cannot import VM. The relevant Template doesn't exist.]",
    );
    await expectFault(
      t,
      () => t.api("POST", `storagedomains/${exp}/vms/${thin}/import?collapse_snapshots=true`, xmlAction(`<storage_domain id="${dataB}"/><cluster id="${clB}"/>`)),
      400,
      "[Cannot import and collapse VM, Template is missing in domain exp]",
    );
  });
});
