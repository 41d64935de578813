/**
 * Permissions (roles granted to users or groups) on an imported VM or template: one module for every resource.
 *
 * - `checkPermissions` (preview, reads only): each role exists, each user and group exists exactly once. A failure
 *   names the field (`permissions[i].user`), what the engine has, and the fix.
 * - `applyPermissions` (create/update): adds the missing grants and removes the grants it added earlier that are no
 *   longer wanted. Ownership: a grant that already exists (identical role and user/group, directly on the entity)
 *   is reused but NOT claimed; only grants this module added are reported as `ours`, and only those are ever
 *   removed. A grant someone else added is never removed, even when it is no longer in `permissions`.
 *
 * Users are matched exactly (`PermissionsService.user`): `jdoe@example.com-authz`, a login profile name
 * `alice@internal` for its authz domain `alice@internal-authz`, or a bare login that exists in one domain only.
 */
import type { OvirtClient, Permission, Role } from "../client";
import { AmbiguousLookupError, EngineError } from "../client/errors";
import { groupLabel, userLabel } from "../client/services/permissions";
import type { Progress } from "../progress";
import { ArgError, CheckFailure, suggest } from "./errors";
import { cachedRead } from "./readCache";

/** One wanted grant: exactly one of `user` or `group`, and a role name. */
export interface PermissionSpec {
  user?: string;
  group?: string;
  role: string;
}

/** The grants matching `wanted` on the entity, and those of them this module added (the only ones it may remove). */
export interface AppliedPermissions {
  /** Every grant matching a wanted permission (added by us or found there). */
  ids: string[];
  /** The grants we added (now or in an earlier run, from `previouslyOurs`): the only ones ever removed later. */
  ours: string[];
}

interface Resolved {
  index: number;
  spec: PermissionSpec;
  roleId: string;
  userId?: string;
  groupId?: string;
  /** `UserVmManager to alice@internal-authz` */
  label: string;
}

const USER_FORM = "user names are written as the engine lists them under Administration > Users: login@authz-domain, e.g. alice@internal-authz (a login profile name such as alice@internal works too)";

function roleMissing(i: number, role: string, roles: Role[], engineUrl: string): CheckFailure {
  return {
    property: `permissions[${i}].role`,
    reason:
      `permissions[${i}].role: role "${role}" does not exist in engine ${engineUrl}.${suggest(role, roles.map((r) => r.name))}` +
      ` Use one of the engine's role names (Administration > Configure > Roles), spelled exactly.`,
  };
}

/** Resolves role, user and group of each wanted grant: the resolved grants, or failures naming the field and the fix. */
async function resolve(
  c: OvirtClient,
  wanted: PermissionSpec[],
  roles: Role[],
  lookup: <T>(key: string, fn: () => Promise<T>) => Promise<T>,
): Promise<{ resolved: Resolved[]; failures: CheckFailure[] }> {
  const resolved: Resolved[] = [];
  const failures: CheckFailure[] = [];
  for (const [i, p] of wanted.entries()) {
    if (!p || typeof p.role !== "string") continue; // unknown during preview
    const role = roles.find((r) => r.name === p.role);
    if (!role) failures.push(roleMissing(i, p.role, roles, c.url));
    let userId: string | undefined;
    let groupId: string | undefined;
    let who: string | undefined;
    if (typeof p.user === "string") {
      const field = `permissions[${i}].user`;
      try {
        const u = await lookup(`user|${p.user}`, () => c.permissions.user(p.user!));
        if (u) {
          userId = u.id;
          who = userLabel(u);
        } else {
          const login = p.user.split("@")[0];
          const similar = (await lookup(`users|${login}`, () => c.permissions.usersLike(p.user!)))
            .filter((x) => (x.user_name ?? "").split("@")[0].toLowerCase() === login.toLowerCase())
            .map(userLabel);
          failures.push({
            property: field,
            reason:
              `${field}: user "${p.user}" does not exist in engine ${c.url}` +
              (similar.length ? ` (users found with that login: ${similar.join(", ")})` : " (no user with that login either)") +
              `; ${USER_FORM}. A user who never logged in must first be added to the engine (Administration > Users > Add).`,
          });
        }
      } catch (e) {
        if (!(e instanceof AmbiguousLookupError)) throw e;
        failures.push({ property: field, reason: `${field}: ${e.message}` });
      }
    } else if (typeof p.group === "string") {
      const field = `permissions[${i}].group`;
      try {
        const g = await lookup(`group|${p.group}`, () => c.permissions.group(p.group!));
        if (g) {
          groupId = g.id;
          who = groupLabel(g);
        } else {
          failures.push({
            property: field,
            reason:
              `${field}: group "${p.group}" does not exist in engine ${c.url}; write the group name exactly as listed under ` +
              `Administration > Users > Groups (name, or name@authz-domain when several domains have it), and add the ` +
              `group to the engine first if it is missing.`,
          });
        }
      } catch (e) {
        if (!(e instanceof AmbiguousLookupError)) throw e;
        failures.push({ property: field, reason: `${field}: ${e.message}` });
      }
    }
    if (role && who && (userId || groupId)) {
      resolved.push({ index: i, spec: p, roleId: role.id, userId, groupId, label: `${p.role} to ${who}` });
    }
  }
  return { resolved, failures };
}

