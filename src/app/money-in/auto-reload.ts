// Auto-reload: settings, and the evaluation after a settle — load → decide (core/auto-reload.ts) →
// write in one transaction; then the charge, outside it, through the payment state machine.

import { Books } from "../../core/books.js";
import { decideReload, isLow, validateReloadSettings, type ReloadDecision, type ReloadSettingsInput } from "../../core/auto-reload.js";
import { newId } from "../../core/ids.js";
import { periodBounds } from "../../core/limits.js";
import type { AutoReloadSettings, OutboxEvent, Payment, ReloadAttempt } from "../../core/money-in-model.js";
import type { StoreTx } from "../../ports/store.js";
import { appendAudit, asSystem } from "../audit.js";
import type { Outcome } from "../batcher.js";
import { PerOrgRunner, RefreshingOrgSet } from "../org-watch.js";
import { event, fail, fresh, ok, pendingPayment, type MoneyInDeps, type ReloadOutcome } from "./common.js";
import type { Payments } from "./payments.js";

/** How stale this instance's list of organizations with auto-reload settings may get (other instances' changes). */
const RELOAD_ORGS_REFRESH_MS = 5_000;

type ReloadState = Awaited<ReturnType<AutoReload["reloadState"]>>;
type Decided = { readonly decision: ReloadDecision; readonly payment: Payment | undefined; readonly reload: ReloadOutcome | undefined };

