/** Shared helpers for the collection services. */

/** Engine search value, quoted (names may contain spaces and special characters). */
export function searchName(name: string): string {
  return `name="${name.replace(/"/g, '\\"')}"`;
}

/** Exact (case-sensitive) name match: the engine's search is a case-insensitive LIKE with `*` wildcards. */
export function exact<T extends { name?: string }>(items: T[], name: string): T | undefined {
  return items.find((i) => i.name === name);
}

export const encodeId = (id: string) => encodeURIComponent(id);
