// `usage-credits purchases|payment-methods|credit-requests|auto-reload …`: money coming in.

import { formatUsd } from "../../core/money.js";
import { presentAutoReload, presentCreditRequest, presentPayment, presentPaymentMethod } from "../../presenters/money-in.js";
import { CliError, str, opt, oneOf, usd, unwrap, table, ORG, type Command } from "./shared.js";

export const MONEY_IN_COMMANDS: readonly Command[] = [
  {
    name: "purchases create",
    summary: "Add funds: charge a saved payment method for a custom amount or a bundle (purchase grant, expires in a year).",
    options: {
      ...ORG,
      amount: { type: "string", help: "amount in USD, whole cents, e.g. 50 or 12.50 (or --bundle)" },
      bundle: { type: "string", help: "bundle id, e.g. bundle_500 (see GET /v1/bundles)" },
      "payment-method": { type: "string", help: "saved payment method id (pm_…)", required: true },
      confirm: { type: "boolean", help: "confirm a charge above the confirmation threshold ($1,000)" },
    },
    run: async (s, o) => {
      const amount = opt(o, "amount");
      const bundle = opt(o, "bundle");
      if ((amount === undefined) === (bundle === undefined)) throw new CliError("give exactly one of --amount or --bundle");
      const p = unwrap(
        await s.moneyIn.purchase({
          orgId: str(o, "org"),
          actor: null,
          ...(amount !== undefined ? { amount: usd(amount, "amount") } : {}),
          ...(bundle !== undefined ? { bundleId: bundle } : {}),
          paymentMethodId: str(o, "payment-method"),
          confirm: o["confirm"] === true,
        }),
      );
      return { json: presentPayment(p), text: `${p.id}: ${p.status}, charged ${formatUsd(p.amount)} for ${formatUsd(p.creditAmount)} of credits${p.grantId ? ` (grant ${p.grantId})` : ""}` };
    },
  },
  {
    name: "payment-methods add",
    summary: "Save a payment method: a sandbox test card number, or a provider token (Stripe: pm_…).",
    options: {
      ...ORG,
      card: { type: "string", help: "sandbox test card number (see docs/money-in.md)" },
      token: { type: "string", help: "provider token, e.g. a Stripe pm_… id" },
    },
    run: async (s, o) => {
      const card = opt(o, "card");
      const token = opt(o, "token");
      if ((card === undefined) === (token === undefined)) throw new CliError("give exactly one of --card or --token");
      const m = unwrap(await s.moneyIn.addPaymentMethod(str(o, "org"), card !== undefined ? { cardNumber: card } : { token: token ?? "" }));
      return { json: presentPaymentMethod(m), text: `saved ${m.id} (${m.brand} …${m.last4})` };
    },
  },
  {
    name: "payment-methods list",
    summary: "List an organization's saved payment methods.",
    options: { ...ORG },
    run: async (s, o) => {
      const ms = await s.moneyIn.listPaymentMethods(str(o, "org"));
      return { json: ms.map(presentPaymentMethod), text: table([["ID", "BRAND", "LAST4", "CREATED"], ...ms.map((m) => [m.id, m.brand, m.last4, new Date(m.createdAt).toISOString()])]) };
    },
  },
  {
    name: "credit-requests list",
    summary: "List members' requests for credits (pending, approved, declined).",
    options: { ...ORG },
    run: async (s, o) => {
      const rs = await s.moneyIn.listCreditRequests(str(o, "org"));
      return {
        json: rs.map(presentCreditRequest),
        text: table([["ID", "MEMBER", "AMOUNT", "STATUS", "NOTE"], ...rs.map((r) => [r.id, r.memberId, formatUsd(r.amount), r.status, r.note])]),
      };
    },
  },
  {
    name: "credit-requests approve",
    summary: "Approve a credit request: buys the amount with the given payment method, under the purchase rules.",
    options: {
      ...ORG,
      request: { type: "string", help: "credit request id", required: true },
      "payment-method": { type: "string", help: "payment method id (pm_…)", required: true },
      confirm: { type: "boolean", help: "confirm a charge above the confirmation threshold ($1,000)" },
    },
    run: async (s, o) => {
      const p = unwrap(await s.moneyIn.approveCreditRequest(str(o, "org"), str(o, "request"), { actor: null, paymentMethodId: str(o, "payment-method"), confirm: o["confirm"] === true }));
      return { json: presentPayment(p), text: `${p.id}: ${p.status}, charged ${formatUsd(p.amount)}` };
    },
  },
  {
    name: "credit-requests decline",
    summary: "Decline a credit request.",
    options: { ...ORG, request: { type: "string", help: "credit request id", required: true } },
    run: async (s, o) => {
      const r = unwrap(await s.moneyIn.declineCreditRequest(str(o, "org"), str(o, "request"), null, ""));
      return { json: presentCreditRequest(r), text: `declined ${r.id}` };
    },
  },
  {
    name: "purchases list",
    summary: "List an organization's payments: purchases, approved credit requests and auto-reloads.",
    options: { ...ORG },
    run: async (s, o) => {
      const ps = await s.moneyIn.listPayments(str(o, "org"));
      return {
        json: ps.map(presentPayment),
        text: table([
          ["ID", "PURPOSE", "STATUS", "CHARGED", "CREDITS", "CREATED", "FAILURE"],
          ...ps.map((p) => [p.id, p.purpose, p.status, formatUsd(p.amount), formatUsd(p.creditAmount), new Date(p.createdAt).toISOString(), p.failureCode ?? ""]),
        ]),
      };
    },
  },
  {
    name: "auto-reload get",
    summary: "Show an organization's auto-reload settings and circuit-breaker state.",
    options: { ...ORG },
    run: async (s, o) => {
      const a = await s.moneyIn.getAutoReload(str(o, "org"));
      if (!a) return { json: null, text: "auto-reload is not configured" };
      const how = a.mode === "target" ? `top up to ${formatUsd(a.targetBalance ?? 0)}` : `buy ${formatUsd(a.amount ?? 0)}`;
      const state = a.suspended ? `SUSPENDED after ${a.consecutiveFailures} failures (change the payment method to lift)` : a.enabled ? "active" : "disabled";
      return {
        json: presentAutoReload(a),
        text: `${state}: at or below ${formatUsd(a.threshold)}, ${how} with ${a.paymentMethodId ?? "(no payment method)"}; monthly cap ${a.monthlyCap === null ? "none" : formatUsd(a.monthlyCap)}`,
      };
    },
  },
  {
    name: "auto-reload set",
    summary: "Set auto-reload; a different payment method lifts a suspension.",
    options: {
      ...ORG,
      enabled: { type: "string", help: "true or false", required: true },
      threshold: { type: "string", help: "reload at or below this balance, USD", required: true },
      mode: { type: "string", help: "amount (default) or target" },
      amount: { type: "string", help: "USD to buy per reload (mode amount)" },
      target: { type: "string", help: "USD balance to top up to (mode target)" },
      "payment-method": { type: "string", help: "saved payment method id (pm_…)" },
      "monthly-cap": { type: "string", help: "USD auto-reload may charge per month, or `none` (default none)" },
    },
    run: async (s, o) => {
      const enabled = oneOf<"true" | "false">(str(o, "enabled"), ["true", "false"], "enabled") === "true";
      const amount = opt(o, "amount");
      const target = opt(o, "target");
      const cap = opt(o, "monthly-cap");
      const a = unwrap(
        await s.moneyIn.setAutoReload(str(o, "org"), {
          enabled,
          threshold: usd(str(o, "threshold"), "threshold"),
          mode: oneOf<"amount" | "target">(opt(o, "mode") ?? "amount", ["amount", "target"], "mode"),
          amount: amount !== undefined ? usd(amount, "amount") : null,
          targetBalance: target !== undefined ? usd(target, "target") : null,
          paymentMethodId: opt(o, "payment-method") ?? null,
          monthlyCap: cap === undefined || cap === "none" ? null : usd(cap, "monthly-cap"),
        }),
      );
      return { json: presentAutoReload(a), text: `auto-reload ${a.enabled ? "enabled" : "disabled"} at ${formatUsd(a.threshold)}` };
    },
  },
];
