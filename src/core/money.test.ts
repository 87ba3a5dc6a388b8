import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatUsd,
  isMicros,
  MAX_MICROS,
  microsToDecimal,
  parseDecimal,
  parseUsd,
  roundHalfEven,
  sumMicros,
  toMicros,
} from "./money.js";

describe("roundHalfEven", () => {
  const cases: ReadonlyArray<[bigint, bigint, bigint]> = [
    // [num, den, expected]
    [0n, 1n, 0n],
    [7n, 1n, 7n],
    [-7n, 1n, -7n],
    [1n, 3n, 0n], // 0.333
    [2n, 3n, 1n], // 0.667
    [1n, 2n, 0n], // 0.5 tie → 0
    [3n, 2n, 2n], // 1.5 tie → 2
    [5n, 2n, 2n], // 2.5 tie → 2
    [7n, 2n, 4n], // 3.5 tie → 4
    [9n, 2n, 4n], // 4.5 tie → 4
    [9n, 4n, 2n], // 2.25
    [11n, 4n, 3n], // 2.75
    [10n, 4n, 2n], // 2.5 tie → 2
    [14n, 4n, 4n], // 3.5 tie → 4
    [3n, 10n, 0n], // 0.3
    [15n, 10n, 2n], // 1.5
    [25n, 10n, 2n], // 2.5
    [26n, 10n, 3n], // 2.6
    [-1n, 2n, 0n], // -0.5 tie → 0
    [-3n, 2n, -2n], // -1.5 tie → -2
    [-5n, 2n, -2n], // -2.5 tie → -2
    [-7n, 2n, -4n], // -3.5 tie → -4
    [-11n, 4n, -3n], // -2.75
    [-9n, 4n, -2n], // -2.25
    [-2n, 3n, -1n], // -0.667
    [1_000_000_000_000_000_001n, 2n, 500_000_000_000_000_000n], // ...000.5 → even
    [1_000_000_000_000_000_003n, 2n, 500_000_000_000_000_002n], // ...001.5 → even
  ];
  for (const [num, den, expected] of cases) {
    test(`${num}/${den} → ${expected}`, () => {
      assert.equal(roundHalfEven(num, den), expected);
    });
  }

  test("rejects a zero or negative denominator", () => {
    assert.throws(() => roundHalfEven(1n, 0n), RangeError);
    assert.throws(() => roundHalfEven(1n, -2n), RangeError);
  });

  test("property: nearest integer, ties to even, symmetric around zero", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (num, den) => {
        const q = roundHalfEven(num, den);
        const twiceErr = 2n * (q * den - num);
        const absTwiceErr = twiceErr < 0n ? -twiceErr : twiceErr;
        assert.ok(absTwiceErr <= den, "within half");
        if (absTwiceErr === den) assert.equal(q % 2n, 0n, "ties go to even");
        assert.equal(roundHalfEven(-num, den), -q);
      }),
    );
  });
});

describe("parseDecimal", () => {
  const cases: ReadonlyArray<[string, number, number | undefined, bigint | null]> = [
    // [text, scale, maxDecimals, expected]
    ["12.5", 6, undefined, 12_500_000n],
    ["0.30", 6, undefined, 300_000n],
    ["0", 6, undefined, 0n],
    ["0.000001", 6, undefined, 1n],
    ["6.25", 6, undefined, 6_250_000n],
    [" 12 ", 6, undefined, 12_000_000n],
    ["007", 6, undefined, 7_000_000n],
    ["999999999999999", 6, undefined, 999_999_999_999_999_000_000n], // 15 digits allowed
    ["42", 0, undefined, 42n],
    ["4.2", 0, undefined, null],
    ["1.5", 2, undefined, 150n],
    ["1.1234567", 6, undefined, null], // too many decimals for the scale
    ["1.123", 6, 2, null], // more than maxDecimals
    ["1.12", 6, 2, 1_120_000n],
    ["-1", 6, undefined, null],
    ["-0.5", 6, undefined, null],
    ["+1", 6, undefined, null],
    ["", 6, undefined, null],
    ["   ", 6, undefined, null],
    ["abc", 6, undefined, null],
    ["1e5", 6, undefined, null],
    ["1.", 6, undefined, null],
    [".5", 6, undefined, null],
    ["1,000", 6, undefined, null],
    ["1.2.3", 6, undefined, null],
    ["0x10", 6, undefined, null],
    ["NaN", 6, undefined, null],
    ["Infinity", 6, undefined, null],
    ["1000000000000000", 6, undefined, null], // 16 digits: too large
  ];
  for (const [text, scale, maxDecimals, expected] of cases) {
    test(`parseDecimal(${JSON.stringify(text)}, ${scale}${maxDecimals === undefined ? "" : `, ${maxDecimals}`}) → ${expected}`, () => {
      assert.equal(parseDecimal(text, scale, maxDecimals), expected);
    });
  }
});

