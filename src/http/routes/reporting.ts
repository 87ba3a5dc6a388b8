// Reporting: the usage summary (windows and usage credits), usage records and the ledger.

import { domainError } from "../../core/errors.js";
import { MONEY_FORMAT, presentSummary, presentTransaction, presentUsage } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { cursor, parseCursor } from "../paging.js";
import { HttpError } from "../server.js";
import { ORG, typed } from "./define.js";
import { ownHoldsOnly } from "./metering.js";
import * as R from "../../schemas/responses.js";

const iso = (v: string | null | undefined): number | null => (v ? Date.parse(v) : null);

export const usageSummary = typed({
  method: "GET",
  path: `${ORG}/usage_summary`,
  summary: "Windows (five_hour, seven_day, seven_day_<family>) with utilization and resets_at, plus the usage-credits block.",
  tag: "Reporting",
  auth: "read",
  response: R.Summary,
  query: S.SummaryQuery,
  handler: async (ctx) => {
    const p = ctx.principal;
    const memberId = ctx.query.member_id ?? (p.kind === "member" ? p.memberId : undefined);
    if (!memberId) throw new HttpError(domainError("invalid_request", "member_id is required with a platform key.", { field: "member_id" }));
    return ctx.reply(await ctx.services.admin.usageSummary(ctx.params.org_id, memberId), presentSummary);
  },
});

export const usageRecords = typed({
  method: "GET",
  path: `${ORG}/usage`,
  summary: "Settled usage records in a time range (default: the last 30 days).",
  tag: "Reporting",
  auth: "read",
  response: R.UsageRecords,
  query: S.UsageQuery,
  handler: async (ctx) => {
    const now = ctx.services.clock.now();
    const to = iso(ctx.query.to) ?? now + 1;
    const from = iso(ctx.query.from) ?? to - 30 * 86_400_000;
    const rows = await ctx.services.admin.usageRecords(ctx.params.org_id, from, to, ctx.query.member_id);
    const total = rows.reduce((t, r) => t + r.cost, 0);
    const credits = rows.reduce((t, r) => t + r.creditCost, 0);
    const own = ownHoldsOnly(ctx.principal, ctx.access);
    const shown = rows.map((r) => ({ ...presentUsage(r), ...(own !== undefined && r.memberId !== own ? { hold_id: null } : {}) }));
    return ctx.ok({ data: shown, total_cost: String(total), total_credit_cost: String(credits), ...MONEY_FORMAT });
  },
});

export const transactions = typed({
  method: "GET",
  path: `${ORG}/transactions`,
  summary: "The organization's ledger transactions, newest first (each sums to zero).",
  tag: "Ledger",
  auth: "read",
  response: R.page(R.Transaction),
  query: S.TransactionsQuery,
  handler: async (ctx) => {
    const txs = await ctx.services.admin.transactions(ctx.params.org_id, ctx.query.limit, parseCursor(ctx.query.before), ctx.query.kind, ownHoldsOnly(ctx.principal, ctx.access));
    const last = txs[txs.length - 1];
    return ctx.ok({ data: txs.map(presentTransaction), next_cursor: txs.length === ctx.query.limit && last ? cursor(last.at, last.id) : null });
  },
});

export const reportingRoutes = [usageSummary, usageRecords, transactions];
