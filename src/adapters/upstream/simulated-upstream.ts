// The simulated upstream: an in-process stand-in for the model provider, the embedded default, so
// the gateway runs (and is tested and benchmarked) with no provider account. It says so: every
// text starts "[simulated upstream]", ids start "msg_sim_", and answers carry the header
// `x-simulated-upstream: true`.
//
// Deterministic from the request: input tokens are counted by the gateway's own rule (estimate.ts:
// 4 characters per token), so holds for it are exact; output is 24–64 tokens of text chosen by a
// hash of the prompt (plus 16–48 thinking tokens when `thinking` is on), never more than
// `max_tokens`. Prompt caching: the prefix up to the last `cache_control` breakpoint is written the
// first time this instance sees it (model + prefix) and read every later time.
//
// Test and benchmark knobs, in the `x-simulate` request header (comma-separated directives):
//   overloaded          529 overloaded_error        error_500          500 api_error
//   cut_after:N         the connection drops after N content deltas (no answer at all without stream)
//   error_after:N       an `error` event (overloaded_error) after N content deltas
//   latency_ms:N        wait N ms before answering  chunk_delay_ms:N   wait N ms before each content delta
//   output_tokens:N     N text tokens (still capped by max_tokens)
//   tool_use[:NAME]     answer with a tool_use of the tool NAME (default: the first one offered),
//                       unless the conversation's last turn already carries a tool_result, so a
//                       client's tool loop runs exactly one round trip per prompt
//   web_search:N        run N web searches (capped by the tool's max_uses) when a web search tool is offered
// Message Batches: simulated-batches.ts (and its batch_* directives).
//
// Tools without a directive: `tool_choice` {type:"tool",name} or {type:"any"} answers tool_use
// (stop_reason "tool_use") with an input generated from the tool's input_schema (schema-sample.ts);
// a `tool_choice` naming the web search tool runs one search. Searches are reported as the vendor
// does: server_tool_use + web_search_tool_result blocks and usage.server_tool_use.web_search_requests.
// Messages of any role (a mid-conversation `system` message) are read like any other.

import { setTimeout as sleep } from "node:timers/promises";
import { countInput, type InputCount } from "../../wire/count-tokens.js";
import { UpstreamUnavailable, type BatchingUpstream, type SseEvent, type UpstreamRequest, type UpstreamResponse } from "../../ports/upstream.js";
import { SimulatedBatches } from "./simulated-batches.js";
import { CountTokensBody, isRecord, MessagesBody, vendorError } from "../../wire/messages.js";
import { sampleFromSchema } from "./schema-sample.js";

export interface SimulatedUpstreamOptions {
  /** Wait before every answer (time to first byte), in ms. */
  readonly latencyMs: number;
  /** Wait before every content delta of a stream, in ms. */
  readonly chunkDelayMs?: number;
}

export interface Directives {
  readonly overloaded: boolean;
  readonly error500: boolean;
  readonly cutAfter?: number;
  readonly errorAfter?: number;
  readonly latencyMs?: number;
  readonly chunkDelayMs?: number;
  readonly outputTokens?: number;
  /** Answer with a tool_use: of the named tool, or ("") of the first one offered. */
  readonly toolUse?: string;
  readonly webSearches?: number;
}

const NUMERIC = {
  cut_after: "cutAfter",
  error_after: "errorAfter",
  latency_ms: "latencyMs",
  chunk_delay_ms: "chunkDelayMs",
  output_tokens: "outputTokens",
  web_search: "webSearches",
} as const;
const TOOL_USE = /^tool_use(?::([A-Za-z0-9_.-]{1,128}))?$/;

/** Parses the `x-simulate` header; an unknown directive is an error (a typo should not pass silently). */
export function parseDirectives(header: string | undefined): { ok: true; value: Directives } | { ok: false; message: string } {
  const out: { -readonly [K in keyof Directives]: Directives[K] } = { overloaded: false, error500: false };
  for (const raw of (header ?? "").split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    if (item === "overloaded") out.overloaded = true;
    else if (item === "error_500") out.error500 = true;
    else if (TOOL_USE.test(item)) out.toolUse = TOOL_USE.exec(item)?.[1] ?? "";
    else {
      const m = /^([a-z_]+):(\d{1,7})$/.exec(item);
      const name = m?.[1];
      const field = name !== undefined && name in NUMERIC ? NUMERIC[name as keyof typeof NUMERIC] : undefined;
      if (!m || !field) return { ok: false, message: `x-simulate: unknown directive ${JSON.stringify(item)}.` };
      out[field] = Number(m[2]);
    }
  }
  return { ok: true, value: out };
}

