// The books: the state of a set of organizations, changed by operations applied one at a time
// in arrival order. A store loads a Snapshot, the books decide, and the store writes `changes()`
// in one transaction. Nothing here does I/O; the result of a batch is by construction the result
// of applying its operations one at a time.
//
// Consumption order (DOMAIN.md §4), decided in `authorize`:
//   1. premium capabilities (fast mode) and credit-only surfaces skip the plan;
//   2. plan windows pay if every applicable window still has room;
//   3. included surface credits (monthly SDK credits) and 4. usage credits, drawn together in
//      burn order (grants.ts), usage credits only if enabled and within every hard spending limit;
//      no grant at all while the organization is in debt;
//   5. otherwise refuse, saying which window or limit and when it resets: the window whenever the
//      plan would have paid had it had room, else the credits' reason.
// Every rule, with its example and its tests: docs/money-rules.md.
//
// A plan window admits a request while it has room (used + held < quota) and the whole request
// counts against it, so the last request of a window may overshoot its quota (quotas are plan
// allowance, not money). Spending limits and balances are hard: a hold is admitted only if the
// whole estimate fits.

import { domainError, type DomainError, type Result } from "./errors.js";
import { burnOrder, drawInOrder, isIncluded, isSpendable, type Draw, type Grant, type GrantKind } from "./grants.js";
import { dayOf, periodBounds, type Headroom, type SpendLimit } from "./limits.js";
import type { Micros } from "./money.js";
import { seatOf, windowApplies, windowPeriod, type PlanDef, type Surface, type WindowDef } from "./plans.js";
import type { Speed, Usage } from "./rating.js";
import {
  ACCOUNTS,
  type Hold,
  type HoldOwner,
  type LedgerEntry,
  type LedgerKind,
  type LedgerTransaction,
  type Member,
  type Organization,
  type Snapshot,
  type SpendDay,
  type UsageRecord,
  type WindowRef,
  type WindowUsage,
} from "./model.js";


/** Token counts of a settled request, for usage reports (money never depends on them). */
export interface Tokens {
  readonly input: number;
  readonly output: number;
}
export const NO_TOKENS: Tokens = { input: 0, output: 0 };

/** Input (fresh, cache writes, cache reads) and output tokens of a usage. */
export function tokensOf(u: Usage | undefined): Tokens {
  if (!u) return NO_TOKENS;
  return { input: u.input_tokens + u.cache_creation_5m_input_tokens + u.cache_creation_1h_input_tokens + u.cache_read_input_tokens, output: u.output_tokens };
}

export interface AuthorizeRequest {
  readonly holdId: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly surface: Surface;
  readonly model: string;
  readonly family: string;
  readonly speed: Speed;
  /** Worst-case cost, already rated. */
  readonly estimate: Micros;
  readonly ttlMs: number;
  readonly metadata: Record<string, string>;
  /** Who may resolve the hold (default "api"); the gateway takes "gateway" holds. */
  readonly owner?: HoldOwner;
}

/**
 * Who asks to settle or release a hold. The gateway resolves only its own holds; an API caller
 * resolves "api" holds of its own member, or any member's with owner/admin/billing rights (or a
 * platform key: memberId null).
 */
export type HoldActor =
  | { readonly kind: "gateway" }
  | { readonly kind: "caller"; readonly memberId: string | null; readonly privileged: boolean };

/** Whether `actor` may resolve `hold`: undefined when it may, else the refusal. */
export function mayResolve(hold: Hold, actor: HoldActor): DomainError | undefined {
  if (actor.kind === "gateway") {
    return hold.owner === "gateway" ? undefined : domainError("forbidden", `Hold ${hold.id} was not taken by the gateway.`, { hold_id: hold.id });
  }
  if (hold.owner === "gateway") {
    return domainError("hold_owned_by_gateway", `Hold ${hold.id} belongs to a gateway request; the gateway settles it with the usage it relays.`, { hold_id: hold.id });
  }
  if (actor.memberId !== null && !actor.privileged && actor.memberId !== hold.memberId) {
    return domainError("hold_owned_by_other_member", `Hold ${hold.id} belongs to another member; only that member or an owner, admin or billing key may resolve it.`, { hold_id: hold.id });
  }
  return undefined;
}

export interface WindowStatus {
  readonly key: string;
  readonly quota: Micros;
  readonly used: Micros;
  readonly held: Micros;
  readonly periodStart: number;
  readonly resetsAt: number;
  /** Session windows with no request yet: the window starts with the next request. */
  readonly idle: boolean;
}

