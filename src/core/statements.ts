// Monthly statements: one organization, one calendar month (UTC), built from the ledger alone, so
// that a statement reconciles with `ledger verify` by construction. Pure: the app layer loads the
// rows, this module classifies and sums them, and says whether the result reconciles.
//
// The customer's balance is the sum of its customer-side accounts — `grant:*` (spendable),
// `hold:*` (reserved by pending holds) and `debt:*` (negative). Every ledger transaction sums to
// zero, so what a transaction changes on the customer side is exactly the negation of its entries
// on the other side; each of those entries is one statement line, classified by its account:
//
//   funding:<kind>, negative  money in: purchases, reloads (the grant's payment is an auto-reload),
//                              or grants (promotional, monthly SDK credits, migrated, adjustment)
//   funding:<kind>, positive  voids (a voided grant's remainder goes back to its source)
//   revenue:usage             usage (broken down by model, surface and member from usage records)
//   revenue:breakage          expiries
//   anything else             other (never produced today; kept so a statement always adds up)
//
// Holds and debt repayments move money between customer-side accounts only: they change no line.
// Hence closing = opening + Σ lines, and it must equal the customer-side ledger balance at the
// month's end (`reconciled`), and the usage breakdown must add up to the usage line.

import { microsToDecimal, type Micros } from "./money.js";
import type { LedgerTransaction, UsageRecord } from "./model.js";
import type { Cycle } from "./sdk-credits.js";

export const LINE_CATEGORIES = ["purchases", "reloads", "grants", "usage", "expiries", "voids", "other"] as const;
export type LineCategory = (typeof LINE_CATEGORIES)[number];

/** Customer-side balances at an instant, by account family. */
export interface CustomerBalances {
  /** Σ grant:* — spendable and not yet swept. */
  readonly grants: Micros;
  /** Σ hold:* — reserved by pending holds. */
  readonly held: Micros;
  /** Σ debt:* — zero or negative. */
  readonly debt: Micros;
}

export const totalOf = (b: CustomerBalances): Micros => b.grants + b.held + b.debt;

export function isCustomerAccount(account: string): boolean {
  return account.startsWith("grant:") || account.startsWith("hold:") || account.startsWith("debt:");
}

export interface StatementLine {
  readonly category: LineCategory;
  /** Signed change of the customer's balance: money in is positive, usage and expiries negative. */
  readonly amount: Micros;
  /** Ledger transactions that contributed. */
  readonly count: number;
}

export interface UsageRow {
  readonly memberId: string;
  readonly model: string;
  readonly surface: string;
  readonly requests: number;
  /** Paid from the balance (positive): usage credits plus included (monthly SDK) credits. */
  readonly amount: Micros;
  readonly usageCredits: Micros;
  readonly includedCredits: Micros;
}

export interface UsageTotal {
  readonly key: string;
  readonly requests: number;
  readonly amount: Micros;
}

export interface Statement {
  readonly orgId: string;
  readonly month: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  /** When it was built; a month still running (`complete: false`) covers up to here. */
  readonly asOf: number;
  readonly complete: boolean;
  readonly opening: CustomerBalances;
  readonly openingBalance: Micros;
  readonly lines: readonly StatementLine[];
  /** Money-in grants (the `grants` line) by grant kind. */
  readonly grantsByKind: Readonly<Record<string, Micros>>;
  readonly usage: {
    readonly total: Micros;
    readonly rows: readonly UsageRow[];
    readonly byModel: readonly UsageTotal[];
    readonly bySurface: readonly UsageTotal[];
    readonly byMember: readonly UsageTotal[];
    /** Informational, not money: the API-price value of usage the plan windows paid for. */
    readonly planValue: Micros;
  };
  /** Informational: debt repaid by new grants this month (a move between customer accounts). */
  readonly debtRepaid: Micros;
  readonly closing: CustomerBalances;
  /** opening + Σ lines. */
  readonly closingBalance: Micros;
  /** The customer-side ledger balance at the end of the period, read independently. */
  readonly ledgerBalance: Micros;
  /** closingBalance = ledgerBalance, and the usage breakdown adds up to the usage line. */
  readonly reconciled: boolean;
}

