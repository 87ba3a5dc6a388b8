// The seller's details printed on receipts and statements (config.ts reads them once).
import type { SellerDetails } from "../core/receipts.js";

export const SELLER_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_SELLER_NAME", "Usage credits", "the seller's legal name on receipts and statement PDFs"],
  ["USAGE_CREDITS_SELLER_ADDRESS", "", "the seller's postal address; separate lines with |"],
  ["USAGE_CREDITS_SELLER_EMAIL", "", "the billing contact printed on receipts"],
  ["USAGE_CREDITS_SELLER_TAX_ID", "", "the seller's VAT / tax registration number (omitted when empty)"],
  ["USAGE_CREDITS_RECEIPT_PREFIX", "R-", "receipt numbers: this prefix + a gapless 6-digit sequence (R-000001)"],
];

export function loadSellerConfig(env: NodeJS.ProcessEnv): SellerDetails {
  const text = (name: string, fallback: string, max: number): string => {
    const v = (env[name] ?? fallback).trim();
    if (v.length > max) throw new Error(`${name} must be at most ${max} characters`);
    return v;
  };
  const prefix = text("USAGE_CREDITS_RECEIPT_PREFIX", "R-", 20);
  if (!/^[A-Za-z0-9_./-]*$/.test(prefix)) throw new Error(`USAGE_CREDITS_RECEIPT_PREFIX: letters, digits and _ . / - only, got ${JSON.stringify(prefix)}`);
  return {
    name: text("USAGE_CREDITS_SELLER_NAME", "Usage credits", 200) || "Usage credits",
    address: text("USAGE_CREDITS_SELLER_ADDRESS", "", 500)
      .split("|")
      .map((l) => l.trim())
      .filter((l) => l !== ""),
    email: text("USAGE_CREDITS_SELLER_EMAIL", "", 254),
    taxId: text("USAGE_CREDITS_SELLER_TAX_ID", "", 64),
    receiptPrefix: prefix,
  };
}
