// Group commit. Money operations queue here; whatever arrives while a batch is committing forms
// the next batch. A batch locks its organizations (id order), loads one snapshot, applies its
// operations one at a time in arrival order (core/books.ts), and writes everything — ledger,
// holds, counters and idempotency records — in one durable transaction. A caller is answered
// only after its batch commits, so an acknowledged operation is durable. With maxBatch = 1 this
// is plain one-transaction-per-operation execution, and gives the same results by construction.
//
// Where the store has row locks (PostgreSQL), several batches may be in flight at once, so round
// trips overlap; batches in flight never share an organization, which keeps each organization's
// operations in arrival order (an operation waits while its organization is busy, and so does every
// later operation of that organization).

import type { Books } from "../core/books.js";
import { LoggedBooks } from "../core/operation-log.js";
import { domainError, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Clock } from "../ports/clock.js";
import type { AuditEntry } from "../core/audit.js";
import type { Snapshot } from "../core/model.js";
import type { IdempotencyRecord, SnapshotScope, Store, StoreTx } from "../ports/store.js";
import { StaleSnapshot, StoreUnavailable, UniqueViolation } from "../ports/store-errors.js";
import { HotOrgs, type CachedSnapshot, type HotBase } from "./hot-orgs.js";
import { auditEntries, AuditRecorder, currentActor, type ActorContext } from "./audit.js";

/** What an idempotent operation stores and replays: the rendered response. */
export interface Rendered {
  readonly status: number;
  readonly body: string;
}

export interface Idempotency<T> {
  readonly scope: string;
  readonly key: string;
  /** Hash of the request (method, path, body): same key + other body = conflict. */
  readonly requestHash: string;
  readonly render: (result: Result<T>) => Rendered;
}

export interface MoneyOp<T> {
  readonly orgId: string;
  readonly memberIds: readonly string[];
  readonly holdIds: readonly string[];
  readonly grantIds?: readonly string[];
  readonly allActiveGrants?: boolean;
  /** Load the org's expired pending holds too: "all" before admission, or a sweep's chunk size. */
  readonly dueHolds?: "all" | number;
  /** Decides against the books; changes to money it makes on request are recorded in `audit`. */
  readonly run: (books: Books, now: number, audit: AuditRecorder) => Result<T>;
  readonly idempotency?: Idempotency<T>;
}

export type Outcome<T> = { readonly kind: "fresh"; readonly result: Result<T> } | { readonly kind: "replay"; readonly rendered: Rendered };

interface Queued {
  readonly op: MoneyOp<unknown>;
  /** Who submitted it (the batch commits in whichever request's turn came first). */
  readonly by: ActorContext;
  readonly resolve: (o: Outcome<unknown>) => void;
  readonly reject: (e: unknown) => void;
}

export interface BatcherOptions {
  readonly maxBatch: number;
  /** Batches in flight at once (1 for a single-writer store). */
  readonly concurrency: number;
  /**
   * Organizations whose money state is kept between batches (hot-orgs.ts), where the store has
   * versioned organizations; 0 or absent: every batch reads its snapshot in its transaction.
   */
  readonly cachedOrgs?: number;
}

export interface BatchStats {
  batches: number;
  operations: number;
  largest: number;
  /** Committed batches decided on cached state (one crossing to the SQLite writer thread). */
  cached: number;
  /** Batches decided on cached state that found a change (or a stored key) and were decided again. */
  stale: number;
}

export class Batcher {
  private queue: Queued[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly busy = new Set<string>();
  private readonly batchListeners: Array<(size: number) => void> = [];
  readonly stats: BatchStats = { batches: 0, operations: 0, largest: 0, cached: 0, stale: 0 };
  /** Each organization's money state as of this instance's last commit for it (absent: not kept). */
  private readonly hot: HotOrgs | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: BatcherOptions,
  ) {
    const capacity = options.cachedOrgs ?? 0;
    this.hot = store.capabilities.versionedOrgs === true && capacity > 0 ? new HotOrgs(capacity) : undefined;
  }

  submit<T>(op: MoneyOp<T>): Promise<Outcome<T>> {
    return new Promise<Outcome<T>>((resolve, reject) => {
      this.queue.push({ op: op as MoneyOp<unknown>, by: currentActor(), resolve: resolve as (o: Outcome<unknown>) => void, reject });
      this.schedule();
    });
  }

  /** Operations waiting for a batch (not yet in a committing one). */
  get depth(): number {
    return this.queue.length;
  }

  /** Called with the size of every committed batch (metrics). */
  onBatch(listener: (size: number) => void): void {
    this.batchListeners.push(listener);
  }

