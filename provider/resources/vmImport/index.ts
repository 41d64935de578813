/**
 * VmImport: a VM or template (`kind`) imported from an export domain into a cluster and storage domain.
 *
 * - `collapseSnapshots` ("collapse snapshots"), per-disk allocation (thin | preallocated) and storage domain,
 *   `cpuProfile`, and `permissions` re-applied after the import (an export keeps no roles/permissions). The engine
 *   applies a VM disk's allocation only to a collapsed copy, so an allocation collapses the VM (said at preview); a
 *   template import reads no allocation at all: refused at preview. Per-disk domains are sent where the engine reads
 *   them for both kinds (`<vm><disk_attachments>`), for every disk once one is placed
 *   (client/services/exportDomainContents.ts).
 * - A thin VM imported without collapse stays linked to its template's disks: its disks must land on a domain that
 *   holds the template — where the template really is, or where this stack imports it (`expectTemplateDomains`).
 * - Conflicts like the admin portal: `onConflict: "fail" | "skip" | "clone"`; a clone gets `newName` or the name plus
 *   `cloneSuffix` (else the name, or name + "-clone" when the name is taken). A clone always collapses snapshots (the portal's Clone does the same).
 * - A thin, template-based VM needs its template in the target data center first, or `collapseSnapshots`; the
 *   error says which template to import (or list it in `expectTemplates` when this stack imports it first).
 * - `batch`: the VMs imported together; `check` rejects a batch that mixes CPU architectures (at preview).
 * - create adopts an import of an interrupted attempt (same VM id in the target cluster, or the clone found by
 *   name plus our stable correlation id); delete removes only a VM this resource created.
 * - `expectExportDomain`: the export domain is brought to the target by this stack (from a data center, of this or
 *   another engine): `check` then reads the copy where the domain is now (or the source when the copy is not made
 *   yet) instead of failing because the domain is not in the target engine yet (a cross-engine preview).
 * - Within one engine the source keeps its id: the import is a clone (new id, new MACs, collapsed snapshots, no
 *   template link); `check` says so on the resource's line and the checked inputs carry `collapseSnapshots: true`.
 *
 * Layout (one file per concern, like pulumi-command's command.go / commandController.go / commandOutputs.go):
 * `args.ts` (schemas, defaults, replace keys), `outputs.ts` (state), `target.ts` (placement shared by check and
 * run), `check.ts` (preview), `run.ts` (the import), `lifecycle.ts` (diff/create/update/read/delete), this file.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { check } from "./check";
import { create, del, diff, read, update } from "./lifecycle";

export const vmImportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };

// the kind's public API (tests, the SDK agreement test, provider/plan) keeps its module path
export { CLONE_NOTE, COLLAPSE_IMPLIED_KEY, DiskMappingArgs, ExpectExportDomainArgs, PermissionArgs, VmImportArgs } from "./args";
export { ImportedDisk, VmImportOutputs } from "./outputs";
export { allocationCollapses, templateAllocationFailures, wrongDataCenter } from "./target";
