// The admin portal's "Import Virtual Machine Conflict" dialog as code: dc-target already has a VM named app-01, so
// the import of app-01 from the export domain is imported as a clone (new id, new MACs, collapsed snapshots) named
// with a suffix ("Apply to all" + suffix in the dialog). `onConflict: "fail"` would stop at preview instead, and
// `"skip"` would leave the existing VM alone ("Don't import").
import * as pulumi from "@pulumi/pulumi";
import { ExportDomainAttachment, VmExport, VmImport } from "pulumi-ovirt-migrate";

const cfg = new pulumi.Config("migration");
const suffix = cfg.get("cloneSuffix") ?? "-migrated";

const source = new ExportDomainAttachment("export1-in-source", {
    exportDomain: "export1",
    dataCenter: "dc-source",
    handOffTo: { dataCenter: "dc-target" },
});
// names are unique per data center only: dc-target has an app-01 too, so the export names the source's data center
const exported = new VmExport(
    "app-01-export",
    { exportDomain: "export1", name: "app-01", dataCenter: "dc-source", exclusive: true },
    { dependsOn: [source] },
);
const target = new ExportDomainAttachment(
    "export1-in-target",
    { exportDomain: "export1", dataCenter: "dc-target", moveFrom: { dataCenter: "dc-source" } },
    { dependsOn: [exported] },
);
const imported = new VmImport(
    "app-01-import",
    {
        exportDomain: "export1",
        name: "app-01",
        cluster: "cl-target",
        storageDomain: "data-target",
        onConflict: "clone",
        cloneSuffix: suffix,
        disks: [{ alias: "app-01_disk0", allocation: "preallocated" }],
        // this stack exports app-01 from dc-source and brings export1 here: the preview checks the import against
        // the source VM before the copy is made, and says it is a clone
        expectExportDomain: { dataCenter: "dc-source" },
    },
    { dependsOn: [target] },
);

export const vmName = imported.vmName;
export const vmId = imported.vmId;
export const cloned = imported.cloned;
