// Rating's table and property tests against the shipped price book.
// Over 400 lines: one describe per rating rule (token classes, fractions, modifiers, web search, model names, properties).

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { rate, STANDARD, ZERO_USAGE, type Rating, type RatingOptions, type Usage } from "./rating.js";
import { parsePriceBook, TOKEN_CLASSES, type PriceBook, type TokenClass } from "./price-book.js";
import { V1_PRICE_BOOK as DEFAULT_PRICE_BOOK } from "./v1-price-book.fixture.js";

function loadDefaultBook(): PriceBook {
  const parsed = parsePriceBook(DEFAULT_PRICE_BOOK);
  if (!parsed.ok) throw new Error(`default price book does not parse: ${parsed.problems.join("; ")}`);
  return parsed.book;
}
const book = loadDefaultBook();

const FIELD: Record<TokenClass, keyof Usage> = {
  input: "input_tokens",
  cache_write_5m: "cache_creation_5m_input_tokens",
  cache_write_1h: "cache_creation_1h_input_tokens",
  cache_read: "cache_read_input_tokens",
  output: "output_tokens",
};

function usageOf(cls: TokenClass, tokens: number): Usage {
  return { ...ZERO_USAGE, [FIELD[cls]]: tokens };
}

function mustRate(model: string, usage: Usage, options: RatingOptions = STANDARD): Rating {
  const r = rate(book, model, usage, options);
  assert.ok(r, `expected ${model} to be priced`);
  return r;
}

/** exactNum/exactDen == num/den, by cross-multiplication. */
function assertExact(r: Rating, num: bigint, den: bigint, label: string): void {
  assert.ok(r.exactDen > 0n, `${label}: exactDen must be positive`);
  assert.equal(
    r.exactNum * den,
    num * r.exactDen,
    `${label}: exact ${r.exactNum}/${r.exactDen} should equal ${num}/${den}`,
  );
}

const opt = (speed: "standard" | "fast", batch: boolean, dataResidency: boolean): RatingOptions => ({ speed, batch, dataResidency });
const FAST = opt("fast", false, false);
const BATCH = opt("standard", true, false);
const RESIDENCY = opt("standard", false, true);
const FAST_BATCH = opt("fast", true, false);
const FAST_RESIDENCY = opt("fast", false, true);
const BATCH_RESIDENCY = opt("standard", true, true);
const ALL_THREE = opt("fast", true, true);
const ALL_OPTIONS: ReadonlyArray<[string, RatingOptions]> = [
  ["standard", STANDARD],
  ["fast", FAST],
  ["batch", BATCH],
  ["residency", RESIDENCY],
  ["fast+batch", FAST_BATCH],
  ["fast+residency", FAST_RESIDENCY],
  ["batch+residency", BATCH_RESIDENCY],
  ["fast+batch+residency", ALL_THREE],
];

// ---------------------------------------------------------------------------------------------
// Hand-computed table. Per-token cost in µ$ equals the USD/MTok list price (DOMAIN.md §6), so:
//   1,000,000 tokens → price × 1,000,000 µ$;  1 token → price µ$;  3 tokens → 3 × price µ$.
// [model, class, tokens, rounded micros (half-even), exact numerator, exact denominator]
// ---------------------------------------------------------------------------------------------
type Row = readonly [string, TokenClass, number, number, bigint, bigint];

const OPUS_ROWS = (id: string): Row[] => [
  [id, "input", 1_000_000, 5_000_000, 5_000_000n, 1n],
  [id, "input", 1, 5, 5n, 1n],
  [id, "input", 3, 15, 15n, 1n],
  [id, "cache_write_5m", 1_000_000, 6_250_000, 6_250_000n, 1n],
  [id, "cache_write_5m", 1, 6, 25n, 4n], // 6.25
  [id, "cache_write_5m", 3, 19, 75n, 4n], // 18.75
  [id, "cache_write_1h", 1_000_000, 10_000_000, 10_000_000n, 1n],
  [id, "cache_write_1h", 1, 10, 10n, 1n],
  [id, "cache_write_1h", 3, 30, 30n, 1n],
  [id, "cache_read", 1_000_000, 500_000, 500_000n, 1n],
  [id, "cache_read", 1, 0, 1n, 2n], // 0.5 → tie → 0 (even)
  [id, "cache_read", 3, 2, 3n, 2n], // 1.5 → tie → 2 (even)
  [id, "output", 1_000_000, 25_000_000, 25_000_000n, 1n],
  [id, "output", 1, 25, 25n, 1n],
  [id, "output", 3, 75, 75n, 1n],
];

