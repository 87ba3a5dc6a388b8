// SQL for the money-in port (tables of migration 2), shared by SQLite and PostgreSQL like the
// rest of the SQL store. Exactly-once lives here as data: a payment's idempotency key is UNIQUE,
// a payment leaves `pending` only through a guarded UPDATE (… WHERE status = 'pending'), and a
// partial unique index allows at most one pending auto-reload payment per organization.

import type { Micros } from "../../core/money.js";
import type {
  AutoReloadSettings,
  CreditRequest,
  CreditRequestStatus,
  EventType,
  OutboxEvent,
  Payment,
  PaymentMethod,
  PaymentPurpose,
  PaymentStatus,
  ReloadAttempt,
  ReloadAttemptOutcome,
  ReloadMode,
} from "../../core/money-in-model.js";
import type { MoneyInTx, PaymentResolution } from "../../ports/money-in-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { b, bit, marks, n, nOrNull, s, sOrNull } from "./sql-values.js";
import { upsert } from "./sql-bulk.js";


const paymentCols = [
  "id", "org_id", "purpose", "status", "amount", "credit_amount", "currency", "payment_method_id", "bundle_id", "idempotency_key", "request_hash",
  "provider_ref", "failure_code", "grant_id", "created_by", "credit_request_id", "off_session", "attempts", "next_check_at", "created_at", "updated_at", "resolved_at",
];
const paymentRow = (p: Payment): SqlValue[] => [
  p.id, p.orgId, p.purpose, p.status, p.amount, p.creditAmount, p.currency, p.paymentMethodId, p.bundleId, p.idempotencyKey, p.requestHash,
  p.providerRef, p.failureCode, p.grantId, p.createdBy, p.creditRequestId, bit(p.offSession), p.attempts, p.nextCheckAt, p.createdAt, p.updatedAt, p.resolvedAt,
];
const paymentFrom = (r: Row): Payment => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  purpose: s(r["purpose"]) as PaymentPurpose,
  status: s(r["status"]) as PaymentStatus,
  amount: n(r["amount"]),
  creditAmount: n(r["credit_amount"]),
  currency: "USD",
  paymentMethodId: s(r["payment_method_id"]),
  bundleId: sOrNull(r["bundle_id"]),
  idempotencyKey: s(r["idempotency_key"]),
  requestHash: sOrNull(r["request_hash"]),
  providerRef: sOrNull(r["provider_ref"]),
  failureCode: sOrNull(r["failure_code"]),
  grantId: sOrNull(r["grant_id"]),
  createdBy: sOrNull(r["created_by"]),
  creditRequestId: sOrNull(r["credit_request_id"]),
  offSession: b(r["off_session"]),
  attempts: n(r["attempts"]),
  nextCheckAt: n(r["next_check_at"]),
  createdAt: n(r["created_at"]),
  updatedAt: n(r["updated_at"]),
  resolvedAt: nOrNull(r["resolved_at"]),
});

const methodFrom = (r: Row): PaymentMethod => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  provider: s(r["provider"]),
  token: s(r["token"]),
  brand: s(r["brand"]),
  last4: s(r["last4"]),
  createdAt: n(r["created_at"]),
  detachedAt: nOrNull(r["detached_at"]),
});

const requestCols = ["id", "org_id", "member_id", "amount", "note", "status", "decided_by", "decided_at", "decision_note", "payment_id", "created_at"];
const requestRow = (c: CreditRequest): SqlValue[] => [c.id, c.orgId, c.memberId, c.amount, c.note, c.status, c.decidedBy, c.decidedAt, c.decisionNote, c.paymentId, c.createdAt];
const requestFrom = (r: Row): CreditRequest => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  memberId: s(r["member_id"]),
  amount: n(r["amount"]),
  note: s(r["note"]),
  status: s(r["status"]) as CreditRequestStatus,
  decidedBy: sOrNull(r["decided_by"]),
  decidedAt: nOrNull(r["decided_at"]),
  decisionNote: s(r["decision_note"]),
  paymentId: sOrNull(r["payment_id"]),
  createdAt: n(r["created_at"]),
});

