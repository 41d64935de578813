// Scenarios 3 and 8: V2V imports (vcsim as the vCenter, a real sshd as the proxy host, the engine simulator).
// A VMware VM already imported out of band is the user's: not taken without adopt: true, kept on destroy with it.
// A pinned vCenter certificate is not turned into "skip verification" on the engine's side without proxySkipVerify.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { VSphereClient } from "../../lib/vsphere";
import { buildVpxUrl } from "../../lib/v2vUrl";
import { engineSshPublicKey, getExternalVmImportHook, setExternalVmImportHook } from "../../simulator/services/externalVmImports";
import { disks } from "../support/e2e";
import { RunningSshd, startSshd } from "../support/sshd";
import { RunningVcsim, SeededInventory, seedVcsim, startVcsim } from "../support/vcsim";
import { assertIntact, snapshotEntities } from "./audit";
import { assertNothingMutated, Entry, failed, ok, oob, Scenario, waitJobsIdle } from "./harness";

const tiny = (name: string) => ({ name, cpus: 1, memoryMiB: 512, disks: [{ sizeGiB: 1 / 256, thin: true }] }); // 4 MiB

interface V2v {
    s: Scenario;
    vc: RunningVcsim;
    inv: SeededInventory;
    sshd: RunningSshd;
    close(): Promise<void>;
}

async function startV2v(tag: string, vms: string[]): Promise<V2v> {
    const vc = await startVcsim();
    let sshd: RunningSshd | undefined;
    try {
        const c = await VSphereClient.connect({ host: vc.host, username: vc.username, password: vc.password, tls: { fingerprint: vc.sha256 } });
        const inv = await seedVcsim(c, vms.map(tiny));
        await c.logout();
        sshd = await startSshd({ env: "present" });
        const stateDir = fs.mkdtempSync(path.join(require("os").tmpdir(), "safety-v2v-sim-"));
        fs.appendFileSync(path.join(sshd.dir, "authorized_keys"), engineSshPublicKey(stateDir) + "\n");
        const s = await Scenario.start(
            tag,
            [
                {
                    ns: "ovirt",
                    sim: {
                        stateDir,
                        inventory: {
                            dataCenters: [
                                {
                                    name: "dc-target",
                                    clusters: [{ name: "cl-target", cpuArchitecture: "x86_64" }],
                                    hosts: [{ name: "host-v2v", cluster: "cl-target", status: "up", virtV2v: false, ssh: { host: sshd.host, port: sshd.port, user: sshd.username } }],
                                    storageDomains: [{ name: "data-target", type: "data", storageType: "nfs", sizeGiB: 50 }],
                                },
                            ],
                            exportDomains: [],
                            templates: [],
                            vms: [],
                        } as any,
                    },
                },
            ],
            { removeAtClose: [stateDir] },
        );
        const sd = sshd;
        return {
            s,
            vc,
            inv,
            sshd,
            close: async () => {
                await s.close();
                await sd.close();
                await vc.close();
            },
        };
    } catch (e) {
        await sshd?.close();
        await vc.close();
        throw e;
    }
}

function v2vEntry(env: V2v, name: string, sourceVms: string[], more: Record<string, unknown> = {}, vcenterMore: Record<string, unknown> = {}): Entry {
    return {
        type: "V2VImport",
        name,
        args: {
            vcenter: {
                host: env.vc.host,
                datacenterPath: env.inv.datacenterPath,
                cluster: env.inv.cluster,
                esxiHost: env.inv.esxiHost,
                username: env.vc.username,
                password: { $secret: "vcenter:password" },
                certificateFingerprint: env.vc.sha256,
                ...vcenterMore,
            },
            sourceVms,
            cluster: "cl-target",
            storageDomain: "data-target",
            proxyHost: "host-v2v",
            proxySsh: { port: env.sshd.port, user: env.sshd.username, privateKey: { $file: "v2v:keyFile" }, hostKey: env.sshd.hostKeyFingerprint },
            ...more,
        },
    };
}

async function v2vStack(env: V2v, resources: Entry[]) {
    const keyFile = path.join(env.s.tempDir("safety-v2v-key-"), "id");
    fs.writeFileSync(keyFile, env.sshd.privateKey, { mode: 0o600 });
    return env.s.stack(resources, { plain: { "v2v:keyFile": keyFile }, secret: { "vcenter:password": env.vc.password } });
}

const xmlEscape = (v: string) => v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const xmlUnescape = (v: string) => v.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");

