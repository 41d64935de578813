/**
 * The errors a user reads, shared by every layer that checks arguments (resources and operations): a check failure
 * names the argument (`property`), an `ArgError` is the same thing thrown during create/update, and `suggest`
 * offers close names ("did you mean ...?").
 */

export interface CheckFailure {
  property: string;
  reason: string;
}

/** A user-facing error that names the argument and the fix. */
export class ArgError extends Error {
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(message);
    this.name = "ArgError";
  }
}

/** Finds a name in a list ("did you mean ...?" help for typos). */
export function suggest(name: string, candidates: string[]): string {
  const lower = name.toLowerCase();
  const close = candidates.filter(
    (c) => c.toLowerCase() === lower || c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase()),
  );
  const list = (close.length ? close : candidates).slice(0, 8);
  return list.length ? ` Known: ${list.map((c) => JSON.stringify(c)).join(", ")}.` : "";
}
