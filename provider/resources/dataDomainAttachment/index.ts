/**
 * DataDomainAttachment: a DATA storage domain attached and active in a data center, moved there from another data
 * center of the same engine or of another engine (the zero-copy path of oVirt 4.4+; docs/design.md "Data-domain
 * move"). What lives on the domain leaves the source with it and waits in the target as unregistered VMs and
 * templates (VmRegistration registers them).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { diffKeys, jsonEqual, normalizeArgs } from "../common";
import { DataDomainAttachmentArgs } from "./args";
import { check } from "./check";
import { IN_TRANSIT, create, del, read, update } from "./run";

async function diff(_id: string, olds: any, news: any): Promise<dynamic.DiffResult> {
  const o = normalizeArgs(DataDomainAttachmentArgs, olds);
  const n = normalizeArgs(DataDomainAttachmentArgs, news);
  const keys = ["engine", "storageDomain", "dataCenter", "moveFrom", "entities", "allowSplitVms", "host", "storageConnection", "returnOnDelete", "timeoutMinutes"];
  const changed = keys.filter((k) => !jsonEqual(o[k], n[k]));
  // moving it elsewhere = undo this move (destroy) and make the new one; a password change is no engine work
  const replaces = diffKeys(o, n, ["storageDomain", "dataCenter"]).concat(
    jsonEqual(o.moveFrom?.dataCenter, n.moveFrom?.dataCenter) && jsonEqual(o.engine?.url, n.engine?.url) ? [] : ["moveFrom"],
  );
  // a refresh found the domain out of dataCenter, on its way back to takenFrom (run.ts IN_TRANSIT): the update brings it back
  const away = IN_TRANSIT.includes(olds?.status);
  return { changes: changed.length > 0 || away, replaces, deleteBeforeReplace: replaces.length > 0 };
}

export * from "./args";
export const dataDomainAttachmentProvider: dynamic.ResourceProvider = { check, diff, create, read, update, delete: del };
