// The store's statement reads (reached as `tx.statements`): customer-side ledger balances at an
// instant, one month of an organization's ledger with every entry, its usage summed from the
// rollups, and which payment created a grant (to tell purchases from auto-reloads).

import type { LedgerTransaction } from "../core/model.js";
import type { CustomerBalances, StatementUsage } from "../core/statements.js";

export interface StatementsTx {
  /** Customer-side balances (grant:*, hold:*, debt:*) of the org's entries in transactions before each instant. */
  customerBalances(orgId: string, before: readonly [number, number]): Promise<[CustomerBalances, CustomerBalances]>;
  /** The org's transactions with from ≤ at < to, oldest first, with all their entries. */
  ledgerBetween(orgId: string, from: number, to: number): Promise<LedgerTransaction[]>;
  /** The org's usage with from ≤ at < to summed by member, model, surface and payer (from the rollups). */
  usageBetween(orgId: string, from: number, to: number): Promise<StatementUsage[]>;
  /** grant id → purpose of the payment that created it, for the grants that came from a payment. */
  paymentPurposes(orgId: string, grantIds: readonly string[]): Promise<Map<string, string>>;
}
