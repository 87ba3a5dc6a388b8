// The shipped price book: the vendor's public list prices (USD per million tokens) for the models
// clients send today, as data — a configurable default, never constants in business code.
// DOMAIN.md §6 gives Opus 4.5–4.8 and 5, Opus 5.5, Sonnet 4.5/4.6, Sonnet 5 and Haiku 4.5; the rows
// marked "vendor's" below are the vendor's published list prices for models §6 does not list.
//
// Modifiers stack: batch 50% off every token class; US-only inference (`inference_geo: "us"`) 1.1x;
// fast mode 2x on every token class (the vendor's later figure) except where a model sets its own
// `fast_factor` (Opus 4.6 and 4.7: 6x, the launch figure). Web search: $10 per 1,000 requests.
// Long context: Opus 4.6 and Sonnet 4, 4.5, 4.6 charge every token class of a request whose input
// (plain + cache writes + cache reads) is above 200,000 tokens at the long rates (vendor's).
// Aliases: Claude Code's `opus`, `sonnet`, `haiku` and the vendor's `…-0` names; a dated suffix
// (`-20251001`), `-latest` and the `[1m]` suffix are matched by rule (price-book.ts), not listed.

import type { PriceBookSpec, TokenClass } from "./price-book.js";

const ALL: TokenClass[] = ["input", "cache_write_5m", "cache_write_1h", "cache_read", "output"];

type Row = PriceBookSpec["models"][number];

const row = (id: string, family: string, input: string, w5: string, w1h: string, read: string, output: string, extra: Partial<Row> = {}): Row => ({
  id,
  family,
  input,
  cache_write_5m: w5,
  cache_write_1h: w1h,
  cache_read: read,
  output,
  ...extra,
});

/** Sonnet 4 / 4.5 / 4.6 above 200k input tokens (vendor's): $6 input, $22.50 output, caches scaled alike. */
const SONNET_LONG = { above_input_tokens: 200_000, input: "6", cache_write_5m: "7.50", cache_write_1h: "12", cache_read: "0.60", output: "22.50" };
/** Opus 4.6 above 200k input tokens (vendor's): $10 input, $37.50 output. */
const OPUS_LONG = { above_input_tokens: 200_000, input: "10", cache_write_5m: "12.50", cache_write_1h: "20", cache_read: "1", output: "37.50" };

export const DEFAULT_PRICE_BOOK: PriceBookSpec = {
  id: "pb_default",
  version: 2,
  effective_from: "2025-01-01T00:00:00Z",
  // In the order GET /v1/models lists them: newest first within each family.
  models: [
    row("claude-opus-4-8", "opus", "5", "6.25", "10", "0.50", "25", { aliases: ["opus"] }),
    row("claude-opus-4-7", "opus", "5", "6.25", "10", "0.50", "25", { fast_factor: "6" }),
    row("claude-opus-4-6", "opus", "5", "6.25", "10", "0.50", "25", { fast_factor: "6", long_context: OPUS_LONG, created_at: "2026-02-05T00:00:00Z" }),
    row("claude-opus-4-5", "opus", "5", "6.25", "10", "0.50", "25", { created_at: "2025-11-24T00:00:00Z" }),
    // vendor's: Opus 4.1 and Opus 4 at $15 / $75
    row("claude-opus-4-1", "opus", "15", "18.75", "30", "1.50", "75", { created_at: "2025-08-05T00:00:00Z" }),
    row("claude-opus-4", "opus", "15", "18.75", "30", "1.50", "75", { aliases: ["claude-opus-4-0"], created_at: "2025-05-22T00:00:00Z" }),
    row("claude-opus-5", "opus", "5", "6.25", "10", "0.50", "25"),
    row("claude-opus-5-5", "opus", "4", "5", "8", "0.20", "20"),
    row("claude-sonnet-5", "sonnet", "2", "2.50", "4", "0.20", "10", { aliases: ["sonnet"] }),
    row("claude-sonnet-4-6", "sonnet", "3", "3.75", "6", "0.30", "15", { long_context: SONNET_LONG, created_at: "2026-02-17T00:00:00Z" }),
    row("claude-sonnet-4-5", "sonnet", "3", "3.75", "6", "0.30", "15", { long_context: SONNET_LONG, created_at: "2025-09-29T00:00:00Z" }),
    // vendor's: Sonnet 4 at $3 / $15
    row("claude-sonnet-4", "sonnet", "3", "3.75", "6", "0.30", "15", { aliases: ["claude-sonnet-4-0"], long_context: SONNET_LONG, created_at: "2025-05-22T00:00:00Z" }),
    row("claude-haiku-4-5", "haiku", "1", "1.25", "2", "0.10", "5", { aliases: ["haiku"], created_at: "2025-10-15T00:00:00Z" }),
    // vendor's: Haiku 3.5 at $0.80 / $4 and Haiku 3 at $0.25 / $1.25
    row("claude-3-5-haiku", "haiku", "0.80", "1", "1.60", "0.08", "4", { display_name: "Claude Haiku 3.5", created_at: "2024-10-22T00:00:00Z" }),
    row("claude-3-haiku", "haiku", "0.25", "0.30", "0.50", "0.03", "1.25", { display_name: "Claude Haiku 3", created_at: "2024-03-07T00:00:00Z" }),
  ],
  modifiers: {
    fast: { factor: "2", applies_to: ALL },
    batch: { factor: "0.5", applies_to: ALL },
    data_residency: { factor: "1.1", applies_to: ALL },
  },
  web_search_per_1000: "10",
  // Refused by default; an operator who sets policy "family_default" prices e.g. claude-opus-4-9 as claude-opus-4-8.
  unknown_models: { policy: "refuse", family_defaults: { opus: "claude-opus-4-8", sonnet: "claude-sonnet-5", haiku: "claude-haiku-4-5" } },
};
