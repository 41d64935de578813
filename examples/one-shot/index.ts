// One `pulumi up` moves several VMs: the export domain is attached in the source data center, the VMs are exported
// two at a time, the domain moves to the target data center, the VMs are imported and their permissions
// re-applied (an export keeps no roles or permissions). Both data centers belong to one engine, where the sources
// keep their ids: every VM is imported as a clone (new id, new MACs, snapshots collapsed, template link dropped),
// under its own name (names are unique per data center). `pulumi preview` says so on each import's line.
import * as pulumi from "@pulumi/pulumi";
import { Migration } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");

const migration = new Migration("one-shot", {
    source: { dataCenter: "dc-source" },
    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
    exportDomain: "export1",
    vms: [
        "web-01",
        "app-01",
        // snapshots collapsed on export (a flat copy on the export domain); the clone would collapse them anyway
        { name: "snap-01", discardSnapshots: true },
    ],
    concurrency: cfg.getNumber("concurrency") ?? 2,
    permissions: [{ user: "alice@internal-authz", role: "UserVmManager" }],
});

export const imported = migration.imported;
