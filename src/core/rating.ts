// Exact rating: cost = Σ tokens × rate × Π modifiers, computed as one rational number and
// rounded once per request by the rule in money.ts. Thinking tokens are part of output tokens.

import { roundHalfEven, toMicros, type Micros } from "./money.js";
import { findModel, TOKEN_CLASSES, type ModelPrice, type PriceBook, type TokenClass } from "./price-book.js";

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_5m_input_tokens: number;
  readonly cache_creation_1h_input_tokens: number;
  readonly cache_read_input_tokens: number;
  readonly web_search_requests: number;
}

export const ZERO_USAGE: Usage = {
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_5m_input_tokens: 0,
  cache_creation_1h_input_tokens: 0,
  cache_read_input_tokens: 0,
  web_search_requests: 0,
};

/**
 * Cache writes from the wire's two forms (docs/money-rules.md "Cache writes"): the breakdown
 * `cache_creation{ephemeral_5m, ephemeral_1h}` says which rate applies, the total
 * `cache_creation_input_tokens` says how many there were. 1-hour writes are the breakdown's; 5-minute
 * writes are the larger of the breakdown's and the total minus the 1-hour ones, so a total the
 * breakdown does not explain is charged at the 5-minute rate, never dropped (never charged short).
 */
export function cacheWrites(total: number | undefined, breakdown: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | undefined): { fiveMinutes: number; oneHour: number } {
  const oneHour = breakdown?.ephemeral_1h_input_tokens ?? 0;
  return { fiveMinutes: Math.max(breakdown?.ephemeral_5m_input_tokens ?? 0, (total ?? 0) - oneHour), oneHour };
}

export const SPEEDS = ["standard", "fast"] as const;
export type Speed = (typeof SPEEDS)[number];

export interface RatingOptions {
  readonly speed: Speed;
  readonly batch: boolean;
  readonly dataResidency: boolean;
  /** false: price at the model's usual rates even above its long-context threshold (a worst-case bound, estimate.ts). */
  readonly longContext?: boolean;
}

export const STANDARD: RatingOptions = { speed: "standard", batch: false, dataResidency: false };

export interface Rating {
  readonly model: ModelPrice;
  /** The charge, rounded once (half-even). */
  readonly micros: Micros;
  /** The exact cost as num/den micro-dollars, before rounding. */
  readonly exactNum: bigint;
  readonly exactDen: bigint;
}

function tokensOf(usage: Usage, cls: TokenClass): bigint {
  switch (cls) {
    case "input":
      return BigInt(usage.input_tokens);
    case "output":
      return BigInt(usage.output_tokens);
    case "cache_write_5m":
      return BigInt(usage.cache_creation_5m_input_tokens);
    case "cache_write_1h":
      return BigInt(usage.cache_creation_1h_input_tokens);
    case "cache_read":
      return BigInt(usage.cache_read_input_tokens);
  }
}

export function rate(book: PriceBook, modelName: string, usage: Usage, options: RatingOptions): Rating | undefined {
  const model = findModel(book, modelName);
  if (!model) return undefined;
  // Fast mode: the model's own multiplier if the book sets one, on the classes the book's fast modifier names.
  const fast = options.speed === "fast" ? { ...book.modifiers.fast, factor: model.fast ?? book.modifiers.fast.factor } : undefined;
  const active = [
    fast,
    options.batch ? book.modifiers.batch : undefined,
    options.dataResidency ? book.modifiers.data_residency : undefined,
  ].filter((m) => m !== undefined);
  // Common denominator: 10^6 (per-million rates) × every active modifier's denominator.
  let den = 1_000_000n;
  for (const m of active) den *= m.factor.den;
  // Long context: above the threshold, every token class of the request is priced at the long rates.
  const totalInput = usage.input_tokens + usage.cache_creation_5m_input_tokens + usage.cache_creation_1h_input_tokens + usage.cache_read_input_tokens;
  const rates = model.longContext && options.longContext !== false && totalInput > model.longContext.aboveInputTokens ? model.longContext.rates : model.rates;
  let num = 0n;
  for (const cls of TOKEN_CLASSES) {
    let term = tokensOf(usage, cls) * rates[cls];
    // Each modifier multiplies the classes it applies to; for the others, multiply by den/den.
    for (const m of active) term *= m.appliesTo.includes(cls) ? m.factor.num : m.factor.den;
    num += term;
  }
  num += BigInt(usage.web_search_requests) * book.webSearchPerRequest * den;
  return { model, micros: toMicros(roundHalfEven(num, den)), exactNum: num, exactDen: den };
}
