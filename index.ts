// The main job: one `pulumi up` moves several VMs and a template from the source data center to the target data
// center through the export domain, against the engine named by stack config `ovirt:*` (the embedded simulator in
// `npm run demo`). Every name is stack config, so the same program serves a real engine.
import * as pulumi from "@pulumi/pulumi";
import { Migration } from "./sdk";

const cfg = new pulumi.Config("migration");

const migration = new Migration("main", {
    // "export-domain" (copies through the export domain) or "data-domain" (moves `dataDomain` and registers what is on it)
    method: (cfg.get("method") as "export-domain" | "data-domain" | undefined) ?? "export-domain",
    dataDomain: cfg.get("dataDomain"),
    source: { dataCenter: cfg.get("sourceDataCenter") ?? "dc-source" },
    target: {
        dataCenter: cfg.get("targetDataCenter") ?? "dc-target",
        cluster: cfg.get("targetCluster") ?? "cl-target",
        storageDomain: cfg.get("targetStorageDomain") ?? "data-target",
    },
    exportDomain: cfg.get("exportDomain") ?? "export1",
    templates: cfg.getObject<string[]>("templates") ?? ["rhel9-base"],
    vms: cfg.getObject<string[]>("vms") ?? ["web-01", "db-01", "app-01", "snap-01", "thin-01"],
    stage: (cfg.get("stage") as "export" | "import" | "all" | undefined) ?? "all",
    concurrency: cfg.getNumber("concurrency") ?? 4,
    permissions: cfg.getObject("permissions") ?? [],
});

/** name in the source -> the imported VM's id and name in the target. */
export const imported = migration.imported;
