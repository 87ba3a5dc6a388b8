// What the money-in rooms share: options, the use-case dependencies, result helpers, the pending
// payment every flow starts from, and the payment's wording on statements and in events.

import { domainError, type ErrorCode, type Result } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { EventType, OutboxEvent, Payment, PaymentPurpose } from "../../core/money-in-model.js";
import type { Micros } from "../../core/money.js";
import type { PurchaseRules } from "../../core/purchases.js";
import type { ReloadRules } from "../../core/auto-reload.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import type { PaymentProvider } from "../../ports/payments.js";
import type { Store } from "../../ports/store.js";
import type { Admin } from "../admin.js";
import type { Outcome } from "../batcher.js";

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

/** What the metrics count of auto-reload: a charge started, a skip recorded, a charge's result. */
export type ReloadOutcome = "started" | "skipped" | "succeeded" | "failed";

/** What every money-in room is built from (the MoneyIn constructor's arguments). */
export interface MoneyInDeps {
  readonly store: Store;
  readonly admin: Admin;
  readonly provider: PaymentProvider;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: MoneyInOptions;
}

/** Manual purchases count toward the daily purchase cap; auto-reload has its own monthly cap. */
export const MANUAL = ["purchase", "credit_request"] as const satisfies readonly PaymentPurpose[];
/** Purchased credits burn like any usage credit of the default priority. */
export const PURCHASE_PRIORITY = 5;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(code: ErrorCode, message: string, details?: Record<string, unknown>): Result<T> => ({ ok: false, error: domainError(code, message, details) });
export const fresh = <T>(result: Result<T>): Outcome<T> => ({ kind: "fresh", result });
export const event = (orgId: string, type: EventType, data: Record<string, unknown>, now: number): OutboxEvent => ({ id: newId("event", now), orgId, type, data, createdAt: now });

/** A payment as a use-case result: a failed charge is the `payment_failed` error. */
export function paymentResult(p: Payment): Result<Payment> {
  if (p.status !== "failed") return ok(p);
  return fail("payment_failed", `The payment was not made: ${p.failureCode ?? "failed"}. Nothing was charged and no credits were granted.`, {
    payment_id: p.id,
    failure_code: p.failureCode,
    amount: String(p.amount),
  });
}

/** A new payment, pending, not yet attempted: the row every purchase, approval and reload starts as. */
export function pendingPayment(p: {
  id: string;
  orgId: string;
  purpose: PaymentPurpose;
  amount: Micros;
  creditAmount: Micros;
  paymentMethodId: string;
  bundleId: string | null;
  idempotencyKey: string;
  requestHash: string | null;
  createdBy: string | null;
  creditRequestId: string | null;
  offSession: boolean;
  now: number;
}): Payment {
  // The fields in the row's order (the audit log keeps this snapshot).
  const now = p.now;
  return {
    id: p.id,
    orgId: p.orgId,
    purpose: p.purpose,
    status: "pending",
    amount: p.amount,
    creditAmount: p.creditAmount,
    currency: "USD",
    paymentMethodId: p.paymentMethodId,
    bundleId: p.bundleId,
    idempotencyKey: p.idempotencyKey,
    requestHash: p.requestHash,
    providerRef: null,
    failureCode: null,
    grantId: null,
    createdBy: p.createdBy,
    creditRequestId: p.creditRequestId,
    offSession: p.offSession,
    attempts: 0,
    nextCheckAt: now,
    createdAt: now,
    updatedAt: now,
    resolvedAt: null,
  };
}

export function describe(p: Payment): string {
  switch (p.purpose) {
    case "purchase":
      return p.bundleId !== null ? `Purchase of ${p.bundleId} (${p.id})` : `Purchase (${p.id})`;
    case "credit_request":
      return `Approved credit request ${p.creditRequestId ?? ""} (${p.id})`;
    case "auto_reload":
      return `Auto-reload (${p.id})`;
  }
}

export function presentEventPayment(p: Payment, balance: Micros | null): Record<string, unknown> {
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
