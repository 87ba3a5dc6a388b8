// Money-in configuration (purchases, bundles, auto-reload, the payment provider), declared once in
// the environment schema (env.ts) and assembled here. Amounts are given in USD with at most 2
// decimals and become integer micro-dollars here, once.
import { envVar, int, invalid, oneOf, parser, readEnv, text, type EnvValues, type Invalid } from "./env.js";

import type { ReloadRules } from "../core/auto-reload.js";
import { parseUsd } from "../core/money.js";
import { DAY_MS } from "../core/plans.js";
import { CENT, makeBundle, type Bundle, type PurchaseRules } from "../core/purchases.js";

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

export const PAYMENT_PROVIDERS = ["sandbox", "stripe"] as const;

const usd = () =>
  parser((raw) => {
    const v = raw === undefined ? null : parseUsd(raw, 2);
    return v ?? invalid(`must be an amount in USD with at most 2 decimals, got ${JSON.stringify(raw ?? "")}`);
  });

/** id:face value USD:percent off, comma-separated; empty: no bundles. */
const bundles = () =>
  parser((raw): readonly Bundle[] | Invalid => {
    if (raw === undefined || raw.trim() === "") return [];
    const out: Bundle[] = [];
    for (const part of raw.split(",")) {
      const m = /^([a-z0-9_]{1,40}):(\d{1,9}(?:\.\d{1,2})?):(\d{1,2})$/.exec(part.trim());
      const face = m ? parseUsd(m[2] ?? "", 2) : null;
      if (!m || face === null || face <= 0 || face % CENT !== 0) return invalid(`: ${JSON.stringify(part)} is not id:usd:percent_off (e.g. bundle_500:500:10)`);
      out.push(makeBundle(m[1] ?? "", face, Number(m[3])));
    }
    return out;
  });

/** An http(s) origin, or empty (none). */
const origin = () =>
  parser((raw) => {
    if (raw === undefined || raw === "") return null;
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/") return invalid(`must be an http(s) origin such as http://127.0.0.1:12111, got ${JSON.stringify(raw)}`);
    return url;
  });

export const MONEY_IN_ENV = {
  provider: envVar("USAGE_CREDITS_PAYMENT_PROVIDER", "sandbox", "payment provider: sandbox (offline test cards, see docs/money-in.md) or stripe", oneOf(PAYMENT_PROVIDERS), { keepEmpty: true }),
  stripeSecretKey: envVar("USAGE_CREDITS_STRIPE_SECRET_KEY", "", "stripe: the secret API key (sk_live_… / sk_test_… / rk_…)", text()),
  stripeWebhookSecret: envVar("USAGE_CREDITS_STRIPE_WEBHOOK_SECRET", "", "stripe: the webhook endpoint's signing secret (whsec_…)", text()),
  stripeApiBase: envVar("USAGE_CREDITS_STRIPE_API_BASE", "", "stripe: another API host, e.g. http://127.0.0.1:12111 (a local Stripe-compatible server)", origin()),
  stripeTimeoutSeconds: envVar("USAGE_CREDITS_STRIPE_TIMEOUT_SECONDS", "20", "stripe: an API call without an answer by then leaves the payment pending", int(1, 300)),
  stripeMaxRetries: envVar("USAGE_CREDITS_STRIPE_MAX_RETRIES", "1", "stripe: the SDK's automatic network retries (same idempotency key)", int(0, 5)),
  purchaseMin: envVar("USAGE_CREDITS_PURCHASE_MIN_USD", "5", "smallest custom purchase (and auto-reload charge)", usd()),
  purchaseMax: envVar("USAGE_CREDITS_PURCHASE_MAX_USD", "10000", "largest single purchase (and auto-reload charge)", usd()),
  confirmAbove: envVar("USAGE_CREDITS_PURCHASE_CONFIRM_ABOVE_USD", "1000", "charges above this need confirm: true", usd()),
  dailyCap: envVar("USAGE_CREDITS_DAILY_PURCHASE_CAP_USD", "2000", "purchases charged per organization per UTC day", usd()),
  expiryDays: envVar("USAGE_CREDITS_PURCHASE_EXPIRY_DAYS", "365", "purchased credits expire this many days after purchase", int(1, 36_500)),
  bundles: envVar("USAGE_CREDITS_BUNDLES", "bundle_100:100:0,bundle_500:500:10,bundle_1000:1000:20,bundle_2000:2000:30", "id:face value USD:percent off, comma-separated", bundles(), { keepEmpty: true }),
  reloadBackoffSeconds: envVar("USAGE_CREDITS_RELOAD_BACKOFF_SECONDS", "3600", "after a declined auto-reload, wait this long before trying again", int(0, 30 * 86_400)),
  reloadMaxFailures: envVar("USAGE_CREDITS_RELOAD_MAX_FAILURES", "3", "consecutive auto-reload failures that suspend it until the payment method changes", int(1, 100)),
  sandboxPendingSeconds: envVar("USAGE_CREDITS_SANDBOX_PENDING_SECONDS", "60", "sandbox: a pending charge succeeds this long after it was made", int(0, 86_400)),
  recheckSeconds: envVar("USAGE_CREDITS_PAYMENT_RECHECK_SECONDS", "0", "the poller looks at a pending payment again after this long", int(0, 86_400)),
};

export function loadMoneyInConfig(env: NodeJS.ProcessEnv): MoneyInConfig {
  const v = readEnv(MONEY_IN_ENV, env);
  const purchases: PurchaseRules = {
    minAmount: v.purchaseMin,
    maxAmount: v.purchaseMax,
    confirmAbove: v.confirmAbove,
    dailyCap: v.dailyCap,
    expiryMs: v.expiryDays * DAY_MS,
    bundles: v.bundles,
  };
  if (purchases.minAmount <= 0 || purchases.minAmount > purchases.maxAmount) throw new Error("USAGE_CREDITS_PURCHASE_MIN_USD must be positive and at most USAGE_CREDITS_PURCHASE_MAX_USD");
  return {
    provider: v.provider,
    stripe: v.provider === "stripe" ? stripeConfig(v) : null,
    purchases,
    reload: { minAmount: purchases.minAmount, maxAmount: purchases.maxAmount, backoffMs: v.reloadBackoffSeconds * 1000, maxFailures: v.reloadMaxFailures },
    sandboxPendingDelayMs: v.sandboxPendingSeconds * 1000,
    pendingRecheckMs: v.recheckSeconds * 1000,
  };
}

function stripeConfig(v: EnvValues<typeof MONEY_IN_ENV>): StripeConfig {
  const secretKey = v.stripeSecretKey;
  const webhookSecret = v.stripeWebhookSecret;
  if (!/^(sk|rk)_[A-Za-z0-9_]+$/.test(secretKey)) throw new Error("USAGE_CREDITS_STRIPE_SECRET_KEY must be a Stripe secret key (sk_… or rk_…) when the provider is stripe");
  if (!/^whsec_[A-Za-z0-9_]+$/.test(webhookSecret)) throw new Error("USAGE_CREDITS_STRIPE_WEBHOOK_SECRET must be the webhook signing secret (whsec_…) when the provider is stripe");
  return { secretKey, webhookSecret, apiBase: v.stripeApiBase, timeoutMs: v.stripeTimeoutSeconds * 1000, maxNetworkRetries: v.stripeMaxRetries };
}
