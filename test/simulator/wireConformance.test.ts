// Wire-level conformance (simulator/README.md, "Wire conformance"): the model generated from the official oVirt
// Python SDK stays equal to what the generator makes of the installed SDK; the checker accepts what the engine's
// schema allows and names every unknown element, attribute and enum value with its path; and a simulator started by
// the test support refuses a request body the API model does not know (as the engine's JAXB reader does) and answers
// 500 for a response it would write so.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { Agent, request } from "undici";
import { apiModel, checkXml, WireLog } from "../../simulator/xml/wireCheck";
import { SimServer } from "../../simulator/server";
import { Router } from "../../simulator/router";
import { Sso } from "../../simulator/services/sso";
import { FaultInjector } from "../../simulator/faultInjection";
import { RequestLog } from "../../simulator/requestLog";
import { AuditLog } from "../../simulator/audit";
import type { Engine } from "../../simulator/engine";
import type { Jobs } from "../../simulator/jobs";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { idOf } from "./helpers";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PY = path.join(ROOT, "tools", "conformance", ".venv", "bin", "python");

describe("wire conformance: the model generated from the official API model", function () {
  this.timeout(120_000);

  it("simulator/xml/apiModel.json is what tools/wire-model/generate.py makes of the installed ovirtsdk4", function () {
    // CI installs the SDK with tools/conformance/setup.sh; without it the committed model cannot be regenerated here
    if (!fs.existsSync(PY)) {
      // scripts/test.sh installs it before mocha: in CI a missing venv is a failure, not a skip
      assert.ok(!process.env.CI, `${PY} is missing: tools/conformance/setup.sh did not run`);
      this.skip();
    }
    const r = spawnSync(PY, [path.join(ROOT, "tools", "wire-model", "generate.py"), "--check"], { encoding: "utf8" });
    assert.equal(r.status, 0, `generate.py --check: ${r.stderr}${r.stdout}`);
    const v = spawnSync(PY, ["-c", "import ovirtsdk4.version as v; print(v.VERSION)"], { encoding: "utf8" });
    assert.equal(apiModel.source.version, v.stdout.trim());
  });

  it("holds the types, roots, list item tags and enums the simulator and the provider exchange", () => {
    assert.deepEqual(apiModel.roots.vms, { list: "Vm", item: "vm" });
    assert.deepEqual(apiModel.roots.action, { type: "Action" });
    assert.deepEqual(apiModel.types.Vm.elements.disk_attachments, { list: "DiskAttachment", item: "disk_attachment" });
    assert.deepEqual(apiModel.types.Boot.elements.devices, { values: "enum", enum: "BootDevice", item: "device" });
    assert.equal(apiModel.types.Vm.identified, true);
    assert.equal(apiModel.types.Cpu.identified, false);
    assert.ok(apiModel.enums.VmStatus.includes("image_locked"));
  });
});

