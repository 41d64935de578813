/** pulumi-ovirt-migrate: move oVirt/RHV VMs and templates between data centers through export domains. */
export { EngineConnectionArgs, EngineConnection, resolveEngine, engineFromConfig } from "./connection";
export { ExportDomainAttachment, ExportDomainAttachmentArgs, DataCenterRef, StorageConnectionArgs } from "./exportDomainAttachment";
export { VmExport, VmExportArgs, BatchArgs } from "./vmExport";
export { VmImport, VmImportArgs, DiskMapping, Permission, ExpectedExportDomain } from "./vmImport";
export { Migration, MigrationArgs, MigrationVm, MigrationTemplate, MigratedEntity } from "./migration";
export { providerModulePath, providerSource } from "./shim";
export { typeToken } from "./base";
export { V2VImport, V2VImportArgs, VCenterSourceArgs, ProxySshArgs, V2VPermissionArgs, ImportedVmOutput } from "./v2vImport";
export { DataDomainAttachment, DataDomainAttachmentArgs, DataDomainSourceArgs } from "./dataDomainAttachment";
export { VmRegistration, VmRegistrationArgs, RegistrationConfigurationArgs, NameMappingArgs, VnicProfileMappingArgs } from "./vmRegistration";
