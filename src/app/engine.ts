// Money use cases: authorize / settle / release, usage events, grants and sweeps. Each one rates
// what it needs (pure), then hands the batcher an operation that decides against the books.

import type { CostInputs, Costed } from "../core/operation-log.js";
import { tokensOf, type Tokens, type AuthorizeRequest, type Books, type HoldActor, type SettleOutcome, type WindowStatus } from "../core/books.js";
import type { Headroom } from "../core/limits.js";
import { domainError, type DomainError, type Result } from "../core/errors.js";
import type { Grant, GrantKind } from "../core/grants.js";
import { newId } from "../core/ids.js";
import type { Hold, HoldOwner, Member, Organization } from "../core/model.js";
import { MAX_MICROS, type Micros } from "../core/money.js";
import type { Surface } from "../core/plans.js";
import { unknownModelError } from "../core/price-book.js";
import { rate, ZERO_USAGE, type RatingOptions, type Speed, type Usage } from "../core/rating.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import { Batcher, type Idempotency, type Outcome } from "./batcher.js";
import type { Catalog } from "./catalog.js";

export interface Cost {
  /** Tokens, rated by the price book in force; or a precomputed amount in micros. */
  readonly usage?: Usage;
  readonly amount?: Micros;
  readonly batch?: boolean;
  readonly dataResidency?: boolean;
}

export interface AuthorizeInput {
  readonly orgId: string;
  readonly memberId: string;
  readonly surface: Surface;
  readonly model: string;
  readonly speed: Speed;
  readonly estimate: Cost;
  readonly ttlMs?: number;
  readonly metadata?: Record<string, string>;
  /** "gateway": only the gateway may resolve the hold (default "api"). */
  readonly owner?: HoldOwner;
  /** What `estimate` was computed from when it is a precomputed amount (the gateway's worst case), for the operation log. */
  readonly estimateInputs?: CostInputs;
}

/**
 * Where a member stands right after one of its operations, read from the batch's own books (no
 * second read): windows, balance and spending-limit headroom. The gateway's rate-limit headers
 * are computed from it (issue 16: "from the authorize/settle result, not an extra read").
 */
export interface Standing {
  readonly member: Member;
  readonly org: Organization;
  readonly windows: WindowStatus[];
  readonly balance: Micros;
  readonly limits: Headroom[];
}

/** Receives the standing computed inside the batch (called again if the batch is retried). */
export type StandingObserver = (standing: Standing) => void;

function standingOf(books: Books, orgId: string, memberId: string, at: number): Standing | undefined {
  const org = books.org(orgId);
  const member = books.member(orgId, memberId);
  if (!org || !member) return undefined;
  return { member, org, windows: books.windowStatus(org, member, at), balance: books.balance(orgId, at), limits: books.headrooms(org, member, at) };
}

function observe(observer: StandingObserver | undefined, books: Books, orgId: string, memberId: string | undefined, at: number): void {
  if (!observer || memberId === undefined) return;
  const s = standingOf(books, orgId, memberId, at);
  if (s) observer(s);
}

export interface AuthorizeResult {
  readonly hold: Hold;
  readonly balance: Micros;
}

export interface SettleResult extends SettleOutcome {
  readonly balance: Micros;
}

export interface UsageEventInput {
  readonly orgId: string;
  readonly memberId: string;
  readonly surface: Surface;
  readonly model: string;
  readonly speed: Speed;
  readonly cost: Cost;
  readonly metadata?: Record<string, string>;
}

export interface GrantInput {
  readonly orgId: string;
  readonly kind: GrantKind;
  readonly amount: Micros;
  readonly priority: number;
  readonly expiresAt: number | null;
  readonly surfaces: readonly Surface[] | null;
  readonly memberId: string | null;
  readonly description: string;
}

export interface EngineOptions {
  readonly holdTtlMs: number;
  readonly maxBatch: number;
  /** Organizations whose money state is kept between batches (Batcher cachedOrgs; default 10,000). */
  readonly cachedOrgs?: number;
}

