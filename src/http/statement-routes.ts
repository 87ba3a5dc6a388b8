// Statement routes: one organization's month as JSON, or as CSV (`?format=csv`, `Accept: text/csv`
// or a `.csv` suffix on the month). Registered by one line in routes.ts.

import { z } from "zod";
import { Statements } from "../app/statements.js";
import { statementCsv, type Statement } from "../core/statements.js";
import { statementPdf } from "../core/receipts.js";
import { pdfReply, wantsPdf } from "./receipt-routes.js";
import { MONEY_FORMAT } from "./presenters.js";
import { HttpError, route, type AnyRoute, type Reply } from "./server.js";

const ORG = "/v1/organizations/:org_id";

export const StatementQuery = z.strictObject({
  format: z.enum(["json", "csv", "pdf"]).optional().describe("json (default), csv or pdf; `Accept: text/csv` or `application/pdf` also selects it."),
});

const iso = (t: number): string => new Date(t).toISOString();
const money = (m: number): string => String(m);

export const presentStatement = (s: Statement) => ({
  type: "statement",
  org_id: s.orgId,
  month: s.month,
  period_start: iso(s.periodStart),
  period_end: iso(s.periodEnd),
  as_of: iso(s.asOf),
  complete: s.complete,
  opening_balance: money(s.openingBalance),
  opening: { grants: money(s.opening.grants), held: money(s.opening.held), debt: money(s.opening.debt) },
  lines: s.lines.map((l) => ({ category: l.category, amount: money(l.amount), transactions: l.count })),
  grants_by_kind: Object.fromEntries(Object.entries(s.grantsByKind).map(([k, v]) => [k, money(v)])),
  usage: {
    total: money(s.usage.total),
    rows: s.usage.rows.map((r) => ({
      member_id: r.memberId,
      model: r.model,
      surface: r.surface,
      requests: r.requests,
      amount: money(r.amount),
      usage_credits: money(r.usageCredits),
      included_credits: money(r.includedCredits),
    })),
    by_model: s.usage.byModel.map((t) => ({ model: t.key, requests: t.requests, amount: money(t.amount) })),
    by_surface: s.usage.bySurface.map((t) => ({ surface: t.key, requests: t.requests, amount: money(t.amount) })),
    by_member: s.usage.byMember.map((t) => ({ member_id: t.key, requests: t.requests, amount: money(t.amount) })),
    plan_value: money(s.usage.planValue),
  },
  debt_repaid: money(s.debtRepaid),
  closing_balance: money(s.closingBalance),
  closing: { grants: money(s.closing.grants), held: money(s.closing.held), debt: money(s.closing.debt) },
  ledger_balance: money(s.ledgerBalance),
  reconciled: s.reconciled,
  ...MONEY_FORMAT,
});

export function statementRoutes(): AnyRoute[] {
  return [
    route<undefined, z.infer<typeof StatementQuery>>({
      method: "GET",
      path: `${ORG}/statements/:month`,
      summary:
        "The organization's statement for a calendar month (UTC, YYYY-MM): opening balance, purchases, reloads, grants, usage (by model, surface and member), expiries, voids, closing balance — which equals the ledger (`reconciled`). JSON, CSV (`.csv`) or PDF (`.pdf`, with the seller's details).",
      tag: "Reporting",
      auth: "read",
      query: StatementQuery,
      handler: async (ctx): Promise<Reply> => {
        let month = ctx.params["month"] ?? "";
        let csv = ctx.query.format === "csv";
        if (month.endsWith(".pdf") || (!month.endsWith(".csv") && wantsPdf(ctx.query.format, ctx.headers["accept"]))) {
          const out = await ctx.services.receipts.statement(ctx.params["org_id"] ?? "", month.replace(/\.pdf$/, ""));
          if (!out.ok) throw new HttpError(out.error);
          return pdfReply(statementPdf(out.value.statement, out.value.orgName, ctx.services.receipts.seller), `statement-${out.value.statement.orgId}-${out.value.statement.month}.pdf`);
        }
        if (month.endsWith(".csv")) {
          month = month.slice(0, -4);
          csv = ctx.query.format !== "json";
        } else if (ctx.query.format === undefined) {
          const accept = ctx.headers["accept"] ?? "";
          csv = /\btext\/csv\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
        }
        const out = await new Statements(ctx.services.store, ctx.services.clock).get(ctx.params["org_id"] ?? "", month);
        if (!out.ok) throw new HttpError(out.error);
        if (!csv) return { status: 200, body: presentStatement(out.value) };
        const text = statementCsv(out.value);
        const file = `statement-${out.value.orgId}-${out.value.month}.csv`;
        return {
          status: 200,
          body: null,
          headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${file}"`, "content-length": String(Buffer.byteLength(text)) },
          write: async (res) => {
            res.end(text);
          },
        };
      },
    }),
  ];
}

