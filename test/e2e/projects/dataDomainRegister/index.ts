// Test program of test/e2e/dataDomainMove.test.ts (the registration arguments a Migration does not expose): one
// DataDomainAttachment (stack config `ddr:attachment`) and one VmRegistration per entry of `ddr:registrations`, each
// depending on the attachment, all on the engine of stack config `ovirt:*`.
import * as pulumi from "@pulumi/pulumi";
import { DataDomainAttachment, VmRegistration } from "../../../../sdk";

const config = new pulumi.Config("ddr");
const attachment = new DataDomainAttachment("move", config.requireObject<any>("attachment"));
for (const r of config.requireObject<any[]>("registrations")) {
    new VmRegistration(`reg-${r.kind ?? "vm"}-${r.name}`, r, { dependsOn: [attachment] });
}
export const storageDomainId = attachment.storageDomainId;
