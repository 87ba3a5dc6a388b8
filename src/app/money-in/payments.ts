// The payment state machine: pending → succeeded | failed, exactly once, whatever arrives twice.
//
// A payment row is written `pending` in its own transaction BEFORE the provider is called; the
// provider call happens outside any transaction, with the payment's idempotency key (the provider
// never charges a key twice); its answer is applied in a transaction that takes the organization's
// lock and moves the row pending → succeeded | failed with a guarded UPDATE. Only the caller whose
// UPDATE moved the row creates the grant (through Books.addGrant, so debt is repaid first and the
// ledger stays balanced) and writes the events — in that same transaction. A timeout leaves the
// payment pending; `resolvePending` (run by the sweep timer) retries the charge with the same key,
// or retrieves a known reference.

import { LoggedBooks } from "../../core/operation-log.js";
import type { Result } from "../../core/errors.js";
import type { Grant } from "../../core/grants.js";
import { newId } from "../../core/ids.js";
import type { OutboxEvent, Payment, PaymentPurpose } from "../../core/money-in-model.js";
import type { Micros } from "../../core/money.js";
import { checkDailyCap, utcDay, type PricedPurchase } from "../../core/purchases.js";
import { ProviderTimeout, type ChargeResult } from "../../ports/payments.js";
import type { StoreTx } from "../../ports/store.js";
import { appendAudit, AuditRecorder } from "../audit.js";
import { idempotencyConflict, type Idempotency, type Outcome, type Rendered } from "../batcher.js";
import { describe, event, fail, fresh, MANUAL, ok, paymentResult, pendingPayment, presentEventPayment, PURCHASE_PRIORITY, type MoneyInDeps, type ReloadOutcome } from "./common.js";
import { recordReloadResult } from "./reload-results.js";

/** A payment whose charge never got an answer is retried with its idempotency key for this long (under Stripe's 24 h). */
const CHARGE_RETRY_WINDOW_MS = 20 * 3_600_000;

type Started = { readonly kind: "replay"; readonly rendered: Rendered } | { readonly kind: "existing" | "new"; readonly payment: Payment };

/** A manual payment to start: a purchase, or the approval of a credit request. */
export interface PaymentStart {
  readonly orgId: string;
  readonly purpose: PaymentPurpose;
  readonly priced: PricedPurchase;
  readonly paymentMethodId: string;
  readonly actor: string | null;
  readonly creditRequestId: string | null;
}

/** Runs in the payment's creating transaction, before its row is written (a failed result rolls back). */
export type BeforeInsert = (tx: StoreTx, now: number, paymentId: string, audit: AuditRecorder) => Promise<Result<true>>;

export type Reconciled =
  | { readonly kind: "unknown_payment" }
  | { readonly kind: "mismatch"; readonly payment: Payment }
  | { readonly kind: "reconciled"; readonly payment: Payment; readonly charge: ChargeResult; readonly unbacked: boolean };

class Rollback<T> extends Error {
  constructor(readonly result: Result<T>) {
    super("rollback");
  }
}

export class Payments {
  constructor(
    private readonly deps: MoneyInDeps,
    /** Told the outcome when an auto-reload payment resolves (metrics). */
    private readonly reloaded: (outcome: ReloadOutcome | undefined) => void,
  ) {}

  /** Writes a manual payment pending (once per idempotency key), then drives it. */
  async start(p: PaymentStart, idem: Idempotency<Payment> | undefined, beforeInsert?: BeforeInsert): Promise<Outcome<Payment>> {
    // The API's Idempotency-Key becomes the provider's key: a retry finds this very payment.
    const key = idem ? `api:${idem.scope}:${idem.key}` : `pay:${newId("payment", this.deps.clock.now())}`;
    const started = await this.txn<Started>((tx, now) => this.insertPending(tx, now, p, key, idem, beforeInsert));
    if (!started.ok) return fresh(started);
    const s = started.value;
    if (s.kind === "replay") return { kind: "replay", rendered: s.rendered };
    const payment = await this.drive(s.payment, idem);
    if (s.kind === "existing" && idem) return { kind: "replay", rendered: idem.render(paymentResult(payment)) };
    return fresh(paymentResult(payment));
  }

