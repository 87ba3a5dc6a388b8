// A receipt → the API's JSON (the PDF form is made in core).

import type { Receipt } from "../core/receipts.js";
import { MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";

export const presentReceipt = (r: Receipt): R.Receipt => ({
  type: "receipt",
  number: r.number,
  sequence: r.sequence,
  payment_id: r.paymentId,
  issued_at: new Date(r.issuedAt).toISOString(),
  purpose: r.purpose,
  description: r.description,
  amount: String(r.amount),
  credit_amount: String(r.creditAmount),
  discount: String(r.discount),
  payment_method: r.paymentMethod,
  provider_ref: r.providerRef,
  grant_id: r.grantId,
  customer: { org_id: r.customer.orgId, name: r.customer.name },
  seller: { name: r.seller.name, address: [...r.seller.address], email: r.seller.email, tax_id: r.seller.taxId },
  ...MONEY_FORMAT,
});