const SONNET_4_ROWS = (id: string): Row[] => [
  [id, "input", 1_000_000, 3_000_000, 3_000_000n, 1n],
  [id, "input", 1, 3, 3n, 1n],
  [id, "input", 3, 9, 9n, 1n],
  [id, "cache_write_5m", 1_000_000, 3_750_000, 3_750_000n, 1n],
  [id, "cache_write_5m", 1, 4, 15n, 4n], // 3.75
  [id, "cache_write_5m", 3, 11, 45n, 4n], // 11.25
  [id, "cache_write_1h", 1_000_000, 6_000_000, 6_000_000n, 1n],
  [id, "cache_write_1h", 1, 6, 6n, 1n],
  [id, "cache_write_1h", 3, 18, 18n, 1n],
  [id, "cache_read", 1_000_000, 300_000, 300_000n, 1n],
  [id, "cache_read", 1, 0, 3n, 10n], // 0.3
  [id, "cache_read", 3, 1, 9n, 10n], // 0.9
  [id, "output", 1_000_000, 15_000_000, 15_000_000n, 1n],
  [id, "output", 1, 15, 15n, 1n],
  [id, "output", 3, 45, 45n, 1n],
];

const TABLE: readonly Row[] = [
  ...OPUS_ROWS("claude-opus-4-5"),
  ...OPUS_ROWS("claude-opus-4-6"),
  ...OPUS_ROWS("claude-opus-5"),
  ["claude-opus-5-5", "input", 1_000_000, 4_000_000, 4_000_000n, 1n],
  ["claude-opus-5-5", "input", 1, 4, 4n, 1n],
  ["claude-opus-5-5", "input", 3, 12, 12n, 1n],
  ["claude-opus-5-5", "cache_write_5m", 1_000_000, 5_000_000, 5_000_000n, 1n],
  ["claude-opus-5-5", "cache_write_5m", 1, 5, 5n, 1n],
  ["claude-opus-5-5", "cache_write_5m", 3, 15, 15n, 1n],
  ["claude-opus-5-5", "cache_write_1h", 1_000_000, 8_000_000, 8_000_000n, 1n],
  ["claude-opus-5-5", "cache_write_1h", 1, 8, 8n, 1n],
  ["claude-opus-5-5", "cache_write_1h", 3, 24, 24n, 1n],
  ["claude-opus-5-5", "cache_read", 1_000_000, 200_000, 200_000n, 1n],
  ["claude-opus-5-5", "cache_read", 1, 0, 1n, 5n], // 0.2
  ["claude-opus-5-5", "cache_read", 3, 1, 3n, 5n], // 0.6
  ["claude-opus-5-5", "output", 1_000_000, 20_000_000, 20_000_000n, 1n],
  ["claude-opus-5-5", "output", 1, 20, 20n, 1n],
  ["claude-opus-5-5", "output", 3, 60, 60n, 1n],
  ...SONNET_4_ROWS("claude-sonnet-4-5"),
  ...SONNET_4_ROWS("claude-sonnet-4-6"),
  ["claude-sonnet-5", "input", 1_000_000, 2_000_000, 2_000_000n, 1n],
  ["claude-sonnet-5", "input", 1, 2, 2n, 1n],
  ["claude-sonnet-5", "input", 3, 6, 6n, 1n],
  ["claude-sonnet-5", "cache_write_5m", 1_000_000, 2_500_000, 2_500_000n, 1n],
  ["claude-sonnet-5", "cache_write_5m", 1, 2, 5n, 2n], // 2.5 → tie → 2
  ["claude-sonnet-5", "cache_write_5m", 3, 8, 15n, 2n], // 7.5 → tie → 8
  ["claude-sonnet-5", "cache_write_1h", 1_000_000, 4_000_000, 4_000_000n, 1n],
  ["claude-sonnet-5", "cache_write_1h", 1, 4, 4n, 1n],
  ["claude-sonnet-5", "cache_write_1h", 3, 12, 12n, 1n],
  ["claude-sonnet-5", "cache_read", 1_000_000, 200_000, 200_000n, 1n],
  ["claude-sonnet-5", "cache_read", 1, 0, 1n, 5n], // 0.2
  ["claude-sonnet-5", "cache_read", 3, 1, 3n, 5n], // 0.6
  ["claude-sonnet-5", "output", 1_000_000, 10_000_000, 10_000_000n, 1n],
  ["claude-sonnet-5", "output", 1, 10, 10n, 1n],
  ["claude-sonnet-5", "output", 3, 30, 30n, 1n],
  ["claude-haiku-4-5", "input", 1_000_000, 1_000_000, 1_000_000n, 1n],
  ["claude-haiku-4-5", "input", 1, 1, 1n, 1n],
  ["claude-haiku-4-5", "input", 3, 3, 3n, 1n],
  ["claude-haiku-4-5", "cache_write_5m", 1_000_000, 1_250_000, 1_250_000n, 1n],
  ["claude-haiku-4-5", "cache_write_5m", 1, 1, 5n, 4n], // 1.25
  ["claude-haiku-4-5", "cache_write_5m", 3, 4, 15n, 4n], // 3.75
  ["claude-haiku-4-5", "cache_write_1h", 1_000_000, 2_000_000, 2_000_000n, 1n],
  ["claude-haiku-4-5", "cache_write_1h", 1, 2, 2n, 1n],
  ["claude-haiku-4-5", "cache_write_1h", 3, 6, 6n, 1n],
  ["claude-haiku-4-5", "cache_read", 1_000_000, 100_000, 100_000n, 1n],
  ["claude-haiku-4-5", "cache_read", 1, 0, 1n, 10n], // 0.1
  ["claude-haiku-4-5", "cache_read", 3, 0, 3n, 10n], // 0.3
  ["claude-haiku-4-5", "output", 1_000_000, 5_000_000, 5_000_000n, 1n],
  ["claude-haiku-4-5", "output", 1, 5, 5n, 1n],
  ["claude-haiku-4-5", "output", 3, 15, 15n, 1n],
];

