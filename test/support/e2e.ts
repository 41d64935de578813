// End-to-end fixture: an engine simulator plus the real Pulumi CLI on a project directory, with the stack's config
// pointing at the simulator (URL, CA file, password as a secret).
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PulumiWorkspace, ROOT } from "./pulumi";
import { startTestSimulator, TestSimOptions, TestSimulator } from "./simulator";

export interface E2E {
    t: TestSimulator;
    ws: PulumiWorkspace;
    /** Mutating API requests the engine has seen so far. */
    mutating(): Promise<number>;
    close(): Promise<void>;
}

export interface DiskReport {
    id: string;
    alias: string;
    sizeBytes: number;
    sha256: string;
}
export interface EntityReport {
    id: string;
    name: string;
    dataCenter: string;
    status?: string;
    disks: DiskReport[];
}
export interface DisksReport {
    vms: EntityReport[];
    templates: EntityReport[];
    exportDomains: Array<{ id: string; name: string; vms: EntityReport[]; templates: EntityReport[] }>;
}

export function example(name: string): string {
    return path.join(ROOT, "examples", name);
}

export async function startE2E(
    projectDir: string,
    stack: string,
    config: Record<string, string> = {},
    simOpts: TestSimOptions = {},
    namespace = "ovirt",
): Promise<E2E> {
    // A password that cannot occur by chance in state or logs, so "not found" means "not leaked".
    const password = simOpts.password ?? `pw-${crypto.randomBytes(9).toString("base64url")}`;
    const t = await startTestSimulator({ ...simOpts, password });
    const ws = new PulumiWorkspace(projectDir, stack);
    removeStackConfig(projectDir, stack);
    await ws.init(
        { [`${namespace}:url`]: t.sim.url, [`${namespace}:caFile`]: t.sim.caFile, ...config },
        { [`${namespace}:password`]: t.password },
    );
    return {
        t,
        ws,
        mutating: async () => (await t.admin("GET", "requests")).mutating as number,
        close: async () => {
            try {
                await t.close(); // throws on wire-conformance violations (test/support/simulator.ts)
            } finally {
                removeStackConfig(projectDir, stack);
                fs.rmSync(path.dirname(ws.home), { recursive: true, force: true });
            }
        },
    };
}

/** Pulumi writes Pulumi.<stack>.yaml into the project directory: tests remove theirs. */
export function removeStackConfig(projectDir: string, stack: string): void {
    fs.rmSync(path.join(projectDir, `Pulumi.${stack}.yaml`), { force: true });
}

export async function disks(t: TestSimulator): Promise<DisksReport> {
    return (await t.admin("GET", "disks")) as DisksReport;
}

/** Sorted checksums of an entity's disks: equal lists mean equal content. */
export function sums(e: EntityReport): string {
    return e.disks
        .map((d) => d.sha256)
        .sort()
        .join(",");
}

export function inDc(list: EntityReport[], dc: string, name?: string): EntityReport[] {
    return list.filter((e) => e.dataCenter === dc && (name === undefined || e.name === name));
}