  private async insertPending(tx: StoreTx, now: number, p: PaymentStart, key: string, idem: Idempotency<Payment> | undefined, beforeInsert?: BeforeInsert): Promise<Result<Started>> {
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
    const cap = checkDailyCap(await tx.moneyIn.sumCharged(p.orgId, MANUAL, day.start, day.end), p.priced.charge, now, this.deps.options.purchases);
    if (!cap.ok) return cap;
    const id = newId("payment", now);
    const audit = new AuditRecorder();
    if (beforeInsert) {
      const r = await beforeInsert(tx, now, id, audit);
      if (!r.ok) return r;
    }
    const payment = pendingPayment({
      id,
      orgId: p.orgId,
      purpose: p.purpose,
      amount: p.priced.charge,
      creditAmount: p.priced.credit,
      paymentMethodId: pm.id,
      bundleId: p.priced.bundleId,
      idempotencyKey: key,
      requestHash: idem?.requestHash ?? null,
      createdBy: p.actor,
      creditRequestId: p.creditRequestId,
      offSession: false,
      now,
    });
    await tx.moneyIn.insertPayment(payment);
    audit.record({ orgId: p.orgId, action: "payment.created", targetType: "payment", targetId: id, before: null, after: payment });
    await appendAudit(tx, audit.drafts, now);
    return ok({ kind: "new", payment });
  }

