// Pure statement building: every ledger shape lands on one line, the lines add up to closing −
// opening, and a statement whose ledger balance disagrees is not reconciled.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { LedgerTransaction, UsageRecord } from "./model.js";
import { monthCycle } from "./sdk-credits.js";
import { buildStatement, statementCsv, type CustomerBalances } from "./statements.js";

const cycle = monthCycle(2026, 4);
const at = cycle.start + 1000;
const tx = (id: string, kind: LedgerTransaction["kind"], ref: string, entries: Array<[string, number]>): LedgerTransaction => ({
  id,
  orgId: "org_x",
  kind,
  ref,
  at,
  entries: entries.map(([account, amount]) => ({ account, amount })),
});
const usage = (memberId: string, model: string, surface: UsageRecord["surface"], payer: UsageRecord["payer"], cost: number, creditCost: number): UsageRecord => ({
  id: `use_${Math.random()}`,
  orgId: "org_x",
  memberId,
  workspaceId: null,
  holdId: "hold_x",
  surface,
  model,
  speed: "standard",
  payer,
  cost,
  inputTokens: 0,
  outputTokens: 0,
  creditCost,
  at,
});

const TXS: LedgerTransaction[] = [
  tx("t1", "grant", "g_buy", [["funding:purchase", -100], ["grant:g_buy", 100]]),
  tx("t2", "grant", "g_reload", [["funding:purchase", -50], ["grant:g_reload", 50]]),
  tx("t3", "grant", "g_promo", [["funding:promotional", -30], ["grant:g_promo", 30]]),
  tx("t4", "grant", "g_sdk", [["funding:monthly", -20], ["grant:g_sdk", 20]]),
  tx("t5", "hold", "h1", [["grant:g_buy", -40], ["hold:h1", 40]]),
  tx("t6", "settle", "h1", [["grant:g_buy", 10], ["hold:h1", -40], ["revenue:usage", 30]]),
  tx("t7", "void", "g_promo", [["grant:g_promo", -30], ["funding:promotional", 30]]),
  tx("t8", "expire", "g_sdk", [["grant:g_sdk", -20], ["revenue:breakage", 20]]),
  // Usage beyond every balance becomes debt; the next grant repays it first.
  tx("t9", "settle", "h2", [["hold:h2", -5], ["revenue:usage", 5 + 7], ["debt:org_x", -7]]),
  tx("t10", "debt_repayment", "g_reload", [["grant:g_reload", -7], ["debt:org_x", 7]]),
];

const opening: CustomerBalances = { grants: 0, held: 5, debt: 0 };

test("every transaction lands on one line; lines sum to closing − opening; usage adds up", () => {
  const closing: CustomerBalances = { grants: 100 - 40 + 10 + 50 - 7, held: 0, debt: 0 };
  const s = buildStatement({
    orgId: "org_x",
    cycle,
    asOf: cycle.end + 1,
    opening,
    closing,
    transactions: TXS,
    usage: [usage("m1", "sonnet", "sdk", "credits", 30, 0), usage("m2", "opus", "interactive", "credits", 12, 12), usage("m2", "opus", "interactive", "plan", 99, 0)],
    paymentPurposeByGrant: new Map([["g_buy", "purchase"], ["g_reload", "auto_reload"]]),
  });
  const lines = Object.fromEntries(s.lines.map((l) => [l.category, l.amount]));
  assert.deepEqual(lines, { purchases: 100, reloads: 50, grants: 50, usage: -42, expiries: -20, voids: -30, other: 0 });
  assert.deepEqual(s.grantsByKind, { promotional: 30, monthly: 20 });
  assert.equal(s.closingBalance - s.openingBalance, Object.values(lines).reduce((a, b) => a + b, 0));
  assert.equal(s.closingBalance, 113);
  assert.equal(s.reconciled, true);
  assert.equal(s.debtRepaid, 7);
  assert.equal(s.usage.total, 42);
  assert.equal(s.usage.planValue, 99);
  assert.deepEqual(s.usage.byModel.map((u) => [u.key, u.amount]), [["opus", 12], ["sonnet", 30]]);
  assert.equal(s.complete, true);
  const csvLines = statementCsv(s).split("\r\n").filter((l) => l.startsWith("line,"));
  assert.equal(csvLines.reduce((t, l) => t + Number(l.split(",")[7]), 0), 113 - 5);
});

test("a ledger balance that disagrees, or a usage breakdown that does not add up, is not reconciled", () => {
  const base = { orgId: "org_x", cycle, asOf: at, opening, transactions: TXS, paymentPurposeByGrant: new Map<string, string>() };
  const wrong = buildStatement({ ...base, closing: { grants: 1, held: 0, debt: 0 }, usage: [usage("m", "x", "sdk", "credits", 42, 42)] });
  assert.equal(wrong.reconciled, false);
  const missingUsage = buildStatement({ ...base, closing: { grants: 113, held: 0, debt: 0 }, usage: [] });
  assert.equal(missingUsage.closingBalance, 113);
  assert.equal(missingUsage.reconciled, false);
  assert.equal(missingUsage.complete, false);
});

test("an unknown counter-account is reported on the `other` line, so the statement still adds up", () => {
  const s = buildStatement({
    orgId: "org_x",
    cycle,
    asOf: at,
    opening: { grants: 0, held: 0, debt: 0 },
    closing: { grants: -3, held: 0, debt: 0 },
    transactions: [tx("t", "settle", "x", [["grant:g", -3], ["revenue:refund", 3]])],
    usage: [],
    paymentPurposeByGrant: new Map(),
  });
  assert.equal(s.lines.find((l) => l.category === "other")?.amount, -3);
  assert.equal(s.reconciled, true);
});
