/**
 * The read cache of the provider process: the one place where reads are shared between resources.
 *
 * Two kinds of sharing, never mixed:
 * - `cachedRead(key, ttlMs, fn)`: a short-lived cache for read-only lookups made by `check`/`diff` (a preview of
 *   hundreds of resources shares one `GET /vms` instead of one request per resource). Creates use it only for
 *   identity lookups (names/ids of storage domains, clusters, data centers: `reads.ts`), never for state that
 *   decides an action. `clearReadCache()` empties it (tests).
 * - Fresh reads, for create/update/delete: every caller gets the answer of a request sent after it asked (never an
 *   older answer), so a resource never decides on state older than its own call. Sharing comes from callers asking
 *   at about the same time: a request is sent `windowMs` after the first caller asked, and every caller of the same
 *   key (or of any key, for the keyed batcher) that asks before it is sent joins it.
 *   - `freshRead(http, key, fn)`: one request for one key (e.g. the VM listing of an export domain, the attached
 *     domains of a data center).
 *   - `KeyedBatcher`: many keys in one request (e.g. `GET /vms?search=name="a" or name="b"&follow=...`).
 */
import type { EngineHttp } from "../client/http";
import { EngineError } from "../client/errors";

/** The check-time cache (above): one promise per key for `ttlMs`; a failed read is forgotten at once. */
const readCache = new Map<string, { at: number; value: Promise<unknown> }>();
export function cachedRead<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = readCache.get(key);
  if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
  const value = fn();
  readCache.set(key, { at: now, value });
  value.catch(() => readCache.delete(key));
  return value;
}
export function clearReadCache(): void {
  readCache.clear();
}

export const SHARE_WINDOW_MS = 10;

interface Pending<T> {
  promise: Promise<T>;
}

const pendingReads = new WeakMap<EngineHttp, Map<string, Pending<unknown>>>();

/** A request for `key` sent after this call, shared with the callers of the same key within the window. */
export function freshRead<T>(http: EngineHttp, key: string, fn: () => Promise<T>, windowMs = SHARE_WINDOW_MS): Promise<T> {
  let m = pendingReads.get(http);
  if (!m) {
    m = new Map();
    pendingReads.set(http, m);
  }
  const hit = m.get(key);
  if (hit) return hit.promise as Promise<T>;
  const map = m;
  const promise = new Promise<T>((resolve, reject) => {
    setTimeout(() => {
      // from now on, new callers need a new request (this one is on its way)
      map.delete(key);
      fn().then(resolve, reject);
    }, windowMs);
  });
  m.set(key, { promise });
  return promise;
}

type Outcome<V> = { ok: true; values: V[] } | { ok: false; error: unknown };

/** An engine answer that blames the request (4xx, e.g. a search the engine cannot parse), not the engine. */
function requestRefused(e: unknown): boolean {
  return e instanceof EngineError && e.status >= 400 && e.status < 500;
}

/**
 * Loads many keys with one request per window (at most `maxKeys` per request).
 *
 * One bad key never fails the others: when the batched request is refused with a 4xx (one name the engine's search
 * cannot take fails the whole `name="a" or name="b"` search), each key of the batch is read again alone, so only
 * the bad key's callers get the error. Other failures (5xx after retries, connection errors, authentication) reach
 * every caller of the batch: they are not about one key.
 */
export class KeyedBatcher<V> {
  private pending?: { keys: Set<string>; promise: Promise<Map<string, Outcome<V>>> };
  /** Requests sent (batches and single-key retries). */
  requests = 0;
  /** Batches refused with a 4xx and read again key by key. */
  splits = 0;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V[]>>,
    private readonly windowMs = SHARE_WINDOW_MS,
    private readonly maxKeys = 40,
  ) {}

  /** Every value for `key` (e.g. all VMs named so), read by a request sent after this call. */
  async load(key: string): Promise<V[]> {
    if (!this.pending || this.pending.keys.size >= this.maxKeys) {
      const keys = new Set<string>();
      const promise = new Promise<Map<string, Outcome<V>>>((resolve, reject) => {
        setTimeout(() => {
          if (this.pending?.keys === keys) this.pending = undefined;
          this.run([...keys]).then(resolve, reject);
        }, this.windowMs);
      });
      this.pending = { keys, promise };
    }
    this.pending.keys.add(key);
    const o = (await this.pending.promise).get(key);
    if (!o) return [];
    if (!o.ok) throw o.error;
    return o.values;
  }

  private async run(keys: string[]): Promise<Map<string, Outcome<V>>> {
    const out = new Map<string, Outcome<V>>();
    try {
      this.requests++;
      const m = await this.fetch(keys);
      for (const k of keys) out.set(k, { ok: true, values: m.get(k) ?? [] });
      return out;
    } catch (e) {
      if (keys.length < 2 || !requestRefused(e)) throw e;
    }
    // the batch was refused: each key alone, so the engine's error lands on the key that caused it
    this.splits++;
    await Promise.all(
      keys.map(async (k) => {
        try {
          this.requests++;
          const m = await this.fetch([k]);
          out.set(k, { ok: true, values: m.get(k) ?? [] });
        } catch (error) {
          out.set(k, { ok: false, error });
        }
      }),
    );
    return out;
  }
}

const batchers = new WeakMap<EngineHttp, Map<string, KeyedBatcher<unknown>>>();

/** The engine's batcher named `name` (created by `make` at first use). */
export function batcher<V>(http: EngineHttp, name: string, make: () => KeyedBatcher<V>): KeyedBatcher<V> {
  let m = batchers.get(http);
  if (!m) {
    m = new Map();
    batchers.set(http, m);
  }
  let b = m.get(name);
  if (!b) {
    b = make() as KeyedBatcher<unknown>;
    m.set(name, b);
  }
  return b as KeyedBatcher<V>;
}
