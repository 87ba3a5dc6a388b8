// A monthly statement → the API's JSON (the CSV and PDF forms are made in core).

import type { Statement } from "../core/statements.js";
import { isoAt, money, MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";

export const presentStatement = (s: Statement): R.Statement => ({
  type: "statement",
  org_id: s.orgId,
  month: s.month,
  period_start: isoAt(s.periodStart),
  period_end: isoAt(s.periodEnd),
  as_of: isoAt(s.asOf),
  complete: s.complete,
  opening_balance: money(s.openingBalance),
  opening: { grants: money(s.opening.grants), held: money(s.opening.held), debt: money(s.opening.debt) },
  lines: s.lines.map((l) => ({ category: l.category, amount: money(l.amount), transactions: l.count })),
  grants_by_kind: Object.fromEntries(Object.entries(s.grantsByKind).map(([k, v]) => [k, money(v)])),
  usage: {
    total: money(s.usage.total),
    rows: s.usage.rows.map((r) => ({
      member_id: r.memberId,
      model: r.model,
      surface: r.surface,
      requests: r.requests,
      amount: money(r.amount),
      usage_credits: money(r.usageCredits),
      included_credits: money(r.includedCredits),
    })),
    by_model: s.usage.byModel.map((t) => ({ model: t.key, requests: t.requests, amount: money(t.amount) })),
    by_surface: s.usage.bySurface.map((t) => ({ surface: t.key, requests: t.requests, amount: money(t.amount) })),
    by_member: s.usage.byMember.map((t) => ({ member_id: t.key, requests: t.requests, amount: money(t.amount) })),
    plan_value: money(s.usage.planValue),
  },
  debt_repaid: money(s.debtRepaid),
  closing_balance: money(s.closingBalance),
  closing: { grants: money(s.closing.grants), held: money(s.closing.held), debt: money(s.closing.debt) },
  ledger_balance: money(s.ledgerBalance),
  reconciled: s.reconciled,
  ...MONEY_FORMAT,
});
