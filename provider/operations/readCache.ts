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
 * - Recent reads, for create/update/delete where the engine judges again: `recentRead(http, key, fn, maxAgeMs,
 *   usable)` answers the newest fresh answer of `key` sent within `maxAgeMs` (or the one on its way) when `usable`
 *   accepts it, else a fresh read. Only for an answer that lets the caller go on (a domain is active, a copy is on
 *   the export domain) and whose going on the engine validates again when the action is submitted: a stale "go on" meets the engine's
 *   refusal, never a wrong change. An answer that would stop the caller is always read fresh before anyone fails on
 *   it, so no resource fails on an old answer.
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
  recentAnswers = new WeakMap();
}

/**
 * How long the first caller of a fresh read waits for others to join it. Pulumi starts the creates of a phase tens of
 * milliseconds apart (20 exports over about 0.4 s): with 10 ms few shared a request; 50 ms took a 20-VM move from
 * 174 to 149 requests and a 200-VM one from 6.1 to 4.9 per VM, its wall time unchanged (100 ms saved no more and
 * lengthened the 20-VM phase gap by 0.2 s).
 */
export const SHARE_WINDOW_MS = 50;
/**
 * The window of the reads that confirm an operation's end (the entity unlocked, the copy on the domain): jobs that
 * share a storage domain end within a second or two of each other, and a wider window lets their confirmations share
 * requests. 150 ms later is nothing next to a copy; the reads before a POST keep the short window (they are a chain).
 */
export const COMPLETION_WINDOW_MS = 150;

/**
 * The request a caller joins: sent at least `windowMs` after its first caller asked, and never while another
 * request of the same read (key, or batcher) is still on its way. Callers that ask while one is in flight cannot
 * use its answer (it was sent before they asked) and would each send their own the moment it returns: they gather
 * in the next one instead. So at most one request per read is in flight and one is gathering, however many
 * resources ask at once; the slower the engine answers, the more callers share each request. A full batch
 * (`full()`) goes at once.
 */
class Gathering<T> {
  private windowDone = false;
  private sent = false;
  readonly promise: Promise<T>;
  private go!: () => void;

  constructor(
    windowMs: number,
    private readonly mayGo: () => boolean,
    send: () => Promise<T>,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.go = () => {
        if (this.sent) return;
        this.sent = true;
        send().then(resolve, reject);
      };
    });
    setTimeout(() => {
      this.windowDone = true;
      this.poke();
    }, windowMs);
  }

  /** Sends when the window has passed and nothing of this read is in flight (or at once when `force`). */
  poke(force = false): void {
    if (!this.sent && (force || (this.windowDone && this.mayGo()))) this.go();
  }
}

interface FreshState {
  inFlight: number;
  next?: Gathering<unknown>;
  /** the newest request on its way, with when it was sent (`recentRead` may wait for it) */
  current?: { sentAt: number; answer: Promise<unknown> };
}

const pendingReads = new WeakMap<EngineHttp, Map<string, FreshState>>();

/** The newest successful fresh answer of each key, with when its request was sent (`recentRead`). */
let recentAnswers = new WeakMap<EngineHttp, Map<string, { sentAt: number; value: unknown }>>();

function remember(http: EngineHttp, key: string, sentAt: number, value: unknown): void {
  let m = recentAnswers.get(http);
  if (!m) {
    m = new Map();
    recentAnswers.set(http, m);
  }
  const had = m.get(key);
  if (!had || had.sentAt <= sentAt) m.set(key, { sentAt, value });
}

/** How old an answer `recentRead` may take: the span in which a phase's resources start (see the header). */
export const RECENT_MS = 5000;

/** The newest answer of `key` sent within `maxAgeMs`, when `usable` accepts it; else a fresh read (see the header). */
export async function recentRead<T>(
  http: EngineHttp,
  key: string,
  fn: () => Promise<T>,
  usable: (v: T) => boolean,
  maxAgeMs = RECENT_MS,
): Promise<T> {
  const r = recentAnswers.get(http)?.get(key);
  if (r && Date.now() - r.sentAt <= maxAgeMs && usable(r.value as T)) return r.value as T;
  // a request on its way (sent within maxAgeMs) is a recent answer too, once it arrives
  const f = pendingReads.get(http)?.get(key)?.current;
  if (f && Date.now() - f.sentAt <= maxAgeMs) {
    const v = await f.answer.then(
      (x) => ({ x }),
      () => undefined,
    );
    if (v && usable(v.x as T)) return v.x as T;
  }
  return freshRead(http, key, fn);
}

/** A request for `key` sent after this call, shared with every caller of the same key until it is sent (see `Gathering`). */
export function freshRead<T>(http: EngineHttp, key: string, fn: () => Promise<T>, windowMs = SHARE_WINDOW_MS): Promise<T> {
  let m = pendingReads.get(http);
  if (!m) {
    m = new Map();
    pendingReads.set(http, m);
  }
  let st = m.get(key);
  if (!st) m.set(key, (st = { inFlight: 0 }));
  if (st.next) return st.next.promise as Promise<T>;
  const state = st;
  const map = m;
  const g: Gathering<T> = new Gathering<T>(
    windowMs,
    () => state.inFlight === 0,
    () => {
      // from now on, new callers need a new request (this one is on its way)
      if (state.next === g) state.next = undefined;
      state.inFlight++;
      const sentAt = Date.now();
      const answer = Promise.resolve()
        .then(fn)
        .then((v) => (remember(http, key, sentAt, v), v));
      const mine = { sentAt, answer };
      state.current = mine;
      return answer.finally(() => {
        if (state.current === mine) state.current = undefined;
        state.inFlight--;
        if (state.next) state.next.poke();
        else if (state.inFlight === 0) map.delete(key);
      });
    },
  );
  st.next = g;
  return g.promise;
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
  private pending?: { keys: Set<string>; gathering: Gathering<Map<string, Outcome<V>>> };
  private inFlight = 0;
  /** Requests sent (batches and single-key retries). */
  requests = 0;
  /** Batches refused with a 4xx and read again key by key. */
  splits = 0;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<Map<string, V[]>>,
    private readonly windowMs = SHARE_WINDOW_MS,
    private readonly maxKeys = 40,
  ) {}

  /**
   * Every value for `key` (e.g. all VMs named so), read by a request sent after this call (see `Gathering`). The window
   * is the one of the caller that opens the batch (a later caller joins it as it is).
   */
  async load(key: string, windowMs = this.windowMs): Promise<V[]> {
    if (!this.pending || this.pending.keys.size >= this.maxKeys) {
      const keys = new Set<string>();
      const gathering: Gathering<Map<string, Outcome<V>>> = new Gathering(
        windowMs,
        () => this.inFlight === 0,
        () => {
          if (this.pending?.keys === keys) this.pending = undefined;
          this.inFlight++;
          return this.run([...keys]).finally(() => {
            this.inFlight--;
            this.pending?.gathering.poke();
          });
        },
      );
      this.pending = { keys, gathering };
    }
    const { keys, gathering } = this.pending;
    keys.add(key);
    // a full batch has nothing left to wait for
    if (keys.size >= this.maxKeys) gathering.poke(true);
    const o = (await gathering.promise).get(key);
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
