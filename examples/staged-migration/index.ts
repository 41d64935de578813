// A staged migration: `pulumi up` with `migration:stage=export` attaches the export domain in the source data
// center and exports the VMs (the VMs keep running their workloads elsewhere until the cut-over window); later,
// `pulumi config set migration:stage import` and `pulumi up` moves the export domain and imports them.
import * as pulumi from "@pulumi/pulumi";
import { Migration } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");
const stage = cfg.get("stage") ?? "export";
if (stage !== "export" && stage !== "import") {
    throw new Error(`migration:stage must be "export" or "import" (got "${stage}"): pulumi config set migration:stage export`);
}

const migration = new Migration("staged", {
    source: { dataCenter: "dc-source" },
    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
    exportDomain: "export1",
    vms: cfg.getObject<string[]>("vms") ?? ["web-01", "app-01"],
    stage,
});

export const currentStage = stage;
export const imported = migration.imported;
