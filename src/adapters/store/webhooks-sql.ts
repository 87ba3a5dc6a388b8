// SQL for the webhooks port (tables of migration 3), shared by SQLite and PostgreSQL. The
// crash-safe parts live here as guarded UPDATEs: an event is dispatched once (… WHERE
// dispatched_at IS NULL), a delivery attempt is leased once (… WHERE next_attempt_at = seen), an
// outcome lands only on a pending delivery, and a notice is claimed once (primary key).

import type { EventType, OutboxEvent } from "../../core/money-in-model.js";
import type { DeliveryStatus, WebhookDelivery, WebhookEndpoint } from "../../core/webhooks.js";
import type { AttemptRecord, WebhooksTx } from "../../ports/webhooks-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { marks, n, nOrNull, s, sOrNull } from "./sql-values.js";
import { eventFrom } from "./money-in-sql.js";

const endpointFrom = (r: Row): WebhookEndpoint => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  url: s(r["url"]),
  eventTypes: r["event_types"] === null || r["event_types"] === undefined ? null : (JSON.parse(s(r["event_types"])) as string[]),
  secret: s(r["secret"]),
  description: s(r["description"]),
  createdAt: n(r["created_at"]),
  deletedAt: nOrNull(r["deleted_at"]),
});

const deliveryCols = [
  "id", "org_id", "endpoint_id", "event_id", "event_type", "status", "attempts", "next_attempt_at", "last_status", "last_error",
  "last_attempt_at", "delivered_at", "replay_of", "created_at",
];
const deliveryRow = (d: WebhookDelivery): SqlValue[] => [
  d.id, d.orgId, d.endpointId, d.eventId, d.eventType, d.status, d.attempts, d.nextAttemptAt, d.lastStatus, d.lastError,
  d.lastAttemptAt, d.deliveredAt, d.replayOf, d.createdAt,
];
const deliveryFrom = (r: Row): WebhookDelivery => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  endpointId: s(r["endpoint_id"]),
  eventId: s(r["event_id"]),
  eventType: s(r["event_type"]) as EventType,
  status: s(r["status"]) as DeliveryStatus,
  attempts: n(r["attempts"]),
  nextAttemptAt: nOrNull(r["next_attempt_at"]),
  lastStatus: nOrNull(r["last_status"]),
  lastError: sOrNull(r["last_error"]),
  lastAttemptAt: nOrNull(r["last_attempt_at"]),
  deliveredAt: nOrNull(r["delivered_at"]),
  replayOf: sOrNull(r["replay_of"]),
  createdAt: n(r["created_at"]),
});


export class SqlWebhooksTx implements WebhooksTx {
  constructor(private readonly q: Queryable) {}

  async insertEndpoint(e: WebhookEndpoint): Promise<void> {
    await this.q.run("INSERT INTO webhook_endpoints (id, org_id, url, event_types, secret, description, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
      e.id, e.orgId, e.url, e.eventTypes === null ? null : JSON.stringify(e.eventTypes), e.secret, e.description, e.createdAt, e.deletedAt,
    ]);
  }
  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const r = (await this.q.all("SELECT * FROM webhook_endpoints WHERE id = ?", [id]))[0];
    return r ? endpointFrom(r) : undefined;
  }
  async listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return (await this.q.all("SELECT * FROM webhook_endpoints WHERE org_id = ? AND deleted_at IS NULL ORDER BY created_at, id", [orgId])).map(endpointFrom);
  }
  async deleteEndpoint(id: string, at: number): Promise<boolean> {
    return (await this.q.run("UPDATE webhook_endpoints SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", [at, id])) === 1;
  }
  async listEndpointOrgIds(): Promise<string[]> {
    return (await this.q.all("SELECT DISTINCT org_id FROM webhook_endpoints WHERE deleted_at IS NULL")).map((r) => s(r["org_id"]));
  }

  async undispatchedEvents(limit: number): Promise<OutboxEvent[]> {
    return (await this.q.all("SELECT * FROM events WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT ?", [limit])).map(eventFrom);
  }
  async markDispatched(eventId: string, at: number): Promise<boolean> {
    return (await this.q.run("UPDATE events SET dispatched_at = ? WHERE id = ? AND dispatched_at IS NULL", [at, eventId])) === 1;
  }
  async getEvent(id: string): Promise<OutboxEvent | undefined> {
    const r = (await this.q.all("SELECT * FROM events WHERE id = ?", [id]))[0];
    return r ? eventFrom(r) : undefined;
  }

  async insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (const d of deliveries) await this.q.run(`INSERT INTO webhook_deliveries (${deliveryCols.join(", ")}) VALUES (${marks(deliveryCols.length)})`, deliveryRow(d));
  }
  async getDelivery(id: string): Promise<WebhookDelivery | undefined> {
    const r = (await this.q.all("SELECT * FROM webhook_deliveries WHERE id = ?", [id]))[0];
    return r ? deliveryFrom(r) : undefined;
  }
  async listDeliveries(endpointId: string, limit: number, before?: { at: number; id: string }): Promise<WebhookDelivery[]> {
    const cond = before ? " AND (created_at < ? OR (created_at = ? AND id < ?))" : "";
    const params: SqlValue[] = [endpointId, ...(before ? [before.at, before.at, before.id] : []), limit];
    return (await this.q.all(`SELECT * FROM webhook_deliveries WHERE endpoint_id = ?${cond} ORDER BY created_at DESC, id DESC LIMIT ?`, params)).map(deliveryFrom);
  }
  async dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]> {
    return (await this.q.all("SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?", [now, limit])).map(deliveryFrom);
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
