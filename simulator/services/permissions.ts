// Roles, users, groups and the permissions of VMs and templates (an export keeps none: the provider re-applies them).
import * as crypto from "node:crypto";
import { Ctx, Router } from "../router";
import { backend, EngineFaults } from "../engineFaults";
import { GroupRec, PermissionRec, TemplateRec, UserRec, VmRec } from "../model/types";
import { byIdOr404, list, notFound, one, requireBody } from "./common";
import { ref } from "../xml/xml";
import { Obj } from "../xml/write";
import { DEFAULT_GROUPS, DEFAULT_USERS } from "../model/inventory";
import { domainId } from "./domains";

/** The engine's predefined roles (fixed ids like the engine's, subset). */
export const ROLES = [
  { id: "00000000-0000-0000-0000-000000000001", name: "SuperUser", administrative: true },
  { id: "00000000-0000-0000-0001-000000000001", name: "UserRole", administrative: false },
  { id: "00000000-0000-0000-0001-000000000002", name: "PowerUserRole", administrative: false },
  { id: "def00006-0000-0000-0000-def000000006", name: "UserVmManager", administrative: false },
  { id: "def00008-0000-0000-0000-def000000008", name: "TemplateAdmin", administrative: true },
  { id: "def0000a-0000-0000-0000-def00000000b", name: "UserTemplateBasedVm", administrative: false },
  { id: "def0000c-0000-0000-0000-def00000000c", name: "VmCreator", administrative: false },
  { id: "def00011-0000-0000-0000-def000000011", name: "ClusterAdmin", administrative: true },
];

export function users(ctx: Ctx): UserRec[] {
  const st = ctx.engine.state;
  // the fixed directory (plus the inventory's `users`, seeded into the state)
  if (!st.users) st.users = DEFAULT_USERS.map((u) => ({ ...u }));
  return st.users;
}

export function groups(ctx: Ctx): GroupRec[] {
  const st = ctx.engine.state;
  if (!st.groups) st.groups = DEFAULT_GROUPS.map((g) => ({ ...g }));
  return st.groups;
}

function userXml(ctx: Ctx, u: UserRec): Obj {
  return {
    "@_href": ctx.w.href(`users/${u.id}`),
    "@_id": u.id,
    name: u.firstName ?? u.principal,
    link: ctx.w.rels(`users/${u.id}`, ["permissions", "roles", "tags"]),
    // restapi UserMapper: DirectoryEntryIdUtils.encode = DatatypeConverter.printHexBinary (upper-case hex)
    domain_entry_id: domainId(u.principal),
    namespace: "*",
    principal: u.principal,
    user_name: u.userName,
    domain: { "@_href": ctx.w.href(`domains/${domainId(u.domain)}`), "@_id": domainId(u.domain), name: u.domain },
  };
}

function groupXml(ctx: Ctx, g: GroupRec): Obj {
  return { "@_href": ctx.w.href(`groups/${g.id}`), "@_id": g.id, name: g.name, namespace: "*", domain: { name: g.domain } };
}

function roleXml(ctx: Ctx, r: (typeof ROLES)[number]): Obj {
  return { "@_href": ctx.w.href(`roles/${r.id}`), "@_id": r.id, name: r.name, description: "", link: ctx.w.rels(`roles/${r.id}`, ["permits"]), administrative: r.administrative, mutable: false };
}

function permXml(ctx: Ctx, owner: string, ownerId: string, p: PermissionRec): Obj {
  return {
    "@_href": ctx.w.href(`${owner}s/${ownerId}/permissions/${p.id}`),
    "@_id": p.id,
    role: ctx.w.link(`roles/${p.roleId}`, p.roleId),
    user: p.userId ? ctx.w.link(`users/${p.userId}`, p.userId) : undefined,
    group: p.groupId ? ctx.w.link(`groups/${p.groupId}`, p.groupId) : undefined,
    [owner]: ctx.w.link(`${owner}s/${ownerId}`, ownerId),
  };
}

export function register(r: Router): void {
  r.get("roles", (ctx) => list(ctx, "roles", "role", ROLES, (x) => roleXml(ctx, x)));
  r.get("roles/:id", (ctx) => one("role", roleXml(ctx, byIdOr404(ROLES, ctx.params.id))));
  r.get("users", (ctx) =>
    list(ctx, "users", "user", users(ctx), (u) => userXml(ctx, u), {
      usrname: (u: UserRec) => [u.userName, u.principal],
      name: (u) => u.firstName ?? u.principal,
      id: (u) => u.id,
    }),
  );
  r.get("users/:id", (ctx) => one("user", userXml(ctx, byIdOr404(users(ctx), ctx.params.id))));
  r.get("groups", (ctx) => list(ctx, "groups", "group", groups(ctx), (g) => groupXml(ctx, g), { name: (g: GroupRec) => g.name, id: (g) => g.id }));
  r.get("groups/:id", (ctx) => one("group", groupXml(ctx, byIdOr404(groups(ctx), ctx.params.id))));

  for (const owner of ["vm", "template"] as const) {
    const get = (ctx: Ctx): VmRec | TemplateRec => {
      const x = owner === "vm" ? ctx.engine.vm(ctx.params.id) : ctx.engine.template(ctx.params.id);
      if (!x) throw notFound();
      return x;
    };
    r.get(`${owner}s/:id/permissions`, (ctx) => {
      const x = get(ctx);
      return list(ctx, "permissions", "permission", x.permissions ?? [], (p) => permXml(ctx, owner, x.id, p));
    });
    r.get(`${owner}s/:id/permissions/:perm`, (ctx) => {
      const x = get(ctx);
      return one("permission", permXml(ctx, owner, x.id, byIdOr404(x.permissions ?? [], ctx.params.perm)));
    });
    r.post(`${owner}s/:id/permissions`, (ctx) => {
      const x = get(ctx);
      const n = requireBody(ctx, "permission", "add");
      const role = ref(n, "role");
      const user = ref(n, "user");
      const group = ref(n, "group");
      if (!role || (!role.id && !role.name) || ((!user || !user.id) && (!group || !group.id))) {
        throw EngineFaults.incomplete("Permission", ["role.id|name", "user|group.id"], "add");
      }
      const ro = ROLES.find((k) => k.id === role.id || k.name === role.name);
      if (!ro) throw EngineFaults.entityNotFound("Role", role.id ? `id=${role.id}` : `name=${role.name}`);
      if (user?.id && !users(ctx).some((u) => u.id === user.id)) throw EngineFaults.entityNotFound("User", `id=${user.id}`);
      if (group?.id && !groups(ctx).some((g) => g.id === group.id)) throw EngineFaults.entityNotFound("Group", `id=${group.id}`);
      x.permissions ??= [];
      if (x.permissions.some((p) => p.roleId === ro.id && p.userId === user?.id && p.groupId === group?.id)) {
        throw backend(409, "Cannot add Permission. Permission already exists.");
      }
      const p: PermissionRec = { id: crypto.randomUUID(), roleId: ro.id, userId: user?.id, groupId: group?.id };
      x.permissions.push(p);
      ctx.engine.markDirty();
      const content = permXml(ctx, owner, x.id, p);
      return { status: 201, root: "permission", content, headers: { Location: String(content["@_href"]) } };
    });
    r.delete(`${owner}s/:id/permissions/:perm`, (ctx) => {
      const x = get(ctx);
      const p = byIdOr404(x.permissions ?? [], ctx.params.perm);
      x.permissions = (x.permissions ?? []).filter((k) => k !== p);
      ctx.engine.markDirty();
      return { status: 200, root: "action", content: { status: "complete" } };
    });
  }
}