/** A usage record, or the sum of `requests` records alike in member, model, surface and payer. */
export type StatementUsage = Pick<UsageRecord, "memberId" | "model" | "surface" | "payer" | "cost" | "creditCost"> & { readonly requests?: number };

export interface StatementInput {
  readonly orgId: string;
  readonly cycle: Cycle;
  readonly asOf: number;
  readonly opening: CustomerBalances;
  /** Customer-side balances at the period's end, from the ledger. */
  readonly closing: CustomerBalances;
  /** Every transaction of the org with periodStart ≤ at < periodEnd, with all its entries. */
  readonly transactions: readonly LedgerTransaction[];
  /** Usage of the org in the period: its records, or their sums (`requests` records each; the store's rollups). */
  readonly usage: readonly StatementUsage[];
  /** Grant id → purpose of the payment that created it ("purchase", "credit_request", "auto_reload"). */
  readonly paymentPurposeByGrant: ReadonlyMap<string, string>;
}

export function buildStatement(input: StatementInput): Statement {
  const sums = new Map<LineCategory, { amount: Micros; txs: Set<string> }>(LINE_CATEGORIES.map((c) => [c, { amount: 0, txs: new Set<string>() }]));
  const add = (category: LineCategory, txId: string, amount: Micros): void => {
    const line = sums.get(category);
    if (!line) return;
    line.amount += amount;
    line.txs.add(txId);
  };
  const grantsByKind: Record<string, Micros> = {};
  let debtRepaid = 0;

  for (const tx of input.transactions) {
    for (const e of tx.entries) {
      if (isCustomerAccount(e.account)) {
        if (tx.kind === "debt_repayment" && e.account.startsWith("debt:")) debtRepaid += e.amount;
        continue;
      }
      const effect = -e.amount; // the customer side moves by the opposite of the other side
      if (e.account.startsWith("funding:")) {
        const kind = e.account.slice("funding:".length);
        if (e.amount > 0) {
          add("voids", tx.id, effect);
        } else if (kind === "purchase") {
          add(input.paymentPurposeByGrant.get(tx.ref) === "auto_reload" ? "reloads" : "purchases", tx.id, effect);
        } else {
          add("grants", tx.id, effect);
          grantsByKind[kind] = (grantsByKind[kind] ?? 0) + effect;
        }
      } else if (e.account === "revenue:usage") {
        add("usage", tx.id, effect);
      } else if (e.account === "revenue:breakage") {
        add("expiries", tx.id, effect);
      } else {
        add("other", tx.id, effect);
      }
    }
  }
  const lines: StatementLine[] = LINE_CATEGORIES.map((category) => {
    const s = sums.get(category);
    return { category, amount: s?.amount ?? 0, count: s?.txs.size ?? 0 };
  });

  const usage = usageBreakdown(input.usage);
  const openingBalance = totalOf(input.opening);
  const closingBalance = openingBalance + lines.reduce((t, l) => t + l.amount, 0);
  const ledgerBalance = totalOf(input.closing);
  const usageLine = lines.find((l) => l.category === "usage")?.amount ?? 0;
  return {
    orgId: input.orgId,
    month: input.cycle.label,
    periodStart: input.cycle.start,
    periodEnd: input.cycle.end,
    asOf: input.asOf,
    complete: input.asOf >= input.cycle.end,
    opening: input.opening,
    openingBalance,
    lines,
    grantsByKind,
    usage,
    debtRepaid,
    closing: input.closing,
    closingBalance,
    ledgerBalance,
    reconciled: closingBalance === ledgerBalance && usage.total === -usageLine,
  };
}

