// Money-path events, evaluated after commits: credits.depleted, spend_limit.threshold,
// spend_limit.reached, spend_limit.exceeded and window.exhausted. Each is claimed once (the
// event_notices primary key) and written to the outbox for the dispatcher.

import { Books } from "../../core/books.js";
import type { DomainError } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { dayOf, periodBounds } from "../../core/limits.js";
import type { EventType, OutboxEvent } from "../../core/money-in-model.js";
import type { StoreTx } from "../../ports/store.js";
import { PerOrgRunner, RefreshingOrgSet } from "../org-watch.js";
import { iso, type WebhooksDeps } from "./common.js";

/** How stale this instance's list of organizations with endpoints may get. */
const ENDPOINT_ORGS_REFRESH_MS = 5_000;
/** The once-per-period marks of spend_limit.threshold, in percent. */
export const SPEND_THRESHOLDS = [50, 75, 90, 100] as const;

export class MoneyEvents {
  /** Organizations with endpoints: money-path events are evaluated for these only. */
  private readonly endpointOrgs: RefreshingOrgSet;
  /** Money-path event evaluations, coalesced per organization. */
  private readonly evaluations: PerOrgRunner;
  private readonly refusals = new Set<Promise<void>>();

  constructor(
    private readonly deps: WebhooksDeps,
    private readonly hooks: { readonly closed: () => boolean; readonly kick: () => void },
  ) {
    this.endpointOrgs = new RefreshingOrgSet(
      () => deps.store.read((tx) => tx.webhooks.listEndpointOrgIds()),
      deps.clock,
      ENDPOINT_ORGS_REFRESH_MS,
      (err) => deps.log.error("webhook endpoint org list refresh failed", { error: String(err) }),
    );
    this.evaluations = new PerOrgRunner(
      (orgId) => this.evaluateMoneyEvents(orgId),
      (orgId, err) => deps.log.error("webhook event evaluation failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  /** An organization now has an endpoint (this instance need not wait for the list's refresh). */
  endpointAdded(orgId: string): void {
    this.endpointOrgs.add(orgId);
  }

  /** An evaluation or a window.exhausted notice of this instance is in flight. */
  get busy(): boolean {
    return this.refusals.size > 0 || this.evaluations.busy;
  }

  /** Resolves when the evaluations and notices in flight now have ended. */
  async settled(): Promise<void> {
    await Promise.all([this.evaluations.idle(), ...this.refusals]);
  }

  /**
   * After a settle or usage event commits: evaluates credits.depleted and the spend-limit events
   * for the org, in the background, coalesced per org (like auto-reload). Only organizations with
   * a webhook endpoint are evaluated: these events exist to be delivered, and evaluating costs a
   * snapshot read per settle.
   */
  noteSettled(orgId: string): void {
    if (!this.hooks.closed() && this.endpointOrgs.mayContain(orgId)) this.evaluations.request(orgId);
  }

  /**
   * A refusal with window_exhausted: one window.exhausted event per member, window and window
   * period (keyed by its reset time), for organizations with a webhook endpoint.
   */
  noteRefused(orgId: string, memberId: string, error: DomainError): void {
    if (this.hooks.closed() || error.code !== "window_exhausted" || !this.endpointOrgs.mayContain(orgId)) return;
    const window = String(error.details?.["window"] ?? "");
    const resetsAt = Date.parse(String(error.details?.["resets_at"] ?? ""));
    if (!window || !Number.isFinite(resetsAt)) return;
    const run = this.deps.store
      .transaction(async (tx) => {
        const now = this.deps.clock.now();
        if (!(await tx.webhooks.claimNotice(`window.exhausted:${memberId}:${window}`, resetsAt, 0, orgId, now))) return false;
        await tx.moneyIn.insertEvents([{ id: newId("event", now), orgId, type: "window.exhausted", data: { member_id: memberId, window, resets_at: iso(resetsAt) }, createdAt: now }]);
        return true;
      })
      .then((wrote) => {
        if (wrote) this.hooks.kick();
      })
      .catch((err: unknown) => this.deps.log.error("window.exhausted notice failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => this.refusals.delete(run));
    this.refusals.add(run);
  }

  /**
   * Load → decide → write. A read first (most settles change nothing: every mark already sent);
   * only then a transaction that claims each notice once (event_notices' primary key, so two
   * instances evaluating together still emit once) and writes the events.
   */
  async evaluateMoneyEvents(orgId: string): Promise<OutboxEvent[]> {
    const changes = await this.deps.store.read((tx) => this.decideMoneyEvents(tx, orgId, false));
    if (changes.length === 0) return [];
    const written = await this.deps.store.transaction(async (tx) => {
      const events = await this.decideMoneyEvents(tx, orgId, true);
      await tx.moneyIn.insertEvents(events);
      return events;
    });
    if (written.length > 0) this.hooks.kick();
    return written;
  }

  /** The money-path events now due for the org. `write` false: only tells whether anything would change. */
  private async decideMoneyEvents(tx: StoreTx, orgId: string, write: boolean): Promise<OutboxEvent[]> {
    const now = this.deps.clock.now();
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