export interface SettleOutcome {
  readonly hold: Hold;
  readonly charged: Micros;
  readonly released: Micros;
  /** Part of the charge beyond the hold that no balance could pay. */
  readonly debt: Micros;
  /**
   * Part of the reported usage beyond the hold that was not charged: an API settle may not add
   * more than admission would have allowed (see `chargeExcess`). Always 0 for the gateway.
   */
  readonly unbilled: Micros;
}

export interface Changes {
  readonly orgs: Organization[];
  readonly grants: Grant[];
  readonly newGrants: Grant[];
  readonly holds: Hold[];
  readonly newHolds: Hold[];
  readonly windows: WindowUsage[];
  /** Deltas to add to the stored counters (not absolute values). */
  readonly spendDays: SpendDay[];
  readonly ledger: LedgerTransaction[];
  readonly usage: UsageRecord[];
}

export type NewId = (kind: "transaction" | "usageEvent") => string;

const windowKey = (memberId: string, key: string) => `${memberId}|${key}`;
const dayKey = (orgId: string, scopeKey: string, day: number) => `${orgId}|${scopeKey}|${day}`;

export class Books {
  private readonly windows = new Map<string, WindowUsage>();
  private readonly spendDays = new Map<string, SpendDay>();
  private readonly dirtyOrgs = new Set<string>();
  private readonly dirtyGrants = new Set<string>();
  private readonly createdGrants = new Set<string>();
  private readonly dirtyHolds = new Set<string>();
  private readonly createdHolds = new Set<string>();
  private readonly dirtyWindows = new Set<string>();
  /** Spend counters are written as deltas, so rows a batch did not load are never overwritten. */
  private readonly dayDeltas = new Map<string, SpendDay>();
  private readonly ledger: LedgerTransaction[] = [];
  private readonly usage: UsageRecord[] = [];
  /** Orgs whose loaded expired holds were unwound (once per batch, before the first admission). */
  private readonly unwoundOrgs = new Set<string>();

  constructor(
    private readonly snap: Snapshot,
    private readonly newId: NewId,
  ) {
    for (const w of snap.windows) this.windows.set(windowKey(w.memberId, w.key), w);
    for (const d of snap.spendDays) this.spendDays.set(dayKey(d.orgId, d.scopeKey, d.day), d);
  }

  // ---------------------------------------------------------------- reads

  org(id: string): Organization | undefined {
    return this.snap.orgs.get(id);
  }

  member(orgId: string, id: string): Member | undefined {
    const m = this.snap.members.get(id);
    return m && m.orgId === orgId ? m : undefined;
  }

  hold(orgId: string, id: string): Hold | undefined {
    const h = this.snap.holds.get(id);
    return h && h.orgId === orgId ? h : undefined;
  }

  grant(orgId: string, id: string): Grant | undefined {
    const g = this.snap.grants.get(id);
    return g && g.orgId === orgId ? g : undefined;
  }

  planOf(org: Organization): PlanDef {
    const plan = this.snap.plans.get(org.planId);
    if (!plan) throw new Error(`plan ${org.planId} of ${org.id} not loaded`);
    return plan;
  }

  /** Every window of the member's seat, as it stands at `now`. */
  windowStatus(org: Organization, member: Member, now: number, family?: string): WindowStatus[] {
    const seat = seatOf(this.planOf(org), member.seatTier);
    return seat.windows
      .filter((def) => family === undefined || windowApplies(def, family))
      .map((def) => this.statusOf(def, org, member, now));
  }

  private statusOf(def: WindowDef, org: Organization, member: Member, now: number): WindowStatus {
    const row = this.windows.get(windowKey(member.id, def.key));
    const period = windowPeriod(def, now, org.weeklyAnchor, row?.periodStart);
    const current = row !== undefined && row.periodStart === period.start;
    return {
      key: def.key,
      quota: def.quota,
      used: current ? row.used : 0,
      held: current ? row.held : 0,
      periodStart: period.start,
      resetsAt: period.resetsAt,
      idle: def.kind === "session" && !current,
    };
  }

  /** Usage-credit balance of the org: unexpired active usage-credit grants minus debt. */
  balance(orgId: string, now: number): Micros {
    let total = 0;
    for (const g of this.snap.grants.values()) {
      if (g.orgId === orgId && g.status === "active" && !isIncluded(g) && (g.expiresAt === null || g.expiresAt > now)) total += g.remaining;
    }
    return total - (this.org(orgId)?.debt ?? 0);
  }

