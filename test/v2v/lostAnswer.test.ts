// V2VImport's POST /externalvmimports whose answer is lost (provider/operations/submit.ts, the same recovery as the
// export and the import): the import is neither lost nor started twice. Real peers: vcsim, sshd, the engine simulator
// with a fault rule dropping the connection before the engine (the POST never arrived) or after the command ran.
import * as assert from "node:assert/strict";
import { v2vImportProvider, V2VImportOutputs } from "../../provider/resources/v2vImport";
import { connect } from "../../provider/client";
import { admin, proxySshOf, v2vInputs, v2vUrn, V2vEnv, withV2vEnv } from "./env";

describe("v2v: a lost answer to POST /externalvmimports", function () {
  this.timeout(300_000);
  let env: V2vEnv;
  withV2vEnv((e) => (env = e));
  afterEach(async () => admin(env, "DELETE", "/faults"));

  const inputs = (resource: string, suffix: string) =>
    v2vInputs(env, { sourceVms: ["web app 01"], clone: { suffix }, __progressUrn: v2vUrn(resource), proxySsh: proxySshOf(env.sshd.present) });
  /** The sequence number of the newest request logged. */
  const lastSeq = async () => {
    const log = (await admin(env, "GET", "/requests")).log as Array<{ seq: number }>;
    return log.length ? log[log.length - 1].seq : 0;
  };
  /** The POSTs to /externalvmimports logged after `since`. */
  const posts = async (since: number) =>
    ((await admin(env, "GET", `/requests?since=${since}`)).log as Array<{ method: string; path: string; status: number }>).filter(
      (e) => e.method === "POST" && /\/externalvmimports$/.test(e.path),
    );

  it("the command ran and its answer was lost: the VM of this resource is taken, no second POST", async () => {
    const since = await lastSeq();
    // at the operation point: the engine runs the command, then the connection drops before the answer
    await admin(env, "PUT", "/faults", { rules: [{ match: { entity: "vm", operation: "import", path: "/externalvmimports$" }, effect: { transport: "reset" }, max: 1 }] });
    const created = await v2vImportProvider.create(inputs("lost-after", "-lost-after"));
    const vm = (created.outs as V2VImportOutputs).vms[0];
    assert.equal(vm.name, "web app 01-lost-after");
    assert.equal(vm.ownership, "created");
    const c = connect(env.engine);
    const named = (await c.vms.list()).filter((v) => v.name === "web app 01-lost-after");
    assert.deepEqual(named.map((v) => v.id), [vm.id], "one VM, the one recorded");
    assert.equal((await posts(since)).length, 1, "the import was not sent again");
    await v2vImportProvider.delete!(created.id, created.outs);
  });

  it("the POST never reached the engine: it is sent again and the import runs once", async () => {
    const since = await lastSeq();
    // at the HTTP front: the connection drops before the engine sees the request
    await admin(env, "PUT", "/faults", { rules: [{ match: { method: "POST", path: "/externalvmimports$" }, effect: { transport: "reset" }, max: 1 }] });
    const created = await v2vImportProvider.create(inputs("lost-before", "-lost-before"));
    const vm = (created.outs as V2VImportOutputs).vms[0];
    assert.equal(vm.name, "web app 01-lost-before");
    const c = connect(env.engine);
    assert.deepEqual((await c.vms.list()).filter((v) => v.name === "web app 01-lost-before").map((v) => v.id), [vm.id]);
    const sent = await posts(since);
    assert.equal(sent.length, 2, JSON.stringify(sent));
    assert.equal(sent[0].status, 0, "the first POST was reset");
    await v2vImportProvider.delete!(created.id, created.outs);
  });
});