describe("rate: default price book, every model × every token class", () => {
  test("the table covers every model in DEFAULT_PRICE_BOOK and every token class", () => {
    for (const m of DEFAULT_PRICE_BOOK.models) {
      for (const cls of TOKEN_CLASSES) {
        assert.ok(
          TABLE.some(([model, c, tokens]) => model === m.id && c === cls && tokens === 1_000_000),
          `missing table row for ${m.id} / ${cls}`,
        );
      }
    }
    // and nothing in the table that is not in the book
    for (const [model] of TABLE) assert.ok(DEFAULT_PRICE_BOOK.models.some((m) => m.id === model), model);
  });

  for (const [model, cls, tokens, micros, num, den] of TABLE) {
    test(`${model} ${cls} × ${tokens} = ${micros} µ$ (exact ${num}/${den})`, () => {
      const r = mustRate(model, usageOf(cls, tokens));
      assert.equal(r.model.id, model);
      assert.equal(r.micros, micros);
      assertExact(r, num, den, `${model} ${cls} ${tokens}`);
    });
  }

  test("zero usage costs zero for every model", () => {
    for (const m of DEFAULT_PRICE_BOOK.models) {
      const r = mustRate(m.id, ZERO_USAGE);
      assert.equal(r.micros, 0);
      assert.equal(r.exactNum, 0n);
    }
  });
});

