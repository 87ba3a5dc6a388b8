// The pricing lab's replay: an organization's operation log (operation-log.ts) applied again, in
// the order it was decided, to the organization's state at the start of a period, by the same
// `Books` that charged it — under the plans and price book in force (which must reproduce what
// happened exactly) or under proposed ones. Pure: the caller streams the entries in and reads the
// outcome; nothing is written anywhere.
//
// What a replay cannot know: the usage of a request that was refused in reality but is admitted in
// the replay (it is held and released at once, counted in `admittedWithoutUsage`); a request
// admitted in reality but refused in the replay is not charged (its settle is skipped, counted in
// `droppedSettles`).

import { Books, tokensOf, type AuthorizeRequest } from "./books.js";
import type { Result } from "./errors.js";
import type { Grant } from "./grants.js";
import type { SpendLimit } from "./limits.js";
import { ACCOUNTS, type Hold, type Member, type Organization, type Snapshot, type SpendDay, type UsageRecord, type WindowUsage } from "./model.js";
import type { Micros } from "./money.js";
import { actorFrom, priceInputs, type LogEntry } from "./operation-log.js";
import type { PlanDef, PlanVersion } from "./plans.js";
import { findModel, type PriceBook } from "./price-book.js";
import { countUsage, zeroSpend, type Spend } from "./lab-spend.js";

export { addSpend, bareEntries, countUsage, diffSpend, zeroSpend, type BareUsage, type Spend } from "./lab-spend.js";

/** An organization's state at the start of the period. */
export interface OrgOpening {
  readonly org: Organization;
  readonly members: readonly Member[];
  readonly grants: readonly Grant[];
  readonly limits: readonly SpendLimit[];
  readonly windows: readonly WindowUsage[];
  readonly spendDays: readonly SpendDay[];
  /** Holds pending at the start of the period. */
  readonly holds: readonly Hold[];
}

/** What the replay decides under: plans by id, and a price book (null: every amount as recorded). */
export interface Scenario {
  readonly plans: ReadonlyMap<string, PlanDef>;
  /** The recorded versions of the plans not proposed: a window keeps the quota of the version in force when it started (R18). */
  readonly planVersions?: ReadonlyMap<string, readonly PlanVersion[]>;
  readonly book: PriceBook | null;
}

export interface WindowExhausted {
  readonly window: string;
  readonly at: number;
}

export interface OrgOutcome {
  readonly orgId: string;
  readonly spend: Spend;
  readonly members: ReadonlyMap<string, Spend>;
  /** Refused authorizations by code: as they happened (the log) and as replayed. */
  readonly refusalsActual: Readonly<Record<string, number>>;
  readonly refusals: Readonly<Record<string, number>>;
  /** The first refusal for each window that ran out, in the replay. */
  readonly windowsExhausted: readonly WindowExhausted[];
  readonly closingBalance: Micros;
  /** Authorizations replayed (admitted or refused). */
  readonly authorizations: number;
  readonly admittedWithoutUsage: number;
  readonly droppedSettles: number;
}

/** Entries applied to one `Books` before its changes are folded into the state (bounds memory). */
const ROLL_EVERY = 2_000;
/** Released or expired holds are kept this long for a late gateway settle (a relayed charge). */
const KEEP_RESOLVED_MS = 2 * 24 * 3_600_000;

const clone = <T>(v: T): T => ({ ...v });

export class OrgReplay {
  private readonly orgs = new Map<string, Organization>();
  private readonly members = new Map<string, Member>();
  private readonly grants = new Map<string, Grant>();
  private readonly holds = new Map<string, Hold>();
  private readonly limits: SpendLimit[];
  private readonly windows = new Map<string, WindowUsage>();
  private readonly days = new Map<string, SpendDay>();
  private books: Books | null = null;
  private applied = 0;
  private readonly spend = zeroSpend();
  private readonly memberSpend = new Map<string, Spend>();
  private readonly refusalsActual: Record<string, number> = {};
  private readonly refusals: Record<string, number> = {};
  private readonly exhausted = new Map<string, number>();
  /** Holds admitted in reality that the replay refused: their settle or release is skipped. */
  private readonly dropped = new Set<string>();
  private authorizations = 0;
  private admittedWithoutUsage = 0;
  private droppedSettles = 0;
  private lastAt = 0;
  /** When the books last unwound expired holds (before an admission, as each batch does). */
  private unwoundAt = Number.NaN;
  /** Released and expired holds, out of the books' way, kept for a late gateway settle. */
  private readonly resolved = new Map<string, Hold>();

