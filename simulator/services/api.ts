// GET /ovirt-engine/api: the API root with product info, special objects, summary and collection links.
import { Router } from "../router";

const COLLECTIONS = [
  "clusters", "datacenters", "disks", "events", "externalvmimports", "hosts", "jobs", "storagedomains", "templates", "vms",
  "networks", "users", "groups", "roles", "tags", "permissions", "macpools", "vnicprofiles", "diskprofiles", "cpuprofiles",
  "storageconnections", "operatingsystems", "domains", "bookmarks", "options", "imagetransfers",
];
const SEARCHABLE = new Set(["clusters", "datacenters", "disks", "events", "hosts", "jobs", "storagedomains", "templates", "vms", "users", "groups"]);

export function register(r: Router): void {
  r.get("", (ctx) => {
    const e = ctx.engine;
    const links: Record<string, string>[] = [];
    for (const c of COLLECTIONS) {
      links.push({ "@_href": ctx.w.href(c), "@_rel": c });
      if (SEARCHABLE.has(c)) links.push({ "@_href": `${ctx.w.href(c)}?search={query}`, "@_rel": `${c}/search` });
    }
    const activeHosts = e.state.hosts.filter((h) => h.status === "up").length;
    const activeSds = e.state.storageDomains.filter((s) => s.status === "active").length;
    const activeVms = e.state.vms.filter((v) => v.status === "up").length;
    return {
      status: 200,
      root: "api",
      content: {
        link: links,
        engine_backup: {},
        product_info: {
          instance_id: e.state.engineId,
          name: "oVirt Engine",
          vendor: "ovirt.org",
          version: { build: 6, full_version: "4.5.6-1.el9", major: 4, minor: 5, revision: 0 },
        },
        special_objects: {
          blank_template: { "@_href": ctx.w.href("templates/00000000-0000-0000-0000-000000000000"), "@_id": "00000000-0000-0000-0000-000000000000" },
          root_tag: { "@_href": ctx.w.href("tags/00000000-0000-0000-0000-000000000000"), "@_id": "00000000-0000-0000-0000-000000000000" },
        },
        summary: {
          hosts: { active: activeHosts, total: e.state.hosts.length },
          storage_domains: { active: activeSds, total: e.state.storageDomains.length },
          users: { active: 1, total: 1 },
          vms: { active: activeVms, total: e.state.vms.length },
        },
        time: new Date().toISOString().replace(/Z$/, "+00:00"),
        authenticated_user: { "@_href": ctx.w.href("users/00000000-0000-0000-0000-000000000001"), "@_id": "00000000-0000-0000-0000-000000000001" },
        effective_user: { "@_href": ctx.w.href("users/00000000-0000-0000-0000-000000000001"), "@_id": "00000000-0000-0000-0000-000000000001" },
      },
    };
  });
}