  /** The limits that apply to a member, with this period's spend and headroom. */
  headrooms(org: Organization, member: Member, now: number): Headroom[] {
    const out: Headroom[] = [];
    for (const limit of this.snap.limits) {
      if (limit.orgId !== org.id || limit.amount === null) continue;
      const scopeKey = this.scopeKeyFor(limit, member);
      if (scopeKey === undefined) continue;
      const { start, end } = periodBounds(limit.period, now);
      const { spent, held } = this.spentSince(org.id, scopeKey, dayOf(start));
      out.push({ limit, spent, held, headroom: limit.amount - spent - held, resetsAt: end });
    }
    return out;
  }

  private scopeKeyFor(limit: SpendLimit, member: Member): string | undefined {
    switch (limit.scope) {
      case "organization":
        return "org";
      case "workspace":
        return member.workspaceId !== null && member.workspaceId === limit.scopeId ? limit.scopeId : undefined;
      case "member":
        return member.id === limit.scopeId ? member.id : undefined;
    }
  }

  /**
   * Settled spend from `fromDay` on, and every pending hold of the scope whatever day it was
   * authorized on: a hold taken before the period started settles in this period, so it takes
   * this period's headroom too (holds live at most a day: the store loads a day more).
   */
  private spentSince(orgId: string, scopeKey: string, fromDay: number): { spent: Micros; held: Micros } {
    let spent = 0;
    let held = 0;
    for (const d of this.spendDays.values()) {
      if (d.orgId !== orgId || d.scopeKey !== scopeKey) continue;
      if (d.day >= fromDay) spent += d.spent;
      held += d.held;
    }
    return { spent, held };
  }

  // ---------------------------------------------------------------- authorize

