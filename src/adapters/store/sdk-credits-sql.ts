// SQL for the monthly-SDK-credit port (tables of migration 4), shared by SQLite and PostgreSQL like
// the rest of the SQL store. Idempotency lives here as data: one record per (member, cycle), by
// primary key, inserted without ON CONFLICT so a second grant for the same cycle cannot commit.

import type { SdkCreditClaim, SdkCreditCycle, SdkCreditSettings } from "../../core/sdk-credits.js";
import type { SdkCreditsTx } from "../../ports/sdk-credit-store.js";
import type { Queryable } from "./driver.js";
import { b, bit, marks, n, s } from "./sql-values.js";
import { SDK_CREDIT_CLAIMS, SDK_CREDIT_CYCLES } from "./tables.js";

const CHUNK = 200;

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
    return r ? SDK_CREDIT_CLAIMS.from(r) : undefined;
  }

  async insertClaim(c: SdkCreditClaim): Promise<void> {
    await this.q.run("INSERT INTO sdk_credit_claims (member_id, org_id, claimed_at, claimed_by) VALUES (?, ?, ?, ?)", [c.memberId, c.orgId, c.claimedAt, c.claimedBy]);
  }

  async listClaims(orgId: string): Promise<SdkCreditClaim[]> {
    return (await this.q.all("SELECT * FROM sdk_credit_claims WHERE org_id = ? ORDER BY claimed_at, member_id", [orgId])).map(SDK_CREDIT_CLAIMS.from);
  }

  async listCycles(orgId: string, cycleStart: number): Promise<SdkCreditCycle[]> {
    return (await this.q.all("SELECT * FROM sdk_credit_cycles WHERE org_id = ? AND cycle_start = ? ORDER BY created_at, member_id", [orgId, cycleStart])).map(SDK_CREDIT_CYCLES.from);
  }

  async insertCycles(rows: readonly SdkCreditCycle[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const values = part.map(() => `(${marks(SDK_CREDIT_CYCLES.cols.length)})`).join(", ");
      await this.q.run(`INSERT INTO sdk_credit_cycles (${SDK_CREDIT_CYCLES.cols.join(", ")}) VALUES ${values}`, part.flatMap(SDK_CREDIT_CYCLES.row));
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
