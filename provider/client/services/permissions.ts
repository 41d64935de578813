import { EngineHttp } from "../http";
import { AmbiguousLookupError } from "../errors";
import { Group, Permission, Role, User } from "../types";
import { encodeId, searchEq, searchNames } from "./util";

/** `login@domain` of a user as the engine writes it (`user_name`), else principal@domain. */
export function userLabel(u: User): string {
  return u.user_name ?? (u.domain?.name ? `${u.principal ?? u.name ?? u.id}@${u.domain.name}` : (u.principal ?? u.name ?? u.id));
}

/** `name@domain` of a group (its domain is what tells two groups of one name apart). */
export function groupLabel(g: Group): string {
  return g.domain?.name ? `${g.name}@${g.domain.name}` : g.name;
}

/** The login part of a user name: everything before the last `@` (the engine splits `usrname` there too). */
function loginOf(userName: string): string {
  const i = userName.lastIndexOf("@");
  return i < 0 ? userName : userName.slice(0, i);
}

/**
 * The first non-empty tier decides: one match is the answer, several are an `AmbiguousLookupError` listing them.
 */
function decide<T>(what: "user" | "group", given: string, tiers: T[][], label: (t: T) => string): T | undefined {
  for (const tier of tiers) {
    const uniq = [...new Map(tier.map((t) => [label(t), t])).values()];
    if (uniq.length === 1) return uniq[0];
    if (uniq.length > 1) throw new AmbiguousLookupError(what, given, uniq.map(label).sort());
  }
  return undefined;
}

/** Roles, users, groups, and the permissions of one VM or template. */
export class PermissionsService {
  constructor(private readonly http: EngineHttp) {}
  roles(): Promise<Role[]> {
    return this.http.list("/roles", "roles", "role", Role);
  }
  async role(name: string): Promise<Role | undefined> {
    return (await this.roles()).find((r) => r.name === name);
  }
  /**
   * Users whose login starts like `userName`'s (`usrname="jdoe*"`: without `@` the engine compares the login
   * column only; with `@` it would compare the authz domain too, and a login profile such as `internal` is not
   * the authz name `internal-authz`). The caller matches exactly.
   */
  usersLike(userName: string): Promise<User[]> {
    const login = userName.split("@")[0];
    return this.http.list("/users", "users", "user", User, { search: searchEq("usrname", login, { prefix: true }) });
  }
  /**
   * A user by user name, matched exactly:
   * 1. `user_name` equal to the name (`jdoe@example.com-authz`, `jdoe@example.com`);
   * 2. a login profile name for its authz domain (`alice@internal` -> `alice@internal-authz`);
   * 3. the principal (`jdoe@EXAMPLE.COM` of a UPN login);
   * 4. a bare login (`jdoe`, no `@`): every user with that login, in any domain.
   * The first rule that matches decides; several users there (e.g. `jdoe` in two domains) raise
   * `AmbiguousLookupError` listing each as `login@domain`. Answers undefined when nothing matches.
   */
  async user(userName: string): Promise<User | undefined> {
    const users = await this.usersLike(userName);
    const tiers: User[][] = [
      users.filter((u) => u.user_name === userName),
      users.filter((u) => u.user_name === `${userName}-authz`),
      users.filter((u) => u.principal === userName),
    ];
    if (!userName.includes("@")) {
      tiers.push(users.filter((u) => (u.user_name !== undefined && loginOf(u.user_name) === userName) || (u.user_name === undefined && u.principal === userName)));
    }
    try {
      return decide("user", userName, tiers, userLabel);
    } catch (e) {
      if (e instanceof AmbiguousLookupError) throw new AmbiguousLookupError("user", userName, e.matches, this.http.url);
      throw e;
    }
  }
  /**
   * A group by exact name; `name@domain` picks one domain. Several groups of that name in different domains raise
   * `AmbiguousLookupError` listing each as `name@domain`.
   */
  async group(name: string): Promise<Group | undefined> {
    const at = name.lastIndexOf("@");
    const bare = at > 0 ? name.slice(0, at) : undefined;
    const domain = at > 0 ? name.slice(at + 1) : undefined;
    const groups = await this.http.list("/groups", "groups", "group", Group, { search: searchNames(bare ? [name, bare] : [name]) });
    const tiers: Group[][] = [groups.filter((g) => g.name === name)];
    if (bare) tiers.push(groups.filter((g) => g.name === bare && g.domain?.name === domain));
    try {
      return decide("group", name, tiers, groupLabel);
    } catch (e) {
      if (e instanceof AmbiguousLookupError) throw new AmbiguousLookupError("group", name, e.matches, this.http.url);
      throw e;
    }
  }
  /** Groups named `name` in any domain (for error messages). */
  async groupsNamed(name: string): Promise<Group[]> {
    const groups = await this.http.list("/groups", "groups", "group", Group, { search: searchNames([name]) });
    return groups.filter((g) => g.name === name);
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
