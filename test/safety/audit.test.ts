// The ownership check itself (test/safety/audit.ts) on hand-made audit entries: it must flag what the rule forbids,
// or every scenario of this suite could pass by accident.
import { strict as assert } from "assert";
import { AuditEntry, emptyOwned, ownershipViolations, ownedFromState } from "./audit";

const entry = (seq: number, action: string, method: string, entities: AuditEntry["entities"], correlationId = "c1"): AuditEntry => ({
    seq,
    at: 0,
    method,
    path: "/ovirt-engine/api/x",
    status: 200,
    correlationId,
    action,
    entities,
});

describe("safety: the ownership check of the audit", () => {
    const state = {
        deployment: {
            resources: [
                { type: "pulumi-nodejs:dynamic/ovirt:VmImport", id: "vm-new", outputs: { vmId: "VM-NEW", ownership: "created", permissionIds: ["p1"] } },
                { type: "pulumi-nodejs:dynamic/ovirt:VmImport", id: "vm-kept", outputs: { vmId: "vm-kept", ownership: "adopted" } },
                { type: "pulumi-nodejs:dynamic/ovirt:VmExport", id: "sd1:vm:src1", outputs: { exportDomainId: "sd1", kind: "vm", sourceId: "src1", ownership: "created" } },
                { type: "pulumi-nodejs:dynamic/ovirt:ExportDomainAttachment", id: "sd1", outputs: { exportDomainId: "sd1", dataCenterId: "dc1", ownership: "created" } },
            ],
        },
    };
    const owned = ownedFromState(state);

    it("reads what the stack created, adopted and exports from its state", () => {
        assert.ok(owned.created.has("vm-new") && owned.created.has("p1") && owned.created.has("sd1:vm:src1"));
        assert.ok(owned.adopted.has("vm-kept") && !owned.created.has("vm-kept"));
        assert.ok(owned.exportSources.has("src1") && owned.managed.has("sd1"));
        assert.equal(owned.shutdownSources.size, 0);
    });

    it("accepts the stack's own work", () => {
        const v = ownershipViolations(
            [
                entry(1, "attach", "POST", [{ kind: "storagedomain", id: "sd1", role: "target" }, { kind: "datacenter", id: "dc1", role: "parent" }]),
                entry(2, "export", "POST", [{ kind: "vm", id: "src1", role: "source" }, { kind: "exportcopy", id: "sd1:vm:src1", role: "created" }]),
                entry(3, "import", "POST", [{ kind: "exportcopy", id: "sd1:vm:src1", role: "target" }, { kind: "vm", id: "vm-new", role: "created" }]),
                entry(4, "import", "JOB", [{ kind: "job", id: "j1", role: "target" }, { kind: "vm", id: "vm-new", role: "created" }]),
                entry(5, "remove", "DELETE", [{ kind: "vm", id: "vm-new", role: "target" }, { kind: "vm", id: "vm-new", role: "removed" }]),
                entry(6, "remove", "DELETE", [{ kind: "vm", id: "half-made", role: "removed" }]),
            ],
            { owned, notOwned: ["src1"] },
        );
        // half-made was never created in these entries: it is not the stack's
        assert.equal(v.length, 1, v.join("\n"));
        assert.match(v[0], /half-made/);
    });

    it("flags removal, shutdown, update of VMs it did not create, adopted ones included", () => {
        for (const [action, role] of [["remove", "removed"], ["shutdown", "target"], ["stop", "target"], ["update", "target"]] as const) {
            for (const id of ["foreign", "vm-kept"]) {
                const v = ownershipViolations([entry(1, action, "POST", [{ kind: "vm", id, role }])], { owned });
                assert.equal(v.length, 1, `${action} of ${id}: ${v.join("\n")}`);
            }
        }
    });

    it("allows shutdown of a source only when shutdownIfRunning was set", () => {
        const e = [entry(1, "shutdown", "POST", [{ kind: "vm", id: "src1", role: "target" }])];
        assert.equal(ownershipViolations(e, { owned, notOwned: ["src1"] }).length, 1);
        const withShutdown = { ...emptyOwned(), shutdownSources: new Set(["src1"]) };
        assert.deepEqual(ownershipViolations(e, { owned: withShutdown, notOwned: ["src1"] }), []);
    });

    it("flags an export of a VM the stack does not name, and an overwrite of a copy it does not own", () => {
        const exp = [entry(1, "export", "POST", [{ kind: "vm", id: "other", role: "source" }, { kind: "exportcopy", id: "sd1:vm:other", role: "created" }])];
        assert.equal(ownershipViolations(exp, { owned }).length, 1);
        const over = [entry(1, "export", "POST", [{ kind: "vm", id: "src1", role: "source" }, { kind: "exportcopy", id: "sd1:vm:src1", role: "created" }])];
        assert.equal(ownershipViolations(over, { owned, notOwned: ["sd1:vm:src1"] }).length, 1);
        assert.deepEqual(ownershipViolations(over, { owned }), []);
    });

    it("flags a detach of a domain its attachments do not manage", () => {
        const e = [entry(1, "detach", "DELETE", [{ kind: "datacenter", id: "dc9", role: "parent" }, { kind: "storagedomain", id: "sd9", role: "target" }])];
        assert.equal(ownershipViolations(e, { owned }).length, 1);
        assert.equal(ownershipViolations([{ ...e[0], entities: [{ kind: "storagedomain", id: "sd1", role: "target" }] }], { owned, notOwned: ["sd1"] }).length, 1);
    });
});
