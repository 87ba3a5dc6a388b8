// Webhooks: endpoint use cases, the outbox dispatcher and delivery worker, and the money-path
// events evaluated after commits (credits.depleted, spend_limit.threshold, spend_limit.reached,
// window.exhausted).
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

import { Books } from "../core/books.js";
import { domainError, type DomainError, type ErrorCode, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { dayOf, periodBounds } from "../core/limits.js";
import type { EventType, OutboxEvent } from "../core/money-in-model.js";
import { newWebhookSecret, signedHeaders } from "../core/webhook-signing.js";
import { checkEndpointUrl, deliveredEventType, isSubscribableEventType, nextAttemptAt, wantsEvent, type RetryPolicy, type UrlPolicy, type WebhookDelivery, type WebhookEndpoint } from "../core/webhooks.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store, StoreTx } from "../ports/store.js";
import type { WebhookSender } from "../ports/webhook-sender.js";
import type { Admin } from "./admin.js";
import type { Idempotency, Outcome } from "./batcher.js";
import { PerOrgRunner, RefreshingOrgSet } from "./org-watch.js";

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

export interface EndpointInput {
  readonly url: string;
  /** null: every event type. */
  readonly eventTypes: readonly string[] | null;
  readonly description: string;
}

export interface DispatchReport {
  /** Events handed to deliveries (or found to have no endpoint). */
  readonly dispatched: number;
  readonly attempted: number;
  readonly delivered: number;
}

/** Events fanned out per transaction, deliveries attempted per pass, attempts in flight at once. */
const FAN_OUT_BATCH = 100;
const DUE_BATCH = 100;
const PARALLEL_ATTEMPTS = 8;
/** A leased attempt is retried by any runner this long after its timeout (the runner died mid-attempt). */
const LEASE_MARGIN_MS = 30_000;
/** How stale this instance's list of organizations with endpoints may get. */
const ENDPOINT_ORGS_REFRESH_MS = 5_000;
/** The once-per-period marks of spend_limit.threshold, in percent. */
export const SPEND_THRESHOLDS = [50, 75, 90, 100] as const;

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(code: ErrorCode, message: string, details?: Record<string, unknown>): Result<T> => ({ ok: false, error: domainError(code, message, details) });
const iso = (t: number): string => new Date(t).toISOString();

/** The JSON body of every attempt of an event (Standard Webhooks: type, timestamp, data). */
export function webhookPayload(e: OutboxEvent, type: string = e.type): string {
  return JSON.stringify({ id: e.id, type, timestamp: iso(e.createdAt), org_id: e.orgId, data: e.data });
}

export class Webhooks {
  private running: Promise<DispatchReport> | undefined;
  private kickAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly attemptListeners: Array<(outcome: "delivered" | "failed" | "retry") => void> = [];
  /** Organizations with endpoints: money-path events are evaluated for these only. */
  private readonly endpointOrgs: RefreshingOrgSet;
  /** Money-path event evaluations, coalesced per organization. */
  private readonly evaluations: PerOrgRunner;

  constructor(
    private readonly store: Store,
    private readonly admin: Admin,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly options: WebhooksOptions,
  ) {
    this.endpointOrgs = new RefreshingOrgSet(
      () => this.store.read((tx) => tx.webhooks.listEndpointOrgIds()),
      this.clock,
      ENDPOINT_ORGS_REFRESH_MS,
      (err) => this.log.error("webhook endpoint org list refresh failed", { error: String(err) }),
    );
    this.evaluations = new PerOrgRunner(
      (orgId) => this.evaluateMoneyEvents(orgId),
      (orgId, err) => this.log.error("webhook event evaluation failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  // ------------------------------------------------------------ endpoints

  async createEndpoint(orgId: string, input: EndpointInput, idem?: Idempotency<WebhookEndpoint>): Promise<Outcome<WebhookEndpoint>> {
    const url = checkEndpointUrl(input.url, this.options.urls);
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
      if ((await tx.webhooks.listEndpoints(orgId)).length >= this.options.maxEndpointsPerOrg) {
        return fail<WebhookEndpoint>("conflict", `An organization may have at most ${this.options.maxEndpointsPerOrg} webhook endpoints.`, { max: this.options.maxEndpointsPerOrg });
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
    if (out.kind === "fresh" && out.result.ok) this.endpointOrgs.add(orgId);
    return out;
  }

  listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return this.store.read((tx) => tx.webhooks.listEndpoints(orgId));
  }

  async getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const e = await this.store.read((tx) => tx.webhooks.getEndpoint(id));
    return e && e.orgId === orgId && e.deletedAt === null ? e : undefined;
  }

  /** Deletes an endpoint: nothing more is sent to it; its delivery log stays readable by id. */
  async deleteEndpoint(orgId: string, id: string): Promise<Outcome<WebhookEndpoint>> {
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
    return this.store.read(async (tx) => {
      const e = await tx.webhooks.getEndpoint(endpointId);
      if (!e || e.orgId !== orgId) return fail<WebhookDelivery[]>("not_found", `No webhook endpoint ${endpointId}.`);
      return ok(await tx.webhooks.listDeliveries(endpointId, limit, before));
    });
  }

  /** Sends an event again: a new delivery of the same event (same webhook-id), attempted at once. */
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
    if (out.kind === "fresh" && out.result.ok) this.kick();
    return out;
  }

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
    if (out.kind === "fresh" && out.result.ok) this.kick();
    return out;
  }

  // ------------------------------------------------------------ the dispatcher

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
    if (!this.options.dispatchOnCommit || this.closed) return;
    if (this.running) {
      this.kickAgain = true;
      return;
    }
    this.kickAgain = false;
    void this.dispatch()
      .catch((err: unknown) => this.log.error("webhook dispatch failed", { error: err instanceof Error ? err.message : String(err) }))
      .then(() => {
        if (this.kickAgain) this.kick();
      });
  }

  /** Called after every recorded delivery attempt with its outcome (metrics). */
  onAttempt(listener: (outcome: "delivered" | "failed" | "retry") => void): void {
    this.attemptListeners.push(listener);
  }

  /** Resolves when no dispatcher run or money-path evaluation of this instance is in flight. */
  async idle(): Promise<void> {
    // A finishing evaluation can start a dispatch, and a dispatch nothing else: check all, again.
    while (this.running || this.refusals.size > 0 || this.evaluations.busy) {
      await Promise.all([this.running?.catch(() => undefined), this.evaluations.idle(), ...this.refusals]);
    }
  }

  /** Stops kicks and retry timers (pending deliveries stay pending for the next run), then drains. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.idle();
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
    const now = this.clock.now();
    for (;;) {
      const due = await this.store.read((tx) => tx.webhooks.dueDeliveries(now, DUE_BATCH));
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
    return this.store.transaction(async (tx) => {
      const now = this.clock.now();
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
  private async attempt(d: WebhookDelivery): Promise<"skipped" | "delivered" | "failed" | "retry"> {
    const seen = d.nextAttemptAt;
    if (seen === null) return "skipped";
    const leasedAt = this.clock.now();
    const lease = await this.store.transaction((tx) => tx.webhooks.leaseDelivery(d.id, seen, leasedAt + this.options.timeoutMs + LEASE_MARGIN_MS));
    if (!lease) return "skipped"; // another runner is attempting it
    const { event, endpoint } = await this.store.read(async (tx) => ({ event: await tx.webhooks.getEvent(d.eventId), endpoint: await tx.webhooks.getEndpoint(d.endpointId) }));
    let status: number | null = null;
    let error: string | null;
    if (!event) {
      error = "event not found";
    } else if (!endpoint || endpoint.deletedAt !== null) {
      error = "endpoint deleted";
    } else {
      const body = webhookPayload(event, deliveredEventType(endpoint, event.type, this.clock.now(), this.options.legacyEventNamesUntil));
      const headers = await signedHeaders(endpoint.secret, event.id, this.clock.now(), body);
      const res = await this.sender.send({ url: endpoint.url, headers: { ...headers }, body, timeoutMs: this.options.timeoutMs });
      status = res.status;
      error = res.error;
    }
    const now = this.clock.now();
    const success = status !== null && status >= 200 && status < 300;
    // A deleted endpoint or a vanished event will never succeed: fail at once, no retries.
    const next = success || !event || !endpoint || endpoint.deletedAt !== null ? null : nextAttemptAt(this.options.retry, d.attempts + 1, now);
    const outcome = success ? "delivered" : next === null ? "failed" : "retry";
    await this.store.transaction((tx) =>
      tx.webhooks.recordAttempt(d.id, { status: outcome === "retry" ? "pending" : outcome, nextAttemptAt: next, lastStatus: status, lastError: success ? null : error, at: now }),
    );
    for (const l of this.attemptListeners) l(outcome);
    if (outcome === "retry" && next !== null) this.scheduleRetry(next);
    if (outcome === "failed") this.log.error("webhook delivery failed for good", { delivery_id: d.id, endpoint_id: d.endpointId, event_id: d.eventId, attempts: d.attempts + 1, error });
    return outcome;
  }

  /** A local timer for the earliest retry this instance scheduled, so retries need not wait for the tick. */
  private scheduleRetry(at: number): void {
    if (!this.options.dispatchOnCommit || this.closed || at >= this.retryAt) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryAt = Number.POSITIVE_INFINITY;
      this.kick();
    }, Math.max(0, at - this.clock.now()));
    this.retryTimer.unref();
  }

  // ------------------------------------------------------------ money-path events

  /**
   * After a settle or usage event commits: evaluates credits.depleted and the spend-limit events
   * for the org, in the background, coalesced per org (like auto-reload). Only organizations with
   * a webhook endpoint are evaluated: these events exist to be delivered, and evaluating costs a
   * snapshot read per settle.
   */
  noteSettled(orgId: string): void {
    if (!this.closed && this.endpointOrgs.mayContain(orgId)) this.evaluations.request(orgId);
  }

  /**
   * A refusal with window_exhausted: one window.exhausted event per member, window and window
   * period (keyed by its reset time), for organizations with a webhook endpoint.
   */
  noteRefused(orgId: string, memberId: string, error: DomainError): void {
    if (this.closed || error.code !== "window_exhausted" || !this.endpointOrgs.mayContain(orgId)) return;
    const window = String(error.details?.["window"] ?? "");
    const resetsAt = Date.parse(String(error.details?.["resets_at"] ?? ""));
    if (!window || !Number.isFinite(resetsAt)) return;
    const run = this.store
      .transaction(async (tx) => {
        const now = this.clock.now();
        if (!(await tx.webhooks.claimNotice(`window.exhausted:${memberId}:${window}`, resetsAt, 0, orgId, now))) return false;
        await tx.moneyIn.insertEvents([{ id: newId("event", now), orgId, type: "window.exhausted", data: { member_id: memberId, window, resets_at: iso(resetsAt) }, createdAt: now }]);
        return true;
      })
      .then((wrote) => {
        if (wrote) this.kick();
      })
      .catch((err: unknown) => this.log.error("window.exhausted notice failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.refusals.delete(run));
    this.refusals.add(run);
  }

  private readonly refusals = new Set<Promise<void>>();

  /**
   * Load → decide → write. A read first (most settles change nothing: every mark already sent);
   * only then a transaction that claims each notice once (event_notices' primary key, so two
   * instances evaluating together still emit once) and writes the events.
   */
  async evaluateMoneyEvents(orgId: string): Promise<OutboxEvent[]> {
    const changes = await this.store.read((tx) => this.decideMoneyEvents(tx, orgId, false));
    if (changes.length === 0) return [];
    const written = await this.store.transaction(async (tx) => {
      const events = await this.decideMoneyEvents(tx, orgId, true);
      await tx.moneyIn.insertEvents(events);
      return events;
    });
    if (written.length > 0) this.kick();
    return written;
  }

  /** The money-path events now due for the org. `write` false: only tells whether anything would change. */
  private async decideMoneyEvents(tx: StoreTx, orgId: string, write: boolean): Promise<OutboxEvent[]> {
    const now = this.clock.now();
    const orgs = await tx.lockOrgs([orgId], false);
    const org = orgs[0];
    if (!org) return [];
    const snap = await tx.loadSnapshot({ orgIds: [orgId], memberIds: [], holdIds: [], allSpend: true, now }, orgs);
    const events: OutboxEvent[] = [];
    const emit = (type: EventType, data: Record<string, unknown>) => events.push({ id: newId("event", now), orgId, type, data, createdAt: now });
    const claim = async (subject: string, periodStart: number, mark: number): Promise<boolean> =>
      write ? tx.webhooks.claimNotice(subject, periodStart, mark, orgId, now) : !(await tx.webhooks.hasNotice(subject, periodStart, mark));

    // credits.depleted: once per dip of the usage-credit balance to zero or below.
    if (org.usageCreditsEnabled) {
      const balance = new Books(snap, () => "unused").balance(orgId, now);
      const subject = `credits.depleted:${orgId}`;
      if (balance <= 0) {
        if (await claim(subject, 0, 0)) emit("credits.depleted", { balance: String(balance), debt: String(org.debt) });
      } else if (await tx.webhooks.hasNotice(subject, 0, 0)) {
        if (write) await tx.webhooks.clearNotices(subject);
        else emit("credits.depleted", {}); // not an event: tells the caller there is a write to do
      }
    }

    // Spend limits: each mark once per limit and period; `reached` once there is no headroom left.
    for (const limit of snap.limits) {
      if (limit.orgId !== orgId || limit.amount === null || limit.amount <= 0) continue;
      const period = periodBounds(limit.period, now);
      const scopeKey = limit.scope === "organization" ? "org" : limit.scopeId;
      // Counted as the books count (money-rules.md): charges on the day they settle, pending holds
      // whatever day they were authorized on. Alert-only budgets (stop_usage false) alert alike.
      let spent = 0;
      let held = 0;
      for (const d of snap.spendDays) {
        if (d.orgId !== orgId || d.scopeKey !== scopeKey) continue;
        if (d.day >= dayOf(period.start)) spent += d.spent;
        held += d.held;
      }
      const base = { limit_id: limit.id, scope: limit.scope, scope_id: limit.scopeId, period: limit.period, amount: String(limit.amount), stop_usage: limit.stopUsage, spent: String(spent), resets_at: iso(period.end) };
      // Lowest mark first: a settle that crosses several marks sends one event per mark, in order.
      for (const mark of SPEND_THRESHOLDS) {
        if (spent * 100 < limit.amount * mark) break;
        if (await claim(`spend_limit.threshold:${limit.id}`, period.start, mark)) emit("spend_limit.threshold", { ...base, threshold_percent: mark });
      }
      if (spent + held >= limit.amount && (await claim(`spend_limit.reached:${limit.id}`, period.start, 0))) emit("spend_limit.reached", { ...base, held: String(held) });
      // "And over": spend past the amount, which only an alert-only budget allows (or debt, beyond a hold).
      if (spent > limit.amount && (await claim(`spend_limit.exceeded:${limit.id}`, period.start, 0))) emit("spend_limit.exceeded", { ...base, over: String(spent - limit.amount) });
    }
    return events;
  }
}

/** Wraps a store so that a commit which wrote outbox events calls `onEvents` (the dispatcher's kick). */
export function kickingStore(store: Store, onEvents: () => void): Store {
  const watch = (tx: StoreTx, wrote: () => void): StoreTx =>
    new Proxy(tx, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop !== "moneyIn") return typeof value === "function" ? value.bind(target) : value;
        const moneyIn = target.moneyIn;
        return new Proxy(moneyIn, {
          get(m, p) {
            const v: unknown = Reflect.get(m, p, m);
            if (p === "insertEvents") {
              return (events: readonly OutboxEvent[]) => {
                if (events.length > 0) wrote();
                return m.insertEvents(events);
              };
            }
            return typeof v === "function" ? v.bind(m) : v;
          },
        });
      },
    });
  return {
    capabilities: store.capabilities,
    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      let wrote = false;
      const result = await store.transaction((tx) => fn(watch(tx, () => (wrote = true))));
      if (wrote) onEvents();
      return result;
    },
    read: (fn) => store.read(fn),
    schemaVersion: () => store.schemaVersion(),
    close: () => store.close(),
  };
}

/** A delivery of `event` to one endpoint, due now. */
function newDelivery(orgId: string, endpointId: string, event: { readonly id: string; readonly type: EventType }, now: number): WebhookDelivery {
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
