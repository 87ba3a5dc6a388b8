// The operator's back-office API over real HTTP, on SQLite and on PostgreSQL (issue 15): customers
// searched by name with balance, debt, plan and spend equal to each organization's own figures;
// a proposed price book previewed against last month's real usage with the engine's rating code
// (nothing published); a grant voided with a reason that the audit log keeps.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

for (const backend of backends()) {
  describe(`operator back office on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, []);
      await h.close();
      await backend.cleanup();
    });
    const ok = async (method: string, path: string, body?: unknown, key?: string): Promise<Json> => {
      const r = await h.request(method, path, { ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { key } : {}) });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };

    test("customers: search by name; balance, debt, plan and month spend are each organization's own figures; only the platform key", async () => {
      const a = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await ok("PATCH", `/v1/organizations/${a.orgId}`, { name: "Zephyr Labs" });
      await grant(h, a.orgId, { amount: String(40 * USD) });
      await ok("POST", `/v1/organizations/${a.orgId}/usage_events`, { event_id: "op-1", model: "claude-opus-4-6", usage: { input_tokens: 1000, output_tokens: 4000 } }, a.ownerKey);
      const b = await createOrg(h, { plan: "pro", usageCredits: false });
      const found = (await ok("GET", "/v1/operator/customers?q=zephyr"))["data"] as Json[];
      assert.deepEqual(found.map((c) => c["id"]), [a.orgId], "the search finds the one organization by name, case-insensitively");
      const c = found[0] ?? {};
      const own = await ok("GET", `/v1/organizations/${a.orgId}/usage_credits`);
      assert.equal(c["balance"], own["balance"]);
      assert.equal(c["month_spend"], own["used_this_month"]);
      assert.ok(Number(c["month_spend"]) > 0);
      assert.equal(c["plan_id"], "enterprise_usage");
      assert.equal(c["debt"], "0");
      const all = (await ok("GET", "/v1/operator/customers"))["data"] as Json[];
      assert.ok(all.some((x) => x["id"] === b.orgId) && all.some((x) => x["id"] === a.orgId));
      assert.equal((await ok("GET", `/v1/operator/customers?q=${b.orgId}`))["data"] instanceof Array, true);
      assert.equal((await h.request("GET", "/v1/operator/customers", { key: a.ownerKey })).status, 403, "an organization's key is no operator");
    });

    test("a proposed price book is previewed against last month's usage with the real rating code, and nothing is published", async () => {
      const o = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, o.orgId, { amount: String(100 * USD) });
      // Last month (the harness clock starts on 2026-03-02): usage by tokens on two models, and one metered by amount.
      const month = "2026-03";
      await ok("POST", `/v1/organizations/${o.orgId}/usage_events`, { event_id: "pv-1", model: "claude-sonnet-4-6", usage: { input_tokens: 100_000, output_tokens: 10_000 } }, o.ownerKey);
      await ok("POST", `/v1/organizations/${o.orgId}/usage_events`, { event_id: "pv-2", model: "claude-haiku-4-5", usage: { input_tokens: 200_000, output_tokens: 20_000 } }, o.ownerKey);
      await ok("POST", `/v1/organizations/${o.orgId}/usage_events`, { event_id: "pv-3", model: "claude-haiku-4-5", amount: "12345" }, o.ownerKey);
      const books = (await ok("GET", "/v1/price_books"))["data"] as Json[];
      const current = books[books.length - 1] ?? {};
      // The proposal doubles every Sonnet rate and leaves the rest.
      const models = (current["models"] as Json[]).map((m) =>
        String(m["id"]).startsWith("claude-sonnet-4-6") ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? String(Number(v) * 2) : v])) : m,
      );
      const proposal = { ...current, version: Number(current["version"]) + 1, effective_from: "2026-05-01T00:00:00Z", models };
      h.clock.advance(31 * 86_400_000); // now in April: "last month" is March
      const p = await ok("POST", "/v1/price_books/preview", proposal);
      assert.equal(p["month"], month);
      const rows = p["rows"] as Json[];
      const sonnet = rows.find((r) => r["model"] === "claude-sonnet-4-6") ?? {};
      const haiku = rows.find((r) => r["model"] === "claude-haiku-4-5") ?? {};
      // Sonnet 4.6 at $3 / $15 per MTok: 100k in + 10k out = $0.30 + $0.15 = $0.45; doubled $0.90.
      assert.equal(sonnet["current"], "450000");
      assert.equal(sonnet["proposed"], "900000");
      assert.equal(sonnet["difference"], "450000");
      // Haiku unchanged; the amount-metered event cannot be re-rated and is carried at its cost.
      assert.equal(haiku["requests"], 2);
      assert.equal(haiku["unrated"], 1);
      assert.equal(haiku["current"], haiku["proposed"]);
      assert.equal(BigInt(String(haiku["recorded"])), 200_000n + 100_000n + 12_345n);
      const totals = p["totals"] as Json;
      assert.equal(totals["difference"], "450000");
      assert.equal(((await ok("GET", "/v1/price_books"))["data"] as Json[]).length, books.length, "nothing was published");
      const bad = await h.request("POST", "/v1/price_books/preview", { body: { ...proposal, effective_from: "soon" } });
      assert.equal(bad.status, 400);
    });

    test("a grant voided with a reason: the reason is in the audit log", async () => {
      const o = await createOrg(h, { plan: "pro", usageCredits: true });
      const g = await grant(h, o.orgId, { amount: String(7 * USD), kind: "adjustment", description: "goodwill: outage 2026-03-01" });
      const id = String(g["id"]);
      const voided = await ok("POST", `/v1/organizations/${o.orgId}/grants/${id}/void?reason=${encodeURIComponent("granted to the wrong customer")}`);
      assert.equal(voided["status"], "voided");
      const log = (await ok("GET", `/v1/organizations/${o.orgId}/audit_log?action=grant.voided`))["data"] as Json[];
      assert.equal((log[0]?.["after"] as Json)["reason"], "granted to the wrong customer");
    });
  });
}
