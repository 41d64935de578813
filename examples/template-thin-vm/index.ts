// A thin ("Thin" storage allocation) VM depends on its template's disks. Within one engine (this example) every
// import is a clone: the source VM keeps its id, and ids are unique per engine. A clone is collapsed: thin-01 arrives
// with its own flat disk, its snapshots collapsed and its template link dropped, whatever happens to the template.
// Three ways to write it:
//   1. (default) move the template too, because you want it in dc-target (e.g. to create new VMs from it). It is
//      exported (the clone's collapse reads the template from the export domain) and imported before the VM.
//   2. migration:templateOnlyForThinVm=true: list the template only for thin-01 (`neededBy`). Since thin-01 is a
//      clone, nothing of the template is copied: thin-01 is exported flat (discardSnapshots) and the template
//      stays where it is. Across engines the same declaration moves the template and thin-01 stays thin on it.
//   3. migration:collapse=true: collapse on export and import yourself, no template listed.
import * as pulumi from "@pulumi/pulumi";
import { Migration, MigrationTemplate } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");
const collapse = cfg.getBoolean("collapse") ?? false;
const onlyForThinVm = cfg.getBoolean("templateOnlyForThinVm") ?? false;
const templates: Array<string | MigrationTemplate> = collapse ? [] : onlyForThinVm ? [{ name: "rhel9-base", neededBy: ["thin-01"] }] : ["rhel9-base"];

const migration = new Migration("thin", {
    source: { dataCenter: "dc-source" },
    target: { dataCenter: "dc-target", cluster: "cl-target", storageDomain: "data-target" },
    exportDomain: "export1",
    templates,
    vms: ["thin-01"],
    discardSnapshots: collapse || undefined,
    collapseSnapshots: collapse,
});

export const imported = migration.imported;
