// Monthly statements, the use case: load one month of an organization's ledger, its opening and
// closing customer-side balances and its usage, build the statement (core/statements.ts),
// and refuse to hand out one that does not reconcile. The usage comes summed from the rollups
// (usage_daily), not record by record.
//
// Purchases and auto-reloads are both grants of kind "purchase"; they are told apart by the payment
// behind the grant (payments.grant_id → purpose), which is data written in the grant's own
// transaction, not by parsing descriptions. A purchase grant with no payment (made by an operator)
// counts as a purchase.
//
// Consistency: the balances come from one SQL statement; the month's transactions and usage records
// from two more. On an engine whose reads are not one snapshot (PostgreSQL outside a transaction), a
// batch may commit in between; the statement then does not reconcile and is simply read again. One
// that still does not reconcile is a bug, and is thrown, never returned.

import { domainError, type Result } from "../core/errors.js";
import { cycleOf, parseMonth } from "../core/sdk-credits.js";
import { buildStatement, type Statement } from "../core/statements.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";

const ATTEMPTS = 3;

export class Statements {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The statement of `month` ("2026-03"); a month still running covers up to now. */
  async get(orgId: string, month: string): Promise<Result<Statement>> {
    const cycle = parseMonth(month);
    if (!cycle) return { ok: false, error: domainError("invalid_request", `month: expected YYYY-MM (2000-01 or later), got ${JSON.stringify(month)}.`, { field: "month" }) };
    for (let attempt = 1; ; attempt++) {
      const now = this.clock.now();
      if (cycle.start > now) {
        return { ok: false, error: domainError("invalid_request", `The month ${cycle.label} has not started yet (the current month is ${cycleOf(now).label}).`, { field: "month" }) };
      }
      const built = await this.store.read(async (tx) => {
        const org = await tx.getOrg(orgId);
        if (!org) return undefined;
        const [opening, closing] = await tx.statements.customerBalances(orgId, [cycle.start, cycle.end]);
        const transactions = await tx.statements.ledgerBetween(orgId, cycle.start, cycle.end);
        const usage = await tx.statements.usageBetween(orgId, cycle.start, cycle.end);
        const grantRefs = [...new Set(transactions.filter((t) => t.kind === "grant").map((t) => t.ref))];
        const paymentPurposeByGrant = await tx.statements.paymentPurposes(orgId, grantRefs);
        return buildStatement({ orgId, cycle, asOf: now, opening, closing, transactions, usage, paymentPurposeByGrant });
      });
      if (!built) return { ok: false, error: domainError("not_found", `No organization ${orgId}.`) };
      if (built.reconciled) return { ok: true, value: built };
      if (attempt >= ATTEMPTS) {
        throw new Error(
          `statement ${orgId} ${cycle.label} does not reconcile: closing ${built.closingBalance} vs ledger ${built.ledgerBalance}, usage ${built.usage.total}`,
        );
      }
    }
  }
}
