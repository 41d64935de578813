/**
 * ExportDomainAttachment: an export domain attached and active in a data center.
 *
 * - create: attach + activate, adopting an attachment that already exists; a domain active in another data center
 *   is moved only when allowed (`takeOver`, or `moveFrom` naming that data center); a domain unknown to this
 *   engine is brought over from `moveFrom.engine` (detach + remove without format there, import here with the
 *   storage connection and a host, attach, activate) or imported from `storageConnection`.
 * - update: a new `dataCenter` moves the domain in place (wait for running tasks, deactivate, detach, attach,
 *   activate); a new `engine` moves it across engines the same way as above, using the old engine from state.
 * - delete: undoes what create did, and only that (ownership rule): an attachment found in place at create
 *   (`foundAttached`) is left as it was found; a domain this resource took from another data center (of this engine
 *   or, across engines, of `moveFrom.engine`) is returned there (`takenFrom`: detach + attach + activate, or the
 *   cross-engine move back); a domain found unattached is deactivated and detached. In a `Migration` the target
 *   attachment is deleted before the exports (it depends on them), so the domain is back in the source data center
 *   when the exports remove their copies.
 * - `handOffTo`: marks an attachment as a stage (e.g. the source side of a migration): once the domain sits in the
 *   hand-off data center, refresh and delete leave it alone.
 *
 * Layout (one file per concern, like pulumi-command's command.go / commandController.go / commandOutputs.go):
 * `args.ts`, `outputs.ts`, `storage.ts` (the storage-domain commands), `check.ts`, `run.ts` (ensure, give back),
 * `lifecycle.ts` (diff/create/update/read/delete), this file.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { check } from "./check";
import { create, del, diff, read, update } from "./lifecycle";

export const exportDomainAttachmentProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };

// the kind's public API (tests, the SDK agreement test, provider/plan) keeps its module path
export { ExportDomainAttachmentArgs, StorageConnectionArgs } from "./args";
export { EngineRef, ExportDomainAttachmentOutputs } from "./outputs";
export { onDestroyText } from "./check";
