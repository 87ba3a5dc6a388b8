// Money-in: payment methods, purchases ("add funds"), credit requests, auto-reload and the
// pending-payment poller, one room each; `MoneyIn` is the one door the edge, the CLI and the
// composition root use. The payment state machine (payments.ts) is shared by purchases, credit
// request approvals and auto-reload, and holds the exactly-once argument.

import type { ReloadDecision, ReloadSettingsInput } from "../../core/auto-reload.js";
import type { Result } from "../../core/errors.js";
import type { AutoReloadSettings, CreditRequest, OutboxEvent, Payment, PaymentMethod, ReloadAttempt } from "../../core/money-in-model.js";
import type { Micros } from "../../core/money.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import type { PaymentProvider } from "../../ports/payments.js";
import type { Store } from "../../ports/store.js";
import type { Admin } from "../admin.js";
import type { Idempotency, Outcome } from "../batcher.js";
import { AutoReload } from "./auto-reload.js";
import { paymentResult, type MoneyInOptions, type PurchaseInput, type ReloadOutcome } from "./common.js";
import { CreditRequests } from "./credit-requests.js";
import { PaymentMethods } from "./payment-methods.js";
import { Payments, type Reconciled } from "./payments.js";
import { Purchases } from "./purchases.js";

export type { MoneyInOptions, PurchaseInput, ReloadOutcome } from "./common.js";

export class MoneyIn {
  private readonly reloadListeners: Array<(outcome: ReloadOutcome) => void> = [];
  private readonly payments: Payments;
  private readonly methods: PaymentMethods;
  private readonly purchases: Purchases;
  private readonly requests: CreditRequests;
  private readonly reload: AutoReload;

  constructor(
    private readonly store: Store,
    admin: Admin,
    readonly provider: PaymentProvider,
    clock: Clock,
    log: Logger,
    readonly options: MoneyInOptions,
  ) {
    const deps = { store, admin, provider, clock, log, options };
    const reloaded = (outcome: ReloadOutcome | undefined): void => {
      if (outcome) for (const l of this.reloadListeners) l(outcome);
    };
    this.payments = new Payments(deps, reloaded);
    this.methods = new PaymentMethods(deps);
    this.purchases = new Purchases(deps, this.payments);
    this.requests = new CreditRequests(deps, this.payments);
    this.reload = new AutoReload(deps, this.payments, reloaded);
  }

  /** Called after an auto-reload starts a charge, skips, succeeds or fails (metrics). */
  onReload(listener: (outcome: ReloadOutcome) => void): void {
    this.reloadListeners.push(listener);
  }

  /** A payment as a use-case result: a failed charge is the `payment_failed` error. */
  static asResult(p: Payment): Result<Payment> {
    return paymentResult(p);
  }

  // payment methods
  addPaymentMethod(orgId: string, card: { cardNumber?: string; token?: string }, idem?: Idempotency<PaymentMethod>): Promise<Outcome<PaymentMethod>> {
    return this.methods.add(orgId, card, idem);
  }
  listPaymentMethods(orgId: string): Promise<PaymentMethod[]> {
    return this.methods.list(orgId);
  }
  removePaymentMethod(orgId: string, id: string): Promise<Outcome<PaymentMethod>> {
    return this.methods.remove(orgId, id);
  }

  // purchases and the payment state machine
  purchase(input: PurchaseInput, idem?: Idempotency<Payment>): Promise<Outcome<Payment>> {
    return this.purchases.purchase(input, idem);
  }
  listPayments(orgId: string, limit = 100): Promise<Payment[]> {
    return this.purchases.list(orgId, limit);
  }
  getPayment(orgId: string, id: string): Promise<Payment | undefined> {
    return this.purchases.get(orgId, id);
  }
  /** A provider's notice of one of its charges of our payment (see Payments.reconcile). */
  reconcile(notice: { paymentId: string; providerRef: string; orgId: string | null; amount: Micros | null }): Promise<Reconciled> {
    return this.payments.reconcile(notice);
  }
  /** Retries the charge of (or retrieves) every pending payment that is due. Run by the sweep timer. */
  resolvePending(limit = 200): Promise<{ checked: number; resolved: number }> {
    return this.payments.resolvePending(limit);
  }

  // credit requests
  requestCredits(orgId: string, memberId: string, amount: Micros, note: string, idem?: Idempotency<CreditRequest>): Promise<Outcome<CreditRequest>> {
    return this.requests.request(orgId, memberId, amount, note, idem);
  }
  listCreditRequests(orgId: string): Promise<CreditRequest[]> {
    return this.requests.list(orgId);
  }
  getCreditRequest(orgId: string, id: string): Promise<CreditRequest | undefined> {
    return this.requests.get(orgId, id);
  }
  approveCreditRequest(orgId: string, requestId: string, input: { actor: string | null; paymentMethodId: string; confirm: boolean }, idem?: Idempotency<Payment>): Promise<Outcome<Payment>> {
    return this.requests.approve(orgId, requestId, input, idem);
  }
  declineCreditRequest(orgId: string, requestId: string, actor: string | null, note: string): Promise<Outcome<CreditRequest>> {
    return this.requests.decline(orgId, requestId, actor, note);
  }

  // auto-reload
  getAutoReload(orgId: string): Promise<AutoReloadSettings | undefined> {
    return this.reload.get(orgId);
  }
  setAutoReload(orgId: string, input: ReloadSettingsInput): Promise<Outcome<AutoReloadSettings>> {
    return this.reload.set(orgId, input);
  }
  listReloadAttempts(orgId: string, limit = 100): Promise<ReloadAttempt[]> {
    return this.reload.listAttempts(orgId, limit);
  }
  /** Asks for a coalesced auto-reload evaluation of the org (after a settle commits). */
  evaluateSoon(orgId: string): void {
    this.reload.evaluateSoon(orgId);
  }
  /** Resolves when no evaluation (and no reload it started) is running. */
  idle(): Promise<void> {
    return this.reload.idle();
  }
  evaluate(orgId: string): Promise<ReloadDecision | undefined> {
    return this.reload.evaluate(orgId);
  }

  // the outbox, as the events API reads it
  listEvents(orgId: string, limit: number, before?: { at: number; id: string }): Promise<OutboxEvent[]> {
    return this.store.read((tx) => tx.moneyIn.listEvents(orgId, limit, before));
  }
}
