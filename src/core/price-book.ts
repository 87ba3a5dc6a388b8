// A versioned, effective-dated price book: per-model token rates, stacking modifiers and
// per-request fees. Rates are stored as integer micro-dollars per million tokens, which is
// also "micro-dollars per token × 10^6": $0.30/MTok = 300,000 µ$/MTok = 0.3 µ$ per token,
// so cache reads cost fractions of a micro-dollar and rating must stay rational (rating.ts).

import { domainError, type DomainError } from "./errors.js";
import { MAX_MICROS, parseDecimal } from "./money.js";

/**
 * The largest count of any token class, and of web searches, that one usage may carry: callers
 * are refused above it (400) and counts an upstream reports are capped at it. With price books
 * bounded by `worstCaseMicros`, no accepted request can rate beyond MAX_MICROS.
 */
export const MAX_USAGE_COUNT = 1_000_000_000;

export const TOKEN_CLASSES = ["input", "cache_write_5m", "cache_write_1h", "cache_read", "output"] as const;
export type TokenClass = (typeof TOKEN_CLASSES)[number];

/** One value per token class, each computed by `f` (an object literal: no cast, nothing missed). */
export function perTokenClass<T>(f: (cls: TokenClass) => T): Record<TokenClass, T> {
  return { input: f("input"), cache_write_5m: f("cache_write_5m"), cache_write_1h: f("cache_write_1h"), cache_read: f("cache_read"), output: f("output") };
}

/** Rational multiplier num/den, both positive integers. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

export type Rates = Readonly<Record<TokenClass, bigint>>;

/** Dearer rates for a request whose input (plain + cache writes + cache reads) exceeds a threshold. */
export interface LongContext {
  /** The rates apply when the request's total input tokens are strictly above this (vendor: 200,000). */
  readonly aboveInputTokens: number;
  /** Every token class of such a request, output included, is priced at these. */
  readonly rates: Rates;
}

export interface ModelPrice {
  /** Canonical model id; requests match it, an alias, or either with a dated suffix ("claude-sonnet-4-5-20250929"). */
  readonly id: string;
  /** Family for per-family windows ("opus", "sonnet", "haiku"). */
  readonly family: string;
  /** Micro-dollars per million tokens, per token class. */
  readonly rates: Rates;
  /** Other names clients send for this model ("opus", "claude-opus-4-7-latest"…). */
  readonly aliases: readonly string[];
  /** Shown by GET /v1/models. */
  readonly displayName: string;
  /** Epoch ms the model was released (GET /v1/models orders by it); the book's effective_from when not given. */
  readonly createdAt: number;
  /** This model's fast-mode multiplier; the book's `modifiers.fast` factor when absent. */
  readonly fast: Ratio | undefined;
  readonly longContext: LongContext | undefined;
}

export const MODIFIER_NAMES = ["fast", "batch", "data_residency"] as const;
export type ModifierName = (typeof MODIFIER_NAMES)[number];

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
  readonly unknownModels: UnknownModelPolicy;
}

/**
 * What a request for a model the book does not name gets. "refuse" (the default): a 400 that lists
 * the priced models. "family_default": a model whose id names a family of `familyDefaults`
 * ("claude-opus-4-9" → opus) is priced as that family's default model; others are refused.
 */
export interface UnknownModelPolicy {
  readonly policy: "refuse" | "family_default";
  readonly familyDefaults: Readonly<Record<string, string>>;
}

interface RatesSpec {
  /** USD per million tokens, as decimal strings. */
  input: string;
  cache_write_5m: string;
  cache_write_1h: string;
  cache_read: string;
  output: string;
}

