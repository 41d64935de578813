// POST /externalvmimports: the request read and checked against the engine's rules, in the engine's order (which
// error a request with several faults gets depends on it).
//
// Followed (ovirt-engine, read, not copied): restapi BackendExternalVmImportsResource.add (validateParameters: the
// required fields in its order; the cpu_profile is read by id only), bll ImportVmFromExternalUrlCommand (username and
// password required for non-KVM sources; getDiskVolumeFormat: file domain -> raw, block domain -> cow when sparse, raw
// when preallocated), ExternalVmProviderImporter.getAutoDetectedVolumeType (no <sparse> -> sparse),
// ImportVmFromExternalProviderCommand.validate (domain and cluster in one pool; domain active, else
// ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL; no storage-type restriction: block domains are valid targets; a
// drivers ISO for a non-KVM source must be on an active ISO domain of the pool -> ERROR_CANNOT_FIND_ISO_IMAGE_PATH,
// and the simulator has no ISO domains), CpuProfileHelper.setAndValidateCpuProfile.
import { Ctx } from "../../router";
import { EngineFaults, backend } from "../../engineFaults";
import { ClusterRec, DataCenterRec, StorageDomainRec } from "../../model/types";
import { Ref, XNode, bool, child, ref, str } from "../../xml/xml";
import { requireBody, resolveCluster, resolveSd } from "../common";
import { parseLibvirtSshUrl, providerOfUrl } from "../../../lib/v2vUrl";

export const OP = "Cannot import VM";

/** StorageType.isFileDomain() (the others the simulator models, iscsi, are block domains). */
const FILE_TYPES = ["nfs", "posixfs", "glusterfs", "localfs"];

/** A request that passed the checks that need no proxy host and no source. */
export interface ImportRequest {
  /** the request body as received (echoed in the answer without the password) */
  n: XNode;
  /** the source VM's name */
  name: string;
  /** vmware | kvm | xen (lower-case) */
  prov: string;
  url: string;
  username: string;
  password: string;
  cl: ClusterRec;
  sd: StorageDomainRec;
  dc: DataCenterRec;
}

/** Required fields, provider, credentials, URL form, then the target cluster and storage domain. */
export function parseImportRequest(ctx: Ctx): ImportRequest {
  const n = requireBody(ctx, "external_vm_import", "add");
  const name = str(n, "name");
  const provider = str(n, "provider");
  const url = str(n, "url");
  const clRef = ref(n, "cluster");
  const sdRef = ref(n, "storage_domain");
  // BackendExternalVmImportsResource.add: validateParameters(provider, url, name, cluster.id|name, storageDomain.id|name)
  const missing = [
    !provider && "provider",
    !url && "url",
    !name && "name",
    !(clRef?.id || clRef?.name) && "cluster.id|name",
    !(sdRef?.id || sdRef?.name) && "storageDomain.id|name",
  ].filter(Boolean) as string[];
  if (missing.length) throw EngineFaults.incomplete("ExternalVmImport", missing, "add");
  const prov = provider!.toLowerCase();
  if (!["vmware", "kvm", "xen"].includes(prov)) throw EngineFaults.invalidEnum(provider!, "ExternalVmProviderType");
  const username = str(n, "username") ?? "";
  const password = str(n, "password") ?? "";
  if (prov !== "kvm") {
    if (!username.trim()) throw backend(400, `${OP}. No username specified.`);
    if (!password.trim()) throw backend(400, `${OP}. No password specified.`);
  }
  checkUrlOfProvider(url!, prov);
  const { cl, sd, dc } = targetOf(ctx, clRef, sdRef);
  return { n, name: name!, prov, url: url!, username, password, cl, sd, dc };
}

/** The URL's form must parse and belong to the provider (an ova:// URL goes with kvm). */
function checkUrlOfProvider(url: string, prov: string): void {
  let urlProvider: string;
  try {
    urlProvider = providerOfUrl(url);
    if (urlProvider === "kvm" || urlProvider === "xen") parseLibvirtSshUrl(url);
  } catch (e) {
    throw backend(400, `${OP}. ${(e as Error).message}`);
  }
  if (urlProvider !== prov && !(urlProvider === "ova" && prov === "kvm")) {
    throw backend(400, `${OP}. The URL ${url} does not belong to provider ${prov}.`);
  }
}