/**
 * Preview validation of `permissions` (reads only, cached 10 s per engine under `cacheKey`, e.g. `url|user`):
 * every role exists, every user and group exists exactly and unambiguously. Pushes one failure per problem to `fs`.
 */
export async function checkPermissions(
  c: OvirtClient,
  cacheKey: string,
  permissions: PermissionSpec[] | undefined,
  fs: CheckFailure[],
): Promise<void> {
  if (!permissions || permissions.length === 0) return;
  const roles = await cachedRead(`${cacheKey}|roles`, 10_000, () => c.permissions.roles());
  const { failures } = await resolve(c, permissions, roles, (key, fn) => cachedRead(`${cacheKey}|perm|${key}`, 10_000, fn));
  fs.push(...failures);
}

/** A grant set directly on this entity (not one inherited from its cluster, data center or the system). */
function isDirect(p: Permission, kind: "vm" | "template", entityId: string): boolean {
  const on = kind === "vm" ? p.vm : p.template;
  if (on?.id) return on.id === entityId;
  return !(p.vm?.id || p.template?.id || p.cluster?.id || p.data_center?.id);
}

function sameGrant(p: Permission, r: Resolved): boolean {
  return p.role?.id === r.roleId && (r.userId ? p.user?.id === r.userId : p.group?.id === r.groupId);
}

/**
 * Makes the grants on `/{vms|templates}/{entityId}/permissions` match `wanted`:
 * - a wanted grant that exists there already is reused; it is ours only if we added it (`previouslyOurs`);
 * - a missing one is added (and is ours);
 * - a grant in `previouslyOurs` that is no longer wanted is removed; a grant we did not add is never removed.
 * Every role, user and group is resolved before anything is written (an unknown one is an `ArgError` naming
 * `permissions[i].<field>`). Store `ours` in the state and pass it back as `previouslyOurs` next time.
 */
export async function applyPermissions(
  c: OvirtClient,
  kind: "vm" | "template",
  entityId: string,
  wanted: PermissionSpec[] | undefined,
  previouslyOurs: string[],
  progress: Progress,
): Promise<AppliedPermissions> {
  const want = wanted ?? [];
  if (want.length === 0 && previouslyOurs.length === 0) return { ids: [], ours: [] };
  const roles = want.length ? await c.permissions.roles() : [];
  const { resolved, failures } = await resolve(c, want, roles, (_key, fn) => fn());
  if (failures.length) throw new ArgError(failures[0].property, failures.map((f) => f.reason).join("\n"));

  let existing = await c.permissions.list(kind, entityId);
  const before = new Set(previouslyOurs);
  const ids: string[] = [];
  const ours: string[] = [];
  const keep = new Set<string>();
  const done = new Set<string>();
  for (const r of resolved) {
    const key = `${r.roleId}|${r.userId ?? ""}|${r.groupId ?? ""}`;
    if (done.has(key)) continue; // the same grant listed twice
    done.add(key);
    let matches = existing.filter((p) => isDirect(p, kind, entityId) && sameGrant(p, r));
    if (matches.length === 0) {
      try {
        const added = await c.permissions.add(kind, entityId, { roleId: r.roleId, userId: r.userId, groupId: r.groupId });
        progress.info(`granted ${r.label} on ${kind} ${entityId}`);
        ids.push(added.id);
        ours.push(added.id);
        keep.add(added.id);
        continue;
      } catch (e) {
        // added by someone else since we listed ("Permission already exists"): theirs, reuse it unclaimed
        if (!(e instanceof EngineError && e.status === 409)) throw e;
        existing = await c.permissions.list(kind, entityId);
        matches = existing.filter((p) => isDirect(p, kind, entityId) && sameGrant(p, r));
        if (matches.length === 0) throw e;
      }
    }
    const mine = matches.find((p) => before.has(p.id));
    const pick = mine ?? matches[0];
    ids.push(pick.id);
    keep.add(pick.id);
    if (mine) ours.push(mine.id);
  }
  for (const old of previouslyOurs) {
    if (keep.has(old)) continue;
    const p = existing.find((e) => e.id === old);
    if (!p) continue; // removed already (by us earlier or by someone else)
    if (await c.permissions.remove(kind, entityId, old)) progress.info(`removed permission ${old} (added by this stack, no longer wanted) from ${kind} ${entityId}`);
  }
  return { ids, ours };
}
