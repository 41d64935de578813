// Issue 6, reliability 3: bad input is refused before anything changes. A table of cases, each run through the
// provider's `check` (what `pulumi preview` calls; `getProvider(kind).check(olds, news)`) against a live simulator
// with the default inventory, and a handful through the real `pulumi preview` of the root project. Every case must
// fail with a message naming the field, and the simulator's request log must show no mutating request.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { getProvider } from "../../provider";
import { clearReadCache } from "../../provider/operations/readCache";
import { startTestSimulator, TestSimulator } from "../support/simulator";
import { E2E, startE2E } from "../support/e2e";
import { ROOT } from "../support/pulumi";

type Kind = "ExportDomainAttachment" | "VmExport" | "VmImport" | "V2VImport";

interface Case {
    name: string;
    kind: Kind;
    /** inputs over the kind's valid base (a key set to `undefined` is removed) */
    args: (engine: any) => Record<string, unknown>;
    /** the failure must be on this property (regex on `property`) and its reason must name the field */
    field: RegExp;
    /** extra text the reason must contain */
    says?: RegExp;
}

const XML_NAME = `web<01>&"'`;
const SHELL_NAME = "web-01; rm -rf / $(id) `id` | cat && echo";

const base: Record<Kind, Record<string, unknown>> = {
    ExportDomainAttachment: { exportDomain: "export1", dataCenter: "dc-source" },
    // the set-up puts a copy of web-01 on export1 out of band: a copy this resource did not make is overwritten only
    // with exclusive (force override), as Migration does by default
    VmExport: { exportDomain: "export1", kind: "vm", name: "web-01", exclusive: true },
    VmImport: { exportDomain: "export1", kind: "vm", name: "app-01", cluster: "cl-target", storageDomain: "data-target", onConflict: "clone" },
    V2VImport: {
        provider: "vmware",
        vcenter: { host: "vcenter.example.com", datacenterPath: "DC1", esxiHost: "esxi1", username: "administrator@vsphere.local", password: "vc-pass" },
        sourceVms: ["vm1"],
        cluster: "cl-target",
        storageDomain: "data-target",
        proxyHost: "host-target-1",
    },
};

