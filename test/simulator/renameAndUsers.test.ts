// PUT /vms|templates/{id} with <name> (UpdateVmCommand: the new name must be free in the data center) and extra
// users/groups of the inventory.
import * as assert from "node:assert/strict";
import { arr, withSimulator } from "../support/simulator";
import { idOf } from "./helpers";
import { defaultInventory } from "../../simulator";

describe("simulator: rename and inventory users", function () {
  this.timeout(30_000);
  withSimulator(
    {
      inventory: {
        ...defaultInventory,
        users: [
          { id: "7b000000-0000-4000-8000-000000000000", userName: "jdoe@a", firstName: "John" },
          { userName: "jdoe@b" },
        ],
        groups: [{ name: "dba", domain: "corp" }],
      },
    },
    (t) => {
      it("renames a VM and a template; a name taken in the data center is a 409; an empty one a 400", async () => {
        const id = await idOf(t(), "vms", "app-01");
        const r = await t().api("PUT", `vms/${id}`, "<vm><name>app-renamed</name></vm>");
        assert.equal(r.status, 200, r.text);
        assert.equal(r.xml.vm.name, "app-renamed");
        assert.equal(await idOf(t(), "vms", "app-renamed"), id);
        const taken = await t().api("PUT", `vms/${id}`, "<vm><name>web-01</name></vm>");
        assert.equal(taken.status, 409);
        assert.equal(taken.xml.fault.detail, "[Cannot edit VM. The VM name is already in use, please choose a unique name and try again.]");
        assert.equal((await t().api("PUT", `vms/${id}`, "<vm><name> </name></vm>")).status, 400);
        const tpl = await idOf(t(), "templates", "rhel9-base");
        const tr = await t().api("PUT", `templates/${tpl}`, "<template><name>rhel9-golden</name></template>");
        assert.equal(tr.status, 200, tr.text);
        assert.equal(tr.xml.template.name, "rhel9-golden");
      });

      it("inventory users and groups join the fixed directory", async () => {
        const r = await t().api("GET", `users?search=${encodeURIComponent("usrname=jdoe*")}`);
        const us = arr(r.xml.users.user);
        assert.deepEqual(us.map((u: any) => u.user_name).sort(), ["jdoe@a", "jdoe@b"]);
        const a = us.find((u: any) => u.user_name === "jdoe@a");
        assert.equal(a["@_id"], "7b000000-0000-4000-8000-000000000000");
        assert.equal(a.principal, "jdoe");
        assert.equal(a.domain.name, "a");
        const all = arr((await t().api("GET", "users")).xml.users.user).map((u: any) => u.user_name);
        assert.ok(all.includes("admin@internal-authz") && all.includes("alice@internal-authz"));
        const gs = arr((await t().api("GET", "groups")).xml.groups.group).map((g: any) => g.name).sort();
        assert.deepEqual(gs, ["dba", "ops"]);
      });
    },
  );
});
