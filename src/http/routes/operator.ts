// Operator routes (platform key): the customer list behind the operator console and the preview
// of a proposed price book against a past month's usage. Registered by one line in routes.ts.

import { z } from "zod";
import type { PriceBookSpec as PriceBookSpecType } from "../../core/price-book.js";
import type { PreviewRow } from "../../core/price-preview.js";
import { MONEY_FORMAT, presentOrg } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { HttpError, type AnyRoute } from "../server.js";
import { typed } from "./define.js";
import * as R from "../../schemas/responses.js";

export const CustomersQuery = z.strictObject({
  q: z.string().max(200).default("").describe("Part of the organization's name or id (case-insensitive)."),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const PreviewQuery = z.strictObject({
  month: z.string().max(7).optional().describe("YYYY-MM whose usage is re-rated; default: last month."),
});

const money = (m: number): string => String(m);
const presentRow = (r: Omit<PreviewRow, "model">): R.PricePreview["totals"] => ({
  requests: r.requests,
  recorded: money(r.recorded),
  current: money(r.current),
  proposed: money(r.proposed),
  difference: money(r.proposed - r.current),
  unrated: r.unrated,
});

export function operatorRoutes(): AnyRoute[] {
  return [
    typed({
      method: "GET",
      path: "/v1/operator/customers",
      summary: "Customers (platform key): each organization with its plan, usage-credit balance, debt and this month's spend paid with usage credits; `q` searches names and ids.",
      tag: "Operator",
      auth: "platform",
      response: R.Customers,
      query: CustomersQuery,
      handler: async (ctx) => {
        const list = await ctx.services.operator.customers(ctx.query.q, ctx.query.limit, ctx.query.offset);
        return ctx.ok({
          data: list.map((c) => ({ ...presentOrg(c.org), type: "customer", balance: money(c.balance), month_spend: money(c.monthSpent) })),
          // The server's clock decides months (the console's "last month", "next month").
          server_time: new Date(ctx.services.clock.now()).toISOString(),
          ...MONEY_FORMAT,
        });
      },
    }),
    typed({
      method: "POST",
      path: "/v1/price_books/preview",
      summary:
        "Preview a proposed price book (platform key, nothing is published): a month's real usage (default: last month) re-rated with the book in force then and with the proposed one, per model, by the engine's own rating code.",
      tag: "Catalog",
      auth: "platform",
      response: R.PricePreview,
      body: S.PriceBookSpec,
      query: PreviewQuery,
      handler: async (ctx) => {
        const out = await ctx.services.operator.previewPriceBook(ctx.body as unknown as PriceBookSpecType, ctx.query.month);
        if (!out.ok) throw new HttpError(out.error);
        const p = out.value;
        return ctx.ok({ type: "price_book_preview", month: p.month, rows: p.rows.map((r) => ({ model: r.model, ...presentRow(r) })), totals: presentRow(p.totals), ...MONEY_FORMAT });
      },
    }),
  ];
}
