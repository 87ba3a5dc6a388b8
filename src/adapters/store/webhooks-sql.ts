// SQL for the webhooks port (tables of migration 3), shared by SQLite and PostgreSQL. The
// crash-safe parts live here as guarded UPDATEs: an event is dispatched once (… WHERE
// dispatched_at IS NULL), a delivery attempt is leased once (… WHERE next_attempt_at = seen), an
// outcome lands only on a pending delivery, and a notice is claimed once (primary key).

import type { OutboxEvent } from "../../core/money-in-model.js";
import type { WebhookDelivery, WebhookEndpoint } from "../../core/webhooks.js";
import type { AttemptRecord, WebhooksTx } from "../../ports/webhooks-store.js";
import type { Queryable, SqlValue } from "./driver.js";
import { marks, s } from "./sql-values.js";
import { EVENTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS } from "./tables.js";

export class SqlWebhooksTx implements WebhooksTx {
  constructor(private readonly q: Queryable) {}

  async insertEndpoint(e: WebhookEndpoint): Promise<void> {
    await this.q.run("INSERT INTO webhook_endpoints (id, org_id, url, event_types, secret, description, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
      e.id, e.orgId, e.url, e.eventTypes === null ? null : JSON.stringify(e.eventTypes), e.secret, e.description, e.createdAt, e.deletedAt,
    ]);
  }
  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const r = (await this.q.all("SELECT * FROM webhook_endpoints WHERE id = ?", [id]))[0];
    return r ? WEBHOOK_ENDPOINTS.from(r) : undefined;
  }
  async listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return (await this.q.all("SELECT * FROM webhook_endpoints WHERE org_id = ? AND deleted_at IS NULL ORDER BY created_at, id", [orgId])).map(WEBHOOK_ENDPOINTS.from);
  }
  async deleteEndpoint(id: string, at: number): Promise<boolean> {
    return (await this.q.run("UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", [at, id])) === 1;
  }
  async listEndpointOrgIds(): Promise<string[]> {
    return (await this.q.all("SELECT DISTINCT org_id FROM webhook_endpoints WHERE deleted_at IS NULL")).map((r) => s(r["org_id"]));
  }

  async undispatchedEvents(limit: number): Promise<OutboxEvent[]> {
    return (await this.q.all("SELECT * FROM events WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT ?", [limit])).map(EVENTS.from);
  }
  async markDispatched(eventId: string, at: number): Promise<boolean> {
    return (await this.q.run("UPDATE events SET dispatched_at = ? WHERE id = ? AND dispatched_at IS NULL", [at, eventId])) === 1;
  }
  async getEvent(id: string): Promise<OutboxEvent | undefined> {
    const r = (await this.q.all("SELECT * FROM events WHERE id = ?", [id]))[0];
    return r ? EVENTS.from(r) : undefined;
  }

  async insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (const d of deliveries) await this.q.run(`INSERT INTO webhook_deliveries (${WEBHOOK_DELIVERIES.cols.join(", ")}) VALUES (${marks(WEBHOOK_DELIVERIES.cols.length)})`, WEBHOOK_DELIVERIES.row(d));
  }
  async getDelivery(id: string): Promise<WebhookDelivery | undefined> {
    const r = (await this.q.all("SELECT * FROM webhook_deliveries WHERE id = ?", [id]))[0];
    return r ? WEBHOOK_DELIVERIES.from(r) : undefined;
  }
  async listDeliveries(endpointId: string, limit: number, before?: { at: number; id: string }): Promise<WebhookDelivery[]> {
    const cond = before ? " AND (created_at < ? OR (created_at = ? AND id < ?))" : "";
    const params: SqlValue[] = [endpointId, ...(before ? [before.at, before.at, before.id] : []), limit];
    return (await this.q.all(`SELECT * FROM webhook_deliveries WHERE endpoint_id = ?${cond} ORDER BY created_at DESC, id DESC LIMIT ?`, params)).map(WEBHOOK_DELIVERIES.from);
  }
  async dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]> {
    return (await this.q.all("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?", [now, limit])).map(WEBHOOK_DELIVERIES.from);
  }
  async leaseDelivery(id: string, seen: number, until: number): Promise<boolean> {
    return (await this.q.run("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?", [until, id, seen])) === 1;
  }
  async recordAttempt(id: string, r: AttemptRecord): Promise<boolean> {
    const changed = await this.q.run(
      `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ?, last_attempt_at = ?,
       delivered_at = ? WHERE id = ? AND status = 'pending'`,
      [r.status, r.nextAttemptAt, r.lastStatus, r.lastError, r.at, r.status === "delivered" ? r.at : null, id],
    );
    return changed === 1;
  }

  async claimNotice(subject: string, periodStart: number, mark: number, orgId: string, at: number): Promise<boolean> {
    const changed = await this.q.run(
      "INSERT INTO event_notices (subject, period_start, mark, org_id, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject, period_start, mark) DO NOTHING",
      [subject, periodStart, mark, orgId, at],
    );
    return changed === 1;
  }
  async hasNotice(subject: string, periodStart: number, mark: number): Promise<boolean> {
    return (await this.q.all("SELECT 1 AS x FROM event_notices WHERE subject = ? AND period_start = ? AND mark = ?", [subject, periodStart, mark])).length > 0;
  }
  async clearNotices(subject: string): Promise<void> {
    await this.q.run("DELETE FROM event_notices WHERE subject = ?", [subject]);
  }
}
