// Statement routes: one organization's month as JSON, or as CSV (`?format=csv`, `Accept: text/csv`
// or a `.csv` suffix on the month). Registered by one line in routes.ts.

import { z } from "zod";
import { Statements } from "../../app/statements.js";
import { statementCsv } from "../../core/statements.js";
import { statementPdf } from "../../core/receipts.js";
import { pdfReply, wantsPdf } from "./receipts.js";
import { HttpError, type AnyRoute, type Reply } from "../server.js";
import { presentStatement } from "../../presenters/statements.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";


export const StatementQuery = z.strictObject({
  format: z.enum(["json", "csv", "pdf"]).optional().describe("json (default), csv or pdf; `Accept: text/csv` or `application/pdf` also selects it."),
});

export function statementRoutes(): AnyRoute[] {
  return [
    typed({
      method: "GET",
      path: `${ORG}/statements/:month`,
      summary:
        "The organization's statement for a calendar month (UTC, YYYY-MM): opening balance, purchases, reloads, grants, usage (by model, surface and member), expiries, voids, closing balance — which equals the ledger (`reconciled`). JSON, CSV (`.csv`) or PDF (`.pdf`, with the seller's details).",
      tag: "Reporting",
      auth: "read",
      response: R.Statement,
      query: StatementQuery,
      handler: async (ctx): Promise<Reply> => {
        let month = ctx.params.month;
        let csv = ctx.query.format === "csv";
        if (month.endsWith(".pdf") || (!month.endsWith(".csv") && wantsPdf(ctx.query.format, ctx.headers["accept"]))) {
          const out = await ctx.services.receipts.statement(ctx.params.org_id, month.replace(/\.pdf$/, ""));
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
        const out = await new Statements(ctx.services.store, ctx.services.clock).get(ctx.params.org_id, month);
        if (!out.ok) throw new HttpError(out.error);
        if (!csv) return ctx.ok(presentStatement(out.value));
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

