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

/** The preview/apply error of a CPU profile the target cluster does not have: names the field and lists the cluster's profiles. */
export function unknownCpuProfile(cluster: string, name: string, profiles: Array<{ name: string }>): string {
  const names = profiles.map((p) => p.name);
  return `cpuProfile: cluster ${cluster} has no CPU profile "${name}". Its CPU profiles: ${names.length ? names.map((n) => JSON.stringify(n)).join(", ") : "(none)"}.`;
}
