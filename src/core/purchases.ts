// "Add funds" decisions (DOMAIN.md §3): what a purchase grants and charges, and whether it is
// allowed. Amounts have at most 2 decimals (whole cents, 10,000 µ$), lie within a configurable
// minimum and maximum, bundles grant their face value for a discounted price, a confirmation is
// required above a charge of $1,000, and a daily purchase cap ($2,000) applies per organization
// and UTC day to what was charged (succeeded + pending). Every default is configuration.

import { domainError, type Result } from "./errors.js";
import { dayOf } from "./limits.js";
import { formatUsd, roundHalfEven, type Micros } from "./money.js";
import { DAY_MS } from "./plans.js";

/** One cent in micro-dollars: card charges and purchase amounts are whole cents. */
export const CENT: Micros = 10_000;

export interface Bundle {
  readonly id: string;
  /** Credits granted (face value). */
  readonly credit: Micros;
  readonly discountPercent: number;
  /** What the card is charged: face value less the discount, rounded to the cent (half even). */
  readonly price: Micros;
}

export interface PurchaseRules {
  readonly minAmount: Micros;
  readonly maxAmount: Micros;
  /** Charges strictly above this need `confirm: true`. */
  readonly confirmAbove: Micros;
  readonly dailyCap: Micros;
  /** Purchased credits expire this long after the purchase (the console rule: one year). */
  readonly expiryMs: number;
  readonly bundles: readonly Bundle[];
}

export function makeBundle(id: string, credit: Micros, discountPercent: number): Bundle {
  const price = Number(roundHalfEven(BigInt(credit) * BigInt(100 - discountPercent), 100n * BigInt(CENT)) * BigInt(CENT));
  return { id, credit, discountPercent, price };
}

const USD = 1_000_000;
/** Larger bundles are discounted, up to ~30% (the vendor's console). */
export const DEFAULT_BUNDLES: readonly Bundle[] = [
  makeBundle("bundle_100", 100 * USD, 0),
  makeBundle("bundle_500", 500 * USD, 10),
  makeBundle("bundle_1000", 1_000 * USD, 20),
  makeBundle("bundle_2000", 2_000 * USD, 30),
];

export const DEFAULT_PURCHASE_RULES: PurchaseRules = {
  minAmount: 5 * USD,
  maxAmount: 10_000 * USD,
  confirmAbove: 1_000 * USD,
  dailyCap: 2_000 * USD,
  expiryMs: 365 * DAY_MS,
  bundles: DEFAULT_BUNDLES,
};

/** An amount someone may pay: whole cents, within [min, max]. `field` names it in the error. */
export function checkAmount(amount: Micros, rules: Pick<PurchaseRules, "minAmount" | "maxAmount">, field = "amount"): Result<Micros> {
  if (amount % CENT !== 0) {
    return fail("amount_not_whole_cents", `${field} must be whole cents (at most 2 decimals): a multiple of ${CENT} micro-dollars.`, { field, amount: String(amount) });
  }
  if (amount < rules.minAmount) {
    return fail("amount_below_minimum", `${field} must be at least ${formatUsd(rules.minAmount)}.`, { field, minimum: String(rules.minAmount) });
  }
  if (amount > rules.maxAmount) {
    return fail("amount_above_maximum", `${field} may be at most ${formatUsd(rules.maxAmount)}.`, { field, maximum: String(rules.maxAmount) });
  }
  return { ok: true, value: amount };
}

export interface PricedPurchase {
  readonly credit: Micros;
  readonly charge: Micros;
  readonly bundleId: string | null;
}

/** A custom amount (credit = charge) or a bundle (credit = face value, charge = discounted price). */
export function pricePurchase(input: { readonly amount?: Micros; readonly bundleId?: string }, rules: PurchaseRules): Result<PricedPurchase> {
  if (input.bundleId !== undefined) {
    const b = rules.bundles.find((x) => x.id === input.bundleId);
    if (!b) return fail("unknown_bundle", `No bundle ${JSON.stringify(input.bundleId)}; GET /v1/bundles lists them.`, { field: "bundle_id", bundles: rules.bundles.map((x) => x.id) });
    return { ok: true, value: { credit: b.credit, charge: b.price, bundleId: b.id } };
  }
  const checked = checkAmount(input.amount ?? 0, rules);
  if (!checked.ok) return checked;
  return { ok: true, value: { credit: checked.value, charge: checked.value, bundleId: null } };
}

export function checkConfirmation(charge: Micros, confirm: boolean, rules: Pick<PurchaseRules, "confirmAbove">): Result<true> {
  if (charge > rules.confirmAbove && !confirm) {
    return fail("confirmation_required", `A charge above ${formatUsd(rules.confirmAbove)} needs "confirm": true (this one is ${formatUsd(charge)}).`, {
      field: "confirm",
      charge: String(charge),
      confirm_above: String(rules.confirmAbove),
    });
  }
  return { ok: true, value: true };
}

/** `chargedToday`: what the org's manual purchases charged this UTC day (succeeded + pending). */
export function checkDailyCap(chargedToday: Micros, charge: Micros, now: number, rules: Pick<PurchaseRules, "dailyCap">): Result<true> {
  if (chargedToday + charge > rules.dailyCap) {
    const { end } = utcDay(now);
    return fail("daily_purchase_cap_reached", `Purchases are capped at ${formatUsd(rules.dailyCap)} per day; ${formatUsd(Math.max(0, rules.dailyCap - chargedToday))} is left today.`, {
      daily_cap: String(rules.dailyCap),
      charged_today: String(chargedToday),
      remaining: String(Math.max(0, rules.dailyCap - chargedToday)),
      resets_at: new Date(end).toISOString(),
    });
  }
  return { ok: true, value: true };
}

export function utcDay(now: number): { start: number; end: number } {
  const start = dayOf(now) * DAY_MS;
  return { start, end: start + DAY_MS };
}

function fail<T>(code: Parameters<typeof domainError>[0], message: string, details: Record<string, unknown>): Result<T> {
  return { ok: false, error: domainError(code, message, details) };
}
