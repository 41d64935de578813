// V2VImport to a block (iSCSI) data domain through the resource (issue 11, item 13): the engine accepts block domains
// as V2V targets since 4.4 (ImportVmFromExternalProviderCommand.validate) and makes the disks as
// ImportVmFromExternalUrlCommand.getDiskVolumeFormat does: on block storage `cow` when sparse, `raw` when
// preallocated (file storage: always raw). The resource passes `sparse` through and must not refuse the domain.
import * as assert from "node:assert/strict";
import { v2vImportProvider, V2VImportOutputs } from "../../provider/resources/v2vImport";
import { connect } from "../../provider/client";
import { proxySshOf, v2vInputs, v2vUrn, V2vEnv, withV2vEnv } from "./env";

describe("v2v: V2VImport to the block domain block-target", function () {
  this.timeout(300_000);
  let env: V2vEnv;
  withV2vEnv((e) => (env = e));

  const inputs = (resource: string, over: Record<string, any>) =>
    v2vInputs(env, { sourceVms: ["block-01"], storageDomain: "block-target", __progressUrn: v2vUrn(resource), proxySsh: proxySshOf(env.sshd.present), ...over });

  for (const [sparse, format] of [[true, "cow"], [false, "raw"]] as const) {
    it(`sparse: ${sparse} -> the engine's disks on block-target are ${format}; delete removes the VM`, async () => {
      const a = inputs(`block-${format}`, { sparse, clone: { suffix: `-${format}` } });
      const chk = await v2vImportProvider.check!({}, a);
      assert.deepEqual(chk.failures ?? [], [], "a block domain is a valid target at preview");
      const created = await v2vImportProvider.create(chk.inputs);
      const out = (created.outs as V2VImportOutputs).vms[0];
      assert.equal(out.name, `block-01-${format}`);
      assert.equal(out.ownership, "created");
      const c = connect(env.engine);
      const sd = (await c.storageDomains.findByName("block-target"))!;
      const disks = await c.vms.disks(out.id);
      assert.equal(disks.length, 1);
      for (const d of disks) {
        assert.equal(d.format, format, JSON.stringify(d));
        assert.equal(d.sparse, sparse, JSON.stringify(d));
        assert.equal(d.storage_domains?.[0]?.id ?? d.storage_domain?.id, sd.id, "on block-target");
      }
      await v2vImportProvider.delete!(created.id, created.outs);
      assert.equal(await c.vms.get(out.id), undefined, "removed by delete");
    });
  }
});
