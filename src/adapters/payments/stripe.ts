// The Stripe payment provider: the PaymentProvider port over the official `stripe` SDK. It owns the
// mapping between our payments and Stripe's objects, and nothing else: what a charge is for, when it
// is retried and what a result does to the books stay in app/money-in.ts.
//
// - A saved method is a Stripe PaymentMethod attached to a Customer (Stripe refuses to reuse a
//   method that belongs to no customer); the stored token is `cus_…:pm_…`.
// - A charge is one PaymentIntent created and confirmed off-session (the API has no client-side
//   step that could answer a 3-D Secure challenge) with our idempotency key as Stripe's, so a retry
//   — ours, the poller's or the SDK's own network retry — never creates a second PaymentIntent.
// - Amounts: our micro-dollars are whole cents by the time they get here (purchase rules); Stripe
//   takes integer cents (1 cent = 10,000 µ$). Anything else is a bug and throws.
// - Unknown outcomes (no connection, a timeout, Stripe's 5xx or 429) are ProviderTimeout: the
//   payment stays pending until a retry with the same key, a webhook or the poller learns the answer.

import { createHash } from "node:crypto";
import { Stripe } from "stripe";
import type { Micros } from "../../core/money.js";
import { ProviderTimeout, type ChargeRequest, type ChargeResult, type PaymentEventSource, type PaymentIntentNotice, type PaymentProvider, type RefundOutcome, type TokenizedCard, type WebhookParse } from "../../ports/payments.js";

export type { PaymentIntentNotice, RefundOutcome, WebhookParse } from "../../ports/payments.js";

/** 1 cent in micro-dollars: card charges are whole cents. */
const MICROS_PER_CENT = 10_000;
/** Stripe accepts idempotency keys of at most 255 characters. */
const MAX_STRIPE_KEY = 255;

export interface StripeProviderOptions {
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** Another API origin (a local Stripe-compatible server); null = api.stripe.com. */
  readonly apiBase: URL | null;
  readonly timeoutMs: number;
  readonly maxNetworkRetries: number;
}

export class StripeProvider implements PaymentProvider, PaymentEventSource {
  readonly name = "stripe";
  private readonly stripe: Stripe;

  constructor(private readonly options: StripeProviderOptions) {
    const base = options.apiBase;
    this.stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: options.maxNetworkRetries,
      timeout: options.timeoutMs,
      ...(base
        ? {
            host: base.hostname,
            protocol: base.protocol === "http:" ? "http" : "https",
            ...(base.port !== "" ? { port: Number(base.port) } : {}),
          }
        : {}),
    });
  }

  /** `pm_…` (attached to a new Customer here) or an already saved `cus_…:pm_…`; undefined if Stripe has no such card. */
  async tokenize(input: { readonly cardNumber?: string; readonly token?: string }): Promise<TokenizedCard | undefined> {
    const parsed = parseToken(input.token ?? "");
    // Raw card numbers never touch this server with Stripe: the client collects them (Stripe.js).
    if (!parsed) return undefined;
    let pm: Stripe.PaymentMethod;
    try {
      pm = await this.stripe.paymentMethods.retrieve(parsed.paymentMethod);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError) return undefined;
      throw unknownOutcome(err);
    }
    if (pm.type !== "card" || !pm.card) return undefined;
    const attachedTo = typeof pm.customer === "string" ? pm.customer : (pm.customer?.id ?? null);
    let customer = attachedTo;
    if (parsed.customer !== null && attachedTo !== null && parsed.customer !== attachedTo) return undefined;
    if (customer === null) {
      // Keys derived from the method: a retried tokenize reuses the same Customer and attachment.
      try {
        customer = parsed.customer ?? (await this.stripe.customers.create({ metadata: { payment_method: pm.id } }, { idempotencyKey: `customer_for_${pm.id}` })).id;
        await this.stripe.paymentMethods.attach(pm.id, { customer }, { idempotencyKey: `attach_${pm.id}` });
      } catch (err) {
        if (err instanceof Stripe.errors.StripeInvalidRequestError || err instanceof Stripe.errors.StripeCardError) return undefined;
        throw unknownOutcome(err);
      }
    }
    return { token: `${customer}:${pm.id}`, brand: pm.card.brand, last4: pm.card.last4 };
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    if (!Number.isSafeInteger(req.amount) || req.amount <= 0 || req.amount % MICROS_PER_CENT !== 0) {
      throw new Error(`stripe: ${req.amount} µ$ is not a positive whole number of cents`);
    }
    const token = parseToken(req.paymentMethod);
    if (!token || token.customer === null) return { status: "failed", providerRef: `unsent:${req.idempotencyKey}`, failureCode: "invalid_payment_method" };
    try {
      const pi = await this.stripe.paymentIntents.create(
        {
          amount: req.amount / MICROS_PER_CENT,
          currency: "usd",
          customer: token.customer,
          payment_method: token.paymentMethod,
          automatic_payment_methods: { enabled: true, allow_redirects: "never" },
          confirm: true,
          off_session: true,
          description: req.description,
          metadata: { ...(req.metadata ?? {}) },
        },
        { idempotencyKey: stripeKey(req.idempotencyKey) },
      );
      return fromPaymentIntent(pi);
    } catch (err) {
      return declined(err, req.idempotencyKey);
    }
  }

  async retrieve(providerRef: string): Promise<ChargeResult> {
    try {
      return fromPaymentIntent(await this.stripe.paymentIntents.retrieve(providerRef));
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === "resource_missing") return { status: "failed", providerRef, failureCode: "no_such_charge" };
      throw unknownOutcome(err);
    }
  }

  /**
   * Refunds a PaymentIntent that took money no grant stands for. The idempotency key names our
   * payment and the PaymentIntent, so however often a webhook is redelivered, Stripe issues one
   * refund; past Stripe's 24-hour key memory, its "already refunded" answer is taken as done.
   */
  async refund(paymentIntentId: string, paymentId: string): Promise<RefundOutcome> {
    try {
      const r = await this.stripe.refunds.create(
        { payment_intent: paymentIntentId, reason: "duplicate", metadata: { payment_id: paymentId } },
        { idempotencyKey: stripeKey(`refund_${paymentId}_${paymentIntentId}`) },
      );
      return { refundId: r.id, status: r.status ?? "pending" };
    } catch (err) {
      if (err instanceof Stripe.errors.StripeInvalidRequestError && err.code === "charge_already_refunded") return { refundId: null, status: "already_refunded" };
      throw unknownOutcome(err);
    }
  }

  /** Verifies the `Stripe-Signature` header over the raw body (timestamps judged against `nowMs`). */
  parseWebhook(raw: Buffer, signature: string | undefined, nowMs: number): WebhookParse {
    if (signature === undefined || signature === "") return { kind: "invalid_signature", message: "The Stripe-Signature header is missing." };
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(raw, signature, this.options.webhookSecret, undefined, undefined, nowMs);
    } catch (err) {
      return { kind: "invalid_signature", message: err instanceof Error ? err.message : "The signature does not verify." };
    }
    if (!event.type.startsWith("payment_intent.")) return { kind: "other_event", eventId: event.id, type: event.type };
    const pi = event.data.object as Stripe.PaymentIntent;
    return {
      kind: "payment_intent",
      notice: {
        eventId: event.id,
        type: event.type,
        paymentIntentId: pi.id,
        paymentId: pi.metadata?.["payment_id"] ?? null,
        orgId: pi.metadata?.["org_id"] ?? null,
        amount: pi.amount * MICROS_PER_CENT,
      },
    };
  }
}

