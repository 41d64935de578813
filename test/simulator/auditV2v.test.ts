// Audit log of V2V imports (POST /externalvmimports against vcsim): the VM is created on the answer; a failed
// conversion's job entry removes it.
import * as assert from "node:assert/strict";
import { VSphereClient } from "../../lib/vsphere";
import { RunningVcsim, seedVcsim, startVcsim } from "../support/vcsim";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { idOf } from "./helpers";

describe("simulator: audit log of V2V imports", function () {
  this.timeout(600_000);
  let vc: RunningVcsim;
  let t: TestSimulator;
  before(async () => {
    vc = await startVcsim();
    const c = await VSphereClient.connect({ host: vc.host, username: vc.username, password: vc.password, tls: { insecure: true } });
    await seedVcsim(c, [{ name: "v2v-src", cpus: 1, memoryMiB: 1024, disks: [{ sizeGiB: 1, thin: true }] }]);
    await c.logout();
    t = await startTestSimulator({ bandwidthMiBps: 4000 });
  });
  after(async () => {
    await t?.close();
    await vc?.close();
  });

  const body = async (target: string) => {
    const cl = await idOf(t, "clusters", "cl-target");
    const sd = await idOf(t, "storagedomains", "data-target");
    const url = `vpx://${vc.username}@${vc.host}/Region%20A/DC%20East/Prod%20Cluster/DC0_C0_H0?no_verify=1`;
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    return (
      `<external_vm_import><name>v2v-src</name><provider>vmware</provider><url>${esc(url)}</url>` +
      `<username>${vc.username}</username><password>${esc(vc.password)}</password>` +
      `<cluster id="${cl}"/><storage_domain id="${sd}"/><host><name>host-target-1</name></host><vm><name>${target}</name></vm></external_vm_import>`
    );
  };

  it("POST /externalvmimports: action import, the new VM created; the finished job created it; a failed one removed it", async () => {
    await t.admin("DELETE", "audit");
    const ok = await t.api("POST", "externalvmimports", await body("v2v-ok"), { "Correlation-Id": "audit-v2v-ok" });
    assert.equal(ok.status, 201, ok.text);
    const okId = ok.xml.external_vm_import.vm["@_id"];
    await t.admin("PUT", "faults", { rules: [{ match: { entity: "vm", operation: "import", path: "/externalvmimports$" }, effect: { jobFailure: { reason: "VDSM: disk write error on the proxy" } }, max: 1 }] });
    const bad = await t.api("POST", "externalvmimports", await body("v2v-bad"), { "Correlation-Id": "audit-v2v-bad" });
    assert.equal(bad.status, 201, bad.text);
    const badId = bad.xml.external_vm_import.vm["@_id"];
    const t0 = Date.now();
    let es: any[] = [];
    while (Date.now() - t0 < 60_000) {
      es = (await t.admin("GET", "audit")).entries;
      if (es.filter((e: any) => e.method === "JOB").length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const posts = es.filter((e: any) => e.method === "POST");
    assert.deepEqual(posts.map((e: any) => [e.action, e.status, e.correlationId]), [["import", 201, "audit-v2v-ok"], ["import", 201, "audit-v2v-bad"]]);
    assert.deepEqual(posts[0].entities, [{ kind: "vm", id: okId, name: "v2v-ok", role: "created" }]);
    const jobOk = es.find((e: any) => e.method === "JOB" && e.correlationId === "audit-v2v-ok");
    const jobBad = es.find((e: any) => e.method === "JOB" && e.correlationId === "audit-v2v-bad");
    assert.equal(jobOk.status, 200);
    assert.deepEqual(jobOk.entities.filter((e: any) => e.kind === "vm"), [{ kind: "vm", id: okId, name: "v2v-ok", role: "created" }]);
    assert.equal(jobBad.status, 500);
    assert.equal(jobBad.action, "import");
    assert.deepEqual(jobBad.entities.filter((e: any) => e.kind === "vm"), [{ kind: "vm", id: badId, name: "v2v-bad", role: "removed" }]);
    assert.ok((await t.api("GET", `vms/${badId}`)).status === 404);
  });
});
