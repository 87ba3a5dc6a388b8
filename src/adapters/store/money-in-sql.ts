// SQL for the money-in port (tables of migration 2), shared by SQLite and PostgreSQL like the
// rest of the SQL store. Exactly-once lives here as data: a payment's idempotency key is UNIQUE,
// a payment leaves `pending` only through a guarded UPDATE (… WHERE status = 'pending'), and a
// partial unique index allows at most one pending auto-reload payment per organization.

import type { Micros } from "../../core/money.js";
import type {
  AutoReloadSettings,
  CreditRequest,
  OutboxEvent,
  Payment,
  PaymentMethod,
  PaymentPurpose,
  ReloadAttempt,
  ReloadAttemptOutcome,
} from "../../core/money-in-model.js";
import type { MoneyInTx, PaymentResolution } from "../../ports/money-in-store.js";
import type { Queryable, SqlValue } from "./driver.js";
import { marks, n } from "./sql-values.js";
import { upsert } from "./sql-bulk.js";
import { AUTO_RELOAD, CREDIT_REQUESTS, EVENTS, PAYMENT_METHODS, PAYMENTS, RELOAD_ATTEMPTS } from "./tables.js";

export class SqlMoneyInTx implements MoneyInTx {
  constructor(private readonly q: Queryable) {}

  async insertPaymentMethod(pm: PaymentMethod): Promise<void> {
    await upsert(this.q, "payment_methods", PAYMENT_METHODS.cols, ["id"], [PAYMENT_METHODS.row(pm)], false);
  }
  async getPaymentMethod(id: string): Promise<PaymentMethod | undefined> {
    const r = (await this.q.all("SELECT * FROM payment_methods WHERE id = ?", [id]))[0];
    return r ? PAYMENT_METHODS.from(r) : undefined;
  }
  async listPaymentMethods(orgId: string): Promise<PaymentMethod[]> {
    return (await this.q.all("SELECT * FROM payment_methods WHERE org_id = ? AND detached_at IS NULL ORDER BY created_at, id", [orgId])).map(PAYMENT_METHODS.from);
  }
  async detachPaymentMethod(id: string, at: number): Promise<void> {
    await this.q.run("UPDATE payment_methods SET detached_at = ? WHERE id = ? AND detached_at IS NULL", [at, id]);
  }

  async insertPayment(p: Payment): Promise<void> {
    await this.q.run(`INSERT INTO payments (${PAYMENTS.cols.join(", ")}) VALUES (${marks(PAYMENTS.cols.length)})`, PAYMENTS.row(p));
  }
  async getPayment(id: string): Promise<Payment | undefined> {
    const r = (await this.q.all("SELECT * FROM payments WHERE id = ?", [id]))[0];
    return r ? PAYMENTS.from(r) : undefined;
  }
  async getPaymentByKey(key: string): Promise<Payment | undefined> {
    const r = (await this.q.all("SELECT * FROM payments WHERE idempotency_key = ?", [key]))[0];
    return r ? PAYMENTS.from(r) : undefined;
  }
  async listPayments(orgId: string, limit: number): Promise<Payment[]> {
    return (await this.q.all("SELECT * FROM payments WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", [orgId, limit])).map(PAYMENTS.from);
  }
  async receiptSequence(paymentId: string): Promise<number | undefined> {
    const rows = await this.q.all(
      `SELECT COUNT(*) AS seq FROM payments p, (SELECT resolved_at AS r, created_at AS c, id AS i FROM payments WHERE id = ? AND status = 'succeeded') t
        WHERE p.status = 'succeeded' AND (p.resolved_at < t.r OR (p.resolved_at = t.r AND (p.created_at < t.c OR (p.created_at = t.c AND p.id <= t.i))))`,
      [paymentId],
    );
    const seq = n(rows[0]?.["seq"] ?? 0);
    return seq > 0 ? seq : undefined;
  }
  async resolvePayment(id: string, r: PaymentResolution): Promise<boolean> {
    const changed = await this.q.run(
      "UPDATE payments SET status = ?, provider_ref = COALESCE(?, provider_ref), failure_code = ?, grant_id = ?, updated_at = ?, resolved_at = ? WHERE id = ? AND status = 'pending'",
      [r.status, r.providerRef, r.failureCode, r.grantId, r.at, r.at, id],
    );
    return changed === 1;
  }
  async notePending(id: string, u: { providerRef: string | null; nextCheckAt: number; attempted: boolean; at: number }): Promise<void> {
    await this.q.run(
      "UPDATE payments SET provider_ref = COALESCE(?, provider_ref), next_check_at = ?, attempts = attempts + ?, updated_at = ? WHERE id = ? AND status = 'pending'",
      [u.providerRef, u.nextCheckAt, u.attempted ? 1 : 0, u.at, id],
    );
  }
  async sumCharged(orgId: string, purposes: readonly PaymentPurpose[], from: number, to: number): Promise<Micros> {
    const rows = await this.q.all(
      `SELECT COALESCE(SUM(amount), 0) AS total FROM payments WHERE org_id = ? AND purpose IN (${marks(purposes.length)}) AND status IN ('pending', 'succeeded') AND created_at >= ? AND created_at < ?`,
      [orgId, ...purposes, from, to],
    );
    return n(rows[0]?.["total"] ?? 0);
  }
  async pendingReload(orgId: string): Promise<Payment | undefined> {
    const r = (await this.q.all("SELECT * FROM payments WHERE org_id = ? AND purpose = 'auto_reload' AND status = 'pending'", [orgId]))[0];
    return r ? PAYMENTS.from(r) : undefined;
  }
  async duePayments(now: number, limit: number): Promise<Payment[]> {
    return (await this.q.all("SELECT * FROM payments WHERE status = 'pending' AND next_check_at <= ? ORDER BY next_check_at, id LIMIT ?", [now, limit])).map(PAYMENTS.from);
  }