export const methodCols = ["id", "org_id", "provider", "token", "brand", "last4", "created_at", "detached_at"];
export const methodRow = (pm: PaymentMethod): SqlValue[] => [pm.id, pm.orgId, pm.provider, pm.token, pm.brand, pm.last4, pm.createdAt, pm.detachedAt];

export const reloadCols = [
  "org_id", "enabled", "threshold", "mode", "amount", "target_balance", "payment_method_id", "monthly_cap",
  "consecutive_failures", "suspended", "last_failure_at", "last_skip_reason", "low_balance_notified", "updated_at",
];
export const reloadRow = (a: AutoReloadSettings): SqlValue[] => [
  a.orgId, bit(a.enabled), a.threshold, a.mode, a.amount, a.targetBalance, a.paymentMethodId, a.monthlyCap,
  a.consecutiveFailures, bit(a.suspended), a.lastFailureAt, a.lastSkipReason, bit(a.lowBalanceNotified), a.updatedAt,
];
const reloadFrom = (r: Row): AutoReloadSettings => ({
  orgId: s(r["org_id"]),
  enabled: b(r["enabled"]),
  threshold: n(r["threshold"]),
  mode: s(r["mode"]) as ReloadMode,
  amount: nOrNull(r["amount"]),
  targetBalance: nOrNull(r["target_balance"]),
  paymentMethodId: sOrNull(r["payment_method_id"]),
  monthlyCap: nOrNull(r["monthly_cap"]),
  consecutiveFailures: n(r["consecutive_failures"]),
  suspended: b(r["suspended"]),
  lastFailureAt: nOrNull(r["last_failure_at"]),
  lastSkipReason: sOrNull(r["last_skip_reason"]),
  lowBalanceNotified: b(r["low_balance_notified"]),
  updatedAt: n(r["updated_at"]),
});

const attemptFrom = (r: Row): ReloadAttempt => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  at: n(r["at"]),
  outcome: s(r["outcome"]) as ReloadAttemptOutcome,
  reason: sOrNull(r["reason"]),
  amount: n(r["amount"]),
  balance: n(r["balance"]),
  paymentId: sOrNull(r["payment_id"]),
  failureCode: sOrNull(r["failure_code"]),
  resolvedAt: nOrNull(r["resolved_at"]),
});

/** An outbox row (also read by the webhook dispatcher). */
export const eventFrom = (r: Row): OutboxEvent => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  type: s(r["type"]) as EventType,
  data: JSON.parse(s(r["data"])) as Record<string, unknown>,
  createdAt: n(r["created_at"]),
});

export class SqlMoneyInTx implements MoneyInTx {
  constructor(private readonly q: Queryable) {}

  async insertPaymentMethod(pm: PaymentMethod): Promise<void> {
    await upsert(this.q, "payment_methods", methodCols, ["id"], [methodRow(pm)], false);
  }
  async getPaymentMethod(id: string): Promise<PaymentMethod | undefined> {
    const r = (await this.q.all("SELECT * FROM payment_methods WHERE id = ?", [id]))[0];
    return r ? methodFrom(r) : undefined;
  }
  async listPaymentMethods(orgId: string): Promise<PaymentMethod[]> {
    return (await this.q.all("SELECT * FROM payment_methods WHERE org_id = ? AND detached_at IS NULL ORDER BY created_at, id", [orgId])).map(methodFrom);
  }
  async detachPaymentMethod(id: string, at: number): Promise<void> {
    await this.q.run("UPDATE payment_methods SET detached_at = ? WHERE id = ? AND detached_at IS NULL", [at, id]);
  }

