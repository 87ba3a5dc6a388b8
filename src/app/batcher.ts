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
import type { IdempotencyRecord, Store } from "../ports/store.js";
import { StoreUnavailable, UniqueViolation } from "../ports/store-errors.js";
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
}

export interface BatchStats {
  batches: number;
  operations: number;
  largest: number;
}

export class Batcher {
  private queue: Queued[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly busy = new Set<string>();
  private readonly batchListeners: Array<(size: number) => void> = [];
  readonly stats: BatchStats = { batches: 0, operations: 0, largest: 0 };

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: BatcherOptions,
  ) {}

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

  private commit(queued: readonly Queued[]): Promise<Outcome<unknown>[]> {
    const now = this.clock.now();
    const ops = queued.map((q) => q.op);
    return this.store.transaction(async (tx) => {
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
      const scope = {
        orgIds,
        memberIds: [...new Set(ops.flatMap((o) => o.memberIds))],
        holdIds: [...new Set(ops.flatMap((o) => o.holdIds))],
        grantIds: [...new Set(ops.flatMap((o) => o.grantIds ?? []))],
        allActiveGrants: ops.some((o) => o.allActiveGrants === true),
        ...dueHoldsOf(ops),
        now,
      };
      const idempotency = [...byScope].map(([s, keys]) => ({ scope: s, keys }));
      // The lock, the snapshot and the idempotency records in one call where the store has it (on
      // SQLite: one message to the writer thread instead of one per round of reads).
      const { snapshot, records } = tx.readForBatch
        ? await tx.readForBatch(scope, idempotency)
        : await (async () => {
            const locked = await tx.lockOrgs(orgIds);
            const [snap, ...stored] = await Promise.all([tx.loadSnapshot(scope, locked), ...idempotency.map((i) => tx.getIdempotency(i.scope, i.keys))]);
            return { snapshot: snap, records: stored.flat() };
          })();
      const books = new LoggedBooks(snapshot, (kind) => newId(kind, now));
      const known = new Map<string, { requestHash: string; rendered: Rendered }>();
      for (const r of records) known.set(`${r.scope}\n${r.key}`, { requestHash: r.requestHash, rendered: { status: r.status, body: r.response } });

      const fresh: IdempotencyRecord[] = [];
      const audited: AuditEntry[] = [];
      const outcomes = ops.map((o, i): Outcome<unknown> => {
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
        if (result.ok) audited.push(...auditEntries(audit.drafts, now, queued[i]?.by));
        if (idem) {
          const rendered = idem.render(result);
          known.set(`${idem.scope}\n${idem.key}`, { requestHash: idem.requestHash, rendered });
          fresh.push({ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, status: rendered.status, response: rendered.body, createdAt: now });
        }
        return { kind: "fresh", result };
      });
      // Every write of the batch at once: one message to the SQLite writer thread, with the COMMIT
      // right behind it (no round trip in between; a failed write rolls the batch back).
      await tx.finalWrites(() => Promise.all([tx.writeChanges(books.changes()), tx.putIdempotency(fresh), audited.length > 0 ? tx.audit.insert(audited) : undefined]));
      return outcomes;
    });
  }
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
