// A versioned, effective-dated price book: per-model token rates, stacking modifiers and
// per-request fees. Rates are stored as integer micro-dollars per million tokens, which is
// also "micro-dollars per token × 10^6": $0.30/MTok = 300,000 µ$/MTok = 0.3 µ$ per token,
// so cache reads cost fractions of a micro-dollar and rating must stay rational (rating.ts).

import { MAX_MICROS, parseDecimal } from "./money.js";

/**
 * The largest count of any token class, and of web searches, that one usage may carry: callers
 * are refused above it (400) and counts an upstream reports are capped at it. With price books
 * bounded by `worstCaseMicros`, no accepted request can rate beyond MAX_MICROS.
 */
export const MAX_USAGE_COUNT = 1_000_000_000;

export type TokenClass = "input" | "cache_write_5m" | "cache_write_1h" | "cache_read" | "output";
export const TOKEN_CLASSES: readonly TokenClass[] = ["input", "cache_write_5m", "cache_write_1h", "cache_read", "output"];

/** Rational multiplier num/den, both positive integers. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

export interface ModelPrice {
  /** Canonical model id; requests match it exactly or by a dated suffix ("claude-sonnet-4-5-20250929"). */
  readonly id: string;
  /** Family for per-family windows ("opus", "sonnet", "haiku"). */
  readonly family: string;
  /** Micro-dollars per million tokens, per token class. */
  readonly rates: Readonly<Record<TokenClass, bigint>>;
}

export type ModifierName = "fast" | "batch" | "data_residency";

export interface Modifier {
  readonly factor: Ratio;
  readonly appliesTo: readonly TokenClass[];
}

export interface PriceBook {
  readonly id: string;
  readonly version: number;
  /** Epoch ms from which this book prices requests. */
  readonly effectiveFrom: number;
  readonly currency: "USD";
  readonly models: readonly ModelPrice[];
  readonly modifiers: Readonly<Record<ModifierName, Modifier>>;
  /** Micro-dollars per single web search request ($10 per 1,000 → 10,000 µ$). */
  readonly webSearchPerRequest: bigint;
}

/** The JSON form used in configuration and the API: decimal strings, never floats. */
export interface PriceBookSpec {
  id: string;
  version: number;
  effective_from: string;
  models: Array<{
    id: string;
    family: string;
    /** USD per million tokens, as decimal strings. */
    input: string;
    cache_write_5m: string;
    cache_write_1h: string;
    cache_read: string;
    output: string;
  }>;
  modifiers: Record<ModifierName, { factor: string; applies_to: TokenClass[] }>;
  /** USD per 1,000 web search requests. */
  web_search_per_1000: string;
}

export type PriceBookParse = { ok: true; book: PriceBook } | { ok: false; problems: string[] };

/** Decimal string → exact ratio ("1.1" → 11/10). */
export function parseRatio(text: string): Ratio | null {
  const m = /^(\d{1,9})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? "";
  const den = 10n ** BigInt(frac.length);
  const num = BigInt(m[1] ?? "0") * den + BigInt(frac || "0");
  return num > 0n ? { num, den } : null;
}

/** ISO 8601 date-time with an explicit zone ("Z" or ±hh:mm): never read in the server's local time. */
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(text: string): number | null {
  if (!ISO_INSTANT.test(text)) return null;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : null;
}

