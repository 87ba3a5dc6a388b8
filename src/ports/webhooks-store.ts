// The store's webhooks part (reached as `tx.webhooks` inside any store transaction, so an event's
// handoff to its deliveries commits in one transaction): endpoints, the outbox cursor (which events
// are dispatched), deliveries with their attempts, and once-per-period notices.

import type { OutboxEvent } from "../core/money-in-model.js";
import type { DeliveryStatus, WebhookDelivery, WebhookEndpoint } from "../core/webhooks.js";

export interface AttemptRecord {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly at: number;
}

export interface WebhooksTx {
  insertEndpoint(e: WebhookEndpoint): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  /** Active (not deleted) endpoints of the organization, oldest first. */
  listEndpoints(orgId: string): Promise<WebhookEndpoint[]>;
  /** Soft-deletes (its deliveries stay in the log); false if it was already deleted. */
  deleteEndpoint(id: string, at: number): Promise<boolean>;
  /** Organizations with at least one active endpoint. */
  listEndpointOrgIds(): Promise<string[]>;

  /** Events not yet handed to deliveries, oldest first. */
  undispatchedEvents(limit: number): Promise<OutboxEvent[]>;
  /** Marks one event dispatched; false if another dispatcher already did (it then owns the handoff). */
  markDispatched(eventId: string, at: number): Promise<boolean>;
  getEvent(id: string): Promise<OutboxEvent | undefined>;

  insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** An endpoint's deliveries, newest first, strictly before the (createdAt, id) cursor. */
  listDeliveries(endpointId: string, limit: number, before?: { at: number; id: string }): Promise<WebhookDelivery[]>;
  /** Pending deliveries whose next attempt is due. */
  dueDeliveries(now: number, limit: number): Promise<WebhookDelivery[]>;
  /** Leases a due delivery for one attempt (next_attempt_at: seen → until); false if another runner took it. */
  leaseDelivery(id: string, seen: number, until: number): Promise<boolean>;
  /** Applies an attempt's outcome while the delivery is pending; false if it no longer was. */
  recordAttempt(id: string, r: AttemptRecord): Promise<boolean>;

  /** Records a once-per-period notice; true only for the first caller (who emits the event). */
  claimNotice(subject: string, periodStart: number, mark: number, orgId: string, at: number): Promise<boolean>;
  hasNotice(subject: string, periodStart: number, mark: number): Promise<boolean>;
  /** Forgets a subject's notices (the condition ended: the next occurrence is news again). */
  clearNotices(subject: string): Promise<void>;
}
