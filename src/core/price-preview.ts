// A new price book previewed against real usage before it is published: every usage record of a
// period is rated twice with the real rating code (rating.ts) — with the book that was in force
// when it happened, and with the proposed book — and the two are summed per model. Pure.
//
// Usage records keep input tokens as one number (cache writes and reads included) and output
// tokens, so both columns rate all input tokens at the input rate: the two columns are comparable
// with each other, and each may differ from the recorded cost for cache-heavy traffic (the
// recorded total is shown beside them). Records metered by amount (no tokens), or whose model the
// book does not price, cannot be re-rated: they are counted, and carried at their recorded cost.

import type { Micros } from "./money.js";
import type { UsageRecord } from "./model.js";
import type { PriceBook } from "./price-book.js";
import { rate, ZERO_USAGE } from "./rating.js";

export interface PreviewRow {
  readonly model: string;
  readonly requests: number;
  /** What was charged (the usage records' cost). */
  readonly recorded: Micros;
  /** Re-rated with the book in force at each request's time. */
  readonly current: Micros;
  /** Re-rated with the proposed book. */
  readonly proposed: Micros;
  /** Requests that could not be re-rated (metered by amount, or a model a book does not price). */
  readonly unrated: number;
}

export interface PricePreview {
  readonly rows: PreviewRow[];
  readonly totals: Omit<PreviewRow, "model">;
}

export function previewPriceBook(records: readonly UsageRecord[], bookAt: (at: number) => PriceBook | undefined, proposed: PriceBook): PricePreview {
  const rows = new Map<string, { requests: number; recorded: number; current: number; proposed: number; unrated: number }>();
  for (const r of records) {
    const row = rows.get(r.model) ?? { requests: 0, recorded: 0, current: 0, proposed: 0, unrated: 0 };
    row.requests++;
    row.recorded += r.cost;
    const usage = { ...ZERO_USAGE, input_tokens: r.inputTokens, output_tokens: r.outputTokens };
    const options = { speed: r.speed, batch: false, dataResidency: false } as const;
    const book = bookAt(r.at);
    const before = r.inputTokens + r.outputTokens > 0 && book ? rate(book, r.model, usage, options) : undefined;
    const after = r.inputTokens + r.outputTokens > 0 ? rate(proposed, r.model, usage, options) : undefined;
    if (before && after) {
      row.current += before.micros;
      row.proposed += after.micros;
    } else {
      row.unrated++;
      row.current += r.cost;
      row.proposed += r.cost;
    }
    rows.set(r.model, row);
  }
  const list = [...rows].map(([model, v]) => ({ model, ...v })).sort((a, b) => b.current - a.current || a.model.localeCompare(b.model));
  const totals = list.reduce((t, r) => ({ requests: t.requests + r.requests, recorded: t.recorded + r.recorded, current: t.current + r.current, proposed: t.proposed + r.proposed, unrated: t.unrated + r.unrated }), {
    requests: 0,
    recorded: 0,
    current: 0,
    proposed: 0,
    unrated: 0,
  });
  return { rows: list, totals };
}
