import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { MAX_MICROS } from "./money.js";
import { bookInForce, findModel, parsePriceBook, parseRatio, priceBookBoundProblems, worstCaseMicros, type PriceBook, type PriceBookSpec } from "./price-book.js";
import { V1_PRICE_BOOK as DEFAULT_PRICE_BOOK } from "./v1-price-book.fixture.js";

/** A deep copy of the default spec, so each test can break it on its own. */
const spec = (): PriceBookSpec => structuredClone(DEFAULT_PRICE_BOOK);

function problemsOf(s: PriceBookSpec): string[] {
  const r = parsePriceBook(s);
  assert.equal(r.ok, false, "expected the spec to be rejected");
  return r.ok ? [] : r.problems;
}

function assertProblem(problems: string[], fragment: string): void {
  assert.ok(
    problems.some((p) => p.includes(fragment)),
    `expected a problem mentioning ${JSON.stringify(fragment)}, got ${JSON.stringify(problems)}`,
  );
}

describe("parsePriceBook: the default book", () => {
  test("parses, with exact integer rates, ratios and web-search fee", () => {
    const r = parsePriceBook(DEFAULT_PRICE_BOOK);
    assert.ok(r.ok, r.ok ? "" : r.problems.join("; "));
    const b = r.book;
    assert.equal(b.id, "pb_default");
    assert.equal(b.version, 1);
    assert.equal(b.currency, "USD");
    assert.equal(b.effectiveFrom, Date.UTC(2025, 0, 1));
    assert.equal(b.models.length, 8);
    const opus = b.models.find((m) => m.id === "claude-opus-4-5");
    assert.ok(opus);
    assert.equal(opus.family, "opus");
    assert.deepEqual(opus.rates, {
      input: 5_000_000n,
      cache_write_5m: 6_250_000n,
      cache_write_1h: 10_000_000n,
      cache_read: 500_000n,
      output: 25_000_000n,
    });
    const haiku = b.models.find((m) => m.id === "claude-haiku-4-5");
    assert.ok(haiku);
    assert.deepEqual(haiku.rates, {
      input: 1_000_000n,
      cache_write_5m: 1_250_000n,
      cache_write_1h: 2_000_000n,
      cache_read: 100_000n,
      output: 5_000_000n,
    });
    assert.deepEqual(b.modifiers.fast.factor, { num: 2n, den: 1n });
    assert.deepEqual(b.modifiers.batch.factor, { num: 5n, den: 10n });
    assert.deepEqual(b.modifiers.data_residency.factor, { num: 11n, den: 10n });
    assert.equal(b.webSearchPerRequest, 10_000n);
  });
});

describe("parsePriceBook: rejects bad specs, listing every problem", () => {
  const firstModel = (s: PriceBookSpec) => {
    const m = s.models[0];
    assert.ok(m);
    return m;
  };

  const badRates: ReadonlyArray<[string, string]> = [
    ["1.2345678", "7 decimals"],
    ["-1", "negative"],
    ["abc", "garbage"],
    ["", "empty"],
    ["1e3", "exponent"],
    ["5.", "trailing dot"],
  ];
  for (const [value, label] of badRates) {
    test(`bad decimal rate (${label}: ${JSON.stringify(value)})`, () => {
      const s = spec();
      firstModel(s).input = value;
      assertProblem(problemsOf(s), "models[0].input");
    });
  }

  test("bad decimals in several places are all listed", () => {
    const s = spec();
    firstModel(s).cache_read = "0.5000001";
    const third = s.models[2];
    assert.ok(third);
    third.output = "twenty-five";
    const problems = problemsOf(s);
    assertProblem(problems, "models[0].cache_read");
    assertProblem(problems, "models[2].output");
    assert.equal(problems.length, 2);
  });

  test("duplicate model id", () => {
    const s = spec();
    s.models.push({ ...firstModel(s) });
    const problems = problemsOf(s);
    assertProblem(problems, `models[${s.models.length - 1}].id: duplicate claude-opus-4-5`);
    assert.equal(problems.length, 1);
  });

  for (const bad of ["", "not a date", "2025-13-45T00:00:00Z"]) {
    test(`bad effective_from ${JSON.stringify(bad)}`, () => {
      const s = spec();
      s.effective_from = bad;
      assertProblem(problemsOf(s), "effective_from");
    });
  }

  for (const bad of ["0", "0.0", "-1", "abc", "1.", ""]) {
    test(`bad modifier factor ${JSON.stringify(bad)}`, () => {
      const s = spec();
      s.modifiers.batch.factor = bad;
      assertProblem(problemsOf(s), "modifiers.batch");
    });
  }

  test("missing modifier", () => {
    const s = spec();
    delete (s.modifiers as Partial<PriceBookSpec["modifiers"]>).data_residency;
    assertProblem(problemsOf(s), "modifiers.data_residency");
  });

  for (const bad of ["0.0001", "10.0005", "-10", "ten"]) {
    test(`bad web_search_per_1000 ${JSON.stringify(bad)}`, () => {
      const s = spec();
      s.web_search_per_1000 = bad;
      assertProblem(problemsOf(s), "web_search_per_1000");
    });
  }

  test("web_search_per_1000 with a whole-micro per-request price is accepted", () => {
    const s = spec();
    s.web_search_per_1000 = "10.5";
    const r = parsePriceBook(s);
    assert.ok(r.ok);
    assert.equal(r.book.webSearchPerRequest, 10_500n);
  });

  test("many problems at once are all reported", () => {
    const s = spec();
    s.effective_from = "yesterday";
    firstModel(s).output = "x";
    s.models.push({ ...firstModel(s), output: "25" });
    s.modifiers.fast.factor = "0";
    s.web_search_per_1000 = "0.0001";
    const problems = problemsOf(s);
    assertProblem(problems, "effective_from");
    assertProblem(problems, "models[0].output");
    assertProblem(problems, "duplicate claude-opus-4-5");
    assertProblem(problems, "modifiers.fast");
    assertProblem(problems, "web_search_per_1000");
    assert.equal(problems.length, 5);
  });
});

