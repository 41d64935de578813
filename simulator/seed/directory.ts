// Seed step: the AAA directory (users, groups, authz domains). An inventory that lists none keeps the fixed defaults,
// which the services fall back to (state.users / state.groups / state.authzDomains stay unset).
import { DEFAULT_GROUPS, DEFAULT_USERS } from "../model/inventory";
import { SeedContext, uuid } from "./context";

export function seedDirectory(ctx: SeedContext): void {
  const { inv, state } = ctx;
  if (inv.users.length) {
    state.users = DEFAULT_USERS.map((u) => ({ ...u }));
    for (const [i, u] of inv.users.entries()) {
      if (state.users.some((x) => x.userName === u.userName)) throw new Error(`invalid inventory: users[${i}].userName: duplicate user '${u.userName}'`);
      const [login, domain] = u.userName.split("@");
      state.users.push({ id: u.id ?? uuid(), userName: u.userName, principal: u.principal ?? login, domain: u.domain ?? domain, firstName: u.firstName });
    }
  }
  if (inv.groups.length) {
    state.groups = DEFAULT_GROUPS.map((g) => ({ ...g }));
    for (const [i, g] of inv.groups.entries()) {
      if (state.groups.some((x) => x.name === g.name && x.domain === g.domain)) throw new Error(`invalid inventory: groups[${i}].name: duplicate group '${g.name}'`);
      state.groups.push({ id: g.id ?? uuid(), name: g.name, domain: g.domain });
    }
  }
  // authz domains besides internal-authz (GET /domains: services/domains.ts)
  if (inv.authzDomains.length) state.authzDomains = [...inv.authzDomains];
}