describe("rate: fractions of a micro-dollar (cache reads), half-even", () => {
  const cases: ReadonlyArray<[string, number, number, bigint, bigint]> = [
    // [model, cache-read tokens, micros, exact num, exact den]
    ["claude-sonnet-4-5", 1, 0, 3n, 10n], // 0.3 → 0
    ["claude-sonnet-4-5", 2, 1, 3n, 5n], // 0.6 → 1
    ["claude-sonnet-4-5", 5, 2, 3n, 2n], // 1.5 → tie → 2
    ["claude-sonnet-4-5", 15, 4, 9n, 2n], // 4.5 → tie → 4
    ["claude-sonnet-4-5", 25, 8, 15n, 2n], // 7.5 → tie → 8
    ["claude-haiku-4-5", 4, 0, 2n, 5n], // 0.4 → 0
    ["claude-haiku-4-5", 5, 0, 1n, 2n], // 0.5 → tie → 0
    ["claude-haiku-4-5", 6, 1, 3n, 5n], // 0.6 → 1
    ["claude-haiku-4-5", 15, 2, 3n, 2n], // 1.5 → tie → 2
    ["claude-haiku-4-5", 25, 2, 5n, 2n], // 2.5 → tie → 2 (even)
    ["claude-haiku-4-5", 35, 4, 7n, 2n], // 3.5 → tie → 4
    ["claude-haiku-4-5", 26, 3, 13n, 5n], // 2.6 → 3
    ["claude-opus-4-5", 5, 2, 5n, 2n], // 2.5 → tie → 2
    ["claude-opus-4-5", 7, 4, 7n, 2n], // 3.5 → tie → 4
    ["claude-opus-5-5", 12, 2, 12n, 5n], // 2.4 → 2
    ["claude-sonnet-5", 13, 3, 13n, 5n], // 2.6 → 3
  ];
  for (const [model, tokens, micros, num, den] of cases) {
    test(`${tokens} cache-read tokens of ${model} = ${num}/${den} µ$ → ${micros}`, () => {
      const r = mustRate(model, usageOf("cache_read", tokens));
      assert.equal(r.micros, micros);
      assertExact(r, num, den, `${model} cache_read ${tokens}`);
    });
  }
});