  authorize(req: AuthorizeRequest, now: number): Result<Hold> {
    const org = this.org(req.orgId);
    const member = this.member(req.orgId, req.memberId);
    if (!org || !member) return refuse(domainError("not_found", "No such organization member."));
    // Expired holds never block: the org's (loaded) expired holds give their money back first.
    if (!this.unwoundOrgs.has(org.id)) {
      this.unwoundOrgs.add(org.id);
      this.expireHolds(now, org.id);
    }
    if (req.speed === "fast" && !org.fastModeEnabled) {
      return refuse(domainError("fast_mode_disabled", "Fast mode has been disabled by your organization."));
    }
    if (req.speed === "fast" && !member.fastModeEnabled) {
      return refuse(domainError("fast_mode_disabled", "Fast mode is not allowed for you in this organization; ask an admin."));
    }
    const plan = this.planOf(org);
    const base = {
      id: req.holdId,
      orgId: org.id,
      memberId: member.id,
      workspaceId: member.workspaceId,
      surface: req.surface,
      model: req.model,
      speed: req.speed,
      amount: req.estimate,
      day: dayOf(now),
      createdAt: now,
      expiresAt: now + req.ttlMs,
      status: "pending" as const,
      settledAmount: 0,
      resolvedAt: null,
      metadata: req.metadata,
      owner: req.owner ?? "api",
    };

    // 1–2. The plan pays when the request may use it and every applicable window has room.
    const premium = req.speed === "fast";
    const usesPlan = !premium && !plan.creditOnlySurfaces.includes(req.surface);
    let exhausted: WindowStatus | undefined;
    if (usesPlan) {
      const seat = seatOf(plan, member.seatTier);
      const defs = seat.windows.filter((d) => windowApplies(d, req.family));
      if (defs.length > 0) {
        const statuses = defs.map((d) => this.statusOf(d, org, member, now));
        const full = statuses.filter((s) => s.used + s.held >= s.quota);
        if (full.length === 0) {
          for (const s of statuses) {
            const row = this.windowRow(member.id, s.key, s.periodStart);
            row.held += req.estimate;
          }
          const hold: Hold = { ...base, payer: "plan", draws: [], limitedAmount: 0, windows: statuses.map((s) => ({ key: s.key, periodStart: s.periodStart })) };
          this.addHold(hold);
          return { ok: true, value: hold };
        }
        // The window that blocks longest is the one to report.
        exhausted = full.reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a));
      }
    }

    // 3–4. Credits: included surface credits and usage credits, in burn order. Debt blocks every
    // grant, included ones too (money-rules.md "Debt"): the next grant repays it first.
    const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled;
    const usable = org.debt > 0 ? [] : this.spendableGrants(org.id, member.id, req.surface, now).filter((g) => isIncluded(g) || creditsAllowed);
    // Admission is the same for every estimate: a $0 hold faces the checks a 1 µ$ one would
    // (credits disabled, debt, a spent limit), or it would open a hold that a settle could grow.
    const need = Math.max(req.estimate, 1);
    const probe = drawInOrder(usable, need);
    const creditRefusal = this.creditRefusal(org, member, need, probe.unpaid, probe.draws, now);
    if (creditRefusal) {
      // Precedence (money-rules.md "Which refusal wins"): when the plan would have paid had its
      // window had room, the answer is the window and its reset, whatever stopped the credits;
      // why the credits could not pay rides along in details.credits.
      if (exhausted) {
        return refuse(
          domainError("window_exhausted", `You've hit your ${windowName(exhausted.key)} limit.`, {
            ...windowDetail(exhausted),
            credits: { code: creditRefusal.code, message: creditRefusal.message, ...(creditRefusal.details ?? {}) },
          }),
        );
      }
      return refuse(creditRefusal);
    }
    const draws = need === req.estimate ? probe.draws : drawInOrder(usable, req.estimate).draws;
    const limitedAmount = this.limitedPart(draws);

    const entries: LedgerEntry[] = [];
    for (const d of draws) {
      this.changeGrant(d.grantId, -d.amount);
      entries.push({ account: ACCOUNTS.grant(d.grantId), amount: -d.amount });
    }
    entries.push({ account: ACCOUNTS.hold(req.holdId), amount: req.estimate });
    this.post(org.id, "hold", req.holdId, now, entries);
    this.addSpend(member, base.day, "held", limitedAmount);
    const hold: Hold = { ...base, payer: "credits", draws, limitedAmount, windows: [] };
    this.addHold(hold);
    return { ok: true, value: hold };
  }

  /**
   * Why credits cannot pay `estimate` (undefined: they can). Checked in this order: debt (it blocks
   * every grant), usage credits switched off, balance, then the hard spending limits (alert-only
   * budgets never refuse) on the usage-credit part.
   * Every amount in details is a string of digits, like every amount on the wire.
   */
  private creditRefusal(org: Organization, member: Member, estimate: Micros, unpaid: Micros, draws: readonly Draw[], now: number): DomainError | undefined {
    const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled;
    if (unpaid > 0) {
      if (!creditsAllowed && org.debt === 0) {
        return domainError("usage_credits_disabled", "Usage credits are not enabled for this member or organization.", {
          org_enabled: org.usageCreditsEnabled,
          member_enabled: member.usageCreditsEnabled,
        });
      }
      return domainError("insufficient_credits", org.debt > 0 ? "Your credit balance is negative (debt); add funds to repay it before using credits again." : "Your credit balance is too low to cover this request.", {
        required: String(estimate),
        available: String(estimate - unpaid),
        debt: String(org.debt),
      });
    }
    const limitedAmount = this.limitedPart(draws);
    if (limitedAmount === 0) return undefined;
    const blocking = this.headrooms(org, member, now)
      .filter((h) => h.limit.stopUsage && h.headroom < limitedAmount)
      .sort((a, b) => a.headroom - b.headroom || a.resetsAt - b.resetsAt)[0];
    if (!blocking) return undefined;
    return domainError("spend_limit_reached", `The ${blocking.limit.period} ${blocking.limit.scope} spending limit has been reached.`, {
      limit_id: blocking.limit.id,
      scope: blocking.limit.scope,
      period: blocking.limit.period,
      amount: String(blocking.limit.amount),
      spent: String(blocking.spent),
      headroom: String(Math.max(0, blocking.headroom)),
      required: String(limitedAmount),
      resets_at: new Date(blocking.resetsAt).toISOString(),
    });
  }

  // ---------------------------------------------------------------- settle / release

  /**
   * Charges `actual` against a pending hold and releases the rest; beyond the hold, see
   * `chargeExcess`. The gateway's settle of its own hold that expired (or was released) meanwhile
   * still bills what it relayed: a `relayed_charge` without a hold (see `chargeRelayed`).
   */
  settle(orgId: string, holdId: string, actual: Micros, now: number, tokens: Tokens = NO_TOKENS, actor?: HoldActor): Result<SettleOutcome> {
    const checked = this.pendingHold(orgId, holdId, now, actor);
    if (!checked.ok) {
      const late = this.hold(orgId, holdId);
      if (actor?.kind === "gateway" && late && (late.status === "expired" || late.status === "released")) return this.chargeRelayed(late, actual, now, tokens);
      return checked;
    }
    const hold = checked.value;
    const member = this.snap.members.get(hold.memberId);
    if (!member) throw new Error(`member ${hold.memberId} of hold ${hold.id} not loaded`);
    let debt = 0;
    let unbilled = 0;
    let creditCost = 0;
    if (hold.payer === "plan") {
      for (const ref of hold.windows) {
        const row = this.windows.get(windowKey(hold.memberId, ref.key));
        // A window that rolled over since the hold was taken no longer carries it.
        if (row && row.periodStart === ref.periodStart) {
          row.held = Math.max(0, row.held - hold.amount);
          row.used += actual;
          this.dirtyWindows.add(windowKey(hold.memberId, ref.key));
        }
      }
    } else {
      const entries: LedgerEntry[] = [];
      let left = actual;
      let limitedCharged = 0;
      let charged = 0;
      for (const d of hold.draws) {
        const grant = this.snap.grants.get(d.grantId);
        if (!grant) throw new Error(`grant ${d.grantId} of hold ${hold.id} not loaded`);
        const take = Math.min(d.amount, left);
        left -= take;
        charged += take;
        if (!isIncluded(grant)) limitedCharged += take;
        const back = d.amount - take;
        if (back > 0) this.returnToGrant(grant, back, hold.id, entries, now);
      }
      entries.push({ account: ACCOUNTS.hold(hold.id), amount: -hold.amount });
      if (charged > 0) entries.push({ account: ACCOUNTS.usageRevenue, amount: charged });
      // The hold's reservation becomes spend before any excess is weighed against the limits. The
      // hold leaves the day it was authorized on; the charge counts on the day it settles
      // (money-rules.md "Which period a charge counts in"), the day its ledger posting carries.
      this.addSpend(member, hold.day, "held", -hold.limitedAmount);
      this.addSpend(member, dayOf(now), "spent", limitedCharged);
      if (left > 0) {
        const excess = this.chargeExcess(hold, member, left, now, entries, actor?.kind !== "gateway");
        this.addSpend(member, dayOf(now), "spent", excess.limited);
        limitedCharged += excess.limited;
        debt = excess.debt;
        unbilled = excess.unbilled;
      }
      this.post(orgId, "settle", hold.id, now, entries);
      creditCost = limitedCharged;
    }
    const billed = actual - unbilled;
    this.resolve(hold, "settled", billed, now);
    this.recordUsage(hold, billed, creditCost, tokens, now);
    return { ok: true, value: { hold, charged: billed, released: Math.max(0, hold.amount - actual), debt, unbilled } };
  }

  /** The usage record of a hold's charge (`cost`; of it, `creditCost` paid by usage credits). */
  private recordUsage(hold: Hold, cost: Micros, creditCost: Micros, tokens: Tokens, now: number): void {
    this.usage.push({
      id: this.newId("usageEvent"),
      orgId: hold.orgId,
      memberId: hold.memberId,
      workspaceId: hold.workspaceId,
      holdId: hold.id,
      surface: hold.surface,
      model: hold.model,
      speed: hold.speed,
      payer: hold.payer,
      cost,
      creditCost,
      inputTokens: tokens.input,
      outputTokens: tokens.output,
      at: now,
    });
  }

  /**
   * Usage the gateway relayed under a hold that expired (or was released) before it could settle:
   * billed all the same, as a plain charge without a hold (`relayed_charge`): spendable grants in
   * burn order, then debt. Nothing relayed goes uncharged, whatever happened to its hold.
   */
  private chargeRelayed(hold: Hold, actual: Micros, now: number, tokens: Tokens): Result<SettleOutcome> {
    const member = this.snap.members.get(hold.memberId);
    if (!member) throw new Error(`member ${hold.memberId} of hold ${hold.id} not loaded`);
    let excess = { limited: 0, debt: 0, unbilled: 0 };
    if (hold.payer === "plan") {
      // The plan was paying: the usage counts against the same windows (no money moves).
      for (const ref of hold.windows) {
        const row = this.windows.get(windowKey(hold.memberId, ref.key));
        if (row && row.periodStart === ref.periodStart) {
          row.used += actual;
          this.dirtyWindows.add(windowKey(hold.memberId, ref.key));
        }
      }
    } else if (actual > 0) {
      const entries: LedgerEntry[] = [];
      excess = this.chargeExcess(hold, member, actual, now, entries, false);
      this.post(hold.orgId, "relayed_charge", hold.id, now, entries);
      this.addSpend(member, dayOf(now), "spent", excess.limited);
    }
    this.recordUsage(hold, actual, excess.limited, tokens, now);
    return { ok: true, value: { hold, charged: actual, released: 0, debt: excess.debt, unbilled: 0 } };
  }

  /**
   * Usage beyond the hold. The gateway's (`bounded` false: it relayed it, so it is owed): first
   * from other spendable grants in burn order, then as debt (a negative balance that blocks usage
   * credits until the next grant repays it).
   *
   * An API settle (`bounded`) may add beyond its hold only what admission would have allowed:
   * included credits (monthly SDK credits) first, then usage credits and debt only while usage
   * credits are enabled for the org and the member, the org is not in debt, and within the
   * headroom left under every applicable spending limit. The rest is `unbilled`: not charged,
   * reported back, so a small hold never turns into unbounded debt or a passed limit.
   */
  private chargeExcess(hold: Hold, member: Member, amount: Micros, now: number, entries: LedgerEntry[], bounded: boolean): { limited: Micros; debt: Micros; unbilled: Micros } {
    // The same usability rule as authorize: usage credits that are switched off (or behind debt) are
    // never drawn; what nothing may pay becomes debt.
    const org = this.mustOrg(hold.orgId);
    // Debt blocks every grant, included ones too, as in authorize.
    const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled && org.debt === 0;
    const grants = org.debt > 0 ? [] : this.spendableGrants(hold.orgId, member.id, hold.surface, now).filter((g) => isIncluded(g) || creditsAllowed);
    let draws: Draw[];
    let unpaid: Micros;
    let unbilled = 0;
    if (!bounded) {
      ({ draws, unpaid } = drawInOrder(grants, amount));
    } else {
      const included = drawInOrder(grants.filter(isIncluded), amount);
      let room = creditsAllowed ? included.unpaid : 0;
      // Hard limits bound it; an alert-only budget never does (money-rules.md R6).
      for (const h of this.headrooms(org, member, now)) if (h.limit.stopUsage) room = Math.min(room, Math.max(0, h.headroom));
      const credits = drawInOrder(grants.filter((g) => !isIncluded(g)), room);
      draws = [...included.draws, ...credits.draws];
      unpaid = credits.unpaid;
      unbilled = included.unpaid - room;
    }
    for (const d of draws) {
      this.changeGrant(d.grantId, -d.amount);
      entries.push({ account: ACCOUNTS.grant(d.grantId), amount: -d.amount });
    }
    const fromGrants = amount - unbilled - unpaid;
    if (fromGrants > 0) entries.push({ account: ACCOUNTS.usageRevenue, amount: fromGrants });
    if (unpaid > 0) {
      org.debt += unpaid;
      this.dirtyOrgs.add(org.id);
      entries.push({ account: ACCOUNTS.debt(org.id), amount: -unpaid }, { account: ACCOUNTS.usageRevenue, amount: unpaid });
    }
    return { limited: this.limitedPart(draws) + unpaid, debt: unpaid, unbilled };
  }

  release(orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
    const checked = this.pendingHold(orgId, holdId, now, actor);
    if (!checked.ok) return checked;
    this.unwind(checked.value, "released", now);
    return { ok: true, value: checked.value };
  }

  /** Releases every loaded pending hold (of one org, if given) whose TTL has passed. */
  expireHolds(now: number, orgId?: string): Hold[] {
    const expired: Hold[] = [];
    for (const h of this.snap.holds.values()) {
      if (h.status === "pending" && h.expiresAt <= now && (orgId === undefined || h.orgId === orgId)) {
        this.unwind(h, "expired", now);
        expired.push(h);
      }
    }
    return expired;
  }

  private pendingHold(orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
    const hold = this.hold(orgId, holdId);
    if (!hold) return refuse(domainError("not_found", `No hold ${holdId}.`));
    const refused = actor ? mayResolve(hold, actor) : undefined;
    if (refused) return refuse(refused);
    if (hold.status === "pending" && hold.expiresAt <= now) {
      // Past its TTL: the hold resolves as expired (its reservation released), deterministically.
      this.unwind(hold, "expired", now);
    }
    if (hold.status === "expired") {
      return refuse(domainError("hold_expired", `Hold ${holdId} expired at ${new Date(hold.expiresAt).toISOString()}; its reservation was released.`, { hold_id: holdId }));
    }
    if (hold.status !== "pending") {
      return refuse(domainError("hold_not_pending", `Hold ${holdId} is already ${hold.status}; a hold resolves once.`, { hold_id: holdId, status: hold.status }));
    }
    return { ok: true, value: hold };
  }

  private unwind(hold: Hold, status: "released" | "expired", now: number): void {
    if (hold.payer === "plan") {
      for (const ref of hold.windows) {
        const row = this.windows.get(windowKey(hold.memberId, ref.key));
        if (row && row.periodStart === ref.periodStart) {
          row.held = Math.max(0, row.held - hold.amount);
          this.dirtyWindows.add(windowKey(hold.memberId, ref.key));
        }
      }
    } else {
      const member = this.snap.members.get(hold.memberId);
      if (!member) throw new Error(`member ${hold.memberId} of hold ${hold.id} not loaded`);
      const entries: LedgerEntry[] = [{ account: ACCOUNTS.hold(hold.id), amount: -hold.amount }];
      for (const d of hold.draws) {
        const grant = this.snap.grants.get(d.grantId);
        if (!grant) throw new Error(`grant ${d.grantId} of hold ${hold.id} not loaded`);
        this.returnToGrant(grant, d.amount, hold.id, entries, now);
      }
      this.post(hold.orgId, "release", hold.id, now, entries);
      this.addSpend(member, hold.day, "held", -hold.limitedAmount);
    }
    this.resolve(hold, status, 0, now);
  }

  /**
   * Money going back to a grant. If the grant was voided or has expired meanwhile, the amount
   * follows it out at once (to its funding source, or to breakage), so dead grants stay at zero.
   */
  private returnToGrant(grant: Grant, amount: Micros, ref: string, entries: LedgerEntry[], now: number): void {
    const expired = grant.expiresAt !== null && grant.expiresAt <= now;
    if (grant.status === "voided") {
      entries.push({ account: ACCOUNTS.funding(grant.kind), amount });
    } else if (grant.status === "expired" || expired) {
      entries.push({ account: ACCOUNTS.breakage, amount });
      if (grant.status === "active" && grant.remaining === 0) {
        grant.status = "expired";
        this.dirtyGrants.add(grant.id);
      }
    } else {
      this.changeGrant(grant.id, amount);
      entries.push({ account: ACCOUNTS.grant(grant.id), amount });
    }
    void ref;
  }

  // ---------------------------------------------------------------- grants

  /**
   * A new grant. Every grant repays outstanding debt first, whatever its kind (monthly SDK credits
   * included) or restriction (one member, some surfaces): debt is the organization's and blocks
   * every grant until repaid, so a grant that did not repay it could not be spent anyway.
   */
  addGrant(grant: Grant, now: number): Grant {
    const org = this.mustOrg(grant.orgId);
    this.snap.grants.set(grant.id, grant);
    this.createdGrants.add(grant.id);
    this.post(org.id, "grant", grant.id, now, [
      { account: ACCOUNTS.funding(grant.kind), amount: -grant.amount },
      { account: ACCOUNTS.grant(grant.id), amount: grant.amount },
    ]);
    if (org.debt > 0 && grant.remaining > 0) {
      const repay = Math.min(org.debt, grant.remaining);
      grant.remaining -= repay;
      org.debt -= repay;
      this.dirtyOrgs.add(org.id);
      this.post(org.id, "debt_repayment", grant.id, now, [
        { account: ACCOUNTS.grant(grant.id), amount: -repay },
        { account: ACCOUNTS.debt(org.id), amount: repay },
      ]);
    }
    return grant;
  }

  /** Voids one grant: its remaining balance goes back to its funding source. Held amounts follow on release. */
  voidGrant(orgId: string, grantId: string, now: number): Result<Grant> {
    const grant = this.grant(orgId, grantId);
    if (!grant) return refuse(domainError("not_found", `No grant ${grantId}.`));
    if (grant.status !== "active") {
      return refuse(domainError("conflict", `Grant ${grantId} is already ${grant.status}.`, { status: grant.status }));
    }
    if (grant.remaining > 0) {
      this.post(orgId, "void", grantId, now, [
        { account: ACCOUNTS.grant(grantId), amount: -grant.remaining },
        { account: ACCOUNTS.funding(grant.kind), amount: grant.remaining },
      ]);
    }
    grant.remaining = 0;
    grant.status = "voided";
    this.dirtyGrants.add(grantId);
    return { ok: true, value: grant };
  }

  /** Moves what is left of every loaded grant past its expiry to breakage. */
  expireGrants(now: number): Grant[] {
    const expired: Grant[] = [];
    for (const g of this.snap.grants.values()) {
      if (g.status !== "active" || g.expiresAt === null || g.expiresAt > now) continue;
      if (g.remaining > 0) {
        this.post(g.orgId, "expire", g.id, now, [
          { account: ACCOUNTS.grant(g.id), amount: -g.remaining },
          { account: ACCOUNTS.breakage, amount: g.remaining },
        ]);
      }
      g.remaining = 0;
      g.status = "expired";
      this.dirtyGrants.add(g.id);
      expired.push(g);
    }
    return expired;
  }

  // ---------------------------------------------------------------- bookkeeping

  changes(): Changes {
    const pick = <T>(ids: Set<string>, from: Map<string, T>): T[] => [...ids].map((id) => from.get(id)).filter((v): v is T => v !== undefined);
    return {
      orgs: pick(this.dirtyOrgs, this.snap.orgs),
      grants: pick(new Set([...this.dirtyGrants].filter((id) => !this.createdGrants.has(id))), this.snap.grants),
      newGrants: pick(this.createdGrants, this.snap.grants),
      holds: pick(new Set([...this.dirtyHolds].filter((id) => !this.createdHolds.has(id))), this.snap.holds),
      newHolds: pick(this.createdHolds, this.snap.holds),
      windows: pick(this.dirtyWindows, this.windows),
      spendDays: [...this.dayDeltas.values()].filter((d) => d.spent !== 0 || d.held !== 0),
      ledger: this.ledger,
      usage: this.usage,
    };
  }

  private spendableGrants(orgId: string, memberId: string, surface: Surface, now: number): Grant[] {
    const out: Grant[] = [];
    for (const g of this.snap.grants.values()) if (g.orgId === orgId && isSpendable(g, now, memberId, surface)) out.push(g);
    return out.sort(burnOrder);
  }

  private limitedPart(draws: readonly Draw[]): Micros {
    let total = 0;
    for (const d of draws) {
      const g = this.snap.grants.get(d.grantId);
      if (g && !isIncluded(g)) total += d.amount;
    }
    return total;
  }

  private windowRow(memberId: string, key: string, periodStart: number): WindowUsage {
    const k = windowKey(memberId, key);
    let row = this.windows.get(k);
    if (!row) {
      row = { memberId, key, periodStart, used: 0, held: 0 };
      this.windows.set(k, row);
    } else if (row.periodStart !== periodStart) {
      row.periodStart = periodStart;
      row.used = 0;
      row.held = 0;
    }
    this.dirtyWindows.add(k);
    return row;
  }

  private addSpend(member: Member, day: number, field: "spent" | "held", amount: Micros): void {
    if (amount === 0) return;
    const scopes = ["org", member.id, ...(member.workspaceId ? [member.workspaceId] : [])];
    for (const scopeKey of scopes) {
      const k = dayKey(member.orgId, scopeKey, day);
      let row = this.spendDays.get(k);
      if (!row) {
        row = { orgId: member.orgId, scopeKey, day, spent: 0, held: 0 };
        this.spendDays.set(k, row);
      }
      row[field] += amount;
      let delta = this.dayDeltas.get(k);
      if (!delta) {
        delta = { orgId: member.orgId, scopeKey, day, spent: 0, held: 0 };
        this.dayDeltas.set(k, delta);
      }
      delta[field] += amount;
    }
  }

  private changeGrant(id: string, delta: Micros): void {
    const g = this.snap.grants.get(id);
    if (!g) throw new Error(`grant ${id} not loaded`);
    g.remaining += delta;
    this.dirtyGrants.add(id);
  }

  private addHold(hold: Hold): void {
    this.snap.holds.set(hold.id, hold);
    this.createdHolds.add(hold.id);
  }

  private resolve(hold: Hold, status: Hold["status"], settled: Micros, now: number): void {
    hold.status = status;
    hold.settledAmount = settled;
    hold.resolvedAt = now;
    this.dirtyHolds.add(hold.id);
  }

  private mustOrg(id: string): Organization {
    const org = this.org(id);
    if (!org) throw new Error(`organization ${id} not loaded`);
    return org;
  }

  private post(orgId: string, kind: LedgerKind, ref: string, at: number, entries: LedgerEntry[]): void {
    const nonZero = entries.filter((e) => e.amount !== 0);
    if (nonZero.length === 0) return;
    let sum = 0;
    for (const e of nonZero) sum += e.amount;
    // A bug, never an expected failure: every transaction must balance.
    if (sum !== 0) throw new Error(`unbalanced ledger transaction (${kind} ${ref}): ${sum}`);
    this.ledger.push({ id: this.newId("transaction"), orgId, kind, ref, at, entries: nonZero });
  }
}

function refuse<T>(error: DomainError): Result<T> {
  return { ok: false, error };
}

function windowName(key: string): string {
  if (key === "five_hour") return "session";
  if (key === "seven_day") return "weekly";
  return `${key.replace(/^seven_day_/, "")} weekly`;
}

function windowDetail(s: WindowStatus): Record<string, unknown> {
  return { window: s.key, resets_at: new Date(s.resetsAt).toISOString(), utilization: 100 };
}

export type { WindowRef, GrantKind };
