// The zero-copy path through the provider: DataDomainAttachment moves a data domain (same engine, and across
// engines), VmRegistration registers what is on it, destroy undoes the move; previews refuse what the engine would.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TestSimulator, startTestSimulator, diskReport, shas, arr } from "../support/simulator";
import { providerOf, checkAndCreate, PROVIDER_SIM } from "./helpers";
import { closeAllEngines } from "../../provider/client";

const DDA = "DataDomainAttachment";
const REG = "VmRegistration";

const inventory = (exportPath: string) => ({
  // an LDAP-like authz domain besides internal-authz (GET /domains), for the domain mappings
  authzDomains: ["corp.example"],
  dataCenters: [
    {
      name: "dc-src",
      clusters: [{ name: "cl-src" }],
      hosts: [{ name: "h-src", cluster: "cl-src" }],
      storageDomains: [{ name: "data-src" }, { name: "data-move" }],
    },
    { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] },
  ],
  exportDomains: [{ name: "exp", path: exportPath, attachedTo: "dc-dst", status: "active" as const }],
  templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 8 }] }],
  vms: [
    { name: "web", cluster: "cl-src", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 16, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-move" }] },
    { name: "thin", cluster: "cl-src", template: "tpl" },
    { name: "split", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-move" }, { sizeMiB: 8, storageDomain: "data-src" }] },
    { name: "stay", cluster: "cl-src", disks: [{ sizeMiB: 8, storageDomain: "data-src" }] },
    { name: "other", cluster: "cl-dst", disks: [{ sizeMiB: 8, storageDomain: "data-dst" }] },
  ],
});

