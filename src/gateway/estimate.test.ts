// The worst-case estimate and the vendor usage mapping, as tables. Expected amounts are written
// out from the DOMAIN §6 prices (USD per MTok = µ$ per token), not computed with rating.ts.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { V1_PRICE_BOOK as DEFAULT_PRICE_BOOK } from "../core/v1-price-book.fixture.js";
import { DEFAULT_PRICE_BOOK as SHIPPED_PRICE_BOOK } from "../core/default-price-book.js";
import { parsePriceBook, type PriceBook } from "../core/price-book.js";
import { countInput, webSearchBudget, worstCaseCost } from "./estimate.js";
import { mergeUsage, readUsage, toCoreUsage, type MessagesBody } from "../wire/messages.js";

const parsed = parsePriceBook(DEFAULT_PRICE_BOOK);
if (!parsed.ok) throw new Error(parsed.problems.join("; "));
const book: PriceBook = parsed.book;

const body = (extra: Partial<MessagesBody> & Record<string, unknown> = {}): MessagesBody => ({
  model: "claude-sonnet-4-6",
  max_tokens: 1000,
  messages: [{ role: "user", content: "x".repeat(400) }], // 100 tokens
  ...extra,
});

describe("countInput", () => {
  test("4 characters per token, rounded up once over the whole request", () => {
    assert.equal(countInput(body({ messages: [{ role: "user", content: "abcde" }] })).total, 2);
    assert.equal(countInput(body({ system: "abc", messages: [{ role: "user", content: "abcde" }] })).total, 2);
    assert.equal(countInput(body()).total, 100);
  });
  test("images count 1,600 tokens; PDFs at least that and a token per 4 decoded bytes; text and content documents by their text", () => {
    const content = [
      { type: "image", source: { type: "base64", media_type: "image/png", data: "A".repeat(100_000) } },
      // 100,000 base64 chars = 75,000 bytes → 18,750 tokens (more than 1,600)
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "B".repeat(100_000) } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "C".repeat(100) } }, // small: 1,600
      { type: "document", source: { type: "text", media_type: "text/plain", data: "y".repeat(40) } },
      { type: "document", source: { type: "content", content: [{ type: "text", text: "z".repeat(80) }] } },
    ];
    assert.equal(countInput(body({ messages: [{ role: "user", content }] })).total, 1_600 + 18_750 + 1_600 + 10 + 20);
  });
  test("outside ASCII a character counts as a whole token", () => {
    assert.equal(countInput(body({ messages: [{ role: "user", content: "你好世界" }] })).total, 4);
    assert.equal(countInput(body({ messages: [{ role: "user", content: "abcd你" }] })).total, 2);
  });
  test("the cacheable prefix runs to the last cache_control breakpoint, in tools → system → messages order", () => {
    const c = countInput(
      body({
        system: [{ type: "text", text: "s".repeat(400), cache_control: { type: "ephemeral", ttl: "1h" } }],
        messages: [{ role: "user", content: [{ type: "text", text: "m".repeat(400) }] }],
      }),
    );
    assert.deepEqual([c.total, c.cacheablePrefix, c.cacheTtl], [200, 100, "1h"]);
    assert.equal(countInput(body()).cacheablePrefix, 0);
  });
});

const WEB_SEARCH = { type: "web_search_20250305", name: "web_search", max_uses: 3 };

describe("worstCaseCost", () => {
  test("the web search tool's definition is 63 characters", () => assert.equal(JSON.stringify(WEB_SEARCH).length, 63));
  const table: Array<[string, MessagesBody, "standard" | "fast", number]> = [
    // 100 input × $3 + 1,000 output × $15 = 300 + 15,000 µ$
    ["plain", body(), "standard", 15_300],
    ["fast mode doubles every class", body(), "fast", 30_600],
    // with cache_control, every input token at the dearest class present: 1-hour writes at $6
    ["cache_control: input at the 1-hour write price", body({ system: [{ type: "text", text: "s".repeat(400), cache_control: { type: "ephemeral" } }] }), "standard", 200 * 6 + 15_000],
    ["thinking is bounded by max_tokens", body({ thinking: { type: "enabled", budget_tokens: 800 } }), "standard", 15_300],
    // web search: $10 per 1,000 = 10,000 µ$ each, unmodified
    // (the tool definition is input too: 63 characters + the 400 of the prompt = 116 tokens, rounded up)
    ["declared web searches", body({ tools: [WEB_SEARCH] }), "standard", 116 * 3 + 15_000 + 3 * 10_000],
    // Haiku: 100 × $1 + 1,000 × $5
    ["another model", body({ model: "claude-haiku-4-5" }), "standard", 5_100],
  ];
  for (const [name, b, speed, expected] of table) {
    test(name, () => assert.equal(worstCaseCost(book, b, speed), expected));
  }
  test("an unknown model has no price", () => assert.equal(worstCaseCost(book, body({ model: "gpt-4" }), "standard"), undefined));
  test("web search budget sums max_uses of web search tools only", () => {
    assert.equal(webSearchBudget(body({ tools: [{ type: "web_search_20250305", max_uses: 2 }, { type: "web_search_20250305", max_uses: 5 }, { name: "calc", max_uses: 9 }] })), 7);
  });
});

