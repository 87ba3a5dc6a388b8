// Webhook endpoints: create (URL policy, event types, a signing secret), list, delete, the delivery
// log, a test event and a replay — each a new due delivery the dispatcher attempts at once.

import { newId } from "../../core/ids.js";
import type { OutboxEvent } from "../../core/money-in-model.js";
import { newWebhookSecret } from "../../core/webhook-signing.js";
import { checkEndpointUrl, isSubscribableEventType, type WebhookDelivery, type WebhookEndpoint } from "../../core/webhooks.js";
import type { Result } from "../../core/errors.js";
import type { Admin } from "../admin.js";
import type { Idempotency, Outcome } from "../batcher.js";
import { fail, newDelivery, ok, type WebhooksDeps } from "./common.js";

export interface EndpointInput {
  readonly url: string;
  /** null: every event type. */
  readonly eventTypes: readonly string[] | null;
  readonly description: string;
}

export class Endpoints {
  constructor(
    private readonly deps: WebhooksDeps,
    private readonly admin: Admin,
    /** Told of an organization that now has an endpoint, and of a delivery due now. */
    private readonly hooks: { readonly endpointAdded: (orgId: string) => void; readonly kick: () => void },
  ) {}

  async create(orgId: string, input: EndpointInput, idem?: Idempotency<WebhookEndpoint>): Promise<Outcome<WebhookEndpoint>> {
    const { options } = this.deps;
    const url = checkEndpointUrl(input.url, options.urls);
    if (!url.ok) return { kind: "fresh", result: url };
    let types: string[] | null = null;
    if (input.eventTypes !== null) {
      const unknown = input.eventTypes.filter((t) => !isSubscribableEventType(t));
      if (unknown.length > 0) {
        return { kind: "fresh", result: fail("invalid_request", `Unknown event type ${JSON.stringify(unknown[0])}.`, { field: "event_types", unknown }) };
      }
      types = [...new Set(input.eventTypes)];
    }
    const out = await this.admin.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail<WebhookEndpoint>("not_found", `No organization ${orgId}.`);
      if ((await tx.webhooks.listEndpoints(orgId)).length >= options.maxEndpointsPerOrg) {
        return fail<WebhookEndpoint>("conflict", `An organization may have at most ${options.maxEndpointsPerOrg} webhook endpoints.`, { max: options.maxEndpointsPerOrg });
      }
      const endpoint: WebhookEndpoint = {
        id: newId("webhookEndpoint", now),
        orgId,
        url: url.value,
        eventTypes: types,
        secret: newWebhookSecret(),
        description: input.description,
        createdAt: now,
        deletedAt: null,
      };
      await tx.webhooks.insertEndpoint(endpoint);
      // The snapshot drops the signing secret.
      audit.record({ orgId, action: "webhook_endpoint.created", targetType: "webhook_endpoint", targetId: endpoint.id, before: null, after: endpoint });
      return ok(endpoint);
    });
    if (out.kind === "fresh" && out.result.ok) this.hooks.endpointAdded(orgId);
    return out;
  }

  list(orgId: string): Promise<WebhookEndpoint[]> {
    return this.deps.store.read((tx) => tx.webhooks.listEndpoints(orgId));
  }

  async get(orgId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const e = await this.deps.store.read((tx) => tx.webhooks.getEndpoint(id));
    return e && e.orgId === orgId && e.deletedAt === null ? e : undefined;
  }

  /** Deletes an endpoint: nothing more is sent to it; its delivery log stays readable by id. */
  async delete(orgId: string, id: string): Promise<Outcome<WebhookEndpoint>> {
    return this.admin.write(undefined, async (tx, now, audit) => {
      const e = await tx.webhooks.getEndpoint(id);
      if (!e || e.orgId !== orgId || !(await tx.webhooks.deleteEndpoint(id, now))) return fail<WebhookEndpoint>("not_found", `No webhook endpoint ${id}.`);
      const deleted = { ...e, deletedAt: now };
      audit.record({ orgId, action: "webhook_endpoint.deleted", targetType: "webhook_endpoint", targetId: id, before: e, after: deleted });
      return ok(deleted);
    });
  }

  /** The delivery log of one endpoint, newest first. */
  async listDeliveries(orgId: string, endpointId: string, limit: number, before?: { at: number; id: string }): Promise<Result<WebhookDelivery[]>> {
    return this.deps.store.read(async (tx) => {
      const e = await tx.webhooks.getEndpoint(endpointId);
      if (!e || e.orgId !== orgId) return fail<WebhookDelivery[]>("not_found", `No webhook endpoint ${endpointId}.`);
      return ok(await tx.webhooks.listDeliveries(endpointId, limit, before));
    });
  }

  /**
   * A test event ("webhook.test") to one endpoint: an outbox row written already dispatched (so
   * no other endpoint receives it) and one delivery, attempted at once like any other — signed,
   * logged, retried on failure and replayable.
   */
  async sendTest(orgId: string, endpointId: string, idem?: Idempotency<WebhookDelivery>): Promise<Outcome<WebhookDelivery>> {
    const out = await this.admin.write(idem, async (tx, now) => {
      const e = await tx.webhooks.getEndpoint(endpointId);
      if (!e || e.orgId !== orgId || e.deletedAt !== null) return fail<WebhookDelivery>("not_found", `No webhook endpoint ${endpointId}.`);
      const event: OutboxEvent = { id: newId("event", now), orgId, type: "webhook.test", data: { endpoint_id: endpointId, message: "A test event: your endpoint receives and verifies usage-credits webhooks." }, createdAt: now };
      await tx.moneyIn.insertEvents([event]);
      await tx.webhooks.markDispatched(event.id, now);
      const delivery = newDelivery(orgId, endpointId, event, now);
      await tx.webhooks.insertDeliveries([delivery]);
      return ok(delivery);
    });
    if (out.kind === "fresh" && out.result.ok) this.hooks.kick();
    return out;
  }

  /** Sends an event again: a new delivery of the same event (same webhook-id), attempted at once. */
  async replay(orgId: string, endpointId: string, deliveryId: string, idem?: Idempotency<WebhookDelivery>): Promise<Outcome<WebhookDelivery>> {
    const out = await this.admin.write(idem, async (tx, now) => {
      const d = await tx.webhooks.getDelivery(deliveryId);
      if (!d || d.orgId !== orgId || d.endpointId !== endpointId) return fail<WebhookDelivery>("not_found", `No delivery ${deliveryId}.`);
      const e = await tx.webhooks.getEndpoint(endpointId);
      if (!e || e.deletedAt !== null) return fail<WebhookDelivery>("not_found", `No webhook endpoint ${endpointId}.`);
      const replay: WebhookDelivery = { ...newDelivery(d.orgId, d.endpointId, { id: d.eventId, type: d.eventType }, now), replayOf: d.replayOf ?? d.id };
      await tx.webhooks.insertDeliveries([replay]);
      return ok(replay);
    });
    if (out.kind === "fresh" && out.result.ok) this.hooks.kick();
    return out;
  }
}
