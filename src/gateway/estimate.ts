// The worst case a Messages request can cost, priced before it is forwarded, so the hold covers
// it. Pure. Output is bounded exactly: at most `max_tokens` (thinking tokens included), at the
// output price. Input is counted by one deterministic rule, 4 characters per token rounded up
// (images and non-text documents: a flat 1,600 tokens each, the vendor's figure for a full-size
// image); the simulated upstream reports exactly this count, a real provider its own (settle
// charges what it reports). With `cache_control` anywhere, every input token is priced at the
// dearest input class the book has (cache writes cost more than plain input). Web search tools
// add their declared `max_uses`. The speed modifier applies to all of it (rating.ts). Above a
// model's long-context threshold the dearer of its long and usual rates is held.

import type { Micros } from "../core/money.js";
import type { PriceBook } from "../core/price-book.js";
import { worstCaseMicros } from "../core/operation-log.js";
import type { Speed, Usage } from "../core/rating.js";
import { isRecord, type CountTokensBody, type MessagesBody } from "./wire.js";

export const CHARS_PER_TOKEN = 4;
/** Tokens counted for one image or non-text document (vendor: about 1,600 for a 1.15-megapixel image). */
export const ATTACHMENT_TOKENS = 1_600;

export interface InputCount {
  /** Every input token of the request (plain input + cache writes + cache reads). */
  readonly total: number;
  /** Tokens up to and including the last `cache_control` breakpoint (0 without one). */
  readonly cacheablePrefix: number;
  /** TTL of the last breakpoint, if there is one. */
  readonly cacheTtl: "5m" | "1h" | undefined;
  /** A stable key of the cacheable prefix (for the simulator's cache). */
  readonly prefixKey: string;
}

interface Tally {
  chars: number;
  fixed: number;
  prefixChars: number;
  prefixFixed: number;
  ttl: "5m" | "1h" | undefined;
  prefixParts: string[];
  parts: string[];
}

function ttlOf(block: Record<string, unknown>): "5m" | "1h" | undefined {
  const cc = block["cache_control"];
  if (!isRecord(cc)) return undefined;
  return cc["ttl"] === "1h" ? "1h" : "5m";
}

// Outside ASCII a token is about one character, not four: count each such character as a whole token.
const NON_ASCII = /[^\x00-\x7f]/g;

function addText(t: Tally, text: string): void {
  t.chars += text.length + (CHARS_PER_TOKEN - 1) * (text.match(NON_ASCII)?.length ?? 0);
  t.parts.push(text);
}

/** A base64 document (a PDF): at least an attachment's worth, and a token per 4 decoded bytes. */
function attachmentTokens(source: unknown): number {
  const data = isRecord(source) && typeof source["data"] === "string" ? source["data"] : "";
  return Math.max(ATTACHMENT_TOKENS, Math.ceil((data.length * 3) / 4 / 4));
}

function addBlock(t: Tally, block: unknown): void {
  if (typeof block === "string") return addText(t, block);
  if (!isRecord(block)) return;
  const type = block["type"];
  const source = block["source"];
  if (type === "text" && typeof block["text"] === "string") addText(t, block["text"]);
  else if (type === "document" && isRecord(source) && source["type"] === "content" && Array.isArray(source["content"])) {
    for (const c of source["content"]) addBlock(t, c);
  } else if (type === "image" || (type === "document" && !(isRecord(source) && source["type"] === "text"))) {
    t.fixed += type === "image" ? ATTACHMENT_TOKENS : attachmentTokens(source);
    t.parts.push(`[${String(type)}]`);
  } else if (type === "document" && isRecord(source) && typeof source["data"] === "string") addText(t, source["data"]);
  else if (type === "thinking" && typeof block["thinking"] === "string") addText(t, block["thinking"]);
  else if (type === "tool_result") {
    const content = block["content"];
    if (Array.isArray(content)) for (const c of content) addBlock(t, c);
    else if (typeof content === "string") addText(t, content);
  } else if (type === "tool_use" || type === "server_tool_use") addText(t, `${String(block["name"])}${JSON.stringify(block["input"] ?? {})}`);
  else addText(t, JSON.stringify(block)); // anything else: its JSON, a generous count
  const ttl = ttlOf(block);
  if (ttl) markBreakpoint(t, ttl);
}

function markBreakpoint(t: Tally, ttl: "5m" | "1h"): void {
  t.prefixChars = t.chars;
  t.prefixFixed = t.fixed;
  t.ttl = ttl;
  t.prefixParts = [...t.parts];
}

const tokens = (chars: number, fixed: number) => Math.ceil(chars / CHARS_PER_TOKEN) + fixed;