describe("parseUsd", () => {
  const cases: ReadonlyArray<[string, number | undefined, number | null]> = [
    ["12.34", undefined, 12_340_000],
    ["0.30", undefined, 300_000],
    ["0.000001", undefined, 1],
    ["0", undefined, 0],
    ["10", undefined, 10_000_000],
    ["1000000000", undefined, MAX_MICROS], // exactly $1 billion is allowed
    ["1000000000.000001", undefined, null], // over MAX_MICROS
    ["999999999999999", undefined, null], // huge
    ["0.0000001", undefined, null], // 7 decimals
    ["1.005", 2, null], // cents only
    ["1.05", 2, 1_050_000],
    ["-1", undefined, null],
    ["-0.01", undefined, null],
    ["$1", undefined, null],
    ["1,000", undefined, null],
    ["1e3", undefined, null],
    ["abc", undefined, null],
    ["", undefined, null],
  ];
  for (const [text, maxDecimals, expected] of cases) {
    test(`parseUsd(${JSON.stringify(text)}${maxDecimals === undefined ? "" : `, ${maxDecimals}`}) → ${expected}`, () => {
      assert.equal(parseUsd(text, maxDecimals), expected);
    });
  }

  test("property: parseUsd(microsToDecimal(m)) = m for every non-negative amount", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MICROS }), (m) => {
        assert.equal(parseUsd(microsToDecimal(m)), m);
      }),
    );
  });
});

describe("microsToDecimal", () => {
  const cases: ReadonlyArray<[number, string]> = [
    [0, "0"],
    [1, "0.000001"],
    [10, "0.00001"],
    [300_000, "0.3"],
    [1_000_000, "1"],
    [1_234_500, "1.2345"],
    [12_340_000, "12.34"],
    [-1, "-0.000001"],
    [-1_500_000, "-1.5"],
    [MAX_MICROS, "1000000000"],
  ];
  for (const [micros, text] of cases) {
    test(`${micros} → ${text}`, () => {
      assert.equal(microsToDecimal(micros), text);
    });
  }
});

describe("formatUsd", () => {
  test("no float artefacts: 100,000 + 200,000 micros = $0.30", () => {
    assert.notEqual(0.1 + 0.2, 0.3); // the artefact we must avoid
    assert.equal(formatUsd(sumMicros([100_000, 200_000])), "$0.30");
    assert.equal(formatUsd(100_000 + 200_000), "$0.30");
  });

  const cases: ReadonlyArray<[number, string]> = [
    [0, "$0.00"],
    [1, "$0.00"],
    [4_999, "$0.00"],
    [5_000, "$0.00"], // half a cent → tie → 0 (even)
    [5_001, "$0.01"],
    [10_000, "$0.01"],
    [15_000, "$0.02"], // 1.5 cents → 2
    [25_000, "$0.02"], // 2.5 cents → 2
    [35_000, "$0.04"], // 3.5 cents → 4
    [999_999, "$1.00"],
    [1_000_000, "$1.00"],
    [12_340_000, "$12.34"],
    [1_234_560_000, "$1,234.56"],
    [1_234_567_890_000, "$1,234,567.89"],
    [MAX_MICROS, "$1,000,000,000.00"],
    [-10_000, "-$0.01"],
    [-15_000, "-$0.02"],
    [-5_000, "$0.00"], // rounds to zero: no "-$0.00"
    [-1_234_560_000, "-$1,234.56"],
  ];
  for (const [micros, text] of cases) {
    test(`${micros} → ${text}`, () => {
      assert.equal(formatUsd(micros), text);
    });
  }
});

describe("isMicros / toMicros / sumMicros", () => {
  test("isMicros accepts safe integers within ±MAX_MICROS only", () => {
    assert.equal(isMicros(0), true);
    assert.equal(isMicros(-5), true);
    assert.equal(isMicros(MAX_MICROS), true);
    assert.equal(isMicros(-MAX_MICROS), true);
    assert.equal(isMicros(MAX_MICROS + 1), false);
    assert.equal(isMicros(0.5), false);
    assert.equal(isMicros(Number.NaN), false);
    assert.equal(isMicros(Number.POSITIVE_INFINITY), false);
    assert.equal(isMicros("5"), false);
    assert.equal(isMicros(5n), false);
  });
  test("toMicros converts in range and throws out of range", () => {
    assert.equal(toMicros(123n), 123);
    assert.equal(toMicros(BigInt(MAX_MICROS)), MAX_MICROS);
    assert.throws(() => toMicros(BigInt(MAX_MICROS) + 1n), RangeError);
    assert.throws(() => toMicros(-BigInt(MAX_MICROS) - 1n), RangeError);
  });
  test("sumMicros", () => {
    assert.equal(sumMicros([]), 0);
    assert.equal(sumMicros([100_000, 200_000, -50_000]), 250_000);
    assert.equal(sumMicros(new Set([1, 2, 3])), 6);
  });
});
