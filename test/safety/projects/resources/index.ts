// Test program of the ownership suite (test/safety): a real Pulumi program whose resources are listed in stack config
// `safety:resources`, so each scenario changes one argument with `pulumi config set` between `pulumi up` runs, the
// way a user edits a program. Each entry: { type, name, args, dependsOn? }.
//   - type: ExportDomainAttachment | VmExport | VmImport | V2VImport | Migration
//   - args: the SDK arguments as JSON; inside them
//       { "$engine": "engineB", ...overrides }  -> engineFromConfig("engineB", overrides) (stack config engineB:*)
//       { "$secret": "ns:key" }                  -> the secret stack config value ns:key
//       { "$file": "ns:key" }                    -> the text of the file named by stack config ns:key, as a secret
//     Any argument this SDK version does not declare yet is passed on as it is (the constructors take `any`).
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { engineFromConfig, ExportDomainAttachment, Migration, V2VImport, VmExport, VmImport } from "../../../../sdk";

interface Entry {
    type: "ExportDomainAttachment" | "VmExport" | "VmImport" | "V2VImport" | "Migration";
    name: string;
    args: any;
    dependsOn?: string[];
    protect?: boolean;
}

function splitKey(k: string): [string, string] {
    const i = k.indexOf(":");
    return [k.slice(0, i), k.slice(i + 1)];
}

function resolve(v: any): any {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== "object") return v;
    if (typeof v.$engine === "string") {
        const { $engine, ...overrides } = v;
        return engineFromConfig($engine, resolve(overrides));
    }
    if (typeof v.$secret === "string") {
        const [ns, key] = splitKey(v.$secret);
        return new pulumi.Config(ns).requireSecret(key);
    }
    if (typeof v.$file === "string") {
        const [ns, key] = splitKey(v.$file);
        return pulumi.secret(fs.readFileSync(new pulumi.Config(ns).require(key), "utf8"));
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
}

const entries = new pulumi.Config("safety").requireObject<Entry[]>("resources");
const made = new Map<string, pulumi.Resource>();
const results: Record<string, pulumi.Output<any>> = {};
for (const e of entries) {
    const dependsOn = (e.dependsOn ?? []).map((n) => {
        const r = made.get(n);
        if (!r) throw new Error(`safety:resources: ${e.name} depends on ${n}, which is not declared before it`);
        return r;
    });
    const opts: pulumi.CustomResourceOptions = { dependsOn, protect: e.protect };
    const args = resolve(e.args ?? {});
    let r: pulumi.Resource;
    switch (e.type) {
        case "ExportDomainAttachment":
            r = new ExportDomainAttachment(e.name, args, opts);
            break;
        case "VmExport":
            r = new VmExport(e.name, args, opts);
            break;
        case "VmImport":
            r = new VmImport(e.name, args, opts);
            break;
        case "V2VImport":
            r = new V2VImport(e.name, args, opts);
            break;
        case "Migration":
            r = new Migration(e.name, args, opts);
            results[e.name] = (r as Migration).imported;
            break;
        default:
            throw new Error(`safety:resources: unknown type ${(e as Entry).type}`);
    }
    made.set(e.name, r);
}

/** Migration outputs (the other resources' outputs are read from the state by the tests). */
export const migrations = results;
