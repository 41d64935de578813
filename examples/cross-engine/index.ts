// The seed's cross-installation move: the export domain leaves engine A (deactivate, detach, remove from engine A
// WITHOUT formatting), is imported into engine B from its storage connection through one of B's hosts, attached to
// B's data center and activated; then the VMs are imported there. Two engines, two sets of stack config:
// `engineA:url|username|password|caFile` and `engineB:url|...`. Without `engineA:url` the source engine is the
// default one, stack config `ovirt:*` (Migration's `source.engine` is optional).
// `pulumi preview` plans the whole move before anything changes: the imports are checked against engine A (the
// copy on the export domain there, or the source VM before it is exported) while the domain is still in engine A.
import * as pulumi from "@pulumi/pulumi";
import { Migration, engineFromConfig } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");
const engineA = new pulumi.Config("engineA").get("url") !== undefined ? engineFromConfig("engineA") : undefined;

const migration = new Migration("cross", {
    source: { engine: engineA, dataCenter: "dc-source" },
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
