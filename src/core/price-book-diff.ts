// What a new price book changes, and for whom: the rate-by-rate difference between two books, and
// which model names clients sent would be priced differently (or refused) under the new one.
// Pure; the `price-books diff` / `import --dry-run` commands add who sent those names lately.

import { findModel, TOKEN_CLASSES, type ModelPrice, type PriceBook, type Rates, type Ratio } from "./price-book.js";

export interface BookChange {
  /** The model id, or null for a book-wide setting. */
  readonly model: string | null;
  /** What changed: "added", "removed", a token class, "long_context.<class>", "fast_factor", "aliases", "modifiers.batch"… */
  readonly field: string;
  readonly from: string | null;
  readonly to: string | null;
}

/** $/MTok from µ$/MTok, as a plain decimal ("3", "0.3", "22.5"). */
export function usdPerMTok(v: bigint): string {
  const whole = v / 1_000_000n;
  const frac = (v % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/** A multiplier as a decimal ("1.1") when its denominator is a power of ten (as parsed), else num/den. */
function ratio(r: Ratio): string {
  const digits = r.den.toString().length - 1;
  if (r.den !== 10n ** BigInt(digits)) return `${r.num}/${r.den}`;
  const whole = r.num / r.den;
  const frac = (r.num % r.den).toString().padStart(digits, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

const ratesText = (r: Rates) => TOKEN_CLASSES.map((c) => `${c} ${usdPerMTok(r[c])}`).join(", ");

function modelChanges(a: ModelPrice, b: ModelPrice, fastA: Ratio, fastB: Ratio): BookChange[] {
  const out: BookChange[] = [];
  for (const c of TOKEN_CLASSES) {
    if (a.rates[c] !== b.rates[c]) out.push({ model: a.id, field: c, from: usdPerMTok(a.rates[c]), to: usdPerMTok(b.rates[c]) });
  }
  const la = a.longContext;
  const lb = b.longContext;
  if (la?.aboveInputTokens !== lb?.aboveInputTokens) out.push({ model: a.id, field: "long_context.above_input_tokens", from: la ? String(la.aboveInputTokens) : null, to: lb ? String(lb.aboveInputTokens) : null });
  for (const c of TOKEN_CLASSES) {
    const x = la?.rates[c];
    const y = lb?.rates[c];
    if (x !== y) out.push({ model: a.id, field: `long_context.${c}`, from: x === undefined ? null : usdPerMTok(x), to: y === undefined ? null : usdPerMTok(y) });
  }
  if (fastA.num * fastB.den !== fastB.num * fastA.den) out.push({ model: a.id, field: "fast_factor", from: ratio(fastA), to: ratio(fastB) });
  const aliasesA = [...a.aliases].sort().join(", ");
  const aliasesB = [...b.aliases].sort().join(", ");
  if (aliasesA !== aliasesB) out.push({ model: a.id, field: "aliases", from: aliasesA || null, to: aliasesB || null });
  if (a.family !== b.family) out.push({ model: a.id, field: "family", from: a.family, to: b.family });
  return out;
}

/** Every difference between the book in force and a candidate, models in the candidate's order. */
export function diffBooks(current: PriceBook, next: PriceBook): BookChange[] {
  const out: BookChange[] = [];
  for (const m of next.models) {
    const old = current.models.find((x) => x.id === m.id);
    if (!old) out.push({ model: m.id, field: "added", from: null, to: ratesText(m.rates) });
    else out.push(...modelChanges(old, m, old.fast ?? current.modifiers.fast.factor, m.fast ?? next.modifiers.fast.factor));
  }
  for (const m of current.models) {
    if (!next.models.some((x) => x.id === m.id)) out.push({ model: m.id, field: "removed", from: ratesText(m.rates), to: null });
  }
  for (const name of ["fast", "batch", "data_residency"] as const) {
    const a = current.modifiers[name];
    const b = next.modifiers[name];
    const from = `${ratio(a.factor)} on ${a.appliesTo.join(", ")}`;
    const to = `${ratio(b.factor)} on ${b.appliesTo.join(", ")}`;
    if (from !== to) out.push({ model: null, field: `modifiers.${name}`, from, to });
  }
  if (current.webSearchPerRequest !== next.webSearchPerRequest) {
    out.push({ model: null, field: "web_search_per_1000", from: usdPerMTok(current.webSearchPerRequest * 1000n), to: usdPerMTok(next.webSearchPerRequest * 1000n) });
  }
  const policy = (b: PriceBook) => `${b.unknownModels.policy}${b.unknownModels.policy === "family_default" ? ` (${Object.entries(b.unknownModels.familyDefaults).map(([f, id]) => `${f} → ${id}`).join(", ")})` : ""}`;
  if (policy(current) !== policy(next)) out.push({ model: null, field: "unknown_models", from: policy(current), to: policy(next) });
  return out;
}

/** Everything that decides the price of a request for a name: equal signatures price every request alike. */
function signature(book: PriceBook, name: string): string | null {
  const m = findModel(book, name);
  if (!m) return null;
  const fast = m.fast ?? book.modifiers.fast.factor;
  const lc = m.longContext;
  const mods = (["fast", "batch", "data_residency"] as const).map((k) => `${ratio(k === "fast" ? fast : book.modifiers[k].factor)}:${book.modifiers[k].appliesTo.join("+")}`);
  return [ratesText(m.rates), lc ? `${lc.aboveInputTokens}:${ratesText(lc.rates)}` : "-", ...mods, String(book.webSearchPerRequest)].join("|");
}

export interface NameImpact {
  /** The model name as clients sent it. */
  readonly name: string;
  readonly from: string | null;
  /** The model it prices as under the new book, or null: refused (unknown model). */
  readonly to: string | null;
  readonly change: "repriced" | "refused" | "newly_priced";
}

/** How each name clients sent is priced under the new book, for the names whose price changes. */
export function impactOnNames(current: PriceBook, next: PriceBook, names: Iterable<string>): NameImpact[] {
  const out: NameImpact[] = [];
  for (const name of new Set(names)) {
    const a = signature(current, name);
    const b = signature(next, name);
    if (a === b) continue;
    const from = findModel(current, name)?.id ?? null;
    const to = findModel(next, name)?.id ?? null;
    out.push({ name, from, to, change: to === null ? "refused" : from === null ? "newly_priced" : "repriced" });
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}