describe("rate: modifiers", () => {
  // 1,000,000 output tokens of claude-opus-4-5 ($25/MTok) under every combination.
  const opusOutput: ReadonlyArray<[string, RatingOptions, number]> = [
    ["standard", STANDARD, 25_000_000],
    ["fast (2x)", FAST, 50_000_000],
    ["batch (0.5x)", BATCH, 12_500_000],
    ["data residency (1.1x)", RESIDENCY, 27_500_000],
    ["fast+batch (1x)", FAST_BATCH, 25_000_000],
    ["fast+residency (2.2x)", FAST_RESIDENCY, 55_000_000],
    ["batch+residency (0.55x)", BATCH_RESIDENCY, 13_750_000],
    ["fast+batch+residency (1.1x)", ALL_THREE, 27_500_000],
  ];
  for (const [label, options, micros] of opusOutput) {
    test(`opus-4-5 1M output, ${label} = ${micros}`, () => {
      const r = mustRate("claude-opus-4-5", usageOf("output", 1_000_000), options);
      assert.equal(r.micros, micros);
      assertExact(r, BigInt(micros), 1n, label);
    });
  }

  // Every modifier in the default book applies to every token class.
  const sonnetPerClass: ReadonlyArray<[TokenClass, number, number, number]> = [
    // [class, fast, batch, fast+batch+residency] for 1M tokens of claude-sonnet-4-5
    ["input", 6_000_000, 1_500_000, 3_300_000],
    ["cache_write_5m", 7_500_000, 1_875_000, 4_125_000],
    ["cache_write_1h", 12_000_000, 3_000_000, 6_600_000],
    ["cache_read", 600_000, 150_000, 330_000],
    ["output", 30_000_000, 7_500_000, 16_500_000],
  ];
  for (const [cls, fast, batch, all] of sonnetPerClass) {
    test(`sonnet-4-5 1M ${cls}: fast ${fast}, batch ${batch}, all three ${all}`, () => {
      assert.equal(mustRate("claude-sonnet-4-5", usageOf(cls, 1_000_000), FAST).micros, fast);
      assert.equal(mustRate("claude-sonnet-4-5", usageOf(cls, 1_000_000), BATCH).micros, batch);
      assert.equal(mustRate("claude-sonnet-4-5", usageOf(cls, 1_000_000), ALL_THREE).micros, all);
    });
  }

  const fractional: ReadonlyArray<[string, string, TokenClass, number, RatingOptions, number, bigint, bigint]> = [
    ["haiku 1 cache read, residency: 0.11 → 0", "claude-haiku-4-5", "cache_read", 1, RESIDENCY, 0, 11n, 100n],
    ["sonnet-4-5 5 cache reads, batch: 0.75 → 1", "claude-sonnet-4-5", "cache_read", 5, BATCH, 1, 3n, 4n],
    ["sonnet-5 1 cache write 5m, fast+batch: 2.5 → 2", "claude-sonnet-5", "cache_write_5m", 1, FAST_BATCH, 2, 5n, 2n],
    ["haiku 5 input, batch: 2.5 → 2", "claude-haiku-4-5", "input", 5, BATCH, 2, 5n, 2n],
    ["haiku 7 input, batch: 3.5 → 4", "claude-haiku-4-5", "input", 7, BATCH, 4, 7n, 2n],
    ["haiku 5 input, residency: 5.5 → 6", "claude-haiku-4-5", "input", 5, RESIDENCY, 6, 11n, 2n],
    ["haiku 15 input, residency: 16.5 → 16", "claude-haiku-4-5", "input", 15, RESIDENCY, 16, 33n, 2n],
    ["haiku 50 cache reads, batch+residency: 2.75 → 3", "claude-haiku-4-5", "cache_read", 50, BATCH_RESIDENCY, 3, 11n, 4n],
    ["opus 3 cache reads, all three: 1.65 → 2", "claude-opus-4-5", "cache_read", 3, ALL_THREE, 2, 33n, 20n],
    ["opus 1 cache read, fast: 1.0 → 1", "claude-opus-4-5", "cache_read", 1, FAST, 1, 1n, 1n],
  ];
  for (const [label, model, cls, tokens, options, micros, num, den] of fractional) {
    test(label, () => {
      const r = mustRate(model, usageOf(cls, tokens), options);
      assert.equal(r.micros, micros);
      assertExact(r, num, den, label);
    });
  }

  test("modifier stacking is exact even when rounding each step would differ", () => {
    // 1 haiku cache read: 0.1 × 2 × 0.5 × 1.1 = 0.11 exactly, → 0.
    const r = mustRate("claude-haiku-4-5", usageOf("cache_read", 1), ALL_THREE);
    assertExact(r, 11n, 100n, "stacked");
    assert.equal(r.micros, 0);
  });
});

describe("rate: web search", () => {
  for (const [label, options] of ALL_OPTIONS) {
    test(`3 web searches = 30,000 µ$ regardless of modifiers (${label})`, () => {
      const r = mustRate("claude-sonnet-4-5", { ...ZERO_USAGE, web_search_requests: 3 }, options);
      assert.equal(r.micros, 30_000);
      assertExact(r, 30_000n, 1n, label);
    });
  }
  test("1 web search + 1M opus input under batch = 10,000 + 2,500,000", () => {
    const r = mustRate("claude-opus-4-5", { ...ZERO_USAGE, input_tokens: 1_000_000, web_search_requests: 1 }, BATCH);
    assert.equal(r.micros, 2_510_000);
  });
});

