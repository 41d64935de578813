/**
 * The ownership rule, one for every resource kind (README "Safety").
 *
 * An engine entity (VM, template, copy on an export domain) is this resource's to change or remove only when
 *  - this resource created it: proven by the engine's own record — an audit-log event that carries this resource's
 *    correlation id AND the entity's id (the engine writes one when it starts an import or export: AuditLogType
 *    IMPORTEXPORT_STARTING_IMPORT_VM 1165 / _TEMPLATE 1163, IMPORTEXPORT_STARTING_EXPORT_VM 1162 / _TEMPLATE 1164,
 *    V2V's IMPORTEXPORT_STARTING_CONVERT_VM 1193) — and recorded in the state by id (`ownership: "created"`), or
 *  - the user told it to adopt it (`adopt: true`, `ownership: "adopted"`): it may then be configured (permissions,
 *    CPU profile) but is never stopped, removed or overwritten, by destroy or by replace.
 * Anything else in the way is a conflict (`onConflict`, or a preview error naming the entity and the fix).
 *
 * Correlation ids are derived from the resource's URN (project, stack, resource name) and what the operation acts
 * on, never from the engine URL: the same stack re-run after a crash or a lost state proves its own work, a second
 * stack importing the same VM does not, and reaching the engine by another URL changes nothing.
 */
import type { OvirtClient, Vm, Template, Event } from "../client";
import { stableCorrelationId } from "../client/connection";
import { vmById } from "../operations/reads";

export type Ownership = "created" | "adopted" | "skipped";

/** Stable correlation id of one operation of one resource (`urn` = the resource's URN, from `__progressUrn`). */
export function resourceCorrelationId(urn: string | undefined, op: string, ...parts: string[]): string {
  return stableCorrelationId(op, urn ?? "(no urn)", ...parts);
}

/** The entity ids an event names (its VM and template). */
function eventEntityIds(ev: Event): string[] {
  return [ev.vm?.id, ev.template?.id].filter((x): x is string => !!x).map((x) => x.toLowerCase());
}

/**
 * Did an operation with one of these correlation ids create (or start creating) the entity `id`? True only when the
 * engine's audit log has an event with that correlation id naming the entity: a correlation id alone proves nothing
 * (a failed attempt of ours leaves events too, and someone else may have created an entity of that name since).
 */
export async function createdBy(c: OvirtClient, correlationIds: string[], id: string): Promise<boolean> {
  const want = id.toLowerCase();
  for (const cid of new Set(correlationIds)) {
    const events = await c.events.byCorrelationId(cid).catch(() => [] as Event[]);
    if (events.some((ev) => ev.correlation_id === cid && eventEntityIds(ev).includes(want))) return true;
  }
  return false;
}

/** What the state says about one entity; states written before ownership was recorded count as created. */
export function ownershipOf(outputs: { ownership?: Ownership; imported?: boolean; adopted?: boolean }): Ownership {
  if (outputs.ownership) return outputs.ownership;
  if (outputs.imported === false) return "skipped";
  if (outputs.adopted === true) return "adopted";
  return "created";
}

/** Only what this resource created is ever removed or stopped. */
export function mayRemove(outputs: { ownership?: Ownership; imported?: boolean; adopted?: boolean }): boolean {
  return ownershipOf(outputs) === "created";
}

/** Preview/apply wording for an entity that is kept on destroy. */
export function adoptionNote(what: string, name: string, id: string): string {
  return `adopting ${what} ${name} (id ${id}) — it will be kept on destroy`;
}

/**
 * Has this VM been used since it was created by an import? Then it may hold data written after the import. The
 * engine shows `start_time` only while a VM runs, and sets `stop_time` when the VM is created or imported
 * (`ImportVmCommandBase.createVmDynamic`) and again each time it stops: a VM that is not down, that has a start
 * time, or whose last stop is later than its creation has run. Templates never run.
 */
export function hasRunSinceImport(e: Vm | Template, kind: "vm" | "template"): boolean {
  if (kind !== "vm") return false;
  const vm = e as Vm;
  if (vm.status && vm.status !== "down") return true;
  if (vm.start_time) return true;
  const created = vm.creation_time ? Date.parse(vm.creation_time) : NaN;
  const stopped = vm.stop_time ? Date.parse(vm.stop_time) : NaN;
  // both are set in the same import transaction; a later stop (beyond clock granularity) means it ran
  return Number.isFinite(created) && Number.isFinite(stopped) && stopped - created > 1000;
}

/**
 * A replace deletes the old entity before making the new one. Refuse it (the error shows at `pulumi preview`, from
 * `diff`) when any VM it would delete has run since the import; answer normally otherwise.
 */
export async function guardReplace(
  c: OvirtClient,
  kind: "vm" | "template",
  entities: Array<{ id: string; name?: string }>,
  replaces: string[],
  resource: string,
): Promise<void> {
  if (replaces.length === 0 || kind !== "vm") return;
  for (const ref of entities) {
    const vm = await vmById(c, ref.id).catch(() => undefined);
    if (!vm || !hasRunSinceImport(vm, kind)) continue;
    const fields = replaces.join(", ");
    throw new Error(
      `${replaces[0]}: changing ${fields} would replace ${resource}, which deletes VM ${vm.name} (id ${vm.id}) and imports it again; ` +
        `that VM has run since the import (status ${vm.status ?? "unknown"}${vm.start_time ? `, started ${vm.start_time}` : vm.stop_time ? `, last stopped ${vm.stop_time}` : ""}) and may hold data written since. ` +
        `Nothing was changed. Revert ${fields}; to import it again elsewhere, first set keepOnDelete: true and run pulumi up ` +
        `(the VM then stays when the resource is replaced or removed), or remove the VM yourself.`,
    );
  }
}