/** Target cluster and data domain, in one data center, the domain active. */
function targetOf(ctx: Ctx, clRef: Ref | undefined, sdRef: Ref | undefined): { cl: ClusterRec; sd: StorageDomainRec; dc: DataCenterRec } {
  const cl = resolveCluster(ctx, clRef)!;
  const sd = resolveSd(ctx, sdRef)!;
  const dc = ctx.engine.dc(cl.dataCenterId);
  if (!dc) throw EngineFaults.clusterNotValid("import", "VM");
  if (sd.type !== "data") throw EngineFaults.storageTypeIllegal("import", "VM");
  if (sd.dataCenterId !== dc.id) throw backend(400, `${OP}. Storage Domain and Cluster must be in the same Storage Pool.`);
  // ImportVmFromExternalProviderCommand.validate: ACTION_TYPE_FAILED_STORAGE_DOMAIN_STATUS_ILLEGAL (no status in it);
  // no storage-type check: block domains are valid V2V targets (formats below)
  if (sd.status !== "active") throw EngineFaults.storageInaccessible("import", "VM");
  return { cl, sd, dc };
}

/** The imported VM's name (`vm/name`, else the source's), free in the target data center. */
export function requireFreeVmName(ctx: Ctx, req: ImportRequest): string {
  const targetName = str(child(req.n, "vm"), "name") ?? req.name;
  const dcVmNames = ctx.engine.state.vms.filter((v) => ctx.engine.dcOfCluster(v.clusterId)?.id === req.dc.id).map((v) => v.name);
  if (dcVmNames.includes(targetName)) throw EngineFaults.nameUsed("import", "VM");
  return targetName;
}

/** How the converted disks are laid out, decided once the source's size is known. */
export interface DiskLayout {
  sparse: boolean;
  format: "raw" | "cow";
  cpuProfileId?: string;
}

/** The checks that need the source's size: CPU profile, free space, drivers ISO; then the disks' format. */
export function checkDiskLayout(ctx: Ctx, req: ImportRequest, sourceBytes: number): DiskLayout {
  const { n, cl, sd } = req;
  // no <sparse>: ExternalVmProviderImporter.getAutoDetectedVolumeType -> Sparse
  const sparse = bool(n, "sparse") ?? true;

  // CPU profile (BackendExternalVmImportsResource reads the id only; CpuProfileHelper.setAndValidateCpuProfile):
  // must exist and belong to the target cluster; the same texts as on UpdateVm
  const cpr = ref(n, "cpu_profile");
  let cpuProfileId: string | undefined;
  if (cpr?.id) {
    const p = ctx.engine.cpuProfile(cpr.id);
    if (!p) throw backend(400, `${OP}. CPU profile with id \${cpuProfileId} doesn't exist.`);
    if (p.clusterId !== cl.id) throw backend(400, `${OP}. CPU Profile doesn't match provided Cluster.`);
    cpuProfileId = p.id;
  }

  const needed = sparse ? Math.ceil(sourceBytes / 10) : sourceBytes;
  const free = sd.sizeBytes - ctx.engine.usedBytes(sd.id);
  if (needed > free) throw EngineFaults.diskSpaceLow("import", "VM", sd.name);

  // drivers ISO (restapi: drivers_iso id = the ISO's file name; no domain id is passed, so the engine looks for it on
  // an active ISO domain of the pool): none exists in the simulator -> ERROR_CANNOT_FIND_ISO_IMAGE_PATH. (The engine
  // ignores the ISO for KVM sources; only VMware sources get this far here.)
  const driversIso = child(n, "drivers_iso");
  const isoName = (driversIso?.["@_id"] as string | undefined) ?? str(driversIso, "id");
  if (isoName) throw EngineFaults.isoImagePathNotFound();

  // ImportVmFromExternalUrlCommand.getDiskVolumeFormat: file domain -> RAW; block domain -> COW if sparse, else RAW
  const fileDomain = FILE_TYPES.includes(sd.storageType);
  const format: "raw" | "cow" = fileDomain || !sparse ? "raw" : "cow";
  return { sparse, format, cpuProfileId };
}