function usageBreakdown(records: readonly StatementUsage[]): Statement["usage"] {
  const rows = new Map<string, { memberId: string; model: string; surface: string; requests: number; amount: Micros; usageCredits: Micros; includedCredits: Micros }>();
  let planValue = 0;
  for (const r of records) {
    // Plan-paid requests move no money (their cost is plan allowance): reported as a value only.
    if (r.payer === "plan") {
      planValue += r.cost;
      continue;
    }
    const key = `${r.memberId}\n${r.model}\n${r.surface}`;
    const row = rows.get(key) ?? { memberId: r.memberId, model: r.model, surface: r.surface, requests: 0, amount: 0, usageCredits: 0, includedCredits: 0 };
    row.requests += r.requests ?? 1;
    row.amount += r.cost;
    row.usageCredits += r.creditCost;
    row.includedCredits += r.cost - r.creditCost;
    rows.set(key, row);
  }
  const sorted = [...rows.values()].sort((a, b) => cmp(a.memberId, b.memberId) || cmp(a.model, b.model) || cmp(a.surface, b.surface));
  const group = (pick: (r: UsageRow) => string): UsageTotal[] => {
    const out = new Map<string, { key: string; requests: number; amount: Micros }>();
    for (const r of sorted) {
      const k = pick(r);
      const t = out.get(k) ?? { key: k, requests: 0, amount: 0 };
      t.requests += r.requests;
      t.amount += r.amount;
      out.set(k, t);
    }
    return [...out.values()].sort((a, b) => cmp(a.key, b.key));
  };
  return {
    total: sorted.reduce((t, r) => t + r.amount, 0),
    rows: sorted,
    byModel: group((r) => r.model),
    bySurface: group((r) => r.surface),
    byMember: group((r) => r.memberId),
    planValue,
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ------------------------------------------------------------------ CSV

export const CSV_COLUMNS = ["section", "category", "detail", "member_id", "model", "surface", "count", "amount_micros", "amount_usd"] as const;

/**
 * The statement as CSV (RFC 4180, CRLF). Sections: `opening` and `closing` (the balances), `line`
 * (one per category; these rows alone sum to closing − opening), `grant_kind` (the grants line
 * by kind), `usage` (one row per member × model × surface; they sum to minus the usage line),
 * `ledger` (the independent ledger balance and the reconciliation flag).
 */
export function statementCsv(s: Statement): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  const money = (m: Micros): [string, string] => [String(m), microsToDecimal(m)];
  const row = (section: string, category: string, detail: string, member: string, model: string, surface: string, count: string, amount: Micros) =>
    rows.push([section, category, detail, member, model, surface, count, ...money(amount)]);
  row("opening", "opening_balance", s.month, "", "", "", "", s.openingBalance);
  row("opening", "grants", "", "", "", "", "", s.opening.grants);
  row("opening", "held", "", "", "", "", "", s.opening.held);
  row("opening", "debt", "", "", "", "", "", s.opening.debt);
  for (const l of s.lines) row("line", l.category, "", "", "", "", String(l.count), l.amount);
  for (const [kind, amount] of Object.entries(s.grantsByKind).sort(([a], [b]) => cmp(a, b))) row("grant_kind", "grants", kind, "", "", "", "", amount);
  for (const u of s.usage.rows) row("usage", "usage", "", u.memberId, u.model, u.surface, String(u.requests), -u.amount);
  row("closing", "closing_balance", s.month, "", "", "", "", s.closingBalance);
  row("closing", "grants", "", "", "", "", "", s.closing.grants);
  row("closing", "held", "", "", "", "", "", s.closing.held);
  row("closing", "debt", "", "", "", "", "", s.closing.debt);
  rows.push(["ledger", "ledger_balance", s.reconciled ? "reconciled" : "NOT RECONCILED", "", "", "", "", ...money(s.ledgerBalance)]);
  return rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function csvField(v: string): string {
  // Quote when needed; a leading =, +, - or @ is defused for spreadsheets unless it is a number.
  const risky = /^[=+@]/.test(v) || (/^-/.test(v) && !/^-\d+(\.\d+)?$/.test(v));
  const text = risky ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
