import { newCorrelationId } from "../connection";
import { EngineHttp } from "../http";
import { HostStorage, StorageDomain } from "../types";
import { exact, searchName, encodeId } from "./util";

export class StorageDomainsService {
  constructor(private readonly http: EngineHttp) {}
  list(): Promise<StorageDomain[]> {
    return this.http.list("/storagedomains", "storage_domains", "storage_domain", StorageDomain);
  }
  get(id: string): Promise<StorageDomain | undefined> {
    return this.http.getOptional(`/storagedomains/${encodeId(id)}`, "storage_domain", StorageDomain);
  }
  async findByName(name: string): Promise<StorageDomain | undefined> {
    const found = await this.http.list("/storagedomains", "storage_domains", "storage_domain", StorageDomain, {
      search: searchName(name),
    });
    return exact(found, name);
  }
  /**
   * Import an existing (export) domain into this engine: `POST /storagedomains` with `<import>true</import>`,
   * the storage connection and a host that mounts it.
   */
  importExisting(opts: {
    name: string;
    type: string;
    storage: HostStorage;
    hostId: string;
    correlationId?: string;
  }): Promise<StorageDomain> {
    return this.http.add(
      "/storagedomains",
      "storage_domain",
      {
        name: opts.name,
        type: opts.type,
        import: true,
        host: { id: opts.hostId },
        storage: {
          type: opts.storage.type,
          address: opts.storage.address,
          path: opts.storage.path,
          nfs_version: opts.storage.nfs_version,
          mount_options: opts.storage.mount_options,
        },
      },
      StorageDomain,
      { correlationId: opts.correlationId ?? newCorrelationId() },
    );
  }
  /**
   * Remove a domain from this engine WITHOUT formatting it (`DELETE /storagedomains/{id}?host=..&format=false`),
   * so another engine can import it with its content.
   */
  removeKeepContent(id: string, hostName: string, correlationId?: string): Promise<boolean> {
    return this.http.remove(`/storagedomains/${encodeId(id)}`, {
      query: { host: hostName, format: "false", destroy: "false" },
      correlationId,
    });
  }
}
