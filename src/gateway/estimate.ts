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
import { countInput, type InputCount } from "../wire/count-tokens.js";
import { isRecord, type MessagesBody } from "../wire/messages.js";

export { ATTACHMENT_TOKENS, CHARS_PER_TOKEN, countInput, type InputCount } from "../wire/count-tokens.js";

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