export class AutoReload {
  /** Organizations with auto-reload settings: a settle of any other organization costs nothing. */
  private readonly reloadOrgs: RefreshingOrgSet;
  /** Auto-reload evaluations, coalesced per organization. */
  private readonly evaluations: PerOrgRunner;
  private readonly driving = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: MoneyInDeps,
    private readonly payments: Payments,
    private readonly reloaded: (outcome: ReloadOutcome | undefined) => void,
  ) {
    this.reloadOrgs = new RefreshingOrgSet(
      () => deps.store.read((tx) => tx.moneyIn.listAutoReloadOrgIds()),
      deps.clock,
      RELOAD_ORGS_REFRESH_MS,
      (err) => deps.log.error("auto-reload org list refresh failed", { error: String(err) }),
    );
    this.evaluations = new PerOrgRunner(
      // Auto-reload acts for nobody in particular (whoever's settle woke it): the audit log says system.
      (orgId) => asSystem(() => this.evaluate(orgId)),
      (orgId, err) => deps.log.error("auto-reload evaluation failed", { org_id: orgId, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  get(orgId: string): Promise<AutoReloadSettings | undefined> {
    return this.deps.store.read((tx) => tx.moneyIn.getAutoReload(orgId));
  }

  /** Replaces the settings. A different payment method lifts a suspension and resets the failure count. */
  async set(orgId: string, input: ReloadSettingsInput): Promise<Outcome<AutoReloadSettings>> {
    const valid = validateReloadSettings(input, this.deps.options.reload);
    if (!valid.ok) return fresh(valid);
    const out = await this.deps.admin.write<AutoReloadSettings>(undefined, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      if (input.paymentMethodId !== null) {
        const pm = await tx.moneyIn.getPaymentMethod(input.paymentMethodId);
        if (!pm || pm.orgId !== orgId || pm.detachedAt !== null) return fail("not_found", `No payment method ${input.paymentMethodId}.`, { field: "payment_method_id" });
      }
      const prior = await tx.moneyIn.getAutoReload(orgId);
      const newMethod = prior === undefined || prior.paymentMethodId !== input.paymentMethodId;
      const next: AutoReloadSettings = {
        orgId,
        ...input,
        consecutiveFailures: newMethod ? 0 : (prior?.consecutiveFailures ?? 0),
        suspended: newMethod ? false : (prior?.suspended ?? false),
        lastFailureAt: newMethod ? null : (prior?.lastFailureAt ?? null),
        // A skip is recorded once per episode; a new payment method starts a new one.
        lastSkipReason: newMethod ? null : (prior?.lastSkipReason ?? null),
        lowBalanceNotified: prior?.lowBalanceNotified ?? false,
        updatedAt: now,
      };
      await tx.moneyIn.putAutoReload(next);
      audit.record({ orgId, action: "auto_reload.updated", targetType: "auto_reload", targetId: orgId, before: prior ?? null, after: next });
      return ok(next);
    });
    // New settings may already call for a reload.
    if (out.kind === "fresh" && out.result.ok) {
      this.reloadOrgs.add(orgId);
      this.evaluateSoon(orgId);
    }
    return out;
  }

  listAttempts(orgId: string, limit = 100): Promise<ReloadAttempt[]> {
    return this.deps.store.read((tx) => tx.moneyIn.listReloadAttempts(orgId, limit));
  }

  /**
   * Asks for an auto-reload evaluation of the org (after a settle commits). Coalesced per org in
   * this process: one evaluation runs, and one more follows if settles arrived meanwhile. Across
   * processes the org row lock and the one-pending-reload unique index keep it to one reload.
   */
  evaluateSoon(orgId: string): void {
    if (this.reloadOrgs.mayContain(orgId)) this.evaluations.request(orgId);
  }

  /** Resolves when no evaluation (and no reload it started) is running. */
  async idle(): Promise<void> {
    for (;;) {
      await this.evaluations.idle();
      if (this.driving.size === 0) return;
      await Promise.all(this.driving);
    }
  }

  /** Load → decide → write; then the charge, outside the transaction. */
  async evaluate(orgId: string): Promise<ReloadDecision | undefined> {
    const { store, clock, options } = this.deps;
    // A read first: most settles leave the balance above the threshold, and need no write at all.
    const peek = await store.read(async (tx) => {
      const s = await tx.moneyIn.getAutoReload(orgId);
      return s ? { s, state: await this.reloadState(tx, orgId, s, clock.now()) } : undefined;
    });
    if (!peek) return undefined;
    const quiet = decideReload(peek.s, peek.state, options.reload).kind === "none" && !isLow(peek.s, peek.state) && !peek.s.lowBalanceNotified && peek.s.lastSkipReason === null;
    if (quiet) return { kind: "none" };

    const decided = await store.transaction(async (tx) => {
      const now = clock.now();
      const [org] = await tx.lockOrgs([orgId]);
      const s = org ? await tx.moneyIn.getAutoReload(orgId) : undefined;
      if (!org || !s) return undefined;
      return this.decideAndWrite(tx, orgId, s, await this.reloadState(tx, orgId, s, now), now);
    });
    this.reloaded(decided?.reload);
    if (decided?.payment) {
      const driving = this.payments.drive(decided.payment);
      this.driving.add(driving);
      try {
        await driving;
      } finally {
        this.driving.delete(driving);
      }
    }
    return decided?.decision;
  }

  /** The decision and its writes (low-balance notice, a skip recorded once, or a pending reload payment). */
  private async decideAndWrite(tx: StoreTx, orgId: string, s: AutoReloadSettings, state: ReloadState, now: number): Promise<Decided> {
    const decision = decideReload(s, state, this.deps.options.reload);
    const low = isLow(s, state);
    const events: OutboxEvent[] = [];
    let next: AutoReloadSettings = s;
    let reload: ReloadOutcome | undefined;
    if (low && !s.lowBalanceNotified) {
      events.push(event(orgId, "credits.low_balance", { balance: String(state.balance), pending_reloads: String(state.pending), threshold: String(s.threshold) }, now));
      next = { ...next, lowBalanceNotified: true };
    } else if (!low && (s.lowBalanceNotified || s.lastSkipReason !== null)) {
      next = { ...next, lowBalanceNotified: false, lastSkipReason: null };
    }
    let payment: Payment | undefined;
    const effective = state.balance + state.pending;
    if (decision.kind === "skip" && s.lastSkipReason !== decision.reason) {
      await tx.moneyIn.insertReloadAttempt({ id: newId("reloadAttempt", now), orgId, at: now, outcome: "skipped", reason: decision.reason, amount: 0, balance: effective, paymentId: null, failureCode: null, resolvedAt: now });
      events.push(event(orgId, "auto_reload.failed", { reason: decision.reason, balance: String(effective), threshold: String(s.threshold) }, now));
      next = { ...next, lastSkipReason: decision.reason };
      reload = "skipped";
    } else if (decision.kind === "charge") {
      const id = newId("payment", now);
      payment = pendingPayment({
        id,
        orgId,
        purpose: "auto_reload",
        amount: decision.amount,
        creditAmount: decision.amount,
        paymentMethodId: s.paymentMethodId ?? "",
        bundleId: null,
        idempotencyKey: `reload:${id}`,
        requestHash: null,
        createdBy: null,
        creditRequestId: null,
        offSession: true,
        now,
      });
      await tx.moneyIn.insertPayment(payment);
      await appendAudit(tx, [{ orgId, action: "payment.created", targetType: "payment", targetId: id, before: null, after: payment }], now);
      await tx.moneyIn.insertReloadAttempt({ id: newId("reloadAttempt", now), orgId, at: now, outcome: "pending", reason: null, amount: decision.amount, balance: effective, paymentId: id, failureCode: null, resolvedAt: null });
      next = { ...next, lastSkipReason: null };
      reload = "started";
    }
    if (next !== s) await tx.moneyIn.putAutoReload({ ...next, updatedAt: now });
    await tx.moneyIn.insertEvents(events);
    return { decision, payment, reload };
  }

  private async reloadState(tx: StoreTx, orgId: string, s: AutoReloadSettings, now: number) {
    const orgs = await tx.lockOrgs([orgId], false); // already locked by the caller's transaction, or a read
    const snap = await tx.loadSnapshot({ orgIds: [orgId], memberIds: [], holdIds: [], now }, orgs);
    const balance = new Books(snap, () => "unused").balance(orgId, now);
    const pending = await tx.moneyIn.pendingReload(orgId);
    const month = periodBounds("monthly", now);
    const monthCharged = await tx.moneyIn.sumCharged(orgId, ["auto_reload"], month.start, month.end);
    const pm = s.paymentMethodId !== null ? await tx.moneyIn.getPaymentMethod(s.paymentMethodId) : undefined;
    return { balance, pending: pending?.creditAmount ?? 0, monthCharged, paymentMethodUsable: pm !== undefined && pm.orgId === orgId && pm.detachedAt === null, now };
  }
}
