// Slow synchronous storage-domain commands (issue 11, item 8): with `storageOperationMs` the attach / activate /
// deactivate / detach request answers only when the engine's command is done (restapi performCreate / performAction /
// doAction run AttachStorageDomainToPoolCommand, ActivateStorageDomainCommand,
// DeactivateStorageDomainWithOvfUpdateCommand, DetachStorageDomainFromPoolCommand in the request), the domain shows
// the command's statuses to other requests meanwhile, and a client that drops the connection does not stop it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { Agent, request } from "undici";
import { arr, freshSimulator, TestSimulator } from "../support/simulator";
import { ids, Ids } from "./helpers";

const OP_MS = 1200;

/** Runs `call` while reading the DC-scoped status every 40 ms; answers the call's result, its duration and the statuses seen. */
async function watching<T>(t: TestSimulator, dc: string, sd: string, call: () => Promise<T>): Promise<{ result: T; ms: number; seen: string[] }> {
  const seen: string[] = [];
  let done = false;
  const watcher = (async () => {
    while (!done) {
      const r = await t.api("GET", `datacenters/${dc}/storagedomains/${sd}`);
      const st = r.status === 404 ? "gone" : String(r.xml.storage_domain.status);
      if (!done && seen[seen.length - 1] !== st) seen.push(st);
      await new Promise((res) => setTimeout(res, 40));
    }
  })();
  const t0 = Date.now();
  try {
    const result = await call();
    return { result, ms: Date.now() - t0, seen };
  } finally {
    done = true;
    await watcher;
  }
}

async function statusOf(t: TestSimulator, dc: string, sd: string): Promise<string> {
  const r = await t.api("GET", `datacenters/${dc}/storagedomains/${sd}`);
  return r.status === 404 ? "gone" : String(r.xml.storage_domain.status);
}

