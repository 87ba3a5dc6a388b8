// Money in, over real HTTP on SQLite and PostgreSQL: purchases and bundles, payment methods,
// credit requests, auto-reload with its circuit breaker, the pending-payment poller, the events
// outbox. The sandbox provider's charge log proves "exactly one charge"; the grants and the
// ledger prove "exactly one grant"; /v1/ledger/verify is checked after every scenario.

import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { SandboxProvider } from "../src/adapters/payments/sandbox.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

const CARD = {
  ok: "4242424242424242",
  declined: "4000000000000002",
  insufficient: "4000000000009995",
  authentication: "4000002500003155",
  timeoutOnce: "4000000000000119",
  pending: "4000000000000077",
} as const;

const BACKOFF_S = 600;
const PENDING_S = 60;

type Json = Record<string, unknown>;

for (const backend of backends()) {
  describe(`money in on ${backend.name}`, () => {
    let h: Harness;
    let sandbox: SandboxProvider;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), {
        USAGE_CREDITS_RELOAD_BACKOFF_SECONDS: String(BACKOFF_S),
        USAGE_CREDITS_SANDBOX_PENDING_SECONDS: String(PENDING_S),
      });
      const p = h.app.services.moneyIn.provider;
      assert.ok(p instanceof SandboxProvider, "the embedded default provider is the sandbox");
      sandbox = p;
    });
    afterEach(async () => {
      await h.app.services.moneyIn.idle();
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, [], "ledger verify after the scenario");
      assert.equal(v.ok, true);
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const charges = (orgId: string) => sandbox.charges().filter((c) => c.metadata["org_id"] === orgId);
    const addCard = async (orgId: string, number: string, key?: string): Promise<string> => {
      const r = await h.request("POST", `${base(orgId)}/payment_methods`, { ...(key ? { key } : {}), body: { card_number: number } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return String(r.body["id"]);
    };
    const buy = (orgId: string, body: Json, options: { key?: string; idem?: string } = {}) =>
      h.request("POST", `${base(orgId)}/purchases`, { ...(options.key ? { key: options.key } : {}), body, ...(options.idem ? { headers: { "idempotency-key": options.idem } } : {}) });
    const purchaseGrants = async (orgId: string) =>
      ((await h.request("GET", `${base(orgId)}/grants`)).body["data"] as Json[]).filter((g) => g["kind"] === "purchase");
    const payments = async (orgId: string) => (await h.request("GET", `${base(orgId)}/purchases`)).body["data"] as Json[];
    const events = async (orgId: string, type?: string) =>
      ((await h.request("GET", `${base(orgId)}/events?limit=500`)).body["data"] as Json[]).filter((e) => type === undefined || e["type"] === type);
    const attempts = async (orgId: string) => (await h.request("GET", `${base(orgId)}/auto_reload/attempts`)).body["data"] as Json[];
    const balance = async (orgId: string, key: string) =>
      Number(((await h.request("GET", `${base(orgId)}/usage_summary`, { key })).body["usage_credits"] as Json)["balance"]);
    const code = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];
    const usage = (orgId: string, key: string, amount: number) =>
      h.request("POST", `${base(orgId)}/usage_events`, { key, body: { event_id: `ev-${Math.random().toString(36).slice(2)}`, model: "claude-sonnet-4-5", amount: String(amount) } });
    const settleUsage = async (orgId: string, key: string, amount: number) => {
      const r = await usage(orgId, key, amount);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await h.app.services.moneyIn.idle();
    };

    test("a purchase succeeds once and grants once even when its Idempotency-Key is replayed; a bundle grants face value for the discounted price", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const pm = await addCard(orgId, CARD.ok, ownerKey);
      const listed = (await h.request("GET", `${base(orgId)}/payment_methods`, { key: ownerKey })).body["data"] as Json[];
      assert.deepEqual(listed.map((m) => [m["brand"], m["last4"]]), [["visa", "4242"]]);
      assert.ok(!JSON.stringify(listed).includes(CARD.ok), "the card number is never stored or returned");

      const body = { amount: String(50 * USD), payment_method_id: pm };
      const first = await buy(orgId, body, { key: ownerKey, idem: "buy-1" });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body["status"], "succeeded");
      assert.equal(first.body["amount"], String(50 * USD));
      const again = await buy(orgId, body, { key: ownerKey, idem: "buy-1" });
      assert.equal(again.status, 201);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(again.body, first.body);
      const conflict = await buy(orgId, { ...body, amount: String(60 * USD) }, { key: ownerKey, idem: "buy-1" });
      assert.equal(conflict.status, 409);
      assert.equal(code(conflict), "idempotency_conflict");

      assert.equal(charges(orgId).length, 1, "exactly one charge");
      const grants = await purchaseGrants(orgId);
      assert.equal(grants.length, 1, "exactly one grant");
      assert.equal(grants[0]?.["id"], first.body["grant_id"]);
      assert.equal(grants[0]?.["amount"], String(50 * USD));
      assert.equal(grants[0]?.["expires_at"], new Date(h.clock.now() + 365 * 86_400_000).toISOString(), "purchased credits expire a year after purchase");
      assert.equal(await balance(orgId, ownerKey), 50 * USD);
      assert.equal((await events(orgId, "purchase.succeeded")).length, 1);

      // $500 bundle at 10% off: $500 of credits for a $450 charge.
      const bundle = await buy(orgId, { bundle_id: "bundle_500", payment_method_id: pm }, { key: ownerKey });
      assert.equal(bundle.status, 201, JSON.stringify(bundle.body));
      assert.equal(bundle.body["amount"], String(450 * USD));
      assert.equal(bundle.body["credit_amount"], String(500 * USD));
      assert.equal(charges(orgId).at(-1)?.amount, 450 * USD);
      assert.equal(await balance(orgId, ownerKey), 550 * USD);
      // $2,000 bundle at 30% off is charged $1,400: above $1,000 it needs confirm.
      const unconfirmed = await buy(orgId, { bundle_id: "bundle_2000", payment_method_id: pm }, { key: ownerKey });
      assert.equal(unconfirmed.status, 400);
      assert.equal(code(unconfirmed), "confirmation_required");
      const confirmed = await buy(orgId, { bundle_id: "bundle_2000", payment_method_id: pm, confirm: true }, { key: ownerKey });
      assert.equal(confirmed.status, 201, JSON.stringify(confirmed.body));
      assert.equal(await balance(orgId, ownerKey), 2_550 * USD);
      assert.equal(charges(orgId).length, 3);
      const bundles = await h.request("GET", "/v1/bundles", { key: ownerKey });
      assert.deepEqual((bundles.body["data"] as Json[]).map((b) => [b["id"], b["price"]]), [
        ["bundle_100", String(100 * USD)],
        ["bundle_500", String(450 * USD)],
        ["bundle_1000", String(800 * USD)],
        ["bundle_2000", String(1_400 * USD)],
      ]);
    });

    test("a purchase repays debt first, through the books", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(1 * USD) });
      const held = await h.request("POST", `${base(orgId)}/authorize`, { key: ownerKey, body: { model: "claude-sonnet-4-5", amount: String(1 * USD) } });
      const holdId = String((held.body["hold"] as Json)["id"]);
      const settled = await h.request("POST", `${base(orgId)}/holds/${holdId}/settle`, { key: ownerKey, body: { amount: String(4 * USD) } });
      assert.equal(settled.body["debt"], String(3 * USD));
      const pm = await addCard(orgId, CARD.ok);
      const r = await buy(orgId, { amount: String(10 * USD), payment_method_id: pm });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(await balance(orgId, ownerKey), 7 * USD, "$10 bought, $3 of debt repaid first");
      const org = await h.request("GET", base(orgId));
      assert.equal(org.body["debt"], "0");
    });

    test("a declined purchase grants nothing; insufficient funds likewise; an on-session card needing authentication succeeds", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const declined = await addCard(orgId, CARD.declined);
      const poor = await addCard(orgId, CARD.insufficient);
      const threeDs = await addCard(orgId, CARD.authentication);
      const r = await buy(orgId, { amount: String(20 * USD), payment_method_id: declined }, { idem: "declined-1" });
      assert.equal(r.status, 402, JSON.stringify(r.body));
      assert.equal(code(r), "payment_failed");
      assert.equal(((r.body["error"] as Json)["details"] as Json)["failure_code"], "card_declined");
      const replay = await buy(orgId, { amount: String(20 * USD), payment_method_id: declined }, { idem: "declined-1" });
      assert.equal(replay.status, 402);
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      const r2 = await buy(orgId, { amount: String(20 * USD), payment_method_id: poor });
      assert.equal(((r2.body["error"] as Json)["details"] as Json)["failure_code"], "insufficient_funds");
      assert.equal((await purchaseGrants(orgId)).length, 0, "no grant for a failed payment");
      assert.equal(await balance(orgId, ownerKey), 0);
      assert.deepEqual((await payments(orgId)).map((p) => p["status"]), ["failed", "failed"]);
      assert.equal((await events(orgId, "purchase.failed")).length, 2);
      const r3 = await buy(orgId, { amount: String(20 * USD), payment_method_id: threeDs });
      assert.equal(r3.status, 201, "on-session, the customer answered the challenge");
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });

    test("a charge that never got an answer is not retried after the retry window (the provider may have forgotten its key): it fails, nothing is granted", async () => {
      const { orgId } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const flaky = await addCard(orgId, CARD.timeoutOnce);
      const t = await buy(orgId, { amount: String(40 * USD), payment_method_id: flaky });
      assert.equal(t.status, 202, "the provider timed out: pending");
      const chargesBefore = charges(orgId).length;
      h.clock.advance(21 * 3_600_000); // past the 20 h window, inside Stripe's 24 h key memory
      await h.app.services.moneyIn.resolvePending();
      const after = await h.request("GET", `${base(orgId)}/purchases/${String(t.body["id"])}`);
      assert.equal(after.body["status"], "failed", JSON.stringify(after.body));
      assert.equal(after.body["failure_code"], "provider_unreachable");
      assert.equal(charges(orgId).length, chargesBefore, "no new charge attempt");
      assert.equal((await purchaseGrants(orgId)).length, 0);
    });

    test("a pending (delayed) purchase is granted exactly once, after the poller; a provider timeout is retried with the same key and charged once", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const slow = await addCard(orgId, CARD.pending);
      const flaky = await addCard(orgId, CARD.timeoutOnce);
      const body = { amount: String(30 * USD), payment_method_id: slow };
      const r = await buy(orgId, body, { idem: "slow-1" });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.equal(r.body["status"], "pending");
      const paymentId = String(r.body["id"]);
      await h.app.services.moneyIn.resolvePending();
      assert.equal((await h.request("GET", `${base(orgId)}/purchases/${paymentId}`)).body["status"], "pending", "not yet: the sandbox settles after the delay");
      h.clock.advance((PENDING_S + 1) * 1000);
      await Promise.all([h.app.services.moneyIn.resolvePending(), h.app.services.moneyIn.resolvePending()]);
      await h.app.services.moneyIn.resolvePending();
      const done = await h.request("GET", `${base(orgId)}/purchases/${paymentId}`);
      assert.equal(done.body["status"], "succeeded");
      // A client retry with the same key sees the final state and charges nothing more.
      const retry = await buy(orgId, body, { idem: "slow-1" });
      assert.equal(retry.status, 201);
      assert.equal(retry.body["status"], "succeeded");
      assert.equal(charges(orgId).length, 1);
      assert.equal((await purchaseGrants(orgId)).length, 1);
      assert.equal(await balance(orgId, ownerKey), 30 * USD);

      const t = await buy(orgId, { amount: String(40 * USD), payment_method_id: flaky });
      assert.equal(t.status, 202, "the provider timed out: the payment stays pending");
      assert.equal((await purchaseGrants(orgId)).length, 1);
      await h.app.services.moneyIn.resolvePending();
      await h.app.services.moneyIn.resolvePending();
      const after = await h.request("GET", `${base(orgId)}/purchases/${String(t.body["id"])}`);
      assert.equal(after.body["status"], "succeeded");
      assert.equal(charges(orgId).length, 2, "the retry used the same key: one charge");
      assert.equal((await purchaseGrants(orgId)).length, 2);
      assert.equal(await balance(orgId, ownerKey), 70 * USD);
      assert.equal((await events(orgId, "purchase.succeeded")).length, 2);
    });

    test("bad input is refused with clear codes and charges nothing", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const pm = await addCard(orgId, CARD.ok);
      const member = await addMember(h, orgId, { role: "member" });
      const before = sandbox.charges().length;
      const cases: Array<[Json, number, string]> = [
        [{ amount: "12345000", payment_method_id: pm }, 400, "amount_not_whole_cents"], // $12.345: 3 decimals
        [{ amount: "-5000000", payment_method_id: pm }, 400, "invalid_request"],
        [{ amount: "0", payment_method_id: pm }, 400, "amount_below_minimum"],
        [{ amount: String(4 * USD), payment_method_id: pm }, 400, "amount_below_minimum"],
        [{ amount: String(10_001 * USD), payment_method_id: pm, confirm: true }, 400, "amount_above_maximum"],
        [{ amount: String(1_500 * USD), payment_method_id: pm }, 400, "confirmation_required"],
        [{ bundle_id: "bundle_9", payment_method_id: pm }, 400, "unknown_bundle"],
        [{ amount: String(10 * USD), bundle_id: "bundle_100", payment_method_id: pm }, 400, "invalid_request"],
        [{ amount: String(10 * USD), payment_method_id: "pm_00000000000000000000000000" }, 404, "not_found"],
      ];
      for (const [body, status, c] of cases) {
        const r = await buy(orgId, body, { key: ownerKey });
        assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
        assert.equal(code(r), c, JSON.stringify(body));
      }
      // Member without billing rights: may not buy, nor save cards, nor set auto-reload.
      const m1 = await buy(orgId, { amount: String(10 * USD), payment_method_id: pm }, { key: member.key });
      assert.equal(m1.status, 403);
      assert.equal(code(m1), "forbidden");
      assert.equal((await h.request("POST", `${base(orgId)}/payment_methods`, { key: member.key, body: { card_number: CARD.ok } })).status, 403);
      assert.equal((await h.request("PUT", `${base(orgId)}/auto_reload`, { key: member.key, body: { enabled: false, threshold: "0" } })).status, 403);
      // Daily cap ($2,000 by default, on charged amounts): $1,000 + $900 fit, $200 more does not.
      assert.equal((await buy(orgId, { amount: String(1_000 * USD), payment_method_id: pm })).status, 201);
      assert.equal((await buy(orgId, { amount: String(900 * USD), payment_method_id: pm })).status, 201);
      const capped = await buy(orgId, { amount: String(200 * USD), payment_method_id: pm });
      assert.equal(capped.status, 429);
      assert.equal(code(capped), "daily_purchase_cap_reached");
      assert.ok(Number(capped.headers.get("retry-after")) > 0);
      assert.equal(((capped.body["error"] as Json)["details"] as Json)["remaining"], String(100 * USD));
      assert.equal(sandbox.charges().length, before + 2, "only the two valid purchases reached the provider");
      assert.equal((await purchaseGrants(orgId)).length, 2);
      // Auto-reload settings that make no sense.
      const reload = (body: Json) => h.request("PUT", `${base(orgId)}/auto_reload`, { key: ownerKey, body });
      const bad: Array<[Json, string]> = [
        [{ enabled: true, threshold: String(50 * USD), mode: "target", target_balance: String(40 * USD), payment_method_id: pm }, "threshold_not_below_target"],
        [{ enabled: true, threshold: String(50 * USD), mode: "target", target_balance: String(50 * USD), payment_method_id: pm }, "threshold_not_below_target"],
        [{ enabled: true, threshold: String(10 * USD), mode: "amount", amount: String(20_000 * USD), payment_method_id: pm }, "amount_above_maximum"],
        [{ enabled: true, threshold: String(10 * USD), mode: "amount", amount: String(20 * USD) }, "payment_method_required"],
        [{ enabled: true, threshold: String(10 * USD), mode: "amount", amount: "20005000", payment_method_id: pm }, "amount_not_whole_cents"],
        [{ enabled: true, threshold: String(10 * USD), mode: "amount", payment_method_id: pm }, "invalid_request"],
      ];
      for (const [body, c] of bad) {
        const r = await reload(body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(code(r), c, JSON.stringify(body));
      }
      assert.equal((await h.request("GET", `${base(orgId)}/auto_reload`)).body["enabled"], false, "nothing was saved");
      assert.equal(sandbox.charges().length, before + 2);
    });

    test("a member without billing rights requests credits; an admin approves (a purchase under the same rules) or declines, recorded with who and when", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const member = await addMember(h, orgId, { role: "member" });
      const good = await addCard(orgId, CARD.ok);
      const bad = await addCard(orgId, CARD.declined);
      const req = await h.request("POST", `${base(orgId)}/credit_requests`, { key: member.key, body: { amount: String(30 * USD), note: "for the demo" } });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      assert.equal(req.body["status"], "pending");
      const reqId = String(req.body["id"]);
      assert.equal((await h.request("POST", `${base(orgId)}/credit_requests`, { key: member.key, body: { amount: "12345000" } })).status, 400);
      assert.equal((await h.request("GET", `${base(orgId)}/credit_requests`, { key: member.key })).status, 403, "members cannot list or decide");
      assert.equal((await h.request("POST", `${base(orgId)}/credit_requests/${reqId}/approve`, { key: member.key, body: { payment_method_id: good } })).status, 403);
      assert.equal((await events(orgId, "credit_request.created")).length, 1);
      const listed = (await h.request("GET", `${base(orgId)}/credit_requests`, { key: ownerKey })).body["data"] as Json[];
      assert.deepEqual(listed.map((r) => [r["id"], r["member_id"], r["note"]]), [[reqId, member.memberId, "for the demo"]]);

      const declinedCard = await h.request("POST", `${base(orgId)}/credit_requests/${reqId}/approve`, { key: ownerKey, body: { payment_method_id: bad } });
      assert.equal(declinedCard.status, 402);
      const still = (await h.request("GET", `${base(orgId)}/credit_requests`, { key: ownerKey })).body["data"] as Json[];
      assert.equal(still[0]?.["status"], "pending", "a failed charge leaves the request open");
      h.clock.advance(1000);
      const approved = await h.request("POST", `${base(orgId)}/credit_requests/${reqId}/approve`, { key: ownerKey, body: { payment_method_id: good } });
      assert.equal(approved.status, 201, JSON.stringify(approved.body));
      assert.equal(approved.body["credit_request_id"], reqId);
      assert.equal(approved.body["created_by"], ownerId);
      const twice = await h.request("POST", `${base(orgId)}/credit_requests/${reqId}/approve`, { key: ownerKey, body: { payment_method_id: good } });
      assert.equal(twice.status, 409);
      const rows = (await h.request("GET", `${base(orgId)}/credit_requests`, { key: ownerKey })).body["data"] as Json[];
      assert.equal(rows[0]?.["status"], "approved");
      assert.equal(rows[0]?.["decided_by"], ownerId);
      assert.equal(rows[0]?.["decided_at"], new Date(h.clock.now()).toISOString());
      assert.equal(rows[0]?.["payment_id"], approved.body["id"]);
      assert.equal((await purchaseGrants(orgId)).length, 1);
      assert.equal(await balance(orgId, ownerKey), 30 * USD);

      const other = await h.request("POST", `${base(orgId)}/credit_requests`, { key: member.key, body: { amount: String(5_000 * USD) } });
      const unconfirmed = await h.request("POST", `${base(orgId)}/credit_requests/${String(other.body["id"])}/approve`, { key: ownerKey, body: { payment_method_id: good } });
      assert.equal(code(unconfirmed), "confirmation_required", "approval is a purchase under the same rules");
      const declined = await h.request("POST", `${base(orgId)}/credit_requests/${String(other.body["id"])}/decline`, { key: ownerKey });
      assert.equal(declined.status, 200);
      assert.equal(declined.body["status"], "declined");
      assert.equal(declined.body["decided_by"], ownerId);
      assert.equal(charges(orgId).length, 2, "the declined card and the approval");
    });

    for (const [label, card] of [
      ["a succeeding card", CARD.ok],
      ["a card whose first attempt times out", CARD.timeoutOnce],
    ] as const) {
      test(`100 concurrent settles crossing the reload threshold make exactly one reload charge (${label})`, async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
        await grant(h, orgId, { amount: String(60 * USD) });
        const pm = await addCard(orgId, card);
        const put = await h.request("PUT", `${base(orgId)}/auto_reload`, {
          key: ownerKey,
          body: { enabled: true, threshold: String(20 * USD), mode: "target", target_balance: String(100 * USD), payment_method_id: pm, monthly_cap: String(500 * USD) },
        });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        await h.app.services.moneyIn.idle();
        assert.equal(charges(orgId).length, 0, "$60 is above the $20 threshold");
        // 100 holds of $0.10 leave $50; settling each at $0.50 spends $50 in all and crosses $20 on the way.
        const holds = await Promise.all(
          Array.from({ length: 100 }, async () => {
            const r = await h.request("POST", `${base(orgId)}/authorize`, { key: ownerKey, body: { model: "claude-sonnet-4-5", amount: String(USD / 10) } });
            assert.equal(r.status, 201, JSON.stringify(r.body));
            return String((r.body["hold"] as Json)["id"]);
          }),
        );
        const settled = await Promise.all(holds.map((id) => h.request("POST", `${base(orgId)}/holds/${id}/settle`, { key: ownerKey, body: { amount: String(USD / 2) } })));
        assert.ok(settled.every((r) => r.status === 200));
        await h.app.services.moneyIn.idle();
        if (card === CARD.timeoutOnce) {
          const pending = await payments(orgId);
          assert.deepEqual(pending.map((p) => [p["purpose"], p["status"]]), [["auto_reload", "pending"]], "timed out: pending, and it is the lock");
          assert.equal((await purchaseGrants(orgId)).length, 0);
          // More settles while the reload is in flight start no second one.
          await settleUsage(orgId, ownerKey, USD / 100);
          await h.app.services.moneyIn.resolvePending();
          await h.app.services.moneyIn.resolvePending();
        }
        const log = charges(orgId);
        assert.equal(log.length, 1, "exactly one reload charge");
        assert.equal(log[0]?.offSession, true);
        const ps = await payments(orgId);
        assert.deepEqual(ps.map((p) => [p["purpose"], p["status"]]), [["auto_reload", "succeeded"]]);
        const grants = await purchaseGrants(orgId);
        assert.equal(grants.length, 1, "exactly one grant");
        const reloaded = Number(ps[0]?.["amount"]);
        assert.equal(grants[0]?.["amount"], String(reloaded));
        assert.ok(reloaded >= 80 * USD && reloaded <= 100 * USD, `one charge for the whole shortfall up to the $100 target (${reloaded})`);
        const spent = 50 * USD + (card === CARD.timeoutOnce ? USD / 100 : 0);
        assert.equal(await balance(orgId, ownerKey), 60 * USD - spent + reloaded);
        assert.equal((await events(orgId, "auto_reload.succeeded")).length, 1);
        assert.equal((await events(orgId, "credits.low_balance")).length, 1);
        const tried = await attempts(orgId);
        assert.deepEqual(tried.map((a) => [a["outcome"], a["reason"]]), [["succeeded", null]]);
      });
    }

    test("evaluations racing without the in-process coalescing still make one reload (org lock + one pending reload per org)", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(5 * USD) });
      const pm = await addCard(orgId, CARD.pending); // stays pending: the in-flight reload is the lock
      await h.request("PUT", `${base(orgId)}/auto_reload`, { key: ownerKey, body: { enabled: true, threshold: String(20 * USD), mode: "amount", amount: String(50 * USD), payment_method_id: pm } });
      const decisions = await Promise.all(Array.from({ length: 25 }, () => h.app.services.moneyIn.evaluate(orgId)));
      await h.app.services.moneyIn.idle();
      assert.equal(decisions.filter((d) => d?.kind === "charge").length <= 1, true);
      assert.equal(charges(orgId).length, 1);
      h.clock.advance((PENDING_S + 1) * 1000);
      await h.app.services.moneyIn.resolvePending();
      await Promise.all(Array.from({ length: 10 }, () => h.app.services.moneyIn.evaluate(orgId)));
      assert.equal(charges(orgId).length, 1);
      assert.equal((await purchaseGrants(orgId)).length, 1);
      assert.equal(await balance(orgId, ownerKey), 55 * USD);
    });

    test("three declines suspend auto-reload (one auto_reload.suspended event); a different payment method lifts it", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(30 * USD) });
      const bad = await addCard(orgId, CARD.declined);
      const put = await h.request("PUT", `${base(orgId)}/auto_reload`, {
        key: ownerKey,
        body: { enabled: true, threshold: String(20 * USD), mode: "amount", amount: String(25 * USD), payment_method_id: bad },
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await settleUsage(orgId, ownerKey, 11 * USD); // $19 left: decline 1
      assert.equal(charges(orgId).length, 1);
      await settleUsage(orgId, ownerKey, USD / 100); // within the backoff: no new attempt
      assert.equal(charges(orgId).length, 1, "backoff after a decline");
      h.clock.advance((BACKOFF_S + 1) * 1000);
      await settleUsage(orgId, ownerKey, USD / 100); // decline 2
      h.clock.advance((BACKOFF_S + 1) * 1000);
      await settleUsage(orgId, ownerKey, USD / 100); // decline 3 → suspended
      assert.equal(charges(orgId).length, 3);
      const state = await h.request("GET", `${base(orgId)}/auto_reload`);
      assert.equal(state.body["status"], "suspended");
      assert.equal(state.body["suspended_reason"], "suspended_after_failures");
      assert.equal(state.body["consecutive_failures"], 3);
      h.clock.advance((BACKOFF_S + 1) * 1000);
      await settleUsage(orgId, ownerKey, USD / 100);
      await settleUsage(orgId, ownerKey, USD / 100);
      assert.equal(charges(orgId).length, 3, "suspended: no more charges");
      assert.equal((await events(orgId, "auto_reload.suspended")).length, 1);
      const tried = await attempts(orgId);
      assert.deepEqual(tried.map((a) => [a["outcome"], a["reason"]]).reverse(), [
        ["failed", "charge_failed"],
        ["failed", "charge_failed"],
        ["failed", "charge_failed"],
        ["skipped", "suspended_after_failures"],
      ]);
      assert.equal((await purchaseGrants(orgId)).length, 0);

      // Same method again: still suspended. A different one: lifted, and the reload goes through.
      await h.request("PUT", `${base(orgId)}/auto_reload`, { key: ownerKey, body: { enabled: true, threshold: String(20 * USD), mode: "amount", amount: String(25 * USD), payment_method_id: bad } });
      await h.app.services.moneyIn.idle();
      assert.equal((await h.request("GET", `${base(orgId)}/auto_reload`)).body["status"], "suspended");
      const good = await addCard(orgId, CARD.ok);
      const lifted = await h.request("PUT", `${base(orgId)}/auto_reload`, {
        key: ownerKey,
        body: { enabled: true, threshold: String(20 * USD), mode: "amount", amount: String(25 * USD), payment_method_id: good },
      });
      assert.equal(lifted.body["status"], "active");
      assert.equal(lifted.body["consecutive_failures"], 0);
      await h.app.services.moneyIn.idle();
      await settleUsage(orgId, ownerKey, USD / 100);
      assert.equal(charges(orgId).length, 4);
      assert.equal((await purchaseGrants(orgId)).length, 1);
      assert.equal(await balance(orgId, ownerKey), 30 * USD - 11 * USD - 6 * (USD / 100) + 25 * USD);
      assert.equal((await events(orgId, "auto_reload.suspended")).length, 1, "exactly one suspension event");
      assert.equal((await events(orgId, "auto_reload.succeeded")).length, 1);
      assert.equal((await events(orgId, "auto_reload.failed")).length, 4, "three charge failures and one suspended skip");
    });

    test("auto-reload buys the whole shortfall in one charge, honours the monthly cap (cap_reached) and stops without a payment method", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(30 * USD) });
      const pm = await addCard(orgId, CARD.ok);
      const put = await h.request("PUT", `${base(orgId)}/auto_reload`, {
        key: ownerKey,
        body: { enabled: true, threshold: String(20 * USD), mode: "amount", amount: String(10 * USD), payment_method_id: pm, monthly_cap: String(45 * USD) },
      });
      assert.equal(put.status, 200);
      // $30 → -$5 (usage beyond a $1 hold is still charged; what the balance cannot pay is debt):
      // one charge of 3 × $10 repays the debt and lifts the balance to $25 > $20.
      const held = await h.request("POST", `${base(orgId)}/authorize`, { key: ownerKey, body: { model: "claude-sonnet-4-5", amount: String(USD) } });
      const over = await h.request("POST", `${base(orgId)}/holds/${String((held.body["hold"] as Json)["id"])}/settle`, { key: ownerKey, body: { amount: String(35 * USD) } });
      assert.equal(over.body["debt"], String(5 * USD));
      await h.app.services.moneyIn.idle();
      assert.deepEqual(charges(orgId).map((c) => c.amount), [30 * USD]);
      assert.equal(await balance(orgId, ownerKey), 25 * USD);
      // $25 → $15: $10 more would be $40 of the $45 cap.
      await settleUsage(orgId, ownerKey, 10 * USD);
      assert.deepEqual(charges(orgId).map((c) => c.amount), [30 * USD, 10 * USD]);
      // $25 → $15 again: only $5 of the cap is left, the minimum purchase: charged $5.
      await settleUsage(orgId, ownerKey, 10 * USD);
      assert.deepEqual(charges(orgId).map((c) => c.amount), [30 * USD, 10 * USD, 5 * USD]);
      // $20 → $10: the cap is spent.
      await settleUsage(orgId, ownerKey, 10 * USD);
      await settleUsage(orgId, ownerKey, USD);
      assert.equal(charges(orgId).length, 3);
      const reasons = (await attempts(orgId)).map((a) => a["reason"]);
      assert.deepEqual(reasons.filter((r) => r !== null), ["cap_reached"], "recorded once, not once per settle");
      // Next month the cap is fresh — but the method is gone.
      await h.request("DELETE", `${base(orgId)}/payment_methods/${pm}`, { key: ownerKey });
      h.clock.advance(32 * 86_400_000);
      await settleUsage(orgId, ownerKey, USD);
      assert.equal(charges(orgId).length, 3);
      assert.equal((await attempts(orgId))[0]?.["reason"], "missing_payment_method");
      assert.equal((await purchaseGrants(orgId)).length, 3);
    });
  });
}
