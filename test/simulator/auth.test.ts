// SSO, credentials, token expiry, PKI resource, versions, Correlation-Id.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { arr, startTestSimulator, TestSimulator, withSimulator } from "../support/simulator";

const form = (user: string, password: string, scope = "ovirt-app-api") =>
  `grant_type=password&scope=${encodeURIComponent(scope)}&username=${encodeURIComponent(user)}&password=${encodeURIComponent(password)}`;
const formHeaders = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };

describe("simulator: authentication", function () {
  this.timeout(30_000);
  withSimulator({ password: "pa$$ w<o>rd" }, (t) => {
    it("issues an SSO token (JSON) for the password grant", async () => {
      const r = await t().raw("POST", "/ovirt-engine/sso/oauth/token", form("admin@internal", "pa$$ w<o>rd"), formHeaders);
      assert.equal(r.status, 200);
      const j = JSON.parse(r.text);
      assert.equal(j.token_type, "bearer");
      assert.equal(j.scope, "ovirt-app-api");
      assert.match(j.exp, /^\d+$/);
      const api = await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${j.access_token}` });
      assert.equal(api.status, 200);
    });

    it("answers a JSON error on a bad password (both SSO error shapes)", async () => {
      const r = await t().raw("POST", "/ovirt-engine/sso/oauth/token", form("admin@internal", "wrong"), formHeaders);
      assert.equal(r.status, 400);
      const j = JSON.parse(r.text);
      assert.equal(j.error_code, "access_denied");
      assert.match(j.error, /Cannot authenticate user 'admin@internal'/);
      const o = await t().raw("POST", "/ovirt-engine/sso/oauth/token", form("admin@internal", "wrong", "openid"), formHeaders);
      const k = JSON.parse(o.text);
      assert.equal(k.error, "access_denied");
      assert.match(k.error_description, /incorrect/);
    });

    it("accepts Basic auth, refuses a bad Basic, a bad Bearer and no credentials with 401", async () => {
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
      assert.equal((await t().raw("GET", "/ovirt-engine/api/vms", undefined, { authorization: basic("admin@internal", "pa$$ w<o>rd") })).status, 200);
      assert.equal((await t().raw("GET", "/ovirt-engine/api/vms", undefined, { authorization: basic("admin@internal", "nope") })).status, 401);
      assert.equal((await t().raw("GET", "/ovirt-engine/api/vms", undefined, { authorization: "Bearer not-a-token" })).status, 401);
      const none = await t().raw("GET", "/ovirt-engine/api/vms");
      assert.equal(none.status, 401);
      assert.match(String(none.headers["www-authenticate"]), /Bearer/);
    });

    it("sso-logout revokes the token and answers JSON", async () => {
      const r = await t().raw("POST", "/ovirt-engine/sso/oauth/token", form("admin@internal", "pa$$ w<o>rd"), formHeaders);
      const tok = JSON.parse(r.text).access_token;
      const out = await t().raw("POST", "/ovirt-engine/services/sso-logout", `scope=ovirt-app-api&token=${encodeURIComponent(tok)}`, formHeaders);
      assert.equal(out.status, 200);
      assert.deepEqual(JSON.parse(out.text), {});
      assert.equal((await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 401);
    });

    it("admin expire-tokens invalidates every token", async () => {
      const tok = await t().token();
      assert.equal((await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 200);
      const r = await t().admin("POST", "expire-tokens");
      assert.ok(r.expired >= 1);
      assert.equal((await t().raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 401);
    });

    it("serves the CA like the engine's pki-resource servlet, without login", async () => {
      const r = await t().raw("GET", "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA");
      assert.equal(r.status, 200);
      assert.equal(r.text, fs.readFileSync(t().sim.caFile, "utf8"));
      assert.match(r.text, /BEGIN CERTIFICATE/);
    });

    it("honours the Version header and the /v4 prefix; refuses other versions with a bare 400", async () => {
      const v3 = await t().api("GET", "vms", undefined, { version: "3" });
      assert.equal(v3.status, 400);
      assert.equal(v3.text, "");
      const v4 = await t().api("GET", "v4/datacenters");
      assert.equal(v4.status, 200);
      assert.match(arr(v4.xml.data_centers.data_center)[0]["@_href"], /^\/ovirt-engine\/api\/v4\/datacenters\//);
    });

    it("echoes a sanitised Correlation-Id, or generates one", async () => {
      const r = await t().api("GET", "datacenters", undefined, { "Correlation-Id": "abc$%def-1 2" });
      assert.equal(r.headers["correlation-id"], "abcdef-12");
      const q = await t().api("GET", "datacenters?correlation_id=from-query");
      assert.equal(q.headers["correlation-id"], "from-query");
      const g = await t().api("GET", "datacenters");
      assert.match(String(g.headers["correlation-id"]), /^[0-9a-f-]{36}$/);
    });
  });

  describe("token lifetime option and plain HTTP", () => {
    let t: TestSimulator;
    before(async () => {
      t = await startTestSimulator({ tokenLifetimeSeconds: 1, tls: false });
    });
    after(async () => t.close());
    it("serves plain HTTP with --http and expires tokens after their lifetime", async () => {
      assert.match(t.sim.url, /^http:\/\/127\.0\.0\.1:\d+\/ovirt-engine\/api$/);
      assert.equal(t.sim.caFile, "");
      const tok = await t.token();
      assert.equal((await t.raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 200);
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal((await t.raw("GET", "/ovirt-engine/api", undefined, { authorization: `Bearer ${tok}` })).status, 401);
    });
  });
});
