// Money use cases: authorize / settle / release, usage events, grants and sweeps. Each one rates
// what it needs (pure), then hands the batcher an operation that decides against the books.

import { tokensOf, type AuthorizeRequest, type SettleOutcome } from "../core/books.js";
import { domainError, type DomainError, type Result } from "../core/errors.js";
import type { Grant, GrantKind } from "../core/grants.js";
import { newId } from "../core/ids.js";
import type { Hold } from "../core/model.js";
import type { Micros } from "../core/money.js";
import type { Surface } from "../core/plans.js";
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
    this.batcher = new Batcher(store, clock, { maxBatch: options.maxBatch, concurrency: store.capabilities.rowLocks ? 4 : 1 });
  }

  /** Prices a cost at `at` (synchronously, from the catalog cache); unknown models are a caller error. */
  price(model: string, speed: Speed, cost: Cost, at: number): Result<{ micros: Micros; family: string }> {
    const found = this.catalog.model(model, at);
    if (!found) return { ok: false, error: domainError("unknown_model", `No price for model ${JSON.stringify(model)} in the price book in force.`, { model }) };
    if (cost.amount !== undefined) return { ok: true, value: { micros: cost.amount, family: found.model.family } };
    const options: RatingOptions = { speed, batch: cost.batch === true, dataResidency: cost.dataResidency === true };
    const rating = rate(found.book, model, cost.usage ?? ZERO_USAGE, options);
    if (!rating) return { ok: false, error: domainError("unknown_model", `No price for model ${JSON.stringify(model)}.`, { model }) };
    return { ok: true, value: { micros: rating.micros, family: found.model.family } };
  }

  /** Prices an authorization and builds the core's request for it (pure, synchronous). */
  private holdRequest(input: AuthorizeInput, now: number): Result<AuthorizeRequest> {
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
      },
    };
  }

  // Money operations queue synchronously, in call order: no await before `submit`.
  async authorize(input: AuthorizeInput, idem?: Idempotency<AuthorizeResult>): Promise<Outcome<AuthorizeResult>> {
    const priced = this.holdRequest(input, this.clock.now());
    if (!priced.ok) return { kind: "fresh", result: priced };
    const request = priced.value;
    const out = this.batcher.submit<AuthorizeResult>({
      orgId: input.orgId,
      memberIds: [input.memberId],
      holdIds: [],
      run: (books, at) => {
        const r = books.authorize(request, at);
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

  async settle(orgId: string, holdId: string, actual: Cost, idem?: Idempotency<SettleResult>): Promise<Outcome<SettleResult>> {
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
        const s = books.settle(orgId, holdId, micros, at, tokensOf(actual.usage));
        return s.ok ? { ok: true, value: { ...s.value, balance: books.balance(orgId, at) } } : s;
      },
      ...(idem ? { idempotency: idem } : {}),
    }));
  }

  async release(orgId: string, holdId: string, idem?: Idempotency<AuthorizeResult>): Promise<Outcome<AuthorizeResult>> {
    return this.batcher.submit<AuthorizeResult>({
      orgId,
      memberIds: [],
      holdIds: [holdId],
      run: (books, at) => {
        const r = books.release(orgId, holdId, at);
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
      run: (books, at) => {
        const held = books.authorize(request, at);
        if (!held.ok) return held;
        const s = books.settle(input.orgId, request.holdId, request.estimate, at, tokensOf(input.cost.usage));
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

  /** Releases expired holds and moves expired grants to breakage. Safe to run on every instance. */
  async sweep(store: Store, limit = 500): Promise<{ holds: number; grants: number }> {
    const now = this.clock.now();
    const due = await store.read((tx) => tx.dueForSweep(now, limit));
    const orgs = new Map<string, { holds: string[]; members: string[] }>();
    for (const h of due.holds) {
      const o = orgs.get(h.orgId) ?? { holds: [], members: [] };
      o.holds.push(h.id);
      o.members.push(h.memberId);
      orgs.set(h.orgId, o);
    }
    for (const orgId of due.grantOrgs) if (!orgs.has(orgId)) orgs.set(orgId, { holds: [], members: [] });
    let holds = 0;
    let grants = 0;
    await Promise.all(
      [...orgs].map(async ([orgId, o]) => {
        const out = await this.batcher.submit({
          orgId,
          memberIds: o.members,
          holdIds: o.holds,
          allActiveGrants: true,
          run: (books, at) => ({ ok: true, value: { holds: books.expireHolds(at).length, grants: books.expireGrants(at).length } }),
        });
        if (out.kind === "fresh" && out.result.ok) {
          holds += out.result.value.holds;
          grants += out.result.value.grants;
        }
      }),
    );
    return { holds, grants };
  }

  private rateSync(model: string, speed: Speed, cost: Cost, at: number): Result<Micros> {
    const book = this.catalog.bookAtCached(at);
    const rating = book ? rate(book, model, cost.usage ?? ZERO_USAGE, { speed, batch: cost.batch === true, dataResidency: cost.dataResidency === true }) : undefined;
    if (!rating) return { ok: false, error: domainError("unknown_model", `No price for model ${JSON.stringify(model)}.`, { model }) };
    return { ok: true, value: rating.micros };
  }
}

