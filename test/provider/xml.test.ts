import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseXml, readCollection, readEntity, writeXml, parseWith } from "../../provider/client/xml";
import { Action, Fault, Job, Permission, StorageDomain, Vm } from "../../provider/client/types";

const FIX = path.resolve(__dirname, "..", "..", "..", "test", "provider", "fixtures");
const fixture = (n: string) => fs.readFileSync(path.join(FIX, n), "utf8");

describe("XML mapping (oVirt API model documentation samples)", () => {
  it("reads a Vm", () => {
    const vm = readEntity(fixture("vm.xml"), "vm", Vm);
    assert.equal(vm.id, "007");
    assert.equal(vm.name, "myvm");
    assert.equal(vm.status, "down");
    assert.equal(vm.memory, 1073741824);
    assert.equal(vm.cpu?.architecture, "x86_64");
    assert.equal(vm.cpu?.topology?.sockets, 1);
    assert.equal(vm.cluster?.id, "002");
    assert.equal(vm.template?.id, "000");
    assert.equal(vm.original_template?.id, "00");
    assert.equal(vm.type, "desktop");
  });

  it("reads a StorageDomain with numbers, booleans, storage and data_centers", () => {
    const sd = readEntity(fixture("storage_domain.xml"), "storage_domain", StorageDomain);
    assert.equal(sd.id, "123");
    assert.equal(sd.type, "data");
    assert.equal(sd.master, true);
    assert.equal(sd.available, 38654705664);
    assert.equal(sd.used, 13958643712);
    assert.deepEqual(sd.storage, { address: "mynfs.example.com", nfs_version: "v3", path: "/exports/mydata", type: "nfs" });
    assert.deepEqual(sd.data_centers?.map((d) => d.id), ["456"]);
  });

  it("reads a Job", () => {
    const job = readEntity(fixture("job.xml"), "job", Job);
    assert.equal(job.id, "123");
    assert.equal(job.status, "failed");
    assert.equal(job.description, "Adding Disk");
    assert.equal(job.external, false);
    assert.equal(job.auto_cleared, true);
    assert.equal(job.end_time, "2016-12-12T23:07:29.758+02:00");
  });

  it("reads a bare Fault", () => {
    const { root, value } = parseXml(fixture("fault.xml"));
    assert.equal(root, "fault");
    const f = parseWith(Fault, value, "fault");
    assert.equal(f.reason, "Incomplete parameters");
    assert.equal(f.detail, "Vm [name] required for add");
  });

  it("reads an action echo carrying a fault (failed action)", () => {
    const xml =
      "<action><storage_domain id=\"sd1\"/><exclusive>true</exclusive><fault><reason>Operation Failed</reason>" +
      "<detail>[Cannot export VM. At least one of the VMs is not down.]</detail></fault><status>failed</status></action>";
    const a = readEntity(xml, "action", Action);
    assert.equal(a.status, "failed");
    assert.equal(a.fault?.reason, "Operation Failed");
    assert.match(a.fault?.detail ?? "", /not down/);
  });

  it("reads an accepted async action with its job link", () => {
    const xml =
      '<action><async>true</async><job href="/ovirt-engine/api/jobs/j1" id="j1"/><status>pending</status></action>';
    const a = readEntity(xml, "action", Action);
    assert.equal(a.async, true);
    assert.equal(a.job?.id, "j1");
    assert.equal(a.status, "pending");
  });

  it("reads collections with one element as arrays, and empty collections", () => {
    const perms = readCollection(fixture("permissions.xml"), "permissions", "permission", Permission);
    assert.equal(perms.length, 1);
    assert.equal(perms[0].user?.id, "789");
    assert.equal(perms[0].role?.id, "abc");
    assert.deepEqual(readCollection("<vms/>", "vms", "vm", Vm), []);
    const two = readCollection('<vms><vm id="a"><name>a</name></vm><vm id="b"><name>b</name></vm></vms>', "vms", "vm", Vm);
    assert.deepEqual(two.map((v) => v.id), ["a", "b"]);
  });

  it("writes the import action of the model documentation", () => {
    const xml = writeXml("action", {
      storage_domain: { name: "mydata" },
      cluster: { name: "mycluster" },
      clone: true,
      vm: { name: "myvm" },
    });
    const back = parseXml(xml);
    const expected = parseXml(fixture("action_import.xml"));
    assert.deepEqual(back, expected);
  });

  it("writes ids as attributes, repeats arrays, skips undefined and escapes text", () => {
    const xml = writeXml("action", {
      storage_domain: { id: "sd-1" },
      vm: { name: `a<b>&"c'`, disk_attachments: { disk_attachment: [{ disk: { id: "d1", sparse: true } }, { disk: { id: "d2" } }] } },
      exclusive: undefined,
    });
    assert.match(xml, /<storage_domain id="sd-1"\/?>/);
    assert.doesNotMatch(xml, /exclusive/);
    assert.doesNotMatch(xml, /<b>/);
    const back = parseXml(xml).value;
    assert.equal(back.vm.name, `a<b>&"c'`);
    assert.equal(back.vm.disk_attachments.disk_attachment.length, 2);
  });

  it("rejects unexpected XML with a message naming the element", () => {
    assert.throws(() => readEntity("<vm><name>x</name></vm>", "vm", Vm), /<vm> at id/);
    assert.throws(() => readEntity("<fault/>", "vm", Vm), /expected <vm>/);
  });
});
