// VM run history: start_time / stop_time like the engine's lastStartTime / lastStopTime (VmMapper).
import * as assert from "node:assert/strict";
import { withSimulator } from "../support/simulator";
import { exportAndWait, ids, Ids, idOf, moveExportDomain, xmlAction } from "./helpers";

const ms = (v: string | undefined) => (v === undefined ? undefined : Date.parse(v));

describe("simulator: VM run history (start_time, stop_time)", function () {
  this.timeout(60_000);
  withSimulator({ bandwidthMiBps: 400 }, (t) => {
    let I: Ids;
    const vm = async (id: string) => (await t().api("GET", `vms/${id}`)).xml.vm;
    before(async () => {
      I = await ids(t());
    });

    it("a seeded VM that is down has a stop time (its creation) and no start time; a running one has both", async () => {
      const web = await vm(await idOf(t(), "vms", "web-01"));
      assert.equal(web.status, "down");
      assert.equal(web.start_time, undefined);
      assert.equal(web.stop_time, web.creation_time);
      assert.match(web.stop_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
      const run = await vm(await idOf(t(), "vms", "run-01"));
      assert.equal(run.status, "up");
      assert.ok(ms(run.start_time)! > ms(run.stop_time)!);
    });

    it("start sets start_time; shutdown/stop set stop_time and hide start_time; times persist across a restart", async () => {
      const id = await idOf(t(), "vms", "web-01");
      const before = await vm(id);
      const t0 = Date.now();
      assert.equal((await t().api("POST", `vms/${id}/start`, xmlAction(""))).status, 200);
      const up = await vm(id);
      assert.equal(up.status, "up");
      assert.ok(ms(up.start_time)! >= t0 - 5 && ms(up.start_time)! <= Date.now());
      assert.equal(up.stop_time, before.stop_time, "the last stop time stays while the VM runs");
      const t1 = Date.now();
      assert.equal((await t().api("POST", `vms/${id}/shutdown`, xmlAction(""))).status, 200);
      const down = await vm(id);
      assert.equal(down.status, "down");
      assert.equal(down.start_time, undefined, "no start_time while down (VmMapper)");
      assert.ok(ms(down.stop_time)! >= t1 - 5);
      await t().reopen();
      const again = await vm(id);
      assert.equal(again.stop_time, down.stop_time);
      assert.equal((await t().api("POST", `vms/${id}/start`, xmlAction(""))).status, 200);
      const stopT = Date.now();
      assert.equal((await t().api("POST", `vms/${id}/stop`, xmlAction(""))).status, 200);
      assert.ok(ms((await vm(id)).stop_time)! >= stopT - 5);
    });

    it("the admin power switch records the same history", async () => {
      const id = await idOf(t(), "vms", "app-01");
      const t0 = Date.now();
      await t().admin("POST", "vms/app-01/power", { state: "up" });
      const up = await vm(id);
      assert.ok(ms(up.start_time)! >= t0 - 5);
      const t1 = Date.now();
      await t().admin("POST", "vms/app-01/power", { state: "down" });
      const down = await vm(id);
      assert.equal(down.start_time, undefined);
      assert.ok(ms(down.stop_time)! >= t1 - 5);
    });

    it("an imported VM was never started: no start_time; stop_time is its import (ImportVmCommandBase.createVmDynamic)", async () => {
      const src = await idOf(t(), "vms", "db-01");
      await exportAndWait(t(), src, I.export1);
      await moveExportDomain(t(), I.export1, I.dcSource, I.dcTarget);
      const t0 = Date.now();
      const r = await t().api(
        "POST",
        `storagedomains/${I.export1}/vms/${src}/import`,
        xmlAction(`<storage_domain id="${I.dataTarget}"/><cluster id="${I.clTarget}"/><clone>true</clone><vm><name>db-01-history</name></vm>`),
      );
      assert.equal(r.status, 202, r.text);
      assert.equal(await t().waitJob(r.xml.action.job["@_id"]), "finished");
      const imported = await vm(await idOf(t(), "vms", "db-01-history"));
      assert.equal(imported.start_time, undefined);
      assert.ok(ms(imported.stop_time)! >= t0 - 5);
      assert.equal(imported.creation_time, imported.stop_time, "ImportVmCommandBase.addVmStatic: created now");
      // it runs once: afterwards stop_time is later than the import (start_time is shown only while it runs)
      await t().admin("POST", "vms/db-01-history/power", { state: "up" });
      await new Promise((r) => setTimeout(r, 5));
      await t().admin("POST", "vms/db-01-history/power", { state: "down" });
      const ran = await vm(imported["@_id"]);
      assert.equal(ran.start_time, undefined);
      assert.ok(ms(ran.stop_time)! > ms(ran.creation_time)!);
    });
  });
});