async function until(t: TestSimulator, dc: string, sd: string, want: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = await statusOf(t, dc, sd);
    if (st === want) return;
    if (Date.now() > end) throw new Error(`status ${want} not reached (last ${st})`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

const faultOf = (r: { xml: any }) => r.xml.fault ?? r.xml.action?.fault;

describe("simulator: slow synchronous storage-domain commands (storageOperationMs)", function () {
  this.timeout(120_000);
  // a new simulator for every test: each takes export1 to the status its command starts from (set-up steps below,
  // run with instantaneous commands, then the slow ones are back)
  freshSimulator({ storageOperationMs: OP_MS }, (t) => {
    let I: Ids;
    beforeEach(async () => {
      I = await ids(t());
    });
    const setUp = async (steps: Array<[string, string, string?]>) => {
      await t().admin("PUT", "storage-operation", { ms: 0 });
      for (const [method, p, body] of steps) {
        const r = await t().api(method, p, body);
        assert.ok(r.status === 200 || r.status === 201, `set-up ${method} ${p}: ${r.status} ${r.text}`);
      }
      await t().admin("PUT", "storage-operation", { ms: OP_MS });
    };
    const inMaintenance = (): Array<[string, string, string?]> => [["POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>"]];
    const unattached = (): Array<[string, string, string?]> => [...inMaintenance(), ["DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`]];
    const activeInTarget = (): Array<[string, string, string?]> => [...unattached(), ["POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`]];
    const maintenanceInTarget = (): Array<[string, string, string?]> => [...activeInTarget(), ["POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, "<action/>"]];

    it("deactivate blocks for the command (locked, then preparing_for_maintenance), answers in preparing_for_maintenance; other operations get 409 meanwhile", async () => {
      const other = new Promise<{ status: number; detail: string }>((resolve) => {
        // a detach sent while the command runs: the engine's exclusive lock on the domain
        setTimeout(async () => {
          const r = await t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`);
          resolve({ status: r.status, detail: faultOf(r)?.detail });
        }, OP_MS / 3);
      });
      const w = await watching(t(), I.dcSource, I.export1, () => t().api("POST", `datacenters/${I.dcSource}/storagedomains/${I.export1}/deactivate`, "<action/>"));
      assert.equal(w.result.status, 200, w.result.text);
      assert.equal(w.result.xml.action.status, "complete");
      assert.ok(w.ms >= OP_MS - 50, `answered after the command (${w.ms} ms)`);
      assert.ok(w.seen.includes("locked") && w.seen.includes("preparing_for_maintenance"), `statuses seen: ${w.seen.join(" -> ")}`);
      assert.ok(w.seen.indexOf("locked") < w.seen.indexOf("preparing_for_maintenance"), w.seen.join(" -> "));
      assert.ok(!w.seen.includes("maintenance"), `maintenance only after the answer: ${w.seen.join(" -> ")}`);
      const o = await other;
      assert.equal(o.status, 409);
      assert.equal(o.detail, "[Cannot detach Storage. Related operation is currently in progress. Please try again later.]");
      // storageTransitionMs is 0 here: the hosts report the domain gone at once
      assert.equal(await statusOf(t(), I.dcSource, I.export1), "maintenance");
    });

    it("detach blocks in detaching and answers when the domain left the data center", async () => {
      await setUp(inMaintenance());
      const w = await watching(t(), I.dcSource, I.export1, () => t().api("DELETE", `datacenters/${I.dcSource}/storagedomains/${I.export1}`));
      assert.equal(w.result.status, 200, w.result.text);
      assert.ok(w.ms >= OP_MS - 50, `${w.ms} ms`);
      assert.ok(w.seen.includes("detaching"), w.seen.join(" -> "));
      assert.equal(await statusOf(t(), I.dcSource, I.export1), "gone", "gone when the answer comes");
      assert.equal((await t().api("GET", `storagedomains/${I.export1}`)).xml.storage_domain.status, "unattached");
    });

    it("attach blocks through locked, maintenance, activating and answers 201 with the domain active", async () => {
      await setUp(unattached());
      const w = await watching(t(), I.dcTarget, I.export1, () => t().api("POST", `datacenters/${I.dcTarget}/storagedomains`, `<storage_domain id="${I.export1}"/>`));
      assert.equal(w.result.status, 201, w.result.text);
      assert.equal(w.result.xml.storage_domain.status, "active");
      assert.ok(w.ms >= OP_MS - 50, `${w.ms} ms`);
      const order = ["locked", "maintenance", "activating"].filter((s) => w.seen.includes(s));
      assert.ok(order.includes("locked") && order.includes("activating"), `statuses seen: ${w.seen.join(" -> ")}`);
      assert.deepEqual(w.seen.filter((s) => order.includes(s)), order, `in the engine's order: ${w.seen.join(" -> ")}`);
      const ev = arr((await t().api("GET", "events?max=5")).xml.events.event).map((e: any) => Number(e.code));
      assert.ok(ev.includes(962) && ev.includes(966), `attach + activate events: ${ev.join(",")}`);
    });

    it("a client that drops the connection mid-way does not stop the command: the domain ends where the command takes it", async () => {
      await setUp(activeInTarget());
      // deactivate with a client that gives up after 300 ms (the socket is destroyed)
      const agent = new Agent({ connect: { ca: fs.readFileSync(t().sim.caFile) } });
      const origin = new URL(t().sim.url).origin;
      const t0 = Date.now();
      await assert.rejects(
        request(`${origin}/ovirt-engine/api/datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, {
          method: "POST",
          dispatcher: agent,
          headers: { authorization: `Bearer ${await t().token()}`, version: "4", "content-type": "application/xml", "correlation-id": "dropped-deactivate" },
          body: "<action/>",
          headersTimeout: 300,
        }).then((r) => r.body.text()),
        (e: any) => /timeout/i.test(String(e?.code ?? e?.message)),
      );
      await agent.close().catch(() => undefined);
      assert.ok(Date.now() - t0 < OP_MS, "the client gave up before the command ended");
      assert.notEqual(await statusOf(t(), I.dcTarget, I.export1), "active", "the command runs on");
      await until(t(), I.dcTarget, I.export1, "maintenance");
      assert.ok(Date.now() - t0 >= OP_MS - 50, "reached maintenance only when the command ended");
      // the engine logged the command's end with the request's correlation id; the audit log has the lost answer
      const ev = arr((await t().api("GET", `events?search=${encodeURIComponent("correlation_id=dropped-deactivate")}`)).xml.events?.event);
      assert.ok(ev.some((e: any) => Number(e.code) === 968), JSON.stringify(ev));
      const audit = (await t().admin("GET", "audit")).entries.filter((e: any) => e.correlationId === "dropped-deactivate");
      assert.deepEqual(audit.map((e: any) => [e.action, e.status]), [["deactivate", 200]]);
    });

    it("activate blocks in activating; a restart in the middle of a deactivate: unknown, then active again (the engine's compensation and pool refresh)", async () => {
      await setUp(maintenanceInTarget());
      const w = await watching(t(), I.dcTarget, I.export1, () => t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/activate`, "<action/>"));
      assert.equal(w.result.status, 200, w.result.text);
      assert.ok(w.ms >= OP_MS - 50, `${w.ms} ms`);
      assert.ok(w.seen.includes("activating"), w.seen.join(" -> "));
      assert.equal(await statusOf(t(), I.dcTarget, I.export1), "active");
      // deactivate, and restart the engine while the command runs
      const pending = t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, "<action/>").catch((e) => e);
      await new Promise((r) => setTimeout(r, OP_MS / 3));
      assert.equal(await statusOf(t(), I.dcTarget, I.export1), "locked");
      await t().admin("POST", "restart", {});
      await pending;
      // the engine's start-up compensation (CommandCompensator: the deactivate commands snapshot the status as
      // Unknown), then its pool refresh takes VDSM's view: the stop came before DeactivateStorageDomainVDS, so the
      // domain is active again (attachedStorageDomains.ts compensateAtStart; restart.test.ts covers the other phases)
      assert.equal(await statusOf(t(), I.dcTarget, I.export1), "unknown");
      await until(t(), I.dcTarget, I.export1, "active");
      assert.equal((await t().api("POST", `datacenters/${I.dcTarget}/storagedomains/${I.export1}/deactivate`, "<action/>")).status, 200);
      await until(t(), I.dcTarget, I.export1, "maintenance");
    });

    it("admin: GET/PUT /__admin/storage-operation; 0 answers at once again", async () => {
      await setUp(maintenanceInTarget());
      assert.deepEqual(await t().admin("GET", "storage-operation"), { ms: OP_MS });
      await assert.rejects(t().admin("PUT", "storage-operation", { ms: -1 }), /400/);
      assert.deepEqual(await t().admin("PUT", "storage-operation", { ms: 0 }), { ms: 0 });
      const t0 = Date.now();
      const r = await t().api("DELETE", `datacenters/${I.dcTarget}/storagedomains/${I.export1}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(Date.now() - t0 < OP_MS / 2, "answered at once");
      await t().admin("PUT", "storage-operation", { ms: OP_MS });
    });
  });
});
