// The `usage-credits` command line: every command is a row here with its options and help.
// Commands act on the database directly through the same use cases as the API.

import { readFile, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { LegacyImporter } from "../app/legacy-import.js";
import { domainError, type Result } from "../core/errors.js";
import { GRANT_KINDS, type GrantKind } from "../core/grants.js";
import { LIMIT_PERIODS, LIMIT_SCOPES, type LimitPeriod, type LimitScope } from "../core/limits.js";
import { ROLES, type Role } from "../core/model.js";
import { formatUsd, parseUsd } from "../core/money.js";
import { SEAT_TIERS, SURFACES, type SeatTier, type Surface } from "../core/plans.js";
import { parseInstant, type PriceBookSpec as PriceBookSpecType } from "../core/price-book.js";
import { reviewPriceBook, type PriceBookReview } from "../app/price-books.js";
import { PriceBookSpec as PriceBookSpecSchema } from "../schemas/requests.js";
import type { Outcome } from "../app/batcher.js";
import type { Services } from "../app/services.js";
import { presentAutoReload, presentCreditRequest, presentPayment, presentPaymentMethod } from "../presenters/money-in.js";
import { presentClaim, presentMemberSdkCredit, presentOrgSdkCredits } from "../presenters/sdk-credits.js";
import { sdkCreditsOf } from "../app/sdk-credits.js";
import { presentStatement } from "../presenters/statements.js";
import { Statements } from "../app/statements.js";
import { statementCsv } from "../core/statements.js";
import { presentCreatedWebhookEndpoint, presentDelivery, presentWebhookEndpoint } from "../presenters/webhooks.js";
import { paidBy, presentCreatedKey, presentGrant, presentKey, presentLimit, presentMember, presentOrg, presentPlan, presentSummary, presentUsage } from "../presenters/core.js";

export interface Option {
  readonly type: "string" | "boolean";
  readonly help: string;
  readonly required?: boolean;
  /** May be given more than once; the values are joined with commas. */
  readonly multiple?: boolean;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly options: Record<string, Option>;
  /** One positional argument (e.g. the file of `import extra-usage FILE`), stored under this option name. */
  readonly positional?: { readonly name: string; readonly help: string };
  /** Longer help printed after the options. */
  readonly details?: string;
  /** Returns the JSON result and a human rendering. Throws CliError for user mistakes. */
  readonly run: (s: Services, o: Record<string, string | boolean | undefined>) => Promise<{ json: unknown; text: string }>;
}

export class CliError extends Error {}

const str = (o: Record<string, string | boolean | undefined>, k: string): string => {
  const v = o[k];
  if (typeof v !== "string" || v === "") throw new CliError(`--${k} is required`);
  return v;
};
const opt = (o: Record<string, string | boolean | undefined>, k: string): string | undefined => (typeof o[k] === "string" ? (o[k] as string) : undefined);

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${flag} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

function usd(text: string, flag: string): number {
  const v = parseUsd(text, 6);
  if (v === null) throw new CliError(`--${flag} must be an amount in USD like 25 or 12.50, got ${JSON.stringify(text)}`);
  return v;
}

function unwrap<T>(out: Outcome<T> | Result<T>): T {
  const result = "kind" in out ? (out.kind === "fresh" ? out.result : { ok: false as const, error: domainError("conflict", "replayed") }) : out;
  if (!result.ok) throw new CliError(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const table = (rows: string[][]): string => {
  if (rows.length === 0) return "(none)";
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n");
};

const PRICE_BOOK_DETAILS = `The file is one price book as JSON (docs/pricing-and-batches.md describes every field; GET
/v1/price_books shows the books in force). It is compared with the book it would replace — the one in
force at its effective_from — model by model and rate by rate. The model names clients sent in the
last 30 days are priced under both books; every name priced differently (or no longer priced: a new
book drops every model it omits) is listed with the organizations that sent it, their requests and
what those cost. effective_from must be now or later: prices never change retroactively.`;

const ORG = { org: { type: "string", help: "organization id (org_…)", required: true } } as const;

export const COMMANDS: readonly Command[] = [
  {
    name: "orgs list",
    summary: "List organizations.",
    options: {},
    run: async (s) => {
      const orgs = await s.admin.listOrgs(1000, 0);
      return { json: orgs.map(presentOrg), text: table([["ID", "NAME", "PLAN", "USAGE CREDITS"], ...orgs.map((o) => [o.id, o.name, o.planId, o.usageCreditsEnabled ? "on" : "off"])]) };
    },
  },
  {
    name: "orgs create",
    summary: "Create an organization with its owner; prints the owner's API key once.",
    options: {
      name: { type: "string", help: "organization name", required: true },
      plan: { type: "string", help: "plan id (see `plans list`), default pro" },
      "owner-email": { type: "string", help: "owner's email", required: true },
      "owner-name": { type: "string", help: "owner's name (default: the email)" },
      "usage-credits": { type: "boolean", help: "enable usage credits" },
    },
    run: async (s, o) => {
      const v = unwrap(
        await s.admin.createOrg({
          name: str(o, "name"),
          planId: opt(o, "plan") ?? "pro",
          usageCreditsEnabled: o["usage-credits"] === true,
          fastModeEnabled: true,
          fastModeFallback: false,
          owner: { email: str(o, "owner-email"), name: opt(o, "owner-name") ?? str(o, "owner-email") },
        }),
      );
      return {
        json: { ...presentOrg(v.org), owner: presentMember(v.owner), api_key: presentCreatedKey(v.key) },
        text: `created ${v.org.id} (${v.org.name}, plan ${v.org.planId})\nowner ${v.owner.id} <${v.owner.email}>\napi key (shown once): ${v.key.secret}`,
      };
    },
  },
  {
    name: "members list",
    summary: "List an organization's members.",
    options: { ...ORG },
    run: async (s, o) => {
      const ms = await s.admin.listMembers(str(o, "org"));
      return { json: ms.map(presentMember), text: table([["ID", "EMAIL", "ROLE", "SEAT"], ...ms.map((m) => [m.id, m.email, m.role, m.seatTier])]) };
    },
  },
  {
    name: "members add",
    summary: "Add a member to an organization.",
    options: {
      ...ORG,
      email: { type: "string", help: "email", required: true },
      name: { type: "string", help: "name (default: the email)" },
      role: { type: "string", help: `one of ${ROLES.join(", ")} (default member)` },
      "seat-tier": { type: "string", help: `one of ${SEAT_TIERS.join(", ")} (default standard)` },
    },
    run: async (s, o) => {
      const m = unwrap(
        await s.admin.createMember(str(o, "org"), {
          email: str(o, "email"),
          name: opt(o, "name") ?? str(o, "email"),
          role: oneOf<Role>(opt(o, "role") ?? "member", ROLES, "role"),
          seatTier: oneOf<SeatTier>(opt(o, "seat-tier") ?? "standard", SEAT_TIERS, "seat-tier"),
          workspaceId: null,
          usageCreditsEnabled: true,
        }),
      );
      return { json: presentMember(m), text: `added ${m.id} <${m.email}> as ${m.role}` };
    },
  },
  {
    name: "members set-password",
    summary: "Set a member's dashboard password (a random one is generated and printed once if --password is absent).",
    options: {
      ...ORG,
      member: { type: "string", help: "member id (mem_…)", required: true },
      password: { type: "string", help: "the new password, at least 12 characters (default: a random one, printed once)" },
    },
    run: async (s, o) => {
      const password = opt(o, "password") ?? randomBytes(12).toString("base64url");
      const r = await s.sessions.setPassword(str(o, "org"), str(o, "member"), password);
      if (!r.ok) throw new CliError(r.error.message);
      const shown = opt(o, "password") === undefined;
      return {
        json: { member_id: r.value.id, email: r.value.email, ...(shown ? { password } : {}) },
        text: `dashboard password set for ${r.value.id} <${r.value.email}>${shown ? `\npassword (shown once): ${password}` : ""}`,
      };
    },
  },
  {
    name: "keys list",
    summary: "List an organization's API keys (never their secrets).",
    options: { ...ORG },
    run: async (s, o) => {
      const ks = await s.admin.listApiKeys(str(o, "org"));
      return { json: ks.map(presentKey), text: table([["ID", "PREFIX", "MEMBER", "SURFACE", "REVOKED"], ...ks.map((k) => [k.id, k.prefix, k.memberId ?? "", k.surface, k.revokedAt ? "yes" : ""])]) };
    },
  },
  {
    name: "keys create",
    summary: "Create an API key for a member; the secret is printed once.",
    options: {
      ...ORG,
      member: { type: "string", help: "member id (mem_…)", required: true },
      name: { type: "string", help: "a label for the key" },
      surface: { type: "string", help: `one of ${SURFACES.join(", ")} (default interactive)` },
    },
    run: async (s, o) => {
      const k = unwrap(
        await s.admin.createApiKey(str(o, "org"), {
          memberId: str(o, "member"),
          name: opt(o, "name") ?? "CLI key",
          surface: oneOf<Surface>(opt(o, "surface") ?? "interactive", SURFACES, "surface"),
        }),
      );
      return { json: presentCreatedKey(k), text: `created ${k.key.id}\napi key (shown once): ${k.secret}` };
    },
  },
  {
    name: "keys revoke",
    summary: "Revoke an API key.",
    options: { ...ORG, key: { type: "string", help: "key id (key_…)", required: true } },
    run: async (s, o) => {
      const k = unwrap(await s.admin.revokeApiKey(str(o, "org"), str(o, "key")));
      return { json: presentKey(k), text: `revoked ${k.id}` };
    },
  },
  {
    name: "grants list",
    summary: "List an organization's usage-credit grants.",
    options: { ...ORG },
    run: async (s, o) => {
      const gs = await s.admin.listGrants(str(o, "org"));
      return {
        json: gs.map(presentGrant),
        text: table([
          ["ID", "KIND", "AMOUNT", "REMAINING", "STATUS", "EXPIRES"],
          ...gs.map((g) => [g.id, g.kind, formatUsd(g.amount), formatUsd(g.remaining), g.status, g.expiresAt ? new Date(g.expiresAt).toISOString() : "never"]),
        ]),
      };
    },
  },
  {
    name: "grants create",
    summary: "Grant usage credits to an organization.",
    options: {
      ...ORG,
      amount: { type: "string", help: "amount in USD, e.g. 25 or 12.50", required: true },
      kind: { type: "string", help: `one of ${GRANT_KINDS.join(", ")} (default promotional)` },
      priority: { type: "string", help: "burn priority, lower first (default 5; monthly 0)" },
      expires: { type: "string", help: "ISO 8601 expiry (default: never)" },
      member: { type: "string", help: "restrict to one member" },
      description: { type: "string", help: "a note shown in statements" },
    },
    run: async (s, o) => {
      const kind = oneOf<GrantKind>(opt(o, "kind") ?? "promotional", GRANT_KINDS, "kind");
      const expires = opt(o, "expires");
      const expiresAt = expires ? parseInstant(expires) : null;
      if (expires && expiresAt === null) throw new CliError(`--expires must be an ISO 8601 date, got ${JSON.stringify(expires)}`);
      const priority = Number(opt(o, "priority") ?? (kind === "monthly" ? 0 : 5));
      if (!Number.isInteger(priority) || priority < 0 || priority > 1000) throw new CliError("--priority must be an integer from 0 to 1000");
      const amount = usd(str(o, "amount"), "amount");
      if (amount <= 0) throw new CliError("--amount must be greater than zero");
      const g = unwrap(
        await s.engine.createGrant({ orgId: str(o, "org"), kind, amount, priority, expiresAt, surfaces: null, memberId: opt(o, "member") ?? null, description: opt(o, "description") ?? "" }),
      );
      return { json: presentGrant(g), text: `granted ${formatUsd(g.amount)} (${g.kind}) as ${g.id}` };
    },
  },
  {
    name: "grants void",
    summary: "Void one grant; its remaining balance returns to its source.",
    options: { ...ORG, grant: { type: "string", help: "grant id (grant_…)", required: true } },
    run: async (s, o) => {
      const g = unwrap(await s.engine.voidGrant(str(o, "org"), str(o, "grant")));
      return { json: presentGrant(g), text: `voided ${g.id}` };
    },
  },
  {
    name: "limits list",
    summary: "List spending limits.",
    options: { ...ORG },
    run: async (s, o) => {
      const ls = await s.admin.listLimits(str(o, "org"));
      return {
        json: ls.map(presentLimit),
        text: table([["ID", "SCOPE", "SCOPE ID", "PERIOD", "AMOUNT", "STOPS USAGE"], ...ls.map((l) => [l.id, l.scope, l.scopeId, l.period, l.amount === null ? "unlimited" : formatUsd(l.amount), l.stopUsage ? "yes" : "no (alert-only)"])]),
      };
    },
  },
  {
    name: "limits set",
    summary: "Set a spending limit (replaces the one for the same scope and period).",
    options: {
      ...ORG,
      scope: { type: "string", help: `one of ${LIMIT_SCOPES.join(", ")}`, required: true },
      "scope-id": { type: "string", help: "workspace or member id (not for organization)" },
      period: { type: "string", help: `one of ${LIMIT_PERIODS.join(", ")} (default monthly)` },
      amount: { type: "string", help: "USD per period, or `unlimited`", required: true },
      "alert-only": { type: "boolean", help: "an alert-only budget: count spend and send threshold alerts, never refuse (stop usage off)" },
    },
    run: async (s, o) => {
      const amountText = str(o, "amount");
      const l = unwrap(
        await s.admin.setLimit(str(o, "org"), {
          scope: oneOf<LimitScope>(str(o, "scope"), LIMIT_SCOPES, "scope"),
          scopeId: opt(o, "scope-id") ?? null,
          period: oneOf<LimitPeriod>(opt(o, "period") ?? "monthly", LIMIT_PERIODS, "period"),
          amount: amountText === "unlimited" ? null : usd(amountText, "amount"),
          stopUsage: o["alert-only"] !== true,
        }),
      );
      return { json: presentLimit(l), text: `${l.id}: ${l.scope} ${l.period} ${l.stopUsage ? "limit" : "alert-only budget"} ${l.amount === null ? "unlimited" : formatUsd(l.amount)}` };
    },
  },
  {
    name: "limits delete",
    summary: "Remove a spending limit.",
    options: { ...ORG, limit: { type: "string", help: "limit id (spl_…)", required: true } },
    run: async (s, o) => {
      const l = unwrap(await s.admin.deleteLimit(str(o, "org"), str(o, "limit")));
      return { json: presentLimit(l), text: `deleted ${l.id}` };
    },
  },
  {
    name: "usage summary",
    summary: "A member's windows and usage-credits block, in the vendor's shape.",
    options: { ...ORG, member: { type: "string", help: "member id (mem_…)", required: true } },
    run: async (s, o) => {
      const v = unwrap(await s.admin.usageSummary(str(o, "org"), str(o, "member")));
      const lines = v.windows.map((w) => `${w.key.padEnd(16)} ${formatUsd(w.used)} of ${formatUsd(w.quota)}  ${w.idle ? "starts with the next request" : `resets ${new Date(w.resetsAt).toISOString()}`}`);
      lines.push(`balance          ${formatUsd(v.balance)}  (usage credits ${v.org.usageCreditsEnabled ? "on" : "off"})`);
      return { json: presentSummary(v), text: lines.join("\n") };
    },
  },
  {
    name: "usage records",
    summary: "Settled usage in a time range (default: the last 30 days).",
    options: { ...ORG, from: { type: "string", help: "ISO 8601 start" }, to: { type: "string", help: "ISO 8601 end" } },
    run: async (s, o) => {
      const to = opt(o, "to") ? (parseInstant(str(o, "to")) ?? Number.NaN) : s.clock.now() + 1;
      const from = opt(o, "from") ? (parseInstant(str(o, "from")) ?? Number.NaN) : to - 30 * 86_400_000;
      if (!Number.isFinite(from) || !Number.isFinite(to)) throw new CliError("--from and --to must be ISO 8601 date-times with a zone, e.g. 2026-01-01T00:00:00Z");
      const rows = await s.admin.usageRecords(str(o, "org"), from, to);
      return {
        json: rows.map(presentUsage),
        text: table([
          ["TIME", "MEMBER", "SURFACE", "MODEL", "SPEED", "PAID BY", "COST"],
          ...rows.map((r) => [new Date(r.at).toISOString(), r.memberId, r.surface, r.model, r.speed, payers(r), formatUsd(r.cost)]),
        ]),
      };
    },
  },
  {
    name: "plans list",
    summary: "List plans and their windows.",
    options: {},
    run: async (s) => {
      const ps = await s.catalog.listPlans();
      return {
        json: ps.map(presentPlan),
        text: table([["ID", "NAME", "WINDOWS (standard seat)"], ...ps.map((p) => [p.id, p.name, p.seats.standard.windows.map((w) => `${w.key} ${formatUsd(w.quota)}`).join(", ") || "none"])]),
      };
    },
  },
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
  {
    name: "webhooks list",
    summary: "List an organization's webhook endpoints (secrets are never shown again).",
    options: { org: { type: "string", help: "organization id", required: true } },
    run: async (s, o) => {
      const eps = await s.webhooks.listEndpoints(str(o, "org"));
      return { json: { data: eps.map(presentWebhookEndpoint) }, text: table(eps.map((e) => [e.id, e.url, e.eventTypes === null ? "all events" : e.eventTypes.join(",")])) };
    },
  },
  {
    name: "webhooks create",
    summary: "Add a webhook endpoint; prints its signing secret (whsec_…) once.",
    options: {
      org: { type: "string", help: "organization id", required: true },
      url: { type: "string", help: "https:// URL (http:// only to loopback)", required: true },
      events: { type: "string", help: "comma-separated event types (default: all)" },
      description: { type: "string", help: "a note for humans" },
    },
    run: async (s, o) => {
      const events = opt(o, "events");
      const e = unwrap(
        await s.webhooks.createEndpoint(str(o, "org"), {
          url: str(o, "url"),
          eventTypes: events === undefined ? null : events.split(",").map((t) => t.trim()).filter((t) => t !== ""),
          description: opt(o, "description") ?? "",
        }),
      );
      return { json: presentCreatedWebhookEndpoint(e), text: `created ${e.id} → ${e.url}
signing secret (shown once): ${e.secret}` };
    },
  },
  {
    name: "webhooks deliveries",
    summary: "An endpoint's delivery log, newest first.",
    options: {
      org: { type: "string", help: "organization id", required: true },
      endpoint: { type: "string", help: "webhook endpoint id (whe_…)", required: true },
    },
    run: async (s, o) => {
      const list = unwrap(await s.webhooks.listDeliveries(str(o, "org"), str(o, "endpoint"), 100));
      return {
        json: { data: list.map(presentDelivery) },
        text: table(list.map((d) => [d.id, d.eventType, d.status, `attempts ${d.attempts}`, d.lastStatus === null ? "-" : String(d.lastStatus), d.lastError ?? ""])),
      };
    },
  },
  {
    name: "sdk-credits claim",
    summary: "Claim (opt in to) a member's monthly SDK credit: granted now for this billing cycle and every cycle after.",
    options: { ...ORG, member: { type: "string", help: "member id (mem_…)", required: true } },
    run: async (s, o) => {
      const r = unwrap(await sdkCreditsOf(s).claim(str(o, "org"), str(o, "member"), { kind: "platform" }));
      const c = r.status.current;
      const what = c ? `${formatUsd(c.record.amount)} for ${r.status.cycle.label}${c.record.pooled ? " (pooled)" : ""}, grant ${c.record.grantId ?? "(none: the pool is full)"}` : "nothing this cycle";
      return { json: presentClaim(r), text: `${r.alreadyClaimed ? "already claimed" : "claimed"}: ${what}` };
    },
  },
  {
    name: "sdk-credits status",
    summary: "Show an organization's monthly SDK credits (pooled or per member, this cycle's grants), or one member's.",
    options: { ...ORG, member: { type: "string", help: "member id (mem_…); without it, the whole organization" } },
    run: async (s, o) => {
      const member = opt(o, "member");
      if (member !== undefined) {
        const m = unwrap(await sdkCreditsOf(s).memberSdkCredit(str(o, "org"), member));
        const g = m.current?.grant;
        const text = m.claim === null
          ? `not claimed (the seat includes ${formatUsd(m.seatAmount)} per cycle)`
          : `claimed; ${m.cycle.label}: ${g ? `${formatUsd(g.remaining)} left of ${formatUsd(g.amount)}${g.memberId === null ? " (pooled)" : ""}, expires ${new Date(g.expiresAt ?? 0).toISOString()}` : "no credit this cycle"}`;
        return { json: presentMemberSdkCredit(m), text };
      }
      const org = unwrap(await sdkCreditsOf(s).orgSdkCredits(str(o, "org")));
      const head = `${org.settings.pooled ? `pooled, cap ${formatUsd(org.settings.poolCap)}` : "per member"}; cycle ${org.cycle.label}`;
      const rows = org.members.map((m) => [m.claim.memberId, formatUsd(m.seatAmount), m.record ? formatUsd(m.record.amount) : "-", m.record?.grantId ?? "-"]);
      return { json: presentOrgSdkCredits(org), text: `${head}\n${table([["MEMBER", "SEAT AMOUNT", "THIS CYCLE", "GRANT"], ...rows])}` };
    },
  },
  {
    name: "statements get",
    summary: "An organization's statement for a calendar month (UTC): opening, lines, usage, closing (reconciled with the ledger).",
    options: {
      ...ORG,
      month: { type: "string", help: "YYYY-MM", required: true },
      csv: { type: "boolean", help: "print the statement as CSV" },
    },
    run: async (s, o) => {
      const st = unwrap(await new Statements(s.store, s.clock).get(str(o, "org"), str(o, "month")));
      if (o["csv"] === true) return { json: presentStatement(st), text: statementCsv(st).trimEnd() };
      const rows = [
        ["opening balance", formatUsd(st.openingBalance)],
        ...st.lines.map((l) => [`  ${l.category}`, formatUsd(l.amount)]),
        ["closing balance", formatUsd(st.closingBalance)],
        ["ledger balance", `${formatUsd(st.ledgerBalance)}${st.reconciled ? " (reconciled)" : " (NOT RECONCILED)"}`],
      ];
      return { json: presentStatement(st), text: `${st.orgId} ${st.month}${st.complete ? "" : " (month in progress)"}\n${table(rows)}` };
    },
  },
  {
    name: "price-books list",
    summary: "List the price books (the one in force now is marked).",
    options: {},
    run: async (s) => {
      const specs = await s.catalog.listPriceBookSpecs();
      const inForce = await s.catalog.priceBook(s.clock.now());
      const rows = specs.map((b) => ({ id: b.id, version: b.version, effective_from: b.effective_from, models: b.models.length, in_force: inForce?.id === b.id && inForce.version === b.version }));
      return {
        json: rows,
        text: table([["ID", "VERSION", "EFFECTIVE FROM", "MODELS", "IN FORCE"], ...rows.map((r) => [r.id, String(r.version), r.effective_from, String(r.models), r.in_force ? "yes" : ""])]),
      };
    },
  },
  {
    name: "price-books diff",
    summary: "Show what a price book file would change, and for whom, against the book it would replace; writes nothing.",
    positional: { name: "file", help: "the price book (JSON, the format of docs/pricing-and-batches.md)" },
    options: {
      file: { type: "string", help: "the price book file (or give it as the positional FILE)" },
      since: { type: "string", help: "look for affected organizations from this ISO 8601 time (default: 30 days ago)" },
    },
    details: PRICE_BOOK_DETAILS,
    run: async (s, o) => renderReview(await reviewFile(s, str(o, "file"), opt(o, "since")), "dry run: nothing was written"),
  },
  {
    name: "price-books import",
    summary: "Publish a price book from a file (--dry-run: only show what changes for whom). Books are immutable: publish a new version.",
    positional: { name: "file", help: "the price book (JSON, the format of docs/pricing-and-batches.md)" },
    options: {
      file: { type: "string", help: "the price book file (or give it as the positional FILE)" },
      "dry-run": { type: "boolean", help: "validate and show the changes and the affected organizations; write nothing" },
      since: { type: "string", help: "look for affected organizations from this ISO 8601 time (default: 30 days ago)" },
    },
    details: PRICE_BOOK_DETAILS,
    run: async (s, o) => {
      const file = str(o, "file");
      const { spec, review } = await reviewFile(s, file, opt(o, "since"));
      if (o["dry-run"] === true) return renderReview({ spec, review }, "dry run: nothing was written");
      unwrap(await s.admin.addPriceBook(spec));
      return renderReview({ spec, review }, `published ${spec.id} version ${spec.version}, in force from ${spec.effective_from}`);
    },
  },
  {
    name: "import extra-usage",
    summary: "Import a legacy extra-usage export (JSON Lines or CSV); --dry-run first. Exits 1 if any row was rejected.",
    positional: { name: "file", help: "the export file (.jsonl / .ndjson or .csv)" },
    options: {
      file: { type: "string", help: "the export file (or give it as the positional FILE)" },
      format: { type: "string", help: "jsonl or csv (default: from the file name)" },
      "dry-run": { type: "boolean", help: "validate and print what would change; write nothing" },
      report: { type: "string", help: "write the full report (errors, per-account reconciliation) to this JSON file" },
      quiet: { type: "boolean", help: "no progress lines on stderr" },
    },
    details: `The format is documented in docs/legacy-export.md. Each account imports all or nothing: a bad row
(bad amount, unknown currency, negative balance, duplicate id, invalid UTF-8…) leaves its account
untouched and is reported with its line number; the other accounts are imported. Re-running a file
changes nothing (accounts already imported are "unchanged"; changed data is a "conflict").
After a real run every imported or unchanged account is read back from the database and compared
with the file field by field; the summary's "differences" must be 0.
Exit status: 0 all accounts imported or unchanged with 0 differences; 1 rows rejected, conflicts,
failures or differences; 2 usage error.`,
    run: async (s, o) => {
      const file = str(o, "file");
      const format = opt(o, "format") ?? (/\.csv$/i.test(file) ? "csv" : /\.(jsonl|ndjson|json)$/i.test(file) ? "jsonl" : "");
      if (format !== "jsonl" && format !== "csv") throw new CliError(`--format must be jsonl or csv (cannot tell from ${JSON.stringify(file)})`);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
      }
      const importer = new LegacyImporter(s.store, s.admin, s.catalog, s.clock);
      const progress = o["quiet"] ? undefined : (phase: string, done: number, total: number) => process.stderr.write(`${phase}: ${done}/${total} accounts\n`);
      const r = await importer.run({ file, bytes, format, dryRun: o["dry-run"] === true, ...(progress ? { progress } : {}) });
      const reportFile = opt(o, "report");
      if (reportFile) await writeFile(reportFile, `${JSON.stringify(r, null, 2)}\n`);
      const bad = r.rejected + r.conflicts + r.failed + r.differences > 0;
      if (bad) process.exitCode = 1;
      const { details, ...summary } = r;
      const verb = r.dry_run ? "would import" : "imported";
      const lines = [
        `${r.dry_run ? "DRY RUN (nothing written): " : ""}${r.accounts} accounts in ${r.lines} lines: ${verb} ${r.imported}, unchanged ${r.unchanged}, rejected ${r.rejected}, conflicts ${r.conflicts}, failed ${r.failed}`,
        ...(r.dry_run ? [] : [`reconciliation: ${r.differences} differences (old vs new, field by field)`]),
        ...r.errors.slice(0, 50).map((e) => `  line ${e.line}${e.accountId ? ` (account ${e.accountId})` : ""}: ${e.reason}`),
        ...(r.errors.length > 50 ? [`  … ${r.errors.length - 50} more errors${reportFile ? ` in ${reportFile}` : " (use --report FILE)"}`] : []),
        ...(r.dry_run ? details.filter((d) => d.outcome === "would_import").slice(0, 20).map((d) => `  would import ${d.legacy_id}`) : []),
        `time: parse ${r.ms.parse} ms, write ${r.ms.write} ms, reconcile ${r.ms.reconcile} ms`,
      ];
      return { json: summary, text: lines.join("\n") };
    },
  },
  {
    name: "ledger verify",
    summary: "Check every ledger invariant; exits 1 on any violation.",
    options: {},
    run: async (s) => {
      const r = await s.admin.verify();
      const text = r.violations.length === 0
        ? `ledger ok: ${r.transactions} transactions, every invariant holds`
        : [`ledger VIOLATIONS: ${r.violations.length}`, ...r.violations.map((v) => `  ${v.invariant} ${v.subject}: ${v.detail}`)].join("\n");
      if (r.violations.length > 0) process.exitCode = 1;
      return { json: { ok: r.violations.length === 0, transactions: r.transactions, violations: r.violations }, text };
    },
  },
];

export function parseCommandArgs(cmd: Command, args: string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.entries(cmd.options).map(([k, v]) => [k, { type: v.type, ...(v.multiple ? { multiple: true } : {}) }]));
  const { values, positionals } = parseArgs({
    args,
    options: { ...options, json: { type: "boolean" }, database: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: cmd.positional !== undefined,
  });
  const out = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v])) as Record<string, string | boolean | undefined>;
  if (cmd.positional && positionals.length > 0) {
    if (positionals.length > 1 || out[cmd.positional.name] !== undefined) throw new Error(`expected one ${cmd.positional.name.toUpperCase()}, got ${positionals.length + (out[cmd.positional.name] !== undefined ? 1 : 0)}`);
    out[cmd.positional.name] = positionals[0];
  }
  return out;
}

