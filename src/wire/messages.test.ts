// The usage reader against the zod schema it replaced (kept here as the reference): the same
// verdict (usage or malformed) and the same counts, on tables of edge cases and on generated values.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { z } from "zod";
import { MAX_USAGE_COUNT } from "../core/price-book.js";
import { readUsage } from "./messages.js";

const Count = z
  .number()
  .min(0)
  .transform((v) => Math.min(Math.ceil(v), MAX_USAGE_COUNT));
const count = Count.nullish().transform((v) => v ?? undefined);
const REFERENCE = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: count,
  cache_read_input_tokens: count,
  cache_creation: z
    .looseObject({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count })
    .nullish()
    .transform((v) => v ?? undefined),
  server_tool_use: z
    .looseObject({ web_search_requests: count })
    .nullish()
    .transform((v) => v ?? undefined),
});

/** What the gateway reads of a usage: the counts, and which keys are present. */
function counts(u: unknown): unknown {
  if (u === undefined) return "malformed";
  const r = u as Record<string, unknown>;
  const nested = (v: unknown, keys: string[]) => (v === undefined ? "none" : Object.fromEntries(keys.map((k) => [k, [k in (v as object), (v as Record<string, unknown>)[k]]])));
  return {
    top: Object.fromEntries(["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"].map((k) => [k, [k in r, r[k]]])),
    cache: nested(r["cache_creation"], ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"]),
    tools: nested(r["server_tool_use"], ["web_search_requests"]),
    extra: r["speed"],
  };
}

const reference = (v: unknown): unknown => {
  const r = REFERENCE.safeParse(v);
  return r.success ? r.data : undefined;
};

const CASES: unknown[] = [
  undefined,
  null,
  "12",
  12,
  [],
  [{ input_tokens: 1 }],
  {},
  { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 }, server_tool_use: { web_search_requests: 2 }, speed: "fast" },
  { input_tokens: -1 },
  { input_tokens: -0 },
  { input_tokens: 1.2, output_tokens: 2e12 },
  { input_tokens: Number.POSITIVE_INFINITY },
  { input_tokens: Number.NaN },
  { input_tokens: "3" },
  { input_tokens: null, output_tokens: undefined },
  { cache_creation: null, server_tool_use: null },
  { cache_creation: [] },
  { cache_creation: {} },
  { cache_creation: { ephemeral_5m_input_tokens: null, x: 1 } },
  { cache_creation: { ephemeral_1h_input_tokens: -5 } },
  { cache_creation: "x" },
  { server_tool_use: 5 },
  { server_tool_use: { web_search_requests: 1.5 } },
  { server_tool_use: { web_search_requests: true } },
  { output_tokens: MAX_USAGE_COUNT + 1 },
];

test("readUsage agrees with the reference schema on edge cases", () => {
  for (const c of CASES) assert.deepEqual(counts(readUsage(c)), counts(reference(c)), JSON.stringify(c));
});

test("readUsage agrees with the reference schema on generated values", () => {
  const countish = fc.oneof(fc.constant(undefined), fc.constant(null), fc.double(), fc.integer({ min: -5, max: 2_000_000_000 }), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant([]));
  const nested = (keys: string[]) => fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(7), fc.constant([]), fc.record(Object.fromEntries(keys.map((k) => [k, countish])), { requiredKeys: [] }));
  const usage = fc.record(
    {
      input_tokens: countish,
      output_tokens: countish,
      cache_creation_input_tokens: countish,
      cache_read_input_tokens: countish,
      cache_creation: nested(["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"]),
      server_tool_use: nested(["web_search_requests"]),
      speed: fc.constantFrom("fast", "standard"),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(usage, fc.anything()), (v) => {
      assert.deepEqual(counts(readUsage(v)), counts(reference(v)));
    }),
    { numRuns: 5_000 },
  );
});