  async insertPayment(p: Payment): Promise<void> {
    await this.q.run(`INSERT INTO payments (${paymentCols.join(", ")}) VALUES (${marks(paymentCols.length)})`, paymentRow(p));
  }
  async getPayment(id: string): Promise<Payment | undefined> {
    const r = (await this.q.all("SELECT * FROM payments WHERE id = ?", [id]))[0];
    return r ? paymentFrom(r) : undefined;
  }
  async getPaymentByKey(key: string): Promise<Payment | undefined> {
    const r = (await this.q.all("SELECT * FROM payments WHERE idempotency_key = ?", [key]))[0];
    return r ? paymentFrom(r) : undefined;
  }
  async listPayments(orgId: string, limit: number): Promise<Payment[]> {
    return (await this.q.all("SELECT * FROM payments WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT ?", [orgId, limit])).map(paymentFrom);
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
    return r ? paymentFrom(r) : undefined;
  }
  async duePayments(now: number, limit: number): Promise<Payment[]> {
    return (await this.q.all("SELECT * FROM payments WHERE status = 'pending' AND next_check_at <= ? ORDER BY next_check_at, id LIMIT ?", [now, limit])).map(paymentFrom);
  }

  async insertCreditRequest(r: CreditRequest): Promise<void> {
    await this.q.run(`INSERT INTO credit_requests (${requestCols.join(", ")}) VALUES (${marks(requestCols.length)})`, requestRow(r));
  }
  async getCreditRequest(id: string): Promise<CreditRequest | undefined> {
    const r = (await this.q.all("SELECT * FROM credit_requests WHERE id = ?", [id]))[0];
    return r ? requestFrom(r) : undefined;
  }
  async updateCreditRequest(r: CreditRequest): Promise<void> {
    await this.q.run("UPDATE credit_requests SET status = ?, decided_by = ?, decided_at = ?, decision_note = ?, payment_id = ? WHERE id = ?", [
      r.status, r.decidedBy, r.decidedAt, r.decisionNote, r.paymentId, r.id,
    ]);
  }
  async listCreditRequests(orgId: string): Promise<CreditRequest[]> {
    return (await this.q.all("SELECT * FROM credit_requests WHERE org_id = ? ORDER BY created_at DESC, id DESC", [orgId])).map(requestFrom);
  }

  async getAutoReload(orgId: string): Promise<AutoReloadSettings | undefined> {
    const r = (await this.q.all("SELECT * FROM auto_reload_settings WHERE org_id = ?", [orgId]))[0];
    return r ? reloadFrom(r) : undefined;
  }
  async listAutoReloadOrgIds(): Promise<string[]> {
    return (await this.q.all("SELECT org_id FROM auto_reload_settings")).map((r) => String(r["org_id"]));
  }
  async putAutoReload(a: AutoReloadSettings): Promise<void> {
    const set = reloadCols.filter((c) => c !== "org_id").map((c) => `${c} = excluded.${c}`).join(", ");
    await this.q.run(`INSERT INTO auto_reload_settings (${reloadCols.join(", ")}) VALUES (${marks(reloadCols.length)}) ON CONFLICT (org_id) DO UPDATE SET ${set}`, reloadRow(a));
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
    return (await this.q.all("SELECT * FROM auto_reload_attempts WHERE org_id = ? ORDER BY at DESC, id DESC LIMIT ?", [orgId, limit])).map(attemptFrom);
  }

  async insertEvents(events: readonly OutboxEvent[]): Promise<void> {
    for (const e of events) {
      await this.q.run("INSERT INTO events (id, org_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)", [e.id, e.orgId, e.type, JSON.stringify(e.data), e.createdAt]);
    }
  }
  async listEvents(orgId: string, limit: number, before?: { at: number; id: string }): Promise<OutboxEvent[]> {
    const cond = before ? " AND (created_at < ? OR (created_at = ? AND id < ?))" : "";
    const params: SqlValue[] = [orgId, ...(before ? [before.at, before.at, before.id] : []), limit];
    return (await this.q.all(`SELECT * FROM events WHERE org_id = ?${cond} ORDER BY created_at DESC, id DESC LIMIT ?`, params)).map(eventFrom);
  }
}