/** Counts the input of a request: tools, then system, then messages (the order the vendor caches in). */
export function countInput(body: CountTokensBody | MessagesBody): InputCount {
  const t: Tally = { chars: 0, fixed: 0, prefixChars: 0, prefixFixed: 0, ttl: undefined, prefixParts: [], parts: [] };
  for (const tool of body.tools ?? []) {
    addText(t, JSON.stringify(tool));
    const ttl = ttlOf(tool);
    if (ttl) markBreakpoint(t, ttl);
  }
  if (typeof body.system === "string") addText(t, body.system);
  else for (const b of body.system ?? []) addBlock(t, b);
  for (const m of body.messages) {
    if (typeof m.content === "string") addText(t, m.content);
    else for (const b of m.content) addBlock(t, b);
  }
  return {
    total: tokens(t.chars, t.fixed),
    cacheablePrefix: t.ttl ? tokens(t.prefixChars, t.prefixFixed) : 0,
    cacheTtl: t.ttl,
    prefixKey: t.prefixParts.join("\u0001"),
  };
}

/** Most web searches one request may reserve for; `max_uses` is injected when a tool leaves it out. */
export const WEB_SEARCH_DEFAULT_USES = 10;
export const WEB_SEARCH_MAX_USES = 1_000;

/**
 * A web search tool without `max_uses` is unlimited at the provider, so no hold could cover it: the
 * gateway forwards it with `max_uses` set to the default (documented), and refuses absurd values.
 */
export function boundWebSearch(body: MessagesBody): { ok: true; body: MessagesBody } | { ok: false; message: string } {
  if (!body.tools?.some((t) => typeof t["type"] === "string" && t["type"].startsWith("web_search"))) return { ok: true, body };
  const tools = [];
  let injected = false;
  for (const tool of body.tools) {
    const type = tool["type"];
    if (typeof type !== "string" || !type.startsWith("web_search")) {
      tools.push(tool);
      continue;
    }
    const max = tool["max_uses"];
    if (max === undefined) {
      tools.push({ ...tool, max_uses: WEB_SEARCH_DEFAULT_USES });
      injected = true;
    } else if (typeof max === "number" && Number.isInteger(max) && max >= 1 && max <= WEB_SEARCH_MAX_USES) tools.push(tool);
    else return { ok: false, message: `tools: web search max_uses must be an integer from 1 to ${WEB_SEARCH_MAX_USES}.` };
  }
  // The same object when nothing was added: the gateway then forwards the client's own bytes.
  return { ok: true, body: injected ? { ...body, tools } : body };
}

/** Web searches the request allows: the sum of `max_uses` of its web search tools (see boundWebSearch). */
export function webSearchBudget(body: MessagesBody): number {
  let n = 0;
  for (const tool of body.tools ?? []) {
    const type = tool["type"];
    const max = tool["max_uses"];
    if (typeof type === "string" && type.startsWith("web_search") && typeof max === "number" && Number.isSafeInteger(max) && max > 0) n += max;
  }
  return n;
}

/** The usages the worst case is the dearest of: all input as plain input, or all as cache writes. */
export function worstCaseUsages(body: MessagesBody, input: InputCount): Usage[] {
  const base: Usage = {
    input_tokens: input.total,
    output_tokens: body.max_tokens,
    cache_creation_5m_input_tokens: 0,
    cache_creation_1h_input_tokens: 0,
    cache_read_input_tokens: 0,
    web_search_requests: webSearchBudget(body),
  };
  if (input.cacheTtl === undefined) return [base];
  return [
    base,
    { ...base, input_tokens: 0, cache_creation_5m_input_tokens: input.total },
    { ...base, input_tokens: 0, cache_creation_1h_input_tokens: input.total },
  ];
}

/** The worst-case cost in micro-dollars, or undefined when the book has no price for the model. */
export function worstCaseCost(book: PriceBook, body: MessagesBody, speed: Speed, options: { batch?: boolean; dataResidency?: boolean } = {}): Micros | undefined {
  return worstCase(book, body, speed, options)?.micros;
}

/**
 * The worst case and what it was computed from: the plain usage (all input as plain input, output
 * at max_tokens) and whether cache writes were candidates. The pricing lab rates it again from
 * these under another price book (core/lab.ts `worstCaseMicros`, the same rule).
 */
export function worstCase(book: PriceBook, body: MessagesBody, speed: Speed, options: { batch?: boolean; dataResidency?: boolean } = {}): { micros: Micros; base: Usage; cacheable: boolean } | undefined {
  const usages = worstCaseUsages(body, countInput(body));
  const micros = worstCaseMicros(book, body.model, usages, { speed, batch: options.batch === true, dataResidency: options.dataResidency === true });
  const base = usages[0];
  return micros === undefined || base === undefined ? undefined : { micros, base, cacheable: usages.length > 1 };
}
