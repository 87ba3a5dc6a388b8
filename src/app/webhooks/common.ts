// What the webhook rooms share: options, dependencies, result helpers, the payload and a new delivery.

import { domainError, type ErrorCode, type Result } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { EventType, OutboxEvent } from "../../core/money-in-model.js";
import type { RetryPolicy, UrlPolicy, WebhookDelivery } from "../../core/webhooks.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import type { Store } from "../../ports/store.js";

export interface WebhooksOptions {
  readonly retry: RetryPolicy;
  readonly urls: UrlPolicy;
  readonly timeoutMs: number;
  /** Run the dispatcher right after commits that wrote events (else only on the scheduled tick). */
  readonly dispatchOnCommit: boolean;
  readonly maxEndpointsPerOrg: number;
  /** Old event names (extra_usage.*) are delivered to endpoints subscribed by them until this instant. */
  readonly legacyEventNamesUntil: number;
}

export interface WebhooksDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: WebhooksOptions;
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(code: ErrorCode, message: string, details?: Record<string, unknown>): Result<T> => ({ ok: false, error: domainError(code, message, details) });
export const iso = (t: number): string => new Date(t).toISOString();

/** The JSON body of every attempt of an event (Standard Webhooks: type, timestamp, data). */
export function webhookPayload(e: OutboxEvent, type: string = e.type): string {
  return JSON.stringify({ id: e.id, type, timestamp: iso(e.createdAt), org_id: e.orgId, data: e.data });
}

/** A delivery of `event` to one endpoint, due now. */
export function newDelivery(orgId: string, endpointId: string, event: { readonly id: string; readonly type: EventType }, now: number): WebhookDelivery {
  return {
    id: newId("webhookDelivery", now),
    orgId,
    endpointId,
    eventId: event.id,
    eventType: event.type,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastStatus: null,
    lastError: null,
    lastAttemptAt: null,
    deliveredAt: null,
    replayOf: null,
    createdAt: now,
  };
}
