// The sandbox payment provider: offline, deterministic, the embedded default. Outcomes are decided
// by the test card number (docs/money-in.md), like a card network's test mode. It keeps a ledger
// of charges per idempotency key and, like Stripe, never charges the same key twice: a retry with
// the key returns the first result. Tests read `charges()` to assert "exactly one charge".
// State lives in memory (a restart forgets charges, and keys are forgotten after 24 hours, as
// Stripe does); a real provider replaces it in production.

import type { Micros } from "../../core/money.js";
import type { Clock } from "../../ports/clock.js";
import { ProviderTimeout, type ChargeRequest, type ChargeResult, type PaymentProvider, type TokenizedCard } from "../../ports/payments.js";

type Behaviour = "succeed" | "decline" | "insufficient_funds" | "authentication" | "timeout_once" | "pending";

/** Test cards → behaviour. Tokens name the behaviour, so the stored token never holds the number. */
export const SANDBOX_CARDS: Readonly<Record<string, { behaviour: Behaviour; token: string; brand: string }>> = {
  "4242424242424242": { behaviour: "succeed", token: "tok_sandbox_visa", brand: "visa" },
  "4000000000000002": { behaviour: "decline", token: "tok_sandbox_declined", brand: "visa" },
  "4000000000009995": { behaviour: "insufficient_funds", token: "tok_sandbox_insufficient_funds", brand: "visa" },
  "4000002500003155": { behaviour: "authentication", token: "tok_sandbox_authentication_required", brand: "visa" },
  "4000000000000119": { behaviour: "timeout_once", token: "tok_sandbox_timeout_once", brand: "visa" },
  "4000000000000077": { behaviour: "pending", token: "tok_sandbox_pending", brand: "visa" },
};

const KEY_MEMORY_MS = 24 * 3_600_000;

const BY_TOKEN = new Map(Object.entries(SANDBOX_CARDS).map(([number, c]) => [c.token, { ...c, last4: number.slice(-4) }]));

export interface SandboxCharge {
  readonly providerRef: string;
  readonly idempotencyKey: string;
  readonly amount: Micros;
  readonly currency: string;
  readonly paymentMethod: string;
  readonly description: string;
  readonly offSession: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly createdAt: number;
  /** The outcome decided at charge time ("pending" resolves on retrieve after the delay). */
  readonly status: ChargeResult["status"];
  readonly failureCode?: string;
}

export class SandboxProvider implements PaymentProvider {
  readonly name = "sandbox";
  private readonly byKey = new Map<string, SandboxCharge>();
  private readonly byRef = new Map<string, SandboxCharge>();
  /** Every call to `charge`, including retries answered from the key ledger and timeouts. */
  calls = 0;
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    /** A pending (…0077) charge succeeds when retrieved this long after it was made. */
    private readonly pendingDelayMs: number,
  ) {}

  async tokenize(input: { readonly cardNumber?: string; readonly token?: string }): Promise<TokenizedCard | undefined> {
    const card = input.cardNumber !== undefined ? SANDBOX_CARDS[input.cardNumber.replace(/[\s-]/g, "")] : input.token !== undefined ? BY_TOKEN.get(input.token) : undefined;
    if (!card) return undefined;
    const last4 = BY_TOKEN.get(card.token)?.last4 ?? "0000";
    return { token: card.token, brand: card.brand, last4 };
  }

  async charge(req: ChargeRequest): Promise<ChargeResult> {
    this.calls++;
    const prior = this.byKey.get(req.idempotencyKey);
    if (prior) return this.result(prior);
    const card = BY_TOKEN.get(req.paymentMethod);
    const behaviour: Behaviour | "unknown" = card?.behaviour ?? "unknown";
    const base = {
      providerRef: `ch_sandbox_${(++this.seq).toString(36).padStart(6, "0")}`,
      idempotencyKey: req.idempotencyKey,
      amount: req.amount,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      description: req.description,
      offSession: req.offSession === true,
      metadata: req.metadata ?? {},
      createdAt: this.clock.now(),
    };
    let charge: SandboxCharge;
    switch (behaviour) {
      case "succeed":
      case "timeout_once":
        charge = { ...base, status: "succeeded" };
        break;
      case "decline":
        charge = { ...base, status: "failed", failureCode: "card_declined" };
        break;
      case "insufficient_funds":
        charge = { ...base, status: "failed", failureCode: "insufficient_funds" };
        break;
      case "authentication":
        // Off-session nobody can answer the 3-D Secure challenge; on-session the customer did.
        charge = req.offSession === true ? { ...base, status: "failed", failureCode: "authentication_required" } : { ...base, status: "succeeded" };
        break;
      case "pending":
        charge = { ...base, status: "pending" };
        break;
      case "unknown":
        charge = { ...base, status: "failed", failureCode: "invalid_payment_method" };
        break;
    }
    this.byKey.set(req.idempotencyKey, charge);
    this.byRef.set(charge.providerRef, charge);
    this.forgetOld();
    // The charge happened, but the answer is lost on the way back: only the first attempt per key.
    if (behaviour === "timeout_once") throw new ProviderTimeout("sandbox: simulated network timeout (card 4000000000000119)");
    return this.result(charge);
  }

  async retrieve(providerRef: string): Promise<ChargeResult> {
    const c = this.byRef.get(providerRef);
    if (!c) return { status: "failed", providerRef, failureCode: "no_such_charge" };
    return this.result(c);
  }

  /**
   * Like Stripe, remembers keys for 24 hours and no longer (money-in never retries a charge after
   * 20 hours): a long-running sandbox server's memory stays bounded. Maps iterate in insertion
   * order, which is creation order, so the oldest are at the front.
   */
  private forgetOld(): void {
    const horizon = this.clock.now() - KEY_MEMORY_MS;
    for (const [key, c] of this.byKey) {
      if (c.createdAt >= horizon) break;
      this.byKey.delete(key);
      this.byRef.delete(c.providerRef);
    }
  }

  /** The charge log: one entry per idempotency key charged in the last 24 hours (failed ones included). */
  charges(): SandboxCharge[] {
    return [...this.byKey.values()];
  }

  private result(c: SandboxCharge): ChargeResult {
    if (c.status === "pending") {
      const settled = this.clock.now() >= c.createdAt + this.pendingDelayMs;
      return settled ? { status: "succeeded", providerRef: c.providerRef } : { status: "pending", providerRef: c.providerRef };
    }
    return c.failureCode !== undefined ? { status: c.status, providerRef: c.providerRef, failureCode: c.failureCode } : { status: c.status, providerRef: c.providerRef };
  }
}
