// Webhook routes: endpoints per organization (the signing secret is shown once, at creation),
// the delivery log and replay. Registered by one line in routes.ts; managing endpoints needs the
// "manage" permission (owner, admin), like every other integration setting.

import { z } from "zod";
import { domainError } from "../../core/errors.js";
import { EVENT_TYPES } from "../../core/money-in-model.js";
import { EVENT_RENAMES } from "../../core/legacy-names.js";
import { cursor, parseCursor } from "../paging.js";
import { HttpError, type AnyRoute } from "../server.js";
import { presentCreatedWebhookEndpoint, presentDelivery, presentWebhookEndpoint } from "../../presenters/webhooks.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

const ENDPOINT = `${ORG}/webhook_endpoints/:endpoint_id`;

export const CreateWebhookEndpoint = z.strictObject({
  url: z.string().min(1).max(2048).describe("https:// URL (http:// only to a loopback host). Loopback and private addresses need USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true."),
  event_types: z
    .array(z.string().min(1).max(64))
    .min(1)
    .max(EVENT_TYPES.length * 2)
    .nullable()
    .default(null)
    .describe(
      `Event types to deliver (null or absent: all). One of: ${EVENT_TYPES.join(", ")}. Deprecated old names (${Object.values(EVENT_RENAMES).join(", ")}) subscribe to the renamed event and receive it under the old name until USAGE_CREDITS_WEBHOOK_LEGACY_EVENTS_UNTIL.`,
    ),
  description: z.string().max(500).default(""),
});

const DeliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().max(120).optional().describe("The `next_cursor` of the previous page."),
});


const postWebhookEndpoints = typed({
  method: "POST",
  path: `${ORG}/webhook_endpoints`,
  summary: "Add a webhook endpoint (owner or admin). Deliveries are signed the Standard Webhooks way; the `secret` (whsec_…) is returned only here.",
  tag: "Webhooks",
  auth: "manage",
  response: R.CreatedWebhookEndpoint,
  body: CreateWebhookEndpoint,
  success: 201,
  handler: async (ctx) => {
    const out = await ctx.services.webhooks.createEndpoint(
      ctx.params.org_id,
      { url: ctx.body.url, eventTypes: ctx.body.event_types, description: ctx.body.description },
      ctx.idempotency(presentCreatedWebhookEndpoint),
    );
    return ctx.reply(out, presentCreatedWebhookEndpoint);
  },
});

const getWebhookEndpoints = typed({
  method: "GET",
  path: `${ORG}/webhook_endpoints`,
  summary: "List webhook endpoints (owner or admin); secrets are never shown again.",
  tag: "Webhooks",
  auth: "manage",
  response: R.list(R.WebhookEndpoint),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.webhooks.listEndpoints(ctx.params.org_id)).map(presentWebhookEndpoint) }),
});

const getENDPOINT = typed({
  method: "GET",
  path: ENDPOINT,
  summary: "One webhook endpoint (owner or admin).",
  tag: "Webhooks",
  auth: "manage",
  response: R.WebhookEndpoint,
  handler: async (ctx) => {
    const e = await ctx.services.webhooks.getEndpoint(ctx.params.org_id, ctx.params.endpoint_id);
    if (!e) throw new HttpError(domainError("not_found", `No webhook endpoint ${ctx.params.endpoint_id}.`));
    return ctx.ok(presentWebhookEndpoint(e));
  },
});

const deleteENDPOINT = typed({
  method: "DELETE",
  path: ENDPOINT,
  summary: "Delete a webhook endpoint (owner or admin): nothing more is sent to it, pending deliveries fail.",
  tag: "Webhooks",
  auth: "manage",
  response: R.WebhookEndpoint,
  handler: async (ctx) => ctx.reply(await ctx.services.webhooks.deleteEndpoint(ctx.params.org_id, ctx.params.endpoint_id), presentWebhookEndpoint),
});

const getDeliveries = typed({
  method: "GET",
  path: `${ENDPOINT}/deliveries`,
  summary: "The endpoint's delivery log, newest first: status (pending, delivered, failed), attempts, the last HTTP status and error.",
  tag: "Webhooks",
  auth: "manage",
  response: R.page(R.Delivery),
  query: DeliveriesQuery,
  handler: async (ctx) => {
    const r = await ctx.services.webhooks.listDeliveries(ctx.params.org_id, ctx.params.endpoint_id, ctx.query.limit, parseCursor(ctx.query.before));
    if (!r.ok) throw new HttpError(r.error);
    const last = r.value[r.value.length - 1];
    return ctx.ok({ data: r.value.map(presentDelivery), next_cursor: r.value.length === ctx.query.limit && last ? cursor(last.createdAt, last.id) : null });
  },
});

const postTest = typed({
  method: "POST",
  path: `${ENDPOINT}/test`,
  summary: 'Send a test event ("webhook.test") to this endpoint only: a delivery like any other (signed, logged, retried, replayable), attempted at once.',
  tag: "Webhooks",
  auth: "manage",
  response: R.Delivery,
  success: 201,
  handler: async (ctx) => {
    const out = await ctx.services.webhooks.sendTest(ctx.params.org_id, ctx.params.endpoint_id, ctx.idempotency(presentDelivery));
    return ctx.reply(out, presentDelivery);
  },
});

const postDeliveriesDeliveryReplay = typed({
  method: "POST",
  path: `${ENDPOINT}/deliveries/:delivery_id/replay`,
  summary: "Send a delivery's event again (same webhook-id, so receivers can deduplicate): a new delivery, attempted at once.",
  tag: "Webhooks",
  auth: "manage",
  response: R.Delivery,
  success: 201,
  handler: async (ctx) => {
    const out = await ctx.services.webhooks.replay(ctx.params.org_id, ctx.params.endpoint_id, ctx.params.delivery_id, ctx.idempotency(presentDelivery));
    return ctx.reply(out, presentDelivery);
  },
});

export function webhookRoutes(): AnyRoute[] {
  return [postWebhookEndpoints, getWebhookEndpoints, getENDPOINT, deleteENDPOINT, getDeliveries, postTest, postDeliveriesDeliveryReplay];
}