describe("rate: a mixed request", () => {
  // claude-sonnet-4-5: 1,234 input × 3 = 3,702; 5,678 output × 15 = 85,170 (output includes
  // thinking tokens); 100 cache-write-5m × 3.75 = 375; 50 cache-write-1h × 6 = 300;
  // 10,000 cache reads × 0.3 = 3,000 → tokens 92,547 µ$; 2 web searches = 20,000 µ$.
  const usage: Usage = {
    input_tokens: 1_234,
    output_tokens: 5_678,
    cache_creation_5m_input_tokens: 100,
    cache_creation_1h_input_tokens: 50,
    cache_read_input_tokens: 10_000,
    web_search_requests: 2,
  };
  const cases: ReadonlyArray<[string, RatingOptions, number, bigint, bigint]> = [
    ["standard", STANDARD, 112_547, 112_547n, 1n],
    ["batch: 46,273.5 + 20,000 → tie → 66,274", BATCH, 66_274, 132_547n, 2n],
    ["residency: 101,801.7 + 20,000 → 121,802", RESIDENCY, 121_802, 1_218_017n, 10n],
    ["batch+residency: 50,900.85 + 20,000 → 70,901", BATCH_RESIDENCY, 70_901, 7_090_085n, 100n],
    ["fast+batch+residency: 101,801.7 + 20,000 → 121,802", ALL_THREE, 121_802, 1_218_017n, 10n],
    ["fast: 185,094 + 20,000", FAST, 205_094, 205_094n, 1n],
  ];
  for (const [label, options, micros, num, den] of cases) {
    test(label, () => {
      const r = mustRate("claude-sonnet-4-5", usage, options);
      assert.equal(r.micros, micros);
      assertExact(r, num, den, label);
    });
  }

  test("thinking tokens are output tokens: output_tokens is priced at the output rate", () => {
    // There is no separate thinking field on Usage; 1,000 thinking + 500 visible = 1,500 output.
    assert.ok(!("thinking_tokens" in ZERO_USAGE));
    const r = mustRate("claude-opus-4-5", { ...ZERO_USAGE, output_tokens: 1_000 + 500 });
    assert.equal(r.micros, 37_500); // 1,500 × 25 µ$
  });
});

