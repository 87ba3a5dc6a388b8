// Purchases ("add funds"): price → confirm → a manual payment through the state machine.

import type { Payment } from "../../core/money-in-model.js";
import { checkConfirmation, pricePurchase } from "../../core/purchases.js";
import type { Idempotency, Outcome } from "../batcher.js";
import { fresh, type MoneyInDeps, type PurchaseInput } from "./common.js";
import type { Payments } from "./payments.js";

export class Purchases {
  constructor(
    private readonly deps: MoneyInDeps,
    private readonly payments: Payments,
  ) {}

  async purchase(input: PurchaseInput, idem?: Idempotency<Payment>): Promise<Outcome<Payment>> {
    const rules = this.deps.options.purchases;
    const priced = pricePurchase(input.bundleId !== undefined ? { bundleId: input.bundleId } : { amount: input.amount ?? 0 }, rules);
    if (!priced.ok) return fresh(priced);
    const confirmed = checkConfirmation(priced.value.charge, input.confirm, rules);
    if (!confirmed.ok) return fresh(confirmed);
    return this.payments.start({ orgId: input.orgId, purpose: "purchase", priced: priced.value, paymentMethodId: input.paymentMethodId, actor: input.actor, creditRequestId: null }, idem);
  }

  list(orgId: string, limit = 100): Promise<Payment[]> {
    return this.deps.store.read((tx) => tx.moneyIn.listPayments(orgId, limit));
  }

  async get(orgId: string, id: string): Promise<Payment | undefined> {
    const p = await this.deps.store.read((tx) => tx.moneyIn.getPayment(id));
    return p && p.orgId === orgId ? p : undefined;
  }
}