describe("safety: V2V imports", function () {
    this.timeout(10 * 60_000);
    let env: V2v | undefined;
    afterEach(async () => {
        await env?.close();
        env = undefined;
    });

    it("3: a VMware VM of the target name imported earlier out of band is not adopted without adopt: true; with it, it is adopted and kept by destroy", async () => {
        env = await startV2v("s3", ["adopt-01"]);
        const t = env.s.t;
        // someone imported adopt-01 already (the engine's own V2V, out of band)
        const url = buildVpxUrl({ username: env.vc.username, vcenter: env.vc.host, datacenterPath: env.inv.datacenterPath, cluster: env.inv.cluster, esxiHost: env.inv.esxiHost, noVerify: true });
        await oob(
            t,
            "POST",
            "externalvmimports",
            `<external_vm_import><name>adopt-01</name><provider>vmware</provider><url>${xmlEscape(url)}</url>` +
                `<username>${xmlEscape(env.vc.username)}</username><password>${xmlEscape(env.vc.password)}</password>` +
                `<cluster><name>cl-target</name></cluster><storage_domain><name>data-target</name></storage_domain><host><name>host-v2v</name></host>` +
                `<sparse>true</sparse></external_vm_import>`,
        );
        await waitJobsIdle(t);
        const existing = (await disks(t)).vms.find((v) => v.name === "adopt-01");
        assert.ok(existing && existing.disks.length === 1, "the out-of-band import finished");
        const before = await snapshotEntities(t);

        const st = await v2vStack(env, [v2vEntry(env, "import-adopt-01", ["adopt-01"])]);
        const m0 = await env.s.mutating();
        const pv = await st.preview();
        failed(pv, "preview over a VM imported out of band");
        assert.match(pv.output, /adopt/, pv.output);
        assert.ok(pv.output.includes("adopt-01"), pv.output);
        await assertNothingMutated(st, m0, "the failed preview");

        await st.patch("import-adopt-01", { adopt: true });
        ok(await st.up(), "up with adopt");
        const out = (await st.resource("import-adopt-01"))!.outputs;
        assert.equal(out.vms.length, 1);
        assert.equal(out.vms[0].id, existing.id, "the existing VM is adopted");
        assert.ok(out.vms[0].ownership === "adopted" || out.ownership === "adopted" || out.vms[0].adopted === true, JSON.stringify(out.vms));
        assert.equal((await disks(t)).vms.filter((v) => v.name === "adopt-01").length, 1, "nothing imported next to it");

        ok(await st.destroy(), "destroy");
        await assertIntact(t, before);
        await st.assertAudit({ notOwned: before.keys() });
    });

    it("8: with a pinned vCenter certificate the engine gets a vpx URL without no_verify, unless proxySkipVerify: true", async () => {
        env = await startV2v("s8", ["pin-01", "pin-02"]);
        const t = env.s.t;
        const before = await snapshotEntities(t);
        const urls: Array<{ name: string; url: string }> = [];
        const orig = getExternalVmImportHook();
        assert.ok(orig, "the V2V hook is installed");
        setExternalVmImportHook({
            ...orig,
            create(ctx) {
                const name = /<name>([\s\S]*?)<\/name>/.exec(ctx.rawBody)?.[1] ?? "?";
                const url = /<url>([\s\S]*?)<\/url>/.exec(ctx.rawBody)?.[1];
                if (url !== undefined) urls.push({ name: xmlUnescape(name), url: xmlUnescape(url) });
                return orig.create.call(orig, ctx);
            },
        });
        try {
            const pinned = v2vEntry(env, "import-pin-01", ["pin-01"]);
            const st = await v2vStack(env, [pinned]);
            const up1 = await st.up();
            assert.ok(urls.length > 0 || up1.code !== 0, `up succeeded without the engine receiving an import:\n${up1.output}`);
            for (const u of urls) assert.doesNotMatch(u.url, /no_verify/, `the engine was told to skip verification: ${u.url}`);
            if (up1.code !== 0) assert.match(up1.output, /certificate|proxySkipVerify|verify/i, `the failure explains the certificate problem:\n${up1.output}`);

            urls.length = 0;
            await st.setResources([pinned, v2vEntry(env, "import-pin-02", ["pin-02"], {}, { proxySkipVerify: true })]);
            const up2 = await st.up();
            const skip = urls.filter((u) => u.name === "pin-02");
            assert.ok(skip.length > 0, `the engine received no import of pin-02:\n${up2.output}`);
            for (const u of skip) assert.match(u.url, /[?&]no_verify=1/, `proxySkipVerify: the URL asks to skip verification: ${u.url}`);
            for (const u of urls.filter((x) => x.name !== "pin-02")) assert.doesNotMatch(u.url, /no_verify/, u.url);
            const out = (await st.resource("import-pin-02"))?.outputs;
            assert.ok(out && out.vms?.length === 1, `pin-02 was imported:\n${up2.output}`);
            assert.ok((await disks(t)).vms.some((v) => v.id === out.vms[0].id));

            ok(await st.destroy(), "destroy");
            assert.equal((await disks(t)).vms.find((v) => v.id === out.vms[0].id), undefined, "destroy removed the import");
            await assertIntact(t, before);
            await st.assertAudit({ notOwned: before.keys() });
        } finally {
            setExternalVmImportHook(orig);
        }
    });
});
