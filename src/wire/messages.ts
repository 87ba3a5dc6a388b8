// The vendor's Messages API wire format, as far as the gateway needs to read it (DOMAIN.md §7):
// the request fields that decide the price (model, max_tokens, speed, thinking, cache_control,
// tools), the `usage` object of answers and stream events, and the error envelope. Every other
// field of a request or an answer passes through untouched (loose schemas keep unknown keys), and
// what the gateway forwards is the request's own bytes, not this parse. A message's role is any
// string (clients send `{"role":"system"}` mid-conversation, a beta): the gateway counts the
// content of every message whatever its role, and the provider decides what it accepts.

import { z } from "zod";
import { MAX_USAGE_COUNT } from "../core/price-book.js";
import { cacheWrites, type Usage } from "../core/rating.js";

const Block = z.looseObject({ type: z.string().min(1) });
const Content = z.union([z.string(), z.array(Block)]);
const Message = z.looseObject({ role: z.string().min(1), content: Content });

const common = {
  model: z.string().min(1).max(200),
  messages: z.array(Message).min(1).max(100_000),
  system: z.union([z.string(), z.array(Block)]).optional(),
  tools: z.array(z.looseObject({})).optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
  speed: z.enum(["standard", "fast"]).nullable().optional(),
  /** Where inference runs: "us" (US-only, priced with the book's data-residency modifier) or "global". */
  inference_geo: z.string().nullable().optional(),
  // A tier we do not price (e.g. a future "priority") must not pass as standard.
  service_tier: z.enum(["auto", "standard_only"]).optional(),
};

/** POST /v1/messages. */
export const MessagesBody = z.looseObject({
  ...common,
  max_tokens: z.number().int().min(1).max(10_000_000),
  stream: z.boolean().optional(),
});
export type MessagesBody = z.infer<typeof MessagesBody>;

/** POST /v1/messages/count_tokens: the same input, no max_tokens. */
export const CountTokensBody = z.looseObject(common);
export type CountTokensBody = z.infer<typeof CountTokensBody>;

/** The usage object of a message, a `message_start` event or a cumulative `message_delta` event. */
export interface VendorUsage {
  readonly input_tokens?: number | undefined;
  readonly output_tokens?: number | undefined;
  readonly cache_creation_input_tokens?: number | undefined;
  readonly cache_read_input_tokens?: number | undefined;
  readonly cache_creation?: { readonly ephemeral_5m_input_tokens?: number | undefined; readonly ephemeral_1h_input_tokens?: number | undefined } | undefined;
  readonly server_tool_use?: { readonly web_search_requests?: number | undefined } | undefined;
}

// An upstream's counts are capped at MAX_USAGE_COUNT (rating then stays within MAX_MICROS for any
// accepted price book): an absurd count is billed as the largest one, never a RangeError.
// Read by hand, not by a zod schema: it runs on every answer and every stream's usage events, and
// a schema with transforms cost several times the rest of the read. The rules are those of the
// schema it replaced (messages.test.ts checks them against it on generated values): a count is a
// finite number ≥ 0, rounded up and capped; `null` means "does not apply" and is read as absent;
// the nested objects likewise; unknown keys are kept; any other value makes the usage malformed.

const MALFORMED = Symbol("malformed");

function readCount(v: unknown): number | undefined | typeof MALFORMED {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return MALFORMED;
  return Math.min(Math.ceil(v), MAX_USAGE_COUNT);
}

/** The object with `counts` read; its other keys kept. A key the value lacks stays absent. */
function readCounts(value: Record<string, unknown>, counts: readonly string[]): Record<string, unknown> | typeof MALFORMED {
  const out: Record<string, unknown> = { ...value };
  for (const key of counts) {
    if (!(key in value)) continue;
    const n = readCount(value[key]);
    if (n === MALFORMED) return MALFORMED;
    out[key] = n;
  }
  return out;
}

function readNested(value: unknown, counts: readonly string[]): Record<string, unknown> | undefined | typeof MALFORMED {
  if (value === undefined || value === null) return undefined;
  return isRecord(value) ? readCounts(value, counts) : MALFORMED;
}

const USAGE_COUNTS = ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"];
const CACHE_COUNTS = ["ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"];
const TOOL_COUNTS = ["web_search_requests"];

/** Reads a usage object; undefined when it is missing or malformed. */
export function readUsage(value: unknown): VendorUsage | undefined {
  if (!isRecord(value)) return undefined;
  const out = readCounts(value, USAGE_COUNTS);
  if (out === MALFORMED) return undefined;
  if ("cache_creation" in value) {
    const nested = readNested(value["cache_creation"], CACHE_COUNTS);
    if (nested === MALFORMED) return undefined;
    out["cache_creation"] = nested;
  }
  if ("server_tool_use" in value) {
    const nested = readNested(value["server_tool_use"], TOOL_COUNTS);
    if (nested === MALFORMED) return undefined;
    out["server_tool_use"] = nested;
  }
  return out as VendorUsage;
}

/**
 * Stream usage is cumulative: every counter a later event carries replaces the earlier value,
 * counters it omits keep theirs (the vendor omits those that do not apply).
 */
export function mergeUsage(prev: VendorUsage | undefined, next: VendorUsage): VendorUsage {
  if (!prev) return next;
  const pick = <T>(a: T | undefined, b: T | undefined): T | undefined => (b !== undefined ? b : a);
  return {
    input_tokens: pick(prev.input_tokens, next.input_tokens),
    output_tokens: pick(prev.output_tokens, next.output_tokens),
    cache_creation_input_tokens: pick(prev.cache_creation_input_tokens, next.cache_creation_input_tokens),
    cache_read_input_tokens: pick(prev.cache_read_input_tokens, next.cache_read_input_tokens),
    cache_creation: pick(prev.cache_creation, next.cache_creation),
    server_tool_use: pick(prev.server_tool_use, next.server_tool_use),
  };
}

/**
 * The vendor's usage in the core's token classes. Cache writes use the per-TTL breakdown; if the
 * total says more than the breakdown, the difference is charged as 5-minute writes, so a total
 * is never charged short.
 */
export function toCoreUsage(u: VendorUsage): Usage {
  const { fiveMinutes, oneHour } = cacheWrites(u.cache_creation_input_tokens, u.cache_creation);
  return {
    input_tokens: u.input_tokens ?? 0,
    output_tokens: u.output_tokens ?? 0,
    cache_creation_5m_input_tokens: fiveMinutes,
    cache_creation_1h_input_tokens: oneHour,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    web_search_requests: u.server_tool_use?.web_search_requests ?? 0,
  };
}

/** The vendor's error envelope, for errors the gateway itself writes into a stream. */
export function vendorError(type: string, message: string): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type, message } };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Geos `inference_geo` may name, and whether each is priced with the data-residency modifier. */
export const INFERENCE_GEOS: Readonly<Record<string, boolean>> = { global: false, us: true };

/** Whether a request asks for US-only inference; an unknown geo is a caller error (it could not be priced). */
export function dataResidencyOf(body: { inference_geo?: string | null | undefined }): { ok: true; value: boolean } | { ok: false; message: string } {
  const geo = body.inference_geo;
  if (geo === undefined || geo === null) return { ok: true, value: false };
  const priced = INFERENCE_GEOS[geo];
  if (priced === undefined) return { ok: false, message: `inference_geo: must be one of ${Object.keys(INFERENCE_GEOS).map((g) => JSON.stringify(g)).join(", ")}; got ${JSON.stringify(geo)}.` };
  return { ok: true, value: priced };
}
