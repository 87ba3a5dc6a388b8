// Webhook endpoints and deliveries → the API's JSON.

import type { WebhookDelivery, WebhookEndpoint } from "../core/webhooks.js";
import { iso } from "./format.js";
import type * as R from "../schemas/responses.js";

export const presentWebhookEndpoint = (e: WebhookEndpoint): R.WebhookEndpoint => ({
  id: e.id,
  type: "webhook_endpoint",
  url: e.url,
  event_types: e.eventTypes,
  description: e.description,
  created_at: iso(e.createdAt),
  deleted_at: iso(e.deletedAt),
});

/** Only at creation: the secret, for the receiver to verify signatures with. */
export const presentCreatedWebhookEndpoint = (e: WebhookEndpoint): R.CreatedWebhookEndpoint => ({ ...presentWebhookEndpoint(e), secret: e.secret });

export const presentDelivery = (d: WebhookDelivery): R.Delivery => ({
  id: d.id,
  type: "webhook_delivery",
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === "pending" ? iso(d.nextAttemptAt) : null,
  last_status: d.lastStatus,
  last_error: d.lastError,
  last_attempt_at: iso(d.lastAttemptAt),
  delivered_at: iso(d.deliveredAt),
  replay_of: d.replayOf,
  created_at: iso(d.createdAt),
});
