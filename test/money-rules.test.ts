// The money rules of docs/money-rules.md end to end: real HTTP on loopback, SQLite and PostgreSQL.
// Each test name starts with its rule's number (R1, R2, …), the same numbers as the core's table
// tests (src/core/money-rules.test.ts). The clock only moves forward: tests run in calendar order.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEFAULT_PRICE_BOOK } from "../src/core/default-price-book.js";
import { HOUR_MS } from "../src/core/plans.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

const ENV = {
  USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "false",
};

/** Every JSON number under `v`, with its path (utilization is a percent, not money). */
function numbersIn(v: unknown, path = ""): string[] {
  if (typeof v === "number") return [path];
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => (k === "utilization" ? [] : numbersIn(x, `${path}.${k}`)));
  return [];
}

for (const backend of backends()) {
  describe(`money rules over HTTP on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), ENV);
    });
    after(async () => {
      assert.deepEqual((await verifyLedger(h)).violations, []);
      await h.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const authorize = (orgId: string, key: string, body: Json) => h.request("POST", `${base(orgId)}/authorize`, { key, body: { model: "claude-sonnet-4-5", ...body } });
    const settle = (orgId: string, key: string, holdId: string, amount: number) => h.request("POST", `${base(orgId)}/holds/${holdId}/settle`, { key, body: { amount: String(amount) } });
    const holdId = (r: { body: Json }) => String((r.body["hold"] as Json)["id"]);
    const summary = async (orgId: string, key: string) => (await h.request("GET", `${base(orgId)}/usage_summary`, { key })).body;
    const credits = async (orgId: string, key: string) => (await summary(orgId, key))["usage_credits"] as Json;
    const org = async (orgId: string) => (await h.request("GET", base(orgId))).body;
    const errorOf = (r: { body: Json }) => r.body["error"] as Json;
    const detailsOf = (r: { body: Json }) => errorOf(r)["details"] as Json;
    /** Spends `amount` through the plan (authorize + settle), e.g. to fill a window. */
    const spend = async (orgId: string, key: string, amount: number) => {
      const a = await authorize(orgId, key, { amount: String(amount) });
      assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.equal((await settle(orgId, key, holdId(a), amount)).status, 200);
      return a;
    };
    const setLimit = async (orgId: string, body: Json) => {
      const r = await h.request("POST", `${base(orgId)}/spend_limits`, { body });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };

    test("R1: session window full, usage credits on but unable to pay (no balance; a spending limit reached): 429 window_exhausted with the window's reset and retry-after", async () => {
      const t0 = h.clock.now();
      const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: true });
      await spend(orgId, ownerKey, 5 * USD); // the Pro session quota
      const refused = await authorize(orgId, ownerKey, { amount: "10000" });
      assert.equal(refused.status, 429, JSON.stringify(refused.body));
      assert.equal(errorOf(refused)["code"], "window_exhausted");
      assert.equal(errorOf(refused)["type"], "rate_limit_error");
      assert.equal(detailsOf(refused)["resets_at"], new Date(t0 + 5 * HOUR_MS).toISOString());
      assert.equal(refused.headers.get("retry-after"), String(5 * 3600));
      assert.equal((detailsOf(refused)["credits"] as Json)["code"], "insufficient_credits");

      // With a balance but a monthly limit reached: still the window, whose reset is what to wait for.
      await grant(h, orgId, { amount: String(10 * USD) });
      await setLimit(orgId, { scope: "organization", period: "monthly", amount: "5000" });
      const limited = await authorize(orgId, ownerKey, { amount: "10000" });
      assert.equal(limited.status, 429);
      assert.equal(errorOf(limited)["code"], "window_exhausted");
      assert.equal(detailsOf(limited)["resets_at"], new Date(t0 + 5 * HOUR_MS).toISOString());
      assert.equal((detailsOf(limited)["credits"] as Json)["code"], "spend_limit_reached");
      // Room under the limit again: the credits pay.
      await setLimit(orgId, { scope: "organization", period: "monthly", amount: String(1 * USD) });
      const paid = await authorize(orgId, ownerKey, { amount: "10000" });
      assert.equal(paid.status, 201);
      assert.equal((paid.body["hold"] as Json)["payer"], "credits");
    });

    test("R2: money inside error details is a string of digits (insufficient_credits, spend_limit_reached, window_exhausted)", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: "300000" });
      const low = await authorize(orgId, ownerKey, { amount: "500000" });
      assert.equal(low.status, 400);
      assert.equal(errorOf(low)["code"], "insufficient_credits");
      assert.deepEqual(detailsOf(low), { required: "500000", available: "300000", debt: "0" });
      await setLimit(orgId, { scope: "organization", period: "daily", amount: "100000" });
      const capped = await authorize(orgId, ownerKey, { amount: "200000" });
      assert.equal(capped.status, 429);
      assert.equal(errorOf(capped)["code"], "spend_limit_reached");
      assert.equal(detailsOf(capped)["spent"], "0");
      assert.equal(detailsOf(capped)["headroom"], "100000");
      assert.equal(detailsOf(capped)["required"], "200000");
      assert.deepEqual(numbersIn(capped.body), []);
      assert.deepEqual(numbersIn(low.body), []);

      const pro = await createOrg(h, { plan: "pro", usageCredits: true });
      await spend(pro.orgId, pro.ownerKey, 5 * USD);
      const full = await authorize(pro.orgId, pro.ownerKey, { amount: "10000" });
      assert.equal(errorOf(full)["code"], "window_exhausted");
      assert.deepEqual(numbersIn(full.body), []);
    });

    test("R5: refusal precedence over HTTP: debt beats usage credits off; the lower of two limits' headroom is reported", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      await setLimit(orgId, { scope: "organization", period: "monthly", amount: String(4 * USD) });
      await setLimit(orgId, { scope: "organization", period: "daily", amount: String(3 * USD) });
      const r = await authorize(orgId, ownerKey, { amount: String(5 * USD) });
      assert.equal(errorOf(r)["code"], "spend_limit_reached");
      assert.equal(detailsOf(r)["period"], "daily");
      // Debt (in an organization without limits, so the settle beyond its hold may create it, R16):
      // a settle beyond the hold with nothing else to pay; then usage credits off.
      const other = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, other.orgId, { amount: String(10 * USD) });
      const a = await authorize(other.orgId, other.ownerKey, { amount: String(1 * USD) });
      assert.equal((await settle(other.orgId, other.ownerKey, holdId(a), 10 * USD + 1)).status, 200);
      assert.equal((await org(other.orgId))["debt"], "1");
      assert.equal((await h.request("PUT", `${base(other.orgId)}/usage_credits`, { key: other.ownerKey, body: { is_enabled: false } })).status, 200);
      const inDebt = await authorize(other.orgId, other.ownerKey, { amount: "1" });
      assert.equal(inDebt.status, 400);
      assert.equal(errorOf(inDebt)["code"], "insufficient_credits");
      assert.equal(detailsOf(inDebt)["debt"], "1");
    });

    test("R6: an alert-only budget counts spend, alerts at 50/75/90/100 % and over, never refuses; shown in the summary, listed and audited; a hard limit beside it still refuses", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const ep = await h.request("POST", `${base(orgId)}/webhook_endpoints`, { body: { url: "http://127.0.0.1:9/hook", event_types: ["spend_limit.threshold", "spend_limit.reached", "spend_limit.exceeded"] } });
      assert.equal(ep.status, 201, JSON.stringify(ep.body));
      await grant(h, orgId, { amount: String(20 * USD) });
      const budget = await setLimit(orgId, { scope: "member", scope_id: ownerId, period: "monthly", amount: String(1 * USD), stop_usage: false });
      assert.equal(budget["stop_usage"], false);
      for (let i = 0; i < 6; i++) await spend(orgId, ownerKey, 500_000); // $3 against a $1 budget
      await h.app.services.webhooks.idle();
      const events = (await h.request("GET", `${base(orgId)}/events?limit=500`)).body["data"] as Json[];
      const data = (type: string) => events.filter((e) => e["type"] === type).map((e) => e["data"] as Json);
      assert.deepEqual(data("spend_limit.threshold").map((d) => d["threshold_percent"]).sort((x, y) => Number(x) - Number(y)), [50, 75, 90, 100]);
      assert.equal(data("spend_limit.reached").length, 1);
      // Once per period. Alerts are evaluated after commits, coalesced per organization, so `over` is
      // the excess when the evaluation ran: at least the first step past the amount, at most all of it.
      const exceeded = data("spend_limit.exceeded");
      assert.deepEqual(exceeded.map((d) => [d["limit_id"], d["stop_usage"]]), [[budget["id"], false]], "once");
      assert.ok([500_000, 1_000_000, 1_500_000, 2_000_000].includes(Number(exceeded[0]?.["over"])), JSON.stringify(exceeded));
      const c = await credits(orgId, ownerKey);
      assert.equal(c["spend_limit_reached"], false, "an alert-only budget does not stop usage");
      const shown = (c["limits"] as Json[]).find((l) => l["id"] === budget["id"]);
      assert.equal(shown?.["stop_usage"], false);
      assert.equal(shown?.["spent"], String(3 * USD));
      assert.equal(shown?.["headroom"], "0");
      assert.equal(shown?.["utilization"], 100);
      const listed = (await h.request("GET", `${base(orgId)}/spend_limits`)).body["data"] as Json[];
      assert.deepEqual(listed.map((l) => l["stop_usage"]), [false]);
      const audit = (await h.request("GET", `${base(orgId)}/audit_log?limit=100`)).body["data"] as Json[];
      const set = audit.find((a) => a["action"] === "spend_limit.set");
      assert.equal(((set?.["after"] as Json | undefined) ?? {})["stop_usage"], false, JSON.stringify(set));

      // A hard daily limit of $4 beside it: the hard one refuses at $4 ($3 spent, $1.50 asked).
      await setLimit(orgId, { scope: "organization", period: "daily", amount: String(4 * USD) });
      const refused = await authorize(orgId, ownerKey, { amount: "1500000" });
      assert.equal(refused.status, 429);
      assert.equal(detailsOf(refused)["period"], "daily");
      assert.equal((await credits(orgId, ownerKey))["spend_limit_reached"], false, "the hard limit has $1 of headroom left");
    });

    test("R7: utilization is the floored percent of settled and held usage; the hold is also reported as `held`", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: false });
      await spend(orgId, ownerKey, 994_999); // 19.89998 % of $5
      await authorize(orgId, ownerKey, { amount: String(2 * USD) }); // pending
      const s = (await summary(orgId, ownerKey))["five_hour"] as Json;
      assert.equal(s["utilization"], 59, "(994,999 + 2,000,000) × 100 ÷ 5,000,000 = 59.89998, floored");
      assert.equal(s["used"], "994999");
      assert.equal(s["held"], String(2 * USD));
      assert.equal(s["status"], "allowed");
    });

    test("R9: a premium seat on a plan without premium quotas gets the standard seat's windows", async () => {
      const { orgId } = await createOrg(h, { plan: "pro" });
      const m = await addMember(h, orgId, { role: "member", seat_tier: "premium" });
      const s = await summary(orgId, m.key);
      assert.equal((s["five_hour"] as Json)["quota"], String(5 * USD), "Pro's standard session quota");
    });

    test("R11: a usage total beyond its cache_creation breakdown is charged at the 5-minute rate, over the API as through the gateway", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      // 100,000 tokens: below the book's 200,000-token long-context threshold for this model.
      const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 100_000, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 60_000 } };
      const r = await h.request("POST", `${base(orgId)}/usage_events`, { key: ownerKey, body: { event_id: "cache-1", model: "claude-sonnet-4-5", usage } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      // Sonnet 4.5: 60,000 1h writes at $6/MTok = $0.36; the other 40,000 at the 5m rate $3.75/MTok = $0.15.
      assert.equal(r.body["charged"], String(510_000));
    });

    test("R4: a $0.70 hold authorized before midnight and settled after counts in the new month; the new month's $1.00 limit is never passed", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      await setLimit(orgId, { scope: "organization", period: "monthly", amount: String(1 * USD) });
      h.clock.set(Date.UTC(2026, 2, 31, 23, 30));
      const march = await authorize(orgId, ownerKey, { amount: "700000", ttl_seconds: 7200 });
      assert.equal(march.status, 201);
      h.clock.set(Date.UTC(2026, 3, 1, 0, 30));
      const over = await authorize(orgId, ownerKey, { amount: "400000" });
      assert.equal(over.status, 429, "the March hold takes April's headroom too");
      assert.equal(detailsOf(over)["headroom"], "300000");
      const fits = await authorize(orgId, ownerKey, { amount: "300000" });
      assert.equal(fits.status, 201);
      assert.equal((await settle(orgId, ownerKey, holdId(march), 700_000)).status, 200);
      assert.equal((await settle(orgId, ownerKey, holdId(fits), 300_000)).status, 200);
      const limit = ((await credits(orgId, ownerKey))["limits"] as Json[])[0];
      assert.equal(limit?.["spent"], String(1 * USD), "April: exactly the limit");
      const april = (await h.request("GET", `${base(orgId)}/statements/2026-04`)).body;
      const march2 = (await h.request("GET", `${base(orgId)}/statements/2026-03`)).body;
      assert.equal((april["usage"] as Json)["total"], String(1 * USD), "the April statement carries both charges");
      assert.equal((march2["usage"] as Json)["total"], "0");
    });

    test("R3: monthly SDK credits repay debt like every grant; an organization in debt cannot spend any member's monthly credit until it is repaid", async () => {
      h.clock.set(Date.UTC(2026, 3, 2, 9));
      const { orgId } = await createOrg(h, { plan: "pro", usageCredits: true });
      const a = await addMember(h, orgId, { role: "member" }, "sdk");
      const b = await addMember(h, orgId, { role: "member" }, "sdk");
      for (const m of [a, b]) assert.equal((await h.request("POST", `${base(orgId)}/members/${m.memberId}/sdk_credits/claim`)).status, 200);
      // A spends all of its $20 credit and then $0.30 more than its hold: debt.
      const held = await authorize(orgId, a.key, { amount: String(20 * USD) });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      assert.equal((await settle(orgId, a.key, holdId(held), 20_300_000)).status, 200);
      assert.equal((await org(orgId))["debt"], "300000");
      // B's own monthly credit is untouched, but the organization is in debt: refused.
      const blocked = await authorize(orgId, b.key, { amount: "1000" });
      assert.equal(blocked.status, 400, JSON.stringify(blocked.body));
      assert.equal(errorOf(blocked)["code"], "insufficient_credits");
      assert.equal(detailsOf(blocked)["debt"], "300000");
      // The next cycle's monthly credits repay the debt first.
      h.clock.set(Date.UTC(2026, 4, 1, 0, 5));
      assert.equal(await h.app.runJobs(), true);
      assert.equal((await org(orgId))["debt"], "0");
      const grants = (await h.request("GET", `${base(orgId)}/grants`)).body["data"] as Json[];
      const may = grants.filter((g) => g["kind"] === "monthly" && g["status"] === "active");
      assert.deepEqual(may.map((g) => Number(g["remaining"])).sort((x, y) => x - y), [19_700_000, 20 * USD]);
      assert.equal((await authorize(orgId, b.key, { amount: "1000" })).status, 201);
    });

    test("R12: breakage of a month's SDK credit is posted when the sweep expires it, at the cycle's end: on the next month's statement", async () => {
      h.clock.set(Date.UTC(2026, 4, 10, 9));
      const { orgId } = await createOrg(h, { plan: "pro", usageCredits: true });
      const a = await addMember(h, orgId, { role: "member" }, "sdk");
      assert.equal((await h.request("POST", `${base(orgId)}/members/${a.memberId}/sdk_credits/claim`)).status, 200);
      await spend(orgId, a.key, 5 * USD);
      h.clock.set(Date.UTC(2026, 5, 1, 0, 5));
      assert.equal(await h.app.runJobs(), true);
      const line = async (month: string) => ((await h.request("GET", `${base(orgId)}/statements/${month}`)).body["lines"] as Json[]).find((l) => l["category"] === "expiries")?.["amount"];
      assert.equal(await line("2026-05"), "0", "May's statement: no breakage");
      assert.equal(await line("2026-06"), String(-15 * USD), "June's statement: the $15 left of May's credit");
    });

    test("R10: a new price book replaces the old one whole: a model it omits is unknown_model from its effective_from; a hold taken before settles at the old prices", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      const from = h.clock.now() + HOUR_MS;
      const book = { ...DEFAULT_PRICE_BOOK, id: "pb_opus_only", version: 1, effective_from: new Date(from).toISOString(), models: DEFAULT_PRICE_BOOK.models.filter((m) => m.id.includes("opus")), unknown_models: { policy: "refuse" as const } };
      const published = await h.request("POST", "/v1/price_books", { body: book });
      assert.equal(published.status, 201, JSON.stringify(published.body));
      const haiku = { model: "claude-haiku-4-5", estimated_usage: { input_tokens: 1_000_000, output_tokens: 0 }, ttl_seconds: 7200 };
      const before = await authorize(orgId, ownerKey, haiku);
      assert.equal(before.status, 201);
      h.clock.set(from);
      const after = await authorize(orgId, ownerKey, haiku);
      assert.equal(after.status, 400);
      assert.equal(errorOf(after)["code"], "unknown_model");
      const settled = await h.request("POST", `${base(orgId)}/holds/${holdId(before)}/settle`, { key: ownerKey, body: { usage: { input_tokens: 1_000_000, output_tokens: 0 } } });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      assert.equal(settled.body["charged"], String(1 * USD), "Haiku 4.5 input at $1/MTok, the book in force at the hold");
    });
  });
}
