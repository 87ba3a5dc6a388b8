// The ledger's invariants, checked over aggregates a store computes in SQL:
//   1. every transaction balances (its entries sum to zero) and has entries;
//   2. every cached balance equals the ledger: grant.remaining, pending holds, org debt;
//   3. amounts stay in range: 0 ≤ remaining ≤ amount, debt ≥ 0; voided/expired grants are empty;
//   4. a resolved hold holds nothing; a plan hold never touches money;
//   5. no ledger account of a grant, hold or debt without its row;
//   6. usage-credit spend held against limits equals the pending holds that reserved it.

export interface LedgerAggregates {
  readonly transactionCount: number;
  readonly unbalancedTransactions: Array<{ id: string; sum: number }>;
  readonly emptyTransactions: string[];
  readonly grants: Array<{ id: string; status: string; amount: number; remaining: number; ledger: number; expiresAt: number | null }>;
  readonly holds: Array<{ id: string; status: string; payer: string; amount: number; ledger: number; draws: number }>;
  readonly debts: Array<{ orgId: string; debt: number; ledger: number }>;
  readonly orphanAccounts: string[];
  readonly spendHeld: Array<{ orgId: string; held: number; pendingLimited: number }>;
}

export interface Violation {
  readonly invariant: string;
  readonly subject: string;
  readonly detail: string;
}

export function verifyLedger(a: LedgerAggregates): Violation[] {
  const v: Violation[] = [];
  const add = (invariant: string, subject: string, detail: string) => v.push({ invariant, subject, detail });
  for (const t of a.unbalancedTransactions) add("balanced", t.id, `entries sum to ${t.sum}, not 0`);
  for (const id of a.emptyTransactions) add("non_empty", id, "transaction has no entries");
  for (const g of a.grants) {
    if (g.remaining !== g.ledger) add("grant_balance", g.id, `cached remaining ${g.remaining} ≠ ledger ${g.ledger}`);
    if (g.remaining < 0 || g.remaining > g.amount) add("grant_range", g.id, `remaining ${g.remaining} outside 0..${g.amount}`);
    if (g.status !== "active" && g.remaining !== 0) add("grant_closed_empty", g.id, `${g.status} grant still holds ${g.remaining}`);
  }
  for (const h of a.holds) {
    const expected = h.status === "pending" && h.payer === "credits" ? h.amount : 0;
    if (h.ledger !== expected) add("hold_balance", h.id, `${h.status} ${h.payer} hold: ledger ${h.ledger} ≠ expected ${expected}`);
    if (h.payer === "credits" && h.draws !== h.amount) add("hold_draws", h.id, `draws sum ${h.draws} ≠ amount ${h.amount}`);
    if (h.payer === "plan" && h.draws !== 0) add("hold_draws", h.id, `plan hold drew ${h.draws} from grants`);
  }
  for (const d of a.debts) {
    if (d.debt < 0) add("debt_range", d.orgId, `debt ${d.debt} is negative`);
    if (-d.debt !== d.ledger) add("debt_balance", d.orgId, `cached debt ${d.debt} ≠ ledger ${-d.ledger}`);
  }
  for (const acct of a.orphanAccounts) add("orphan_account", acct, "ledger account with no row behind it");
  for (const s of a.spendHeld) {
    if (s.held !== s.pendingLimited) add("spend_held", s.orgId, `held against limits ${s.held} ≠ pending holds ${s.pendingLimited}`);
  }
  return v;
}
