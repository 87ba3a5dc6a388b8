// Acceptance scenarios over real HTTP on loopback, on SQLite and on PostgreSQL.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HOUR_MS } from "../src/core/plans.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

// claude-sonnet-4-5: $3 input / $15 output per MTok → 1,000,000 output tokens = $15.
const sonnet = (output: number, input = 0) => ({ model: "claude-sonnet-4-5", estimated_usage: { input_tokens: input, output_tokens: output } });

for (const backend of backends()) {
  describe(`scenarios on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const authorize = (orgId: string, key: string, body: Record<string, unknown>) => h.request("POST", `/v1/organizations/${orgId}/authorize`, { key, body });
    const settle = (orgId: string, key: string, holdId: string, body: Record<string, unknown>) =>
      h.request("POST", `/v1/organizations/${orgId}/holds/${holdId}/settle`, { key, body });
    const summary = async (orgId: string, key: string) => (await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key })).body;
    const balance = async (orgId: string, key: string) => Number((summary(orgId, key) as unknown as Promise<Record<string, Record<string, string>>>).then((s) => s["usage_credits"]?.["balance"]));

    test("a Pro member exhausts the session window, is refused with window_exhausted and the reset time; with usage credits on, the same request is billed at API rates", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: false });
      await grant(h, orgId, { amount: String(50 * USD) });
      const t0 = h.clock.now();
      // Pro session quota: $5 of API value. $4.50 fits, then a $1.50 request still starts while there is room ($0.50 left) and overshoots.
      const a = await authorize(orgId, ownerKey, sonnet(300_000)); // $4.50
      assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.equal((a.body["hold"] as Record<string, unknown>)["payer"], "plan");
      assert.equal((await settle(orgId, ownerKey, String((a.body["hold"] as Record<string, unknown>)["id"]), { usage: { output_tokens: 300_000 } })).status, 200);
      const b = await authorize(orgId, ownerKey, sonnet(100_000)); // $1.50, the window still had room
      assert.equal((b.body["hold"] as Record<string, unknown>)["payer"], "plan");
      await settle(orgId, ownerKey, String((b.body["hold"] as Record<string, unknown>)["id"]), { usage: { output_tokens: 100_000 } });

      const refused = await authorize(orgId, ownerKey, sonnet(1000));
      assert.equal(refused.status, 429);
      const err = refused.body["error"] as Record<string, unknown>;
      assert.equal(err["code"], "window_exhausted");
      const details = err["details"] as Record<string, unknown>;
      assert.equal(details["window"], "five_hour");
      assert.equal(details["resets_at"], new Date(t0 + 5 * HOUR_MS).toISOString());
      assert.equal(refused.headers.get("retry-after"), String(5 * 3600));
      const s = await summary(orgId, ownerKey);
      assert.deepEqual((s["five_hour"] as Record<string, unknown>)["utilization"], 100);

      // Usage credits on: the same request is billed to credits at API rates ($0.015 for 1,000 output tokens).
      assert.equal((await h.request("PUT", `/v1/organizations/${orgId}/usage_credits`, { key: ownerKey, body: { is_enabled: true } })).status, 200);
      const before = await balance(orgId, ownerKey);
      const c = await authorize(orgId, ownerKey, sonnet(1000));
      assert.equal(c.status, 201, JSON.stringify(c.body));
      const hold = c.body["hold"] as Record<string, unknown>;
      assert.equal(hold["payer"], "credits");
      assert.equal(hold["amount"], "15000");
      const done = await settle(orgId, ownerKey, String(hold["id"]), { usage: { output_tokens: 1000 } });
      assert.equal(done.body["charged"], "15000");
      assert.equal(await balance(orgId, ownerKey), before - 15_000);
      const credits = (await summary(orgId, ownerKey))["usage_credits"] as Record<string, unknown>;
      assert.equal(credits["used_credits"], "15000", "this month's usage-credit spend, with no limit set");

      // After the reset, the plan pays again.
      h.clock.advance(5 * HOUR_MS);
      const d = await authorize(orgId, ownerKey, sonnet(1000));
      assert.equal((d.body["hold"] as Record<string, unknown>)["payer"], "plan");
      assert.deepEqual(await verifyLedger(h), { ok: true, transactions: (await verifyLedger(h) as unknown as Record<string, unknown>)["transactions"], violations: [] });
    });

    test("fast mode is billed to usage credits even with room in the window, at the fast multiplier; disabled fast mode is refused", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "max_5x", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      const r = await authorize(orgId, ownerKey, { ...sonnet(1000), speed: "fast" });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const hold = r.body["hold"] as Record<string, unknown>;
      assert.equal(hold["payer"], "credits");
      assert.equal(hold["amount"], "30000"); // 2 × $0.015
      const s = await summary(orgId, ownerKey);
      assert.equal((s["five_hour"] as Record<string, unknown>)["status"], "idle", "the plan window was not touched");
      await h.request("PATCH", `/v1/organizations/${orgId}`, { key: ownerKey, body: { fast_mode_enabled: false } });
      const refused = await authorize(orgId, ownerKey, { ...sonnet(1000), speed: "fast" });
      assert.equal(refused.status, 403);
      assert.equal((refused.body["error"] as Record<string, unknown>)["code"], "fast_mode_disabled");
      assert.match(String((refused.body["error"] as Record<string, unknown>)["message"]), /Fast mode has been disabled by your organization/);
    });

    test("an SDK-surface request drains the monthly SDK grant first, never the plan, and never an ineligible surface", async () => {
      const { orgId } = await createOrg(h, { plan: "pro", usageCredits: true });
      const sdk = await addMember(h, orgId, { role: "member" }, "sdk");
      const monthly = await grant(h, orgId, { kind: "monthly", amount: String(20 * USD), surfaces: ["sdk", "cli_headless", "ci"], member_id: sdk.memberId });
      const purchase = await grant(h, orgId, { kind: "purchase", amount: String(5 * USD) });
      const r = await authorize(orgId, sdk.key, sonnet(1000));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const hold = r.body["hold"] as Record<string, unknown>;
      assert.equal(hold["payer"], "credits");
      assert.deepEqual(hold["draws"], [{ grant_id: monthly["id"], amount: "15000" }]);
      // The same member on the interactive surface (an interactive key: an sdk key may not widen
      // its surface) uses the plan window, not the SDK grant.
      const interKey = await h.request("POST", `/v1/organizations/${orgId}/api_keys`, { body: { member_id: sdk.memberId, name: "chat", surface: "interactive" } });
      const inter = await authorize(orgId, String(interKey.body["secret"]), sonnet(1000));
      assert.equal((inter.body["hold"] as Record<string, unknown>)["payer"], "plan");
      assert.equal((await authorize(orgId, sdk.key, { ...sonnet(1000), surface: "interactive" })).status, 403);
      // With usage credits disabled, SDK credits still pay (they come with the plan)...
      await h.request("PUT", `/v1/organizations/${orgId}/usage_credits`, { body: { is_enabled: false } });
      assert.equal((await authorize(orgId, sdk.key, sonnet(1000))).status, 201);
      // ...but beyond them nothing does: a request larger than the SDK grant is refused.
      const big = await authorize(orgId, sdk.key, sonnet(2_000_000)); // $30 > $20 - 0.03
      assert.equal(big.status, 403);
      assert.equal((big.body["error"] as Record<string, unknown>)["code"], "usage_credits_disabled");
      void purchase;
    });

    test("a member limit lower than the org limit stops at the member limit; null is unlimited", async () => {
      const { orgId } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(100 * USD) });
      const m = await addMember(h, orgId, { role: "member" });
      const setLimit = (body: Record<string, unknown>) => h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { body });
      assert.equal((await setLimit({ scope: "organization", period: "monthly", amount: String(10 * USD) })).status, 200);
      const memberLimit = await setLimit({ scope: "user", scope_id: m.memberId, period: "monthly", amount: String(1 * USD) });
      assert.equal(memberLimit.body["scope"], "member");
      assert.match(String(memberLimit.body["id"]), /^spl_/);
      // $0.60 fits, a second $0.60 would pass the $1 member limit although the org has $9.40 of headroom.
      const ok = await authorize(orgId, m.key, sonnet(40_000));
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const refused = await authorize(orgId, m.key, sonnet(40_000));
      assert.equal(refused.status, 429);
      const err = refused.body["error"] as Record<string, unknown>;
      assert.equal(err["code"], "spend_limit_reached");
      const d = err["details"] as Record<string, unknown>;
      assert.equal(d["scope"], "member");
      assert.equal(d["limit_id"], memberLimit.body["id"]);
      assert.equal(d["resets_at"], "2026-04-01T00:00:00.000Z");
      // null = explicitly unlimited: the same request now passes.
      assert.equal((await setLimit({ scope: "member", scope_id: m.memberId, period: "monthly", amount: null })).body["amount"], null);
      assert.equal((await authorize(orgId, m.key, sonnet(40_000))).status, 201);
      // The org limit still binds: $10 total.
      const huge = await authorize(orgId, m.key, sonnet(700_000)); // $10.50
      assert.equal((huge.body["error"] as Record<string, unknown>)["code"], "spend_limit_reached");
      assert.equal(((huge.body["error"] as Record<string, unknown>)["details"] as Record<string, unknown>)["scope"], "organization");
    });

    test("grants burn in the documented order and an expired grant is never spent", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const now = h.clock.now();
      const day = 86_400_000;
      const purchaseLate = await grant(h, orgId, { kind: "purchase", amount: "1000000", expires_at: new Date(now + 30 * day).toISOString() });
      const promoSoon = await grant(h, orgId, { kind: "promotional", amount: "1000000", expires_at: new Date(now + 2 * day).toISOString() });
      const priority1 = await grant(h, orgId, { kind: "purchase", amount: "1000000", priority: 1 });
      const purchaseSameExpiry = await grant(h, orgId, { kind: "purchase", amount: "1000000", expires_at: new Date(now + 2 * day).toISOString() });
      const expiring = await grant(h, orgId, { kind: "promotional", amount: "1000000", priority: 0, expires_at: new Date(now + 1 * day).toISOString() });
      h.clock.advance(day + 1); // `expiring` has expired (the sweep has not run: it must still never be spent)
      // 4.5 $ across grants: priority 1 first, then soonest expiry (promo before purchase at equal expiry), then later expiry.
      const r = await authorize(orgId, ownerKey, { model: "claude-sonnet-4-5", amount: "3500000" });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(
        ((r.body["hold"] as Record<string, unknown>)["draws"] as Array<Record<string, string>>).map((d) => [d["grant_id"], d["amount"]]),
        [
          [priority1["id"], "1000000"],
          [promoSoon["id"], "1000000"],
          [purchaseSameExpiry["id"], "1000000"],
          [purchaseLate["id"], "500000"],
        ],
      );
      const sweep = await h.app.services.engine.sweep(h.app.services.store);
      assert.equal(sweep.grants, 1);
      const grants = (await h.request("GET", `/v1/organizations/${orgId}/grants`, { key: ownerKey })).body["data"] as Array<Record<string, unknown>>;
      const exp = grants.find((g) => g["id"] === expiring["id"]);
      assert.equal(exp?.["status"], "expired");
      assert.equal(exp?.["remaining"], "0");
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });

    test("settle charges actual usage and releases the rest; a hold resolves once; release returns everything", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(1 * USD) });
      const a = await authorize(orgId, ownerKey, sonnet(20_000)); // $0.30 reserved
      const holdId = String((a.body["hold"] as Record<string, unknown>)["id"]);
      assert.equal(a.body["balance"], "700000");
      const s = await settle(orgId, ownerKey, holdId, { usage: { output_tokens: 10_000, cache_read_input_tokens: 5 } }); // $0.15 + 1.5µ$ → 150002 (half-even)
      assert.equal(s.body["charged"], "150002");
      assert.equal(s.body["balance"], String(1_000_000 - 150_002));
      const again = await settle(orgId, ownerKey, holdId, { amount: "1" });
      assert.equal(again.status, 409);
      assert.equal((again.body["error"] as Record<string, unknown>)["code"], "hold_not_pending");
      const b = await authorize(orgId, ownerKey, sonnet(20_000));
      const rel = await h.request("POST", `/v1/organizations/${orgId}/holds/${String((b.body["hold"] as Record<string, unknown>)["id"])}/release`, { key: ownerKey });
      assert.equal(rel.status, 200);
      assert.equal(rel.body["balance"], String(1_000_000 - 150_002));
      // A hold past its TTL is released by the sweep and cannot be settled.
      const c = await authorize(orgId, ownerKey, { ...sonnet(20_000), ttl_seconds: 60 });
      h.clock.advance(61_000);
      const late = await settle(orgId, ownerKey, String((c.body["hold"] as Record<string, unknown>)["id"]), { amount: "1" });
      assert.equal((late.body["error"] as Record<string, unknown>)["code"], "hold_expired");
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });

    test("usage beyond the hold is still charged: other grants first, then debt, which blocks usage credits until a grant repays it", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: "100000" }); // $0.10
      const a = await authorize(orgId, ownerKey, { model: "claude-sonnet-4-5", amount: "60000" });
      const s = await settle(orgId, ownerKey, String((a.body["hold"] as Record<string, unknown>)["id"]), { amount: "250000" });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      assert.equal(s.body["debt"], "150000");
      assert.equal(s.body["balance"], "-150000");
      const blocked = await authorize(orgId, ownerKey, { model: "claude-sonnet-4-5", amount: "1" });
      assert.equal((blocked.body["error"] as Record<string, unknown>)["code"], "insufficient_credits");
      await grant(h, orgId, { kind: "purchase", amount: "1000000" });
      const sum = await summary(orgId, ownerKey);
      assert.equal((sum["usage_credits"] as Record<string, unknown>)["balance"], "850000");
      assert.equal((await authorize(orgId, ownerKey, { model: "claude-sonnet-4-5", amount: "1" })).status, 201);
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });

    test("usage beyond a hold never spends usage credits that were switched off, nor becomes debt: it is reported unbilled", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const g = await grant(h, orgId, { amount: "1000000" });
      const a = await authorize(orgId, ownerKey, { model: "claude-sonnet-4-5", amount: "100000" });
      assert.equal(a.status, 201, JSON.stringify(a.body));
      await h.request("PUT", `/v1/organizations/${orgId}/usage_credits`, { key: ownerKey, body: { is_enabled: false } });
      const s = await settle(orgId, ownerKey, String((a.body["hold"] as Record<string, unknown>)["id"]), { amount: "500000" });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      // docs/money-safety.md: with usage credits off, a settle adds nothing beyond its hold.
      assert.equal(s.body["charged"], "100000");
      assert.equal(s.body["debt"], "0", "the excess is neither debt nor a draw on the switched-off grant");
      assert.equal(s.body["unbilled"], "400000");
      const grants = (await h.request("GET", `/v1/organizations/${orgId}/grants`, { key: ownerKey })).body["data"] as Array<Record<string, unknown>>;
      assert.equal(grants.find((x) => x["id"] === g["id"])?.["remaining"], "900000", "only the hold's own draw left the grant");
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });

    test("price books are versioned and effective-dated: never retroactive; a hold settles at the prices in force when it was taken", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      const books = (await h.request("GET", "/v1/price_books")).body["data"] as Array<Record<string, unknown>>;
      const base = books[0] as Record<string, unknown>;
      const doubled = {
        ...base,
        version: 1000 + Math.floor(Math.random() * 1000),
        models: (base["models"] as Array<Record<string, string>>).map((m) => ({ ...m, output: String(Number(m["output"]) * 2) })),
      };
      const past = await h.request("POST", "/v1/price_books", { body: { ...doubled, effective_from: new Date(h.clock.now() - 1000).toISOString() } });
      assert.equal(past.status, 400, JSON.stringify(past.body));
      assert.equal(((past.body["error"] as Record<string, unknown>)["details"] as Record<string, unknown>)["field"], "effective_from");
      const at = new Date(h.clock.now() + 60_000).toISOString();
      assert.equal((await h.request("POST", "/v1/price_books", { body: { ...doubled, effective_from: at } })).status, 201);
      const held = await authorize(orgId, ownerKey, sonnet(10_000)); // $0.15 at today's prices
      assert.equal((held.body["hold"] as Record<string, unknown>)["amount"], "150000");
      h.clock.advance(120_000); // the new book is in force now
      await h.app.services.catalog.refresh();
      const s = await settle(orgId, ownerKey, String((held.body["hold"] as Record<string, unknown>)["id"]), { usage: { output_tokens: 10_000 } });
      assert.equal(s.body["charged"], "150000", "settled with the book in force when the hold was taken");
      const later = await authorize(orgId, ownerKey, sonnet(10_000));
      assert.equal((later.body["hold"] as Record<string, unknown>)["amount"], "300000", "new holds use the new book");
      // Restore the default prices for the rest of this suite's database: a newer version, effective now.
      const restore = await h.request("POST", "/v1/price_books", { body: { ...base, version: (doubled.version as number) + 1, effective_from: new Date(h.clock.now()).toISOString() } });
      assert.equal(restore.status, 201, JSON.stringify(restore.body));
      await h.app.services.catalog.refresh();
    });

    test("usage events are charged once per event id", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(1 * USD) });
      const body = { event_id: "evt-1", model: "claude-haiku-4-5", usage: { input_tokens: 1000, output_tokens: 1000 } }; // $0.001 + $0.005
      const first = await h.request("POST", `/v1/organizations/${orgId}/usage_events`, { key: ownerKey, body });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body["charged"], "6000");
      const second = await h.request("POST", `/v1/organizations/${orgId}/usage_events`, { key: ownerKey, body });
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      const other = await h.request("POST", `/v1/organizations/${orgId}/usage_events`, { key: ownerKey, body: { ...body, usage: { input_tokens: 1 } } });
      assert.equal((other.body["error"] as Record<string, unknown>)["code"], "idempotency_conflict");
      assert.equal((await summary(orgId, ownerKey))["usage_credits"] && ((await summary(orgId, ownerKey))["usage_credits"] as Record<string, unknown>)["balance"], "994000");
    });

    test("Idempotency-Key: same key and body replays the original response; another body is a conflict", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(1 * USD) });
      const headers = { "idempotency-key": "auth-1" };
      const body = { model: "claude-sonnet-4-5", amount: "100000" };
      const [x, y] = await Promise.all([
        h.request("POST", `/v1/organizations/${orgId}/authorize`, { key: ownerKey, body, headers }),
        h.request("POST", `/v1/organizations/${orgId}/authorize`, { key: ownerKey, body, headers }),
      ]);
      assert.equal(x.status, 201);
      assert.deepEqual(x.body, y.body, "concurrent retries get one hold");
      const z = await h.request("POST", `/v1/organizations/${orgId}/authorize`, { key: ownerKey, body: { ...body, amount: "5" }, headers });
      assert.equal(z.status, 409);
      assert.equal((z.body["error"] as Record<string, unknown>)["code"], "idempotency_conflict");
      assert.equal(((await summary(orgId, ownerKey))["usage_credits"] as Record<string, unknown>)["balance"], "900000");
    });
  });
}