describe("provider: data-domain move (DataDomainAttachment + VmRegistration)", function () {
  this.timeout(300_000);
  let t: TestSimulator;
  beforeEach(async () => {
    t = await startTestSimulator({ ...PROVIDER_SIM, inventory: inventory(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ovirt-ddm-")), "exp")) });
  });
  afterEach(async () => {
    await closeAllEngines({ revoke: false });
    await t?.close();
  });

  const attachArgs = (extra: any = {}) => ({ engine: t.engine, storageDomain: "data-move", dataCenter: "dc-dst", moveFrom: { dataCenter: "dc-src", cluster: "cl-src" }, ...extra });

  it("preview lists what leaves and refuses, with 0 mutating requests: a split VM, unlisted entities, an unknown cluster, a vNIC mapping", async () => {
    await t.resetRequests();
    const c = await providerOf(DDA).check({}, attachArgs({ entities: ["web", "tpl"] }));
    const props = c.failures.map((f: any) => f.property).sort();
    assert.deepEqual(props, ["allowSplitVms", "entities"], JSON.stringify(c.failures));
    assert.match(c.failures.find((f: any) => f.property === "entities").reason, /also takes vm thin out of dc-src/);
    assert.match(c.failures.find((f: any) => f.property === "allowSplitVms").reason, /VM split has disks on data-move \(split_Disk1\) and on other domains \(split_Disk2\)/);
    assert.deepEqual(c.inputs.leaving.slice(1).sort(), ["VM split stays, losing disks split_Disk1", "template tpl (cluster cl-src)", "vm thin (cluster cl-src)", "vm web (cluster cl-src)"]);
    const r = await providerOf(REG).check({}, {
      engine: t.engine, storageDomain: "data-move", name: "web", cluster: "cl-dts", expectFrom: { dataCenter: "dc-src" },
      vnicProfileMappings: [{ sourceNetwork: "ovirtmgmt", sourceProfile: "ovirtmgmt", targetProfile: "prod" }],
    });
    assert.deepEqual(r.failures.map((f: any) => f.property).sort(), ["cluster", "vnicProfileMappings[0].targetProfile"], JSON.stringify(r.failures));
    assert.match(r.failures[0].reason + r.failures[1].reason, /did you mean "cl-dst"|cl-dst/);
    const bad = await providerOf(REG).check({}, { engine: t.engine, storageDomain: "data-move", kind: "template", name: "tpl", newName: "x", reassignBadMacs: true });
    assert.deepEqual(bad.failures.map((f: any) => f.property).sort(), ["newName", "reassignBadMacs"], JSON.stringify(bad.failures));
    const noTo = await providerOf(REG).check({}, { engine: t.engine, storageDomain: "data-move", name: "web", registrationConfiguration: { clusterMappings: [{ from: "cl-src" }] } });
    assert.deepEqual(noTo.failures.map((f: any) => f.property), ["registrationConfiguration.clusterMappings.0.to"]);
    assert.equal(await t.mutating(), 0);
  });

  it("preview refuses a domain mapping to an authz domain the target does not list, or from one name twice, with 0 mutating requests", async () => {
    await t.resetRequests();
    const args = (domainMappings: Array<{ from: string; to: string }>) => ({
      engine: t.engine, storageDomain: "data-move", name: "web", cluster: "cl-dst", expectFrom: { dataCenter: "dc-src" }, registrationConfiguration: { domainMappings },
    });
    const r = await providerOf(REG).check({}, args([
      { from: "corp.example", to: "ldap.example" },
      { from: "ad.example", to: "corp.example" },
      { from: "corp.example", to: "internal-authz" },
    ]));
    assert.deepEqual(r.failures.map((f: any) => f.property).sort(), ["registrationConfiguration.domainMappings[0].to", "registrationConfiguration.domainMappings[2].from"], JSON.stringify(r.failures));
    const to = r.failures.find((f: any) => f.property.endsWith("[0].to")).reason;
    // the field, the value, what the engine has, the fix
    assert.match(to, /^registrationConfiguration\.domainMappings\[0\]\.to: authz domain "ldap\.example" does not exist in engine /);
    assert.match(to, /\(its domains: corp\.example, internal-authz\)/);
    assert.match(to, /Map to one of those domains, or configure "ldap\.example"/);
    assert.match(r.failures.find((f: any) => f.property.endsWith("[2].from")).reason, /"corp\.example" is mapped twice \(also domainMappings\[0\]\)/);
    assert.equal(await t.mutating(), 0);
    const good = await providerOf(REG).check({}, args([{ from: "corp.example", to: "internal-authz" }, { from: "ad.example", to: "corp.example" }]));
    assert.deepEqual(good.failures, []);
    // the engine takes the mapping: the register goes through with it
    await checkAndCreate(DDA, attachArgs({ allowSplitVms: true }));
    const web = await checkAndCreate(REG, { ...args([{ from: "corp.example", to: "internal-authz" }]), expectFrom: undefined });
    assert.equal(web.outs.ownership, "created");
    assert.equal((await diskReport(t)).vms.find((v) => v.name === "web")!.dataCenter, "dc-dst");
  });

  it("same engine: moves the domain, registers template then VMs with the same bytes, and destroy gives everything back", async () => {
    const before = await diskReport(t);
    const src = (n: string) => shas(before.vms.find((v) => v.name === n) ?? before.templates.find((v) => v.name === n));
    const att = await checkAndCreate(DDA, attachArgs({ allowSplitVms: true }));
    assert.equal(att.outs.status, "active");
    assert.deepEqual(att.outs.takenFrom, { dataCenter: "dc-src" });
    assert.deepEqual(att.outs.leftSource.map((e: any) => e.name).sort(), ["thin", "tpl", "web"]);
    // the VM's disk on data-src stays in dc-src; the one on data-move leaves
    const tpl = await checkAndCreate(REG, { engine: t.engine, storageDomain: "data-move", kind: "template", name: "tpl", cluster: "cl-dst" });
    assert.equal(tpl.outs.ownership, "created");
    const web = await checkAndCreate(REG, { engine: t.engine, storageDomain: "data-move", name: "web", cluster: "cl-dst" });
    const thin = await checkAndCreate(REG, { engine: t.engine, storageDomain: "data-move", name: "thin", cluster: "cl-dst" });
    const after = await diskReport(t);
    for (const [n, kind] of [["web", "vms"], ["thin", "vms"], ["tpl", "templates"]] as const) {
      const e = (after as any)[kind].find((v: any) => v.name === n);
      assert.equal(e.dataCenter, "dc-dst", n);
      assert.deepEqual(shas(e), src(n), `${n}: same bytes after register`);
    }
    // idempotent: a second create (state lost) finds its own registration by correlation id
    const again = await providerOf(REG).create({ ...web.outs });
    assert.equal(again.id, web.id);
    assert.equal(again.outs.ownership, "created");
    // refresh sees drift: the VM removed out of band
    const read = await providerOf(REG).read(web.id, web.outs);
    assert.equal(read.props.registeredName, "web");
    // destroy: registrations keep the VMs; the attachment gives the domain back and registers them in dc-src
    for (const r of [thin, web, tpl]) await providerOf(REG).delete(r.id, r.outs);
    assert.ok((await diskReport(t)).vms.some((v) => v.name === "web" && v.dataCenter === "dc-dst"), "a registration's delete removes nothing");
    await providerOf(DDA).delete(att.id, att.outs);
    const back = await diskReport(t);
    for (const n of ["web", "thin"]) {
      const v = back.vms.find((x) => x.name === n)!;
      assert.equal(v.dataCenter, "dc-src", n);
      assert.deepEqual(shas(v), src(n));
    }
    assert.equal(back.templates.find((x) => x.name === "tpl")!.dataCenter, "dc-src");
  });

  it("a destroy stopped after the domain went back: the next up sees the registrations gone, moves the domain again and registers them again", async () => {
    const before = await diskReport(t);
    const att = await checkAndCreate(DDA, attachArgs({ allowSplitVms: true }));
    const regArgs = (kind: "vm" | "template", name: string) => ({ engine: t.engine, storageDomain: "data-move", kind, name, cluster: "cl-dst" });
    const tpl = await checkAndCreate(REG, regArgs("template", "tpl"));
    const web = await checkAndCreate(REG, regArgs("vm", "web"));
    // the registrations stand: no change
    assert.deepEqual((await providerOf(REG).diff(web.id, web.outs, regArgs("vm", "web"))).replaces, []);
    // `pulumi destroy` killed after the attachment's delete gave the domain back (registered in dc-src again) and
    // before the registrations left the state
    await providerOf(DDA).delete(att.id, att.outs);
    assert.equal((await diskReport(t)).vms.find((v) => v.name === "web")!.dataCenter, "dc-src");
    await t.resetRequests();
    const d = await providerOf(REG).diff(web.id, web.outs, regArgs("vm", "web"));
    assert.equal(d.changes, true);
    assert.ok(d.replaces!.length > 0, "registered again");
    assert.ok((await providerOf(REG).diff(tpl.id, tpl.outs, regArgs("template", "tpl"))).replaces!.length > 0);
    assert.equal(await t.mutating(), 0, "diff only reads");
    // the up: the domain moves again, then each replacement registers (the replaced one's delete removes nothing)
    const att2 = await checkAndCreate(DDA, attachArgs({ allowSplitVms: true }));
    assert.equal(att2.outs.status, "active");
    for (const r of [tpl, web]) await providerOf(REG).delete(r.id, r.outs);
    await checkAndCreate(REG, regArgs("template", "tpl"));
    const web2 = await checkAndCreate(REG, regArgs("vm", "web"));
    const v = (await diskReport(t)).vms.find((x) => x.name === "web")!;
    assert.equal(v.dataCenter, "dc-dst");
    assert.deepEqual(shas(v), shas(before.vms.find((x) => x.name === "web")));
    assert.deepEqual((await providerOf(REG).diff(web2.id, web2.outs, regArgs("vm", "web"))).replaces, []);
  });

  it("destroy refuses to detach a domain holding a VM that did not arrive with it", async () => {
    const att = await checkAndCreate(DDA, attachArgs({ allowSplitVms: true }));
    const sd = att.outs.storageDomainId;
    // someone imports another VM onto the moved domain in dc-dst (through the export domain there)
    const other = (await t.api("GET", "vms?search=name%3Dother")).xml.vms.vm["@_id"];
    const exp = await t.api("POST", `vms/${other}/export`, `<action><storage_domain><name>exp</name></storage_domain><async>false</async></action>`);
    assert.equal(exp.status, 200, exp.text);
    const clDst = (await t.api("GET", "clusters?search=name%3Dcl-dst")).xml.clusters.cluster["@_id"];
    const expId = (await t.api("GET", "storagedomains?search=name%3Dexp")).xml.storage_domains.storage_domain["@_id"];
    const imp = await t.api("POST", `storagedomains/${expId}/vms/${other}/import`, `<action><storage_domain id="${sd}"/><cluster id="${clDst}"/><clone>true</clone><vm><name>newcomer</name></vm></action>`);
    assert.ok(imp.status < 300, imp.text);
    assert.equal(await t.waitJob(imp.xml.action.job["@_id"]), "finished");
    await t.resetRequests();
    await assert.rejects(providerOf(DDA).delete(att.id, att.outs), /holds VM newcomer, which did not arrive with it.*Nothing was changed/s);
    assert.equal(await t.mutating(), 0);
    // refresh: the domain detached out of band is on its way between dc-src and dc-dst ("detached"): the attachment
    // stays (a destroy gives it back to dc-src, an up attaches it again); moved to another data center = gone (drift)
    assert.equal((await providerOf(DDA).read(att.id, att.outs)).props.status, "active");
    const dcDst = att.outs.dataCenterId;
    const de = await t.api("POST", `datacenters/${dcDst}/storagedomains/${sd}/deactivate`, "<action/>");
    assert.equal(de.status, 200, de.text);
    for (let i = 0; i < 100 && (await t.api("GET", `datacenters/${dcDst}/storagedomains/${sd}`)).xml.storage_domain?.status !== "maintenance"; i++) await new Promise((r) => setTimeout(r, 100));
    const dt = await t.api("DELETE", `datacenters/${dcDst}/storagedomains/${sd}`);
    assert.ok(dt.status < 300, dt.text);
    for (let i = 0; i < 100 && (await t.api("GET", `datacenters/${dcDst}/storagedomains/${sd}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
    const read = await providerOf(DDA).read(att.id, att.outs);
    assert.equal(read.props.status, "detached");
    const d = await providerOf(DDA).diff(att.id, read.props, att.outs);
    assert.deepEqual([d.changes, d.replaces], [true, []]);
    const up = await providerOf(DDA).update(att.id, read.props, { ...att.outs });
    assert.equal(up.outs.status, "active");
    assert.deepEqual(up.outs.takenFrom, { dataCenter: "dc-src" });
    assert.deepEqual(up.outs.leftSource, att.outs.leftSource, "what left dc-src with the first move is kept for the destroy");
    assert.equal((await t.api("GET", `datacenters/${dcDst}/storagedomains/${sd}`)).xml.storage_domain.status, "active");
    // moved to dc-src out of band with nothing of it waiting there: drift, the attachment is gone
    await t.api("POST", `datacenters/${dcDst}/storagedomains/${sd}/deactivate`, "<action/>");
    for (let i = 0; i < 100 && (await t.api("GET", `datacenters/${dcDst}/storagedomains/${sd}`)).xml.storage_domain?.status !== "maintenance"; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok((await t.api("DELETE", `datacenters/${dcDst}/storagedomains/${sd}`)).status < 300);
    for (let i = 0; i < 100 && (await t.api("GET", `datacenters/${dcDst}/storagedomains/${sd}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
    const dcSrc = (await t.api("GET", "datacenters?search=name%3Ddc-src")).xml.data_centers.data_center["@_id"];
    const at = await t.api("POST", `datacenters/${dcSrc}/storagedomains`, `<storage_domain id="${sd}"/>`);
    assert.ok(at.status < 300, at.text);
    for (let i = 0; i < 100 && (await t.api("GET", `datacenters/${dcSrc}/storagedomains/${sd}`)).xml.storage_domain?.status !== "active"; i++) await new Promise((r) => setTimeout(r, 100));
    // someone registers back what left dc-src with it (templates first)
    for (const kind of ["template", "vm"]) {
      for (const e of att.outs.leftSource.filter((x: any) => x.kind === kind)) {
        const r = await t.api("POST", `storagedomains/${sd}/${kind}s/${e.id}/register`, `<action><cluster><name>cl-src</name></cluster></action>`);
        assert.equal(r.status, 200, r.text);
      }
    }
    assert.deepEqual(await providerOf(DDA).read(att.id, up.outs), {});
  });
});

describe("provider: a registration's MAC addresses are judged at preview against the target's pool", function () {
  this.timeout(120_000);
  const MAC = "56:6f:1a:00:00:07";
  let t: TestSimulator;
  before(async () => {
    t = await startTestSimulator({
      ...PROVIDER_SIM,
      inventory: {
        // the source cluster has a pool of its own, so the same MAC can be in use in both pools before the move
        macPools: [{ name: "src-pool", ranges: [{ from: "56:6f:1a:00:00:00", to: "56:6f:1a:00:00:ff" }] }],
        dataCenters: [
          { name: "dc-src", clusters: [{ name: "cl-src", macPool: "src-pool" }], hosts: [{ name: "h-src", cluster: "cl-src" }], storageDomains: [{ name: "data-src" }, { name: "data-move" }] },
          { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] },
        ],
        vms: [
          { name: "web", cluster: "cl-src", nics: [{ name: "nic1", mac: MAC }], disks: [{ sizeMiB: 8, storageDomain: "data-move" }] },
          { name: "calm", cluster: "cl-src", nics: 1, disks: [{ sizeMiB: 8, storageDomain: "data-move" }] },
          { name: "holder", cluster: "cl-dst", nics: [{ name: "eth0", mac: MAC }], disks: [{ sizeMiB: 8, storageDomain: "data-dst" }] },
        ],
      } as any,
    });
  });
  after(async () => {
    await closeAllEngines({ revoke: false });
    await t?.close();
  });

  it("a MAC the target pool holds is refused under reassignBadMacs before the move, naming the MAC and its holder; reassignBadMacs: true passes; 0 mutating requests", async () => {
    await t.resetRequests();
    const args = (name: string, extra: any = {}) => ({ engine: t.engine, storageDomain: "data-move", name, cluster: "cl-dst", expectFrom: { dataCenter: "dc-src" }, ...extra });
    const bad = await providerOf(REG).check({}, args("web"));
    const f = bad.failures.find((x: any) => x.property === "reassignBadMacs");
    assert.ok(f, JSON.stringify(bad.failures));
    assert.match(f.reason, new RegExp(`${MAC} \\(nic1\\) is used by VM holder \\(eth0\\)`));
    assert.match(f.reason, /Set reassignBadMacs: true/);
    const ok = await providerOf(REG).check({}, args("web", { reassignBadMacs: true }));
    assert.ok(!ok.failures.some((x: any) => x.property === "reassignBadMacs"), JSON.stringify(ok.failures));
    const calm = await providerOf(REG).check({}, args("calm"));
    assert.ok(!calm.failures.some((x: any) => x.property === "reassignBadMacs"), JSON.stringify(calm.failures));
    assert.equal(await t.mutating(), 0);
  });
});

// Issue 15, across engines: a `pulumi destroy` of a move A -> B cut at any point of the hand-over back to engine A
// (detach in B, import into A, remove without format from B, attach in A, register back) is kept by the refresh
// (read) and finished by the next destroy (del), including the window in which NO engine knows the domain (engine B
// removed it, engine A has not imported it: an older provider removed before it imported, or an operator did).
describe("provider: a cross-engine destroy resumed from each state of the hand-over back to the source engine", function () {
  this.timeout(300_000);
  let a: TestSimulator;
  let b: TestSimulator;
  beforeEach(async () => {
    a = await startTestSimulator({
      ...PROVIDER_SIM,
      engineName: "engine-a",
      inventory: {
        dataCenters: [{ name: "dc-a", clusters: [{ name: "cl-a" }], hosts: [{ name: "host-a", cluster: "cl-a" }], storageDomains: [{ name: "data-a" }, { name: "data-x" }] }],
        templates: [{ name: "base", cluster: "cl-a", storageDomain: "data-x", disks: [{ sizeMiB: 8 }] }],
        vms: [
          { name: "app", cluster: "cl-a", snapshots: [{ description: "s1" }], disks: [{ sizeMiB: 8, storageDomain: "data-x" }] },
          { name: "kid", cluster: "cl-a", template: "base" },
          { name: "stay-a", cluster: "cl-a", disks: [{ sizeMiB: 4, storageDomain: "data-a" }] },
        ],
      },
    });
    b = await startTestSimulator({
      ...PROVIDER_SIM,
      engineName: "engine-b",
      inventory: {
        dataCenters: [{ name: "dc-b", clusters: [{ name: "cl-b" }], hosts: [{ name: "host-b", cluster: "cl-b" }], storageDomains: [{ name: "data-b" }] }],
        vms: [{ name: "other-b", cluster: "cl-b", disks: [{ sizeMiB: 4, storageDomain: "data-b" }] }],
      },
    });
  });
  afterEach(async () => {
    await closeAllEngines({ revoke: false });
    await a?.close();
    await b?.close();
  });

  const args = () => ({ engine: b.engine, storageDomain: "data-x", dataCenter: "dc-b", moveFrom: { dataCenter: "dc-a", cluster: "cl-a", engine: a.engine } });
  const wait = async (t: TestSimulator, p: string, done: (r: { status: number; xml: any }) => boolean) => {
    for (let i = 0; i < 200 && !done(await t.api("GET", p)); i++) await new Promise((r) => setTimeout(r, 50));
  };
  /** What a destroy cut after the detach from dc-b leaves (the provider's detach, as the killed run sent it). */
  async function detachInB(sd: string, dcB: string) {
    assert.equal((await b.api("POST", `datacenters/${dcB}/storagedomains/${sd}/deactivate`, "<action/>")).status, 200);
    await wait(b, `datacenters/${dcB}/storagedomains/${sd}`, (r) => r.xml?.storage_domain?.status === "maintenance");
    assert.ok((await b.api("DELETE", `datacenters/${dcB}/storagedomains/${sd}`)).status < 300);
    await wait(b, `datacenters/${dcB}/storagedomains/${sd}`, (r) => r.status === 404);
  }
  /** Moved and registered in B, then the registrations' deletes (they remove nothing), as `pulumi destroy` runs them. */
  async function movedAndRegistered() {
    const att = await checkAndCreate(DDA, args());
    assert.deepEqual(att.outs.takenFrom.dataCenter, "dc-a");
    const regs = [];
    for (const [kind, name] of [["template", "base"], ["vm", "app"], ["vm", "kid"]] as const) regs.push(await checkAndCreate(REG, { engine: b.engine, storageDomain: "data-x", kind, name, cluster: "cl-b" }));
    for (const r of regs.reverse()) await providerOf(REG).delete(r.id, r.outs);
    return att;
  }
  async function assertBackInA(before: Awaited<ReturnType<typeof diskReport>>, sd: string) {
    const now = await diskReport(a);
    for (const [kind, name] of [["templates", "base"], ["vms", "app"], ["vms", "kid"], ["vms", "stay-a"]] as const) {
      const was = (before as any)[kind].find((e: any) => e.name === name);
      const is = (now as any)[kind].filter((e: any) => e.name === name);
      assert.equal(is.length, 1, `${name}: ${is.length} in engine A`);
      assert.deepEqual([is[0].id, is[0].dataCenter, shas(is[0])], [was.id, "dc-a", shas(was)], `${name}: same id, in dc-a, same bytes`);
    }
    const inB = await diskReport(b);
    assert.deepEqual(inB.vms.map((v) => v.name), ["other-b"], "engine B keeps only what it had");
    assert.equal((await b.api("GET", `storagedomains/${sd}`)).status, 404, "engine B still knows data-x");
    const dcA = (await a.api("GET", "datacenters?search=name%3Ddc-a")).xml.data_centers.data_center["@_id"];
    assert.equal((await a.api("GET", `datacenters/${dcA}/storagedomains/${sd}`)).xml.storage_domain.status, "active");
    for (const k of ["vms", "templates"]) assert.equal(arr((await a.api("GET", `storagedomains/${sd}/${k}?unregistered=true`)).xml?.[k]?.[k.slice(0, -1)]).length, 0, `${k} left unregistered`);
  }

  it("known to neither engine (B removed it without format, A never imported it): refresh keeps it, destroy imports it into A from the recorded connection", async () => {
    const before = await diskReport(a);
    const att = await movedAndRegistered();
    const sd = att.outs.storageDomainId;
    await detachInB(sd, att.outs.dataCenterId);
    // refresh right after the detach: on its way back
    assert.equal((await providerOf(DDA).read(att.id, att.outs)).props?.status, "detached");
    assert.equal((await b.api("DELETE", `storagedomains/${sd}?host=host-b&format=false`)).status, 200);
    assert.equal((await a.api("GET", `storagedomains/${sd}`)).status, 404, "engine A knows data-x");
    const read = await providerOf(DDA).read(att.id, att.outs);
    assert.equal(read.props?.status, "detached", "the refresh dropped an attachment that no engine knows: its destroy would leave the VMs registered nowhere");
    await providerOf(DDA).delete(att.id, read.props);
    await assertBackInA(before, sd);
    // the destroy done, a refresh finds nothing of this resource's to keep
    assert.deepEqual(await providerOf(DDA).read(att.id, read.props), {});
  });

  it("known to neither engine and wiped from the storage: the destroy fails naming both engines, the connection and the way out, and changes nothing in A", async () => {
    const att = await movedAndRegistered();
    const sd = att.outs.storageDomainId;
    await detachInB(sd, att.outs.dataCenterId);
    assert.equal((await b.api("DELETE", `storagedomains/${sd}?host=host-b&format=true`)).status, 200);
    const read = await providerOf(DDA).read(att.id, att.outs);
    assert.equal(read.props?.status, "detached");
    const domainsOfA = async () => arr((await a.api("GET", "storagedomains")).xml?.storage_domains?.storage_domain).map((d: any) => `${d.name} ${d.status ?? ""}`).sort();
    const beforeA = await domainsOfA();
    await assert.rejects(
      providerOf(DDA).delete(att.id, read.props),
      (e: Error) => /known to neither engine .* nor .*importing it into .* from its recorded storage connection 127\.0\.0\.1:\/.* failed: .*Storage domain does not exist.*pulumi state delete/s.test(e.message) || assert.fail(e.message),
    );
    // the one request it sent to A was the refused import
    assert.deepEqual(await domainsOfA(), beforeA, "engine A's storage domains changed");
  });

  it("imported into A and removed from B, or attached to dc-a with the registrations back not done: refresh keeps it (detached / returning); pulumi up from there brings it to B again", async () => {
    const before = await diskReport(a);
    const att = await movedAndRegistered();
    const sd = att.outs.storageDomainId;
    await detachInB(sd, att.outs.dataCenterId);
    // the destroy's import into A (before the removal from B: both know it)
    const st = att.outs.storage;
    const hostA = (await a.api("GET", "hosts")).xml.hosts.host["@_id"];
    const imp = await a.api("POST", "storagedomains", `<storage_domain><name>data-x</name><type>data</type><import>true</import><host id="${hostA}"/><storage><type>nfs</type><address>${st.address}</address><path>${st.path}</path></storage></storage_domain>`);
    assert.equal(imp.status, 201, imp.text);
    assert.equal((await providerOf(DDA).read(att.id, att.outs)).props?.status, "detached", "known to both, attached nowhere");
    assert.equal((await b.api("DELETE", `storagedomains/${sd}?host=host-b&format=false`)).status, 200);
    assert.equal((await providerOf(DDA).read(att.id, att.outs)).props?.status, "detached", "known to A only, attached nowhere");
    const dcA = (await a.api("GET", "datacenters?search=name%3Ddc-a")).xml.data_centers.data_center["@_id"];
    assert.ok((await a.api("POST", `datacenters/${dcA}/storagedomains`, `<storage_domain id="${sd}"/>`)).status < 300);
    await wait(a, `datacenters/${dcA}/storagedomains/${sd}`, (r) => r.xml?.storage_domain?.status === "active");
    const read = await providerOf(DDA).read(att.id, att.outs);
    assert.equal(read.props?.status, "returning", "attached to dc-a with what left it unregistered");
    // `pulumi up` instead of the destroy: the domain goes to dc-b again, what left dc-a with the first move kept
    const d = await providerOf(DDA).diff(att.id, read.props, args());
    assert.deepEqual([d.changes, d.replaces], [true, []]);
    const up = await providerOf(DDA).update(att.id, read.props, { ...att.outs });
    assert.equal(up.outs.status, "active");
    assert.deepEqual(up.outs.leftSource, att.outs.leftSource);
    assert.equal((await a.api("GET", `storagedomains/${sd}`)).status, 404, "engine A still knows data-x after the up");
    // and its destroy gives everything back to A
    await providerOf(DDA).delete(att.id, up.outs);
    await assertBackInA(before, sd);
  });
});
