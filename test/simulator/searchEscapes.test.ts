// Search values with double quotes and backslashes, answered as the engine's search backend answers them
// (SyntaxChecker: no escape sequences in quoted values; SqlInjectionChecker.enforceEscapeCharacters + ILIKE).
import * as assert from "node:assert/strict";
import { arr, withSimulator } from "../support/simulator";
import { enforceEscapeCharacters } from "../../simulator/model/search";

const names = ['a"b', "a\\b", "a\\\\b", "plain", "x_y", "xzy", "50%", "o'brien"];

describe("simulator: search values with quotes and backslashes", function () {
  this.timeout(30_000);
  withSimulator(
    {
      inventory: {
        dataCenters: [
          { name: "dc", clusters: [{ name: "cl" }], hosts: [{ name: "h1", cluster: "cl" }], storageDomains: [{ name: "data" }] },
        ],
        vms: names.map((name) => ({ name, cluster: "cl", disks: [{ sizeMiB: 1 }] })),
      },
    },
    (t) => {
      const search = async (q: string) => {
        const r = await t().api("GET", `vms?search=${encodeURIComponent(q)}`);
        assert.equal(r.status, 200, `${q}: ${r.text}`);
        return arr(r.xml.vms?.vm).map((v: any) => v.name).sort();
      };

      it('name="a\\"b": no escapes in the engine\'s parser, the text is erroneous: 200 with no VMs', async () => {
        assert.deepEqual(await search('name="a\\"b"'), []);
        assert.deepEqual(await search('name=a"b'), []);
      });

      it('name="a\\\\b" and name="a\\b" both find the VM named a\\b (LIKE unescapes \\\\); four backslashes find a\\\\b', async () => {
        assert.deepEqual(await search('name="a\\\\b"'), ["a\\b"]);
        assert.deepEqual(await search('name="a\\b"'), ["a\\b"]);
        assert.deepEqual(await search('name="a\\\\\\\\b"'), ["a\\\\b"]);
        assert.deepEqual(await search("name=a\\\\b"), ["a\\b"]);
      });

      it("an or of several names where one holds a quote: the whole search is erroneous (no VMs at all)", async () => {
        assert.deepEqual(await search('name="plain" or name="x_y"'), ["plain", "x_y"]);
        assert.deepEqual(await search('name="plain" or name="a\\"b" or name="x_y"'), []);
        assert.deepEqual(await search('name="a\\"b" or name="plain"'), []);
      });

      it("other engine rules: trailing backslash, apostrophe and ; refused (no VMs); _ and % literal; * wildcard", async () => {
        assert.deepEqual(await search('name="plain\\"'), [], "a value ending with the escape character");
        assert.deepEqual(await search('name="o\'brien"'), [], "' is a disallowed character");
        assert.deepEqual(await search("name=plain;"), []);
        assert.deepEqual(await search("name=x_y"), ["x_y"], "_ is escaped for ILIKE");
        assert.deepEqual(await search("name=50%"), ["50%"]);
        assert.deepEqual(await search("name=x*"), ["x_y", "xzy"]);
        assert.deepEqual(await search('name="unterminated'), []);
      });

      it("enforceEscapeCharacters follows the engine's loop, look-ahead quirk included", () => {
        assert.equal(enforceEscapeCharacters("a\\b"), "a\\\\b");
        assert.equal(enforceEscapeCharacters("a\\\\b"), "a\\\\b");
        assert.equal(enforceEscapeCharacters("50%"), "50\\%");
        assert.equal(enforceEscapeCharacters("\\\\x"), "\\\\\\x", "the first character sees no next one");
        assert.throws(() => enforceEscapeCharacters("a\\"));
      });
    },
  );
});
