// Acceptance (issue 12, point 2): every model id and alias of the shipped price book, priced with
// US-only inference, batch, fast mode, long context and web search, against micro-dollars computed
// by hand from the vendor's list prices (default-price-book.ts header). The numbers are written
// literally; none is computed by the code under test.
//
// Usage U (every column but the last two): 1,000 input + 200 cache-write-5m + 100 cache-write-1h +
// 2,000 cache-read + 500 output tokens. A rate in USD/MTok is µ$ per token, so e.g. Opus 4.x at
// $5/$6.25/$10/$0.50/$25: 5,000 + 1,250 + 1,000 + 1,000 + 12,500 = 20,750 µ$.
//   us = ×1.1, batch = ×0.5, fast = × the model's multiplier (Opus 4.6/4.7: 6, the rest 2),
//   batch+us = ×0.55, all = fast × 0.5 × 1.1; one rounding per request, half to even
//   (Sonnet 4.x batch+us 12,450 × 0.55 = 6,847.5 → 6,848; Haiku 3 us 1,149.5 → 1,150).
//   search = U + 3 web searches at $10 per 1,000 (10,000 µ$ each, never multiplied).
// Usage L (the last column): 250,000 input + 1,000 output tokens, above the 200k long-context
// threshold: Sonnet 4/4.5/4.6 at $6/$22.50 → 1,500,000 + 22,500; Opus 4.6 at $10/$37.50 →
// 2,500,000 + 37,500; models without a long-context rule at their usual rates.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_PRICE_BOOK } from "./default-price-book.js";
import { parsePriceBook, type PriceBook } from "./price-book.js";
import { rate, ZERO_USAGE, type RatingOptions, type Usage } from "./rating.js";

const parsed = parsePriceBook(DEFAULT_PRICE_BOOK);
if (!parsed.ok) throw new Error(parsed.problems.join("; "));
const book: PriceBook = parsed.book;

const U: Usage = { ...ZERO_USAGE, input_tokens: 1_000, cache_creation_5m_input_tokens: 200, cache_creation_1h_input_tokens: 100, cache_read_input_tokens: 2_000, output_tokens: 500 };
const L: Usage = { ...ZERO_USAGE, input_tokens: 250_000, output_tokens: 1_000 };

// [name sent by the client, model it prices as, standard, us, batch, fast, batch+us, fast+batch+us, search, long]
type Row = readonly [string, string, number, number, number, number, number, number, number, number];

const opus6x = (name: string, id: string, long: number): Row => [name, id, 20_750, 22_825, 10_375, 124_500, 11_412, 68_475, 50_750, long];
const opus2x = (name: string, id: string): Row => [name, id, 20_750, 22_825, 10_375, 41_500, 11_412, 22_825, 50_750, 1_275_000];
const opusOld = (name: string, id: string): Row => [name, id, 62_250, 68_475, 31_125, 124_500, 34_238, 68_475, 92_250, 3_825_000];
const sonnet4 = (name: string, id: string): Row => [name, id, 12_450, 13_695, 6_225, 24_900, 6_848, 13_695, 42_450, 1_522_500];
const sonnet5 = (name: string): Row => [name, "claude-sonnet-5", 8_300, 9_130, 4_150, 16_600, 4_565, 9_130, 38_300, 510_000];
const haiku45 = (name: string): Row => [name, "claude-haiku-4-5", 4_150, 4_565, 2_075, 8_300, 2_282, 4_565, 34_150, 255_000];