describe("rate: model names", () => {
  const resolves: ReadonlyArray<[string, string, number]> = [
    // [requested name, canonical id, µ$ for 1M input tokens]
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5", 3_000_000],
    ["claude-opus-4-5-20251101", "claude-opus-4-5", 5_000_000],
    ["claude-haiku-4-5-20251001", "claude-haiku-4-5", 1_000_000],
    ["claude-haiku-4-5-latest", "claude-haiku-4-5", 1_000_000],
    ["claude-opus-5-5", "claude-opus-5-5", 4_000_000],
    // must not be mistaken for claude-opus-5 + suffix
    ["claude-opus-5-5-20260101", "claude-opus-5-5", 4_000_000],
    ["claude-opus-5-20260101", "claude-opus-5", 5_000_000],
    ["claude-sonnet-5-20260101", "claude-sonnet-5", 2_000_000],
  ];
  for (const [name, id, micros] of resolves) {
    test(`${name} resolves to ${id}`, () => {
      const r = mustRate(name, usageOf("input", 1_000_000));
      assert.equal(r.model.id, id);
      assert.equal(r.micros, micros);
    });
  }

  const unknown = [
    "",
    "claude-opus-4",
    "claude-opus-4-1",
    "claude-opus-5-6",
    "claude-sonnet-4-5-2025",
    "claude-sonnet-4-5-202509290",
    "claude-sonnet-4-5-20250929x",
    "claude-sonnet-4-5-",
    "claude-sonnet-4-5x",
    "CLAUDE-SONNET-4-5",
    "xclaude-sonnet-4-5",
    "gpt-4o",
  ];
  for (const name of unknown) {
    test(`unknown model ${JSON.stringify(name)} → undefined`, () => {
      assert.equal(rate(book, name, usageOf("input", 1_000), STANDARD), undefined);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** Independent reference: µ$ per million tokens, straight from DOMAIN.md §6. */
const REFERENCE: Record<string, Record<TokenClass, bigint>> = (() => {
  const opus = { input: 5_000_000n, cache_write_5m: 6_250_000n, cache_write_1h: 10_000_000n, cache_read: 500_000n, output: 25_000_000n };
  const sonnet4 = { input: 3_000_000n, cache_write_5m: 3_750_000n, cache_write_1h: 6_000_000n, cache_read: 300_000n, output: 15_000_000n };
  return {
    "claude-opus-4-5": opus,
    "claude-opus-4-6": opus,
    "claude-opus-5": opus,
    "claude-opus-5-5": { input: 4_000_000n, cache_write_5m: 5_000_000n, cache_write_1h: 8_000_000n, cache_read: 200_000n, output: 20_000_000n },
    "claude-sonnet-4-5": sonnet4,
    "claude-sonnet-4-6": sonnet4,
    "claude-sonnet-5": { input: 2_000_000n, cache_write_5m: 2_500_000n, cache_write_1h: 4_000_000n, cache_read: 200_000n, output: 10_000_000n },
    "claude-haiku-4-5": { input: 1_000_000n, cache_write_5m: 1_250_000n, cache_write_1h: 2_000_000n, cache_read: 100_000n, output: 5_000_000n },
  };
})();

const tokenArb = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1_000_000_000 }));
const usageArb: fc.Arbitrary<Usage> = fc.record({
  input_tokens: tokenArb,
  output_tokens: tokenArb,
  cache_creation_5m_input_tokens: tokenArb,
  cache_creation_1h_input_tokens: tokenArb,
  cache_read_input_tokens: tokenArb,
  web_search_requests: fc.integer({ min: 0, max: 100_000 }),
});
const optionsArb: fc.Arbitrary<RatingOptions> = fc.record({
  speed: fc.constantFrom("standard" as const, "fast" as const),
  batch: fc.boolean(),
  dataResidency: fc.boolean(),
});
const modelArb = fc.constantFrom(...DEFAULT_PRICE_BOOK.models.map((m) => m.id));

const addUsage = (a: Usage, b: Usage): Usage => ({
  input_tokens: a.input_tokens + b.input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  cache_creation_5m_input_tokens: a.cache_creation_5m_input_tokens + b.cache_creation_5m_input_tokens,
  cache_creation_1h_input_tokens: a.cache_creation_1h_input_tokens + b.cache_creation_1h_input_tokens,
  cache_read_input_tokens: a.cache_read_input_tokens + b.cache_read_input_tokens,
  web_search_requests: a.web_search_requests + b.web_search_requests,
});

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

describe("rate: properties", () => {
  test("exact cost equals an independent reference computed from DOMAIN.md §6", () => {
    fc.assert(
      fc.property(modelArb, usageArb, optionsArb, (model, usage, options) => {
        const r = mustRate(model, usage, options);
        const rates = REFERENCE[model];
        assert.ok(rates);
        let num = 0n;
        for (const cls of TOKEN_CLASSES) num += BigInt(usage[FIELD[cls]]) * rates[cls];
        let den = 1_000_000n;
        if (options.speed === "fast") num *= 2n;
        if (options.batch) den *= 2n;
        if (options.dataResidency) {
          num *= 11n;
          den *= 10n;
        }
        num += BigInt(usage.web_search_requests) * 10_000n * den;
        assert.equal(r.exactNum * den, num * r.exactDen);
      }),
    );
  });

  test("rounded charge is within half a micro of the exact cost", () => {
    fc.assert(
      fc.property(modelArb, usageArb, optionsArb, (model, usage, options) => {
        const r = mustRate(model, usage, options);
        assert.ok(2n * abs(BigInt(r.micros) * r.exactDen - r.exactNum) <= r.exactDen);
      }),
    );
  });

  test("exact rating is additive: rate(a+b) = rate(a) + rate(b)", () => {
    fc.assert(
      fc.property(modelArb, usageArb, usageArb, optionsArb, (model, a, b, options) => {
        const ra = mustRate(model, a, options);
        const rb = mustRate(model, b, options);
        const rab = mustRate(model, addUsage(a, b), options);
        // rab.num / rab.den == ra.num/ra.den + rb.num/rb.den
        assert.equal(rab.exactNum * ra.exactDen * rb.exactDen, (ra.exactNum * rb.exactDen + rb.exactNum * ra.exactDen) * rab.exactDen);
      }),
    );
  });

  test("rounded rating of a two-part sum is within 1 micro of the sum of rounded parts", () => {
    fc.assert(
      fc.property(modelArb, usageArb, usageArb, optionsArb, (model, a, b, options) => {
        const ra = mustRate(model, a, options);
        const rb = mustRate(model, b, options);
        const rab = mustRate(model, addUsage(a, b), options);
        assert.ok(Math.abs(rab.micros - (ra.micros + rb.micros)) <= 1);
      }),
    );
  });

  test("rating is never negative and micros is a safe integer", () => {
    fc.assert(
      fc.property(modelArb, usageArb, optionsArb, (model, usage, options) => {
        const r = mustRate(model, usage, options);
        assert.ok(r.micros >= 0);
        assert.ok(r.exactNum >= 0n);
        assert.ok(Number.isSafeInteger(r.micros));
      }),
    );
  });

  test("rating is monotonic in each token count (and web searches)", () => {
    const fields: (keyof Usage)[] = [...TOKEN_CLASSES.map((c) => FIELD[c]), "web_search_requests"];
    fc.assert(
      fc.property(
        modelArb,
        usageArb,
        optionsArb,
        fc.constantFrom(...fields),
        fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1_000_000 })),
        (model, usage, options, field, extra) => {
          const before = mustRate(model, usage, options);
          const after = mustRate(model, { ...usage, [field]: usage[field] + extra }, options);
          assert.ok(after.micros >= before.micros, `${field} +${extra}: ${after.micros} < ${before.micros}`);
          assert.ok(after.exactNum * before.exactDen >= before.exactNum * after.exactDen);
        },
      ),
    );
  });

  test("dated model names price exactly like the canonical id", () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 0, max: 99_999_999 }), usageArb, optionsArb, (model, date, usage, options) => {
        const dated = `${model}-${String(date).padStart(8, "0")}`;
        const a = mustRate(model, usage, options);
        const b = mustRate(dated, usage, options);
        assert.equal(b.model.id, model);
        assert.equal(b.micros, a.micros);
      }),
    );
  });
});