  constructor(
    readonly orgId: string,
    opening: OrgOpening,
    private readonly scenario: Scenario,
  ) {
    this.orgs.set(opening.org.id, clone(opening.org));
    for (const m of opening.members) this.members.set(m.id, clone(m));
    for (const g of opening.grants) this.grants.set(g.id, clone(g));
    for (const h of opening.holds) this.holds.set(h.id, clone(h));
    this.limits = opening.limits.map(clone);
    for (const w of opening.windows) this.windows.set(`${w.memberId}|${w.key}`, clone(w));
    for (const d of opening.spendDays) this.days.set(`${d.orgId}|${d.scopeKey}|${d.day}`, clone(d));
  }

  /** Applies one log entry of this organization (entries must come in log order). */
  apply(e: LogEntry): void {
    this.lastAt = e.at;
    const books = this.current();
    switch (e.kind) {
      case "authorize":
      case "refuse":
        this.authorize(books, e);
        break;
      case "settle": {
        if (e.holdId === null) break;
        if (this.dropped.has(e.holdId)) {
          this.droppedSettles++;
          break;
        }
        this.revive(e.holdId);
        const hold = books.hold(this.orgId, e.holdId);
        let amount = e.micros ?? 0;
        if (this.scenario.book && e.cost && hold) amount = this.price(hold.model, hold.speed, e) ?? amount;
        books.settle(this.orgId, e.holdId, amount, e.at, tokensOf(e.cost?.usage ?? undefined), actorFrom(e.actor));
        this.retire(e.holdId);
        break;
      }
      case "release":
        if (e.holdId !== null && !this.dropped.has(e.holdId)) {
          this.revive(e.holdId);
          books.release(this.orgId, e.holdId, e.at, actorFrom(e.actor));
          this.retire(e.holdId);
        }
        break;
      case "grant": {
        const g = e.data as Grant;
        books.addGrant({ ...g, remaining: g.amount, status: "active" }, e.at);
        break;
      }
      case "void":
        books.voidGrant(this.orgId, (e.data as { grant_id: string }).grant_id, e.at);
        break;
      case "expire_holds":
        for (const h of books.expireHolds(e.at, this.orgId)) this.retire(h.id);
        break;
      case "expire_grants":
        books.expireGrants(e.at);
        break;
      case "org_update": {
        // Settings only: the debt is the books' own, and a plan the scenario does not know is kept.
        const after = (e.data as { after: Organization }).after;
        const org = this.orgs.get(this.orgId);
        if (org) {
          if (this.scenario.plans.has(after.planId)) org.planId = after.planId;
          org.usageCreditsEnabled = after.usageCreditsEnabled;
          org.fastModeEnabled = after.fastModeEnabled;
          org.fastModeFallback = after.fastModeFallback;
        }
        break;
      }
      case "member_update": {
        const after = (e.data as { after: Member }).after;
        const m = this.members.get(after.id);
        if (m) {
          m.seatTier = after.seatTier;
          m.workspaceId = after.workspaceId;
          m.usageCreditsEnabled = after.usageCreditsEnabled;
          m.fastModeEnabled = after.fastModeEnabled;
          m.role = after.role;
        }
        break;
      }
      case "limit_set":
      case "limit_delete": {
        const { before, after } = e.data as { before: SpendLimit | null; after: SpendLimit | null };
        const id = after?.id ?? before?.id;
        const i = this.limits.findIndex((l) => l.id === id);
        if (i >= 0) this.limits.splice(i, 1);
        if (after) this.limits.push(clone(after));
        break;
      }
    }
    if (++this.applied % ROLL_EVERY === 0) this.roll();
  }

  private authorize(books: Books, e: LogEntry): void {
    const admittedActually = e.kind === "authorize";
    if (!admittedActually) this.refusalsActual[e.code ?? "unknown"] = (this.refusalsActual[e.code ?? "unknown"] ?? 0) + 1;
    if (e.holdId === null || e.memberId === null || e.model === null || e.surface === null || e.speed === null) return;
    this.authorizations++;
    let estimate = e.micros ?? 0;
    let family = e.family ?? "";
    let refused: string | null = null;
    const book = this.scenario.book;
    if (book && e.cost) {
      let priced: Micros | undefined;
      try {
        priced = this.price(e.model, e.speed, e);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        refused = "amount_out_of_range";
      }
      if (priced === undefined && refused === null) refused = "unknown_model";
      estimate = priced ?? 0;
      family = findModel(book, e.model)?.family ?? family;
    }
    let r: Result<Hold>;
    if (refused !== null) r = { ok: false, error: { code: refused as never, message: refused } };
    else {
      // Expired holds never block: each batch unwinds them before its first admission.
      if (e.at !== this.unwoundAt) {
        this.unwoundAt = e.at;
        for (const h of books.expireHolds(e.at, this.orgId)) this.retire(h.id);
      }
      const req: AuthorizeRequest = {
        holdId: e.holdId,
        orgId: this.orgId,
        memberId: e.memberId,
        surface: e.surface,
        model: e.model,
        family,
        speed: e.speed,
        estimate,
        ttlMs: e.ttlMs ?? 0,
        metadata: {},
        owner: e.owner === "gateway" ? "gateway" : "api",
      };
      r = books.authorize(req, e.at);
    }
    if (r.ok) {
      if (!admittedActually) {
        // Refused in reality, so its usage is unknown: held and given back at once.
        this.admittedWithoutUsage++;
        books.release(this.orgId, e.holdId, e.at);
        this.retire(e.holdId);
      }
      return;
    }
    const code = r.error.code;
    this.refusals[code] = (this.refusals[code] ?? 0) + 1;
    const window = (r.error.details as Record<string, unknown> | undefined)?.["window"];
    if (code === "window_exhausted" && typeof window === "string" && !this.exhausted.has(window)) this.exhausted.set(window, e.at);
    if (admittedActually) this.dropped.add(e.holdId);
  }

