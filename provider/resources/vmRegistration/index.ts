/**
 * VmRegistration: one unregistered VM or template of a data domain registered into a cluster of the engine the
 * domain is attached in (docs/design.md "Data-domain move").
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { diffKeys, jsonEqual, normalizeArgs } from "../common";
import { VmRegistrationArgs } from "./args";
import { check } from "./check";
import { create, del, read, update } from "./run";

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(VmRegistrationArgs, olds);
  const n = normalizeArgs(VmRegistrationArgs, news);
  const keys = ["engine", "storageDomain", "kind", "name", "cluster", "allowPartialImport", "reassignBadMacs", "clone", "newName", "registrationConfiguration", "vnicProfileMappings", "expectFrom", "adopt", "timeoutMinutes"];
  const changed = keys.filter((k) => !jsonEqual(o[k], n[k]));
  // what the register decided cannot change in place; the replace's delete removes nothing (run.ts del) and its
  // create finds the entity registered by this resource already
  const replaces = diffKeys(o, n, ["storageDomain", "kind", "name", "cluster", "clone", "newName"]).concat(jsonEqual(o.engine?.url, n.engine?.url) ? [] : ["engine"]);
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

export * from "./args";
export const vmRegistrationProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
