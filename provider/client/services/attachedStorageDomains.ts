import { EngineHttp } from "../http";
import { StorageDomain } from "../types";
import { encodeId } from "./util";

/** `/datacenters/{dc}/storagedomains`: the domains as seen from one data center (with per-DC status). */
export class AttachedStorageDomainsService {
  constructor(private readonly http: EngineHttp) {}
  private base(dcId: string) {
    return `/datacenters/${encodeId(dcId)}/storagedomains`;
  }
  list(dcId: string): Promise<StorageDomain[]> {
    return this.http.list(this.base(dcId), "storage_domains", "storage_domain", StorageDomain);
  }
  get(dcId: string, sdId: string): Promise<StorageDomain | undefined> {
    return this.http.getOptional(`${this.base(dcId)}/${encodeId(sdId)}`, "storage_domain", StorageDomain);
  }
  attach(dcId: string, sdId: string, correlationId?: string): Promise<StorageDomain> {
    return this.http.add(this.base(dcId), "storage_domain", { id: sdId }, StorageDomain, { correlationId });
  }
  activate(dcId: string, sdId: string, correlationId?: string) {
    return this.http.action(`${this.base(dcId)}/${encodeId(sdId)}`, "activate", {}, { correlationId });
  }
  deactivate(dcId: string, sdId: string, opts: { force?: boolean; correlationId?: string } = {}) {
    return this.http.action(
      `${this.base(dcId)}/${encodeId(sdId)}`,
      "deactivate",
      opts.force ? { force: true } : {},
      { correlationId: opts.correlationId },
    );
  }
  /** Detach (`DELETE /datacenters/{dc}/storagedomains/{sd}`); false when it was not attached. */
  detach(dcId: string, sdId: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`${this.base(dcId)}/${encodeId(sdId)}`, { correlationId });
  }
}
