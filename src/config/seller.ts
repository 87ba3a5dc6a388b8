// The seller's details printed on receipts and statements, declared once in the environment schema (env.ts).
import type { SellerDetails } from "../core/receipts.js";
import { envVar, invalid, parser, readEnv } from "./env.js";

/** Trimmed text of at most `max` characters. */
const trimmed = (max: number, allowed?: RegExp) =>
  parser((raw) => {
    const v = (raw ?? "").trim();
    if (v.length > max) return invalid(`must be at most ${max} characters`);
    if (allowed && !allowed.test(v)) return invalid(`: letters, digits and _ . / - only, got ${JSON.stringify(v)}`);
    return v;
  });

export const SELLER_ENV = {
  name: envVar("USAGE_CREDITS_SELLER_NAME", "Usage credits", "the seller's legal name on receipts and statement PDFs", trimmed(200), { keepEmpty: true }),
  address: envVar("USAGE_CREDITS_SELLER_ADDRESS", "", "the seller's postal address; separate lines with |", trimmed(500)),
  email: envVar("USAGE_CREDITS_SELLER_EMAIL", "", "the billing contact printed on receipts", trimmed(254)),
  taxId: envVar("USAGE_CREDITS_SELLER_TAX_ID", "", "the seller's VAT / tax registration number (omitted when empty)", trimmed(64)),
  receiptPrefix: envVar("USAGE_CREDITS_RECEIPT_PREFIX", "R-", "receipt numbers: this prefix + a gapless 6-digit sequence (R-000001)", trimmed(20, /^[A-Za-z0-9_./-]*$/), { keepEmpty: true }),
};

export function loadSellerConfig(env: NodeJS.ProcessEnv): SellerDetails {
  const v = readEnv(SELLER_ENV, env);
  return {
    name: v.name || "Usage credits",
    address: v.address
      .split("|")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
    email: v.email,
    taxId: v.taxId,
    receiptPrefix: v.receiptPrefix,
  };
}
