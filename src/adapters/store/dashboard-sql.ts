// SQL for the dashboard: passwords, sessions, sign-in failure counters and the usage breakdown
// (one GROUP BY over the usage_records (org_id, at) index). Portable SQL for SQLite and PostgreSQL.

import type { DashboardTx, PasswordRow, SessionRow, UsageCell } from "../../ports/dashboard-store.js";
import type { Queryable } from "./driver.js";
import { marks, n, s } from "./sql-values.js";
import { DASHBOARD_SESSIONS } from "./tables.js";

const DAY_MS = 86_400_000;

export class SqlDashboardTx implements DashboardTx {
  constructor(private readonly q: Queryable) {}

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
    // Integer division on BIGINT epoch-ms gives the UTC day on both engines.
    const rows = await this.q.all(
      `SELECT at / ${DAY_MS} AS day, model, surface, member_id, speed, COUNT(*) AS requests, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, ` +
        "SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens FROM usage_records WHERE org_id = ? AND at >= ? AND at < ? " +
        `GROUP BY at / ${DAY_MS}, model, surface, member_id, speed ORDER BY day, model, surface, member_id, speed`,
      [orgId, from, to],
    );
    return rows.map((r) => ({
      day: n(r["day"]),
      model: s(r["model"]),
      surface: s(r["surface"]),
      memberId: s(r["member_id"]),
      speed: s(r["speed"]),
      requests: n(r["requests"]),
      cost: n(r["cost"]),
      creditCost: n(r["credit_cost"]),
      inputTokens: n(r["input_tokens"]),
      outputTokens: n(r["output_tokens"]),
    }));
  }
}
