// A local HTTP server that speaks Stripe's wire format for exactly the calls the Stripe adapter
// makes, so tests drive the real `stripe` SDK (reached through its host/port/protocol settings):
// form-encoded request bodies with bracketed keys, JSON objects with `object` and `id`, the error
// envelope `{ error: { type, code, decline_code, message, payment_intent } }` (402 for card
// declines), Bearer authentication, and Idempotency-Key replay (same key and parameters → the
// first response, `Idempotent-Replayed: true`; other parameters → 400 idempotency_error).
//
// Test payment methods decide outcomes, like Stripe's test mode: pm_card_visa succeeds,
// pm_card_chargeDeclined declines (generic_decline), pm_card_chargeDeclinedInsufficientFunds
// declines insufficient_funds, pm_card_authenticationRequired fails off-session with
// authentication_required (the customer can complete it later: `completeAuthentication`), and the
// fake-only pm_card_processing stays `processing` until `settle`. Every state change records the
// event Stripe would send; `signed` produces its body and Stripe-Signature header with the SDK's
// own generateTestHeaderString.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Stripe } from "stripe";

type Json = Record<string, unknown>;

interface Card {
  readonly brand: string;
  readonly last4: string;
  readonly outcome: "succeed" | "decline" | "insufficient_funds" | "authentication_required" | "processing";
}

const TEST_CARDS: Readonly<Record<string, Card>> = {
  pm_card_visa: { brand: "visa", last4: "4242", outcome: "succeed" },
  pm_card_mastercard: { brand: "mastercard", last4: "4444", outcome: "succeed" },
  pm_card_chargeDeclined: { brand: "visa", last4: "0002", outcome: "decline" },
  pm_card_chargeDeclinedInsufficientFunds: { brand: "visa", last4: "9995", outcome: "insufficient_funds" },
  pm_card_authenticationRequired: { brand: "visa", last4: "3184", outcome: "authentication_required" },
  pm_card_processing: { brand: "visa", last4: "0077", outcome: "processing" },
};

export interface FakePaymentIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  payment_method: string | null;
  status: string;
  description: string | null;
  metadata: Record<string, string>;
  off_session_request: boolean;
  idempotency_key: string | null;
  confirmation_method: "automatic";
  capture_method: "automatic";
  client_secret: string;
  created: number;
  livemode: false;
  latest_charge: string | null;
  last_payment_error: Json | null;
}

export interface FakeRefund {
  readonly id: string;
  readonly object: "refund";
  readonly amount: number;
  readonly currency: string;
  readonly payment_intent: string;
  readonly status: "succeeded";
  readonly reason: string | null;
  readonly metadata: Record<string, string>;
  readonly idempotency_key: string | null;
  readonly created: number;
}

export interface FakeEvent {
  readonly id: string;
  readonly type: string;
  /** The PaymentIntent as it was when the event happened (Stripe's snapshot). */
  readonly object: Json;
  readonly created: number;
}

export interface FakeStripe {
  readonly url: string;
  readonly secretKey: string;
  readonly webhookSecret: string;
  paymentIntents(): FakePaymentIntent[];
  refunds(): FakeRefund[];
  /** Events Stripe would have sent, oldest first (optionally for one PaymentIntent). */
  events(paymentIntentId?: string): FakeEvent[];
  /** Every request received: method, path and Idempotency-Key. */
  readonly requests: Array<{ method: string; path: string; idempotencyKey: string | null }>;
  /** The next `count` PaymentIntent creations happen, but the connection drops before the answer. */
  loseAnswers(count: number): void;
  /**
   * The next `count` requests of `kind` are answered with Stripe's api_error and `status` (default
   * 500). With `processed` a creation happens first and the key remembers the error, as Stripe's
   * idempotency layer does for a 500 ("subsequent requests … return the same result, including 500
   * errors"); without it nothing happens (a 502/503 in front of the API) and nothing is remembered.
   */
  failNext(count: number, options?: { kind?: "create" | "retrieve"; status?: number; processed?: boolean }): void;
  /** The next `count` PaymentIntent creations are done at once but answered `ms` later (a slow API). */
  delayNext(count: number, ms: number): void;
  /** A processing PaymentIntent succeeds. */
  settle(paymentIntentId: string): FakeEvent;
  /** The customer completes the authentication a declined off-session PaymentIntent asked for: it succeeds. */
  completeAuthentication(paymentIntentId: string): FakeEvent;
  /** The event's body and a Stripe-Signature header (signed with `secret`, default the endpoint's, at `timestampMs`). */
  signed(event: FakeEvent, options: { timestampMs: number; secret?: string }): { payload: string; signature: string };
  close(): Promise<void>;
}

