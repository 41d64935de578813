/**
 * VmExport: a VM or template (`kind`) exported to an export domain.
 *
 * - `exclusive` = the admin portal's "force override"; `discardSnapshots` = "collapse snapshots" (VMs only).
 * - The VM must be down: by default a running VM fails with a clear error (at preview already); with
 *   `shutdownIfRunning: true` it is shut down first (ACPI shutdown; a guest still running after
 *   `shutdownTimeoutSeconds`, default 300, is powered off with `stop`).
 * - create adopts a copy that is already on the domain and current (same disks), and an export still running from
 *   an interrupted attempt (found by its stable correlation id or the VM's lock).
 * - The source fingerprint (disk ids + sizes + image ids + snapshot ids) is kept in the outputs; with `exclusive`
 *   a later `pulumi up` re-exports (force override) only when the source changed (detected in `diff`).
 * - delete removes the copy from the export domain unless `keepOnDelete`.
 *
 * Layout (one file per concern, like pulumi-command's command.go / commandController.go / commandOutputs.go):
 * `args.ts` (schema, defaults), `outputs.ts` (state), `source.ts` (lookups shared by check and run), `check.ts`
 * (preview), `run.ts` (the export), `lifecycle.ts` (diff/create/update/read/delete), this file (the provider).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { check } from "./check";
import { create, del, diff, read, update } from "./lifecycle";

export const vmExportProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };

// the kind's public API (tests, the SDK agreement test, provider/plan) keeps its module path
export { VmExportArgs } from "./args";
export { ExportedDisk, VmExportOutputs } from "./outputs";
export { fingerprint, pickSource } from "./source";
export { onDestroyText } from "./check";
