// Payment methods: a card tokenized by the provider, attached to an organization, detached on removal.

import { newId } from "../../core/ids.js";
import type { PaymentMethod } from "../../core/money-in-model.js";
import type { Idempotency, Outcome } from "../batcher.js";
import { fail, fresh, ok, type MoneyInDeps } from "./common.js";

export class PaymentMethods {
  constructor(private readonly deps: MoneyInDeps) {}

  async add(orgId: string, card: { cardNumber?: string; token?: string }, idem?: Idempotency<PaymentMethod>): Promise<Outcome<PaymentMethod>> {
    const provider = this.deps.provider;
    const tokenized = await provider.tokenize(card);
    if (!tokenized) {
      return fresh(fail("invalid_card", `The ${provider.name} provider does not accept this card (the sandbox takes only the test card numbers listed in docs/money-in.md; Stripe takes a pm_… id).`, { field: card.cardNumber !== undefined ? "card_number" : "token" }));
    }
    return this.deps.admin.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const pm: PaymentMethod = { id: newId("paymentMethod", now), orgId, provider: provider.name, token: tokenized.token, brand: tokenized.brand, last4: tokenized.last4, createdAt: now, detachedAt: null };
      await tx.moneyIn.insertPaymentMethod(pm);
      audit.record({ orgId, action: "payment_method.created", targetType: "payment_method", targetId: pm.id, before: null, after: pm });
      return ok(pm);
    });
  }

  list(orgId: string): Promise<PaymentMethod[]> {
    return this.deps.store.read((tx) => tx.moneyIn.listPaymentMethods(orgId));
  }

  /** Detaches a method (payments keep referring to it). Auto-reload using it then skips with missing_payment_method. */
  async remove(orgId: string, id: string): Promise<Outcome<PaymentMethod>> {
    return this.deps.admin.write(undefined, async (tx, now, audit) => {
      await tx.lockOrgs([orgId]);
      const pm = await tx.moneyIn.getPaymentMethod(id);
      if (!pm || pm.orgId !== orgId || pm.detachedAt !== null) return fail("not_found", `No payment method ${id}.`);
      await tx.moneyIn.detachPaymentMethod(id, now);
      const removed = { ...pm, detachedAt: now };
      audit.record({ orgId, action: "payment_method.removed", targetType: "payment_method", targetId: id, before: pm, after: removed });
      return ok(removed);
    });
  }
}