describe("parseRatio", () => {
  const cases: ReadonlyArray<[string, { num: bigint; den: bigint } | null]> = [
    ["2", { num: 2n, den: 1n }],
    ["1.1", { num: 11n, den: 10n }],
    ["0.5", { num: 5n, den: 10n }],
    ["0.25", { num: 25n, den: 100n }],
    ["6", { num: 6n, den: 1n }],
    ["0", null],
    ["0.0", null],
    ["-1", null],
    ["abc", null],
    ["1.", null],
    [".5", null],
    ["", null],
    ["1.1234567890", null], // 10 decimals
  ];
  for (const [text, expected] of cases) {
    test(`parseRatio(${JSON.stringify(text)})`, () => {
      assert.deepEqual(parseRatio(text), expected);
    });
  }
});

describe("bookInForce", () => {
  const base = (() => {
    const r = parsePriceBook(DEFAULT_PRICE_BOOK);
    assert.ok(r.ok);
    return r.book;
  })();
  const mk = (id: string, version: number, effectiveFrom: number): PriceBook => ({ ...base, id, version, effectiveFrom });
  const JAN = Date.UTC(2025, 0, 1);
  const FEB = Date.UTC(2025, 1, 1);
  const MAR = Date.UTC(2025, 2, 1);
  const books = [
    mk("jan-v1", 1, JAN),
    mk("feb-v2", 2, FEB),
    mk("feb-v3", 3, FEB),
    mk("mar-v1", 1, MAR), // later date wins even with a lower version
  ];

  const cases: ReadonlyArray<[string, number, string | undefined]> = [
    ["before any book", JAN - 1, undefined],
    ["exactly at the first effective date", JAN, "jan-v1"],
    ["between Jan and Feb", FEB - 1, "jan-v1"],
    ["at Feb: highest version of the same date", FEB, "feb-v3"],
    ["mid-Feb", FEB + 86_400_000, "feb-v3"],
    ["at Mar: latest date beats higher version", MAR, "mar-v1"],
    ["far future", Date.UTC(2030, 0, 1), "mar-v1"],
  ];
  for (const [label, at, expected] of cases) {
    test(`${label} → ${expected}`, () => {
      assert.equal(bookInForce(books, at)?.id, expected);
      assert.equal(bookInForce([...books].reverse(), at)?.id, expected, "independent of input order");
    });
  }

  test("no books → undefined", () => {
    assert.equal(bookInForce([], JAN), undefined);
  });
});

describe("findModel", () => {
  const book = (() => {
    const r = parsePriceBook(DEFAULT_PRICE_BOOK);
    assert.ok(r.ok);
    return r.book;
  })();
  const cases: ReadonlyArray<[string, string | undefined]> = [
    ["claude-sonnet-4-5", "claude-sonnet-4-5"],
    ["claude-sonnet-4-5-20250929", "claude-sonnet-4-5"],
    ["claude-sonnet-4-5-latest", "claude-sonnet-4-5"],
    ["claude-opus-5-5-20260101", "claude-opus-5-5"],
    ["claude-opus-5-20260101", "claude-opus-5"],
    ["claude-sonnet-4-5-2025092", undefined],
    ["claude-sonnet-4-5-latestx", undefined],
    ["claude-sonnet", undefined],
    ["claude-opus-5-6", undefined],
    ["", undefined],
  ];
  for (const [name, id] of cases) {
    test(`${JSON.stringify(name)} → ${id}`, () => {
      assert.equal(findModel(book, name)?.id, id);
    });
  }
});

describe("priceBookBoundProblems: the largest accepted request stays within MAX_MICROS (issue 11)", () => {
  const parsed = (s: PriceBookSpec): PriceBook => {
    const r = parsePriceBook(s);
    assert.ok(r.ok, r.ok ? "" : r.problems.join("; "));
    return r.book;
  };
  test("the default book is far inside the bound", () => {
    const book = parsed(spec());
    assert.deepEqual(priceBookBoundProblems(book), []);
    for (const m of book.models) assert.ok(worstCaseMicros(book, m) < BigInt(MAX_MICROS) / 10n);
  });
  test("a rate of 999,999,999 USD/MTok is refused, naming the model", () => {
    const s = spec();
    const first = s.models[0];
    assert.ok(first);
    first.output = "999999999";
    assertProblem(priceBookBoundProblems(parsed(s)), `models[0] (${first.id})`);
  });
  test("modifiers above 1 count toward the worst case; those below do not", () => {
    // 10^9 tokens × 5 classes × $190/MTok = $950,000 per class… at the bound's edge only with fast ×6.
    const s = spec();
    for (const m of s.models) Object.assign(m, { input: "190000", cache_write_5m: "0", cache_write_1h: "0", cache_read: "0", output: "0" });
    s.web_search_per_1000 = "0";
    s.modifiers.fast = { factor: "1", applies_to: ["input"] };
    s.modifiers.data_residency = { factor: "1", applies_to: ["input"] };
    s.modifiers.batch = { factor: "0.5", applies_to: ["input"] };
    assert.deepEqual(priceBookBoundProblems(parsed(s)), [], "$190,000,000 worst case");
    s.modifiers.fast = { factor: "6", applies_to: ["input"] };
    assert.equal(priceBookBoundProblems(parsed(s)).length, s.models.length, "$1,140,000,000 > $1,000,000,000");
  });
});