export class Engine {
  readonly batcher: Batcher;
  /** Told the org of every committed settle and usage event (auto-reload evaluates there). */
  private readonly settledListeners: Array<(orgId: string) => void> = [];
  private readonly refusedListeners: Array<(orgId: string, memberId: string, error: DomainError) => void> = [];

  constructor(
    store: Store,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly options: EngineOptions,
  ) {
    // Several batches in flight only where row locks make them safe (PostgreSQL).
    this.batcher = new Batcher(store, clock, { maxBatch: options.maxBatch, concurrency: store.capabilities.batchesInFlight, cachedOrgs: options.cachedOrgs ?? 10_000 });
  }

  /** Prices a cost at `at` (synchronously, from the catalog cache); unknown models are a caller error. */
  price(model: string, speed: Speed, cost: Cost, at: number): Result<{ micros: Micros; family: string }> {
    const found = this.catalog.model(model, at);
    if (!found) return { ok: false, error: unknownModelError(this.catalog.bookAtCached(at), model) };
    if (cost.amount !== undefined) return { ok: true, value: { micros: cost.amount, family: found.model.family } };
    const options: RatingOptions = { speed, batch: cost.batch === true, dataResidency: cost.dataResidency === true };
    const rated = rateBounded(found.book, model, cost.usage ?? ZERO_USAGE, options);
    return rated.ok ? { ok: true, value: { micros: rated.value, family: found.model.family } } : rated;
  }

  /** Prices an authorization and builds the core's request for it (pure, synchronous). */
  private holdRequest(input: AuthorizeInput, now: number): Result<AuthorizeRequest & Costed> {
    const priced = this.price(input.model, input.speed, input.estimate, now);
    if (!priced.ok) return priced;
    return {
      ok: true,
      value: {
        holdId: newId("hold", now),
        orgId: input.orgId,
        memberId: input.memberId,
        surface: input.surface,
        model: input.model,
        family: priced.value.family,
        speed: input.speed,
        estimate: priced.value.micros,
        ttlMs: input.ttlMs ?? this.options.holdTtlMs,
        metadata: input.metadata ?? {},
        ...(input.owner ? { owner: input.owner } : {}),
        cost: input.estimateInputs ?? costInputs(input.estimate),
      },
    };
  }

  // Money operations queue synchronously, in call order: no await before `submit`.
  async authorize(input: AuthorizeInput, idem?: Idempotency<AuthorizeResult>, observer?: StandingObserver): Promise<Outcome<AuthorizeResult>> {
    const priced = this.holdRequest(input, this.clock.now());
    if (!priced.ok) return { kind: "fresh", result: priced };
    const request = priced.value;
    const out = this.batcher.submit<AuthorizeResult>({
      orgId: input.orgId,
      memberIds: [input.memberId],
      holdIds: [],
      dueHolds: "all",
      run: (books, at) => {
        const r = books.authorize(request, at);
        observe(observer, books, input.orgId, input.memberId, at);
        return r.ok ? { ok: true, value: { hold: r.value, balance: books.balance(input.orgId, at) } } : r;
      },
      ...(idem ? { idempotency: idem } : {}),
    });
    return out.then((o) => {
      if (o.kind === "fresh" && !o.result.ok) for (const l of this.refusedListeners) l(input.orgId, input.memberId, o.result.error);
      return o;
    });
  }

  /** Registers a listener called after each settle or usage event commits (never inside the batch). */
  /** Called (after the batch commits) for every refused authorization, e.g. to notify window.exhausted. */
  onRefused(listener: (orgId: string, memberId: string, error: DomainError) => void): void {
    this.refusedListeners.push(listener);
  }

  onSettled(listener: (orgId: string) => void): void {
    this.settledListeners.push(listener);
  }

  private afterSettle(orgId: string, pending: Promise<Outcome<SettleResult>>): Promise<Outcome<SettleResult>> {
    return pending.then((out) => {
      if (out.kind === "fresh" && out.result.ok) for (const l of this.settledListeners) l(orgId);
      return out;
    });
  }

