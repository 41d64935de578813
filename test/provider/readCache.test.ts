// The provider's fresh reads (provider/operations/readCache.ts): every caller gets the answer of a request sent after
// it asked (a resource never decides on state older than its own call), and callers that ask while a request is in
// flight share ONE follow-up request instead of sending one each when it returns (a 200-VM `pulumi up` asks for the
// export domain's listing hundreds of times).
import * as assert from "node:assert/strict";
import { freshRead, KeyedBatcher, recentRead, SHARE_WINDOW_MS } from "../../provider/operations/readCache";

// the window a first caller waits for others (a request is on its way only after it): the sleeps below outlast it
const W = SHARE_WINDOW_MS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake engine read: each request records when it was sent and answers its sequence number after `ms`. */
function slowRead(ms: number) {
  const sent: number[] = [];
  const done: number[] = [];
  return {
    sent,
    done,
    fn: async () => {
      const seq = sent.push(Date.now());
      await sleep(ms);
      done[seq - 1] = Date.now();
      return seq;
    },
  };
}

describe("fresh reads: one request in flight, the next one gathers", () => {
  // freshRead keys its state by the connection object: any object stands in for one here
  const http = (): any => ({});

  it("callers asking while a request is in flight share one follow-up request, sent after they asked", async () => {
    const h = http();
    const r = slowRead(W + 150);
    const first = freshRead(h, "listing", r.fn);
    await sleep(W + 50); // the first request is on its way now
    const asked: number[] = [];
    const later = Array.from({ length: 20 }, () => {
      asked.push(Date.now());
      return freshRead(h, "listing", r.fn);
    });
    assert.equal(await first, 1);
    const answers = await Promise.all(later);
    assert.deepEqual([...new Set(answers)], [2], "every later caller got the answer of the second request");
    assert.equal(r.sent.length, 2, `requests sent: ${r.sent.length}`);
    assert.ok(r.sent[1] >= Math.max(...asked), "the shared request was sent after the last of its callers asked");
  });

  it("never answers a caller with a request sent before it asked", async () => {
    const h = http();
    const r = slowRead(W + 100);
    const a = freshRead(h, "k", r.fn);
    await sleep(W + 30);
    const t = Date.now();
    const b = freshRead(h, "k", r.fn);
    const [va, vb] = await Promise.all([a, b]);
    assert.notEqual(va, vb);
    assert.ok(r.sent[vb - 1] >= t);
  });

  it("different keys do not wait for each other", async () => {
    const h = http();
    const r = slowRead(100);
    await Promise.all([freshRead(h, "a", r.fn), freshRead(h, "b", r.fn)]);
    assert.equal(r.sent.length, 2);
    assert.ok(r.sent[1] < r.done[0], "the second key's request was sent while the first was in flight");
  });

  it("a failed request fails its callers only; the next callers get a new request", async () => {
    const h = http();
    let n = 0;
    const fn = async () => {
      n++;
      await sleep(20);
      if (n === 1) throw new Error("engine answered 503");
      return n;
    };
    await assert.rejects(freshRead(h, "k", fn), /503/);
    assert.equal(await freshRead(h, "k", fn), 2);
  });
});

describe("KeyedBatcher: one batch in flight, the next one gathers", () => {
  it("keys asked while a batch is in flight go together in the next batch", async () => {
    const batches: string[][] = [];
    const b = new KeyedBatcher<string>(async (keys) => {
      batches.push(keys);
      await sleep(W + 120);
      return new Map(keys.map((k) => [k, [`${k}@${batches.length}`]]));
    });
    const first = b.load("a");
    await sleep(W + 40);
    const later = ["b", "c", "d", "e"].map((k) => b.load(k));
    assert.deepEqual(await first, ["a@1"]);
    assert.deepEqual(await Promise.all(later), [["b@2"], ["c@2"], ["d@2"], ["e@2"]]);
    assert.deepEqual(batches, [["a"], ["b", "c", "d", "e"]]);
  });

  it("a full batch is sent at once, even while another is in flight", async () => {
    const batches: string[][] = [];
    let firstDone = 0;
    let fullSent = 0;
    const b = new KeyedBatcher<string>(
      async (keys) => {
        batches.push(keys);
        if (keys.length === 3) fullSent = Date.now();
        await sleep(200);
        if (keys[0] === "x") firstDone = Date.now();
        return new Map(keys.map((k) => [k, [k]]));
      },
      10,
      3,
    );
    const first = b.load("x");
    await sleep(30);
    await Promise.all(["a", "b", "c"].map((k) => b.load(k)));
    await first;
    assert.deepEqual(batches, [["x"], ["a", "b", "c"]]);
    assert.ok(fullSent > 0 && fullSent < firstDone, "the full batch was sent while the first was still in flight");
  });
});

// recentRead: an answer that lets the caller go on may be a recent one (the engine judges again at the POST); an
// answer that would stop it never is.
describe("recent reads: only an answer that lets the caller go on is reused", () => {
  const http = (): any => ({});

  it("a recent answer the caller accepts is reused: no request", async () => {
    const h = http();
    const r = slowRead(10);
    assert.equal(await freshRead(h, "att", r.fn), 1);
    assert.equal(await recentRead(h, "att", r.fn, (v) => v >= 1), 1);
    assert.equal(r.sent.length, 1);
  });

  it("an answer the caller would stop on is read again, fresh, before it decides", async () => {
    const h = http();
    const r = slowRead(10);
    await freshRead(h, "att", r.fn);
    const t = Date.now();
    // the first answer (1) is "not active yet": the caller gets a request sent after it asked
    assert.equal(await recentRead(h, "att", r.fn, (v) => v >= 2), 2);
    assert.equal(r.sent.length, 2);
    assert.ok(r.sent[1] >= t);
  });

  it("a request on its way is a recent answer too: callers wait for it instead of sending their own", async () => {
    const h = http();
    const r = slowRead(W + 80);
    const first = freshRead(h, "att", r.fn);
    await sleep(W + 20); // on its way now
    const later = await Promise.all([1, 2, 3].map(() => recentRead(h, "att", r.fn, (v) => v >= 1)));
    assert.deepEqual(later, [1, 1, 1]);
    assert.equal(await first, 1);
    assert.equal(r.sent.length, 1);
    // and when its answer would stop them, they read afresh (one shared request)
    const r2 = slowRead(W + 80);
    const again = freshRead(h, "k2", r2.fn);
    await sleep(W + 20);
    assert.deepEqual(await Promise.all([1, 2].map(() => recentRead(h, "k2", r2.fn, (v) => v >= 2))), [2, 2]);
    await again;
    assert.equal(r2.sent.length, 2);
  });

  it("an answer older than maxAgeMs is not reused, however acceptable", async () => {
    const h = http();
    const r = slowRead(5);
    await freshRead(h, "att", r.fn);
    await sleep(60);
    assert.equal(await recentRead(h, "att", r.fn, () => true, 50), 2);
    assert.equal(r.sent.length, 2);
  });

  it("the newest answer wins, and a failed read leaves the last good one", async () => {
    const h = http();
    let n = 0;
    await freshRead(h, "k", async () => ++n); // 1
    await freshRead(h, "k", async () => ++n); // 2
    await assert.rejects(freshRead(h, "k", async () => { throw new Error("engine down"); }), /engine down/);
    assert.equal(await recentRead(h, "k", async () => 99, (v) => v === 2), 2);
  });
});
