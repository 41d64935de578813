/**
 * VmRegistration: one unregistered VM or template of a data domain registered into a cluster of the engine the
 * domain is attached in (docs/design.md "Data-domain move").
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { clientFor, containsUnknown, diffKeys, jsonEqual, normalizeArgs, userInputs, PROGRESS_URN_KEY } from "../common";
import { progressFor } from "../../progress";
import { clusterById, engineKey } from "../../operations/reads";
import { VmRegistrationArgs, VmRegistrationOutputs } from "./args";
import { check } from "./check";
import { create, del, read, update } from "./run";

/**
 * The registration this state records is gone from its data center: the entity is no longer in the engine (its domain
 * was detached: a `pulumi destroy` killed after the domain left) or is registered in another data center (the
 * domain went back to its source and was registered there by DataDomainAttachment's destroy). Nothing in the inputs
 * changed, so without this the next `pulumi up` would move the domain again and leave its VMs unregistered.
 * Undefined when the registration stands (or the engine cannot tell now: the create then judges by the engine).
 */
async function registrationGone(id: string, olds: any): Promise<string | undefined> {
  const p = userInputs(olds) as VmRegistrationOutputs;
  if (!p.engine || !p.clusterId) return undefined;
  try {
    const c = clientFor(p.engine);
    const e = p.kind === "template" ? await c.templates.get(id) : await c.vms.get(id);
    const what = `${p.kind === "template" ? "template" : "VM"} ${p.registeredName ?? p.name}`;
    if (!e) return `${what} is no longer registered in engine ${p.engine.url}`;
    if (e.cluster?.id === p.clusterId) return undefined;
    const key = engineKey(p.engine);
    const [was, now] = await Promise.all([clusterById(c, key, p.clusterId), e.cluster?.id ? clusterById(c, key, e.cluster.id) : undefined]);
    const dcWas = was.found?.data_center?.id;
    const dcNow = now?.found?.data_center?.id;
    return dcWas && dcNow && dcWas !== dcNow ? `${what} is registered in another data center now (cluster ${now?.found?.name ?? e.cluster?.id})` : undefined;
  } catch {
    return undefined;
  }
}

async function diff(id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(VmRegistrationArgs, olds);
  const n = normalizeArgs(VmRegistrationArgs, news);
  const keys = ["engine", "storageDomain", "kind", "name", "cluster", "allowPartialImport", "reassignBadMacs", "clone", "newName", "registrationConfiguration", "vnicProfileMappings", "expectFrom", "adopt", "timeoutMinutes"];
  const changed = keys.filter((k) => !jsonEqual(o[k], n[k]));
  // what the register decided cannot change in place; the replace's delete removes nothing (run.ts del) and its
  // create finds the entity registered by this resource already
  const replaces = diffKeys(o, n, ["storageDomain", "kind", "name", "cluster", "clone", "newName"]).concat(jsonEqual(o.engine?.url, n.engine?.url) ? [] : ["engine"]);
  if (!replaces.length && !containsUnknown(news)) {
    const gone = await registrationGone(id, olds);
    // registered again (the replace's delete removes nothing), after the domain is back where this stack wants it
    if (gone) {
      progressFor(news[PROGRESS_URN_KEY] ?? olds[PROGRESS_URN_KEY], `${o.kind === "template" ? "template" : "VM"} ${o.name}`).info(`${gone}: it is registered again once its data domain is in place`);
      return { changes: true, replaces: ["name"], deleteBeforeReplace: true, stables: [] };
    }
  }
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
}

export * from "./args";
export const vmRegistrationProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
