// Table-driven tests of the pure money-in decisions: the auto-reload rule and purchase pricing.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decideReload, validateReloadSettings, type ReloadRules, type ReloadState } from "./auto-reload.js";
import type { AutoReloadSettings } from "./money-in-model.js";
import { checkAmount, DEFAULT_PURCHASE_RULES, makeBundle, pricePurchase } from "./purchases.js";

const USD = 1_000_000;
const rules: ReloadRules = { minAmount: 5 * USD, maxAmount: 10_000 * USD, backoffMs: 3_600_000, maxFailures: 3 };
const settings = (over: Partial<AutoReloadSettings> = {}): AutoReloadSettings => ({
  orgId: "org_x",
  enabled: true,
  threshold: 20 * USD,
  mode: "amount",
  amount: 10 * USD,
  targetBalance: null,
  paymentMethodId: "pm_x",
  monthlyCap: null,
  consecutiveFailures: 0,
  suspended: false,
  lastFailureAt: null,
  lastSkipReason: null,
  lowBalanceNotified: false,
  updatedAt: 0,
  ...over,
});
const state = (over: Partial<ReloadState> = {}): ReloadState => ({ balance: 19 * USD, pending: 0, monthCharged: 0, paymentMethodUsable: true, now: 10_000_000, ...over });

test("the auto-reload decision", () => {
  const cases: Array<[string, AutoReloadSettings, ReloadState, unknown]> = [
    ["above the threshold", settings(), state({ balance: 21 * USD }), { kind: "none" }],
    ["at the threshold fires", settings(), state({ balance: 20 * USD }), { kind: "charge", amount: 10 * USD }],
    ["disabled", settings({ enabled: false }), state(), { kind: "none" }],
    ["pending reload lifts balance + pending above", settings(), state({ pending: 10 * USD }), { kind: "none" }],
    ["pending reload still below: wait, never a second", settings(), state({ balance: 0, pending: 10 * USD }), { kind: "wait", reason: "in_flight" }],
    ["suspended", settings({ suspended: true }), state(), { kind: "skip", reason: "suspended_after_failures" }],
    ["no usable method", settings(), state({ paymentMethodUsable: false }), { kind: "skip", reason: "missing_payment_method" }],
    ["inside the backoff", settings({ lastFailureAt: 9_000_000 }), state(), { kind: "wait", reason: "backoff" }],
    ["after the backoff", settings({ lastFailureAt: 1_000_000 }), state(), { kind: "charge", amount: 10 * USD }],
    ["amount: whole shortfall in one charge", settings(), state({ balance: -5 * USD }), { kind: "charge", amount: 30 * USD }],
    ["amount: exact multiple still lifts strictly above", settings(), state({ balance: 0 }), { kind: "charge", amount: 30 * USD }],
    ["target: to the target", settings({ mode: "target", targetBalance: 100 * USD }), state({ balance: 12_345_678 }), { kind: "charge", amount: 87_660_000 }],
    ["target: raised to the minimum", settings({ mode: "target", targetBalance: 21 * USD }), state({ balance: 19 * USD }), { kind: "charge", amount: 5 * USD }],
    ["target: capped at the maximum", settings({ mode: "target", targetBalance: 100 * USD }), state({ balance: -20_000 * USD }), { kind: "charge", amount: 10_000 * USD }],
    ["monthly cap: less than the minimum left", settings({ monthlyCap: 45 * USD }), state({ monthCharged: 41 * USD }), { kind: "skip", reason: "cap_reached" }],
    ["monthly cap leaves the minimum", settings({ monthlyCap: 45 * USD }), state({ monthCharged: 40 * USD }), { kind: "charge", amount: 5 * USD }],
    ["monthly cap partial", settings({ monthlyCap: 45 * USD }), state({ monthCharged: 38 * USD - 1 }), { kind: "charge", amount: 7 * USD }],
  ];
  for (const [name, s, st, expected] of cases) assert.deepEqual(decideReload(s, st, rules), expected, name);
});

test("auto-reload settings validation", () => {
  const base = { enabled: true, threshold: 20 * USD, mode: "amount" as const, amount: 10 * USD, targetBalance: null, paymentMethodId: "pm_x", monthlyCap: null };
  const code = (over: Partial<typeof base> | Record<string, unknown>) => {
    const r = validateReloadSettings({ ...base, ...over } as typeof base, rules);
    return r.ok ? "ok" : r.error.code;
  };
  assert.equal(code({}), "ok");
  assert.equal(code({ mode: "target", targetBalance: 20 * USD }), "threshold_not_below_target");
  assert.equal(code({ mode: "target", targetBalance: 10_100 * USD }), "amount_above_maximum");
  assert.equal(code({ amount: 20_000 * USD }), "amount_above_maximum");
  assert.equal(code({ amount: 1 * USD }), "amount_below_minimum");
  assert.equal(code({ threshold: 20 * USD + 1 }), "amount_not_whole_cents");
  assert.equal(code({ paymentMethodId: null }), "payment_method_required");
  assert.equal(code({ enabled: false, paymentMethodId: null }), "ok");
});

test("purchase pricing: whole cents within limits; bundles grant face value for the discounted price", () => {
  const r = DEFAULT_PURCHASE_RULES;
  assert.equal(checkAmount(12_345_000, r).ok, false);
  assert.equal(checkAmount(12_340_000, r).ok, true);
  assert.deepEqual(pricePurchase({ bundleId: "bundle_1000" }, r), { ok: true, value: { credit: 1_000 * USD, charge: 800 * USD, bundleId: "bundle_1000" } });
  assert.equal(makeBundle("b", 33_330_000, 15).price, 28_330_000, "$33.33 at 15% off = $28.3305, rounded half-even to the cent");
});