export const SIMULATED_HEADERS: Readonly<Record<string, string>> = { "x-simulated-upstream": "true" };
const TEXT_PREFIX = "[simulated upstream] ";
const THINKING_PREFIX = "[simulated upstream thinking] ";
const WORDS = ["usage", "credits", "ledger", "window", "hold", "settle", "plan", "grant", "limit", "balance", "token", "stream", "model", "price", "batch", "speed"];
/** Characters per content delta: about 4 tokens, like the vendor's small deltas. */
const DELTA_CHARS = 16;
/** Distinct cached prefixes remembered before the simulated cache is emptied. */
const CACHE_ENTRIES = 10_000;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Exactly `tokens` × 4 characters of deterministic text. */
function textOf(prefix: string, seed: number, tokens: number): string {
  let s = prefix;
  let x = seed || 1;
  const want = tokens * 4;
  while (s.length < want) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += `${WORDS[(x >>> 0) % WORDS.length] ?? "token"} `;
  }
  return s.slice(0, want);
}

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += DELTA_CHARS) out.push(text.slice(i, i + DELTA_CHARS));
  return out;
}

interface Simulation {
  readonly message: Record<string, unknown>;
  /** The same answer as the vendor's event sequence, built only when asked (a stream): a single answer never pays for it. */
  readonly events: () => SseEvent[];
}

const ev = (event: string, data: unknown): SseEvent => ({ event, data: JSON.stringify(data) });

export class SimulatedUpstream implements BatchingUpstream {
  readonly name = "simulated";
  private readonly cache = new Set<string>();
  private seq = 0;
  /** The Message Batches API (simulated-batches.ts), answering each request with `send`. */
  readonly batches = new SimulatedBatches((request, signal) => this.send(request, signal));

  constructor(private readonly options: SimulatedUpstreamOptions) {}

  async send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const d = parseDirectives(request.headers["x-simulate"]);
    if (!d.ok) return invalid(d.message);
    await pause(d.value.latencyMs ?? this.options.latencyMs, signal);
    if (d.value.overloaded) return { kind: "error", status: 529, headers: SIMULATED_HEADERS, body: vendorError("overloaded_error", "Overloaded (simulated upstream: x-simulate overloaded).") };
    if (d.value.error500) return { kind: "error", status: 500, headers: SIMULATED_HEADERS, body: vendorError("api_error", "Internal server error (simulated upstream: x-simulate error_500).") };
    const parsed = MessagesBody.safeParse(request.body);
    if (!parsed.success) return invalid(`${parsed.error.issues[0]?.path.join(".") ?? "body"}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    const sim = this.simulate(parsed.data, d.value);
    if (parsed.data.stream === true) {
      return { kind: "stream", status: 200, headers: { ...SIMULATED_HEADERS, "content-type": "text/event-stream" }, events: this.play(sim.events(), d.value, signal) };
    }
    if (d.value.cutAfter !== undefined) throw new UpstreamUnavailable("Simulated upstream: the connection dropped before the answer (x-simulate cut_after).");
    if (d.value.errorAfter !== undefined) return { kind: "error", status: 529, headers: SIMULATED_HEADERS, body: vendorError("overloaded_error", "Overloaded (simulated upstream: x-simulate error_after).") };
    return { kind: "json", status: 200, headers: SIMULATED_HEADERS, body: sim.message };
  }

  async countTokens(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const d = parseDirectives(request.headers["x-simulate"]);
    if (!d.ok) return invalid(d.message);
    await pause(d.value.latencyMs ?? this.options.latencyMs, signal);
    const parsed = CountTokensBody.safeParse(request.body);
    if (!parsed.success) return invalid(`${parsed.error.issues[0]?.path.join(".") ?? "body"}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return { kind: "json", status: 200, headers: SIMULATED_HEADERS, body: { input_tokens: countInput(parsed.data).total } };
  }

  /** The prompt cache: a cacheable prefix seen before is read, a new one written (and remembered). */
  private cached(body: MessagesBody, input: InputCount): { read: number; written: number } {
    if (input.cacheablePrefix === 0) return { read: 0, written: 0 };
    const key = `${body.model}\u0002${input.prefixKey}`;
    if (this.cache.has(key)) return { read: input.cacheablePrefix, written: 0 };
    if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
    this.cache.add(key);
    return { read: 0, written: input.cacheablePrefix };
  }