export function parsePriceBook(spec: PriceBookSpec): PriceBookParse {
  const problems: string[] = [];
  const effectiveFrom = parseInstant(spec.effective_from) ?? Number.NaN;
  if (!Number.isFinite(effectiveFrom)) problems.push(`effective_from: not an ISO 8601 date-time with a zone: ${spec.effective_from}`);
  const rate = (where: string, text: string): bigint => {
    const v = parseDecimal(text, 6);
    if (v === null) problems.push(`${where}: not a non-negative decimal with at most 6 places: ${text}`);
    return v ?? 0n;
  };
  const seen = new Set<string>();
  const models: ModelPrice[] = spec.models.map((m, i) => {
    if (seen.has(m.id)) problems.push(`models[${i}].id: duplicate ${m.id}`);
    seen.add(m.id);
    const rates = {} as Record<TokenClass, bigint>;
    for (const cls of TOKEN_CLASSES) rates[cls] = rate(`models[${i}].${cls}`, m[cls]);
    return { id: m.id, family: m.family, rates };
  });
  const modifiers = {} as Record<ModifierName, Modifier>;
  for (const name of ["fast", "batch", "data_residency"] as const) {
    const mod = spec.modifiers[name];
    const factor = mod ? parseRatio(mod.factor) : null;
    if (!mod || !factor) {
      problems.push(`modifiers.${name}: factor must be a positive decimal`);
      modifiers[name] = { factor: { num: 1n, den: 1n }, appliesTo: [] };
    } else {
      modifiers[name] = { factor, appliesTo: mod.applies_to };
    }
  }
  const perThousand = parseDecimal(spec.web_search_per_1000, 6);
  if (perThousand === null || perThousand % 1000n !== 0n) {
    problems.push("web_search_per_1000: must be a decimal whose per-request price is a whole micro-dollar");
  }
  if (problems.length > 0) return { ok: false, problems };
  const book: PriceBook = {
    id: spec.id,
    version: spec.version,
    effectiveFrom,
    currency: "USD",
    models,
    modifiers,
    webSearchPerRequest: (perThousand ?? 0n) / 1000n,
  };
  return { ok: true, book };
}

/**
 * Why a book may not be published: a model whose largest accepted request would cost more than
 * MAX_MICROS (rating it would overflow). Checked on publishing, not on loading, so a stored book
 * keeps pricing what it priced (an overflow is then the caller's `amount_out_of_range`).
 */
export function priceBookBoundProblems(book: PriceBook): string[] {
  const problems: string[] = [];
  book.models.forEach((m, i) => {
    const worst = worstCaseMicros(book, m);
    if (worst > BigInt(MAX_MICROS)) {
      problems.push(
        `models[${i}] (${m.id}): the largest accepted request (${MAX_USAGE_COUNT} tokens of every class and as many web searches, every modifier above 1 applied) would cost ${worst} micro-dollars, beyond the ${MAX_MICROS} the engine accepts; lower the rates or the modifiers`,
      );
    }
  });
  return problems;
}

/**
 * An upper bound, in micro-dollars (rounded up), of what one request may cost at this model's
 * rates: MAX_USAGE_COUNT of every token class, each class under every modifier that raises it,
 * plus MAX_USAGE_COUNT web searches.
 */
export function worstCaseMicros(book: PriceBook, model: ModelPrice): bigint {
  const count = BigInt(MAX_USAGE_COUNT);
  let num = 0n;
  let den = 1_000_000n;
  const raising = Object.values(book.modifiers).filter((m) => m.factor.num > m.factor.den);
  for (const m of raising) den *= m.factor.den;
  for (const cls of TOKEN_CLASSES) {
    let term = count * model.rates[cls];
    for (const m of raising) term *= m.appliesTo.includes(cls) ? m.factor.num : m.factor.den;
    num += term;
  }
  num += count * book.webSearchPerRequest * den;
  return (num + den - 1n) / den;
}

/** The book in force at `at`: the highest effectiveFrom ≤ at (ties: highest version). */
export function bookInForce(books: readonly PriceBook[], at: number): PriceBook | undefined {
  let best: PriceBook | undefined;
  for (const b of books) {
    if (b.effectiveFrom > at) continue;
    if (!best || b.effectiveFrom > best.effectiveFrom || (b.effectiveFrom === best.effectiveFrom && b.version > best.version)) best = b;
  }
  return best;
}

const DATED_SUFFIX = /^-(\d{8}|latest)$/;

export function findModel(book: PriceBook, model: string): ModelPrice | undefined {
  for (const m of book.models) {
    if (m.id === model) return m;
    if (model.startsWith(m.id) && DATED_SUFFIX.test(model.slice(m.id.length))) return m;
  }
  return undefined;
}
