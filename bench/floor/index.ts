// Pulumi's own cost, measured by `npm run bench`: `pulumi up` of dynamic-provider resources whose create returns at
// once. It pays what every run of our provider pays besides the engine's work (the CLI, the language host, loading
// @pulumi/pulumi in the program and in the dynamic-provider process, registering and checkpointing each resource)
// and nothing of ours.
//
// - `floor:vms` unset: one resource (pulumiFloorSeconds: the fixed cost of any run).
// - `floor:vms` = N: the graph a `Migration` of N VMs registers, with no-ops: a component, its plan, the source
//   attachment, N exports after it, the target attachment after every export, N imports after that
//   (upOverheadSecondsPerVm200 subtracts this floor for N = 200).
// - `floor:credentials` = true as well: each of those resources also takes an engine connection as one secret input
//   and returns it as a secret output, as a resource that must reach an engine in its delete has to when it holds
//   its own connection (a dynamic provider's delete sees the outputs only; resources declared on their own still
//   do, a Migration's children name an engine of the Migration's provider instead). What that alone costs in
//   checkpoints is `pulumiFloorWithCredentialsSeconds200`.
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
    async create(inputs: any) {
        return { id: "noop", outs: inputs.engine === undefined ? {} : { engine: inputs.engine } };
    },
};

const config = new pulumi.Config("floor");
const vms = Number(config.get("vms") ?? 0);
// the size of a connection to the simulator: URL, user, password, allowHttp
const engine = config.getBoolean("credentials")
    ? pulumi.secret({ url: "http://127.0.0.1:40000/ovirt-engine/api", username: "admin@internal", password: "floor-password-0123", allowHttp: true })
    : undefined;

class Noop extends pulumi.dynamic.Resource {
    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        super(noop, name, engine ? { engine } : {}, engine ? { ...opts, additionalSecretOutputs: ["engine"] } : opts);
    }
}

let last: Noop;
if (!vms) {
    last = new Noop("noop");
} else {
    const parent = new pulumi.ComponentResource("floor:index:Migration", "main");
    new Noop("main-plan", { parent });
    const source = new Noop("main-source-attachment", { parent });
    const exports = Array.from({ length: vms }, (_, i) => new Noop(`main-export-${i}`, { parent, dependsOn: [source] }));
    const target = new Noop("main-target-attachment", { parent, dependsOn: exports });
    for (let i = 0; i < vms; i++) last = new Noop(`main-import-${i}`, { parent, dependsOn: [target] });
}
export const id = last!.id;