  private simulate(body: MessagesBody, d: Directives): Simulation {
    const input = countInput(body);
    const { read, written } = this.cached(body, input);
    const h = fnv1a(`${body.model}\u0000${JSON.stringify(body.system ?? "")}\u0000${JSON.stringify(body.messages)}`);
    const call = toolCall(body, d);
    const searches = webSearches(body, d);
    const toolInput = call ? JSON.stringify(call.input) : "";
    const toolTokens = call ? Math.ceil((call.name.length + toolInput.length) / 4) : 0;
    const thinkingOn = body.thinking !== undefined && body.thinking["type"] !== "disabled";
    const budget = typeof body.thinking?.["budget_tokens"] === "number" ? body.thinking["budget_tokens"] : Infinity;
    const wantThinking = thinkingOn ? Math.min(budget, 16 + ((h >>> 8) % 33)) : 0;
    const wantText = d.outputTokens ?? 24 + (h % 41);
    const thinkingTokens = Math.min(wantThinking, body.max_tokens);
    // A forced tool call comes with a short preamble only; the call itself must fit in max_tokens.
    const wantPreamble = call ? Math.min(wantText, 8) : wantText;
    const withTool = call !== undefined && thinkingTokens + toolTokens <= body.max_tokens;
    const textTokens = Math.min(wantPreamble, body.max_tokens - thinkingTokens - (withTool ? toolTokens : 0));
    const stopReason = withTool ? "tool_use" : thinkingTokens + textTokens < wantThinking + wantPreamble || call ? "max_tokens" : "end_turn";
    const speed = body.speed === "fast" ? "fast" : "standard";
    const ttl1h = input.cacheTtl === "1h";
    const usage = {
      input_tokens: input.total - read - written,
      cache_creation_input_tokens: written,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: ttl1h ? 0 : written, ephemeral_1h_input_tokens: ttl1h ? written : 0 },
      output_tokens: thinkingTokens + textTokens + (withTool ? toolTokens : 0),
      ...(searches > 0 ? { server_tool_use: { web_search_requests: searches } } : {}),
      service_tier: "standard",
      speed,
      inference_geo: body.inference_geo ?? "global",
    };
    const thinking = thinkingTokens > 0 ? textOf(THINKING_PREFIX, h ^ 0x5bd1e995, thinkingTokens) : undefined;
    const signature = `sim_${h.toString(16)}`;
    const text = textTokens > 0 ? textOf(TEXT_PREFIX, h, textTokens) : undefined;
    const content: Array<Record<string, unknown>> = [];
    if (thinking !== undefined) content.push({ type: "thinking", thinking, signature });
    for (let i = 0; i < searches; i++) {
      const searchId = `srvtoolu_sim_${h.toString(16)}_${i}`;
      content.push({ type: "server_tool_use", id: searchId, name: "web_search", input: { query: `simulated search ${i + 1}` } });
      content.push({
        type: "web_search_tool_result",
        tool_use_id: searchId,
        content: [{ type: "web_search_result", url: `https://example.invalid/simulated/${i + 1}`, title: "Simulated search result", encrypted_content: "c2ltdWxhdGVk", page_age: null }],
      });
    }
    if (text !== undefined) content.push({ type: "text", text });
    if (call && withTool) content.push({ type: "tool_use", id: `toolu_sim_${(this.seq + 1).toString(36)}${h.toString(16)}`, name: call.name, input: call.input });
    const id = `msg_sim_${(++this.seq).toString(36)}${h.toString(16)}`;
    const message = { id, type: "message", role: "assistant", model: body.model, content, stop_reason: stopReason, stop_sequence: null, usage };