/** `pm_…` or `cus_…:pm_…`. */
function parseToken(token: string): { customer: string | null; paymentMethod: string } | undefined {
  const m = /^(?:(cus_[A-Za-z0-9]+):)?(pm_[A-Za-z0-9_]+)$/.exec(token);
  if (!m || m[2] === undefined) return undefined;
  return { customer: m[1] ?? null, paymentMethod: m[2] };
}

/** Our keys may be longer than Stripe's 255 characters (API keys are scoped); a long one is hashed, deterministically. */
function stripeKey(key: string): string {
  return key.length <= MAX_STRIPE_KEY ? key : `sha256_${createHash("sha256").update(key).digest("hex")}`;
}

function fromPaymentIntent(pi: Stripe.PaymentIntent): ChargeResult {
  switch (pi.status) {
    case "succeeded":
      return { status: "succeeded", providerRef: pi.id };
    case "processing":
    case "requires_confirmation":
    case "requires_capture":
      return { status: "pending", providerRef: pi.id };
    case "requires_action":
      // Off-session nobody can answer the challenge now; if the customer completes it later, the
      // webhook sees a success for a failed payment and refunds it.
      return { status: "failed", providerRef: pi.id, failureCode: "authentication_required" };
    case "requires_payment_method": {
      const e = pi.last_payment_error;
      return { status: "failed", providerRef: pi.id, failureCode: failureCode(e?.code, e?.decline_code) };
    }
    case "canceled":
      return { status: "failed", providerRef: pi.id, failureCode: "canceled" };
    default:
      return { status: "pending", providerRef: pi.id };
  }
}

/** Stripe's specific decline reason when it has one (insufficient_funds), else its error code (card_declined). */
function failureCode(code: string | undefined, decline: string | undefined): string {
  if (decline !== undefined && decline !== "" && decline !== "generic_decline") return decline;
  return code !== undefined && code !== "" ? code : "card_declined";
}

/** A thrown SDK error as a charge result: a decision (declined, invalid) or an unknown outcome. */
function declined(err: unknown, key: string): ChargeResult {
  if (err instanceof Stripe.errors.StripeCardError) {
    const pi = err.payment_intent;
    return { status: "failed", providerRef: pi?.id ?? err.requestId ?? `declined:${key}`, failureCode: failureCode(err.code, err.decline_code) };
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    // Stripe refused the request itself (e.g. a detached method): nothing was charged.
    return { status: "failed", providerRef: err.payment_intent?.id ?? err.requestId ?? `invalid:${key}`, failureCode: err.code === "resource_missing" ? "invalid_payment_method" : (err.code ?? "invalid_request") };
  }
  throw unknownOutcome(err);
}

/** Connection trouble, timeouts, 5xx and rate limits leave the outcome unknown; anything else is a bug or bad credentials. */
function unknownOutcome(err: unknown): unknown {
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError || err instanceof Stripe.errors.StripeRateLimitError) {
    return new ProviderTimeout(`stripe: ${err.message}`);
  }
  return err;
}
