// Receipts and printable statements, the use case: load the payment (or the month), its receipt
// sequence number, the customer's name and the card, and build the document (core/receipts.ts).

import { domainError, type Result } from "../core/errors.js";
import { buildReceipt, type Receipt, type SellerDetails } from "../core/receipts.js";
import type { Statement } from "../core/statements.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import { Statements } from "./statements.js";

export class Receipts {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly seller: SellerDetails,
  ) {}

  /** The receipt of one of the organization's payments; a pending or failed payment has none (conflict). */
  async receipt(orgId: string, paymentId: string): Promise<Result<Receipt>> {
    const loaded = await this.store.read(async (tx) => {
      const payment = await tx.moneyIn.getPayment(paymentId);
      if (!payment || payment.orgId !== orgId) return undefined;
      const [org, method, sequence] = await Promise.all([tx.getOrg(orgId), tx.moneyIn.getPaymentMethod(payment.paymentMethodId), tx.moneyIn.receiptSequence(paymentId)]);
      return { payment, orgName: org?.name ?? orgId, method, sequence };
    });
    if (!loaded) return { ok: false, error: domainError("not_found", `No payment ${paymentId}.`) };
    const { payment, method, sequence } = loaded;
    const receipt =
      sequence === undefined
        ? undefined
        : buildReceipt({ payment, sequence, orgName: loaded.orgName, paymentMethod: method ? `${method.brand} ending ${method.last4}` : "a removed card", seller: this.seller });
    if (!receipt) {
      const why = payment.status === "failed" ? `it failed (${payment.failureCode ?? "failed"}): nothing was charged` : "it is still pending";
      return { ok: false, error: domainError("conflict", `Payment ${paymentId} has no receipt: ${why}.`, { status: payment.status }) };
    }
    return { ok: true, value: receipt };
  }

  /** The month's statement with the customer's name (for the PDF). */
  async statement(orgId: string, month: string): Promise<Result<{ statement: Statement; orgName: string }>> {
    const s = await new Statements(this.store, this.clock).get(orgId, month);
    if (!s.ok) return s;
    const org = await this.store.read((tx) => tx.getOrg(orgId));
    return { ok: true, value: { statement: s.value, orgName: org?.name ?? orgId } };
  }
}
