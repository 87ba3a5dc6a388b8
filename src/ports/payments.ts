// The payment provider port: how money comes in from a card. Implementations: the offline
// `sandbox` (src/adapters/payments/sandbox.ts, the embedded default, outcomes by test card
// number); Stripe (src/adapters/payments/stripe.ts) behind the same interface.
//
// Contract, as Stripe's: `charge` with the same idempotency key never charges twice and returns
// the first result; a call may throw ProviderTimeout, after which the charge may or may not have
// happened — retry with the same key, or `retrieve` a known reference, to learn which.

import type { Micros } from "../core/money.js";

export type ChargeStatus = "succeeded" | "failed" | "pending";

export interface ChargeRequest {
  readonly amount: Micros;
  readonly currency: "USD";
  /** The saved method's provider token. */
  readonly paymentMethod: string;
  readonly idempotencyKey: string;
  readonly description: string;
  /** Charged without the customer present (auto-reload). */
  readonly offSession?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface ChargeResult {
  readonly status: ChargeStatus;
  readonly providerRef: string;
  /** card_declined, insufficient_funds, authentication_required, … when failed. */
  readonly failureCode?: string;
}

/** A card reduced to what may be stored: the provider's token, the brand and the last 4 digits. */
export interface TokenizedCard {
  readonly token: string;
  readonly brand: string;
  readonly last4: string;
}

export interface PaymentProvider {
  readonly name: string;
  /** Turns a card number (sandbox) or a provider token into a storable method; undefined if refused. */
  tokenize(input: { readonly cardNumber?: string; readonly token?: string }): Promise<TokenizedCard | undefined>;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  retrieve(providerRef: string): Promise<ChargeResult>;
}

// --- payment events (a provider that notifies: Stripe's webhooks)

/** A verified webhook event about a PaymentIntent, reduced to what reconciliation needs. */
export interface PaymentIntentNotice {
  readonly eventId: string;
  readonly type: string;
  readonly paymentIntentId: string;
  /** Our payment, from the metadata we set on the PaymentIntent (null: not one of ours). */
  readonly paymentId: string | null;
  readonly orgId: string | null;
  /** The PaymentIntent's amount in micro-dollars. */
  readonly amount: Micros;
}

export type WebhookParse =
  | { readonly kind: "invalid_signature"; readonly message: string }
  | { readonly kind: "other_event"; readonly eventId: string; readonly type: string }
  | { readonly kind: "payment_intent"; readonly notice: PaymentIntentNotice };

export interface RefundOutcome {
  /** The refund's id, or null when Stripe says the charge was already refunded (by an earlier key). */
  readonly refundId: string | null;
  readonly status: string;
}

/**
 * The inbound side of a provider that sends signed events about payments: it verifies an event
 * over its raw bytes and reduces it to a notice (the app decides what to do with it), and refunds a
 * payment that took money no grant stands for.
 */
export interface PaymentEventSource {
  parseWebhook(raw: Buffer, signature: string | undefined, nowMs: number): WebhookParse;
  refund(paymentIntentId: string, paymentId: string): Promise<RefundOutcome>;
}

/** The provider did not answer in time: the outcome is unknown until a retry or a retrieve. */
export class ProviderTimeout extends Error {
  constructor(message = "payment provider timed out") {
    super(message);
    this.name = "ProviderTimeout";
  }
}