const SECRET_KEY = "sk_test_fake_usage_credits";
const WEBHOOK_SECRET = "whsec_fake_usage_credits";

export async function startFakeStripe(now: () => number): Promise<FakeStripe> {
  const intents = new Map<string, FakePaymentIntent>();
  const refunds: FakeRefund[] = [];
  const events: FakeEvent[] = [];
  const customers = new Map<string, Json>();
  const attached = new Map<string, string>(); // payment method → customer
  const idempotent = new Map<string, { method: string; path: string; params: string; status: number; body: string }>();
  const requests: FakeStripe["requests"] = [];
  let losing = 0;
  const failing = { create: { count: 0, status: 500, processed: false }, retrieve: { count: 0, status: 500, processed: false } };
  const delaying = { count: 0, ms: 0 };
  let seq = 0;

  const id = (prefix: string) => `${prefix}_${(++seq).toString(36).padStart(4, "0")}${randomBytes(6).toString("hex")}`;
  const seconds = () => Math.floor(now() / 1000);
  const record = (type: string, pi: FakePaymentIntent): FakeEvent => {
    const e: FakeEvent = { id: id("evt"), type, object: presentIntent(pi), created: seconds() };
    events.push(e);
    return e;
  };

  function paymentMethod(pmId: string, card: Card): Json {
    return {
      id: pmId,
      object: "payment_method",
      type: "card",
      card: { brand: card.brand, last4: card.last4, exp_month: 12, exp_year: 2034, country: "US", funding: "credit" },
      customer: attached.get(pmId) ?? null,
      billing_details: { address: null, email: null, name: null, phone: null },
      created: seconds(),
      livemode: false,
      metadata: {},
    };
  }

  function createIntent(p: Json, key: string | null): { status: number; body: Json } {
    const amount = Number(p["amount"]);
    const currency = String(p["currency"] ?? "");
    const pmId = String(p["payment_method"] ?? "");
    const customer = typeof p["customer"] === "string" ? p["customer"] : null;
    if (!Number.isInteger(amount) || amount < 50) return invalid("amount", "Amount must be at least $0.50 usd", "amount_too_small");
    if (currency !== "usd") return invalid("currency", `Invalid currency: ${currency}`, "parameter_invalid_string");
    const card = TEST_CARDS[pmId];
    if (!card) return invalid("payment_method", `No such PaymentMethod: '${pmId}'`, "resource_missing");
    if (customer === null || attached.get(pmId) !== customer) {
      return invalid("payment_method", `The provided PaymentMethod ${pmId} was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.`, "payment_method_unexpected_state");
    }
    const metadata = (p["metadata"] as Record<string, string> | undefined) ?? {};
    const pi: FakePaymentIntent = {
      id: id("pi"),
      object: "payment_intent",
      amount,
      amount_received: 0,
      currency,
      customer,
      payment_method: pmId,
      status: "requires_confirmation",
      description: typeof p["description"] === "string" ? p["description"] : null,
      metadata: { ...metadata },
      off_session_request: p["off_session"] === "true",
      idempotency_key: key,
      confirmation_method: "automatic",
      capture_method: "automatic",
      client_secret: "",
      created: seconds(),
      livemode: false,
      latest_charge: null,
      last_payment_error: null,
    };
    pi.client_secret = `${pi.id}_secret_${randomBytes(8).toString("hex")}`;
    intents.set(pi.id, pi);
    record("payment_intent.created", pi);
    if (p["confirm"] !== "true") return { status: 200, body: presentIntent(pi) };
    const offSession = pi.off_session_request;
    switch (card.outcome) {
      case "succeed":
        succeed(pi);
        return { status: 200, body: presentIntent(pi) };
      case "processing":
        pi.status = "processing";
        record("payment_intent.processing", pi);
        return { status: 200, body: presentIntent(pi) };
      case "decline":
        return decline(pi, "card_declined", "generic_decline", "Your card was declined.");
      case "insufficient_funds":
        return decline(pi, "card_declined", "insufficient_funds", "Your card has insufficient funds.");
      case "authentication_required":
        if (!offSession) {
          pi.status = "requires_action";
          record("payment_intent.requires_action", pi);
          return { status: 200, body: presentIntent(pi) };
        }
        return decline(pi, "authentication_required", "authentication_required", "Your card was declined. This transaction requires authentication.");
    }
  }

  function succeed(pi: FakePaymentIntent): FakeEvent {
    pi.status = "succeeded";
    pi.amount_received = pi.amount;
    pi.last_payment_error = null;
    pi.latest_charge = id("ch");
    return record("payment_intent.succeeded", pi);
  }

  function decline(pi: FakePaymentIntent, code: string, declineCode: string, message: string): { status: number; body: Json } {
    pi.status = "requires_payment_method";
    pi.latest_charge = id("ch");
    const error = { type: "card_error", code, decline_code: declineCode, message, charge: pi.latest_charge, doc_url: `https://stripe.com/docs/error-codes/${code}` };
    pi.last_payment_error = { ...error, payment_method: paymentMethod(pi.payment_method ?? "", TEST_CARDS[pi.payment_method ?? ""] ?? { brand: "visa", last4: "0000", outcome: "decline" }) };
    record("payment_intent.payment_failed", pi);
    return { status: 402, body: { error: { ...error, payment_intent: presentIntent(pi) } } };
  }

  function createRefund(p: Json, key: string | null): { status: number; body: Json } {
    const piId = String(p["payment_intent"] ?? "");
    const pi = intents.get(piId);
    if (!pi) return invalid("payment_intent", `No such payment_intent: '${piId}'`, "resource_missing");
    if (pi.status !== "succeeded") return invalid("payment_intent", `This PaymentIntent (${piId}) does not have a successful charge to refund.`, "charge_not_refundable");
    const refunded = refunds.filter((r) => r.payment_intent === piId).reduce((s, r) => s + r.amount, 0);
    if (refunded >= pi.amount) return invalid(null, `Charge ${pi.latest_charge ?? ""} has already been refunded.`, "charge_already_refunded");
    const amount = p["amount"] !== undefined ? Number(p["amount"]) : pi.amount - refunded;
    const refund: FakeRefund = {
      id: id("re"),
      object: "refund",
      amount,
      currency: pi.currency,
      payment_intent: piId,
      status: "succeeded",
      reason: typeof p["reason"] === "string" ? p["reason"] : null,
      metadata: { ...((p["metadata"] as Record<string, string> | undefined) ?? {}) },
      idempotency_key: key,
      created: seconds(),
    };
    refunds.push(refund);
    return { status: 200, body: { ...refund } };
  }

  function route(method: string, path: string, p: Json, key: string | null): { status: number; body: Json } {
    let m: RegExpExecArray | null;
    if (method === "POST" && path === "/v1/customers") {
      const c = { id: id("cus"), object: "customer", created: seconds(), livemode: false, metadata: { ...((p["metadata"] as Json | undefined) ?? {}) } };
      customers.set(c.id, c);
      return { status: 200, body: c };
    }
    if ((m = /^\/v1\/payment_methods\/([^/]+)$/.exec(path)) && method === "GET") {
      const pmId = decodeURIComponent(m[1] ?? "");
      const card = TEST_CARDS[pmId];
      return card ? { status: 200, body: paymentMethod(pmId, card) } : notFound("payment_method", pmId);
    }
    if ((m = /^\/v1\/payment_methods\/([^/]+)\/attach$/.exec(path)) && method === "POST") {
      const pmId = decodeURIComponent(m[1] ?? "");
      const card = TEST_CARDS[pmId];
      const customer = String(p["customer"] ?? "");
      if (!card) return notFound("payment_method", pmId);
      if (!customers.has(customer)) return notFound("customer", customer);
      const prior = attached.get(pmId);
      if (prior !== undefined && prior !== customer) return invalid("payment_method", "The payment method you provided has already been attached to a customer.", "resource_already_exists");
      attached.set(pmId, customer);
      return { status: 200, body: paymentMethod(pmId, card) };
    }
    if (method === "POST" && path === "/v1/payment_intents") return createIntent(p, key);
    if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === "GET") {
      const pi = intents.get(decodeURIComponent(m[1] ?? ""));
      return pi ? { status: 200, body: presentIntent(pi) } : notFound("payment_intent", m[1] ?? "");
    }
    if (method === "POST" && path === "/v1/refunds") return createRefund(p, key);
    return { status: 404, body: { error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const keyHeader = req.headers["idempotency-key"];
    const key = typeof keyHeader === "string" ? keyHeader : null;
    requests.push({ method, path: url.pathname, idempotencyKey: key });
    const reply = (status: number, body: string, replayed = false) => {
      res.writeHead(status, { "content-type": "application/json", "request-id": id("req"), ...(replayed ? { "idempotent-replayed": "true" } : {}), ...(key !== null ? { "idempotency-key": key } : {}) });
      res.end(body);
    };
    if (req.headers["authorization"] !== `Bearer ${SECRET_KEY}`) {
      reply(401, JSON.stringify({ error: { type: "invalid_request_error", message: "Invalid API Key provided." } }));
      return;
    }
    const params = method === "GET" ? Object.fromEntries(url.searchParams) : parseForm(raw);
    const canonical = JSON.stringify(params);
    const isCreate = method === "POST" && url.pathname === "/v1/payment_intents";
    const isRetrieve = method === "GET" && url.pathname.startsWith("/v1/payment_intents/");
    const fault = isCreate ? failing.create : isRetrieve ? failing.retrieve : undefined;
    if (fault && fault.count > 0 && !(key !== null && idempotent.has(key))) {
      fault.count--;
      const body = JSON.stringify({ error: { type: "api_error", message: "An unknown error occurred (fake stripe: failNext)." } });
      if (fault.processed && isCreate) {
        route(method, url.pathname, params, key);
        if (key !== null) idempotent.set(key, { method, path: url.pathname, params: canonical, status: fault.status, body });
      }
      reply(fault.status, body);
      return;
    }
    const prior = key !== null && method === "POST" ? idempotent.get(key) : undefined;
    let out: { status: number; body: string; replayed: boolean };
    if (prior) {
      out =
        prior.method !== method || prior.path !== url.pathname || prior.params !== canonical
          ? { status: 400, body: JSON.stringify({ error: { type: "idempotency_error", message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key ?? ""}' if you meant to execute a different request.` } }), replayed: false }
          : { status: prior.status, body: prior.body, replayed: true };
    } else {
      const fresh = route(method, url.pathname, params, key);
      out = { status: fresh.status, body: JSON.stringify(fresh.body), replayed: false };
      if (key !== null && method === "POST") idempotent.set(key, { method, path: url.pathname, params: canonical, status: out.status, body: out.body });
    }
    if (method === "POST" && url.pathname === "/v1/payment_intents" && losing > 0) {
      // The PaymentIntent exists and the key remembers the answer; the client never hears it.
      losing--;
      res.socket?.destroy();
      return;
    }
    if (isCreate && delaying.count > 0) {
      delaying.count--;
      await new Promise((r) => setTimeout(r, delaying.ms));
      if (res.destroyed) return; // the client gave up waiting
    }
    reply(out.status, out.body, out.replayed);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { type: "api_error", message: String(err) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stripe = new Stripe(SECRET_KEY);

  const mustGet = (piId: string): FakePaymentIntent => {
    const pi = intents.get(piId);
    if (!pi) throw new Error(`fake stripe: no PaymentIntent ${piId}`);
    return pi;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    secretKey: SECRET_KEY,
    webhookSecret: WEBHOOK_SECRET,
    requests,
    paymentIntents: () => [...intents.values()],
    refunds: () => [...refunds],
    events: (piId) => events.filter((e) => piId === undefined || e.object["id"] === piId),
    loseAnswers(count) {
      losing = count;
    },
    failNext(count, options = {}) {
      failing[options.kind ?? "create"] = { count, status: options.status ?? 500, processed: options.processed ?? false };
    },
    delayNext(count, ms) {
      delaying.count = count;
      delaying.ms = ms;
    },
    settle(piId) {
      const pi = mustGet(piId);
      if (pi.status !== "processing") throw new Error(`fake stripe: ${piId} is ${pi.status}, not processing`);
      return succeed(pi);
    },
    completeAuthentication(piId) {
      const pi = mustGet(piId);
      if (TEST_CARDS[pi.payment_method ?? ""]?.outcome !== "authentication_required" || pi.status === "succeeded") throw new Error(`fake stripe: ${piId} awaits no authentication`);
      return succeed(pi);
    },
    signed(event, options) {
      const payload = JSON.stringify(
        {
          id: event.id,
          object: "event",
          api_version: "2026-10-28.endive",
          created: event.created,
          data: { object: event.object },
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          type: event.type,
        },
        null,
        2,
      );
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: Math.floor(options.timestampMs / 1000) });
      return { payload, signature };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function presentIntent(pi: FakePaymentIntent): Json {
  const { off_session_request: _o, idempotency_key: _k, ...wire } = pi;
  return JSON.parse(JSON.stringify(wire)) as Json;
}

function invalid(param: string | null, message: string, code: string): { status: number; body: Json } {
  return { status: 400, body: { error: { type: "invalid_request_error", code, message, ...(param !== null ? { param } : {}) } } };
}

function notFound(kind: string, id: string): { status: number; body: Json } {
  return { status: 404, body: { error: { type: "invalid_request_error", code: "resource_missing", message: `No such ${kind}: '${id}'`, param: kind } } };
}

/** Stripe's form encoding: `a=1&metadata[org_id]=x&automatic_payment_methods[enabled]=true` → nested objects. */
function parseForm(raw: string): Json {
  const out: Json = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const parts = k.replace(/\]/g, "").split("[");
    let node: Json = out;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = v;
        return;
      }
      const next = node[part];
      if (typeof next === "object" && next !== null) node = next as Json;
      else {
        const created: Json = {};
        node[part] = created;
        node = created;
      }
    });
  }
  return out;
}