  /**
   * Calls the provider for a pending payment (outside any transaction) and applies its answer.
   * Safe to run concurrently for the same payment: the provider dedupes by key, the transition is guarded.
   */
  async drive(payment: Payment, idem?: Idempotency<Payment>): Promise<Payment> {
    if (payment.status !== "pending") return payment;
    const { store, provider, clock } = this.deps;
    let result: ChargeResult;
    try {
      if (payment.providerRef !== null) {
        result = await provider.retrieve(payment.providerRef);
      } else if (clock.now() - payment.createdAt >= CHARGE_RETRY_WINDOW_MS) {
        // Providers remember idempotency keys for a limited time (Stripe: 24 h); charging again after
        // that could charge twice. Give up instead: if the first attempt did go through, its webhook
        // finds the payment failed and refunds it, once.
        result = { status: "failed", providerRef: "", failureCode: "provider_unreachable" };
      } else {
        const pm = await store.read((tx) => tx.moneyIn.getPaymentMethod(payment.paymentMethodId));
        result = await provider.charge({
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
      if (!(err instanceof ProviderTimeout)) this.deps.log.error("payment provider error", { payment_id: payment.id, error: err instanceof Error ? err.message : String(err) });
      return this.notePending(payment, null);
    }
    return this.apply(payment, result, idem);
  }

  /** The provider has no final answer yet: look again later. */
  private async notePending(payment: Payment, providerRef: string | null): Promise<Payment> {
    const { store, clock, options } = this.deps;
    const now = clock.now();
    await store.transaction((tx) => tx.moneyIn.notePending(payment.id, { providerRef, nextCheckAt: now + options.pendingRecheckMs, attempted: true, at: now }));
    return (await store.read((tx) => tx.moneyIn.getPayment(payment.id))) ?? payment;
  }

  /** Applies the provider's answer with the guarded transition; only the mover grants and writes events. */
  private async apply(payment: Payment, result: ChargeResult, idem?: Idempotency<Payment>): Promise<Payment> {
    const status = result.status;
    if (status === "pending") return this.notePending(payment, result.providerRef);
    let reload: ReloadOutcome | undefined;
    const applied = await this.deps.store.transaction(async (tx) => {
      reload = undefined;
      const now = this.deps.clock.now();
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
      const balance = current.status === "succeeded" && grantId !== null ? await this.grant(tx, org, current, grantId, now) : null;
      if (current.purpose === "auto_reload") {
        reload = current.status === "succeeded" ? "succeeded" : "failed";
        await recordReloadResult(tx, current, balance, now, events, this.deps.options.reload.maxFailures);
      } else {
        events.push(event(org.id, current.status === "succeeded" ? "purchase.succeeded" : "purchase.failed", presentEventPayment(current, balance), now));
        if (current.status === "failed" && current.creditRequestId !== null) {
          // The approval did not go through: the request is open again, for another card.
          const req = await tx.moneyIn.getCreditRequest(current.creditRequestId);
          if (req && req.status === "approved" && req.paymentId === current.id) await tx.moneyIn.updateCreditRequest({ ...req, status: "pending", decidedBy: null, decidedAt: null });
        }
      }
      await tx.moneyIn.insertEvents(events);
      if (idem && (await tx.getIdempotency(idem.scope, [idem.key])).length === 0) {
        const r = idem.render(paymentResult(current));
        await tx.putIdempotency([{ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, status: r.status, response: r.body, createdAt: now }]);
      }
      return current;
    });
    this.reloaded(reload);
    return applied;
  }

  /** The purchased credits of a succeeded payment, as a grant through the books (debt is repaid first). Returns the balance after. */
  private async grant(tx: StoreTx, org: Awaited<ReturnType<StoreTx["lockOrgs"]>>[number], p: Payment, grantId: string, now: number): Promise<Micros> {
    const snap = await tx.loadSnapshot({ orgIds: [org.id], memberIds: [], holdIds: [], now }, [org]);
    const books = new LoggedBooks(snap, (kind) => newId(kind, now));
    const grant: Grant = {
      id: grantId,
      orgId: org.id,
      kind: "purchase",
      amount: p.creditAmount,
      remaining: p.creditAmount,
      priority: PURCHASE_PRIORITY,
      expiresAt: now + this.deps.options.purchases.expiryMs,
      surfaces: null,
      memberId: null,
      createdAt: now,
      status: "active",
      description: describe(p),
    };
    books.addGrant(grant, now);
    await tx.writeChanges(books.changes());
    return books.balance(org.id, now);
  }

  /**
   * A provider's notice (a webhook) that one of its charges of our payment changed. The notice's
   * own snapshot and order are not trusted: the charge is retrieved from the provider and applied
   * with the same guarded transition as every answer, so a notice delivered twice, late or out of
   * order grants at most once. `unbacked` says the provider holds money for this charge that no
   * grant stands for (the payment failed, or succeeded with another charge): the caller refunds it.
   * May throw ProviderTimeout (the provider could not be asked; the notice should be redelivered).
   */
  async reconcile(notice: { paymentId: string; providerRef: string; orgId: string | null; amount: Micros | null }): Promise<Reconciled> {
    const payment = await this.deps.store.read((tx) => tx.moneyIn.getPayment(notice.paymentId));
    if (!payment) return { kind: "unknown_payment" };
    if ((notice.orgId !== null && notice.orgId !== payment.orgId) || (notice.amount !== null && notice.amount !== payment.amount)) return { kind: "mismatch", payment };
    const charge = await this.deps.provider.retrieve(notice.providerRef);
    const ours = payment.providerRef === null || payment.providerRef === notice.providerRef;
    const after = payment.status === "pending" && ours ? await this.apply(payment, charge) : payment;
    const unbacked = charge.status === "succeeded" && !(after.status === "succeeded" && after.providerRef === notice.providerRef);
    return { kind: "reconciled", payment: after, charge, unbacked };
  }

  /** Retries the charge of (or retrieves) every pending payment that is due. Run by the sweep timer. */
  async resolvePending(limit = 200): Promise<{ checked: number; resolved: number }> {
    const now = this.deps.clock.now();
    const due = await this.deps.store.read((tx) => tx.moneyIn.duePayments(now, limit));
    let resolved = 0;
    for (const p of due) {
      const after = await this.drive(p);
      if (after.status !== "pending") resolved++;
    }
    return { checked: due.length, resolved };
  }

  /** One transaction; a failed result rolls it back whole. */
  private async txn<T>(fn: (tx: StoreTx, now: number) => Promise<Result<T>>): Promise<Result<T>> {
    try {
      return await this.deps.store.transaction(async (tx) => {
        const r = await fn(tx, this.deps.clock.now());
        if (!r.ok) throw new Rollback(r);
        return r;
      });
    } catch (err) {
      if (err instanceof Rollback) return err.result as Result<T>;
      throw err;
    }
  }
}
