// Receipts and printable statements. A receipt is issued for every succeeded payment (a purchase,
// an approved credit request or an auto-reload) and numbered in one gapless sequence per seller:
// the payment's rank among all succeeded payments by (resolved_at, created_at, id) — a payment
// succeeds once, at its resolution time, and later ones resolve later, so a number never changes
// once issued (two payments resolved in the same millisecond are ordered by creation, then id). The seller's details come
// from configuration (config/seller.ts). Pure: amounts are integer micro-dollars formatted by
// formatUsd; the PDFs are drawn by pdf.ts.

import { formatUsd, type Micros } from "./money.js";
import type { Payment, PaymentPurpose } from "./money-in-model.js";
import { PdfLayout } from "./pdf.js";
import type { Statement } from "./statements.js";

export interface SellerDetails {
  readonly name: string;
  /** Postal address, one entry per line. */
  readonly address: readonly string[];
  readonly email: string;
  /** VAT / tax registration number; "" when none. */
  readonly taxId: string;
  /** Receipt numbers are this prefix + the sequence, zero-padded to 6 digits ("R-000042"). */
  readonly receiptPrefix: string;
}

export interface Receipt {
  readonly number: string;
  readonly sequence: number;
  readonly paymentId: string;
  readonly issuedAt: number;
  readonly purpose: PaymentPurpose;
  readonly description: string;
  /** Charged to the card. */
  readonly amount: Micros;
  /** Usage credits granted (a bundle's face value may exceed the charge). */
  readonly creditAmount: Micros;
  /** creditAmount − amount: the bundle discount, 0 for a custom amount. */
  readonly discount: Micros;
  readonly paymentMethod: string;
  readonly providerRef: string | null;
  readonly grantId: string | null;
  readonly customer: { readonly orgId: string; readonly name: string };
  readonly seller: SellerDetails;
}

const PURPOSE: Readonly<Record<PaymentPurpose, string>> = {
  purchase: "Usage credits purchase",
  credit_request: "Usage credits (approved credit request)",
  auto_reload: "Usage credits auto-reload",
};

export const receiptNumber = (prefix: string, sequence: number): string => `${prefix}${String(sequence).padStart(6, "0")}`;

/** The receipt of a succeeded payment; undefined for a pending or failed one (nothing was paid). */
export function buildReceipt(input: {
  readonly payment: Payment;
  readonly sequence: number;
  readonly orgName: string;
  readonly paymentMethod: string;
  readonly seller: SellerDetails;
}): Receipt | undefined {
  const p = input.payment;
  if (p.status !== "succeeded" || p.resolvedAt === null) return undefined;
  return {
    number: receiptNumber(input.seller.receiptPrefix, input.sequence),
    sequence: input.sequence,
    paymentId: p.id,
    issuedAt: p.resolvedAt,
    purpose: p.purpose,
    description: p.bundleId !== null ? `${PURPOSE[p.purpose]}: bundle ${p.bundleId}` : PURPOSE[p.purpose],
    amount: p.amount,
    creditAmount: p.creditAmount,
    discount: p.creditAmount - p.amount,
    paymentMethod: input.paymentMethod,
    providerRef: p.providerRef,
    grantId: p.grantId,
    customer: { orgId: p.orgId, name: input.orgName },
    seller: input.seller,
  };
}

const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
const stamp = (t: number): string => `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;

function sellerBlock(doc: PdfLayout, s: SellerDetails): void {
  doc.text(s.name, { bold: true });
  for (const line of s.address) doc.text(line);
  if (s.email) doc.text(s.email);
  if (s.taxId) doc.text(`Tax ID: ${s.taxId}`);
}

/** The receipt as a one-page PDF. */
export function receiptPdf(r: Receipt): string {
  const doc = new PdfLayout();
  doc.heading(`Receipt ${r.number}`);
  doc.gap(4);
  sellerBlock(doc, r.seller);
  doc.gap();
  doc.text("Billed to", { bold: true }).text(r.customer.name).text(`Organization ${r.customer.orgId}`);
  doc.gap();
  doc.row("Receipt number", r.number).row("Date paid", stamp(r.issuedAt)).row("Payment", r.paymentId).row("Paid with", r.paymentMethod);
  if (r.providerRef) doc.row("Provider reference", r.providerRef);
  doc.gap();
  doc.row(r.description, formatUsd(r.creditAmount));
  if (r.discount !== 0) doc.row("Bundle discount", formatUsd(-r.discount));
  doc.row("Total paid (USD)", formatUsd(r.amount), { bold: true, size: 12 });
  doc.gap();
  doc.text(`Usage credits granted: ${formatUsd(r.creditAmount)}.`);
  doc.text("Usage credits are prepaid, non-refundable, and expire as the terms of purchase say.", { size: 8 });
  return doc.render(`Receipt ${r.number}`);
}

const LINE_LABEL: Readonly<Record<string, string>> = {
  purchases: "Purchases",
  reloads: "Auto-reloads",
  grants: "Grants (promotional, monthly SDK credits, adjustments)",
  usage: "Usage paid with usage credits",
  expiries: "Expired credits",
  voids: "Voided credits",
  other: "Other",
};

/** The month's statement as a PDF: the same figures as its JSON and CSV. */
export function statementPdf(s: Statement, orgName: string, seller: SellerDetails): string {
  const doc = new PdfLayout();
  doc.heading(`Statement ${s.month}`);
  doc.gap(4);
  sellerBlock(doc, seller);
  doc.gap();
  doc.text("Statement for", { bold: true }).text(orgName).text(`Organization ${s.orgId}`);
  doc.text(`Period ${day(s.periodStart)} to ${day(s.periodEnd - 1)} (UTC)${s.complete ? "" : `, to ${stamp(s.asOf)}: the month is not over yet`}`);
  doc.gap();
  doc.row("Opening balance", formatUsd(s.openingBalance), { bold: true });
  for (const l of s.lines) doc.row(`${LINE_LABEL[l.category] ?? l.category} (${l.count} transactions)`, formatUsd(l.amount), { indent: 12 });
  doc.row("Closing balance", formatUsd(s.closingBalance), { bold: true, size: 12 });
  doc.gap();
  if (s.usage.byModel.length > 0) {
    doc.text("Usage by model", { bold: true });
    for (const m of s.usage.byModel) doc.row(`${m.key} (${m.requests} requests)`, formatUsd(m.amount), { indent: 12 });
    doc.row("Usage total", formatUsd(s.usage.total), { indent: 12 });
    doc.gap();
  }
  doc.text("The balance includes every grant: purchased usage credits, promotional grants and members' monthly SDK credits.", { size: 8 });
  doc.text(s.reconciled ? `Reconciled with the ledger: ledger balance ${formatUsd(s.ledgerBalance)}.` : "NOT reconciled with the ledger.", { size: 8 });
  return doc.render(`Statement ${s.month}`);
}
