// SQL for statements: customer-side ledger balances at two instants in one statement, a month of
// one organization's ledger (driven by the ledger_transactions (org_id, at, id) index), and the
// payments behind grants. Portable SQL for SQLite and PostgreSQL.

import type { LedgerKind, LedgerTransaction } from "../../core/model.js";
import type { CustomerBalances, StatementUsage } from "../../core/statements.js";
import type { StatementsTx } from "../../ports/statement-store.js";
import type { Queryable } from "./driver.js";
import { marks, n, s } from "./sql-values.js";
import { usageSums } from "./usage-rollup-sql.js";

const CHUNK = 400;

export class SqlStatementsTx implements StatementsTx {
  constructor(private readonly q: Queryable) {}

  async customerBalances(orgId: string, before: readonly [number, number]): Promise<[CustomerBalances, CustomerBalances]> {
    const [a, b] = before;
    const sum = (at: string, prefix: string) => `COALESCE(SUM(CASE WHEN t.at < ${at} AND e.account LIKE '${prefix}:%' THEN e.amount ELSE 0 END), 0)`;
    // Both instants in one statement, so they come from one snapshot on every engine.
    const r = (
      await this.q.all(
        `SELECT ${sum("?", "grant")} AS g1, ${sum("?", "hold")} AS h1, ${sum("?", "debt")} AS d1, ${sum("?", "grant")} AS g2, ${sum("?", "hold")} AS h2, ${sum("?", "debt")} AS d2 ` +
          "FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id WHERE t.org_id = ? AND t.at < ?",
        [a, a, a, b, b, b, orgId, Math.max(a, b)],
      )
    )[0];
    const get = (k: string): number => n(r?.[k] ?? 0);
    return [
      { grants: get("g1"), held: get("h1"), debt: get("d1") },
      { grants: get("g2"), held: get("h2"), debt: get("d2") },
    ];
  }

  async ledgerBetween(orgId: string, from: number, to: number): Promise<LedgerTransaction[]> {
    const rows = await this.q.all(
      "SELECT t.id, t.kind, t.ref, t.at, e.account, e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id " +
        "WHERE t.org_id = ? AND t.at >= ? AND t.at < ? ORDER BY t.at, t.id, e.idx",
      [orgId, from, to],
    );
    const out: LedgerTransaction[] = [];
    let current: { id: string; orgId: string; kind: LedgerKind; ref: string; at: number; entries: Array<{ account: string; amount: number }> } | undefined;
    for (const r of rows) {
      const id = s(r["id"]);
      if (!current || current.id !== id) {
        current = { id, orgId, kind: s(r["kind"]) as LedgerKind, ref: s(r["ref"]), at: n(r["at"]), entries: [] };
        out.push(current);
      }
      current.entries.push({ account: s(r["account"]), amount: n(r["amount"]) });
    }
    return out;
  }

  async usageBetween(orgId: string, from: number, to: number): Promise<StatementUsage[]> {
    const sums = await usageSums(this.q, orgId, from, to, ["member_id", "model", "surface", "payer"]);
    return sums.map((u) => ({ memberId: u.memberId, model: u.model, surface: u.surface as StatementUsage["surface"], payer: u.payer as StatementUsage["payer"], cost: u.cost, creditCost: u.creditCost, requests: u.requests }));
  }

  async paymentPurposes(orgId: string, grantIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < grantIds.length; i += CHUNK) {
      const part = grantIds.slice(i, i + CHUNK);
      const rows = await this.q.all(`SELECT grant_id, purpose FROM payments WHERE org_id = ? AND grant_id IN (${marks(part.length)})`, [orgId, ...part]);
      for (const r of rows) out.set(s(r["grant_id"]), s(r["purpose"]));
    }
    return out;
  }
}