const CASES: Case[] = [
    // ---- ExportDomainAttachment
    { name: "unknown data center", kind: "ExportDomainAttachment", args: () => ({ dataCenter: "dc-nowhere" }), field: /^dataCenter$/, says: /dc-nowhere/ },
    { name: "unknown export domain", kind: "ExportDomainAttachment", args: () => ({ exportDomain: "export-missing" }), field: /^exportDomain$/, says: /export-missing/ },
    { name: "a data domain given as export domain", kind: "ExportDomainAttachment", args: () => ({ exportDomain: "data-source" }), field: /^exportDomain$/, says: /not an export domain/ },
    { name: "export domain attached elsewhere, no takeOver", kind: "ExportDomainAttachment", args: () => ({ dataCenter: "dc-target" }), field: /^takeOver$/, says: /dc-source/ },
    { name: "unknown host", kind: "ExportDomainAttachment", args: () => ({ host: "no-such-host" }), field: /^host$/ },
    { name: "empty data center name", kind: "ExportDomainAttachment", args: () => ({ dataCenter: "" }), field: /^dataCenter$/ },
    { name: "negative timeout", kind: "ExportDomainAttachment", args: () => ({ timeoutMinutes: -5 }), field: /^timeoutMinutes$/ },
    { name: "unknown storage connection type", kind: "ExportDomainAttachment", args: () => ({ storageConnection: { type: "cifs", path: "/x" } }), field: /^storageConnection\.type$/ },
    // ---- VmExport
    { name: "unknown VM", kind: "VmExport", args: () => ({ name: "no-such-vm" }), field: /^name$/, says: /no-such-vm/ },
    { name: "VM running", kind: "VmExport", args: () => ({ name: "run-01" }), field: /^shutdownIfRunning$/, says: /run-01 is up/ },
    { name: "name with XML special characters", kind: "VmExport", args: () => ({ name: XML_NAME }), field: /^name$/, says: /web<01>&"'/ },
    { name: "name with shell metacharacters", kind: "VmExport", args: () => ({ name: SHELL_NAME }), field: /^name$/ },
    { name: "empty name", kind: "VmExport", args: () => ({ name: "" }), field: /^name$/, says: /must not be empty/ },
    { name: "oversized name (300 characters)", kind: "VmExport", args: () => ({ name: "x".repeat(300) }), field: /^name$/, says: /255/ },
    { name: "name with a control character", kind: "VmExport", args: () => ({ name: "web\n01" }), field: /^name$/ },
    { name: "name with leading space", kind: "VmExport", args: () => ({ name: " web-01" }), field: /^name$/ },
    { name: "unknown kind", kind: "VmExport", args: () => ({ kind: "snapshot" }), field: /^kind$/ },
    { name: "discardSnapshots on a template", kind: "VmExport", args: () => ({ kind: "template", name: "rhel9-base", discardSnapshots: true }), field: /^discardSnapshots$/ },
    { name: "mixed architectures in a batch", kind: "VmExport", args: () => ({ batch: { id: "b", members: ["web-01", "ppc-01"] } }), field: /^batch$/, says: /ppc64/ },
    { name: "batch without this VM", kind: "VmExport", args: () => ({ batch: { id: "b", members: ["app-01"] } }), field: /^batch\.members$/ },
    { name: "negative timeoutMinutes", kind: "VmExport", args: () => ({ timeoutMinutes: -1 }), field: /^timeoutMinutes$/ },
    { name: "unknown template", kind: "VmExport", args: () => ({ kind: "template", name: "no-such-template" }), field: /^name$/, says: /no-such-template/ },
    { name: "unknown export domain (export)", kind: "VmExport", args: () => ({ exportDomain: "nope" }), field: /^exportDomain$/ },
    { name: "exclusive is not a boolean", kind: "VmExport", args: () => ({ exclusive: "yes" }), field: /^exclusive$/ },
    // ---- VmImport
    { name: "unknown cluster", kind: "VmImport", args: () => ({ cluster: "cl-nowhere" }), field: /^cluster$/, says: /cl-nowhere/ },
    { name: "unknown storage domain", kind: "VmImport", args: () => ({ storageDomain: "sd-nowhere" }), field: /^storageDomain$/, says: /sd-nowhere/ },
    { name: "storage domain of another data center", kind: "VmImport", args: () => ({ storageDomain: "data-source" }), field: /^storageDomain$/, says: /not attached/ },
    { name: "export domain given as target storage domain", kind: "VmImport", args: () => ({ storageDomain: "export1" }), field: /^storageDomain$/ },
    { name: "unknown onConflict value", kind: "VmImport", args: () => ({ onConflict: "overwrite" }), field: /^onConflict$/ },
    { name: "conflict without a policy", kind: "VmImport", args: () => ({ name: "web-01", onConflict: undefined }), field: /^onConflict$/, says: /clone|skip/ },
    { name: "architecture differs from the target cluster", kind: "VmImport", args: () => ({ name: "ppc-01" }), field: /^cluster$/, says: /ppc64/ },
    { name: "unknown role", kind: "VmImport", args: () => ({ permissions: [{ user: "alice@internal-authz", role: "GodRole" }] }), field: /^permissions\[0\]\.role$/ },
    { name: "unknown user", kind: "VmImport", args: () => ({ permissions: [{ user: "mallory@internal-authz", role: "UserRole" }] }), field: /^permissions\[0\]\.user$/ },
    { name: "permission with user and group", kind: "VmImport", args: () => ({ permissions: [{ user: "alice@internal-authz", group: "ops", role: "UserRole" }] }), field: /^permissions\.0$/ },
    { name: "unknown disk allocation", kind: "VmImport", args: () => ({ disks: [{ alias: "app-01_disk0", allocation: "sparse" }] }), field: /^disks\.0\.allocation$/ },
    { name: "newName without clone", kind: "VmImport", args: () => ({ onConflict: "fail", newName: "x" }), field: /^newName$/ },
    { name: "collapseSnapshots on a template", kind: "VmImport", args: () => ({ kind: "template", name: "rhel9-base", collapseSnapshots: true }), field: /^collapseSnapshots$/ },
    { name: "unknown CPU profile", kind: "VmImport", args: () => ({ cpuProfile: "no-such-profile" }), field: /^cpuProfile$/ },
    // ---- engine connection
    { name: "missing password", kind: "VmExport", args: (e) => ({ engine: { ...e, password: undefined } }), field: /^engine\.password$/ },
    { name: "missing URL", kind: "VmImport", args: (e) => ({ engine: { ...e, url: undefined } }), field: /^engine\.url$/ },
    { name: "URL that is not an engine API URL", kind: "VmExport", args: (e) => ({ engine: { ...e, url: "ftp://engine.example.com/" } }), field: /^engine\.url$/ },
    { name: "URL nobody listens on", kind: "VmExport", args: (e) => ({ engine: { ...e, url: "https://127.0.0.1:1/ovirt-engine/api" } }), field: /^engine\.url$/ },
    { name: "CA file that does not exist", kind: "ExportDomainAttachment", args: (e) => ({ engine: { ...e, caFile: "/nonexistent/ca.pem" } }), field: /^engine\.caFile$/, says: /nonexistent/ },
    { name: "CA file that is not PEM", kind: "VmExport", args: (e) => ({ engine: { ...e, caFile: "/etc/hostname" } }), field: /^engine\.caFile$/, says: /PEM/ },
    { name: "wrong CA (another engine's)", kind: "VmImport", args: (e) => ({ engine: { ...e, caFile: otherCa } }), field: /^engine\.caFile$/ },
    { name: "wrong password", kind: "VmExport", args: (e) => ({ engine: { ...e, password: "wrong-password" } }), field: /^engine\.password$/ },
    { name: "caFile and caPem together", kind: "VmExport", args: (e) => ({ engine: { ...e, caPem: "-----BEGIN CERTIFICATE-----" } }), field: /^engine\.caFile$/ },
    // ---- V2VImport
    { name: "malformed vpx:// source (vCenter host with a scheme and path)", kind: "V2VImport", args: () => ({ vcenter: { ...(base.V2VImport.vcenter as object), host: "https://vc.example.com/sdk" } }), field: /^vcenter\.host$/ },
    { name: "malformed qemu+ssh:// URL", kind: "V2VImport", args: () => ({ provider: "kvm", vcenter: undefined, sourceUrl: "qemu+ssh//root@kvm-host/system" }), field: /^sourceUrl$/ },
    { name: "unknown source provider", kind: "V2VImport", args: () => ({ provider: "hyperv" }), field: /^provider$/ },
    { name: "missing vCenter password", kind: "V2VImport", args: () => ({ vcenter: { ...(base.V2VImport.vcenter as object), password: undefined } }), field: /^vcenter\.password$/ },
    { name: "no source VM", kind: "V2VImport", args: () => ({ sourceVms: [] }), field: /^sourceVms$/ },
];

let otherCa = "";

function inputsOf(c: Case, engine: any): Record<string, unknown> {
    const o: Record<string, unknown> = { engine, ...base[c.kind], ...c.args(engine) };
    const strip = (v: any): any => {
        if (Array.isArray(v)) return v.map(strip);
        if (v && typeof v === "object") {
            const r: any = {};
            for (const [k, x] of Object.entries(v)) if (x !== undefined) r[k] = strip(x);
            return r;
        }
        return v;
    };
    return strip(o);
}

describe("reliability: bad input is refused at check/preview, nothing changes", function () {
    this.timeout(10 * 60_000);
    let t: TestSimulator;
    let other: TestSimulator;
    let engine: any;

    before(async function () {
        this.timeout(120_000);
        t = await startTestSimulator({ bandwidthMiBps: 1000, password: "Pw-badinput-7f3k" });
        other = await startTestSimulator();
        otherCa = other.sim.caFile;
        engine = { url: t.sim.url, username: "admin@internal", password: t.password, caFile: t.sim.caFile };
        // copies of web-01 and ppc-01 on the export domain (set-up, before the counting starts): an import of web-01
        // into the same engine conflicts (same id), ppc-01's architecture differs from cl-target's
        for (const name of ["web-01", "ppc-01"]) {
            const vm = (await t.api("GET", `vms?search=${encodeURIComponent(`name=${name}`)}`)).xml.vms.vm;
            const r = await t.api("POST", `vms/${vm["@_id"]}/export`, `<action><storage_domain><name>export1</name></storage_domain></action>`);
            assert.ok(r.status < 300, r.text);
            const jobId = r.xml?.action?.job?.["@_id"];
            if (jobId) assert.strictEqual(await t.waitJob(jobId), "finished");
        }
        const d = await t.admin("GET", "disks");
        assert.deepStrictEqual(d.exportDomains[0].vms.map((v: any) => v.name).sort(), ["ppc-01", "web-01"]);
    });
    after(async () => {
        await t?.close();
        await other?.close();
    });

    for (const c of CASES) {
        it(`${c.kind}: ${c.name}`, async () => {
            clearReadCache();
            await t.admin("DELETE", "requests");
            const r = await getProvider(c.kind).check!({}, inputsOf(c, engine));
            const failures = r.failures ?? [];
            const hit = failures.find((f) => c.field.test(f.property));
            assert.ok(hit, `no failure on ${c.field}: ${JSON.stringify(failures)}`);
            // the message names the field (its last segment, e.g. "allocation" of disks.0.allocation)
            const leaf = hit.property.split(/[.\[\]]/).filter((s) => s && !/^\d+$/.test(s)).pop()!;
            assert.ok(hit.reason.includes(leaf), `reason does not name ${leaf}: ${hit.reason}`);
            if (c.says) assert.match(hit.reason, c.says);
            assert.ok(!hit.reason.includes(t.password), "the reason contains the engine password");
            const log = await t.admin("GET", "requests");
            assert.strictEqual(log.mutating, 0, `mutating requests: ${JSON.stringify(log.log.filter((l: any) => !["GET", "HEAD"].includes(l.method)))}`);
        });
    }

    it("a valid input passes check (the corpus fails for its bad field, not because the base is wrong)", async () => {
        // its own count: run alone (or first) the log still holds the set-up's requests
        await t.admin("DELETE", "requests");
        for (const kind of ["ExportDomainAttachment", "VmExport", "VmImport"] as Kind[]) {
            clearReadCache();
            const r = await getProvider(kind).check!({}, { engine, ...base[kind] });
            assert.deepStrictEqual(r.failures ?? [], [], `${kind}: ${JSON.stringify(r.failures)}`);
        }
        assert.strictEqual((await t.admin("GET", "requests")).mutating, 0);
    });

    describe("through the real `pulumi preview` of the root project", () => {
        let e: E2E;
        before(async function () {
            this.timeout(120_000);
            e = await startE2E(ROOT, "rel-badinput", { "migration:vms": JSON.stringify(["web-01"]), "migration:templates": "[]" }, { password: "Pw-badinput-e2e-9q" });
        });
        after(async () => e?.close());

        const PREVIEWS: Array<{ name: string; config: Record<string, string>; says: RegExp[] }> = [
            { name: "unknown VM", config: { "migration:vms": JSON.stringify(["no-such-vm"]) }, says: [/name/, /no-such-vm/] },
            { name: "running VM", config: { "migration:vms": JSON.stringify(["run-01"]) }, says: [/shutdownIfRunning/, /run-01/] },
            { name: "mixed architectures", config: { "migration:vms": JSON.stringify(["web-01", "ppc-01"]) }, says: [/batch/, /ppc64/] },
            { name: "unknown target cluster", config: { "migration:targetCluster": "cl-nowhere" }, says: [/cluster/, /cl-nowhere/] },
            { name: "negative concurrency", config: { "migration:concurrency": "-2" }, says: [/concurrency/] },
            { name: "unknown stage", config: { "migration:stage": "exprt" }, says: [/stage/] },
            { name: "CA file that does not exist", config: { "ovirt:caFile": "/nonexistent/ca.pem" }, says: [/caFile/, /nonexistent/] },
        ];
        for (const p of PREVIEWS) {
            it(`pulumi preview: ${p.name}`, async () => {
                const good = { "migration:vms": JSON.stringify(["web-01"]), "ovirt:caFile": e.t.sim.caFile };
                for (const [k, v] of Object.entries({ ...good, ...p.config })) await e.ws.ok(["config", "set", "--stack", e.ws.stack, "--", k, v]);
                for (const k of ["migration:concurrency", "migration:stage", "migration:targetCluster"]) {
                    if (!(k in p.config)) await e.ws.run(["config", "rm", "--stack", e.ws.stack, k]);
                }
                await e.t.admin("DELETE", "requests");
                const r = await e.ws.preview();
                assert.notStrictEqual(r.code, 0, `preview passed:\n${r.output.slice(-2000)}`);
                for (const re of p.says) assert.match(r.output, re);
                assert.ok(!r.output.includes(e.t.password), "the output contains the engine password");
                assert.strictEqual(await e.mutating(), 0);
            });
        }
    });
});
