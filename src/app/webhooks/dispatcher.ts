// The outbox dispatcher and delivery worker.
//
// Crash safety, step by step. (1) Every change writes its events to the `events` outbox in its own
// transaction. (2) The dispatcher hands each undispatched event to its deliveries in ONE
// transaction: a guarded UPDATE marks the event dispatched and the same transaction inserts one
// pending delivery per subscribed endpoint — so an event is fanned out exactly once, whichever
// instance gets there first. (3) Attempts happen outside any transaction: a delivery is first
// leased (a guarded UPDATE moves its next_attempt_at past the attempt's timeout), then POSTed,
// then its outcome is recorded. A crash anywhere leaves either an undispatched event or a pending
// delivery whose lease runs out, and the next dispatcher run (on any instance) sends it: delivery
// is at least once, and receivers deduplicate by `webhook-id` (the event id, the same on every
// attempt and replay).
//
// The dispatcher runs as a scheduled job (app.ts) and, in-process, right after any commit that
// wrote events (`kick`, coalesced), so deliveries do not wait for the next tick.

import { signedHeaders } from "../../core/webhook-signing.js";
import { deliveredEventType, nextAttemptAt, wantsEvent, type WebhookDelivery, type WebhookEndpoint } from "../../core/webhooks.js";
import type { WebhookSender } from "../../ports/webhook-sender.js";
import { newDelivery, webhookPayload, type WebhooksDeps } from "./common.js";

export interface DispatchReport {
  /** Events handed to deliveries (or found to have no endpoint). */
  readonly dispatched: number;
  readonly attempted: number;
  readonly delivered: number;
}

export type AttemptOutcome = "delivered" | "failed" | "retry";

/** Events fanned out per transaction, deliveries attempted per pass, attempts in flight at once. */
const FAN_OUT_BATCH = 100;
const DUE_BATCH = 100;
const PARALLEL_ATTEMPTS = 8;
/** A leased attempt is retried by any runner this long after its timeout (the runner died mid-attempt). */
const LEASE_MARGIN_MS = 30_000;

export class Dispatcher {
  private running: Promise<DispatchReport> | undefined;
  private kickAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  private readonly attemptListeners: Array<(outcome: AttemptOutcome) => void> = [];

  constructor(
    private readonly deps: WebhooksDeps,
    private readonly sender: WebhookSender,
  ) {}

  get closed(): boolean {
    return this.stopped;
  }

  /** A run of this instance is in flight. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the run in flight (if any) ends, whatever its result. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /**
   * One dispatcher run: fans undispatched events out to deliveries, then attempts every due
   * delivery. Runs of this instance are serialized; runs of several instances are safe together.
   */
  dispatch(): Promise<DispatchReport> {
    const run = (this.running ?? Promise.resolve(undefined)).catch(() => undefined).then(() => this.dispatchOnce());
    this.running = run;
    return run.finally(() => {
      if (this.running === run) this.running = undefined;
    });
  }

  /** Asks for a dispatcher run soon (after a commit that wrote events); coalesced. */
  kick(): void {
    if (!this.deps.options.dispatchOnCommit || this.stopped) return;
    if (this.running) {
      this.kickAgain = true;
      return;
    }
    this.kickAgain = false;
    void this.dispatch()
      .catch((err: unknown) => this.deps.log.error("webhook dispatch failed", { error: err instanceof Error ? err.message : String(err) }))
      .then(() => {
        if (this.kickAgain) this.kick();
      });
  }

  /** Called after every recorded delivery attempt with its outcome (metrics). */
  onAttempt(listener: (outcome: AttemptOutcome) => void): void {
    this.attemptListeners.push(listener);
  }

