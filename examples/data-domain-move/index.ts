// The zero-copy path of oVirt 4.4+: the data domain data-apps, which holds the disks of base, web-01, db-01 and
// app-01, moves from dc-source to dc-target (deactivate, detach, attach, activate) and they are registered there.
// Nothing is copied. The same Migration with method "export-domain" copies them through export1 instead: switching
// is the one config value migration:method.
import * as pulumi from "@pulumi/pulumi";
import { Migration } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");

const migration = new Migration("apps", {
    method: (cfg.get("method") ?? "data-domain") as "data-domain" | "export-domain",
    source: { dataCenter: "dc-source" },
    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
    dataDomain: "data-apps",
    exportDomain: "export1",
    templates: ["base"],
    vms: ["web-01", "db-01", "app-01"],
    // web-01's MAC is taken in the target's pool? a new one from the pool instead of a refusal
    reassignBadMacs: true,
});

export const imported = migration.imported;
