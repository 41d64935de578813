// The seed's cross-installation move: the export domain leaves engine A (deactivate, detach, remove from engine A
// WITHOUT formatting), is imported into engine B from its storage connection through one of B's hosts, attached to
// B's data center and activated; then the VMs are imported there. Two engines, two sets of stack config:
// `engineA:url|username|password|caFile` and `engineB:url|...`.
// In a project of your own, import from "pulumi-ovirt-migrate" instead of "../../sdk".
import * as pulumi from "@pulumi/pulumi";
import { Migration, engineFromConfig } from "../../sdk";

const cfg = new pulumi.Config("migration");

const migration = new Migration("cross", {
    source: { engine: engineFromConfig("engineA"), dataCenter: "dc-source" },
    target: {
        engine: engineFromConfig("engineB"),
        dataCenter: "dc-b",
        cluster: "cl-b",
        storageDomain: "data-b",
        host: "host-b-1",
        // The NFS export that holds the export domain, as engine B's hosts mount it.
        storageConnection: { type: "nfs", address: cfg.get("exportAddress") ?? "127.0.0.1", path: cfg.require("exportPath") },
    },
    exportDomain: "export1",
    vms: cfg.getObject<string[]>("vms") ?? ["web-01", "db-01"],
});

export const imported = migration.imported;
