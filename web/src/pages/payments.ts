// Payments: every card payment of the organization (purchases, approved credit requests and
// auto-reloads) with its outcome — paid, declined with the bank's reason in words, or pending —
// and, for each paid one, its numbered receipt (here as HTML, and as a PDF download). Billing rights.
// Purchases are non-refundable (README), so there is no "refunded" status to show.

import { api } from "../api.js";
import type { Page } from "../context.js";
import { h, section, table } from "../dom.js";
import { usd, when } from "../format.js";
import type { List, Member, Payment, PaymentMethod, Receipt } from "../wire.js";

const PURPOSE: Record<Payment["purpose"], string> = { purchase: "Purchase", credit_request: "Approved credit request", auto_reload: "Auto-reload" };

/** The provider's failure codes in words (the code itself stays visible for support). */
const REASONS: Record<string, string> = {
  card_declined: "the card was declined by the bank",
  insufficient_funds: "the card has insufficient funds",
  authentication_required: "the bank asked for authentication (3-D Secure), which an automatic charge cannot answer",
  invalid_payment_method: "the card is not usable",
  expired_card: "the card has expired",
  no_such_charge: "the payment provider has no such charge",
};
export const reasonText = (code: string | null): string => (code ? `${REASONS[code] ?? code.replace(/_/g, " ")} (${code})` : "no reason given");

export function statusText(p: Payment): string {
  switch (p.status) {
    case "succeeded":
      return "Paid";
    case "failed":
      return `Declined: ${reasonText(p.failure_code)}`;
    case "pending":
      return "Pending: waiting for the bank's answer";
  }
}

export const paymentsPage: Page = async (ctx, view) => {
  const [payments, methods, members] = await Promise.all([
    api<List<Payment>>("GET", `${ctx.base}/purchases?limit=200`),
    api<List<PaymentMethod>>("GET", `${ctx.base}/payment_methods`),
    api<List<Member>>("GET", `${ctx.base}/members`),
  ]);
  const cardOf = new Map(methods.data.map((m) => [m.id, `${m.brand} •••• ${m.last4}`]));
  const emailOf = new Map(members.data.map((m) => [m.id, m.email]));
  const paid = payments.data.filter((p) => p.status === "succeeded");
  const totalPaid = paid.reduce((s, p) => s + BigInt(p.amount), 0n);
  const counts = { succeeded: paid.length, failed: payments.data.filter((p) => p.status === "failed").length, pending: payments.data.filter((p) => p.status === "pending").length };
  const rows = payments.data.map((p) => [
    when(p.created_at),
    h("span", {}, PURPOSE[p.purpose], p.created_by ? h("small", { class: "muted block" }, `by ${emailOf.get(p.created_by) ?? "a member"}`) : null),
    cardOf.get(p.payment_method_id) ?? "a removed card",
    h("span", { class: `status ${p.status}`, "data-testid": "payment-status" }, statusText(p)),
    h("span", { "data-testid": "payment-amount", "data-id": p.id }, usd(p.amount)),
    p.status === "succeeded" ? usd(p.credit_amount) : "—",
    p.status === "succeeded"
      ? h(
          "span",
          { class: "actions" },
          h("a", { href: `#/receipt/${encodeURIComponent(p.id)}`, "aria-label": `Receipt for the payment of ${usd(p.amount)} on ${when(p.created_at)}` }, "Receipt"),
          h("a", { href: `${ctx.base}/purchases/${encodeURIComponent(p.id)}/receipt?format=pdf`, download: "", "aria-label": `Receipt PDF for the payment of ${usd(p.amount)} on ${when(p.created_at)}` }, "PDF"),
        )
      : "—",
  ]);
  view.append(
    section(
      "Payments",
      h(
        "p",
        {},
        `${counts.succeeded} paid (total `,
        h("strong", { "data-testid": "payments-total" }, usd(String(totalPaid))),
        `), ${counts.failed} declined, ${counts.pending} pending. Declined payments charged nothing and granted nothing. Purchased usage credits are non-refundable.`,
      ),
      table(["When", "Payment", "Card", "Status", "Charged", "Credits granted", "Receipt"], rows, { empty: "No payments yet.", label: "Payment history" }),
    ),
  );
};

/** One receipt as a printable page, with the PDF beside it. */
export const receiptPage: Page = async (ctx, view) => {
  const r = await api<Receipt>("GET", `${ctx.base}/purchases/${encodeURIComponent(ctx.param)}/receipt`);
  const discount = BigInt(r.discount);
  const print = h("button", { type: "button", class: "secondary" }, "Print");
  print.addEventListener("click", () => window.print());
  view.append(
    h(
      "article",
      { class: "card receipt", "aria-label": `Receipt ${r.number}` },
      h("h2", { "data-testid": "receipt-number" }, `Receipt ${r.number}`),
      h(
        "div",
        { class: "grid two" },
        h("address", {}, h("strong", {}, r.seller.name), ...r.seller.address.map((l) => h("span", { class: "block" }, l)), r.seller.email ? h("span", { class: "block" }, r.seller.email) : null, r.seller.tax_id ? h("span", { class: "block" }, `Tax ID: ${r.seller.tax_id}`) : null),
        h("div", {}, h("strong", {}, "Billed to"), h("span", { class: "block" }, r.customer.name), h("span", { class: "block muted" }, `Organization ${r.customer.org_id}`)),
      ),
      h("dl", { class: "facts" }, h("dt", {}, "Date paid"), h("dd", {}, when(r.issued_at)), h("dt", {}, "Paid with"), h("dd", {}, r.payment_method), h("dt", {}, "Payment"), h("dd", { class: "mono" }, r.payment_id)),
      table(
        ["Item", "Amount"],
        [[r.description, usd(r.credit_amount)], ...(discount !== 0n ? [["Bundle discount", usd(String(-discount))]] : [])],
        { foot: ["Total paid (USD)", h("strong", { "data-testid": "receipt-total" }, usd(r.amount))], label: "Receipt lines" },
      ),
      h("p", { class: "muted" }, `Usage credits granted: ${usd(r.credit_amount)}. Prepaid and non-refundable.`),
      h(
        "p",
        { class: "actions no-print" },
        h("a", { href: `${ctx.base}/purchases/${encodeURIComponent(r.payment_id)}/receipt?format=pdf`, download: `receipt-${r.number}.pdf`, class: "button", "data-testid": "receipt-pdf" }, "Download PDF"),
        print,
        h("a", { href: "#/payments" }, "All payments"),
      ),
    ),
  );
};