  /** Stops kicks and retry timers (pending deliveries stay pending for the next run). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private async dispatchOnce(): Promise<DispatchReport> {
    let dispatched = 0;
    for (;;) {
      const n = await this.fanOut();
      dispatched += n.seen;
      if (n.seen < FAN_OUT_BATCH) break;
    }
    let attempted = 0;
    let delivered = 0;
    const now = this.deps.clock.now();
    for (;;) {
      const due = await this.deps.store.read((tx) => tx.webhooks.dueDeliveries(now, DUE_BATCH));
      for (let i = 0; i < due.length; i += PARALLEL_ATTEMPTS) {
        const results = await Promise.all(due.slice(i, i + PARALLEL_ATTEMPTS).map((d) => this.attempt(d)));
        for (const r of results) {
          if (r === "skipped") continue;
          attempted++;
          if (r === "delivered") delivered++;
        }
      }
      if (due.length < DUE_BATCH) break;
    }
    return { dispatched, attempted, delivered };
  }

  /** One transaction: mark a batch of events dispatched and create their deliveries. */
  private fanOut(): Promise<{ seen: number }> {
    return this.deps.store.transaction(async (tx) => {
      const now = this.deps.clock.now();
      const events = await tx.webhooks.undispatchedEvents(FAN_OUT_BATCH);
      const endpoints = new Map<string, WebhookEndpoint[]>();
      let created = 0;
      for (const e of events) {
        if (!(await tx.webhooks.markDispatched(e.id, now))) continue; // another dispatcher owns it
        let eps = endpoints.get(e.orgId);
        if (!eps) {
          eps = await tx.webhooks.listEndpoints(e.orgId);
          endpoints.set(e.orgId, eps);
        }
        const deliveries = eps
          .filter((ep) => wantsEvent(ep, e.type, e.createdAt))
          .map((ep) => newDelivery(e.orgId, ep.id, e, now));
        await tx.webhooks.insertDeliveries(deliveries);
        created += deliveries.length;
      }
      return { seen: events.length, created };
    });
  }

  /** Lease → POST (outside any transaction) → record. */
  private async attempt(d: WebhookDelivery): Promise<"skipped" | AttemptOutcome> {
    const { store, clock, options } = this.deps;
    const seen = d.nextAttemptAt;
    if (seen === null) return "skipped";
    const leasedAt = clock.now();
    const lease = await store.transaction((tx) => tx.webhooks.leaseDelivery(d.id, seen, leasedAt + options.timeoutMs + LEASE_MARGIN_MS));
    if (!lease) return "skipped"; // another runner is attempting it
    const { event, endpoint } = await store.read(async (tx) => ({ event: await tx.webhooks.getEvent(d.eventId), endpoint: await tx.webhooks.getEndpoint(d.endpointId) }));
    let status: number | null = null;
    let error: string | null;
    if (!event) {
      error = "event not found";
    } else if (!endpoint || endpoint.deletedAt !== null) {
      error = "endpoint deleted";
    } else {
      const body = webhookPayload(event, deliveredEventType(endpoint, event.type, clock.now(), options.legacyEventNamesUntil));
      const headers = await signedHeaders(endpoint.secret, event.id, clock.now(), body);
      const res = await this.sender.send({ url: endpoint.url, headers: { ...headers }, body, timeoutMs: options.timeoutMs });
      status = res.status;
      error = res.error;
    }
    const now = clock.now();
    const success = status !== null && status >= 200 && status < 300;
    // A deleted endpoint or a vanished event will never succeed: fail at once, no retries.
    const next = success || !event || !endpoint || endpoint.deletedAt !== null ? null : nextAttemptAt(options.retry, d.attempts + 1, now);
    const outcome = success ? "delivered" : next === null ? "failed" : "retry";
    await store.transaction((tx) =>
      tx.webhooks.recordAttempt(d.id, { status: outcome === "retry" ? "pending" : outcome, nextAttemptAt: next, lastStatus: status, lastError: success ? null : error, at: now }),
    );
    for (const l of this.attemptListeners) l(outcome);
    if (outcome === "retry" && next !== null) this.scheduleRetry(next);
    if (outcome === "failed") this.deps.log.error("webhook delivery failed for good", { delivery_id: d.id, endpoint_id: d.endpointId, event_id: d.eventId, attempts: d.attempts + 1, error });
    return outcome;
  }

  /** A local timer for the earliest retry this instance scheduled, so retries need not wait for the tick. */
  private scheduleRetry(at: number): void {
    if (!this.deps.options.dispatchOnCommit || this.stopped || at >= this.retryAt) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryAt = Number.POSITIVE_INFINITY;
      this.kick();
    }, Math.max(0, at - this.deps.clock.now()));
    this.retryTimer.unref();
  }
}