  async insertCreditRequest(r: CreditRequest): Promise<void> {
    await this.q.run(`INSERT INTO credit_requests (${CREDIT_REQUESTS.cols.join(", ")}) VALUES (${marks(CREDIT_REQUESTS.cols.length)})`, CREDIT_REQUESTS.row(r));
  }
  async getCreditRequest(id: string): Promise<CreditRequest | undefined> {
    const r = (await this.q.all("SELECT * FROM credit_requests WHERE id = ?", [id]))[0];
    return r ? CREDIT_REQUESTS.from(r) : undefined;
  }
  async updateCreditRequest(r: CreditRequest): Promise<void> {
    await this.q.run("UPDATE credit_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, payment_id = ? WHERE id = ?", [
      r.status, r.decidedBy, r.decidedAt, r.decisionNote, r.paymentId, r.id,
    ]);
  }
  async listCreditRequests(orgId: string): Promise<CreditRequest[]> {
    return (await this.q.all("SELECT * FROM credit_requests WHERE org_id = ? ORDER BY created_at DESC, id DESC", [orgId])).map(CREDIT_REQUESTS.from);
  }

  async getAutoReload(orgId: string): Promise<AutoReloadSettings | undefined> {
    const r = (await this.q.all("SELECT * FROM auto_reload_settings WHERE org_id = ?", [orgId]))[0];
    return r ? AUTO_RELOAD.from(r) : undefined;
  }
  async listAutoReloadOrgIds(): Promise<string[]> {
    return (await this.q.all("SELECT org_id FROM auto_reload_settings")).map((r) => String(r["org_id"]));
  }
  async putAutoReload(a: AutoReloadSettings): Promise<void> {
    const set = AUTO_RELOAD.cols.filter((c) => c !== "org_id").map((c) => `${c} = excluded.${c}`).join(", ");
    await this.q.run(`INSERT INTO auto_reload_settings (${AUTO_RELOAD.cols.join(", ")}) VALUES (${marks(AUTO_RELOAD.cols.length)}) ON CONFLICT (org_id) DO UPDATE SET ${set}`, AUTO_RELOAD.row(a));
  }
  async insertReloadAttempt(a: ReloadAttempt): Promise<void> {
    await this.q.run(
      "INSERT INTO auto_reload_attempts (id, org_id, at, outcome, reason, amount, balance, payment_id, failure_code, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [a.id, a.orgId, a.at, a.outcome, a.reason, a.amount, a.balance, a.paymentId, a.failureCode, a.resolvedAt],
    );
  }
  async resolveReloadAttempt(paymentId: string, outcome: ReloadAttemptOutcome, reason: string | null, failureCode: string | null, at: number): Promise<void> {
    await this.q.run("UPDATE auto_reload_attempts SET outcome = ?, reason = ?, failure_code = ?, resolved_at = ? WHERE payment_id = ? AND outcome = 'pending'", [
      outcome, reason, failureCode, at, paymentId,
    ]);
  }
  async listReloadAttempts(orgId: string, limit: number): Promise<ReloadAttempt[]> {
    return (await this.q.all("SELECT * FROM auto_reload_attempts WHERE org_id = ? ORDER BY at DESC, id DESC LIMIT ?", [orgId, limit])).map(RELOAD_ATTEMPTS.from);
  }

  async insertEvents(events: readonly OutboxEvent[]): Promise<void> {
    for (const e of events) {
      await this.q.run("INSERT INTO events (id, org_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)", [e.id, e.orgId, e.type, JSON.stringify(e.data), e.createdAt]);
    }
  }
  async listEvents(orgId: string, limit: number, before?: { at: number; id: string }): Promise<OutboxEvent[]> {
    const cond = before ? " AND (created_at < ? OR (created_at = ? AND id < ?))" : "";
    const params: SqlValue[] = [orgId, ...(before ? [before.at, before.at, before.id] : []), limit];
    return (await this.q.all(`SELECT * FROM events WHERE org_id = ?${cond} ORDER BY created_at DESC, id DESC LIMIT ?`, params)).map(EVENTS.from);
  }
}
