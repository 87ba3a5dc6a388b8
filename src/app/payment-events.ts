// A payment provider's events, received (Stripe's webhooks; the provider's adapter verifies the
// signature over the raw bytes and reduces an event to a PaymentIntentNotice, ports/payments.ts).
// This use case turns `payment_intent.*` notices into MoneyIn.reconcile calls (which retrieve
// the PaymentIntent and apply it with the guarded pending → succeeded | failed transition), and
// refunds a PaymentIntent that took money no grant stands for. Every event type is handled the
// same way — "something changed, look it up" — so duplicates and out-of-order deliveries are
// harmless. Answers: 400 on a bad signature (Stripe shows it in the dashboard), 503 when Stripe
// itself could not be asked (Stripe redelivers), 200 for everything else, including events about
// payments that are not ours (ignored, logged).

import type { MoneyIn } from "./money-in/index.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import { ProviderTimeout, type PaymentEventSource } from "../ports/payments.js";

export type WebhookReceipt =
  | { readonly kind: "rejected"; readonly message: string }
  | { readonly kind: "retry_later"; readonly message: string }
  | { readonly kind: "accepted"; readonly body: Record<string, unknown> };

export class PaymentEvents {
  constructor(
    private readonly source: PaymentEventSource,
    private readonly moneyIn: MoneyIn,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async receive(raw: Buffer, signature: string | undefined): Promise<WebhookReceipt> {
    const parsed = this.source.parseWebhook(raw, signature, this.clock.now());
    switch (parsed.kind) {
      case "invalid_signature":
        this.log.error("stripe webhook rejected: bad signature", { reason: parsed.message });
        return { kind: "rejected", message: parsed.message };
      case "other_event":
        return { kind: "accepted", body: { received: true, event_id: parsed.eventId, handled: false } };
      case "payment_intent":
        break;
    }
    const n = parsed.notice;
    const seen = { received: true, event_id: n.eventId, type: n.type, payment_intent: n.paymentIntentId };
    if (n.paymentId === null) {
      this.log.info("stripe webhook ignored: not one of our payments", seen);
      return { kind: "accepted", body: { ...seen, handled: false, reason: "not_our_payment" } };
    }
    try {
      const r = await this.moneyIn.reconcile({ paymentId: n.paymentId, providerRef: n.paymentIntentId, orgId: n.orgId, amount: n.amount });
      switch (r.kind) {
        case "unknown_payment":
          this.log.info("stripe webhook ignored: unknown payment", { ...seen, payment_id: n.paymentId });
          return { kind: "accepted", body: { ...seen, handled: false, reason: "unknown_payment" } };
        case "mismatch":
          this.log.error("stripe webhook ignored: payment intent does not match the payment", { ...seen, payment_id: n.paymentId });
          return { kind: "accepted", body: { ...seen, handled: false, reason: "mismatch" } };
        case "reconciled":
          break;
      }
      let refund: { refund_id: string | null; status: string } | null = null;
      if (r.unbacked) {
        const out = await this.source.refund(n.paymentIntentId, r.payment.id);
        refund = { refund_id: out.refundId, status: out.status };
        // The refund's record is Stripe's (metadata.payment_id); we log it (no refunds table yet).
        this.log.info("payment intent refunded: no grant stands for it", { ...seen, payment_id: r.payment.id, payment_status: r.payment.status, ...refund });
      }
      return { kind: "accepted", body: { ...seen, handled: true, payment_id: r.payment.id, payment_status: r.payment.status, refund } };
    } catch (err) {
      if (err instanceof ProviderTimeout) return { kind: "retry_later", message: err.message };
      throw err;
    }
  }
}
