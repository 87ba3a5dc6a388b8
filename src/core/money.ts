// Money: integer micro-dollars (1 USD = 1,000,000 micros) everywhere money moves.
// Floats never touch a money path; `formatUsd` is display-only.
//
// THE ROUNDING RULE (the only place rounding happens): a request's exact cost is a rational
// number (see rating.ts); it is rounded once per request to the nearest micro-dollar, ties to
// even (banker's rounding), so rounding is unbiased over many requests.

export type Micros = number;

export const MICROS_PER_USD = 1_000_000;
/** Largest amount the engine accepts anywhere: $1 billion. Keeps every sum far inside 2^53. */
export const MAX_MICROS = 1_000_000_000 * MICROS_PER_USD;

export function isMicros(value: unknown): value is Micros {
  return typeof value === "number" && Number.isSafeInteger(value) && Math.abs(value) <= MAX_MICROS;
}

/** Rounds num/den (den > 0) to the nearest integer, ties to even. */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError("denominator must be positive");
  const negative = num < 0n;
  const n = negative ? -num : num;
  let q = n / den;
  const r = n % den;
  const twice = r * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

export function toMicros(value: bigint): Micros {
  const n = Number(value);
  if (!isMicros(n)) throw new RangeError(`amount out of range: ${value}`);
  return n;
}

/**
 * Parses a decimal string ("12.5", "0.30") into an integer scaled by 10^scale, exactly.
 * Returns null if the text is not a plain non-negative decimal or has more than maxDecimals.
 */
export function parseDecimal(text: string, scale: number, maxDecimals = scale): bigint | null {
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const whole = m[1] ?? "0";
  const frac = m[2] ?? "";
  if (frac.length > maxDecimals || frac.length > scale) return null;
  return BigInt(whole) * 10n ** BigInt(scale) + BigInt(frac.padEnd(scale, "0") || "0");
}

/** "12.34" (USD, at most `maxDecimals` decimals) → micros, or null. */
export function parseUsd(text: string, maxDecimals = 6): Micros | null {
  const v = parseDecimal(text, 6, maxDecimals);
  if (v === null) return null;
  const n = Number(v);
  return isMicros(n) ? n : null;
}

/** Exact decimal text of an amount in micros: 1234500 → "1.2345". */
export function microsToDecimal(micros: Micros): string {
  const negative = micros < 0;
  const abs = BigInt(Math.abs(micros));
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** Display only: "$1,234.56" (cents, half-even), "-$0.01". */
export function formatUsd(micros: Micros): string {
  const cents = roundHalfEven(BigInt(micros), 10_000n);
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}$${whole}.${(abs % 100n).toString().padStart(2, "0")}`;
}

export function sumMicros(values: Iterable<Micros>): Micros {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