  private price(model: string, speed: LogEntry["speed"], e: LogEntry): Micros | undefined {
    const book = this.scenario.book;
    if (!book || !e.cost) return e.micros ?? undefined;
    return priceInputs(book, model, speed ?? "standard", e.cost);
  }

  private current(): Books {
    if (this.books) return this.books;
    const snap: Snapshot = {
      orgs: this.orgs,
      plans: this.scenario.plans as Map<string, PlanDef>,
      ...(this.scenario.planVersions ? { planVersions: this.scenario.planVersions } : {}),
      members: this.members,
      grants: this.grants,
      limits: this.limits,
      windows: [...this.windows.values()],
      spendDays: [...this.days.values()],
      holds: this.holds,
    };
    let n = 0;
    this.books = new Books(snap, (kind) => `lab_${kind}_${n++}`);
    return this.books;
  }

  /** Folds what the books decided so far into the totals and frees it (the caller bounds memory with it). */
  flush(): void {
    this.roll();
  }

  /** Folds the current books' changes into the state and the totals, and starts new books. */
  private roll(): void {
    const books = this.books;
    if (!books) return;
    const c = books.changes();
    for (const u of c.usage) this.count(u);
    for (const t of c.ledger) {
      for (const en of t.entries) {
        if (en.account === ACCOUNTS.breakage) this.spend.breakage += en.amount;
        else if (en.account === ACCOUNTS.usageRevenue) this.spend.revenue += en.amount;
      }
    }
    // Window and spend rows the books created (rows they loaded were changed in place).
    for (const w of c.windows) if (!this.windows.has(`${w.memberId}|${w.key}`)) this.windows.set(`${w.memberId}|${w.key}`, w);
    for (const d of c.spendDays) {
      const k = `${d.orgId}|${d.scopeKey}|${d.day}`;
      if (!this.days.has(k)) this.days.set(k, { ...d });
    }
    for (const [id, h] of this.resolved) if ((h.resolvedAt ?? 0) < this.lastAt - KEEP_RESOLVED_MS) this.resolved.delete(id);
    this.books = null;
    this.unwoundAt = Number.NaN;
  }

  /** A hold no longer pending leaves the books' map (which they scan before each admission). */
  private retire(holdId: string): void {
    const h = this.holds.get(holdId);
    if (!h || h.status === "pending") return;
    this.holds.delete(holdId);
    if (h.status !== "settled") this.resolved.set(holdId, h);
  }

  /** Puts a released or expired hold back for the operation that names it (a late settle). */
  private revive(holdId: string): void {
    const h = this.resolved.get(holdId);
    if (h && !this.holds.has(holdId)) this.holds.set(holdId, h);
  }

  private count(u: UsageRecord): void {
    let m = this.memberSpend.get(u.memberId);
    if (!m) {
      m = zeroSpend();
      this.memberSpend.set(u.memberId, m);
    }
    countUsage(m, u.payer, u.cost, u.creditCost);
    // The organization's revenue comes from the ledger (breakage and debt included), not from here.
    const revenue = this.spend.revenue;
    countUsage(this.spend, u.payer, u.cost, u.creditCost);
    this.spend.revenue = revenue;
  }

  /** The outcome at the end of the period (`to`): totals, refusals and the closing balance. */
  finish(to: number): OrgOutcome {
    this.roll();
    const closingBalance = this.current().balance(this.orgId, to);
    this.books = null;
    return {
      orgId: this.orgId,
      spend: this.spend,
      members: this.memberSpend,
      refusalsActual: this.refusalsActual,
      refusals: this.refusals,
      windowsExhausted: [...this.exhausted].map(([window, at]) => ({ window, at })).sort((a, b) => a.at - b.at || a.window.localeCompare(b.window)),
      closingBalance,
      authorizations: this.authorizations,
      admittedWithoutUsage: this.admittedWithoutUsage,
      droppedSettles: this.droppedSettles,
    };
  }
}
