// The rename (DOMAIN.md §8): every old name keeps working. The alias test walks the alias table
// itself (a row without a case here fails), comparing the old and the new form for the same
// organization; a client written against the old names only reads its balance, changes the
// monthly limit and auto-reload end to end; the OpenAPI document marks every old form deprecated.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ALIASES } from "../src/http/aliases.js";
import { fromLegacyFields, LEGACY_DEPRECATED_AT } from "../src/core/legacy-names.js";
import { backends } from "./support/backends.js";
import { createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

/** How to call each alias: a body in the old names (or none). Keyed "METHOD old-path". */
const CASES: Record<string, { body?: Json }> = {
  "GET /v1/organizations/:org_id/extra_usage": {},
  "PUT /v1/organizations/:org_id/extra_usage": { body: { is_enabled: true } },
};

const concrete = (pattern: string, orgId: string) => pattern.replace(":org_id", orgId);
const DEPRECATION = `@${LEGACY_DEPRECATED_AT / 1000}`;

for (const backend of backends()) {
  describe(`the rename: old names as deprecated aliases (${backend.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    test("every alias in the table answers like its current route, with Deprecation and Link headers", async () => {
      const { orgId, ownerKey } = await createOrg(h, { usageCredits: true });
      await grant(h, orgId, { amount: String(12_345_678) });
      await h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { key: ownerKey, body: { scope: "organization", period: "monthly", amount: String(100 * USD) } });
      const missing = ALIASES.filter((a) => CASES[`${a.method} ${a.old}`] === undefined).map((a) => `${a.method} ${a.old}`);
      assert.deepEqual(missing, [], "every alias has a case in this test");
      for (const a of ALIASES) {
        const c = CASES[`${a.method} ${a.old}`] ?? {};
        const oldPath = concrete(a.old, orgId);
        const newPath = concrete(a.current, orgId);
        const body = c.body;
        const current = await h.request(a.method, newPath, { key: ownerKey, ...(body ? { body: fromLegacyFields(body) } : {}) });
        const old = await h.request(a.method, oldPath, { key: ownerKey, ...(body ? { body } : {}) });
        assert.equal(old.status, current.status, `${a.method} ${a.old}: ${JSON.stringify(old.body)}`);
        assert.ok(current.status < 300, `${a.method} ${a.current}: ${JSON.stringify(current.body)}`);
        // Same data: the old answer, in the new names, equals the current answer without its deprecated duplicates.
        const stripOld = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === "extra_usage" || k === "extra_usage_enabled" ? undefined : x)));
        assert.deepEqual(fromLegacyFields(old.body), stripOld(current.body), `${a.method} ${a.old} returns the same data`);
        assert.ok(!JSON.stringify(old.body).includes("usage_credits_enabled"), "the old form answers in the old names only");
        assert.equal(old.headers.get("deprecation"), DEPRECATION);
        assert.equal(old.headers.get("link"), `<${newPath}>; rel="successor-version"`);
        assert.equal(current.headers.get("deprecation"), null, "the current form is not deprecated");
      }
    });

    test("old field names in bodies and queries are accepted and answered in the old names", async () => {
      const created = await h.request("POST", "/v1/organizations", {
        body: { name: "Old client", plan_id: "pro", extra_usage_enabled: true, owner: { email: "old@client.test", name: "Old" } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body["extra_usage_enabled"], true);
      assert.equal(created.body["usage_credits_enabled"], undefined);
      assert.match(created.headers.get("deprecation") ?? "", /^@\d+$/);
      const orgId = String(created.body["id"]);
      const m = await h.request("POST", `/v1/organizations/${orgId}/members`, { body: { email: "m@client.test", name: "M", extra_usage_enabled: false } });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      assert.equal(m.body["extra_usage_enabled"], false);
      const patched = await h.request("PATCH", `/v1/organizations/${orgId}/members/${String(m.body["id"])}`, { body: { extra_usage_enabled: true } });
      assert.equal(patched.body["extra_usage_enabled"], true);
      // The current form: the new names, plus the old names as deprecated duplicates (same data).
      const org = await h.request("GET", `/v1/organizations/${orgId}`);
      assert.equal(org.body["usage_credits_enabled"], true);
      assert.equal(org.body["extra_usage_enabled"], true);
      const owner = (created.body["owner"] as Json)["id"];
      const summary = await h.request("GET", `/v1/organizations/${orgId}/usage_summary?member_id=${String(owner)}`);
      assert.deepEqual(summary.body["extra_usage"], summary.body["usage_credits"]);
    });

    test("a client written against the old names only: read balance, change the monthly limit and auto-reload", async () => {
      const { orgId, ownerKey } = await createOrg(h, { usageCredits: false });
      await grant(h, orgId, { amount: String(40 * USD) });
      const base = `/v1/organizations/${orgId}`;
      const on = await h.request("PUT", `${base}/extra_usage`, { key: ownerKey, body: { is_enabled: true } });
      assert.equal(on.status, 200, JSON.stringify(on.body));
      assert.equal((on.body["organization"] as Json)["extra_usage_enabled"], true);
      const read = async () => (await h.request("GET", `${base}/extra_usage`, { key: ownerKey })).body;
      assert.equal((await read())["balance"], String(40 * USD));
      assert.equal((await read())["monthly_limit"], null);
      const limit = await h.request("POST", `${base}/spend_limits`, { key: ownerKey, body: { scope: "organization", period: "monthly", amount: String(25 * USD) } });
      assert.ok(limit.status < 300, JSON.stringify(limit.body));
      assert.equal((await read())["monthly_limit"], String(25 * USD));
      const pm = await h.request("POST", `${base}/payment_methods`, { key: ownerKey, body: { card_number: "4242424242424242" } });
      assert.equal(pm.status, 201, JSON.stringify(pm.body));
      const reload = await h.request("PUT", `${base}/auto_reload`, { key: ownerKey, body: { enabled: true, threshold: String(5 * USD), amount: String(20 * USD), payment_method_id: pm.body["id"] } });
      assert.equal(reload.status, 200, JSON.stringify(reload.body));
      const got = (await h.request("GET", `${base}/auto_reload`, { key: ownerKey })).body;
      assert.deepEqual([got["enabled"], got["threshold"], got["amount"]], [true, String(5 * USD), String(20 * USD)]);
      const off = await h.request("PUT", `${base}/extra_usage`, { key: ownerKey, body: { is_enabled: false } });
      assert.equal(off.status, 200);
      assert.equal((await read())["is_enabled"], false);
      assert.equal((await verifyLedger(h)).ok, true);
    });

    test("the OpenAPI document lists every alias as deprecated, with the old field names", async () => {
      const doc = (await h.request("GET", "/openapi.json", { key: null })).body as { paths: Record<string, Record<string, Json>> };
      for (const a of ALIASES) {
        const op = doc.paths[a.old.replace(/:([a-z_]+)/g, "{$1}")]?.[a.method.toLowerCase()];
        assert.ok(op, `${a.method} ${a.old} is documented`);
        assert.equal(op["deprecated"], true);
        assert.equal(op["x-successor"], a.current.replace(/:([a-z_]+)/g, "{$1}"));
      }
      const createOrgOp = doc.paths["/v1/organizations"]?.["post"] as { requestBody: { content: Record<string, { schema: { properties: Record<string, Json> } }> } };
      const props = createOrgOp.requestBody.content["application/json"]?.schema.properties ?? {};
      assert.equal(props["extra_usage_enabled"]?.["deprecated"], true);
      assert.equal(props["usage_credits_enabled"]?.["deprecated"], undefined);
    });

    test("webhook endpoints may subscribe by the old event names", async () => {
      const { orgId, ownerKey } = await createOrg(h);
      const r = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, {
        key: ownerKey,
        body: { url: "http://127.0.0.1:9/hook", event_types: ["extra_usage.depleted", "purchase.succeeded"] },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body["event_types"], ["extra_usage.depleted", "purchase.succeeded"]);
      const bad = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, { key: ownerKey, body: { url: "http://127.0.0.1:9/hook", event_types: ["extra_usage.nope"] } });
      assert.equal(bad.status, 400);
    });
  });
}
