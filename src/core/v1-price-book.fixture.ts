// The first shipped price book (version 1), frozen for the unit tests of the rating mechanics: its
// rows are the ones the hand-computed tables in rating.test.ts and price-book.test.ts were written for.
// The shipped book (default-price-book.ts) has its own table test (default-price-book.test.ts).
// Fast 2x, batch 0.5x, US-only 1.1x, web search $10 per 1,000, as in DOMAIN.md §6.

import type { PriceBookSpec, TokenClass } from "./price-book.js";

const ALL: TokenClass[] = ["input", "cache_write_5m", "cache_write_1h", "cache_read", "output"];

const row = (id: string, family: string, input: string, w5: string, w1h: string, read: string, output: string) => ({
  id,
  family,
  input,
  cache_write_5m: w5,
  cache_write_1h: w1h,
  cache_read: read,
  output,
});

export const V1_PRICE_BOOK: PriceBookSpec = {
  id: "pb_default",
  version: 1,
  effective_from: "2025-01-01T00:00:00Z",
  models: [
    row("claude-opus-4-5", "opus", "5", "6.25", "10", "0.50", "25"),
    row("claude-opus-4-6", "opus", "5", "6.25", "10", "0.50", "25"),
    row("claude-opus-5", "opus", "5", "6.25", "10", "0.50", "25"),
    row("claude-opus-5-5", "opus", "4", "5", "8", "0.20", "20"),
    row("claude-sonnet-4-5", "sonnet", "3", "3.75", "6", "0.30", "15"),
    row("claude-sonnet-4-6", "sonnet", "3", "3.75", "6", "0.30", "15"),
    row("claude-sonnet-5", "sonnet", "2", "2.50", "4", "0.20", "10"),
    row("claude-haiku-4-5", "haiku", "1", "1.25", "2", "0.10", "5"),
  ],
  modifiers: {
    fast: { factor: "2", applies_to: ALL },
    batch: { factor: "0.5", applies_to: ALL },
    data_residency: { factor: "1.1", applies_to: ALL },
  },
  web_search_per_1000: "10",
};