describe("rate: modifiers that apply to only some token classes", () => {
  // A custom book where batch applies to input and output only (DOMAIN.md §6 wording) and data
  // residency to output only; the other classes must be priced at list.
  const custom = (() => {
    const spec = structuredClone(DEFAULT_PRICE_BOOK);
    spec.modifiers.batch.applies_to = ["input", "output"];
    spec.modifiers.data_residency.applies_to = ["output"];
    const parsed = parsePriceBook(spec);
    assert.ok(parsed.ok);
    return parsed.book;
  })();
  // claude-sonnet-4-5, 1M tokens of each class.
  const cases: ReadonlyArray<[TokenClass, RatingOptions, number]> = [
    ["input", BATCH, 1_500_000],
    ["output", BATCH, 7_500_000],
    ["cache_write_5m", BATCH, 3_750_000],
    ["cache_write_1h", BATCH, 6_000_000],
    ["cache_read", BATCH, 300_000],
    ["output", BATCH_RESIDENCY, 8_250_000],
    ["input", BATCH_RESIDENCY, 1_500_000],
    ["cache_read", BATCH_RESIDENCY, 300_000],
    ["cache_read", ALL_THREE, 600_000], // only fast applies
    ["output", ALL_THREE, 16_500_000],
  ];
  for (const [cls, options, micros] of cases) {
    test(`${cls} ${JSON.stringify(options)} = ${micros}`, () => {
      const r = rate(custom, "claude-sonnet-4-5", usageOf(cls, 1_000_000), options);
      assert.ok(r);
      assert.equal(r.micros, micros);
      assertExact(r, BigInt(micros), 1n, cls);
    });
  }
  test("a mixed request: 3 cache reads + 1 output token, batch+residency = 0.9 + 8.25 = 9.15 → 9", () => {
    const r = rate(custom, "claude-sonnet-4-5", { ...ZERO_USAGE, cache_read_input_tokens: 3, output_tokens: 1 }, BATCH_RESIDENCY);
    assert.ok(r);
    assert.equal(r.micros, 9);
    assertExact(r, 183n, 20n, "mixed");
  });
});
