// Webhooks: endpoints (endpoints.ts), the outbox dispatcher and delivery worker (dispatcher.ts),
// and the money-path events evaluated after commits (money-events.ts); `Webhooks` is the one door
// the edge, the gateway and the composition root use.

import type { DomainError, Result } from "../../core/errors.js";
import type { OutboxEvent } from "../../core/money-in-model.js";
import type { WebhookDelivery, WebhookEndpoint } from "../../core/webhooks.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import type { Store } from "../../ports/store.js";
import type { WebhookSender } from "../../ports/webhook-sender.js";
import type { Admin } from "../admin.js";
import type { Idempotency, Outcome } from "../batcher.js";
import type { WebhooksOptions } from "./common.js";
import { Dispatcher, type AttemptOutcome, type DispatchReport } from "./dispatcher.js";
import { Endpoints, type EndpointInput } from "./endpoints.js";
import { MoneyEvents } from "./money-events.js";

export { webhookPayload, type WebhooksOptions } from "./common.js";
export type { DispatchReport } from "./dispatcher.js";
export type { EndpointInput } from "./endpoints.js";
export { kickingStore } from "./kicking-store.js";
export { SPEND_THRESHOLDS } from "./money-events.js";

export class Webhooks {
  private readonly dispatcher: Dispatcher;
  private readonly endpoints: Endpoints;
  private readonly moneyEvents: MoneyEvents;

  constructor(store: Store, admin: Admin, sender: WebhookSender, clock: Clock, log: Logger, readonly options: WebhooksOptions) {
    const deps = { store, clock, log, options };
    this.dispatcher = new Dispatcher(deps, sender);
    const kick = (): void => this.dispatcher.kick();
    this.moneyEvents = new MoneyEvents(deps, { closed: () => this.dispatcher.closed, kick });
    this.endpoints = new Endpoints(deps, admin, { endpointAdded: (orgId) => this.moneyEvents.endpointAdded(orgId), kick });
  }

  // endpoints
  createEndpoint(orgId: string, input: EndpointInput, idem?: Idempotency<WebhookEndpoint>): Promise<Outcome<WebhookEndpoint>> {
    return this.endpoints.create(orgId, input, idem);
  }
  listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return this.endpoints.list(orgId);
  }
  getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | undefined> {
    return this.endpoints.get(orgId, id);
  }
  deleteEndpoint(orgId: string, id: string): Promise<Outcome<WebhookEndpoint>> {
    return this.endpoints.delete(orgId, id);
  }
  listDeliveries(orgId: string, endpointId: string, limit: number, before?: { at: number; id: string }): Promise<Result<WebhookDelivery[]>> {
    return this.endpoints.listDeliveries(orgId, endpointId, limit, before);
  }
  sendTest(orgId: string, endpointId: string, idem?: Idempotency<WebhookDelivery>): Promise<Outcome<WebhookDelivery>> {
    return this.endpoints.sendTest(orgId, endpointId, idem);
  }
  replay(orgId: string, endpointId: string, deliveryId: string, idem?: Idempotency<WebhookDelivery>): Promise<Outcome<WebhookDelivery>> {
    return this.endpoints.replay(orgId, endpointId, deliveryId, idem);
  }

  // the dispatcher
  dispatch(): Promise<DispatchReport> {
    return this.dispatcher.dispatch();
  }
  kick(): void {
    this.dispatcher.kick();
  }
  onAttempt(listener: (outcome: AttemptOutcome) => void): void {
    this.dispatcher.onAttempt(listener);
  }

  // money-path events
  noteSettled(orgId: string): void {
    this.moneyEvents.noteSettled(orgId);
  }
  noteRefused(orgId: string, memberId: string, error: DomainError): void {
    this.moneyEvents.noteRefused(orgId, memberId, error);
  }
  evaluateMoneyEvents(orgId: string): Promise<OutboxEvent[]> {
    return this.moneyEvents.evaluateMoneyEvents(orgId);
  }

  /** Resolves when no dispatcher run or money-path evaluation of this instance is in flight. */
  async idle(): Promise<void> {
    // A finishing evaluation can start a dispatch, and a dispatch nothing else: check all, again.
    while (this.dispatcher.busy || this.moneyEvents.busy) {
      await Promise.all([this.dispatcher.settled(), this.moneyEvents.settled()]);
    }
  }

  /** Stops kicks and retry timers (pending deliveries stay pending for the next run), then drains. */
  async close(): Promise<void> {
    this.dispatcher.stop();
    await this.idle();
  }
}
