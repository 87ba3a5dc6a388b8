// Money-in configuration (purchases, bundles, auto-reload, the payment provider), read from the
// environment by config.ts. Kept apart so config.ts stays one screen. Amounts are given in USD
// with at most 2 decimals and become integer micro-dollars here, once.
import { envInt } from "./env.js";

import type { ReloadRules } from "../core/auto-reload.js";
import { parseUsd } from "../core/money.js";
import { DAY_MS } from "../core/plans.js";
import { CENT, DEFAULT_PURCHASE_RULES, makeBundle, type Bundle, type PurchaseRules } from "../core/purchases.js";

/** Stripe's settings; present exactly when the provider is "stripe". */
export interface StripeConfig {
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** Where the SDK sends requests (its host/port/protocol settings); null = api.stripe.com. */
  readonly apiBase: URL | null;
  readonly timeoutMs: number;
  readonly maxNetworkRetries: number;
}

export interface MoneyInConfig {
  readonly provider: "sandbox" | "stripe";
  readonly stripe: StripeConfig | null;
  readonly purchases: PurchaseRules;
  readonly reload: ReloadRules;
  /** The sandbox's pending card (…0077) succeeds when retrieved this long after the charge. */
  readonly sandboxPendingDelayMs: number;
  /** How long the poller waits before looking at a pending payment again. */
  readonly pendingRecheckMs: number;
}

export const MONEY_IN_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_PAYMENT_PROVIDER", "sandbox", "payment provider: sandbox (offline test cards, see docs/money-in.md) or stripe"],
  ["USAGE_CREDITS_STRIPE_SECRET_KEY", "", "stripe: the secret API key (sk_live_… / sk_test_… / rk_…)"],
  ["USAGE_CREDITS_STRIPE_WEBHOOK_SECRET", "", "stripe: the webhook endpoint's signing secret (whsec_…)"],
  ["USAGE_CREDITS_STRIPE_API_BASE", "", "stripe: another API host, e.g. http://127.0.0.1:12111 (a local Stripe-compatible server)"],
  ["USAGE_CREDITS_STRIPE_TIMEOUT_SECONDS", "20", "stripe: an API call without an answer by then leaves the payment pending"],
  ["USAGE_CREDITS_STRIPE_MAX_RETRIES", "1", "stripe: the SDK's automatic network retries (same idempotency key)"],
  ["USAGE_CREDITS_PURCHASE_MIN_USD", "5", "smallest custom purchase (and auto-reload charge)"],
  ["USAGE_CREDITS_PURCHASE_MAX_USD", "10000", "largest single purchase (and auto-reload charge)"],
  ["USAGE_CREDITS_PURCHASE_CONFIRM_ABOVE_USD", "1000", "charges above this need confirm: true"],
  ["USAGE_CREDITS_DAILY_PURCHASE_CAP_USD", "2000", "purchases charged per organization per UTC day"],
  ["USAGE_CREDITS_PURCHASE_EXPIRY_DAYS", "365", "purchased credits expire this many days after purchase"],
  ["USAGE_CREDITS_BUNDLES", "bundle_100:100:0,bundle_500:500:10,bundle_1000:1000:20,bundle_2000:2000:30", "id:face value USD:percent off, comma-separated"],
  ["USAGE_CREDITS_RELOAD_BACKOFF_SECONDS", "3600", "after a declined auto-reload, wait this long before trying again"],
  ["USAGE_CREDITS_RELOAD_MAX_FAILURES", "3", "consecutive auto-reload failures that suspend it until the payment method changes"],
  ["USAGE_CREDITS_SANDBOX_PENDING_SECONDS", "60", "sandbox: a pending charge succeeds this long after it was made"],
  ["USAGE_CREDITS_PAYMENT_RECHECK_SECONDS", "0", "the poller looks at a pending payment again after this long"],
];

function usd(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = parseUsd(raw, 2);
  if (v === null) throw new Error(`${name} must be an amount in USD with at most 2 decimals, got ${JSON.stringify(raw)}`);
  return v;
}


function bundles(env: NodeJS.ProcessEnv): readonly Bundle[] {
  const raw = env["USAGE_CREDITS_BUNDLES"];
  if (raw === undefined) return DEFAULT_PURCHASE_RULES.bundles;
  if (raw.trim() === "") return [];
  return raw.split(",").map((part) => {
    const m = /^([a-z0-9_]{1,40}):(\d{1,9}(?:\.\d{1,2})?):(\d{1,2})$/.exec(part.trim());
    const face = m ? parseUsd(m[2] ?? "", 2) : null;
    if (!m || face === null || face <= 0 || face % CENT !== 0) throw new Error(`USAGE_CREDITS_BUNDLES: ${JSON.stringify(part)} is not id:usd:percent_off (e.g. bundle_500:500:10)`);
    return makeBundle(m[1] ?? "", face, Number(m[3]));
  });
}

