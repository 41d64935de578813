// CPU profiles, VM update, snapshot creation, a guest that ignores ACPI shutdown, and the storage-domain
// transitions (locked -> maintenance -> activating -> active, preparing_for_maintenance, detaching) with the
// engine's 409 "Related operation is currently in progress" in between.
import * as assert from "node:assert/strict";
import { arr, freshSimulator, withSimulator, TestSimulator } from "../support/simulator";
import { diskSums, exportAndWait, ids, Ids, idOf, sumsOf, xmlAction } from "./helpers";

async function expectFault(t: TestSimulator, p: Promise<{ status: number; xml: any; text: string }>, status: number, detail: string) {
  const r = await p;
  assert.equal(r.status, status, r.text);
  const f = r.xml.fault ?? r.xml.action?.fault;
  assert.equal(f.detail, detail);
}

/** Polls the DC-scoped status until it matches, recording every status seen. */
async function statusesUntil(t: TestSimulator, dc: string, sd: string, want: string | undefined, timeoutMs = 10_000): Promise<string[]> {
  const seen: string[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.api("GET", `datacenters/${dc}/storagedomains/${sd}`);
    const st = r.status === 404 ? undefined : r.xml.storage_domain.status;
    if (seen[seen.length - 1] !== (st ?? "gone")) seen.push(st ?? "gone");
    if (st === want) return seen;
    if (Date.now() > end) throw new Error(`status ${want ?? "gone"} not reached; seen ${seen.join(" -> ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("simulator: CPU profiles, VM update, snapshots, shutdown", function () {
  this.timeout(60_000);
  withSimulator(
    {
      inventory: {
        dataCenters: [
          {
            name: "dc1",
            clusters: [{ name: "cl1", cpuProfiles: ["gold", "silver"] }, { name: "cl2" }],
            hosts: [{ name: "h1", cluster: "cl1" }],
            storageDomains: [{ name: "data1", sizeGiB: 10 }],
          },
        ],
        exportDomains: [{ name: "exp1", path: "exports/exp1", attachedTo: "dc1" }],
        vms: [
          { name: "vm1", cluster: "cl1", disks: [{ sizeMiB: 4 }, { sizeMiB: 2, sparse: false, format: "raw" }] },
          { name: "vm2", cluster: "cl1", status: "up", disks: [{ sizeMiB: 1 }] },
        ],
      },
    },
    (t) => {
      let cl1: string;
      let cl2: string;
      let vm1: string;
      before(async () => {
        cl1 = await idOf(t(), "clusters", "cl1");
        cl2 = await idOf(t(), "clusters", "cl2");
        vm1 = await idOf(t(), "vms", "vm1");
      });

      it("every cluster has a default CPU profile named like it; extra profiles from the inventory; /cpuprofiles", async () => {
        const p1 = arr((await t().api("GET", `clusters/${cl1}/cpuprofiles`)).xml.cpu_profiles.cpu_profile);
        assert.deepEqual(p1.map((p: any) => p.name).sort(), ["cl1", "gold", "silver"]);
        assert.ok(p1.every((p: any) => p.cluster["@_id"] === cl1));
        const p2 = arr((await t().api("GET", `clusters/${cl2}/cpuprofiles`)).xml.cpu_profiles.cpu_profile);
        assert.deepEqual(p2.map((p: any) => p.name), ["cl2"]);
        const all = arr((await t().api("GET", "cpuprofiles")).xml.cpu_profiles.cpu_profile);
        assert.equal(all.length, 4);
        const one = await t().api("GET", `cpuprofiles/${p2[0]["@_id"]}`);
        assert.equal(one.xml.cpu_profile.name, "cl2");
        assert.equal((await t().api("GET", `clusters/${cl1}/cpuprofiles/${p2[0]["@_id"]}`)).status, 404);
        // a VM runs with its cluster's default profile
        const vm = await t().api("GET", `vms/${vm1}`);
        assert.equal(vm.xml.vm.cpu_profile["@_id"], p1.find((p: any) => p.name === "cl1")["@_id"]);
      });

      it("PUT /vms/{id} sets the CPU profile; unknown or foreign profiles are refused and change nothing", async () => {
        const p1 = arr((await t().api("GET", `clusters/${cl1}/cpuprofiles`)).xml.cpu_profiles.cpu_profile);
        const gold = p1.find((p: any) => p.name === "gold")["@_id"];
        const foreign = arr((await t().api("GET", `clusters/${cl2}/cpuprofiles`)).xml.cpu_profiles.cpu_profile)[0]["@_id"];
        const r = await t().api("PUT", `vms/${vm1}`, `<vm><cpu_profile id="${gold}"/></vm>`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.xml.vm.cpu_profile["@_id"], gold);
        await expectFault(t(), t().api("PUT", `vms/${vm1}`, `<vm><cpu_profile id="${foreign}"/></vm>`), 400, "[Cannot edit VM. CPU Profile doesn't match provided Cluster.]"); // AppErrors ACTION_TYPE_CPU_PROFILE_NOT_MATCH_CLUSTER
        await expectFault(t(), t().api("PUT", `vms/${vm1}`, `<vm><cpu_profile id="00000000-1111-2222-3333-444444444444"/></vm>`), 400, "[Cannot edit VM. CPU profile with id ${cpuProfileId} doesn't exist.]"); // CpuProfileHelper passes no replacement
        assert.equal((await t().api("GET", `vms/${vm1}`)).xml.vm.cpu_profile["@_id"], gold);
      });

      it("POST /vms/{id}/snapshots: async job, VM locked meanwhile, a new volume on every disk, content changes", async () => {
        const before = sumsOf((await diskSums(t())).vms.find((v: any) => v.name === "vm1"));
        const snapsBefore = arr((await t().api("GET", `vms/${vm1}/snapshots`)).xml.snapshots.snapshot);
        const cid = "snap-create-0001";
        const r = await t().api("POST", `vms/${vm1}/snapshots`, "<snapshot><description>before-upgrade</description><persist_memorystate>false</persist_memorystate></snapshot>", { "Correlation-Id": cid });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.xml.snapshot.snapshot_status, "locked");
        assert.equal(r.xml.snapshot.description, "before-upgrade");
        assert.equal((await t().api("GET", `vms/${vm1}`)).xml.vm.status, "image_locked");
        // a second snapshot or an export while it runs: the VM is locked
        await expectFault(t(), t().api("POST", `vms/${vm1}/snapshots`, "<snapshot><description>x</description></snapshot>"), 409, "[Cannot create Snapshot. Related operation is currently in progress. Please try again later.]");
        const job = arr((await t().api("GET", `jobs?search=correlation_id%3D${cid}`)).xml.jobs.job)[0];
        assert.equal(job.description, "Creating VM Snapshot before-upgrade for VM vm1");
        assert.equal(await t().waitJob(job["@_id"]), "finished");
        assert.equal((await t().api("GET", `vms/${vm1}`)).xml.vm.status, "down");
        const snaps = arr((await t().api("GET", `vms/${vm1}/snapshots`)).xml.snapshots.snapshot);
        assert.equal(snaps.length, snapsBefore.length + 1);
        assert.ok(snaps.some((s: any) => s.description === "before-upgrade" && s.snapshot_status === "ok" && s.snapshot_type === "regular"), JSON.stringify(snaps));
        const rep = (await diskSums(t())).vms.find((v: any) => v.name === "vm1");
        assert.notDeepEqual(sumsOf(rep), before, "the new active layer changed the content");
        const ev = arr((await t().api("GET", `events?search=correlation_id%3D${cid}`)).xml.events.event).map((e: any) => Number(e.code));
        assert.deepEqual(ev.sort(), [45, 68]);
        // the new chain exports and reads back with the same content
        const exp1 = await idOf(t(), "storagedomains", "exp1");
        await exportAndWait(t(), vm1, exp1);
        const after = await diskSums(t());
        const copy = after.exportDomains.find((e: any) => e.name === "exp1").vms.find((v: any) => v.id === vm1);
        assert.deepEqual(sumsOf(copy), sumsOf(rep));
        assert.equal(copy.snapshots, snaps.filter((s: any) => s.snapshot_type !== "active").length);
      });

      it("a guest that ignores ACPI shutdown stays up; stop powers it off; a clean guest goes down on shutdown", async () => {
        const vm2 = await idOf(t(), "vms", "vm2");
        await t().admin("PUT", "faults", { rules: [{ match: { entity: "vm", name: "vm2" }, effect: { guest: "ignore-shutdown" } }] });
        let r = await t().api("POST", `vms/${vm2}/shutdown`, "<action/>");
        assert.equal(r.status, 200, r.text);
        assert.equal((await t().api("GET", `vms/${vm2}`)).xml.vm.status, "powering_down");
        await new Promise((res) => setTimeout(res, 300));
        assert.equal((await t().api("GET", `vms/${vm2}`)).xml.vm.status, "up", "the guest ignored the request");
        r = await t().api("POST", `vms/${vm2}/stop`, "<action/>");
        assert.equal(r.status, 200, r.text);
        assert.equal((await t().api("GET", `vms/${vm2}`)).xml.vm.status, "down");
        await t().admin("DELETE", "faults");
        assert.equal((await t().api("POST", `vms/${vm2}/start`, "<action/>")).status, 200);
        assert.equal((await t().api("POST", `vms/${vm2}/shutdown`, "<action/>")).status, 200);
        assert.equal((await t().api("GET", `vms/${vm2}`)).xml.vm.status, "down");
      });
    },
  );
});

describe("simulator: storage-domain transitions", function () {
  this.timeout(60_000);
  // a new simulator for every test: each walks export1 to the status its transition starts from (set-up steps)
  freshSimulator({ storageTransitionMs: 120 }, (t) => {
    let I: Ids;
    beforeEach(async () => {
      I = await ids(t());
    });
    const inMaintenance = async () => {
      assert.equal((await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>")).status, 200);
      await statusesUntil(t(), I.dcSource, I.export1, "maintenance");
    };
    const detached = async () => {
      await inMaintenance();
      assert.equal((await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`)).status, 200);
      await statusesUntil(t(), I.dcSource, I.export1, undefined);
    };
    const activeInTarget = async () => {
      await detached();
      assert.equal((await t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`)).status, 201);
      await statusesUntil(t(), I.dcTarget, I.export1, "active");
    };

    it("deactivate: preparing_for_maintenance -> maintenance; other operations meanwhile get 409 in progress", async () => {
      const r = await t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>");
      assert.equal(r.status, 200, r.text);
      assert.equal((await t().api("GET", `datacenters/${I.dcSource}/storagedomains/${I.export1}`)).xml.storage_domain.status, "preparing_for_maintenance");
      await expectFault(t(), t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`), 409, "[Cannot detach Storage. Related operation is currently in progress. Please try again later.]");
      await expectFault(t(), t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/activate`, "<action/>"), 409, "[Cannot activate Storage. Related operation is currently in progress. Please try again later.]");
      assert.deepEqual(await statusesUntil(t(), I.dcSource, I.export1, "maintenance"), ["preparing_for_maintenance", "maintenance"]);
    });

    it("detach: detaching -> gone (404 in the DC, unattached globally)", async () => {
      await inMaintenance();
      const r = await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`);
      assert.equal(r.status, 200, r.text);
      assert.equal((await t().api("GET", `datacenters/${I.dcSource}/storagedomains/${I.export1}`)).xml.storage_domain.status, "detaching");
      await expectFault(t(), t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`), 409, "[Cannot attach Storage. Related operation is currently in progress. Please try again later.]");
      assert.deepEqual(await statusesUntil(t(), I.dcSource, I.export1, undefined), ["detaching", "gone"]);
      assert.equal((await t().api("GET", `storagedomains/${I.export1}`)).xml.storage_domain.status, "unattached");
    });

    it("attach: locked -> maintenance -> activating -> active, refusing deactivate/export until active", async () => {
      await detached();
      const r = await t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.xml.storage_domain.status, "locked");
      await expectFault(t(), t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, "<action/>"), 409, "[Cannot deactivate Storage. Related operation is currently in progress. Please try again later.]");
      const seen = await statusesUntil(t(), I.dcTarget, I.export1, "active");
      assert.deepEqual(seen, ["locked", "maintenance", "activating", "active"]);
      const ev = arr((await t().api("GET", "events?max=5")).xml.events.event).map((e: any) => Number(e.code));
      assert.ok(ev.includes(962) && ev.includes(966), `attach + activate events: ${ev.join(",")}`);
    });

    it("a restart in the middle of a transition settles it (the operation completes)", async () => {
      await activeInTarget();
      assert.equal((await t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, "<action/>")).status, 200);
      await t().admin("POST", "restart", {});
      assert.equal((await t().api("GET", `datacenters/${I.dcTarget}/storagedomains/${I.export1}`)).xml.storage_domain.status, "maintenance");
    });
  });
});
