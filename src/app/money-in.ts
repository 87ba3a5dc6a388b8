// Money-in use cases: payment methods, purchases ("add funds"), credit requests, auto-reload and
// the pending-payment poller. Each reads as load → decide (core/purchases.ts, core/auto-reload.ts)
// → write in one transaction.
//
// Exactly once, whatever arrives twice. A payment row is written `pending` in its own transaction
// BEFORE the provider is called; the provider call happens outside any transaction, with the
// payment's idempotency key (the provider never charges a key twice); its answer is applied in a
// transaction that takes the organization's lock and moves the row pending → succeeded | failed
// with a guarded UPDATE. Only the caller whose UPDATE moved the row creates the grant (through
// Books.addGrant, so debt is repaid first and the ledger stays balanced) and writes the events —
// in that same transaction. A timeout leaves the payment pending; `resolvePending` (run by the
// sweep timer) retries the charge with the same key, or retrieves a known reference.

import { Books } from "../core/books.js";
import { LoggedBooks } from "../core/operation-log.js";
import { decideReload, isLow, validateReloadSettings, type ReloadDecision, type ReloadRules, type ReloadSettingsInput } from "../core/auto-reload.js";
import { domainError, type ErrorCode, type Result } from "../core/errors.js";
import type { Grant } from "../core/grants.js";
import { newId } from "../core/ids.js";
import { periodBounds } from "../core/limits.js";
import type {
  AutoReloadSettings,
  CreditRequest,
  EventType,
  OutboxEvent,
  Payment,
  PaymentMethod,
  PaymentPurpose,
  ReloadAttempt,
} from "../core/money-in-model.js";
import type { Micros } from "../core/money.js";
import { checkAmount, checkConfirmation, checkDailyCap, pricePurchase, utcDay, type PricedPurchase, type PurchaseRules } from "../core/purchases.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import { ProviderTimeout, type ChargeResult, type PaymentProvider } from "../ports/payments.js";
import type { Store, StoreTx } from "../ports/store.js";
import type { Admin } from "./admin.js";
import { appendAudit, asSystem, AuditRecorder } from "./audit.js";
import { idempotencyConflict, type Idempotency, type Outcome, type Rendered } from "./batcher.js";
import { PerOrgRunner, RefreshingOrgSet } from "./org-watch.js";

export interface MoneyInOptions {
  readonly purchases: PurchaseRules;
  readonly reload: ReloadRules;
  /** How long the poller waits before looking at a pending payment again. */
  readonly pendingRecheckMs: number;
}

export interface PurchaseInput {
  readonly orgId: string;
  /** The member buying (null: operator key or CLI). */
  readonly actor: string | null;
  readonly amount?: Micros;
  readonly bundleId?: string;
  readonly paymentMethodId: string;
  readonly confirm: boolean;
}

/** Manual purchases count toward the daily purchase cap; auto-reload has its own monthly cap. */
const MANUAL: readonly PaymentPurpose[] = ["purchase", "credit_request"];
/** Purchased credits burn like any usage credit of the default priority. */
const PURCHASE_PRIORITY = 5;
/** How stale this instance's list of organizations with auto-reload settings may get (other instances' changes). */
const RELOAD_ORGS_REFRESH_MS = 5_000;
/** A payment whose charge never got an answer is retried with its idempotency key for this long (under Stripe's 24 h). */
const CHARGE_RETRY_WINDOW_MS = 20 * 3_600_000;

/** What the metrics count of auto-reload: a charge started, a skip recorded, a charge's result. */
export type ReloadOutcome = "started" | "skipped" | "succeeded" | "failed";

type Started = { readonly kind: "replay"; readonly rendered: Rendered } | { readonly kind: "existing" | "new"; readonly payment: Payment };

class Rollback<T> extends Error {
  constructor(readonly result: Result<T>) {
    super("rollback");
  }
}

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(code: ErrorCode, message: string, details?: Record<string, unknown>): Result<T> => ({ ok: false, error: domainError(code, message, details) });
const fresh = <T>(result: Result<T>): Outcome<T> => ({ kind: "fresh", result });
const event = (orgId: string, type: EventType, data: Record<string, unknown>, now: number): OutboxEvent => ({ id: newId("event", now), orgId, type, data, createdAt: now });

