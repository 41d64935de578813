import { z } from "zod";
import { EngineHttp } from "../http";

/**
 * An authz domain of the engine (`GET /domains`, API model `DomainsService` / type `Domain`): the name a user's
 * `login@domain` ends with and a registration's `domain_mappings` entry maps to. The engine lists one per configured
 * authz extension (`internal-authz` always; an LDAP profile's too), with the upper-case hex of the name as its id
 * (restapi `BackendDomainsResource`, `DirectoryEntryIdUtils.encode`).
 */
export const AuthzDomain = z.object({ id: z.string(), name: z.string() });
export type AuthzDomain = z.infer<typeof AuthzDomain>;

/** The engine's authz domains (the whole list: the engine applies no `max` or search to it). */
export function listAuthzDomains(http: EngineHttp): Promise<AuthzDomain[]> {
  return http.list("/domains", "domains", "domain", AuthzDomain);
}

