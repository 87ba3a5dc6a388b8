// How many input tokens a Messages request counts, by one deterministic rule: 4 characters per
// token rounded up (images and non-text documents: a flat 1,600 tokens each, the vendor's figure
// for a full-size image). The gateway holds on this count (estimate.ts) and the simulated upstream
// reports exactly it, so it is part of the wire format both sides share. Pure.

import { isRecord, type CountTokensBody, type MessagesBody } from "./messages.js";

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
  /** How many of `parts` the cacheable prefix holds (parts are only ever appended). */
  prefixCount: number;
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
  t.prefixCount = t.parts.length;
}

const tokens = (chars: number, fixed: number) => Math.ceil(chars / CHARS_PER_TOKEN) + fixed;

/** Counts the input of a request: tools, then system, then messages (the order the vendor caches in). */
export function countInput(body: CountTokensBody | MessagesBody): InputCount {
  const t: Tally = { chars: 0, fixed: 0, prefixChars: 0, prefixFixed: 0, ttl: undefined, prefixCount: 0, parts: [] };
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
    // Joined when read (the simulator's cache key), not for every estimate: a long prompt's prefix is its whole text.
    get prefixKey() {
      return t.parts.slice(0, t.prefixCount).join("\u0001");
    },
  };
}
