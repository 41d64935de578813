/** Shared helpers for the collection services. */

/**
 * One search value, quoted the way the engine's search parser reads it (ovirt-engine searchbackend: `SyntaxChecker`
 * and `SqlInjectionChecker.enforceEscapeCharacters`):
 *
 * - a double quote opens and closes a value and there is no escape for it inside one, so a `"` in the value cannot
 *   be sent; the parser also refuses `'` and `;` anywhere in the query (`DISALLOWED_CHARS`). Each of these becomes
 *   the wildcard `*`: the query is broader and the caller filters exactly on its side (every caller does);
 * - `\` is sent as `\\`: the engine passes `\\` through to its LIKE pattern, where it stands for one backslash
 *   (a lone `\` would escape the next character of the pattern);
 * - a value ending in `\` is refused by the engine (`SearchEngineIllegalCharacterException`, the LIKE escape cannot
 *   end a pattern): `*` is appended (broader; exact filter on our side);
 * - `*` stays a wildcard (the engine has no escape for it); `_` and `%` are escaped by the engine itself.
 *
 * `opts.prefix`: match values starting with `value` (appends an unescaped `*`).
 */
export function searchValue(value: string, opts: { prefix?: boolean } = {}): string {
  let v = value.replace(/["';]/g, "*").replace(/\\/g, "\\\\");
  if (opts.prefix || v.endsWith("\\")) v += "*";
  return `"${v}"`;
}

/** `field="value"` with `value` quoted by `searchValue` (names of VMs, templates, clusters, hosts, users, ...). */
export function searchEq(field: string, value: string, opts: { prefix?: boolean } = {}): string {
  return `${field}=${searchValue(value, opts)}`;
}

/** `name="..."`: the engine search for an entity name (always filter the answer with `exact`). */
export function searchName(name: string): string {
  return searchEq("name", name);
}

/** Several names in one search (`name="a" or name="b"`), each quoted by `searchValue`. */
export function searchNames(names: string[]): string {
  return names.map(searchName).join(" or ");
}

/** Exact (case-sensitive) name match: the engine's search is a case-insensitive LIKE with `*` wildcards. */
export function exact<T extends { name?: string }>(items: T[], name: string): T | undefined {
  return items.find((i) => i.name === name);
}

export const encodeId = (id: string) => encodeURIComponent(id);
