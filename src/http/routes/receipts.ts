// Receipt routes: a succeeded payment's numbered receipt as JSON (the dashboard draws it as HTML)
// or as a PDF (`?format=pdf` or `Accept: application/pdf`). Registered by one line in routes.ts.

import { z } from "zod";
import { receiptPdf } from "../../core/receipts.js";
import { HttpError, type AnyRoute, type Reply } from "../server.js";
import { presentReceipt } from "../../presenters/receipts.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";


export const DocumentQuery = z.strictObject({
  format: z.enum(["json", "pdf"]).optional().describe("json (default) or pdf; `Accept: application/pdf` also selects the PDF."),
});

/** Does the request ask for a PDF (the query wins over the Accept header)? */
export function wantsPdf(format: string | undefined, accept: string | undefined): boolean {
  if (format !== undefined) return format === "pdf";
  return /\bapplication\/pdf\b/i.test(accept ?? "") && !/\bapplication\/json\b/i.test(accept ?? "");
}

/** A PDF answer (the writer's 8-bit string, written as latin1 bytes), offered as a download. */
export function pdfReply(pdf: string, file: string): Reply {
  const bytes = Buffer.from(pdf, "latin1");
  return {
    status: 200,
    body: null,
    headers: { "content-type": "application/pdf", "content-disposition": `attachment; filename="${file}"`, "content-length": String(bytes.length) },
    write: async (res) => {
      res.end(bytes);
    },
  };
}

export function receiptRoutes(): AnyRoute[] {
  return [
    typed({
      method: "GET",
      path: `${ORG}/purchases/:payment_id/receipt`,
      summary:
        "The numbered receipt of a succeeded payment (billing rights), with the seller's details from configuration: JSON, or PDF with `?format=pdf`. A pending or failed payment has no receipt (409 conflict).",
      tag: "Money in",
      auth: "billing",
      response: R.Receipt,
      query: DocumentQuery,
      handler: async (ctx): Promise<Reply> => {
        const r = await ctx.services.receipts.receipt(ctx.params.org_id, ctx.params.payment_id);
        if (!r.ok) throw new HttpError(r.error);
        if (wantsPdf(ctx.query.format, ctx.headers["accept"])) return pdfReply(receiptPdf(r.value), `receipt-${r.value.number}.pdf`);
        return ctx.ok(presentReceipt(r.value));
      },
    }),
  ];
}
