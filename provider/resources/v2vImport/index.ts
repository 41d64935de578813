/**
 * V2VImport: VMware (vCenter, vpx://), KVM (qemu+ssh://) or Xen (xen+ssh://) VMs imported into a target cluster
 * through the engine's external VM import (`POST /externalvmimports`), which runs virt-v2v on a proxy host of the
 * target data center.
 *
 * - `check` (also during `pulumi preview`, read-only): the target cluster, a data domain (file or block: the engine
 *   accepts both since 4.4, ImportVmFromExternalUrlCommand) active in the cluster's data center, the proxy host up and in that data
 *   center, target names free (or the VM there proven this resource's own, or `adopt: true`); for VMware: vCenter
 *   login (TLS: CA, pinned fingerprint or explicitly off), each VM found at the datacenter path / cluster / ESXi host
 *   and powered off, and a warning when virt-v2v on the proxy host will not verify the vCenter certificate; with
 *   `proxySsh`: the proxy's pinned host key and virt-v2v (mode `check`) or a package manager (mode `install`).
 * - Ownership (provider/resources/ownership.ts): each VM's import carries the correlation id
 *   `resourceCorrelationId(urn, "v2v", target cluster id, target name, source identity)`. A VM of the target name in
 *   the target data center is this resource's only when the engine's audit log proves it (`createdBy`: event 1165 /
 *   1193 with that correlation id and the VM's id). Then a running import is waited for, a finished one taken
 *   (ownership "created"), a half-made one (failed import) removed and imported again. Any other VM of that name is
 *   a conflict (preview error naming `clone` and `adopt`), or, with `adopt: true`, adopted (ownership "adopted":
 *   CPU profile and permissions applied; never stopped, removed or replaced).
 * - `create`: installs virt-v2v when asked, imports VM by VM behind the engine job, shows progress, and watches the
 *   source's power state: a VM powered on in VMware during the import fails the resource with a clear error, and
 *   the half-made VM (only one this resource created) is removed.
 * - `update`: `cpuProfile` (PUT on every VM of the resource), `permissions` (only grants it added are removed).
 * - `diff`: import-time arguments replace (delete before replace), but `guardReplace` refuses at preview when a VM the
 *   replace would delete has run since the import.
 * - `delete` removes only the VMs this resource created (ownership "created"), by recorded id, never stops a VM
 *   (one that is not down fails the delete), and nothing with `keepOnDelete`.
 *
 * Layout (one file per concern, like pulumi-command's command.go / commandController.go / commandOutputs.go):
 * `args.ts`, `outputs.ts`, `source.ts` (source URL and identity), `preflight.ts` (vCenter and SSH), `target.ts`
 * (engine side), `check.ts`, `run.ts` (the imports), `lifecycle.ts` (diff/create/update/read/delete), this file.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { check } from "./check";
import { create, del, diff, read, update } from "./lifecycle";

export const v2vImportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };

// the kind's public API (tests, the SDK agreement test, provider/plan) keeps its module path
export { PermissionArg, ProxySshArgs, V2VImportArgs, VCenterArgs } from "./args";
export { ImportedDisk, ImportedVm, V2VImportOutputs } from "./outputs";
export { proxySkipsVerify, proxyTlsWarning, sourceIdentity, sourceUrlOf, targetName, v2vCorrelationId } from "./source";
