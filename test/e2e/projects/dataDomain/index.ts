// Test program of test/e2e/dataDomainMove.test.ts: one Migration whose arguments are the JSON of stack config
// `ddm:migration`; `{ "$engine": "engineA" }` inside it stands for engineFromConfig("engineA"). The tests change one
// value with `pulumi config set` between runs, the way a user edits a program.
import * as pulumi from "@pulumi/pulumi";
import { engineFromConfig, Migration } from "../../../../sdk";

function resolve(v: any): any {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== "object") return v;
    if (typeof v.$engine === "string") return engineFromConfig(v.$engine);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
}

const m = new Migration("ddm", resolve(new pulumi.Config("ddm").requireObject<any>("migration")));
export const imported = m.imported;