    // The vendor's event sequence; message_start reports the input and a first output token,
    // message_delta the cumulative totals.
    const streamEvents = (): SseEvent[] => {
      const events: SseEvent[] = [
        ev("message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens) } } }),
        ev("ping", { type: "ping" }),
      ];
      content.forEach((block, index) => {
        if (block["type"] === "thinking") {
          events.push(ev("content_block_start", { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } }));
          for (const part of chunks(thinking ?? "")) events.push(ev("content_block_delta", { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: part } }));
          events.push(ev("content_block_delta", { type: "content_block_delta", index, delta: { type: "signature_delta", signature } }));
        } else if (block["type"] === "tool_use") {
          events.push(ev("content_block_start", { type: "content_block_start", index, content_block: { ...block, input: {} } }));
          for (const part of chunks(toolInput)) events.push(ev("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: part } }));
        } else if (block["type"] === "server_tool_use") {
          events.push(ev("content_block_start", { type: "content_block_start", index, content_block: { ...block, input: {} } }));
          events.push(ev("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block["input"]) } }));
        } else if (block["type"] === "web_search_tool_result") {
          events.push(ev("content_block_start", { type: "content_block_start", index, content_block: block }));
        } else {
          events.push(ev("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
          for (const part of chunks(text ?? "")) events.push(ev("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: part } }));
        }
        events.push(ev("content_block_stop", { type: "content_block_stop", index }));
      });
      events.push(
        ev("message_delta", {
          type: "message_delta",
          delta: { stop_reason: stopReason, stop_sequence: null },
          usage: {
            input_tokens: usage.input_tokens,
            cache_creation_input_tokens: written,
            cache_read_input_tokens: read,
            output_tokens: usage.output_tokens,
            ...(searches > 0 ? { server_tool_use: { web_search_requests: searches } } : {}),
          },
        }),
        ev("message_stop", { type: "message_stop" }),
      );
      return events;
    };
    return { message, events: streamEvents };
  }

  private async *play(events: readonly SseEvent[], d: Directives, signal: AbortSignal): AsyncGenerator<SseEvent> {
    const delay = d.chunkDelayMs ?? this.options.chunkDelayMs ?? 0;
    let deltas = 0;
    for (const e of events) {
      if (e.event === "content_block_delta") {
        if (d.cutAfter !== undefined && deltas >= d.cutAfter) throw new UpstreamUnavailable("Simulated upstream: the connection dropped mid-stream (x-simulate cut_after).");
        if (d.errorAfter !== undefined && deltas >= d.errorAfter) {
          yield ev("error", vendorError("overloaded_error", "Overloaded (simulated upstream: x-simulate error_after)."));
          return;
        }
        deltas++;
        await pause(delay, signal);
      }
      signal.throwIfAborted();
      yield e;
    }
  }
}

type Tool = Record<string, unknown>;
const isWebSearch = (t: Tool): boolean => typeof t["type"] === "string" && t["type"].startsWith("web_search");
/** A client tool: one the model calls and the client runs (no server `type`, or type "custom"). */
const isClientTool = (t: Tool): boolean => typeof t["name"] === "string" && (t["type"] === undefined || t["type"] === "custom");

/** Did the conversation's last turn answer a tool call (a tool_result)? Then the model answers in text. */
function answersToolResult(body: MessagesBody): boolean {
  const last = body.messages[body.messages.length - 1];
  return Array.isArray(last?.content) && last.content.some((b) => b["type"] === "tool_result");
}

/** The client tool this answer calls, if any: forced by tool_choice, or asked for by the tool_use directive. */
function toolCall(body: MessagesBody, d: Directives): { name: string; input: unknown } | undefined {
  const tools = (body.tools ?? []).filter(isClientTool);
  const choice = isRecord(body["tool_choice"]) ? body["tool_choice"] : undefined;
  let tool: Tool | undefined;
  if (choice?.["type"] === "none") return undefined;
  if (choice?.["type"] === "tool") tool = tools.find((t) => t["name"] === choice["name"]);
  else if (choice?.["type"] === "any") tool = tools[0];
  else if (d.toolUse !== undefined && !answersToolResult(body)) tool = d.toolUse === "" ? tools[0] : tools.find((t) => t["name"] === d.toolUse);
  return tool ? { name: String(tool["name"]), input: sampleFromSchema(tool["input_schema"]) } : undefined;
}

/** Web searches this answer runs: the directive's count, or one when tool_choice names the search tool; within max_uses. */
function webSearches(body: MessagesBody, d: Directives): number {
  const tool = (body.tools ?? []).find(isWebSearch);
  if (!tool) return 0;
  const choice = isRecord(body["tool_choice"]) ? body["tool_choice"] : undefined;
  const wanted = d.webSearches ?? (choice?.["type"] === "tool" && choice["name"] === tool["name"] ? 1 : 0);
  const max = typeof tool["max_uses"] === "number" ? tool["max_uses"] : Infinity;
  return Math.min(wanted, max);
}

function invalid(message: string): UpstreamResponse {
  return { kind: "error", status: 400, headers: SIMULATED_HEADERS, body: vendorError("invalid_request_error", message) };
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
  else signal.throwIfAborted();
}
