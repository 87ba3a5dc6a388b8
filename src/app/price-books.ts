// Reviewing a new price book before it is published (`usage-credits price-books diff` and
// `import --dry-run`): load the book it would replace and the last 30 days of usage, decide with
// the pure diff (core/price-book-diff.ts), and say what changes for whom — which models and rates
// change, and which organizations sent model names that would be priced differently or refused.

import { DAY_MS } from "../core/plans.js";
import { diffBooks, impactOnNames, type BookChange, type NameImpact } from "../core/price-book-diff.js";
import { bookInForce, parsePriceBook, type PriceBookSpec } from "../core/price-book.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";

/** How far back "who used the affected models" looks. */
export const IMPACT_WINDOW_MS = 30 * DAY_MS;

export interface AffectedOrg {
  readonly orgId: string;
  readonly requests: number;
  /** What those requests cost at the old prices, in micro-dollars. */
  readonly cost: number;
  readonly models: ReadonlyArray<{ name: string; requests: number; cost: number }>;
}

export interface PriceBookReview {
  readonly candidate: { id: string; version: number; effective_from: string };
  /** The book the candidate would replace (in force at its effective_from), if any. */
  readonly replaces: { id: string; version: number } | null;
  readonly changes: readonly BookChange[];
  readonly names: readonly NameImpact[];
  readonly organizations: readonly AffectedOrg[];
  readonly since: string;
}

export type ReviewResult = { ok: true; review: PriceBookReview } | { ok: false; problems: string[] };

/** `since`: where "who used it lately" starts (default: 30 days ago). */
export async function reviewPriceBook(store: Store, clock: Clock, spec: PriceBookSpec, sinceAt?: number): Promise<ReviewResult> {
  const parsed = parsePriceBook(spec);
  if (!parsed.ok) return parsed;
  const next = parsed.book;
  const now = clock.now();
  const since = sinceAt ?? now - IMPACT_WINDOW_MS;
  const { specs, usage } = await store.read(async (tx) => ({ specs: await tx.listPriceBooks(), usage: await tx.modelUsageSince(since) }));
  const books = specs.flatMap((s) => {
    const p = parsePriceBook(s);
    return p.ok && !(s.id === spec.id && s.version === spec.version) ? [p.book] : [];
  });
  const current = bookInForce(books, Math.max(now, next.effectiveFrom));
  const changes = current ? diffBooks(current, next) : next.models.map((m) => ({ model: m.id, field: "added", from: null, to: null }));
  const names = current ? impactOnNames(current, next, usage.map((u) => u.model)) : [];
  const affected = new Set(names.map((n) => n.name));
  const byOrg = new Map<string, { requests: number; cost: number; models: Array<{ name: string; requests: number; cost: number }> }>();
  for (const u of usage) {
    if (!affected.has(u.model)) continue;
    const o = byOrg.get(u.orgId) ?? { requests: 0, cost: 0, models: [] };
    o.requests += u.requests;
    o.cost += u.cost;
    o.models.push({ name: u.model, requests: u.requests, cost: u.cost });
    byOrg.set(u.orgId, o);
  }
  return {
    ok: true,
    review: {
      candidate: { id: spec.id, version: spec.version, effective_from: spec.effective_from },
      replaces: current ? { id: current.id, version: current.version } : null,
      changes,
      names,
      organizations: [...byOrg].map(([orgId, o]) => ({ orgId, ...o })).sort((a, b) => b.cost - a.cost || a.orgId.localeCompare(b.orgId)),
      since: new Date(since).toISOString(),
    },
  };
}
