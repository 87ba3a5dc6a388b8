// Plans and price books, read from the store and cached. Several instances may edit them, so the
// cache is refreshed after `refreshMs` (and at once on this instance's own edits). Lookups on the
// money path are synchronous (stale-while-revalidate): an operation is queued in the order it was
// called, never reordered by a refresh in flight.

import { DEFAULT_PLANS } from "../core/default-plans.js";
import { DEFAULT_PRICE_BOOK } from "../core/default-price-book.js";
import { bookInForce, findModel, parsePriceBook, type ModelPrice, type PriceBook, type PriceBookSpec } from "../core/price-book.js";
import { versionInForce, type PlanDef, type PlanVersion } from "../core/plans.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import { UniqueViolation } from "../ports/store-errors.js";

export class Catalog {
  private books: PriceBook[] = [];
  private specs: PriceBookSpec[] = [];
  private versions = new Map<string, PlanVersion[]>();
  private loadedAt = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly refreshMs = 5_000,
  ) {}

  /** Seeds default plans and the shipped price book (into an empty store, or over an older shipped version). */
  async seedDefaults(): Promise<void> {
    try {
      await this.seedOnce();
    } catch (err) {
      // Another instance starting at the same moment seeded the same plan versions first: read
      // again, and find nothing left to add.
      if (!(err instanceof UniqueViolation)) throw err;
      await this.seedOnce();
    }
    await this.refresh();
  }

  private async seedOnce(): Promise<void> {
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      const plans = await tx.listPlanVersions();
      // The shipped plans, in force since the beginning (as a migrated plan's version 1 is).
      if (plans.length === 0) for (const p of DEFAULT_PLANS) await tx.addPlanVersion({ definition: p, effectiveAt: 0, createdAt: now, createdBy: "system" });
      const books = await tx.listPriceBooks();
      // A store that only ever had the shipped book gets the shipped book's new version (a newer
      // lineup); one where the operator published books of their own is left alone.
      const onlyShipped = books.every((b) => b.id === DEFAULT_PRICE_BOOK.id && b.version < DEFAULT_PRICE_BOOK.version);
      if (onlyShipped) {
        const parsed = parsePriceBook(DEFAULT_PRICE_BOOK);
        if (!parsed.ok) throw new Error(`default price book invalid: ${parsed.problems.join("; ")}`);
        await tx.insertPriceBook(DEFAULT_PRICE_BOOK, parsed.book.effectiveFrom, now);
      }
    });
  }

  async refresh(): Promise<void> {
    const { versions, specs } = await this.store.read(async (tx) => ({ versions: await tx.listPlanVersions(), specs: await tx.listPriceBooks() }));
    const byPlan = new Map<string, PlanVersion[]>();
    for (const v of versions) byPlan.set(v.planId, [...(byPlan.get(v.planId) ?? []), v]);
    this.versions = byPlan;
    this.specs = specs;
    this.books = specs.flatMap((spec) => {
      const parsed = parsePriceBook(spec);
      return parsed.ok ? [parsed.book] : [];
    });
    this.loadedAt = this.clock.now();
  }

  private refreshing: Promise<void> | undefined;

  private async fresh(): Promise<void> {
    if (this.clock.now() - this.loadedAt >= this.refreshMs) await this.refresh();
  }

  /** Starts a background refresh when the cache is old; never waits for it. */
  private revalidate(): void {
    if (this.refreshing || this.clock.now() - this.loadedAt < this.refreshMs) return;
    this.refreshing = this.refresh()
      .catch(() => undefined) // a failed refresh keeps the cache; the next lookup tries again
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  /** Waits for a background refresh in flight (shutdown). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  /** The plan as the version in force at `at` (default: now) defines it. */
  async plan(id: string, at = this.clock.now()): Promise<PlanDef | undefined> {
    await this.fresh();
    return versionInForce(this.versions.get(id) ?? [], at)?.definition;
  }

  /** Every plan as its version in force now defines it. */
  async listPlans(): Promise<PlanDef[]> {
    await this.fresh();
    const now = this.clock.now();
    return [...this.versions.values()].flatMap((vs) => {
      const v = versionInForce(vs, now);
      return v ? [v.definition] : [];
    });
  }

  /** Every version of a plan, oldest first; empty for an unknown plan. */
  async planVersions(id: string): Promise<readonly PlanVersion[]> {
    await this.fresh();
    return this.versions.get(id) ?? [];
  }

  async listPriceBookSpecs(): Promise<PriceBookSpec[]> {
    await this.fresh();
    return this.specs;
  }

  async priceBook(at: number): Promise<PriceBook | undefined> {
    await this.fresh();
    return bookInForce(this.books, at);
  }

  /** Every published book (fresh), for re-rating a past period in force-at-the-time order. */
  async allBooks(): Promise<readonly PriceBook[]> {
    await this.fresh();
    return this.books;
  }

  /** The book in force at `at` from the cache, without a refresh (inside a batch: no I/O). */
  bookAtCached(at: number): PriceBook | undefined {
    return bookInForce(this.books, at);
  }
  /** The model's price in the book in force at `at`, from the cache (synchronous). */
  model(name: string, at: number): { book: PriceBook; model: ModelPrice } | undefined {
    this.revalidate();
    const book = bookInForce(this.books, at);
    const model = book ? findModel(book, name) : undefined;
    return book && model ? { book, model } : undefined;
  }
}