  /** Settles a hold for `actor` (see core/books.ts `mayResolve`; none: an internal caller). */
  async settle(orgId: string, holdId: string, actual: Cost, idem?: Idempotency<SettleResult>, actor?: HoldActor, observer?: StandingObserver): Promise<Outcome<SettleResult>> {
    return this.afterSettle(orgId, this.batcher.submit<SettleResult>({
      orgId,
      memberIds: [],
      holdIds: [holdId],
      run: (books, at) => {
        const hold = books.hold(orgId, holdId);
        if (!hold) return { ok: false, error: domainError("not_found", `No hold ${holdId}.`) };
        let micros = actual.amount;
        if (micros === undefined) {
          // Rated with the price book in force when the hold was taken.
          const r = this.rateSync(hold.model, hold.speed, actual, hold.createdAt);
          if (!r.ok) return r;
          micros = r.value;
        }
        const s = books.settle(orgId, holdId, micros, at, logged(actual), actor);
        observe(observer, books, orgId, hold.memberId, at);
        return s.ok ? { ok: true, value: { ...s.value, balance: books.balance(orgId, at) } } : s;
      },
      ...(idem ? { idempotency: idem } : {}),
    }));
  }

  async release(orgId: string, holdId: string, idem?: Idempotency<AuthorizeResult>, actor?: HoldActor, observer?: StandingObserver): Promise<Outcome<AuthorizeResult>> {
    return this.batcher.submit<AuthorizeResult>({
      orgId,
      memberIds: [],
      holdIds: [holdId],
      run: (books, at) => {
        const r = books.release(orgId, holdId, at, actor);
        observe(observer, books, orgId, books.hold(orgId, holdId)?.memberId, at);
        return r.ok ? { ok: true, value: { hold: r.value, balance: books.balance(orgId, at) } } : r;
      },
      ...(idem ? { idempotency: idem } : {}),
    });
  }

  /** Usage reported after the fact: admitted and charged in one step, or refused with nothing charged. */
  async recordUsage(input: UsageEventInput, idem: Idempotency<SettleResult>): Promise<Outcome<SettleResult>> {
    const priced = this.holdRequest({ ...input, estimate: input.cost }, this.clock.now());
    if (!priced.ok) return { kind: "fresh", result: priced };
    const request = priced.value;
    return this.afterSettle(input.orgId, this.batcher.submit<SettleResult>({
      orgId: input.orgId,
      memberIds: [input.memberId],
      holdIds: [],
      dueHolds: "all",
      run: (books, at) => {
        const held = books.authorize(request, at);
        if (!held.ok) return held;
        const s = books.settle(input.orgId, request.holdId, request.estimate, at, logged(input.cost));
        return s.ok ? { ok: true, value: { ...s.value, balance: books.balance(input.orgId, at) } } : s;
      },
      idempotency: idem,
    }));
  }

  async createGrant(input: GrantInput, idem?: Idempotency<Grant>): Promise<Outcome<Grant>> {
    const now = this.clock.now();
    const grant: Grant = {
      id: newId("grant", now),
      orgId: input.orgId,
      kind: input.kind,
      amount: input.amount,
      remaining: input.amount,
      priority: input.priority,
      expiresAt: input.expiresAt,
      surfaces: input.surfaces,
      memberId: input.memberId,
      createdAt: now,
      status: "active",
      description: input.description,
    };
    return this.batcher.submit<Grant>({
      orgId: input.orgId,
      memberIds: input.memberId ? [input.memberId] : [],
      holdIds: [],
      run: (books, at, audit) => {
        if (!books.org(input.orgId)) return { ok: false, error: domainError("not_found", `No organization ${input.orgId}.`) };
        if (input.memberId && !books.member(input.orgId, input.memberId)) {
          return { ok: false, error: domainError("not_found", `No member ${input.memberId} in this organization.`) };
        }
        const added = books.addGrant({ ...grant }, at);
        audit.record({ orgId: input.orgId, action: "grant.created", targetType: "grant", targetId: added.id, before: null, after: added });
        return { ok: true, value: added };
      },
      ...(idem ? { idempotency: idem } : {}),
    });
  }

