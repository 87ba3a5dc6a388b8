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

/** The provider did not answer in time: the outcome is unknown until a retry or a retrieve. */
export class ProviderTimeout extends Error {
  constructor(message = "payment provider timed out") {
    super(message);
    this.name = "ProviderTimeout";
  }
}
