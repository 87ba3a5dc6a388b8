// Money-in (payments, payment methods, credit requests, auto-reload, events, bundles) → the API's JSON.

import type { AutoReloadSettings, CreditRequest, OutboxEvent, Payment, PaymentMethod, ReloadAttempt } from "../core/money-in-model.js";
import type { Bundle } from "../core/purchases.js";
import { iso, moneyOrNull, MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";


export const presentPayment = (p: Payment): R.Payment => ({
  id: p.id,
  type: "payment",
  purpose: p.purpose,
  status: p.status,
  amount: String(p.amount),
  credit_amount: String(p.creditAmount),
  bundle_id: p.bundleId,
  payment_method_id: p.paymentMethodId,
  grant_id: p.grantId,
  failure_code: p.failureCode,
  credit_request_id: p.creditRequestId,
  created_by: p.createdBy,
  provider_ref: p.providerRef,
  attempts: p.attempts,
  created_at: iso(p.createdAt),
  resolved_at: iso(p.resolvedAt),
  ...MONEY_FORMAT,
});

export const presentPaymentMethod = (m: PaymentMethod): R.PaymentMethod => ({
  id: m.id,
  type: "payment_method",
  provider: m.provider,
  brand: m.brand,
  last4: m.last4,
  created_at: iso(m.createdAt),
  detached_at: iso(m.detachedAt),
});

export const presentCreditRequest = (r: CreditRequest): R.CreditRequest => ({
  id: r.id,
  type: "credit_request",
  member_id: r.memberId,
  amount: String(r.amount),
  note: r.note,
  status: r.status,
  decided_by: r.decidedBy,
  decided_at: iso(r.decidedAt),
  payment_id: r.paymentId,
  created_at: iso(r.createdAt),
  ...MONEY_FORMAT,
});

export const presentAutoReload = (s: AutoReloadSettings): R.AutoReload => ({
  type: "auto_reload",
  enabled: s.enabled,
  threshold: String(s.threshold),
  mode: s.mode,
  amount: moneyOrNull(s.amount),
  target_balance: moneyOrNull(s.targetBalance),
  payment_method_id: s.paymentMethodId,
  monthly_cap: moneyOrNull(s.monthlyCap),
  status: s.suspended ? "suspended" : s.enabled ? "active" : "disabled",
  suspended_reason: s.suspended ? "suspended_after_failures" : null,
  consecutive_failures: s.consecutiveFailures,
  last_failure_at: iso(s.lastFailureAt),
  updated_at: iso(s.updatedAt),
  ...MONEY_FORMAT,
});

export const AUTO_RELOAD_OFF: R.AutoReload = {
  type: "auto_reload",
  enabled: false,
  threshold: null,
  mode: null,
  amount: null,
  target_balance: null,
  payment_method_id: null,
  monthly_cap: null,
  status: "disabled",
  suspended_reason: null,
  consecutive_failures: 0,
  last_failure_at: null,
  updated_at: null,
  ...MONEY_FORMAT,
};

export const presentAttempt = (a: ReloadAttempt): R.Attempt => ({
  id: a.id,
  type: "auto_reload_attempt",
  outcome: a.outcome,
  reason: a.reason,
  amount: String(a.amount),
  balance: String(a.balance),
  payment_id: a.paymentId,
  failure_code: a.failureCode,
  created_at: iso(a.at),
  resolved_at: iso(a.resolvedAt),
  ...MONEY_FORMAT,
});

export const presentEvent = (e: OutboxEvent): R.Event => ({ id: e.id, type: e.type, org_id: e.orgId, data: e.data, created_at: iso(e.createdAt) });

export const presentBundle = (b: Bundle): R.Bundle => ({ id: b.id, credit_amount: String(b.credit), price: String(b.price), discount_percent: b.discountPercent, ...MONEY_FORMAT });
