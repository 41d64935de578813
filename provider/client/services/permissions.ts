import { EngineHttp } from "../http";
import { Group, Permission, Role, User } from "../types";
import { encodeId } from "./util";

/** Roles, users, groups, and the permissions of one VM or template. */
export class PermissionsService {
  constructor(private readonly http: EngineHttp) {}
  roles(): Promise<Role[]> {
    return this.http.list("/roles", "roles", "role", Role);
  }
  async role(name: string): Promise<Role | undefined> {
    return (await this.roles()).find((r) => r.name === name);
  }
  /** A user by user name (`jdoe@example.com` or `jdoe@internal-authz`); exact match on user_name or principal. */
  async user(userName: string): Promise<User | undefined> {
    const base = userName.split("@")[0];
    const users = await this.http.list("/users", "users", "user", User, { search: `usrname=${base}*` });
    return (
      users.find((u) => u.user_name === userName) ??
      // a login profile name (user@internal) for its authz domain (user@internal-authz)
      users.find((u) => u.user_name === `${userName}-authz`) ??
      users.find((u) => u.principal === userName) ??
      users.find((u) => !userName.includes("@") && u.user_name?.split("@")[0] === userName)
    );
  }
  async group(name: string): Promise<Group | undefined> {
    const groups = await this.http.list("/groups", "groups", "group", Group, { search: `name="${name}"` });
    return groups.find((g) => g.name === name);
  }
  list(kind: "vm" | "template", id: string): Promise<Permission[]> {
    return this.http.list(`/${kind}s/${encodeId(id)}/permissions`, "permissions", "permission", Permission);
  }
  add(kind: "vm" | "template", id: string, p: { roleId: string; userId?: string; groupId?: string }, correlationId?: string) {
    return this.http.add(
      `/${kind}s/${encodeId(id)}/permissions`,
      "permission",
      { role: { id: p.roleId }, user: p.userId ? { id: p.userId } : undefined, group: p.groupId ? { id: p.groupId } : undefined },
      Permission,
      { correlationId },
    );
  }
  remove(kind: "vm" | "template", id: string, permissionId: string): Promise<boolean> {
    return this.http.remove(`/${kind}s/${encodeId(id)}/permissions/${encodeId(permissionId)}`);
  }
}
