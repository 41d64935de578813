/**
 * The naming and identity rules of a register from a data domain, shared by VmRegistration's check (which refuses
 * what breaks them) and the migration plan of a data-domain move (which shows their outcome per VM/template).
 * They follow the engine: ImportVmCommandBase / ImportVmTemplateFromConfigurationCommand (bll) refuse a name in
 * use in the target data center (VM_CANNOT_IMPORT_VM_NAME_EXISTS / VM_CANNOT_IMPORT_TEMPLATE_NAME_EXISTS) and an id
 * the engine already has (VM_CANNOT_IMPORT_VM_EXISTS / ..._TEMPLATE_EXISTS) unless the register is a clone (new id).
 */

/** The name the entity gets in the target: `newName`, else the name stored on the domain. */
export const registeredName = (a: { name: string; newName?: string }): string => a.newName ?? a.name;

/**
 * The entity already named `registeredName` in the target data center (names are unique per data center), if any:
 * one of `named` (entities of that name, any data center) in a cluster of the target data center, other than the
 * entity itself; a clone is a new entity, so any of them.
 */
export function nameTakenInTarget<T extends { id: string; cluster?: { id?: string } }>(
  named: T[],
  targetDcClusterIds: Set<string>,
  entityId: string,
  clone: boolean | undefined,
): T | undefined {
  return named.find((x) => x.cluster?.id && targetDcClusterIds.has(x.cluster.id) && (clone || x.id !== entityId));
}

/**
 * Whether the entity's id is in use in the target engine when it is registered (without `clone` the register keeps
 * the stored id). Within one engine the source itself has the id, and it leaves with the domain (the detach forgets
 * it): no conflict, unless some of its disks stay on other domains (the source then stays with them, keeping its
 * id). `adopt` takes an entity registered already as this one.
 */
export function idInUseAtRegister(p: {
  /** the target engine has an entity with this id now */
  idInTarget: boolean;
  /** judged on the source (the domain moves in this stack) or from the domain's unregistered listing */
  where: "source" | "unregistered";
  /** disks of the entity that stay on domains that do not move */
  notMoving: number;
  /** the domain comes from another engine */
  crossEngine: boolean;
  clone?: boolean;
  adopt?: boolean;
}): boolean {
  if (p.clone || !p.idInTarget || p.adopt) return false;
  const leaves = p.where === "source" && p.notMoving === 0 && !p.crossEngine;
  return !leaves;
}