describe("wire conformance: the checker", () => {
  it("accepts an engine-shaped document: BaseResource href/id, actions, link, creation_status; lists, primitive lists, enums", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<vms>
  <vm href="/ovirt-engine/api/vms/1" id="1">
    <actions><link href="/ovirt-engine/api/vms/1/start" rel="start"/></actions>
    <name>web-01</name>
    <description/>
    <comment></comment>
    <creation_status>complete</creation_status>
    <link href="/ovirt-engine/api/vms/1/nics" rel="nics"/>
    <cpu><architecture>x86_64</architecture><topology><cores>1</cores><sockets>2</sockets><threads>1</threads></topology></cpu>
    <os><boot><devices><device>hd</device><device>network</device></devices></boot><type>other</type></os>
    <status>down</status>
    <disk_attachments>
      <disk_attachment href="/ovirt-engine/api/vms/1/diskattachments/2" id="2">
        <bootable>true</bootable><interface>virtio_scsi</interface>
        <disk href="/ovirt-engine/api/disks/2" id="2"><storage_domains><storage_domain id="3"/></storage_domains></disk>
      </disk_attachment>
    </disk_attachments>
    <storage_domain id="3"><storage><volume_group id="vg-1"/></storage></storage_domain>
  </vm>
</vms>`;
    assert.deepEqual(checkXml(xml), []);
    assert.deepEqual(checkXml(`<action><storage_domain><name>export</name></storage_domain><exclusive>true</exclusive><discard_snapshots>false</discard_snapshots><async>false</async></action>`), []);
    assert.deepEqual(checkXml(`<fault><detail>[Cannot export VM.]</detail><reason>Operation Failed</reason></fault>`), []);
  });

  it("names an unknown element, attribute, enum value and root with its path", () => {
    const v = checkXml(`<vm id="1"><disk_attachments><disk_attachment id="2"><foo>1</foo></disk_attachment></disk_attachments><cpu href="/x"/><status>running</status><name><b/></name></vm>`);
    assert.deepEqual(
      v.map((x) => [x.kind, x.path]),
      [
        ["element", "/vm/disk_attachments/disk_attachment/foo"],
        ["attribute", "/vm/cpu/@href"],
        ["value", "/vm/status"],
        ["element", "/vm/name/b"],
      ],
    );
    assert.match(v[0].detail, /DiskAttachment has no element 'foo'/);
    assert.match(v[2].detail, /'running' is not a value of VmStatus/);
    assert.deepEqual(checkXml(`<vmx/>`).map((x) => x.path), ["/vmx"]);
    // a list holds only its item tag; `actions` and size/total/active only on collections of identified types
    assert.deepEqual(checkXml(`<vms><template id="1"/><size>1</size></vms>`).map((x) => x.path), ["/vms/template"]);
    assert.deepEqual(checkXml(`<vm><os><boot><devices><dev>hd</dev></devices></boot></os><cpu><actions/></cpu></vm>`).map((x) => x.path), ["/vm/os/boot/devices/dev", "/vm/cpu/actions"]);
  });
});

describe("wire conformance: a simulator started by the test support", function () {
  this.timeout(60_000);
  let t: TestSimulator;
  before(async () => {
    t = await startTestSimulator();
  });
  after(async () => {
    await t?.close();
  });

  it("refuses a request body with an unknown element (400 'Request syntactically incorrect.', the path named), changing nothing", async () => {
    const id = await idOf(t, "vms", "web-01");
    const before = (await t.api("GET", `vms/${id}`)).xml.vm.description ?? "";
    const r = await t.api("PUT", `vms/${id}`, `<vm><description>changed</description><disk_attachments><disk_attachment><foo/></disk_attachment></disk_attachments></vm>`);
    assert.equal(r.status, 400);
    assert.equal(r.xml.fault.reason, "Request syntactically incorrect.");
    assert.match(r.xml.fault.detail, /\/vm\/disk_attachments\/disk_attachment\/foo: DiskAttachment has no element 'foo'/);
    assert.equal((await t.api("GET", `vms/${id}`)).xml.vm.description ?? "", before);
    const v = await t.takeWireViolations();
    assert.equal(v.length, 1);
    assert.equal(v[0].direction, "request");
    assert.equal(v[0].status, 400);
    assert.equal(v[0].path, `/ovirt-engine/api/vms/${id}`);
    assert.deepEqual(v[0].violations.map((x) => x.path), ["/vm/disk_attachments/disk_attachment/foo"]);
  });

  it("refuses an unknown attribute or enum value too (the test support runs wireCheck 'fail')", async () => {
    const id = await idOf(t, "vms", "web-01");
    const a = await t.api("PUT", `vms/${id}`, `<vm><cpu href="/x"><topology><sockets>1</sockets></topology></cpu></vm>`);
    assert.equal(a.status, 400);
    assert.match(a.xml.fault.detail, /\/vm\/cpu\/@href/);
    const e = await t.api("PUT", `vms/${id}`, `<vm><type>huge</type></vm>`);
    assert.equal(e.status, 400);
    assert.match(e.xml.fault.detail, /\/vm\/type: 'huge' is not a value of VmType/);
    assert.deepEqual((await t.takeWireViolations()).map((r) => [r.status, r.violations.map((x) => x.kind)]), [[400, ["attribute"]], [400, ["value"]]]);
  });

  it("close() fails when violations are left, naming them", async () => {
    const other = await startTestSimulator();
    const id = await idOf(other, "vms", "web-01");
    assert.equal((await other.api("PUT", `vms/${id}`, `<vm><bogus>1</bogus></vm>`)).status, 400);
    await assert.rejects(other.close(), /wire conformance[\s\S]*request PUT \/ovirt-engine\/api\/vms\/[^ ]+ \(400\): \/vm\/bogus: Vm has no element 'bogus'/);
  });

  it("in 'record' mode (the default) an unknown element is still refused, as the engine refuses it; an attribute is recorded", async () => {
    const rec = await startTestSimulator({ wireCheck: "record" });
    try {
      const id = await idOf(rec, "vms", "web-01");
      assert.equal((await rec.api("PUT", `vms/${id}`, `<vm><bogus>1</bogus></vm>`)).status, 400);
      const ok = await rec.api("PUT", `vms/${id}`, `<vm><description href="/x">d</description></vm>`);
      assert.equal(ok.status, 200);
      assert.equal(ok.xml.vm.description, "d");
      const v = await rec.takeWireViolations();
      assert.deepEqual(v.map((r) => [r.status ?? null, r.violations[0].path]), [[400, "/vm/bogus"], [null, "/vm/description/@href"]]);
    } finally {
      await rec.close();
    }
  });
});

describe("wire conformance: a response the simulator would write with an unknown element", function () {
  this.timeout(30_000);
  // the HTTP layer of the simulator with one route that writes `<vm><foo/></vm>`: no simulated service writes such XML
  // (the suites would catch it), so this is the way to see what a simulator bug of that kind does
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wire-resp-"));
  const wire = new WireLog("fail");
  const router = new Router();
  router.get("vms/:vm", (ctx) => ({ status: 200, root: "vm", content: { "@_id": ctx.params.vm, name: "x", foo: "1" } }));
  const sso = new Sso("pw-wire", 3600);
  const server = new SimServer(
    {
      getEngine: () => ({}) as Engine,
      getJobs: () => ({}) as Jobs,
      router,
      sso,
      faults: new FaultInjector(),
      log: new RequestLog(),
      audit: new AuditLog(path.join(dir, "audit.jsonl")),
      admin: async () => undefined,
      isDown: () => false,
      wire,
    },
    false,
  );
  const agent = new Agent();
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, "127.0.0.1")}`;
  });
  after(async () => {
    await server.close();
    await agent.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers 500 naming the element, and records it", async () => {
    const tok = await request(`${base}/ovirt-engine/sso/oauth/token`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=pw-wire",
    });
    const token = ((await tok.body.json()) as { access_token: string }).access_token;
    const r = await request(`${base}/ovirt-engine/api/vms/42`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, accept: "application/xml" } });
    const text = await r.body.text();
    assert.equal(r.statusCode, 500);
    assert.match(text, /<reason>Internal Server Error<\/reason>/);
    assert.match(text, /\/vm\/foo: Vm has no element &apos;foo&apos;/);
    const s = wire.snapshot();
    assert.deepEqual(s.violations.map((x) => [x.direction, x.path, x.status, x.violations.map((y) => y.path)]), [["response", "/ovirt-engine/api/vms/42", 500, ["/vm/foo"]]]);
  });
});
