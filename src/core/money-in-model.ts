// Plain data for money coming in: saved payment methods, payments (one row per card charge, the
// unit of exactly-once), credit requests, auto-reload settings and attempts, and the events outbox.
// Loaded and written by the store's money-in port; decided on by purchases.ts and auto-reload.ts.

import type { Micros } from "./money.js";

/** Why money came in: a manual purchase, an approved credit request, or an auto-reload. */
export type PaymentPurpose = "purchase" | "credit_request" | "auto_reload";
export type PaymentStatus = "pending" | "succeeded" | "failed";

export interface Payment {
  readonly id: string;
  readonly orgId: string;
  readonly purpose: PaymentPurpose;
  readonly status: PaymentStatus;
  /** What the card is charged (a bundle's discounted price). Whole cents. */
  readonly amount: Micros;
  /** The credits granted on success (a bundle's face value). */
  readonly creditAmount: Micros;
  readonly currency: "USD";
  readonly paymentMethodId: string;
  readonly bundleId: string | null;
  /** Sent to the provider with every attempt: the same key never charges twice. Unique. */
  readonly idempotencyKey: string;
  /** Hash of the API request that created it (same Idempotency-Key + other body = conflict). */
  readonly requestHash: string | null;
  readonly providerRef: string | null;
  readonly failureCode: string | null;
  /** The grant created on success; set exactly when status = succeeded. */
  readonly grantId: string | null;
  /** The member who bought or approved (null: operator, CLI, or auto-reload). */
  readonly createdBy: string | null;
  readonly creditRequestId: string | null;
  /** Charged without the customer present (auto-reload): cards that need authentication fail. */
  readonly offSession: boolean;
  readonly attempts: number;
  /** When the poller should look at a pending payment again. */
  readonly nextCheckAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly resolvedAt: number | null;
}

export interface PaymentMethod {
  readonly id: string;
  readonly orgId: string;
  readonly provider: string;
  /** The provider's reusable token; the card number itself is never stored. */
  readonly token: string;
  readonly brand: string;
  readonly last4: string;
  readonly createdAt: number;
  readonly detachedAt: number | null;
}

export type CreditRequestStatus = "pending" | "approved" | "declined";

export interface CreditRequest {
  readonly id: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly amount: Micros;
  readonly note: string;
  readonly status: CreditRequestStatus;
  readonly decidedBy: string | null;
  readonly decidedAt: number | null;
  readonly decisionNote: string;
  /** The purchase made on approval (the latest attempt, if one failed). */
  readonly paymentId: string | null;
  readonly createdAt: number;
}

export type ReloadMode = "amount" | "target";

export interface AutoReloadSettings {
  readonly orgId: string;
  readonly enabled: boolean;
  readonly threshold: Micros;
  readonly mode: ReloadMode;
  readonly amount: Micros | null;
  readonly targetBalance: Micros | null;
  readonly paymentMethodId: string | null;
  /** Most auto-reload may charge per UTC calendar month (succeeded + pending); null = no cap. */
  readonly monthlyCap: Micros | null;
  // ---- circuit breaker state
  readonly consecutiveFailures: number;
  readonly suspended: boolean;
  readonly lastFailureAt: number | null;
  /** The last skip reason recorded, so a skip is recorded once per episode, not once per settle. */
  readonly lastSkipReason: string | null;
  /** credits.low_balance was emitted for the current dip below the threshold. */
  readonly lowBalanceNotified: boolean;
  readonly updatedAt: number;
}

export type ReloadSkipReason = "cap_reached" | "suspended_after_failures" | "missing_payment_method";
export type ReloadAttemptOutcome = "pending" | "succeeded" | "failed" | "skipped";

export interface ReloadAttempt {
  readonly id: string;
  readonly orgId: string;
  readonly at: number;
  readonly outcome: ReloadAttemptOutcome;
  /** charge_failed, or a skip reason; null while pending and on success. */
  readonly reason: string | null;
  readonly amount: Micros;
  /** Balance + pending reloads when the attempt was decided. */
  readonly balance: Micros;
  readonly paymentId: string | null;
  readonly failureCode: string | null;
  readonly resolvedAt: number | null;
}

export const EVENT_TYPES = [
  "credits.low_balance",
  "auto_reload.succeeded",
  "auto_reload.failed",
  "auto_reload.suspended",
  "purchase.succeeded",
  "purchase.failed",
  "credit_request.created",
  // Emitted after the money path commits (src/app/webhooks.ts evaluates them; migration 3 dedupes).
  "credits.depleted",
  "spend_limit.threshold",
  "spend_limit.reached",
  "spend_limit.exceeded",
  "window.exhausted",
  // Sent only on request ("Send a test event"), to the one endpoint asked for; never fanned out.
  "webhook.test",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An outbox row, written in the transaction of the change it describes; webhooks deliver it (src/app/webhooks.ts). */
export interface OutboxEvent {
  readonly id: string;
  readonly orgId: string;
  readonly type: EventType;
  readonly data: Record<string, unknown>;
  readonly createdAt: number;
}
