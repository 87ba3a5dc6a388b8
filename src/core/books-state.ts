// The books' state: the loaded Snapshot plus everything a batch changed, tracked so the store
// writes only that (`changes()`). Reads answer "as it stands now"; the mutators below are the only
// way the router's caller, settlement and the grant lifecycle change the state, and each marks what
// it touched. Nothing here decides anything about money; nothing here does I/O.

import { burnOrder, isIncluded, isSpendable, type Draw, type Grant } from "./grants.js";
import { headroomsOf } from "./headroom.js";
import type { Headroom, SpendLimit } from "./limits.js";
import type { Micros } from "./money.js";
import { seatOf, windowApplies, windowPeriod, type PlanDef, type Surface, type WindowDef } from "./plans.js";
import type {
  Hold,
  LedgerEntry,
  LedgerKind,
  LedgerTransaction,
  Member,
  Organization,
  Snapshot,
  SpendDay,
  UsageRecord,
  WindowUsage,
} from "./model.js";

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

export class BooksState {
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

  mustOrg(id: string): Organization {
    const org = this.org(id);
    if (!org) throw new Error(`organization ${id} not loaded`);
    return org;
  }

  /** The member of a loaded hold (a bug if it was not loaded with it). */
  holder(hold: Hold): Member {
    const member = this.snap.members.get(hold.memberId);
    if (!member) throw new Error(`member ${hold.memberId} of hold ${hold.id} not loaded`);
    return member;
  }

  /** A grant a loaded hold drew from (a bug if it was not loaded with it). */
  drawnGrant(hold: Hold, grantId: string): Grant {
    const grant = this.snap.grants.get(grantId);
    if (!grant) throw new Error(`grant ${grantId} of hold ${hold.id} not loaded`);
    return grant;
  }

  /** Every window of the member's seat (those that apply to `family`, if given), as it stands at `now`. */
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
    return headroomsOf(org.id, this.snap.limits, this.spend(), member, now);
  }

  /** Every loaded grant (the router picks the spendable ones); iterable more than once. */
  grants(): Iterable<Grant> {
    return { [Symbol.iterator]: () => this.snap.grants.values() };
  }

  /** Every loaded hold, whatever its state; iterable more than once. */
  holds(): Iterable<Hold> {
    return { [Symbol.iterator]: () => this.snap.holds.values() };
  }

  /** Every loaded spending limit. */
  limits(): readonly SpendLimit[] {
    return this.snap.limits;
  }

  /** Every loaded spend counter, as it stands (the router sums the ones a limit counts); iterable more than once. */
  spend(): Iterable<SpendDay> {
    return { [Symbol.iterator]: () => this.spendDays.values() };
  }

  /** The grants `member` may spend on `surface` at `now`, in burn order. */
  spendableGrants(orgId: string, memberId: string, surface: Surface, now: number): Grant[] {
    const out: Grant[] = [];
    for (const g of this.snap.grants.values()) if (g.orgId === orgId && isSpendable(g, now, memberId, surface)) out.push(g);
    return out.sort(burnOrder);
  }

  /** Of some draws, the part drawn from usage credits (what spending limits count). */
  limitedPart(draws: readonly Draw[]): Micros {
    let total = 0;
    for (const d of draws) {
      const g = this.snap.grants.get(d.grantId);
      if (g && !isIncluded(g)) total += d.amount;
    }
    return total;
  }

  /** Whether this batch still has to unwind the org's expired holds (true once per org). */
  firstAdmission(orgId: string): boolean {
    if (this.unwoundOrgs.has(orgId)) return false;
    this.unwoundOrgs.add(orgId);
    return true;
  }

  // ---------------------------------------------------------------- changes

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

  /** The member's row of a window for the period starting at `periodStart` (a rolled-over row restarts at 0). */
  windowRow(memberId: string, key: string, periodStart: number): WindowUsage {
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

  /**
   * Applies `change` to the member's row of window `key` if that row is still in the period
   * `periodStart`: a window that rolled over since a hold was taken no longer carries it.
   */
  changeWindow(memberId: string, key: string, periodStart: number, change: (row: WindowUsage) => void): void {
    const k = windowKey(memberId, key);
    const row = this.windows.get(k);
    if (row && row.periodStart === periodStart) {
      change(row);
      this.dirtyWindows.add(k);
    }
  }

  /** Adds to the member's spend counters (org, member and workspace scopes) of one day. */
  addSpend(member: Member, day: number, field: "spent" | "held", amount: Micros): void {
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

  changeGrant(id: string, delta: Micros): void {
    const g = this.snap.grants.get(id);
    if (!g) throw new Error(`grant ${id} not loaded`);
    g.remaining += delta;
    this.dirtyGrants.add(id);
  }

  /** Marks a grant whose status or balance was changed in place. */
  touchGrant(id: string): void {
    this.dirtyGrants.add(id);
  }

  addGrant(grant: Grant): void {
    this.snap.grants.set(grant.id, grant);
    this.createdGrants.add(grant.id);
  }

  /** Marks an organization whose debt (or another field) was changed in place. */
  touchOrg(id: string): void {
    this.dirtyOrgs.add(id);
  }

  addHold(hold: Hold): void {
    this.snap.holds.set(hold.id, hold);
    this.createdHolds.add(hold.id);
  }

  resolve(hold: Hold, status: Hold["status"], settled: Micros, now: number): void {
    hold.status = status;
    hold.settledAmount = settled;
    hold.resolvedAt = now;
    this.dirtyHolds.add(hold.id);
  }

  /** The usage record of a hold's charge (`cost`; of it, `creditCost` paid by usage credits). */
  recordUsage(hold: Hold, cost: Micros, creditCost: Micros, tokens: { readonly input: number; readonly output: number }, now: number): void {
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

  /** Posts one balanced ledger transaction (zero entries dropped; nothing at all posts nothing). */
  post(orgId: string, kind: LedgerKind, ref: string, at: number, entries: LedgerEntry[]): void {
    const nonZero = entries.filter((e) => e.amount !== 0);
    if (nonZero.length === 0) return;
    let sum = 0;
    for (const e of nonZero) sum += e.amount;
    // A bug, never an expected failure: every transaction must balance.
    if (sum !== 0) throw new Error(`unbalanced ledger transaction (${kind} ${ref}): ${sum}`);
    this.ledger.push({ id: this.newId("transaction"), orgId, kind, ref, at, entries: nonZero });
  }
}