  /** Resolves once everything queued so far has been committed (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the I/O phase: every request already readable in this event-loop turn joins the batch.
    // (A microtask would commit each request alone: SQLite answers synchronously.)
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency && this.queue.length > 0) {
      const batch: Queued[] = [];
      const rest: Queued[] = [];
      const orgs = new Set<string>();
      const deferred = new Set<string>();
      for (const q of this.queue) {
        const org = q.op.orgId;
        if (batch.length < this.options.maxBatch && !this.busy.has(org) && !deferred.has(org)) {
          batch.push(q);
          orgs.add(org);
        } else {
          rest.push(q);
          deferred.add(org);
        }
      }
      if (batch.length === 0) return;
      this.queue = rest;
      for (const o of orgs) this.busy.add(o);
      this.inFlight++;
      void this.runBatch(batch).finally(() => {
        for (const o of orgs) this.busy.delete(o);
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
      });
    }
  }

  private async runBatch(batch: Queued[], retried = false): Promise<void> {
    let outcomes: Outcome<unknown>[];
    try {
      outcomes = await this.commit(batch);
    } catch (err) {
      if (batch.length === 1 && !retried && err instanceof UniqueViolation) {
        // Raced with another instance on an idempotency key: once more, the winner's record replays.
        return this.runBatch(batch, true);
      }
      if (batch.length === 1 || isUnavailable(err)) {
        for (const q of batch) q.reject(err);
        return;
      }
      // One operation broke the batch (a bug or a constraint): retry each alone so the others commit.
      for (const q of batch) await this.runBatch([q]);
      return;
    }
    this.stats.batches++;
    this.stats.operations += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    for (const l of this.batchListeners) l(batch.length);
    batch.forEach((q, i) => q.resolve(outcomes[i] as Outcome<unknown>));
  }

  private async commit(queued: readonly Queued[]): Promise<Outcome<unknown>[]> {
    const now = this.clock.now();
    const plan = planOf(queued.map((q) => q.op), now);
    const cached = this.hot?.snapshotFor(plan.scope);
    if (this.hot && cached) {
      try {
        const outcomes = await this.commitCached(queued, plan, cached, this.hot);
        this.stats.cached++;
        return outcomes;
      } catch (err) {
        this.hot.drop(plan.orgIds);
        if (!(err instanceof StaleSnapshot)) throw err;
        // Another writer changed an organization since it was cached, or a key is a replay: nothing
        // was written; decide again on state read in the transaction (which refills the cache).
        this.stats.stale++;
      }
    }
    try {
      return await this.commitRead(queued, plan);
    } catch (err) {
      this.hot?.drop(plan.orgIds); // the next batch decides on committed state only
      throw err;
    }
  }

  /**
   * Decided here on cached state before anything is sent; then ONE message to the SQLite writer
   * thread: BEGIN, the check that no organization changed and no key is stored, the writes, the
   * versions after them, COMMIT. Answered only after that COMMIT returned.
   */
  private async commitCached(queued: readonly Queued[], plan: BatchPlan, cached: CachedSnapshot, hot: HotOrgs): Promise<Outcome<unknown>[]> {
    const decided = this.decide(queued, cached.snapshot, [], plan.now);
    let after: Promise<ReadonlyMap<string, number>> | undefined;
    await this.store.transaction(async (tx) => {
      if (!tx.checkFresh) throw new Error("the store cannot check a batch decided on cached state");
      tx.checkFresh({ versions: cached.versions, idempotency: plan.idempotency });
      await tx.finalWrites(() => {
        const writes = this.writeDecided(tx, decided);
        after = tx.orgVersions(plan.orgIds); // issued after the writes: the versions they raised
        return Promise.all([writes, after]);
      });
    });
    hot.commit(plan.orgIds, undefined, decided.changes, after ? await after : new Map());
    return decided.outcomes;
  }

  /** Today's path: the lock, the snapshot and the idempotency records read in the transaction, then decided. */
  private async commitRead(queued: readonly Queued[], plan: BatchPlan): Promise<Outcome<unknown>[]> {
    const { scope, idempotency, orgIds } = plan;
    let base: HotBase | undefined;
    let decided: Decided | undefined;
    let after: Promise<ReadonlyMap<string, number>> | undefined;
    const outcomes = await this.store.transaction(async (tx) => {
      // The lock, the snapshot and the idempotency records in one call where the store has it (on
      // SQLite: one message to the writer thread instead of one per round of reads).
      const { snapshot, records, hot } = tx.readForBatch
        ? await tx.readForBatch(scope, idempotency, this.hot !== undefined && !sweeping(scope))
        : await (async () => {
            const locked = await tx.lockOrgs(orgIds);
            const [snap, ...stored] = await Promise.all([tx.loadSnapshot(scope, locked), ...idempotency.map((i) => tx.getIdempotency(i.scope, i.keys))]);
            return { snapshot: snap, records: stored.flat(), hot: undefined };
          })();
      // Copied before the books change the snapshot's objects: the cache takes the batch's changes once it committed.
      base = this.hot && hot ? HotOrgs.baseOf(snapshot, hot, plan.now) : undefined;
      const d = this.decide(queued, snapshot, records, plan.now);
      decided = d;
      // Every write of the batch at once: one message to the SQLite writer thread, with the COMMIT
      // right behind it (no round trip in between; a failed write rolls the batch back).
      await tx.finalWrites(() => {
        const writes = this.writeDecided(tx, d);
        after = base ? tx.orgVersions(orgIds) : undefined;
        return Promise.all([writes, after]);
      });
      return d.outcomes;
    });
    if (this.hot) {
      if (base && decided && after) this.hot.commit(orgIds, base, decided.changes, await after);
      else this.hot.drop(orgIds);
    }
    return outcomes;
  }

