// SQL for the dashboard: passwords, sessions, sign-in failure counters and the usage breakdown
// (from the usage rollups, usage-rollup-sql.ts). Portable SQL for SQLite and PostgreSQL.

import type { BreakdownJson, DashboardTx, PasswordRow, SessionRow, UsageCell } from "../../ports/dashboard-store.js";
import type { Queryable } from "./driver.js";
import { marks, n, s } from "./sql-values.js";
import { DASHBOARD_SESSIONS } from "./tables.js";
import { usageBreakdownJson, usageSums } from "./usage-rollup-sql.js";

export class SqlDashboardTx implements DashboardTx {
  constructor(
    private readonly q: Queryable,
    private readonly engine = "sqlite",
  ) {}

  async setPassword(memberId: string, hash: string, at: number): Promise<void> {
    await this.q.run(
      "INSERT INTO member_passwords (member_id, hash, updated_at) VALUES (?, ?, ?) ON CONFLICT (member_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
      [memberId, hash, at],
    );
  }

  async passwordsByEmail(email: string): Promise<PasswordRow[]> {
    const rows = await this.q.all(
      "SELECT p.member_id, p.hash FROM member_passwords p JOIN members m ON m.id = p.member_id WHERE LOWER(m.email) = LOWER(?) ORDER BY m.created_at, m.id LIMIT 20",
      [email],
    );
    return rows.map((r) => ({ memberId: s(r["member_id"]), hash: s(r["hash"]) }));
  }

  async insertSession(r: SessionRow): Promise<void> {
    await this.q.run(
      "INSERT INTO dashboard_sessions (id, token_hash, member_id, csrf_token, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [r.id, r.tokenHash, r.memberId, r.csrfToken, r.createdAt, r.expiresAt, r.revokedAt],
    );
  }

  async findSession(tokenHash: string): Promise<SessionRow | undefined> {
    const r = (await this.q.all("SELECT * FROM dashboard_sessions WHERE token_hash = ?", [tokenHash]))[0];
    return r ? DASHBOARD_SESSIONS.from(r) : undefined;
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    const r = (await this.q.all("SELECT * FROM dashboard_sessions WHERE id = ?", [id]))[0];
    return r ? DASHBOARD_SESSIONS.from(r) : undefined;
  }

  async revokeSession(id: string, at: number): Promise<void> {
    await this.q.run("UPDATE dashboard_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, id]);
  }

  async revokeMemberSessions(memberId: string, at: number): Promise<void> {
    await this.q.run("UPDATE dashboard_sessions SET revoked_at = ? WHERE member_id = ? AND revoked_at IS NULL", [at, memberId]);
  }

  async failures(subjects: readonly string[], since: number): Promise<Map<string, { failures: number; windowStart: number }>> {
    const out = new Map<string, { failures: number; windowStart: number }>();
    if (subjects.length === 0) return out;
    const rows = await this.q.all(`SELECT subject, failures, window_start FROM sign_in_failures WHERE subject IN (${marks(subjects.length)}) AND window_start > ?`, [
      ...subjects,
      since,
    ]);
    for (const r of rows) out.set(s(r["subject"]), { failures: n(r["failures"]), windowStart: n(r["window_start"]) });
    return out;
  }

  async recordFailure(subject: string, now: number, since: number): Promise<void> {
    await this.q.run(
      "INSERT INTO sign_in_failures (subject, failures, window_start) VALUES (?, 1, ?) ON CONFLICT (subject) DO UPDATE SET " +
        "failures = CASE WHEN sign_in_failures.window_start <= ? THEN 1 ELSE sign_in_failures.failures + 1 END, " +
        "window_start = CASE WHEN sign_in_failures.window_start <= ? THEN ? ELSE sign_in_failures.window_start END",
      [subject, now, since, since, now],
    );
  }

  async clearFailures(subject: string): Promise<void> {
    await this.q.run("DELETE FROM sign_in_failures WHERE subject = ?", [subject]);
  }

  async usageBreakdown(orgId: string, from: number, to: number): Promise<UsageCell[]> {
    // From the usage rollups (usage-rollup-sql.ts), not a scan of the records.
    const sums = await usageSums(this.q, orgId, from, to, ["day", "model", "surface", "member_id", "speed"]);
    return sums.map(({ day, model, surface, memberId, speed, requests, cost, creditCost, inputTokens, outputTokens }) => ({
      day, model, surface, memberId, speed, requests, cost, creditCost, inputTokens, outputTokens,
    }));
  }

  usageBreakdownJson(orgId: string, from: number, to: number): Promise<BreakdownJson> {
    return usageBreakdownJson(this.q, this.engine, orgId, from, to);
  }

}