export function commandHelp(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([k, v]) => `  --${k}${v.type === "string" ? " <value>" : ""}`.padEnd(30) + `${v.help}${v.required ? " (required)" : ""}`);
  rows.push("  --json".padEnd(30) + "print JSON instead of text", "  --database <url>".padEnd(30) + "sqlite:<file> or postgres://… (default from USAGE_CREDITS_DATABASE_URL)", "  -h, --help".padEnd(30) + "show this help");
  const usage = `usage-credits ${cmd.name}${cmd.positional ? ` ${cmd.positional.name.toUpperCase()}` : ""} [options]`;
  return `${usage}\n\n${cmd.summary}\n\nOptions:\n${rows.join("\n")}\n${cmd.details ? `\n${cmd.details}\n` : ""}`;
}

async function reviewFile(s: Services, file: string, sinceText?: string): Promise<{ spec: PriceBookSpecType; review: PriceBookReview }> {
  const since = sinceText === undefined ? undefined : parseInstant(sinceText);
  if (since === null) throw new CliError(`--since must be an ISO 8601 date-time with a zone, got ${JSON.stringify(sinceText)}`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const shape = PriceBookSpecSchema.safeParse(json);
  if (!shape.success) {
    throw new CliError(`${file} is not a valid price book:\n${shape.error.issues.map((i) => `  ${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("\n")}`);
  }
  const spec = shape.data as unknown as PriceBookSpecType;
  const r = await reviewPriceBook(s.store, s.clock, spec, since);
  if (!r.ok) throw new CliError(`${file} is not a valid price book:\n${r.problems.map((p) => `  ${p}`).join("\n")}`);
  return { spec, review: r.review };
}

function renderReview({ review }: { spec: PriceBookSpecType; review: PriceBookReview }, outcome: string): { json: unknown; text: string } {
  const c = review.candidate;
  const lines = [`price book ${c.id} version ${c.version} (effective ${c.effective_from}) ${review.replaces ? `replaces ${review.replaces.id} version ${review.replaces.version}` : "replaces no book"}`];
  lines.push("", `changes (rates in USD per million tokens):${review.changes.length === 0 ? " none" : ""}`);
  if (review.changes.length > 0) lines.push(table([["MODEL", "FIELD", "FROM", "TO"], ...review.changes.map((x) => [x.model ?? "(book)", x.field, x.from ?? "-", x.to ?? "-"])]));
  lines.push("", `model names sent since ${review.since} that would be priced differently:${review.names.length === 0 ? " none" : ""}`);
  if (review.names.length > 0) lines.push(table([["NAME", "PRICED AS", "WOULD BE", "CHANGE"], ...review.names.map((x) => [x.name, x.from ?? "-", x.to ?? "refused", x.change])]));
  lines.push("", `organizations that sent them:${review.organizations.length === 0 ? " none" : ""}`);
  if (review.organizations.length > 0) {
    lines.push(table([["ORG", "REQUESTS", "COST (OLD PRICES)", "MODELS"], ...review.organizations.map((o) => [o.orgId, String(o.requests), formatUsd(o.cost), o.models.map((m) => `${m.name} ×${m.requests}`).join(", ")])]));
  }
  lines.push("", outcome);
  return {
    json: {
      ...review,
      organizations: review.organizations.map((o) => ({ org_id: o.orgId, requests: o.requests, cost: String(o.cost), models: o.models.map((m) => ({ name: m.name, requests: m.requests, cost: String(m.cost) })) })),
      outcome,
    },
    text: lines.join("\n"),
  };
}

/** Which payers paid a usage record, e.g. "sdk_credits+usage_credits" (amounts: the JSON's paid_by). */
function payers(r: Parameters<typeof paidBy>[0]): string {
  const p = paidBy(r);
  const names = (Object.keys(p) as Array<keyof typeof p>).filter((k) => p[k] !== "0");
  return names.length > 0 ? names.join("+") : r.payer === "plan" ? "plan_window" : "sdk_credits";
}
