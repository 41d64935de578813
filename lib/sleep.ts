/**
 * Resolves after `ms` milliseconds: the one `sleep` of the code (retry backoff, polling intervals, settle waits),
 * in lib/ so that provider and simulator code can both use it.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