  async voidGrant(orgId: string, grantId: string, idem?: Idempotency<Grant>, reason?: string): Promise<Outcome<Grant>> {
    return this.batcher.submit<Grant>({
      orgId,
      memberIds: [],
      holdIds: [],
      grantIds: [grantId],
      run: (books, at, audit) => {
        const before = books.grant(orgId, grantId);
        const snapshot = before ? { ...before } : null;
        const r = books.voidGrant(orgId, grantId, at);
        if (r.ok) audit.record({ orgId, action: "grant.voided", targetType: "grant", targetId: grantId, before: snapshot, after: reason ? { ...r.value, reason } : r.value });
        return r;
      },
      ...(idem ? { idempotency: idem } : {}),
    });
  }

  /**
   * Releases every expired hold and moves expired grants to breakage. Safe to run on every
   * instance. Drains all that is due, `chunk` holds per organization and transaction (each chunk
   * is loaded with one query and written with multi-row statements), until nothing is left.
   */
  async sweep(store: Store, chunk = 5_000): Promise<{ holds: number; grants: number }> {
    let holds = 0;
    let grants = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await store.read((tx) => tx.dueForSweep(now, chunk));
      const orgs = new Set([...due.holds.map((h) => h.orgId), ...due.grantOrgs]);
      if (orgs.size === 0) break;
      let progress = 0;
      await Promise.all(
        [...orgs].map(async (orgId) => {
          const out = await this.batcher.submit({
            orgId,
            memberIds: [],
            holdIds: [],
            dueHolds: chunk,
            allActiveGrants: true,
            run: (books, at) => ({ ok: true, value: { holds: books.expireHolds(at, orgId).length, grants: books.expireGrants(at).length } }),
          });
          if (out.kind === "fresh" && out.result.ok) {
            holds += out.result.value.holds;
            grants += out.result.value.grants;
            progress += out.result.value.holds + out.result.value.grants;
          }
        }),
      );
      // Another instance swept the same rows meanwhile (or nothing was due after all): stop here.
      if (progress === 0) break;
    }
    return { holds, grants };
  }

  private rateSync(model: string, speed: Speed, cost: Cost, at: number): Result<Micros> {
    const book = this.catalog.bookAtCached(at);
    if (!book) return { ok: false, error: domainError("unknown_model", `No price for model ${JSON.stringify(model)}.`, { model }) };
    return rateBounded(book, model, cost.usage ?? ZERO_USAGE, { speed, batch: cost.batch === true, dataResidency: cost.dataResidency === true });
  }
}

/** The inputs of a cost, as the operation log keeps them (the pricing lab rates them again). */
export function costInputs(cost: Cost): CostInputs {
  return { amount: cost.amount ?? null, usage: cost.usage ?? (cost.amount === undefined ? ZERO_USAGE : null), batch: cost.batch === true, dataResidency: cost.dataResidency === true };
}

/** Token counts for the usage record, and the cost's inputs for the log. */
function logged(cost: Cost): Tokens & Costed {
  return { ...tokensOf(cost.usage), cost: costInputs(cost) };
}

/**
 * Rates a usage; a cost beyond MAX_MICROS (a book accepted before price books were bounded, or
 * token counts no caller may send) is the caller's error, never an exception (a 500).
 */
function rateBounded(book: Parameters<typeof rate>[0], model: string, usage: Usage, options: RatingOptions): Result<Micros> {
  let rating: ReturnType<typeof rate>;
  try {
    rating = rate(book, model, usage, options);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { ok: false, error: domainError("amount_out_of_range", `The cost of this usage is beyond the largest amount the engine accepts (${MAX_MICROS} micro-dollars).`, { max: String(MAX_MICROS) }) };
  }
  if (!rating) return { ok: false, error: domainError("unknown_model", `No price for model ${JSON.stringify(model)}.`, { model }) };
  return { ok: true, value: rating.micros };
}

