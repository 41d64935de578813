// What the engine keeps of an external import (never the password) and what POST /externalvmimports answers.
//
// Followed (ovirt-engine, read, not copied): restapi BackendExternalVmImportsResource.add (the answer is the request
// as received, password cleared, vm/cluster/storage_domain as id links, host as a link only when the request named
// one; Response.ok(...).status(CREATED): no Location header).
import { Ctx, Reply } from "../../router";
import { HostRec } from "../../model/types";
import { Obj } from "../../xml/write";
import { ImportRequest } from "./request";

/** What is kept of an import (never the password). */
export interface ImportRec {
  id: string;
  name: string;
  provider: string;
  url: string;
  username?: string;
  clusterId: string;
  storageDomainId: string;
  hostId: string;
  sparse: boolean;
  vmId: string;
  jobId: string;
}

export function importRecord(req: ImportRequest, proxy: HostRec, sparse: boolean, vmId: string, jobId: string): ImportRec {
  return {
    id: vmId,
    name: req.name,
    provider: req.prov,
    url: req.url,
    username: req.username || undefined,
    clusterId: req.cl.id,
    storageDomainId: req.sd.id,
    hostId: proxy.id,
    sparse,
    vmId,
    jobId,
  };
}

/** XML of one stored import (for hooks: the engine has no GET of imports). */
export function renderImport(ctx: Ctx, r: ImportRec): Obj {
  return {
    name: r.name,
    provider: r.provider,
    url: r.url,
    username: r.username,
    cluster: ctx.w.link(`clusters/${r.clusterId}`, r.clusterId),
    storage_domain: ctx.w.link(`storagedomains/${r.storageDomainId}`, r.storageDomainId),
    host: ctx.w.link(`hosts/${r.hostId}`, r.hostId),
    sparse: r.sparse,
    vm: ctx.w.link(`vms/${r.vmId}`, r.vmId),
  };
}

/** The request as received, password cleared, with the links the engine adds: 201 without Location. */
export function echoAnswer(ctx: Ctx, req: ImportRequest, proxy: HostRec, vmId: string): Reply {
  const { n, cl, sd } = req;
  const answer: Obj = {};
  for (const [k, v] of Object.entries(n)) if (k !== "password") answer[k] = v as Obj[string];
  answer.vm = ctx.w.link(`vms/${vmId}`, vmId);
  answer.cluster = ctx.w.link(`clusters/${cl.id}`, cl.id);
  answer.storage_domain = ctx.w.link(`storagedomains/${sd.id}`, sd.id);
  if (n.host !== undefined) answer.host = ctx.w.link(`hosts/${proxy.id}`, proxy.id);
  return { status: 201, root: "external_vm_import", content: answer };
}
