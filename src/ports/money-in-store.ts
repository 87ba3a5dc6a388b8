// The store's money-in part (reached as `tx.moneyIn` inside any store transaction, so a payment's
// status change, its grant and its events commit together): payment methods, payments, credit
// requests, auto-reload settings and attempts, and the events outbox.

import type { Micros } from "../core/money.js";
import type {
  AutoReloadSettings,
  CreditRequest,
  OutboxEvent,
  Payment,
  PaymentMethod,
  PaymentPurpose,
  PaymentStatus,
  ReloadAttempt,
  ReloadAttemptOutcome,
} from "../core/money-in-model.js";

export interface PaymentResolution {
  readonly status: Exclude<PaymentStatus, "pending">;
  readonly providerRef: string | null;
  readonly failureCode: string | null;
  readonly grantId: string | null;
  readonly at: number;
}

export interface MoneyInTx {
  insertPaymentMethod(pm: PaymentMethod): Promise<void>;
  getPaymentMethod(id: string): Promise<PaymentMethod | undefined>;
  listPaymentMethods(orgId: string): Promise<PaymentMethod[]>;
  detachPaymentMethod(id: string, at: number): Promise<void>;

  insertPayment(p: Payment): Promise<void>;
  getPayment(id: string): Promise<Payment | undefined>;
  getPaymentByKey(idempotencyKey: string): Promise<Payment | undefined>;
  listPayments(orgId: string, limit: number): Promise<Payment[]>;
  /** A succeeded payment's rank among all succeeded payments by (resolved_at, created_at, id): its receipt's sequence number. */
  receiptSequence(paymentId: string): Promise<number | undefined>;
  /** pending → succeeded | failed; false if the payment was no longer pending (someone else resolved it). */
  resolvePayment(id: string, r: PaymentResolution): Promise<boolean>;
  /** Still pending: record the provider reference / another attempt and when to look again. */
  notePending(id: string, update: { providerRef: string | null; nextCheckAt: number; attempted: boolean; at: number }): Promise<void>;
  /** Charged amounts of succeeded + pending payments with these purposes created in [from, to). */
  sumCharged(orgId: string, purposes: readonly PaymentPurpose[], from: number, to: number): Promise<Micros>;
  pendingReload(orgId: string): Promise<Payment | undefined>;
  duePayments(now: number, limit: number): Promise<Payment[]>;

  insertCreditRequest(r: CreditRequest): Promise<void>;
  getCreditRequest(id: string): Promise<CreditRequest | undefined>;
  updateCreditRequest(r: CreditRequest): Promise<void>;
  listCreditRequests(orgId: string): Promise<CreditRequest[]>;

  getAutoReload(orgId: string): Promise<AutoReloadSettings | undefined>;
  /** Organizations that have auto-reload settings at all (the only ones a settle can concern). */
  listAutoReloadOrgIds(): Promise<string[]>;
  putAutoReload(s: AutoReloadSettings): Promise<void>;
  insertReloadAttempt(a: ReloadAttempt): Promise<void>;
  resolveReloadAttempt(paymentId: string, outcome: ReloadAttemptOutcome, reason: string | null, failureCode: string | null, at: number): Promise<void>;
  listReloadAttempts(orgId: string, limit: number): Promise<ReloadAttempt[]>;

  insertEvents(events: readonly OutboxEvent[]): Promise<void>;
  listEvents(orgId: string, limit: number, before?: { at: number; id: string }): Promise<OutboxEvent[]>;
}
