// Every resource argument is declared twice: as the SDK's TypeScript interface (what a user's program is checked
// against) and as the provider's zod schema (what `check` accepts). This test reads both with the TypeScript compiler
// and fails on any key one has and the other lacks, and on a key that is required on one side and optional on the
// other (zod's input type: a key with a default is optional), so the two cannot drift apart unnoticed (issue 12).
import { strict as assert } from "assert";
import * as path from "path";
import * as ts from "typescript";
import { ROOT } from "../support/pulumi";

/** [SDK type (module under sdk/, expression), provider schema (module under provider/resources/, expression over z.input)] */
const PAIRS: Array<{ what: string; sdk: [string, string]; schema: [string, string]; sdkOnlyOptional?: string[] }> = [
    { what: "VmImport", sdk: ["vmImport", "VmImportArgs"], schema: ["vmImport", "z.input<typeof M.VmImportArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "VmImport disks[]", sdk: ["vmImport", "DiskMapping"], schema: ["vmImport", "z.input<typeof M.DiskMappingArgs>"] },
    { what: "VmImport permissions[]", sdk: ["vmImport", "Permission"], schema: ["vmImport", "z.input<typeof M.PermissionArgs>"] },
    { what: "VmImport expectExportDomain", sdk: ["vmImport", "ExpectedExportDomain"], schema: ["vmImport", "z.input<typeof M.ExpectExportDomainArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "VmExport", sdk: ["vmExport", "VmExportArgs"], schema: ["vmExport", "z.input<typeof M.VmExportArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "batch", sdk: ["vmExport", "BatchArgs"], schema: ["common", "z.input<typeof M.BatchArgs>"] },
    { what: "ExportDomainAttachment", sdk: ["exportDomainAttachment", "ExportDomainAttachmentArgs"], schema: ["exportDomainAttachment", "z.input<typeof M.ExportDomainAttachmentArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "ExportDomainAttachment storageConnection", sdk: ["exportDomainAttachment", "StorageConnectionArgs"], schema: ["exportDomainAttachment", "z.input<typeof M.StorageConnectionArgs>"] },
    { what: "V2VImport", sdk: ["v2vImport", "V2VImportArgs"], schema: ["v2vImport", "z.input<typeof M.V2VImportArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "V2VImport vcenter", sdk: ["v2vImport", "VCenterSourceArgs"], schema: ["v2vImport", "z.input<typeof M.VCenterArgs>"] },
    { what: "V2VImport proxySsh", sdk: ["v2vImport", "ProxySshArgs"], schema: ["v2vImport", "z.input<typeof M.ProxySshArgs>"] },
    { what: "DataDomainAttachment", sdk: ["dataDomainAttachment", "DataDomainAttachmentArgs"], schema: ["dataDomainAttachment", "z.input<typeof M.DataDomainAttachmentArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "DataDomainAttachment moveFrom", sdk: ["dataDomainAttachment", "DataDomainSourceArgs"], schema: ["dataDomainAttachment", "z.input<typeof M.DataDomainSource>"] },
    { what: "VmRegistration", sdk: ["vmRegistration", "VmRegistrationArgs"], schema: ["vmRegistration", "z.input<typeof M.VmRegistrationArgs>"], sdkOnlyOptional: ["engine"] },
    { what: "VmRegistration registrationConfiguration", sdk: ["vmRegistration", "RegistrationConfigurationArgs"], schema: ["vmRegistration", "z.input<typeof M.RegistrationConfigurationArgs>"] },
    { what: "VmRegistration vnicProfileMappings[]", sdk: ["vmRegistration", "VnicProfileMappingArgs"], schema: ["vmRegistration", "z.input<typeof M.VnicProfileMappingArgs>"] },
    // every field of the SDK's connection falls back to the stack config (resolveEngine) before the provider sees it
    { what: "engine", sdk: ["connection", "EngineConnectionArgs"], schema: ["common", "z.input<typeof M.EngineArgs>"], sdkOnlyOptional: ["url", "username", "password"] },
];

interface Key {
    name: string;
    optional: boolean;
}

function keysOf(checker: ts.TypeChecker, type: ts.Type): Key[] {
    return checker.getPropertiesOfType(checker.getApparentType(type))
        .filter((p) => !p.name.startsWith("__"))
        .map((p) => ({ name: p.name, optional: (p.flags & ts.SymbolFlags.Optional) !== 0 }))
        .sort((a, b) => a.name.localeCompare(b.name));
}

describe("sdk: every resource's SDK argument types and provider schemas agree (keys and required/optional)", function () {
    this.timeout(120_000);
    const probe = path.join(ROOT, "test", "sdk", "__argsProbe.ts");
    const lines = ['import { z } from "zod";'];
    PAIRS.forEach((p, i) => {
        lines.push(`import * as S${i} from "../../sdk/${p.sdk[0]}";`);
        lines.push(`import * as P${i} from "../../provider/resources/${p.schema[0]}";`);
        lines.push(`export type Sdk${i} = S${i}.${p.sdk[1]};`);
        lines.push(`export type Schema${i} = ${p.schema[1].replace(/\bM\./g, `P${i}.`)};`);
    });
    const text = lines.join("\n") + "\n";
    const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, skipLibCheck: true, esModuleInterop: true, noEmit: true, types: ["node"] };
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (file, lang, onError) => (path.resolve(file) === probe ? ts.createSourceFile(file, text, lang) : read(file, lang, onError));
    const exists = host.fileExists.bind(host);
    host.fileExists = (file) => path.resolve(file) === probe || exists(file);
    let checker: ts.TypeChecker;
    let source: ts.SourceFile;

    before(() => {
        const program = ts.createProgram([probe], options, host);
        const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.file && path.resolve(d.file.fileName) === probe);
        assert.deepEqual(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")), [], "a type named in PAIRS does not exist");
        checker = program.getTypeChecker();
        source = program.getSourceFile(probe)!;
    });

    const typeOf = (alias: string): ts.Type => {
        const decl = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === alias);
        assert.ok(decl, alias);
        return checker.getTypeAtLocation(decl.name);
    };

    PAIRS.forEach((p, i) => {
        it(`${p.what}: sdk/${p.sdk[0]}.ts ${p.sdk[1]} = provider/resources/${p.schema[0]}.ts ${p.schema[1].replace("M.", "")}`, () => {
            const sdk = keysOf(checker, typeOf(`Sdk${i}`));
            const schema = keysOf(checker, typeOf(`Schema${i}`));
            assert.ok(sdk.length > 0 && schema.length > 0, "no keys read");
            const names = (ks: Key[]) => ks.map((k) => k.name);
            assert.deepEqual(names(sdk).filter((n) => !names(schema).includes(n)), [], "keys of the SDK type the schema lacks");
            assert.deepEqual(names(schema).filter((n) => !names(sdk).includes(n)), [], "keys of the schema the SDK type lacks");
            const differ = sdk.filter((k) => {
                const s = schema.find((x) => x.name === k.name)!;
                // optional only in the SDK: the stack's config fills it in before the provider sees it (sdkOnlyOptional)
                return k.optional !== s.optional && !(p.sdkOnlyOptional?.includes(k.name) && k.optional);
            });
            assert.deepEqual(differ.map((k) => `${k.name}: ${k.optional ? "optional" : "required"} in the SDK, ${k.optional ? "required" : "optional"} in the schema`), []);
        });
    });
});
