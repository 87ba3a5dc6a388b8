// `usage-credits grants|limits|usage|plans …`: credit grants, spend limits, usage records and plans.

import { GRANT_KINDS, type GrantKind } from "../../core/grants.js";
import { LIMIT_PERIODS, LIMIT_SCOPES, type LimitPeriod, type LimitScope } from "../../core/limits.js";
import { formatUsd } from "../../core/money.js";
import { parseInstant } from "../../core/price-book.js";
import { paidBy, presentGrant, presentLimit, presentPlan, presentSummary, presentUsage } from "../../presenters/core.js";
import { CliError, str, opt, oneOf, usd, unwrap, table, ORG, type Command } from "./shared.js";

export const CREDIT_COMMANDS: readonly Command[] = [
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
];

/** Which payers paid a usage record, e.g. "sdk_credits+usage_credits" (amounts: the JSON's paid_by). */
function payers(r: Parameters<typeof paidBy>[0]): string {
  const p = paidBy(r);
  const names = (Object.keys(p) as Array<keyof typeof p>).filter((k) => p[k] !== "0");
  return names.length > 0 ? names.join("+") : r.payer === "plan" ? "plan_window" : "sdk_credits";
}
