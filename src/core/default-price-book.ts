// Default prices: the vendor's public list prices (USD per million tokens), shipped as a
// configurable default, never as constants in business code. Fast mode: 2x on every token
// class (the vendor's later figure; it launched at 6x). Batch: 50% off every token class.
// US-only data residency: 1.1x. Web search: $10 per 1,000 requests. Modifiers stack.

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

export const DEFAULT_PRICE_BOOK: PriceBookSpec = {
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
