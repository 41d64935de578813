// Two engines sharing one export domain directory: the seed's cross-engine move.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";
import { diskSums, exportAndWait, idOf, sumsOf, xmlAction } from "./helpers";

describe("simulator: cross-engine move through a shared export domain", function () {
  this.timeout(60_000);
  let A: TestSimulator, B: TestSimulator;
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), "shared-export-"));
  before(async () => {
    A = await startTestSimulator({
      engineName: "engine-a",
      bandwidthMiBps: 1000,
      inventory: {
        dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a" }] }],
        exportDomains: [{ name: "export-shared", path: shared, attachedTo: "dc-a" }],
        vms: [{ name: "app", cluster: "cl-a", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16 }, { sizeMiB: 8, sparse: false }] }],
      },
    });
    B = await startTestSimulator({
      engineName: "engine-b",
      bandwidthMiBps: 1000,
      inventory: {
        dataCenters: [{ name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b" }] }],
      },
    });
  });
  after(async () => {
    await A?.close();
    await B?.close();
    fs.rmSync(shared, { recursive: true, force: true });
  });

  it("A exports; B refuses to attach while A holds it; A detaches and removes without format; B imports the domain and the VM", async () => {
    const app = await idOf(A, "vms", "app");
    const sdId = await idOf(A, "storagedomains", "export-shared");
    const dcA = await idOf(A, "datacenters", "dc-a");
    await exportAndWait(A, app, sdId, "<discard_snapshots>true</discard_snapshots>");
    const srcSums = sumsOf((await diskSums(A)).vms.find((v: any) => v.id === app));

    // engine B imports the existing domain (reads dom_md/metadata to learn its id)
    const hostB = await idOf(B, "hosts", "host-b");
    const add = await B.api("POST", "storagedomains", `<storage_domain><name>export-shared</name><type>export</type><import>true</import><host id="${hostB}"/><storage><type>nfs</type><address>127.0.0.1</address><path>${shared}</path></storage></storage_domain>`);
    assert.equal(add.status, 201, add.text);
    assert.equal(add.xml.storage_domain["@_id"], sdId, "the id comes from dom_md/metadata");
    assert.equal(add.xml.storage_domain.status, "unattached");
    const dcB = await idOf(B, "datacenters", "dc-b");
    const refused = await B.api("POST", `datacenters/${dcB}/storagedomains`, `<storage_domain id="${sdId}"/>`);
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.xml.fault.detail, "[The Domain is already used by another Data Center.\nIn order to use it, detach it from the Data Center it is currently attached to.]");
    assert.equal((await B.api("GET", `datacenters/${dcB}/storagedomains/${sdId}`)).status, 404);

    // engine A lets it go: deactivate, detach, remove without format
    assert.equal((await A.api("POST", `datacenters/${dcA}/storagedomains/${sdId}/deactivate`, "<action/>")).status, 200);
    assert.equal((await A.api("DELETE", `datacenters/${dcA}/storagedomains/${sdId}`)).status, 200);
    const rm = await A.api("DELETE", `storagedomains/${sdId}?host=host-a&format=false`);
    assert.equal(rm.status, 200, rm.text);
    assert.equal((await A.api("GET", `storagedomains/${sdId}`)).status, 404);
    assert.ok(fs.existsSync(path.join(shared, sdId, "master", "vms", app, `${app}.ovf`)), "files kept (format=false)");
    assert.match(fs.readFileSync(path.join(shared, sdId, "dom_md", "metadata"), "utf8"), /^POOL_UUID=$/m);

    // engine B attaches and imports, keeping the VM id (another engine)
    const att = await B.api("POST", `datacenters/${dcB}/storagedomains`, `<storage_domain id="${sdId}"/>`);
    assert.equal(att.status, 201, att.text);
    assert.match(fs.readFileSync(path.join(shared, sdId, "dom_md", "metadata"), "utf8"), new RegExp(`^POOL_UUID=${dcB}$`, "m"));
    const lst = await B.api("GET", `storagedomains/${sdId}/vms`);
    assert.deepEqual(arr(lst.xml.vms.vm).map((v: any) => v.name), ["app"]);
    const dataB = await idOf(B, "storagedomains", "data-b");
    const imp = await B.api("POST", `storagedomains/${sdId}/vms/${app}/import`, xmlAction(`<storage_domain id="${dataB}"/><cluster><name>cl-b</name></cluster><async>false</async>`));
    assert.equal(imp.status, 200, imp.text);
    assert.equal(imp.xml.action.status, "complete");
    const vmB = (await diskSums(B)).vms.find((v: any) => v.id === app);
    assert.equal(vmB.dataCenter, "dc-b");
    assert.deepEqual(sumsOf(vmB), srcSums);

    // and A cannot take it back while B holds it
    const hostA = await idOf(A, "hosts", "host-a");
    const back = await A.api("POST", "storagedomains", `<storage_domain><type>export</type><import>true</import><host id="${hostA}"/><storage><type>nfs</type><address>127.0.0.1</address><path>${shared}</path></storage></storage_domain>`);
    assert.equal(back.status, 201, back.text);
    const re = await A.api("POST", `datacenters/${dcA}/storagedomains`, `<storage_domain id="${sdId}"/>`);
    assert.equal(re.status, 400);
  });
});