export class MoneyIn {
  /** Organizations with auto-reload settings: a settle of any other organization costs nothing. */
  private readonly reloadOrgs: RefreshingOrgSet;
  /** Auto-reload evaluations, coalesced per organization. */
  private readonly evaluations: PerOrgRunner;
  private readonly driving = new Set<Promise<unknown>>();
  private readonly reloadListeners: Array<(outcome: ReloadOutcome) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly admin: Admin,
    readonly provider: PaymentProvider,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly options: MoneyInOptions,
  ) {
    this.reloadOrgs = new RefreshingOrgSet(
      () => this.store.read((tx) => tx.moneyIn.listAutoReloadOrgIds()),
      this.clock,
      RELOAD_ORGS_REFRESH_MS,
      (err) => this.log.error("auto-reload org list refresh failed", { error: String(err) }),
    );
    this.evaluations = new PerOrgRunner(
      // Auto-reload acts for nobody in particular (whoever's settle woke it): the audit log says system.
      (orgId) => asSystem(() => this.evaluate(orgId)),
      (orgId, err) => this.log.error("auto-reload evaluation failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /** Called after an auto-reload starts a charge, skips, succeeds or fails (metrics). */
  onReload(listener: (outcome: ReloadOutcome) => void): void {
    this.reloadListeners.push(listener);
  }

  private reloaded(outcome: ReloadOutcome | undefined): void {
    if (outcome) for (const l of this.reloadListeners) l(outcome);
  }

  // ------------------------------------------------------------ payment methods

  async addPaymentMethod(orgId: string, card: { cardNumber?: string; token?: string }, idem?: Idempotency<PaymentMethod>): Promise<Outcome<PaymentMethod>> {
    const tokenized = await this.provider.tokenize(card);
    if (!tokenized) {
      return fresh(fail("invalid_card", `The ${this.provider.name} provider does not accept this card (the sandbox takes only the test card numbers listed in docs/money-in.md; Stripe takes a pm_… id).`, { field: card.cardNumber !== undefined ? "card_number" : "token" }));
    }
    return this.admin.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const pm: PaymentMethod = { id: newId("paymentMethod", now), orgId, provider: this.provider.name, token: tokenized.token, brand: tokenized.brand, last4: tokenized.last4, createdAt: now, detachedAt: null };
      await tx.moneyIn.insertPaymentMethod(pm);
      audit.record({ orgId, action: "payment_method.created", targetType: "payment_method", targetId: pm.id, before: null, after: pm });
      return ok(pm);
    });
  }

  listPaymentMethods(orgId: string): Promise<PaymentMethod[]> {
    return this.store.read((tx) => tx.moneyIn.listPaymentMethods(orgId));
  }

  /** Detaches a method (payments keep referring to it). Auto-reload using it then skips with missing_payment_method. */
  async removePaymentMethod(orgId: string, id: string): Promise<Outcome<PaymentMethod>> {
    return this.admin.write(undefined, async (tx, now, audit) => {
      await tx.lockOrgs([orgId]);
      const pm = await tx.moneyIn.getPaymentMethod(id);
      if (!pm || pm.orgId !== orgId || pm.detachedAt !== null) return fail("not_found", `No payment method ${id}.`);
      await tx.moneyIn.detachPaymentMethod(id, now);
      const removed = { ...pm, detachedAt: now };
      audit.record({ orgId, action: "payment_method.removed", targetType: "payment_method", targetId: id, before: pm, after: removed });
      return ok(removed);
    });
  }

  // ------------------------------------------------------------ purchases

  async purchase(input: PurchaseInput, idem?: Idempotency<Payment>): Promise<Outcome<Payment>> {
    const rules = this.options.purchases;
    const priced = pricePurchase(input.bundleId !== undefined ? { bundleId: input.bundleId } : { amount: input.amount ?? 0 }, rules);
    if (!priced.ok) return fresh(priced);
    const confirmed = checkConfirmation(priced.value.charge, input.confirm, rules);
    if (!confirmed.ok) return fresh(confirmed);
    return this.startPayment({ orgId: input.orgId, purpose: "purchase", priced: priced.value, paymentMethodId: input.paymentMethodId, actor: input.actor, creditRequestId: null }, idem);
  }

  listPayments(orgId: string, limit = 100): Promise<Payment[]> {
    return this.store.read((tx) => tx.moneyIn.listPayments(orgId, limit));
  }

  async getPayment(orgId: string, id: string): Promise<Payment | undefined> {
    const p = await this.store.read((tx) => tx.moneyIn.getPayment(id));
    return p && p.orgId === orgId ? p : undefined;
  }

  /** A payment as a use-case result: a failed charge is the `payment_failed` error. */
  static asResult(p: Payment): Result<Payment> {
    if (p.status !== "failed") return ok(p);
    return fail("payment_failed", `The payment was not made: ${p.failureCode ?? "failed"}. Nothing was charged and no credits were granted.`, {
      payment_id: p.id,
      failure_code: p.failureCode,
      amount: String(p.amount),
    });
  }

  private async startPayment(
    p: { orgId: string; purpose: PaymentPurpose; priced: PricedPurchase; paymentMethodId: string; actor: string | null; creditRequestId: string | null },
    idem: Idempotency<Payment> | undefined,
    beforeInsert?: (tx: StoreTx, now: number, paymentId: string, audit: AuditRecorder) => Promise<Result<true>>,
  ): Promise<Outcome<Payment>> {
    const rules = this.options.purchases;
    // The API's Idempotency-Key becomes the provider's key: a retry finds this very payment.
    const key = idem ? `api:${idem.scope}:${idem.key}` : `pay:${newId("payment", this.clock.now())}`;
    const started = await this.txn<Started>(async (tx, now) => {
      if (idem) {
        const prior = (await tx.getIdempotency(idem.scope, [idem.key]))[0];
        if (prior) {
          if (prior.requestHash !== idem.requestHash) return { ok: false, error: idempotencyConflict(idem.key) };
          return ok({ kind: "replay", rendered: { status: prior.status, body: prior.response } });
        }
      }
      const [org] = await tx.lockOrgs([p.orgId]);
      if (!org) return fail("not_found", `No organization ${p.orgId}.`);
      const existing = await tx.moneyIn.getPaymentByKey(key);
      if (existing) {
        if (existing.orgId !== p.orgId || existing.requestHash !== (idem?.requestHash ?? null)) return { ok: false, error: idempotencyConflict(idem?.key ?? key) };
        return ok({ kind: "existing", payment: existing });
      }
      const pm = await tx.moneyIn.getPaymentMethod(p.paymentMethodId);
      if (!pm || pm.orgId !== p.orgId || pm.detachedAt !== null) return fail("not_found", `No payment method ${p.paymentMethodId}.`, { field: "payment_method_id" });
      const day = utcDay(now);
      const cap = checkDailyCap(await tx.moneyIn.sumCharged(p.orgId, MANUAL, day.start, day.end), p.priced.charge, now, rules);
      if (!cap.ok) return cap;
      const id = newId("payment", now);
      const audit = new AuditRecorder();
      if (beforeInsert) {
        const r = await beforeInsert(tx, now, id, audit);
        if (!r.ok) return r;
      }
      const payment: Payment = {
        id,
        orgId: p.orgId,
        purpose: p.purpose,
        status: "pending",
        amount: p.priced.charge,
        creditAmount: p.priced.credit,
        currency: "USD",
        paymentMethodId: pm.id,
        bundleId: p.priced.bundleId,
        idempotencyKey: key,
        requestHash: idem?.requestHash ?? null,
        providerRef: null,
        failureCode: null,
        grantId: null,
        createdBy: p.actor,
        creditRequestId: p.creditRequestId,
        offSession: false,
        attempts: 0,
        nextCheckAt: now,
        createdAt: now,
        updatedAt: now,
        resolvedAt: null,
      };
      await tx.moneyIn.insertPayment(payment);
      audit.record({ orgId: p.orgId, action: "payment.created", targetType: "payment", targetId: id, before: null, after: payment });
      await appendAudit(tx, audit.drafts, now);
      return ok({ kind: "new", payment });
    });
    if (!started.ok) return fresh(started);
    const s = started.value;
    if (s.kind === "replay") return { kind: "replay", rendered: s.rendered };
    const payment = await this.drive(s.payment, idem);
    if (s.kind === "existing" && idem) return { kind: "replay", rendered: idem.render(MoneyIn.asResult(payment)) };
    return fresh(MoneyIn.asResult(payment));
  }

  /**
   * Calls the provider for a pending payment (outside any transaction) and applies its answer.
   * Safe to run concurrently for the same payment: the provider dedupes by key, the transition is guarded.
   */
  private async drive(payment: Payment, idem?: Idempotency<Payment>): Promise<Payment> {
    if (payment.status !== "pending") return payment;
    let result: ChargeResult;
    try {
      if (payment.providerRef !== null) {
        result = await this.provider.retrieve(payment.providerRef);
      } else if (this.clock.now() - payment.createdAt >= CHARGE_RETRY_WINDOW_MS) {
        // Providers remember idempotency keys for a limited time (Stripe: 24 h); charging again after
        // that could charge twice. Give up instead: if the first attempt did go through, its webhook
        // finds the payment failed and refunds it, once.
        result = { status: "failed", providerRef: "", failureCode: "provider_unreachable" };
      } else {
        const pm = await this.store.read((tx) => tx.moneyIn.getPaymentMethod(payment.paymentMethodId));
        result = await this.provider.charge({
          amount: payment.amount,
          currency: payment.currency,
          paymentMethod: pm?.token ?? "",
          idempotencyKey: payment.idempotencyKey,
          description: describe(payment),
          offSession: payment.offSession,
          metadata: { org_id: payment.orgId, payment_id: payment.id, purpose: payment.purpose },
        });
      }
    } catch (err) {
      // Unknown outcome: the payment stays pending (still the lock for auto-reload) until the poller learns it.
      if (!(err instanceof ProviderTimeout)) this.log.error("payment provider error", { payment_id: payment.id, error: err instanceof Error ? err.message : String(err) });
      const now = this.clock.now();
      await this.store.transaction((tx) => tx.moneyIn.notePending(payment.id, { providerRef: null, nextCheckAt: now + this.options.pendingRecheckMs, attempted: true, at: now }));
      return (await this.store.read((tx) => tx.moneyIn.getPayment(payment.id))) ?? payment;
    }
    return this.apply(payment, result, idem);
  }

  private async apply(payment: Payment, result: ChargeResult, idem?: Idempotency<Payment>): Promise<Payment> {
    const status = result.status;
    if (status === "pending") {
      const now = this.clock.now();
      await this.store.transaction((tx) => tx.moneyIn.notePending(payment.id, { providerRef: result.providerRef, nextCheckAt: now + this.options.pendingRecheckMs, attempted: true, at: now }));
      return (await this.store.read((tx) => tx.moneyIn.getPayment(payment.id))) ?? payment;
    }
    let reload: ReloadOutcome | undefined;
    const applied = await this.store.transaction(async (tx) => {
      reload = undefined;
      const now = this.clock.now();
      const [org] = await tx.lockOrgs([payment.orgId]);
      if (!org) throw new Error(`organization ${payment.orgId} of payment ${payment.id} not found`);
      const grantId = status === "succeeded" ? newId("grant", now) : null;
      const moved = await tx.moneyIn.resolvePayment(payment.id, {
        status,
        providerRef: result.providerRef === "" ? null : result.providerRef, // "" = no provider object
        failureCode: status === "failed" ? (result.failureCode ?? "card_declined") : null,
        grantId,
        at: now,
      });
      const current = (await tx.moneyIn.getPayment(payment.id)) ?? payment;
      if (!moved) return current; // someone else applied the answer first: exactly once
      await appendAudit(tx, [{ orgId: org.id, action: "payment.resolved", targetType: "payment", targetId: payment.id, before: payment, after: current }], now);
      const events: OutboxEvent[] = [];
      let balance: Micros | null = null;
      if (current.status === "succeeded" && grantId !== null) {
        const snap = await tx.loadSnapshot({ orgIds: [org.id], memberIds: [], holdIds: [], now }, [org]);
        const books = new LoggedBooks(snap, (kind) => newId(kind, now));
        const grant: Grant = {
          id: grantId,
          orgId: org.id,
          kind: "purchase",
          amount: current.creditAmount,
          remaining: current.creditAmount,
          priority: PURCHASE_PRIORITY,
          expiresAt: now + this.options.purchases.expiryMs,
          surfaces: null,
          memberId: null,
          createdAt: now,
          status: "active",
          description: describe(current),
        };
        books.addGrant(grant, now);
        await tx.writeChanges(books.changes());
        balance = books.balance(org.id, now);
      }
      const data = presentEventPayment(current, balance);
      if (current.purpose === "auto_reload") {
        reload = current.status === "succeeded" ? "succeeded" : "failed";
        await this.afterReload(tx, current, balance, now, events);
      } else {
        events.push(event(org.id, current.status === "succeeded" ? "purchase.succeeded" : "purchase.failed", data, now));
        if (current.status === "failed" && current.creditRequestId !== null) {
          // The approval did not go through: the request is open again, for another card.
          const req = await tx.moneyIn.getCreditRequest(current.creditRequestId);
          if (req && req.status === "approved" && req.paymentId === current.id) await tx.moneyIn.updateCreditRequest({ ...req, status: "pending", decidedBy: null, decidedAt: null });
        }
      }
      await tx.moneyIn.insertEvents(events);
      if (idem && (await tx.getIdempotency(idem.scope, [idem.key])).length === 0) {
        const r = idem.render(MoneyIn.asResult(current));
        await tx.putIdempotency([{ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, status: r.status, response: r.body, createdAt: now }]);
      }
      return current;
    });
    this.reloaded(reload);
    return applied;
  }

  /** The circuit breaker's bookkeeping for a resolved reload, in the payment's transaction. */
  private async afterReload(tx: StoreTx, p: Payment, balance: Micros | null, now: number, events: OutboxEvent[]): Promise<void> {
    const s = await tx.moneyIn.getAutoReload(p.orgId);
    const data = presentEventPayment(p, balance);
    if (p.status === "succeeded") {
      await tx.moneyIn.resolveReloadAttempt(p.id, "succeeded", null, null, now);
      events.push(event(p.orgId, "auto_reload.succeeded", data, now));
      if (s) {
        const recovered = balance !== null && balance > s.threshold;
        await tx.moneyIn.putAutoReload({ ...s, consecutiveFailures: 0, lastFailureAt: null, lastSkipReason: null, lowBalanceNotified: recovered ? false : s.lowBalanceNotified, updatedAt: now });
      }
      return;
    }
    await tx.moneyIn.resolveReloadAttempt(p.id, "failed", "charge_failed", p.failureCode, now);
    // A failure of a method that has since been replaced does not count against the new one.
    const counts = s !== undefined && s.paymentMethodId === p.paymentMethodId;
    const failures = s ? (counts ? s.consecutiveFailures + 1 : s.consecutiveFailures) : 0;
    events.push(event(p.orgId, "auto_reload.failed", { ...data, reason: "charge_failed", consecutive_failures: failures }, now));
    if (!s) return;
    const suspend = counts && !s.suspended && failures >= this.options.reload.maxFailures;
    if (suspend) {
      events.push(event(p.orgId, "auto_reload.suspended", { reason: "suspended_after_failures", consecutive_failures: failures, payment_method_id: p.paymentMethodId, last_failure_code: p.failureCode }, now));
    }
    await tx.moneyIn.putAutoReload({
      ...s,
      consecutiveFailures: failures,
      lastFailureAt: counts ? now : s.lastFailureAt,
      suspended: s.suspended || suspend,
      lastSkipReason: null,
      updatedAt: now,
    });
  }

  /**
   * A provider's notice (a webhook) that one of its charges of our payment changed. The notice's
   * own snapshot and order are not trusted: the charge is retrieved from the provider and applied
   * with the same guarded transition as every answer, so a notice delivered twice, late or out of
   * order grants at most once. `unbacked` says the provider holds money for this charge that no
   * grant stands for (the payment failed, or succeeded with another charge): the caller refunds it.
   * May throw ProviderTimeout (the provider could not be asked; the notice should be redelivered).
   */
  async reconcile(notice: { paymentId: string; providerRef: string; orgId: string | null; amount: Micros | null }): Promise<
    { readonly kind: "unknown_payment" } | { readonly kind: "mismatch"; readonly payment: Payment } | { readonly kind: "reconciled"; readonly payment: Payment; readonly charge: ChargeResult; readonly unbacked: boolean }
  > {
    const payment = await this.store.read((tx) => tx.moneyIn.getPayment(notice.paymentId));
    if (!payment) return { kind: "unknown_payment" };
    if ((notice.orgId !== null && notice.orgId !== payment.orgId) || (notice.amount !== null && notice.amount !== payment.amount)) return { kind: "mismatch", payment };
    const charge = await this.provider.retrieve(notice.providerRef);
    const ours = payment.providerRef === null || payment.providerRef === notice.providerRef;
    const after = payment.status === "pending" && ours ? await this.apply(payment, charge) : payment;
    const unbacked = charge.status === "succeeded" && !(after.status === "succeeded" && after.providerRef === notice.providerRef);
    return { kind: "reconciled", payment: after, charge, unbacked };
  }

  /** Retries the charge of (or retrieves) every pending payment that is due. Run by the sweep timer. */
  async resolvePending(limit = 200): Promise<{ checked: number; resolved: number }> {
    const now = this.clock.now();
    const due = await this.store.read((tx) => tx.moneyIn.duePayments(now, limit));
    let resolved = 0;
    for (const p of due) {
      const after = await this.drive(p);
      if (after.status !== "pending") resolved++;
    }
    return { checked: due.length, resolved };
  }

  // ------------------------------------------------------------ credit requests

  async requestCredits(orgId: string, memberId: string, amount: Micros, note: string, idem?: Idempotency<CreditRequest>): Promise<Outcome<CreditRequest>> {
    const checked = checkAmount(amount, this.options.purchases);
    if (!checked.ok) return fresh(checked);
    return this.admin.write(idem, async (tx, now) => {
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

  listCreditRequests(orgId: string): Promise<CreditRequest[]> {
    return this.store.read((tx) => tx.moneyIn.listCreditRequests(orgId));
  }

  async getCreditRequest(orgId: string, id: string): Promise<CreditRequest | undefined> {
    const r = await this.store.read((tx) => tx.moneyIn.getCreditRequest(id));
    return r && r.orgId === orgId ? r : undefined;
  }

  /** Approving buys the requested amount with the approver's chosen card, under the purchase rules. */
  async approveCreditRequest(
    orgId: string,
    requestId: string,
    input: { actor: string | null; paymentMethodId: string; confirm: boolean },
    idem?: Idempotency<Payment>,
  ): Promise<Outcome<Payment>> {
    const req = await this.getCreditRequest(orgId, requestId);
    if (!req) return fresh(fail("not_found", `No credit request ${requestId}.`));
    const confirmed = checkConfirmation(req.amount, input.confirm, this.options.purchases);
    if (!confirmed.ok) return fresh(confirmed);
    return this.startPayment(
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

  async declineCreditRequest(orgId: string, requestId: string, actor: string | null, note: string): Promise<Outcome<CreditRequest>> {
    return this.admin.write(undefined, async (tx, now, audit) => {
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

  // ------------------------------------------------------------ auto-reload

  getAutoReload(orgId: string): Promise<AutoReloadSettings | undefined> {
    return this.store.read((tx) => tx.moneyIn.getAutoReload(orgId));
  }

  /** Replaces the settings. A different payment method lifts a suspension and resets the failure count. */
  async setAutoReload(orgId: string, input: ReloadSettingsInput): Promise<Outcome<AutoReloadSettings>> {
    const valid = validateReloadSettings(input, this.options.reload);
    if (!valid.ok) return fresh(valid);
    const out = await this.admin.write<AutoReloadSettings>(undefined, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      if (input.paymentMethodId !== null) {
        const pm = await tx.moneyIn.getPaymentMethod(input.paymentMethodId);
        if (!pm || pm.orgId !== orgId || pm.detachedAt !== null) return fail("not_found", `No payment method ${input.paymentMethodId}.`, { field: "payment_method_id" });
      }
      const prior = await tx.moneyIn.getAutoReload(orgId);
      const newMethod = prior === undefined || prior.paymentMethodId !== input.paymentMethodId;
      const next: AutoReloadSettings = {
        orgId,
        ...input,
        consecutiveFailures: newMethod ? 0 : (prior?.consecutiveFailures ?? 0),
        suspended: newMethod ? false : (prior?.suspended ?? false),
        lastFailureAt: newMethod ? null : (prior?.lastFailureAt ?? null),
        // A skip is recorded once per episode; a new payment method starts a new one.
        lastSkipReason: newMethod ? null : (prior?.lastSkipReason ?? null),
        lowBalanceNotified: prior?.lowBalanceNotified ?? false,
        updatedAt: now,
      };
      await tx.moneyIn.putAutoReload(next);
      audit.record({ orgId, action: "auto_reload.updated", targetType: "auto_reload", targetId: orgId, before: prior ?? null, after: next });
      return ok(next);
    });
    // New settings may already call for a reload.
    if (out.kind === "fresh" && out.result.ok) {
      this.reloadOrgs.add(orgId);
      this.evaluateSoon(orgId);
    }
    return out;
  }

  listReloadAttempts(orgId: string, limit = 100): Promise<ReloadAttempt[]> {
    return this.store.read((tx) => tx.moneyIn.listReloadAttempts(orgId, limit));
  }

  listEvents(orgId: string, limit: number, before?: { at: number; id: string }): Promise<OutboxEvent[]> {
    return this.store.read((tx) => tx.moneyIn.listEvents(orgId, limit, before));
  }

  /**
   * Asks for an auto-reload evaluation of the org (after a settle commits). Coalesced per org in
   * this process: one evaluation runs, and one more follows if settles arrived meanwhile. Across
   * processes the org row lock and the one-pending-reload unique index keep it to one reload.
   */
  evaluateSoon(orgId: string): void {
    if (this.reloadOrgs.mayContain(orgId)) this.evaluations.request(orgId);
  }

  /** Resolves when no evaluation (and no reload it started) is running. */
  async idle(): Promise<void> {
    for (;;) {
      await this.evaluations.idle();
      if (this.driving.size === 0) return;
      await Promise.all(this.driving);
    }
  }

  /** Load → decide → write; then the charge, outside the transaction. */
  async evaluate(orgId: string): Promise<ReloadDecision | undefined> {
    // A read first: most settles leave the balance above the threshold, and need no write at all.
    const peek = await this.store.read(async (tx) => {
      const s = await tx.moneyIn.getAutoReload(orgId);
      return s ? { s, state: await this.reloadState(tx, orgId, s, this.clock.now()) } : undefined;
    });
    if (!peek) return undefined;
    const quiet = decideReload(peek.s, peek.state, this.options.reload).kind === "none" && !isLow(peek.s, peek.state) && !peek.s.lowBalanceNotified && peek.s.lastSkipReason === null;
    if (quiet) return { kind: "none" };

    let reload: ReloadOutcome | undefined;
    const decided = await this.store.transaction(async (tx) => {
      reload = undefined;
      const now = this.clock.now();
      const [org] = await tx.lockOrgs([orgId]);
      const s = org ? await tx.moneyIn.getAutoReload(orgId) : undefined;
      if (!org || !s) return undefined;
      const state = await this.reloadState(tx, orgId, s, now);
      const decision = decideReload(s, state, this.options.reload);
      const low = isLow(s, state);
      const events: OutboxEvent[] = [];
      let next: AutoReloadSettings = s;
      if (low && !s.lowBalanceNotified) {
        events.push(event(orgId, "credits.low_balance", { balance: String(state.balance), pending_reloads: String(state.pending), threshold: String(s.threshold) }, now));
        next = { ...next, lowBalanceNotified: true };
      } else if (!low && (s.lowBalanceNotified || s.lastSkipReason !== null)) {
        next = { ...next, lowBalanceNotified: false, lastSkipReason: null };
      }
      let payment: Payment | undefined;
      const effective = state.balance + state.pending;
      switch (decision.kind) {
        case "none":
        case "wait":
          break;
        case "skip":
          if (s.lastSkipReason !== decision.reason) {
            await tx.moneyIn.insertReloadAttempt({ id: newId("reloadAttempt", now), orgId, at: now, outcome: "skipped", reason: decision.reason, amount: 0, balance: effective, paymentId: null, failureCode: null, resolvedAt: now });
            events.push(event(orgId, "auto_reload.failed", { reason: decision.reason, balance: String(effective), threshold: String(s.threshold) }, now));
            next = { ...next, lastSkipReason: decision.reason };
            reload = "skipped";
          }
          break;
        case "charge": {
          const id = newId("payment", now);
          payment = {
            id,
            orgId,
            purpose: "auto_reload",
            status: "pending",
            amount: decision.amount,
            creditAmount: decision.amount,
            currency: "USD",
            paymentMethodId: s.paymentMethodId ?? "",
            bundleId: null,
            idempotencyKey: `reload:${id}`,
            requestHash: null,
            providerRef: null,
            failureCode: null,
            grantId: null,
            createdBy: null,
            creditRequestId: null,
            offSession: true,
            attempts: 0,
            nextCheckAt: now,
            createdAt: now,
            updatedAt: now,
            resolvedAt: null,
          };
          await tx.moneyIn.insertPayment(payment);
          await appendAudit(tx, [{ orgId, action: "payment.created", targetType: "payment", targetId: id, before: null, after: payment }], now);
          await tx.moneyIn.insertReloadAttempt({ id: newId("reloadAttempt", now), orgId, at: now, outcome: "pending", reason: null, amount: decision.amount, balance: effective, paymentId: id, failureCode: null, resolvedAt: null });
          next = { ...next, lastSkipReason: null };
          reload = "started";
          break;
        }
      }
      if (next !== s) await tx.moneyIn.putAutoReload({ ...next, updatedAt: now });
      await tx.moneyIn.insertEvents(events);
      return { decision, payment };
    });
    this.reloaded(reload);
    if (decided?.payment) {
      const driving = this.drive(decided.payment);
      this.driving.add(driving);
      try {
        await driving;
      } finally {
        this.driving.delete(driving);
      }
    }
    return decided?.decision;
  }

  private async reloadState(tx: StoreTx, orgId: string, s: AutoReloadSettings, now: number) {
    const orgs = await tx.lockOrgs([orgId], false); // already locked by the caller's transaction, or a read
    const snap = await tx.loadSnapshot({ orgIds: [orgId], memberIds: [], holdIds: [], now }, orgs);
    const balance = new Books(snap, () => "unused").balance(orgId, now);
    const pending = await tx.moneyIn.pendingReload(orgId);
    const month = periodBounds("monthly", now);
    const monthCharged = await tx.moneyIn.sumCharged(orgId, ["auto_reload"], month.start, month.end);
    const pm = s.paymentMethodId !== null ? await tx.moneyIn.getPaymentMethod(s.paymentMethodId) : undefined;
    return { balance, pending: pending?.creditAmount ?? 0, monthCharged, paymentMethodUsable: pm !== undefined && pm.orgId === orgId && pm.detachedAt === null, now };
  }

  // ------------------------------------------------------------ helpers

  /** One transaction; a failed result rolls it back whole. */
  private async txn<T>(fn: (tx: StoreTx, now: number) => Promise<Result<T>>): Promise<Result<T>> {
    try {
      return await this.store.transaction(async (tx) => {
        const r = await fn(tx, this.clock.now());
        if (!r.ok) throw new Rollback(r);
        return r;
      });
    } catch (err) {
      if (err instanceof Rollback) return err.result as Result<T>;
      throw err;
    }
  }
}

function describe(p: Payment): string {
  switch (p.purpose) {
    case "purchase":
      return p.bundleId !== null ? `Purchase of ${p.bundleId} (${p.id})` : `Purchase (${p.id})`;
    case "credit_request":
      return `Approved credit request ${p.creditRequestId ?? ""} (${p.id})`;
    case "auto_reload":
      return `Auto-reload (${p.id})`;
  }
}

function presentEventPayment(p: Payment, balance: Micros | null): Record<string, unknown> {
  return {
    payment_id: p.id,
    purpose: p.purpose,
    status: p.status,
    amount: String(p.amount),
    credit_amount: String(p.creditAmount),
    grant_id: p.grantId,
    bundle_id: p.bundleId,
    credit_request_id: p.creditRequestId,
    failure_code: p.failureCode,
    ...(balance !== null ? { balance: String(balance) } : {}),
  };
}
