// Pulumi's fixed cost, measured by `npm run bench` (pulumiFloorSeconds): `pulumi up` of one dynamic-provider
// resource whose create returns at once. It pays what every run of our provider pays before and after the engine
// works (the CLI, the language host, loading @pulumi/pulumi in the program and in the dynamic-provider process,
// closure serialization, the state file) and nothing else, so overheadSeconds - pulumiFloorSeconds is what our
// provider and program add.
import * as pulumi from "@pulumi/pulumi";

const noop: pulumi.dynamic.ResourceProvider = {
    async create() {
        return { id: "noop", outs: {} };
    },
};

class Noop extends pulumi.dynamic.Resource {
    constructor(name: string) {
        super(noop, name, {}, {});
    }
}

export const id = new Noop("noop").id;
