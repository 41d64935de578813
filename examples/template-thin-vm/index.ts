// A thin ("Thin" storage allocation) VM depends on its template's disks. Two correct ways to move it:
//   1. move the template too, imported before the VM (this program, migration:collapse=false), or
//   2. collapse snapshots (migration:collapse=true), which copies the template's data into the VM's own disks.
// Importing the VM alone without collapse fails at preview with a message naming the missing template.
// In a project of your own, import from "pulumi-ovirt-migrate" instead of "../../sdk".
import * as pulumi from "@pulumi/pulumi";
import { Migration } from "../../sdk";

const cfg = new pulumi.Config("migration");
const collapse = cfg.getBoolean("collapse") ?? false;

const migration = new Migration("thin", {
    source: { dataCenter: "dc-source" },
    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
    exportDomain: "export1",
    templates: collapse ? [] : ["rhel9-base"],
    vms: ["thin-01"],
    discardSnapshots: collapse,
    collapseSnapshots: collapse,
});

export const imported = migration.imported;
