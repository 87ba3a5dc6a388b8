// The auto-reload decision, pure. Evaluated after every settle (PEERS.md):
//   - Lago's threshold rule: fire only when balance + pending reloads ≤ threshold, and buy the
//     whole shortfall in ONE charge (never one charge per increment);
//   - Autumn's circuit breaker: one reload in flight at a time; after a decline wait a backoff;
//     after 3 consecutive failures suspend until the payment method changes;
//   - a monthly reload cap (OpenAI, Stigg) on what auto-reload may charge per UTC month.
// How much to buy:
//   - "target": target_balance − (balance + pending), so the balance lands on the target;
//   - "amount": the smallest multiple k·amount (k ≥ 1) that lifts balance + pending strictly
//     above the threshold, in one charge (one amount when the balance just dipped; more after a
//     large overdraft or debt);
// then rounded up to a whole cent, raised to the purchase minimum, capped at the purchase maximum,
// and cut to what the monthly cap has left (refused as cap_reached below the minimum).

import { domainError, type Result } from "./errors.js";
import type { AutoReloadSettings, ReloadMode, ReloadSkipReason } from "./money-in-model.js";
import type { Micros } from "./money.js";
import { CENT, checkAmount } from "./purchases.js";

export interface ReloadRules {
  readonly minAmount: Micros;
  readonly maxAmount: Micros;
  /** After a failed charge, wait this long before the next attempt. */
  readonly backoffMs: number;
  /** Consecutive failures that suspend auto-reload until the payment method changes. */
  readonly maxFailures: number;
}

export interface ReloadState {
  /** Usage-credit balance (grants minus debt; held amounts already excluded). */
  readonly balance: Micros;
  /** Credits of reload payments still pending. */
  readonly pending: Micros;
  /** Charged by auto-reload this UTC month (succeeded + pending). */
  readonly monthCharged: Micros;
  readonly paymentMethodUsable: boolean;
  readonly now: number;
}

export type ReloadDecision =
  /** Above the threshold (or disabled): nothing to do. */
  | { readonly kind: "none" }
  /** Below, but a reload is in flight or the backoff after a decline has not passed: not recorded. */
  | { readonly kind: "wait"; readonly reason: "in_flight" | "backoff" }
  /** Below, and no reload may be made: recorded once per episode. */
  | { readonly kind: "skip"; readonly reason: ReloadSkipReason }
  | { readonly kind: "charge"; readonly amount: Micros };

export function isLow(settings: Pick<AutoReloadSettings, "threshold">, state: Pick<ReloadState, "balance" | "pending">): boolean {
  return state.balance + state.pending <= settings.threshold;
}

export function decideReload(s: AutoReloadSettings, state: ReloadState, rules: ReloadRules): ReloadDecision {
  if (!s.enabled || !isLow(s, state)) return { kind: "none" };
  if (state.pending > 0) return { kind: "wait", reason: "in_flight" };
  if (s.suspended) return { kind: "skip", reason: "suspended_after_failures" };
  if (!state.paymentMethodUsable || s.paymentMethodId === null) return { kind: "skip", reason: "missing_payment_method" };
  if (s.lastFailureAt !== null && state.now < s.lastFailureAt + rules.backoffMs) return { kind: "wait", reason: "backoff" };
  let amount = reloadAmount(s, state.balance + state.pending);
  amount = Math.min(rules.maxAmount, Math.max(rules.minAmount, roundUpToCent(amount)));
  if (s.monthlyCap !== null) {
    const left = s.monthlyCap - state.monthCharged;
    if (amount > left) amount = Math.floor(Math.max(0, left) / CENT) * CENT;
    if (amount < rules.minAmount) return { kind: "skip", reason: "cap_reached" };
  }
  return { kind: "charge", amount };
}

function reloadAmount(s: AutoReloadSettings, effective: Micros): Micros {
  switch (s.mode) {
    case "target":
      return (s.targetBalance ?? 0) - effective;
    case "amount": {
      const each = s.amount ?? 0;
      if (each <= 0) return 0;
      const k = Math.max(1, Math.floor((s.threshold - effective) / each) + 1);
      return k * each;
    }
  }
}

const roundUpToCent = (m: Micros): Micros => Math.ceil(m / CENT) * CENT;

/** What an organization sets (PUT …/auto_reload): the settings without their circuit-breaker state. */
export type ReloadSettingsInput = Pick<AutoReloadSettings, "enabled" | "threshold" | "mode" | "amount" | "targetBalance" | "paymentMethodId" | "monthlyCap">;

/** Refuses settings that make no sense; the server's ceilings are the purchase limits. */
export function validateReloadSettings(i: ReloadSettingsInput, rules: Pick<ReloadRules, "minAmount" | "maxAmount">): Result<ReloadSettingsInput> {
  if (i.threshold % CENT !== 0) return checkAmount(i.threshold, { minAmount: 0, maxAmount: Number.MAX_SAFE_INTEGER }, "threshold") as Result<never>;
  if (i.mode === "amount") {
    if (i.amount === null) return bad("invalid_request", 'mode "amount" needs `amount`.', "amount");
    const a = checkAmount(i.amount, rules, "amount");
    if (!a.ok) return a;
  } else {
    if (i.targetBalance === null) return bad("invalid_request", 'mode "target" needs `target_balance`.', "target_balance");
    if (i.threshold >= i.targetBalance) {
      return { ok: false, error: domainError("threshold_not_below_target", "threshold must be below target_balance, or a reload could never lift the balance above it.", { field: "threshold", threshold: String(i.threshold), target_balance: String(i.targetBalance) }) };
    }
    if (i.targetBalance % CENT !== 0) return checkAmount(i.targetBalance, rules, "target_balance") as Result<never>;
    if (i.targetBalance - i.threshold > rules.maxAmount) {
      return { ok: false, error: domainError("amount_above_maximum", "target_balance − threshold is more than one purchase may charge.", { field: "target_balance", maximum: String(rules.maxAmount) }) };
    }
  }
  if (i.monthlyCap !== null) {
    const c = checkAmount(i.monthlyCap, { minAmount: rules.minAmount, maxAmount: Number.MAX_SAFE_INTEGER }, "monthly_cap");
    if (!c.ok) return c;
  }
  if (i.enabled && i.paymentMethodId === null) {
    return { ok: false, error: domainError("payment_method_required", "Auto-reload needs a saved payment_method_id to charge.", { field: "payment_method_id" }) };
  }
  return { ok: true, value: i };
}

function bad<T>(code: "invalid_request", message: string, field: string): Result<T> {
  return { ok: false, error: domainError(code, message, { field }) };
}