function stripeConfig(env: NodeJS.ProcessEnv): StripeConfig {
  const secretKey = env["USAGE_CREDITS_STRIPE_SECRET_KEY"] ?? "";
  const webhookSecret = env["USAGE_CREDITS_STRIPE_WEBHOOK_SECRET"] ?? "";
  if (!/^(sk|rk)_[A-Za-z0-9_]+$/.test(secretKey)) throw new Error("USAGE_CREDITS_STRIPE_SECRET_KEY must be a Stripe secret key (sk_… or rk_…) when the provider is stripe");
  if (!/^whsec_[A-Za-z0-9_]+$/.test(webhookSecret)) throw new Error("USAGE_CREDITS_STRIPE_WEBHOOK_SECRET must be the webhook signing secret (whsec_…) when the provider is stripe");
  const base = env["USAGE_CREDITS_STRIPE_API_BASE"] ?? "";
  let apiBase: URL | null = null;
  if (base !== "") {
    try {
      apiBase = new URL(base);
    } catch {
      apiBase = null;
    }
    if (!apiBase || (apiBase.protocol !== "http:" && apiBase.protocol !== "https:") || apiBase.pathname !== "/") {
      throw new Error(`USAGE_CREDITS_STRIPE_API_BASE must be an http(s) origin such as http://127.0.0.1:12111, got ${JSON.stringify(base)}`);
    }
  }
  return {
    secretKey,
    webhookSecret,
    apiBase,
    timeoutMs: envInt(env, "USAGE_CREDITS_STRIPE_TIMEOUT_SECONDS", 20, 1, 300) * 1000,
    maxNetworkRetries: envInt(env, "USAGE_CREDITS_STRIPE_MAX_RETRIES", 1, 0, 5),
  };
}

export function loadMoneyInConfig(env: NodeJS.ProcessEnv): MoneyInConfig {
  const provider = env["USAGE_CREDITS_PAYMENT_PROVIDER"] ?? "sandbox";
  if (provider !== "sandbox" && provider !== "stripe") throw new Error(`USAGE_CREDITS_PAYMENT_PROVIDER must be sandbox or stripe, got ${JSON.stringify(provider)}`);
  const d = DEFAULT_PURCHASE_RULES;
  const purchases: PurchaseRules = {
    minAmount: usd(env, "USAGE_CREDITS_PURCHASE_MIN_USD", d.minAmount),
    maxAmount: usd(env, "USAGE_CREDITS_PURCHASE_MAX_USD", d.maxAmount),
    confirmAbove: usd(env, "USAGE_CREDITS_PURCHASE_CONFIRM_ABOVE_USD", d.confirmAbove),
    dailyCap: usd(env, "USAGE_CREDITS_DAILY_PURCHASE_CAP_USD", d.dailyCap),
    expiryMs: envInt(env, "USAGE_CREDITS_PURCHASE_EXPIRY_DAYS", 365, 1, 36_500) * DAY_MS,
    bundles: bundles(env),
  };
  if (purchases.minAmount <= 0 || purchases.minAmount > purchases.maxAmount) throw new Error("USAGE_CREDITS_PURCHASE_MIN_USD must be positive and at most USAGE_CREDITS_PURCHASE_MAX_USD");
  return {
    provider,
    stripe: provider === "stripe" ? stripeConfig(env) : null,
    purchases,
    reload: {
      minAmount: purchases.minAmount,
      maxAmount: purchases.maxAmount,
      backoffMs: envInt(env, "USAGE_CREDITS_RELOAD_BACKOFF_SECONDS", 3600, 0, 30 * 86_400) * 1000,
      maxFailures: envInt(env, "USAGE_CREDITS_RELOAD_MAX_FAILURES", 3, 1, 100),
    },
    sandboxPendingDelayMs: envInt(env, "USAGE_CREDITS_SANDBOX_PENDING_SECONDS", 60, 0, 86_400) * 1000,
    pendingRecheckMs: envInt(env, "USAGE_CREDITS_PAYMENT_RECHECK_SECONDS", 0, 0, 86_400) * 1000,
  };
}
