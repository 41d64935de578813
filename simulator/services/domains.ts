// /domains (GET list, GET one): the engine's authz domains, the names a registration's `domain_mappings` map to.
//
// Followed (ovirt-engine, read, not copied):
// - restapi aaa/BackendDomainsResource (list: GetDomainList, one Directory per name with id
//   DirectoryEntryIdUtils.encode(name); no search, and `max` is not applied: mapCollection takes the whole list;
//   lookupDirectoryById: notFound() for an unknown id, ids compared with equals, so case-sensitive) and
//   aaa/BackendDomainResource.get (injectSearchLinks(addLinks(...), subCollections)).
// - restapi DirectoryEntryIdUtils.encode: DatatypeConverter.printHexBinary of the UTF-8 bytes, i.e. UPPER-case hex
//   (`internal-authz` -> 696E7465726E616C2D617574687A).
// - restapi DirectoryMapper (Directory -> Domain: name, id); AbstractBackendResource.injectSearchLinks /
//   LinkCreator.createSearchLink (`<link rel="users/search" href=".../users?search={query}"/>`).
// - bll GetDomainListQuery: the SSO's list of authz names (one per configured profile's authz extension), sorted.
// - API model DomainsService (list: follow, max) / DomainService (get), type Domain (name, users, groups).
import { Ctx, Router } from "../router";
import type { EngineState } from "../model/types";
import { notFound } from "./common";
import { Obj } from "../xml/write";

/** The authz domain every engine has (engine-setup's `internal` profile). */
export const INTERNAL_AUTHZ = "internal-authz";

/** DirectoryEntryIdUtils.encode: upper-case hex of the name's UTF-8 bytes. */
export function domainId(name: string): string {
  return Buffer.from(name, "utf8").toString("hex").toUpperCase();
}

/** GetDomainListQuery: the engine's authz domain names, sorted (internal-authz plus the inventory's `authzDomains`). */
export function authzDomains(st: EngineState): string[] {
  return [...new Set([INTERNAL_AUTHZ, ...(st.authzDomains ?? [])])].sort();
}

function render(ctx: Ctx, name: string): Obj {
  const id = domainId(name);
  const p = `domains/${id}`;
  return {
    "@_href": ctx.w.href(p),
    "@_id": id,
    name,
    // addLinks (sub-collections users, groups), then injectSearchLinks for the same sub-collections
    link: [...ctx.w.rels(p, ["users", "groups"]), ...["users", "groups"].map((r) => ({ "@_href": `${ctx.w.href(`${p}/${r}`)}?search={query}`, "@_rel": `${r}/search` }))],
  };
}

export function register(r: Router): void {
  r.get("domains", (ctx) => ({ status: 200, root: "domains", content: { domain: authzDomains(ctx.engine.state).map((n) => render(ctx, n)) } }));
  r.get("domains/:id", (ctx) => {
    const name = authzDomains(ctx.engine.state).find((n) => domainId(n) === ctx.params.id);
    if (!name) throw notFound();
    return { status: 200, root: "domain", content: render(ctx, name) };
  });
}