describe("vendor usage", () => {
  test("maps every token class; the cache-write total is never charged short", () => {
    const u = readUsage({ input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 }, server_tool_use: { web_search_requests: 2 }, speed: "fast" });
    assert.ok(u);
    assert.deepEqual(toCoreUsage(u), { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_5m_input_tokens: 10, cache_creation_1h_input_tokens: 40, web_search_requests: 2 });
    assert.equal(toCoreUsage({ cache_creation_input_tokens: 7 }).cache_creation_5m_input_tokens, 7);
  });
  test("null means absent; a malformed usage is not usage", () => {
    assert.deepEqual(readUsage({ input_tokens: 1, output_tokens: 2, cache_creation: null, cache_read_input_tokens: null })?.cache_creation, undefined);
    assert.equal(readUsage({ input_tokens: -1 }), undefined);
    assert.equal(readUsage("12"), undefined);
  });
  test("stream usage is cumulative: later counters replace earlier ones, omitted ones stay", () => {
    const start = { input_tokens: 100, output_tokens: 1, cache_read_input_tokens: 5 };
    const merged = mergeUsage(mergeUsage(undefined, start), { output_tokens: 42 });
    assert.deepEqual(toCoreUsage(merged), { input_tokens: 100, output_tokens: 42, cache_read_input_tokens: 5, cache_creation_5m_input_tokens: 0, cache_creation_1h_input_tokens: 0, web_search_requests: 0 });
  });
});

describe("worstCaseCost: long context, US-only and batch (the shipped book)", () => {
  const shipped = parsePriceBook(SHIPPED_PRICE_BOOK);
  if (!shipped.ok) throw new Error(shipped.problems.join("; "));
  const big = (model: string): MessagesBody => ({ model, max_tokens: 1000, messages: [{ role: "user", content: "x".repeat(1_000_000) }] }); // 250,000 tokens
  test("a prompt counted above 200k input tokens is held at the long-context rates", () => {
    // Sonnet 4.5 above 200k: 250,000 × $6 + 1,000 × $22.50 = 1,522,500 µ$ (usual rates: 765,000).
    assert.equal(worstCaseCost(shipped.book, big("claude-sonnet-4-5"), "standard"), 1_522_500);
    // Sonnet 5 has no long-context rule: 250,000 × $2 + 1,000 × $10 = 510,000 µ$.
    assert.equal(worstCaseCost(shipped.book, big("claude-sonnet-5"), "standard"), 510_000);
  });
  test("long-context rates below the usual ones never lower the hold: the dearer set is held", () => {
    const spec = structuredClone(SHIPPED_PRICE_BOOK);
    const sonnet = spec.models.find((m) => m.id === "claude-sonnet-4-5");
    assert.ok(sonnet?.long_context);
    sonnet.long_context = { ...sonnet.long_context, input: "1", output: "1" };
    const cheap = parsePriceBook(spec);
    assert.ok(cheap.ok);
    assert.equal(worstCaseCost(cheap.book, big("claude-sonnet-4-5"), "standard"), 765_000); // 250,000 × 3 + 1,000 × 15
  });
  test("US-only inference and the batch price apply to the hold", () => {
    // 100 input + 1,000 output on Sonnet 4.6: 300 + 15,000 = 15,300 µ$; × 1.1 = 16,830; × 0.5 × 1.1 = 8,415.
    assert.equal(worstCaseCost(shipped.book, body(), "standard", { dataResidency: true }), 16_830);
    assert.equal(worstCaseCost(shipped.book, body(), "standard", { dataResidency: true, batch: true }), 8_415);
  });
});
