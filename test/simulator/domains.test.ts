// Authz domains (issue 15, registration domain mappings): GET /domains[/{id}] as restapi aaa/BackendDomainsResource
// answers it (one per authz name of GetDomainListQuery, sorted; id = DirectoryEntryIdUtils.encode, upper-case hex of
// the name; no `max`; an unknown id 404), the inventory's `authzDomains`, and what a register does with
// registration_configuration/domain_mappings (ExternalRegistrationConfigurationMapper.mapExternalDomainMapping:
// Collectors.toMap, so a `to` without a name or a `from` given twice is a 500; a well-formed mapping to a domain the
// engine does not have is NOT refused: DrMappingHelper.mapDbUsers keeps the OVF's user).
import * as assert from "node:assert/strict";
import { arr, startTestSimulator, TestSimulator } from "../support/simulator";
import { diskSums, idOf, sumsOf, xmlAction } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const hex = (s: string) => Buffer.from(s, "utf8").toString("hex").toUpperCase();

async function domains(t: TestSimulator, q = ""): Promise<Any[]> {
  const r = await t.api("GET", `domains${q}`);
  assert.equal(r.status, 200, r.text);
  return arr(r.xml.domains?.domain);
}

describe("simulator: authz domains (GET /domains) and a registration's domain mappings", function () {
  this.timeout(120_000);
  const open: TestSimulator[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  it("an engine lists internal-authz, with the hex of its name as id; by id; unknown and lower-case ids are 404", async () => {
    const t = await startTestSimulator();
    open.push(t);
    const all = await domains(t);
    assert.deepEqual(all.map((d) => [d.name, d["@_id"]]), [["internal-authz", "696E7465726E616C2D617574687A"]]);
    const d = all[0];
    assert.equal(d["@_href"], `/ovirt-engine/api/domains/${d["@_id"]}`);
    assert.deepEqual(
      arr(d.link).map((l: Any) => [l["@_rel"], l["@_href"]]),
      [
        ["users", `/ovirt-engine/api/domains/${d["@_id"]}/users`],
        ["groups", `/ovirt-engine/api/domains/${d["@_id"]}/groups`],
        ["users/search", `/ovirt-engine/api/domains/${d["@_id"]}/users?search={query}`],
        ["groups/search", `/ovirt-engine/api/domains/${d["@_id"]}/groups?search={query}`],
      ],
    );
    const one = await t.api("GET", `domains/${d["@_id"]}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.xml.domain.name, "internal-authz");
    // lookupDirectoryById compares with equals: the id is the upper-case encoding only
    assert.equal((await t.api("GET", `domains/${d["@_id"].toLowerCase()}`)).status, 404);
    assert.equal((await t.api("GET", `domains/${hex("nowhere")}`)).status, 404);
    // a user's domain link (restapi UserMapper, the same encoding) leads to its domain
    const users = await t.api("GET", "users");
    assert.equal(users.status, 200, users.text);
    const u = arr(users.xml.users?.user)[0];
    assert.ok(u, users.text);
    assert.equal(u.domain["@_id"], hex(u.domain.name));
    assert.equal(u.domain_entry_id, u.domain_entry_id.toUpperCase(), "domain_entry_id is upper-case hex");
    assert.equal((await t.api("GET", `domains/${u.domain["@_id"]}`)).xml.domain.name, u.domain.name);
  });

  it("the inventory's authzDomains are listed too, sorted by name; max is not applied (mapCollection takes all)", async () => {
    const t = await startTestSimulator({ inventory: { authzDomains: ["zeta.example", "corp.example"], dataCenters: [{ name: "dc", clusters: [{ name: "cl" }], hosts: [{ name: "h", cluster: "cl" }], storageDomains: [{ name: "data" }] }] } });
    open.push(t);
    const names = ["corp.example", "internal-authz", "zeta.example"];
    assert.deepEqual((await domains(t)).map((d) => [d.name, d["@_id"]]), names.map((n) => [n, hex(n)]));
    assert.equal((await domains(t, "?max=1")).length, 3);
    const r = await t.api("GET", `domains/${hex("corp.example")}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.xml.domain.name, "corp.example");
  });

  it("register: a domain mapping without a target name or from one name twice is the engine's 500; to an unknown domain it registers", async () => {
    const t = await startTestSimulator({
      inventory: {
        dataCenters: [
          { name: "dc-src", clusters: [{ name: "cl-src" }], hosts: [{ name: "h-src", cluster: "cl-src" }], storageDomains: [{ name: "data-src" }, { name: "data-move" }] },
          { name: "dc-dst", clusters: [{ name: "cl-dst" }], hosts: [{ name: "h-dst", cluster: "cl-dst" }], storageDomains: [{ name: "data-dst" }] },
        ],
        templates: [{ name: "tpl", cluster: "cl-src", storageDomain: "data-move", disks: [{ sizeMiB: 4 }] }],
        vms: [{ name: "web", cluster: "cl-src", disks: [{ sizeMiB: 4, storageDomain: "data-move" }] }],
      },
    });
    open.push(t);
    const I: Record<string, string> = {};
    for (const n of ["dc-src", "dc-dst"]) I[n] = await idOf(t, "datacenters", n);
    I.sd = await idOf(t, "storagedomains", "data-move");
    I.web = await idOf(t, "vms", "web");
    I.tpl = await idOf(t, "templates", "tpl");
    const sumsBefore = sumsOf((await diskSums(t)).vms.find((v: Any) => v.name === "web"));
    for (const [m, p, b] of [
      ["POST", `datacenters/${I["dc-src"]}/storagedomains/${I.sd}/deactivate`, "<action/>"],
      ["DELETE", `datacenters/${I["dc-src"]}/storagedomains/${I.sd}`, undefined],
      ["POST", `datacenters/${I["dc-dst"]}/storagedomains`, `<storage_domain id="${I.sd}"/>`],
    ] as const) {
      const r = await t.api(m, p, b);
      assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
    }
    const cl = "<cluster><name>cl-dst</name></cluster>";
    const dm = (...maps: string[]) => `<registration_configuration><domain_mappings>${maps.join("")}</domain_mappings></registration_configuration>`;
    const map = (from: string, to: string) => `<registration_domain_mapping><from><name>${from}</name></from>${to}</registration_domain_mapping>`;
    const reg = (kind: "vms" | "templates", id: string, inner: string) => t.api("POST", `storagedomains/${I.sd}/${kind}/${id}/register`, xmlAction(inner));
    const unregistered = async () => {
      const out: string[] = [];
      for (const k of ["vms", "templates"]) out.push(...arr((await t.api("GET", `storagedomains/${I.sd}/${k}?unregistered=true`)).xml[k]?.[k.slice(0, -1)]).map((x: Any) => x.name));
      return out.sort();
    };

    // the target by id only: the mapper reads to/name, null -> NullPointerException in Collectors.toMap
    let r = await reg("templates", I.tpl, cl + dm(map("corp.example", `<to id="${hex("internal-authz")}"/>`)));
    assert.equal(r.status, 500, r.text);
    assert.match(r.text, /NullPointerException/);
    r = await reg("vms", I.web, cl + dm(map("corp.example", "<to><name>internal-authz</name></to>"), map("corp.example", "<to><name>internal-authz</name></to>")));
    assert.equal(r.status, 500, r.text);
    assert.match(r.text, /Duplicate key corp\.example/);
    // the restapi's own validation comes first for VMs (BackendStorageDomainVmResource.validateDomainMapping)
    r = await reg("vms", I.web, cl + `<registration_configuration><domain_mappings><registration_domain_mapping><from><name>corp.example</name></from></registration_domain_mapping></domain_mappings></registration_configuration>`);
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /Domain name is missing from destination\./);
    assert.deepEqual(await unregistered(), ["tpl", "web"], "a refused register changed nothing");

    // a target domain this engine does not have: mapDbUsers keeps the OVF's user; the register goes through
    assert.ok(!(await domains(t)).some((d) => d.name === "nowhere.example"));
    r = await reg("templates", I.tpl, cl + dm(map("corp.example", "<to><name>nowhere.example</name></to>")));
    assert.equal(r.status, 200, r.text);
    r = await reg("vms", I.web, cl + dm(map("corp.example", "<to><name>nowhere.example</name></to>")));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await unregistered(), []);
    const web = (await diskSums(t)).vms.find((v: Any) => v.name === "web");
    assert.equal(web.dataCenter, "dc-dst");
    assert.deepEqual(sumsOf(web), sumsBefore, "the registered VM's disks are the ones that moved");
  });
});
