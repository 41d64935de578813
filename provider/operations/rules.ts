/**
 * Rules more than one resource kind applies alike (an export batch and an import batch, a VM import and a V2V import):
 * kept here so that resource kinds never import each other.
 */

/** Mixed CPU architectures in a batch, named VM by VM; undefined when fine. */
export function mixedArchitectures(archs: Array<{ name: string; arch?: string }>): string | undefined {
  const set = new Set(archs.map((a) => a.arch ?? "undefined"));
  if (set.size <= 1) return undefined;
  return archs.map((a) => `${a.name} (${a.arch ?? "undefined"})`).join(", ");
}

/** A batch argument (`{ id, members }`) as the export and import resources take it. */
export interface Batch {
  id: string;
  members: string[];
}

/** Verdicts per listing (the cached listing array) and batch: every member's check asks the same question. */
const batchVerdicts = new WeakMap<object, Map<string, string | undefined>>();

/**
 * The failures of `name`'s `batch` against a listing: `name` missing from the members, or members of mixed CPU
 * architectures (`archOf` reads one entity's). The architecture verdict is computed once per listing and batch, so
 * a batch of N members checked by N resources costs O(N), not O(N^2).
 */
export function batchFailures<T extends { name: string }>(
  batch: Batch,
  name: string,
  listing: T[],
  archOf: (x: T) => string | undefined,
): Array<{ property: string; reason: string }> {
  const out: Array<{ property: string; reason: string }> = [];
  if (!batch.members.includes(name)) out.push({ property: "batch.members", reason: `batch.members: must include this VM (${name})` });
  let perListing = batchVerdicts.get(listing);
  if (!perListing) batchVerdicts.set(listing, (perListing = new Map()));
  const key = JSON.stringify([batch.id, batch.members]);
  if (!perListing.has(key)) {
    const byName = new Map<string, T>();
    for (const x of listing) if (!byName.has(x.name)) byName.set(x.name, x);
    const archs = batch.members.flatMap((m) => {
      const x = byName.get(m);
      return x ? [{ name: m, arch: archOf(x) }] : [];
    });
    perListing.set(key, mixedArchitectures(archs));
  }
  const mixed = perListing.get(key);
  if (mixed) {
    out.push({
      property: "batch",
      reason: `batch: batch "${batch.id}" mixes CPU architectures: ${mixed}. One import batch must share one architecture; split it into one batch per architecture.`,
    });
  }
  return out;
}

/** The preview/apply error of a CPU profile the target cluster does not have: names the field and lists the cluster's profiles. */
export function unknownCpuProfile(cluster: string, name: string, profiles: Array<{ name: string }>): string {
  const names = profiles.map((p) => p.name);
  return `cpuProfile: cluster ${cluster} has no CPU profile "${name}". Its CPU profiles: ${names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "(none)"}.`;
}
