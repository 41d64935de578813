/**
 * MAC conflicts of a plain VM import (issue 11, item 5).
 *
 * The engine refuses a plain (non-clone) import whose NIC MACs are already in use in the target cluster's MAC pool
 * unless the pool allows duplicates (ImportVmCommandBase.validate, ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES:
 * "... would create duplicates in target MAC pool ... Problematic NICs are <nic names>"). Its text names neither the
 * VM nor the MACs, and its two fixes are an administrator's (allow duplicates in the pool) or not reachable through
 * REST (reassign_bad_macs is read only by `register`, never by the export-domain import: BackendStorageDomainVmResource).
 * What the user can do in the stack is a clone (the engine gives a clone new MACs from the pool): `clone: true`, or
 * `onConflict: "clone"`, which treats a MAC conflict like an id or name conflict (`check.ts` and `run.ts` here).
 *
 * - Preview (`previewMacConflict`): the REST API shows no NICs of a copy on an export domain (StorageDomainVmService
 *   has no nics), so the copy's MACs are read from its source VM (same id) in the source engine
 *   (`expectExportDomain.engine`), and compared with the MACs of the VMs of every cluster that shares the target
 *   cluster's pool (`/clusters` mac_pool, `/macpools/{id}` allow_duplicates, `/vms?follow=nics`). Within one engine
 *   the source keeps the copy's id, so the import is a clone anyway (`run.ts`) and no MAC can conflict.
 * - Apply (`macRefusal`): the engine's refusal becomes an error naming the VM, the NICs, their MACs and who holds
 *   them when they can be read, and the fix.
 */
import type { OvirtClient } from "../../client";
import { ArgError, CheckFailure } from "../../operations/errors";
import { conflictsIn, describeConflicts as describe, nicsOfVm, poolOf } from "../../operations/macPools";

/**
 * The ways out. `onConflict: "clone"` clones on a MAC conflict only when the copy's MACs can be read before the
 * import (the source engine is known: `expectExportDomain.engine`, which a cross-engine Migration sets).
 */
function fixes(pool: string | undefined, holderNames: string[], sourceKnown: boolean): string {
  const free = holderNames.length ? `remove ${holderNames.map((n) => `VM ${n}`).join(", ")} or give its NICs other MACs` : "free those MACs in the target engine";
  const how = sourceKnown ? `Set clone: true, or onConflict: "clone" (a clone when the MACs conflict; in a Migration for all VMs or per VM),` : "Set clone: true";
  const note = sourceKnown ? "" : ` (onConflict: "clone" clones on a MAC conflict only when the source engine is declared: expectExportDomain.engine)`;
  return (
    `${how} to import it with new MAC addresses from that pool (a clone also gets a new id and collapsed snapshots), ` +
    `or ${free}, or have an administrator allow duplicates in ${pool ? `MAC pool "${pool}"` : "that MAC pool"}${note}.`
  );
}

export interface MacCheckTarget {
  /** client of the target engine and its read-cache key */
  c: OvirtClient;
  key: string;
  cluster: { id: string; name: string };
  /** the VM being imported (name on the export domain) and the copy's id (= the source VM's id) */
  vmName: string;
  copyId: string;
  /** the engine holding the source VM (other than the target): the copy carries the MACs the VM had at export */
  source?: { client: OvirtClient; url: string };
}

/**
 * The preview failure of a plain import whose MACs are in use in the target cluster's pool, or undefined (no
 * conflict, a pool allowing duplicates, or MACs that cannot be read at preview: then the engine's refusal at apply
 * is turned into the same explanation by `macRefusal`).
 */
export async function previewMacConflict(t: MacCheckTarget): Promise<CheckFailure | undefined> {
  if (!t.source) return undefined;
  const nics = await nicsOfVm(t.source.client, t.copyId);
  if (!nics || nics.length === 0) return undefined;
  const found = await conflictsIn(t.c, t.key, t.cluster.id, nics, t.copyId);
  if (!found) return undefined;
  const names = [...new Set(found.conflicts.flatMap((x) => x.holders.map((h) => h.vmName)))];
  return {
    property: "clone",
    reason:
      `clone: a plain import keeps the MAC addresses of VM ${t.vmName} (those of the source in engine ${t.source.url}), and MAC pool "${found.pool.name}" ` +
      `of cluster ${t.cluster.name} already holds ${found.conflicts.length === 1 ? "one of them" : "some of them"} and allows no duplicates: ${describe(found.conflicts)}. ` +
      `The engine would refuse the import. ${fixes(found.pool.name, names, true)}`,
  };
}

/** The engine's duplicate-MAC refusal of an import (AppErrors ACTION_TYPE_FAILED_CANNOT_ADD_IFACE_DUE_TO_MAC_DUPLICATES). */
export function isMacDuplicatesRefusal(engineText: string): boolean {
  return /would create duplicates in target MAC pool/i.test(engineText);
}

/** The NIC names of that refusal ("Problematic NICs are \tnic1,\n\tnic2", at most five then "..."). */
export function refusedNics(engineText: string): string[] {
  const m = /Problematic NICs are([\s\S]*?)\]?$/.exec(engineText);
  if (!m) return [];
  return m[1]
    .split(",")
    .map((s) => s.trim().replace(/\]$/, ""))
    .filter((s) => s && s !== "...");
}

/** The apply-time error for the engine's refusal: the VM, its NICs and MACs (and holders when readable), and the fix. */
export async function macRefusal(t: MacCheckTarget, engineText: string): Promise<ArgError> {
  const nicNames = refusedNics(engineText);
  let detail = `NIC${nicNames.length === 1 ? "" : "s"} ${nicNames.join(", ") || "(not named)"}`;
  let pool: string | undefined;
  let names: string[] = [];
  try {
    const nics = t.source ? await nicsOfVm(t.source.client, t.copyId) : undefined;
    const named = nics?.filter((n) => nicNames.includes(n.name));
    if (named && named.length) {
      const found = await conflictsIn(t.c, t.key, t.cluster.id, named, t.copyId);
      if (found) {
        pool = found.pool.name;
        names = [...new Set(found.conflicts.flatMap((x) => x.holders.map((h) => h.vmName)))];
        detail = describe(found.conflicts);
      } else {
        detail = named.map((n) => `${n.mac} (${n.name})`).join(", ");
      }
    } else {
      const p = await poolOf(t.c, t.key, t.cluster.id).catch(() => undefined);
      pool = p?.name;
      detail += ` (their MACs are those VM ${t.vmName} had when it was exported; the engine does not show a copy's NICs)`;
    }
  } catch {
    // the explanation stays with what the engine said
  }
  return new ArgError(
    "clone",
    `clone: the engine refused the plain import of VM ${t.vmName} into cluster ${t.cluster.name}: it keeps the VM's MAC addresses, and ` +
      `${pool ? `MAC pool "${pool}"` : "the cluster's MAC pool"} already holds them and allows no duplicates: ${detail}. ${fixes(pool, names, !!t.source)} (engine: ${engineText})`,
  );
}