  /** The pure part: each operation in arrival order on the books, idempotency records and audit entries. */
  private decide(queued: readonly Queued[], snapshot: Snapshot, records: readonly IdempotencyRecord[], now: number): Decided {
    const books = new LoggedBooks(snapshot, (kind) => newId(kind, now));
    const known = new Map<string, { requestHash: string; rendered: Rendered }>();
    for (const r of records) known.set(`${r.scope}\n${r.key}`, { requestHash: r.requestHash, rendered: { status: r.status, body: r.response } });

    const fresh: IdempotencyRecord[] = [];
    const audited: AuditEntry[] = [];
    const outcomes = queued.map((q): Outcome<unknown> => {
      const o = q.op;
      const idem = o.idempotency;
      if (idem) {
        const prior = known.get(`${idem.scope}\n${idem.key}`);
        if (prior) {
          if (prior.requestHash === idem.requestHash) return { kind: "replay", rendered: prior.rendered };
          return { kind: "fresh", result: { ok: false, error: idempotencyConflict(idem.key) } };
        }
      }
      const audit = new AuditRecorder();
      const result = o.run(books, now, audit);
      if (result.ok) audited.push(...auditEntries(audit.drafts, now, q.by));
      if (idem) {
        const rendered = idem.render(result);
        known.set(`${idem.scope}\n${idem.key}`, { requestHash: idem.requestHash, rendered });
        fresh.push({ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, status: rendered.status, response: rendered.body, createdAt: now });
      }
      return { kind: "fresh", result };
    });
    return { outcomes, changes: books.changes(), fresh, audited };
  }

  private writeDecided(tx: StoreTx, d: Decided): Promise<unknown> {
    return Promise.all([tx.writeChanges(d.changes), tx.putIdempotency(d.fresh), d.audited.length > 0 ? tx.audit.insert(d.audited) : undefined]);
  }
}

interface Decided {
  readonly outcomes: Outcome<unknown>[];
  readonly changes: ReturnType<LoggedBooks["changes"]>;
  readonly fresh: IdempotencyRecord[];
  readonly audited: AuditEntry[];
}

/** What a batch reads: its scope, and the idempotency keys per scope. */
interface BatchPlan {
  readonly now: number;
  readonly orgIds: readonly string[];
  readonly scope: SnapshotScope;
  readonly idempotency: ReadonlyArray<{ readonly scope: string; readonly keys: readonly string[] }>;
}

function planOf(ops: readonly MoneyOp<unknown>[], now: number): BatchPlan {
  const orgIds = [...new Set(ops.map((o) => o.orgId))];
  // Idempotency records already stored (the org lock serializes same-key requests across
  // instances), read together with the snapshot: one round of reads, not two.
  const byScope = new Map<string, string[]>();
  for (const o of ops) {
    if (!o.idempotency) continue;
    const list = byScope.get(o.idempotency.scope) ?? [];
    list.push(o.idempotency.key);
    byScope.set(o.idempotency.scope, list);
  }
  const scope: SnapshotScope = {
    orgIds,
    memberIds: [...new Set(ops.flatMap((o) => o.memberIds))],
    holdIds: [...new Set(ops.flatMap((o) => o.holdIds))],
    grantIds: [...new Set(ops.flatMap((o) => o.grantIds ?? []))],
    allActiveGrants: ops.some((o) => o.allActiveGrants === true),
    ...dueHoldsOf(ops),
    now,
  };
  return { now, orgIds, scope, idempotency: [...byScope].map(([s, keys]) => ({ scope: s, keys })) };
}

/**
 * A sweep's chunk (a number of due holds) does not fill the cache: its organizations' pending holds
 * are what it is about to release, so reading them all again for the cache doubled its reads (the
 * sweep fell from ~11,000 to ~4,000 holds/s). Its organizations are dropped and refilled by their
 * next request's batch.
 */
function sweeping(scope: SnapshotScope): boolean {
  return typeof scope.dueHolds === "number";
}

export function idempotencyConflict(key: string) {
  return domainError("idempotency_conflict", `Idempotency-Key ${JSON.stringify(key)} was already used with a different request; use a new key for a new request.`);
}

/** What the batch's snapshot loads of expired holds: all of them if any operation admits. */
function dueHoldsOf(ops: readonly MoneyOp<unknown>[]): { dueHolds?: "all" | number } {
  let out: "all" | number | undefined;
  for (const o of ops) {
    if (o.dueHolds === "all" || out === "all") out = o.dueHolds === undefined ? out : "all";
    else if (o.dueHolds !== undefined) out = Math.max(out ?? 0, o.dueHolds);
  }
  return out === undefined ? {} : { dueHolds: out };
}

function isUnavailable(err: unknown): boolean {
  return err instanceof StoreUnavailable;
}
