// The Stripe provider, end to end on SQLite and PostgreSQL: the real server on loopback drives the
// real `stripe` SDK against a local server speaking Stripe's wire format (test/support/fake-stripe.ts),
// reached through the SDK's host/port/protocol settings. Proves: a success charges and grants once;
// a decline grants nothing; a webhook with a bad signature is rejected; the same webhook delivered
// twice and out of order grants once; a lost answer stays pending and a webhook (or the poller)
// resolves it once; a success for a payment we marked failed is refunded exactly once. Payment
// faults: Stripe answering 500 (having charged, or not), answering too slowly (once, or past every
// retry), failing the poller's retrieve: never a double grant, never a lost success. The fake's
// PaymentIntents prove "one charge", the grants and /v1/ledger/verify prove "one grant".

import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { StripeProvider } from "../src/adapters/payments/stripe.js";
import { backends } from "./support/backends.js";
import { startFakeStripe, type FakeEvent, type FakeStripe } from "./support/fake-stripe.js";
import { createOrg, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

for (const backend of backends()) {
  describe(`stripe provider on ${backend.name}`, () => {
    let h: Harness;
    let fake: FakeStripe;
    before(async () => {
      fake = await startFakeStripe(() => Date.now());
      h = await startHarness(await backend.createDatabase(), {
        USAGE_CREDITS_PAYMENT_PROVIDER: "stripe",
        USAGE_CREDITS_STRIPE_SECRET_KEY: fake.secretKey,
        USAGE_CREDITS_STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
        USAGE_CREDITS_STRIPE_API_BASE: fake.url,
        // Short, so the slow-API faults below time out quickly; loopback answers in milliseconds.
        USAGE_CREDITS_STRIPE_TIMEOUT_SECONDS: "2",
      });
      assert.ok(h.app.services.moneyIn.provider instanceof StripeProvider, "USAGE_CREDITS_PAYMENT_PROVIDER=stripe picks the Stripe adapter");
    });
    afterEach(async () => {
      await h.app.services.moneyIn.idle();
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, [], "ledger verify after the scenario");
      assert.equal(v.ok, true);
    });
    after(async () => {
      await h.close();
      await fake.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const code = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];
    // Purchases and methods are made with the owner's key (billing rights), as a customer would.
    const owners = new Map<string, string>();
    const setup = async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      owners.set(org.orgId, org.ownerKey);
      return org;
    };
    const ownerKey = (orgId: string): string => owners.get(orgId) ?? "";
    const addMethod = async (orgId: string, token: string): Promise<string> => {
      const r = await h.request("POST", `${base(orgId)}/payment_methods`, { key: ownerKey(orgId), body: { token } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return String(r.body["id"]);
    };
    const buy = (orgId: string, paymentMethodId: string, dollars: number, idem?: string) =>
      h.request("POST", `${base(orgId)}/purchases`, { key: ownerKey(orgId), body: { amount: String(dollars * USD), payment_method_id: paymentMethodId }, ...(idem ? { headers: { "idempotency-key": idem } } : {}) });
    const payment = async (orgId: string, paymentId: string) => (await h.request("GET", `${base(orgId)}/purchases/${paymentId}`)).body;
    const purchaseGrants = async (orgId: string) => ((await h.request("GET", `${base(orgId)}/grants`)).body["data"] as Json[]).filter((g) => g["kind"] === "purchase");
    const intentsOf = (paymentId: string) => fake.paymentIntents().filter((pi) => pi.metadata["payment_id"] === paymentId);
    const deliver = (event: FakeEvent, options: { secret?: string; timestampMs?: number; tamper?: boolean; signature?: string | null } = {}) => {
      const signed = fake.signed(event, { timestampMs: options.timestampMs ?? h.clock.now(), ...(options.secret !== undefined ? { secret: options.secret } : {}) });
      const payload = options.tamper === true ? signed.payload.replace(/"amount": (\d+)/, (_, n: string) => `"amount": ${Number(n) * 100}`) : signed.payload;
      const signature = options.signature === undefined ? signed.signature : options.signature;
      return h.request("POST", "/v1/webhooks/stripe", { key: null, raw: payload, headers: { "content-type": "application/json; charset=utf-8", ...(signature !== null ? { "stripe-signature": signature } : {}) } });
    };
    const eventOf = (piId: string, type: string): FakeEvent => {
      const e = fake.events(piId).find((x) => x.type === type);
      assert.ok(e, `fake stripe recorded ${type} for ${piId}`);
      return e;
    };

    test("success: an off-session PaymentIntent with our idempotency key, one charge and one grant; a replay and a later webhook change nothing", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      const methods = (await h.request("GET", `${base(orgId)}/payment_methods`)).body["data"] as Json[];
      assert.deepEqual(methods.map((m) => [m["provider"], m["brand"], m["last4"]]), [["stripe", "visa", "4242"]]);

      const first = await buy(orgId, pm, 50, "stripe-buy-1");
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body["status"], "succeeded");
      const paymentId = String(first.body["id"]);
      const [pi, ...more] = intentsOf(paymentId);
      assert.ok(pi);
      assert.equal(more.length, 0, "exactly one PaymentIntent");
      assert.equal(first.body["provider_ref"], pi.id);
      assert.equal(pi.amount, 5000, "$50.00 is 5000 cents");
      assert.equal(pi.currency, "usd");
      assert.equal(pi.status, "succeeded");
      assert.equal(pi.off_session_request, true);
      assert.match(pi.customer ?? "", /^cus_/);
      // Scoped to the organization and the caller (the API key that asked), as every Idempotency-Key is.
      assert.match(pi.idempotency_key ?? "", new RegExp(`^api:${orgId}:key:key_[0-9a-z]+:stripe-buy-1$`), "the API's Idempotency-Key is Stripe's");

      const again = await buy(orgId, pm, 50, "stripe-buy-1");
      assert.equal(again.status, 201);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      assert.equal(intentsOf(paymentId).length, 1);

      const succeeded = eventOf(pi.id, "payment_intent.succeeded");
      for (let i = 0; i < 2; i++) {
        const r = await deliver(succeeded);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body["payment_status"], "succeeded");
      }
      const grants = await purchaseGrants(orgId);
      assert.equal(grants.length, 1, "exactly one grant");
      assert.equal(grants[0]?.["amount"], String(50 * USD));
      assert.equal(fake.refunds().length, 0);
    });

    test("decline: 402 payment_failed with Stripe's decline code, nothing granted; the payment_failed webhook changes nothing", async () => {
      const { orgId } = await setup();
      const declined = await buy(orgId, await addMethod(orgId, "pm_card_chargeDeclined"), 20);
      assert.equal(declined.status, 402, JSON.stringify(declined.body));
      assert.equal(code(declined), "payment_failed");
      const details = (declined.body["error"] as Json)["details"] as Json;
      assert.equal(details["failure_code"], "card_declined");
      const insufficient = await buy(orgId, await addMethod(orgId, "pm_card_chargeDeclinedInsufficientFunds"), 20);
      assert.equal(insufficient.status, 402);
      assert.equal(((insufficient.body["error"] as Json)["details"] as Json)["failure_code"], "insufficient_funds");
      const auth = await buy(orgId, await addMethod(orgId, "pm_card_authenticationRequired"), 20);
      assert.equal(((auth.body["error"] as Json)["details"] as Json)["failure_code"], "authentication_required", "off-session: nobody can answer 3-D Secure");

      const paymentId = String(details["payment_id"]);
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      assert.equal((await payment(orgId, paymentId))["provider_ref"], pi.id, "the declined PaymentIntent is recorded");
      const r = await deliver(eventOf(pi.id, "payment_intent.payment_failed"));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body["payment_status"], "failed");
      assert.equal((await purchaseGrants(orgId)).length, 0);
      assert.equal(fake.refunds().length, 0);
      const unknownToken = await h.request("POST", `${base(orgId)}/payment_methods`, { body: { token: "pm_card_doesNotExist" } });
      assert.equal(unknownToken.status, 400);
      assert.equal(code(unknownToken), "invalid_card");
    });

    test("a webhook with a bad signature is rejected (400 webhook_signature_invalid) and resolves nothing", async () => {
      const { orgId } = await setup();
      const pending = await buy(orgId, await addMethod(orgId, "pm_card_processing"), 30);
      assert.equal(pending.status, 202, JSON.stringify(pending.body));
      const paymentId = String(pending.body["id"]);
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      const succeeded = fake.settle(pi.id);

      const bad = [
        await deliver(succeeded, { tamper: true }), // body changed after signing
        await deliver(succeeded, { secret: "whsec_someone_else" }), // signed with another secret
        await deliver(succeeded, { signature: null }), // no Stripe-Signature header
        await deliver(succeeded, { signature: "t=1,v1=deadbeef" }), // garbage
        await deliver(succeeded, { timestampMs: h.clock.now() - 10 * 60_000 }), // a replay outside the 5-minute tolerance
      ];
      for (const r of bad) {
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(code(r), "webhook_signature_invalid");
      }
      assert.equal((await payment(orgId, paymentId))["status"], "pending", "a rejected webhook resolves nothing");
      assert.equal((await purchaseGrants(orgId)).length, 0);

      const good = await deliver(succeeded);
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.equal((await payment(orgId, paymentId))["status"], "succeeded");
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });

    test("the same webhook delivered twice (also concurrently) and out of order grants exactly once", async () => {
      const { orgId } = await setup();
      const pending = await buy(orgId, await addMethod(orgId, "pm_card_processing"), 40);
      assert.equal(pending.status, 202, JSON.stringify(pending.body));
      const paymentId = String(pending.body["id"]);
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      const processing = eventOf(pi.id, "payment_intent.processing");
      const succeeded = fake.settle(pi.id);
      // A stale failure notice (its snapshot says requires_payment_method) arriving after the success.
      const staleFailure: FakeEvent = { id: "evt_stale_failure", type: "payment_intent.payment_failed", created: succeeded.created - 5, object: { ...succeeded.object, status: "requires_payment_method" } };

      const [a, b] = await Promise.all([deliver(succeeded), deliver(succeeded)]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      for (const late of [processing, staleFailure, succeeded]) {
        const r = await deliver(late);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body["payment_status"], "succeeded");
      }
      assert.equal(await h.app.services.moneyIn.resolvePending().then((r) => r.checked), 0, "nothing left for the poller");
      const p = await payment(orgId, paymentId);
      assert.equal(p["status"], "succeeded");
      const grants = await purchaseGrants(orgId);
      assert.equal(grants.length, 1, "exactly one grant");
      assert.equal(grants[0]?.["id"], p["grant_id"]);
      assert.equal(((await h.request("GET", `${base(orgId)}/events?limit=500`)).body["data"] as Json[]).filter((e) => e["type"] === "purchase.succeeded").length, 1);
      assert.equal(fake.refunds().length, 0);
    });

    test("a lost answer leaves the payment pending; the webhook resolves it once, and the poller's retry with the same key charges nothing more", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      fake.loseAnswers(2); // the first attempt and the SDK's one network retry
      const before = fake.requests.length;
      const pending = await buy(orgId, pm, 25);
      assert.equal(pending.status, 202, JSON.stringify(pending.body));
      assert.equal(pending.body["provider_ref"], null, "the answer never arrived");
      const paymentId = String(pending.body["id"]);
      const creates = fake.requests.slice(before).filter((r) => r.path === "/v1/payment_intents");
      assert.equal(creates.length, 2, "the SDK retried once");
      assert.equal(new Set(creates.map((r) => r.idempotencyKey)).size, 1, "with the same idempotency key");
      const [pi, ...more] = intentsOf(paymentId);
      assert.ok(pi);
      assert.equal(more.length, 0, "one PaymentIntent: Stripe charged once");

      const r = await deliver(eventOf(pi.id, "payment_intent.succeeded"));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body["payment_status"], "succeeded");
      await h.app.services.moneyIn.resolvePending();
      assert.equal((await payment(orgId, paymentId))["provider_ref"], pi.id);
      assert.equal((await purchaseGrants(orgId)).length, 1);

      // The other order: the poller first (a retry with the same key is answered from Stripe's memory), then the webhook.
      fake.loseAnswers(2);
      const second = await buy(orgId, pm, 15);
      assert.equal(second.status, 202);
      const secondId = String(second.body["id"]);
      const polled = await h.app.services.moneyIn.resolvePending();
      assert.equal(polled.resolved, 1);
      const [pi2, ...more2] = intentsOf(secondId);
      assert.ok(pi2);
      assert.equal(more2.length, 0);
      assert.equal((await deliver(eventOf(pi2.id, "payment_intent.succeeded"))).status, 200);
      assert.equal((await payment(orgId, secondId))["status"], "succeeded");
      assert.equal((await purchaseGrants(orgId)).length, 2, "one grant per payment");
      assert.equal(fake.refunds().length, 0);
    });

    test("a PaymentIntent that succeeds after we marked its payment failed is refunded exactly once, and grants nothing", async () => {
      const { orgId } = await setup();
      const failed = await buy(orgId, await addMethod(orgId, "pm_card_authenticationRequired"), 60);
      assert.equal(failed.status, 402);
      const paymentId = String(((failed.body["error"] as Json)["details"] as Json)["payment_id"]);
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      // The customer completes 3-D Secure later (e.g. from Stripe's email): the money is taken.
      const succeeded = fake.completeAuthentication(pi.id);
      const first = await deliver(succeeded);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body["payment_status"], "failed");
      const refund = first.body["refund"] as Json;
      assert.match(String(refund["refund_id"]), /^re_/);
      const [again, concurrent] = await Promise.all([deliver(succeeded), deliver(succeeded)]);
      assert.equal(again.status, 200);
      assert.equal(concurrent.status, 200);
      const refunds = fake.refunds().filter((r) => r.payment_intent === pi.id);
      assert.equal(refunds.length, 1, "one refund, however often the webhook arrives");
      assert.equal(refunds[0]?.amount, 6000);
      assert.equal(refunds[0]?.idempotency_key, `refund_${paymentId}_${pi.id}`);
      assert.equal(refunds[0]?.metadata["payment_id"], paymentId);
      assert.equal((await payment(orgId, paymentId))["status"], "failed");
      assert.equal((await purchaseGrants(orgId)).length, 0);
    });

    test("events about payments that are not ours are acknowledged and ignored", async () => {
      const { orgId } = await setup();
      const ok = await buy(orgId, await addMethod(orgId, "pm_card_visa"), 10);
      const [pi] = intentsOf(String(ok.body["id"]));
      assert.ok(pi);
      const e = eventOf(pi.id, "payment_intent.succeeded");
      const foreign: FakeEvent = { ...e, id: "evt_foreign", object: { ...e.object, metadata: {} } };
      const unknown: FakeEvent = { ...e, id: "evt_unknown", object: { ...e.object, metadata: { payment_id: "pay_doesnotexist", org_id: orgId } } };
      const other: FakeEvent = { ...e, id: "evt_other", type: "customer.created", object: { id: "cus_x", object: "customer" } };
      for (const [event, reason] of [[foreign, "not_our_payment"], [unknown, "unknown_payment"], [other, undefined]] as const) {
        const r = await deliver(event);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body["handled"], false);
        assert.equal(r.body["reason"], reason);
      }
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });

    // ------------------------------------------------------------ payment faults

    test("fault: Stripe answers 500 after charging (the key remembers the 500): pending, the poller's retries change nothing, the webhook grants once", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      fake.failNext(1, { processed: true });
      const r = await buy(orgId, pm, 30, "fault-500-processed");
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const paymentId = String(r.body["id"]);
      assert.equal((await h.app.services.moneyIn.resolvePending()).resolved, 0, "the replayed 500 leaves it pending");
      const [pi, ...more] = intentsOf(paymentId);
      assert.ok(pi);
      assert.equal(more.length, 0, "one PaymentIntent however often it is retried");
      for (const e of [eventOf(pi.id, "payment_intent.succeeded"), eventOf(pi.id, "payment_intent.succeeded")]) assert.equal((await deliver(e)).status, 200);
      assert.equal((await payment(orgId, paymentId))["status"], "succeeded");
      assert.equal((await buy(orgId, pm, 30, "fault-500-processed")).body["id"], paymentId, "a replay names the same payment");
      assert.equal((await purchaseGrants(orgId)).length, 1, "exactly one grant");
    });

    test("fault: Stripe answers 503 before doing anything (twice, past the SDK's retry): pending; the poller's retry with the same key charges once and grants once", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      fake.failNext(2, { status: 503 });
      const r = await buy(orgId, pm, 20);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const paymentId = String(r.body["id"]);
      assert.equal(intentsOf(paymentId).length, 0, "nothing charged yet");
      assert.equal((await h.app.services.moneyIn.resolvePending()).resolved, 1);
      assert.equal((await h.app.services.moneyIn.resolvePending()).checked, 0, "nothing left pending");
      assert.equal(intentsOf(paymentId).length, 1, "one charge");
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      assert.equal((await deliver(eventOf(pi.id, "payment_intent.succeeded"))).status, 200, "the late webhook is harmless");
      assert.equal((await payment(orgId, paymentId))["status"], "succeeded");
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });

    test("fault: a slow answer (past the timeout once): the SDK's retry with the same key gets Stripe's memory; one charge, one grant", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      fake.delayNext(1, 2_500);
      const r = await buy(orgId, pm, 15);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const paymentId = String(r.body["id"]);
      assert.equal(intentsOf(paymentId).length, 1);
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });

    test("fault: slow past every retry: pending, not failed; the poller learns the success later and grants once", async () => {
      const { orgId } = await setup();
      const pm = await addMethod(orgId, "pm_card_visa");
      fake.delayNext(2, 2_500);
      const r = await buy(orgId, pm, 12);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const paymentId = String(r.body["id"]);
      assert.equal((await h.app.services.moneyIn.resolvePending()).resolved, 1);
      assert.equal((await payment(orgId, paymentId))["status"], "succeeded", "the success was not lost");
      assert.equal(intentsOf(paymentId).length, 1, "one charge");
      assert.equal((await purchaseGrants(orgId)).length, 1, "one grant");
    });

    test("fault: the poller's retrieve fails with 500: still pending, nothing granted; once Stripe answers, granted once", async () => {
      const { orgId } = await setup();
      const r = await buy(orgId, await addMethod(orgId, "pm_card_processing"), 18);
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const paymentId = String(r.body["id"]);
      const [pi] = intentsOf(paymentId);
      assert.ok(pi);
      fake.settle(pi.id);
      fake.failNext(5, { kind: "retrieve" });
      assert.equal((await h.app.services.moneyIn.resolvePending()).resolved, 0);
      assert.equal((await payment(orgId, paymentId))["status"], "pending");
      assert.equal((await purchaseGrants(orgId)).length, 0);
      fake.failNext(0, { kind: "retrieve" });
      assert.equal((await h.app.services.moneyIn.resolvePending()).resolved, 1);
      assert.equal((await h.app.services.moneyIn.resolvePending()).checked, 0);
      assert.equal((await payment(orgId, paymentId))["status"], "succeeded");
      assert.equal((await purchaseGrants(orgId)).length, 1);
    });
  });
}
