// Credit requests: a member asks, an approver buys the amount with a card (a manual payment), or declines.

import type { Micros } from "../../core/money.js";
import { newId } from "../../core/ids.js";
import type { CreditRequest, Payment } from "../../core/money-in-model.js";
import { checkAmount, checkConfirmation } from "../../core/purchases.js";
import type { Idempotency, Outcome } from "../batcher.js";
import { event, fail, fresh, ok, type MoneyInDeps } from "./common.js";
import type { Payments } from "./payments.js";

export class CreditRequests {
  constructor(
    private readonly deps: MoneyInDeps,
    private readonly payments: Payments,
  ) {}

  async request(orgId: string, memberId: string, amount: Micros, note: string, idem?: Idempotency<CreditRequest>): Promise<Outcome<CreditRequest>> {
    const checked = checkAmount(amount, this.deps.options.purchases);
    if (!checked.ok) return fresh(checked);
    return this.deps.admin.write(idem, async (tx, now) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const member = await tx.getMember(memberId);
      if (!member || member.orgId !== orgId) return fail("not_found", `No member ${memberId} in this organization.`, { field: "member_id" });
      const req: CreditRequest = { id: newId("creditRequest", now), orgId, memberId, amount, note, status: "pending", decidedBy: null, decidedAt: null, decisionNote: "", paymentId: null, createdAt: now };
      await tx.moneyIn.insertCreditRequest(req);
      await tx.moneyIn.insertEvents([event(orgId, "credit_request.created", { credit_request_id: req.id, member_id: memberId, amount: String(amount), note }, now)]);
      return ok(req);
    });
  }

  list(orgId: string): Promise<CreditRequest[]> {
    return this.deps.store.read((tx) => tx.moneyIn.listCreditRequests(orgId));
  }

  async get(orgId: string, id: string): Promise<CreditRequest | undefined> {
    const r = await this.deps.store.read((tx) => tx.moneyIn.getCreditRequest(id));
    return r && r.orgId === orgId ? r : undefined;
  }

  /** Approving buys the requested amount with the approver's chosen card, under the purchase rules. */
  async approve(orgId: string, requestId: string, input: { actor: string | null; paymentMethodId: string; confirm: boolean }, idem?: Idempotency<Payment>): Promise<Outcome<Payment>> {
    const req = await this.get(orgId, requestId);
    if (!req) return fresh(fail("not_found", `No credit request ${requestId}.`));
    const confirmed = checkConfirmation(req.amount, input.confirm, this.deps.options.purchases);
    if (!confirmed.ok) return fresh(confirmed);
    return this.payments.start(
      { orgId, purpose: "credit_request", priced: { credit: req.amount, charge: req.amount, bundleId: null }, paymentMethodId: input.paymentMethodId, actor: input.actor, creditRequestId: req.id },
      idem,
      async (tx, now, paymentId, audit) => {
        const current = await tx.moneyIn.getCreditRequest(requestId);
        if (!current || current.orgId !== orgId) return fail("not_found", `No credit request ${requestId}.`);
        if (current.status !== "pending") return fail("conflict", `Credit request ${requestId} is already ${current.status}.`, { status: current.status });
        const approved: CreditRequest = { ...current, status: "approved", decidedBy: input.actor, decidedAt: now, paymentId };
        await tx.moneyIn.updateCreditRequest(approved);
        audit.record({ orgId, action: "credit_request.approved", targetType: "credit_request", targetId: requestId, before: current, after: approved });
        return ok(true);
      },
    );
  }

  async decline(orgId: string, requestId: string, actor: string | null, note: string): Promise<Outcome<CreditRequest>> {
    return this.deps.admin.write(undefined, async (tx, now, audit) => {
      await tx.lockOrgs([orgId]);
      const req = await tx.moneyIn.getCreditRequest(requestId);
      if (!req || req.orgId !== orgId) return fail("not_found", `No credit request ${requestId}.`);
      if (req.status !== "pending") return fail("conflict", `Credit request ${requestId} is already ${req.status}.`, { status: req.status });
      const declined: CreditRequest = { ...req, status: "declined", decidedBy: actor, decidedAt: now, decisionNote: note };
      await tx.moneyIn.updateCreditRequest(declined);
      audit.record({ orgId, action: "credit_request.declined", targetType: "credit_request", targetId: requestId, before: req, after: declined });
      return ok(declined);
    });
  }
}
