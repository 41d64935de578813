// POST /externalvmimports: the engine's external VM import (V2V) for VMware (vpx://), with the KVM (qemu+ssh://)
// and Xen (xen+ssh://) URL forms parsed and validated. This entry holds the route, the hook and the order of the
// steps; each step is a file of this folder:
// - request.ts: the request read and checked against the engine's rules (required fields, credentials, URL, target
//   cluster and domain, name, CPU profile, space, drivers ISO, disk format);
// - proxyHost.ts: the proxy host chosen and its virt-v2v checked (over SSH with the engine's key, or its flag);
// - vcenter.ts: the source VM looked up in the vCenter over SOAP (GetVmsFromExternalProvider), its power watched;
// - importedVm.ts: the VM row made from the source; conversion.ts: the job on the proxy host and its failure path;
// - answer.ts: what is kept of the import and the 201 answer.
//
// Followed (ovirt-engine, read, not copied): restapi BackendExternalVmImportsResource.add, bll
// ImportVmFromExternalUrlCommand and ImportVmFromExternalProviderCommand (cited in each step). The API model's
// ExternalVmImportsService has only `add`: no listing.
//
// Differences from a real engine (documented in simulator/README.md):
// - virt-v2v is not run: the conversion is simulated (the job copies at the domain's bandwidth and creates the disks
//   with the source's sizes, sparse or preallocated);
// - during the conversion the source's power state is watched over SOAP: a VM powered on fails the job like
//   virt-v2v ("libvirt domain ... is running"), and the half-made VM is removed (the engine's endWithFailure);
// - KVM/Xen: no libvirt source exists here, so after the URL checks the source lookup fails as "VM not found".
import { Ctx, Reply, Router } from "../../router";
import { backend } from "../../engineFaults";
import { JobRec } from "../../model/types";
import { Obj } from "../../xml/write";
import { checkDiskLayout, parseImportRequest, requireFreeVmName } from "./request";
import { chooseProxyHost, requireVirtV2v } from "./proxyHost";
import { lookUpSource } from "./vcenter";
import { importedVm } from "./importedVm";
import { startConversion, compensateImport } from "./conversion";
import { ImportRec, echoAnswer, importRecord, renderImport } from "./answer";

export { engineSshKeyFiles, engineSshPublicKey } from "./proxyHost";
export { compensateImport } from "./conversion";

async function post(ctx: Ctx): Promise<Reply> {
  const req = parseImportRequest(ctx);
  const proxy = chooseProxyHost(ctx, req);
  const targetName = requireFreeVmName(ctx, req);
  await requireVirtV2v(ctx, proxy);
  const src = await lookUpSource(req); // GetVmsFromExternalProvider
  const bytes = src.disks.reduce((s, d) => s + d.capacityBytes, 0);
  const layout = checkDiskLayout(ctx, req, bytes);
  const e = ctx.engine;
  const vm = importedVm(e, req, src, targetName, layout);
  const job = startConversion(ctx, req, proxy, vm, src, layout.sparse ? Math.ceil(bytes / 4) : bytes);
  e.state.externalVmImports.push(importRecord(req, proxy, layout.sparse, vm.id, job.id) as unknown as Record<string, unknown>);
  e.markDirty();
  return echoAnswer(ctx, req, proxy, vm.id);
}

export interface ExternalVmImportHook {
  create(ctx: Ctx): Promise<Reply> | Reply;
  /** Optional: XML of one stored import (kept for hooks; the engine has no GET of imports, so nothing calls it) */
  render?(ctx: Ctx, rec: Record<string, unknown>): Obj;
  /** Optional: compensation for a job of kind external_import failed at a restart */
  compensate?(ctx: { engine: Ctx["engine"] }, job: JobRec, reason: string): void;
}

let hook: ExternalVmImportHook | undefined;

/** Installs the V2V implementation (called by the V2V module at load time). */
export function setExternalVmImportHook(h: ExternalVmImportHook | undefined): void {
  hook = h;
}

export function getExternalVmImportHook(): ExternalVmImportHook | undefined {
  return hook;
}

export function register(r: Router): void {
  r.post("externalvmimports", async (ctx) => {
    if (!hook) throw backend(400, "Cannot import VM. Importing VMs from external providers is not supported by this simulator build.");
    return hook.create(ctx);
  });
  // no GET: the API model's ExternalVmImportsService has only Add (GET /externalvmimports -> 405, /{id} -> 404)
}

setExternalVmImportHook({
  create: (ctx) => post(ctx),
  render: (ctx, rec) => renderImport(ctx, rec as unknown as ImportRec),
  compensate: (c, job, reason) => compensateImport(c.engine, job, reason),
});