const TABLE: readonly Row[] = [
  opus2x("claude-opus-4-8", "claude-opus-4-8"),
  opus2x("opus", "claude-opus-4-8"),
  opus2x("opus[1m]", "claude-opus-4-8"),
  opus6x("claude-opus-4-7", "claude-opus-4-7", 1_275_000),
  opus6x("claude-opus-4-7[1m]", "claude-opus-4-7", 1_275_000),
  opus6x("claude-opus-4-7-latest", "claude-opus-4-7", 1_275_000),
  opus6x("claude-opus-4-6", "claude-opus-4-6", 2_537_500),
  opus6x("claude-opus-4-6[1m]", "claude-opus-4-6", 2_537_500),
  opus2x("claude-opus-4-5", "claude-opus-4-5"),
  opus2x("claude-opus-4-5-20251101", "claude-opus-4-5"),
  opusOld("claude-opus-4-1", "claude-opus-4-1"),
  opusOld("claude-opus-4-1-20250805", "claude-opus-4-1"),
  opusOld("claude-opus-4", "claude-opus-4"),
  opusOld("claude-opus-4-0", "claude-opus-4"),
  opusOld("claude-opus-4-20250514", "claude-opus-4"),
  opus2x("claude-opus-5", "claude-opus-5"),
  ["claude-opus-5-5", "claude-opus-5-5", 16_200, 17_820, 8_100, 32_400, 8_910, 17_820, 46_200, 1_020_000],
  sonnet5("claude-sonnet-5"),
  sonnet5("sonnet"),
  sonnet5("sonnet[1m]"),
  sonnet4("claude-sonnet-4-6", "claude-sonnet-4-6"),
  sonnet4("claude-sonnet-4-5", "claude-sonnet-4-5"),
  sonnet4("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
  sonnet4("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
  sonnet4("claude-sonnet-4", "claude-sonnet-4"),
  sonnet4("claude-sonnet-4-0", "claude-sonnet-4"),
  sonnet4("claude-sonnet-4-20250514", "claude-sonnet-4"),
  haiku45("claude-haiku-4-5"),
  haiku45("claude-haiku-4-5-20251001"),
  haiku45("claude-haiku-4-5-latest"),
  haiku45("haiku"),
  ["claude-3-5-haiku", "claude-3-5-haiku", 3_320, 3_652, 1_660, 6_640, 1_826, 3_652, 33_320, 204_000],
  ["claude-3-5-haiku-20241022", "claude-3-5-haiku", 3_320, 3_652, 1_660, 6_640, 1_826, 3_652, 33_320, 204_000],
  ["claude-3-haiku", "claude-3-haiku", 1_045, 1_150, 522, 2_090, 575, 1_150, 31_045, 63_750],
  ["claude-3-haiku-20240307", "claude-3-haiku", 1_045, 1_150, 522, 2_090, 575, 1_150, 31_045, 63_750],
];

const opts = (speed: "standard" | "fast", batch: boolean, dataResidency: boolean): RatingOptions => ({ speed, batch, dataResidency });
const COLUMNS: ReadonlyArray<[string, RatingOptions, Usage]> = [
  ["standard", opts("standard", false, false), U],
  ["inference_geo us", opts("standard", false, true), U],
  ["batch", opts("standard", true, false), U],
  ["fast", opts("fast", false, false), U],
  ["batch + inference_geo us", opts("standard", true, true), U],
  ["fast + batch + inference_geo us", opts("fast", true, true), U],
  ["3 web searches", opts("standard", false, false), { ...U, web_search_requests: 3 }],
  ["long context (250k input)", opts("standard", false, false), L],
];

describe("the shipped price book, every id and alias (hand-computed µ$)", () => {
  test("the table names every id and alias of the shipped book", () => {
    const named = new Set(TABLE.map((r) => r[0]));
    for (const m of DEFAULT_PRICE_BOOK.models) {
      for (const n of [m.id, ...(m.aliases ?? [])]) assert.ok(named.has(n), `no row for ${n}`);
    }
  });

  for (const row of TABLE) {
    const [name, id] = row;
    test(`${name} → ${id}`, () => {
      COLUMNS.forEach(([label, options, usage], i) => {
        const r = rate(book, name, usage, options);
        assert.ok(r, `${name} is priced`);
        assert.equal(r.model.id, id, `${name} prices as ${id}`);
        assert.equal(r.micros, row[i + 2], `${name}, ${label}`);
      });
    });
  }

  test("the long-context threshold: 200,000 input tokens is not above it, 200,001 is", () => {
    const at = (input: number) => rate(book, "claude-sonnet-4-5", { ...ZERO_USAGE, input_tokens: input, output_tokens: 1_000 }, opts("standard", false, false))?.micros;
    assert.equal(at(200_000), 615_000); // 200,000 × 3 + 1,000 × 15
    assert.equal(at(200_001), 1_222_506); // 200,001 × 6 + 1,000 × 22.50
    // Cache reads and writes count toward the threshold, and are priced at the long rates too.
    const cached = rate(book, "claude-sonnet-4-5", { ...ZERO_USAGE, input_tokens: 1, cache_read_input_tokens: 200_000, output_tokens: 10 }, opts("standard", false, false));
    assert.equal(cached?.micros, 120_231); // 1 × 6 + 200,000 × 0.60 + 10 × 22.50 = 120,231
  });

  test("long context stacks with batch, US-only inference and fast mode", () => {
    // Opus 4.6, 250,000 input + 1,000 output: 2,537,500 × 6 (fast) × 0.5 × 1.1 = 8,373,750
    assert.equal(rate(book, "claude-opus-4-6", L, opts("fast", true, true))?.micros, 8_373_750);
  });

  test("an unknown model is refused; a book that opts in prices it by its family's default", () => {
    assert.equal(rate(book, "claude-opus-4-9", U, opts("standard", false, false)), undefined);
    assert.equal(rate(book, "claude-sonnet-4-7", U, opts("standard", false, false)), undefined);
    const optIn = parsePriceBook({ ...structuredClone(DEFAULT_PRICE_BOOK), unknown_models: { ...DEFAULT_PRICE_BOOK.unknown_models, policy: "family_default" } });
    assert.ok(optIn.ok);
    const opus = rate(optIn.book, "claude-opus-4-9", U, opts("standard", false, false));
    assert.equal(opus?.model.id, "claude-opus-4-8");
    assert.equal(opus?.micros, 20_750);
    assert.equal(rate(optIn.book, "claude-sonnet-4-7[1m]", U, opts("standard", false, false))?.micros, 8_300);
    assert.equal(rate(optIn.book, "claude-3-opus-20240229", U, opts("standard", false, false))?.model.id, "claude-opus-4-8");
    assert.equal(rate(optIn.book, "gpt-5", U, opts("standard", false, false)), undefined);
  });
});