/** The JSON form used in configuration and the API: decimal strings, never floats. */
export interface PriceBookSpec {
  id: string;
  version: number;
  effective_from: string;
  models: Array<
    RatesSpec & {
      id: string;
      family: string;
      display_name?: string;
      /** ISO 8601 date-time of the model's release. */
      created_at?: string;
      aliases?: string[];
      /** Fast-mode multiplier for this model (decimal string); the book's `modifiers.fast` when absent. */
      fast_factor?: string;
      long_context?: RatesSpec & { above_input_tokens: number };
    }
  >;
  modifiers: Record<ModifierName, { factor: string; applies_to: TokenClass[] }>;
  /** USD per 1,000 web search requests. */
  web_search_per_1000: string;
  unknown_models?: { policy: "refuse" | "family_default"; family_defaults?: Record<string, string> };
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
  const name = (where: string, n: string) => {
    const key = normalizeModelName(n);
    if (seen.has(key)) problems.push(`${where}: duplicate ${n}`);
    seen.add(key);
  };
  const models: ModelPrice[] = spec.models.map((m, i) => {
    name(`models[${i}].id`, m.id);
    const aliases = m.aliases ?? [];
    aliases.forEach((a, j) => name(`models[${i}].aliases[${j}]`, a));
    const rates = perTokenClass((cls) => rate(`models[${i}].${cls}`, m[cls]));
    let createdAt = effectiveFrom;
    if (m.created_at !== undefined) {
      const t = parseInstant(m.created_at);
      if (t === null) problems.push(`models[${i}].created_at: not an ISO 8601 date-time with a zone: ${m.created_at}`);
      else createdAt = t;
    }
    let fast: Ratio | undefined;
    if (m.fast_factor !== undefined) {
      fast = parseRatio(m.fast_factor) ?? undefined;
      if (!fast) problems.push(`models[${i}].fast_factor: must be a positive decimal`);
    }
    let longContext: LongContext | undefined;
    const lc = m.long_context;
    if (lc !== undefined) {
      if (!Number.isSafeInteger(lc.above_input_tokens) || lc.above_input_tokens < 1) problems.push(`models[${i}].long_context.above_input_tokens: must be a positive integer`);
      const long = perTokenClass((cls) => rate(`models[${i}].long_context.${cls}`, lc[cls]));
      longContext = { aboveInputTokens: lc.above_input_tokens, rates: long };
    }
    return { id: m.id, family: m.family, rates, aliases, displayName: m.display_name ?? displayNameOf(m.id), createdAt, fast, longContext };
  });
  const unknown = spec.unknown_models ?? { policy: "refuse" };
  const familyDefaults = unknown.family_defaults ?? {};
  if (unknown.policy !== "refuse" && unknown.policy !== "family_default") problems.push(`unknown_models.policy: must be "refuse" or "family_default"`);
  for (const [family, id] of Object.entries(familyDefaults)) {
    const target = models.find((m) => m.id === id);
    if (!target) problems.push(`unknown_models.family_defaults.${family}: ${id} is not a model id of this book`);
    else if (target.family !== family) problems.push(`unknown_models.family_defaults.${family}: ${id} is of family ${target.family}`);
  }
  if (unknown.policy === "family_default" && Object.keys(familyDefaults).length === 0) problems.push("unknown_models.family_defaults: name a default model for at least one family");
  const modifier = (name: ModifierName): Modifier => {
    const mod = spec.modifiers[name];
    const factor = mod ? parseRatio(mod.factor) : null;
    if (mod && factor) return { factor, appliesTo: mod.applies_to };
    problems.push(`modifiers.${name}: factor must be a positive decimal`);
    return { factor: { num: 1n, den: 1n }, appliesTo: [] };
  };
  const modifiers: Record<ModifierName, Modifier> = { fast: modifier("fast"), batch: modifier("batch"), data_residency: modifier("data_residency") };
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
    unknownModels: { policy: unknown.policy, familyDefaults },
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
  // Every modifier that raises a price, fast mode at this model's own factor where it has one.
  const modifiers = MODIFIER_NAMES.map((name) => (name === "fast" && model.fast ? { ...book.modifiers.fast, factor: model.fast } : book.modifiers[name]));
  const raising = modifiers.filter((m) => m.factor.num > m.factor.den);
  for (const m of raising) den *= m.factor.den;
  for (const cls of TOKEN_CLASSES) {
    // The dearer of the usual and the long-context rate (a request that large is long context).
    const long = model.longContext?.rates[cls] ?? 0n;
    let term = count * (long > model.rates[cls] ? long : model.rates[cls]);
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
/** Claude Code's marker for the 1M-token context variant ("claude-sonnet-4-5[1m]", "opus[1m]"): priced as the model itself. */
const CONTEXT_SUFFIX = /\[1m\]$/i;

/** The name a request's model is matched by: without the `[1m]` suffix (names are case-sensitive, as the vendor's are). */
export function normalizeModelName(model: string): string {
  return model.replace(CONTEXT_SUFFIX, "");
}

/** "claude-opus-4-7" → "Claude Opus 4.7" (when a book gives no display_name). */
export function displayNameOf(id: string): string {
  const words = id.split("-");
  const out: string[] = [];
  for (const w of words) {
    const prev = out[out.length - 1];
    if (/^\d{1,2}$/.test(w) && prev !== undefined && /\d$/.test(prev)) out[out.length - 1] = `${prev}.${w}`;
    else if (/^\d{8}$/.test(w)) continue;
    else out.push(/^\d/.test(w) ? w : w.charAt(0).toUpperCase() + w.slice(1));
  }
  return out.join(" ");
}

/** The model a name names exactly: its id or an alias, optionally with a date or `-latest`, optionally with `[1m]`. */
export function findNamedModel(book: PriceBook, model: string): ModelPrice | undefined {
  const wanted = normalizeModelName(model);
  for (const m of book.models) {
    for (const name of [m.id, ...m.aliases]) {
      if (wanted === name) return m;
      if (wanted.startsWith(name) && DATED_SUFFIX.test(wanted.slice(name.length))) return m;
    }
  }
  return undefined;
}

/**
 * The price of a model name: the model it names, or, when the book opts in to pricing unknown
 * models by family, that family's default model (the family is a whole word of the name:
 * "claude-opus-4-9" and "claude-3-opus-20240229" are opus).
 */
export function findModel(book: PriceBook, model: string): ModelPrice | undefined {
  const named = findNamedModel(book, model);
  if (named || book.unknownModels.policy !== "family_default") return named;
  const words = normalizeModelName(model).split(/[^A-Za-z0-9]+/);
  for (const [family, id] of Object.entries(book.unknownModels.familyDefaults)) {
    if (words.includes(family)) return book.models.find((m) => m.id === id);
  }
  return undefined;
}

/** Every name the book prices, for messages that must say what is priced: ids, then aliases. */
export function pricedNames(book: PriceBook): string[] {
  return [...book.models.map((m) => m.id), ...book.models.flatMap((m) => m.aliases)];
}

/** The refusal for a model the book does not price: names what it does price, so a client can pick one. */
export function unknownModelError(book: PriceBook | undefined, model: string): DomainError {
  const ids = book ? book.models.map((m) => m.id) : [];
  const aliases = book ? book.models.flatMap((m) => m.aliases) : [];
  const listed = ids.length > 0 ? ` Priced models: ${ids.join(", ")}${aliases.length > 0 ? ` (aliases: ${aliases.join(", ")})` : ""}; a dated id or -latest of these works too.` : "";
  return domainError("unknown_model", `No price for model ${JSON.stringify(model)} in the price book in force.${listed}`, { model, priced_models: ids, aliases });
}
