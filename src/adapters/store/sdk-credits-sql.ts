// SQL for the monthly-SDK-credit port (tables of migration 4), shared by SQLite and PostgreSQL like
// the rest of the SQL store. Idempotency lives here as data: one record per (member, cycle), by
// primary key, inserted without ON CONFLICT so a second grant for the same cycle cannot commit.

import type { SdkCreditClaim, SdkCreditCycle, SdkCreditSettings } from "../../core/sdk-credits.js";
import type { SdkCreditsTx } from "../../ports/sdk-credit-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { b, bit, marks, n, s, sOrNull } from "./sql-values.js";

const CHUNK = 200;

const claimFrom = (r: Row): SdkCreditClaim => ({
  orgId: s(r["org_id"]),
  memberId: s(r["member_id"]),
  claimedAt: n(r["claimed_at"]),
  claimedBy: s(r["claimed_by"]),
});

const cycleCols = ["member_id", "cycle_start", "cycle_end", "org_id", "pooled", "amount", "grant_id", "created_at"];
const cycleRow = (c: SdkCreditCycle): SqlValue[] => [c.memberId, c.cycleStart, c.cycleEnd, c.orgId, bit(c.pooled), c.amount, c.grantId, c.createdAt];
const cycleFrom = (r: Row): SdkCreditCycle => ({
  memberId: s(r["member_id"]),
  cycleStart: n(r["cycle_start"]),
  cycleEnd: n(r["cycle_end"]),
  orgId: s(r["org_id"]),
  pooled: b(r["pooled"]),
  amount: n(r["amount"]),
  grantId: sOrNull(r["grant_id"]),
  createdAt: n(r["created_at"]),
});

export class SqlSdkCreditsTx implements SdkCreditsTx {
  constructor(private readonly q: Queryable) {}

  async getSettings(orgId: string): Promise<SdkCreditSettings | undefined> {
    const r = (await this.q.all("SELECT * FROM sdk_credit_settings WHERE org_id = ?", [orgId]))[0];
    return r ? { orgId: s(r["org_id"]), pooled: b(r["pooled"]), poolCap: n(r["pool_cap"]), updatedAt: n(r["updated_at"]) } : undefined;
  }

  async putSettings(v: SdkCreditSettings): Promise<void> {
    await this.q.run(
      "INSERT INTO sdk_credit_settings (org_id, pooled, pool_cap, updated_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (org_id) DO UPDATE SET pooled = excluded.pooled, pool_cap = excluded.pool_cap, updated_at = excluded.updated_at",
      [v.orgId, bit(v.pooled), v.poolCap, v.updatedAt],
    );
  }

  async getClaim(memberId: string): Promise<SdkCreditClaim | undefined> {
    const r = (await this.q.all("SELECT * FROM sdk_credit_claims WHERE member_id = ?", [memberId]))[0];
    return r ? claimFrom(r) : undefined;
  }

  async insertClaim(c: SdkCreditClaim): Promise<void> {
    await this.q.run("INSERT INTO sdk_credit_claims (member_id, org_id, claimed_at, claimed_by) VALUES (?, ?, ?, ?)", [c.memberId, c.orgId, c.claimedAt, c.claimedBy]);
  }

  async listClaims(orgId: string): Promise<SdkCreditClaim[]> {
    return (await this.q.all("SELECT * FROM sdk_credit_claims WHERE org_id = ? ORDER BY claimed_at, member_id", [orgId])).map(claimFrom);
  }

  async listCycles(orgId: string, cycleStart: number): Promise<SdkCreditCycle[]> {
    return (await this.q.all("SELECT * FROM sdk_credit_cycles WHERE org_id = ? AND cycle_start = ? ORDER BY created_at, member_id", [orgId, cycleStart])).map(cycleFrom);
  }

  async insertCycles(rows: readonly SdkCreditCycle[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const values = part.map(() => `(${marks(cycleCols.length)})`).join(", ");
      await this.q.run(`INSERT INTO sdk_credit_cycles (${cycleCols.join(", ")}) VALUES ${values}`, part.flatMap(cycleRow));
    }
  }

  async orgsDue(cycleStart: number, limit: number): Promise<string[]> {
    const rows = await this.q.all(
      "SELECT DISTINCT c.org_id FROM sdk_credit_claims c LEFT JOIN sdk_credit_cycles y ON y.member_id = c.member_id AND y.cycle_start = ? " +
        "WHERE y.member_id IS NULL ORDER BY c.org_id LIMIT ?",
      [cycleStart, limit],
    );
    return rows.map((r) => s(r["org_id"]));
  }
}
