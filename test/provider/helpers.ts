/**
 * Provider-specific test helpers, on the one simulator harness (test/support/simulator.ts: startTestSimulator,
 * withSimulator, freshSimulator, diskReport, shas): the options the provider suites start it with, and provider
 * resources driven directly (check, then create), as the Pulumi engine does.
 */
import type { TestSimOptions } from "../support/simulator";

/** A password distinctive enough that a test can assert it never shows in an error or a log. */
export const PASSWORD = "s3cret-Pa55word!";

/**
 * The simulator options of the provider suites: the engine's own storage-domain transition pace (the resources
 * must wait through the transitional statuses; the harness's default is instantaneous) and fast disk copies.
 * Spread first: `startTestSimulator({ ...PROVIDER_SIM, inventory })`.
 */
export const PROVIDER_SIM: TestSimOptions = { password: PASSWORD, bandwidthMiBps: 2000, storageTransitionMs: 150 };

export function providerOf(kind: string): any {
  const { getProvider } = require("../../provider");
  return getProvider(kind);
}

/** Runs a create through the provider after a check, like the engine does. */
export async function checkAndCreate(kind: string, inputs: any): Promise<{ id: string; outs: any }> {
  const p = providerOf(kind);
  const c = await p.check({}, inputs);
  if (c.failures?.length) throw new Error(`check failed: ${JSON.stringify(c.failures)}`);
  return p.create(c.inputs);
}
