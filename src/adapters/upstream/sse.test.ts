// The SSE parser on hostile chunk boundaries, and the simulated upstream's directives.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseDirectives } from "./simulated-upstream.js";
import { encodeSse, parseSse } from "../../wire/sse.js";

async function parse(chunks: string[] | Uint8Array[]): Promise<Array<{ event: string; data: string }>> {
  const bytes = chunks.map((c) => (typeof c === "string" ? new TextEncoder().encode(c) : c));
  async function* source() {
    for (const b of bytes) yield b;
  }
  const out: Array<{ event: string; data: string }> = [];
  for await (const e of parseSse(source())) out.push(e);
  return out;
}

describe("parseSse", () => {
  const wire = 'event: message_start\ndata: {"a":"é"}\n\n: a comment\nevent: ping\ndata: {}\n\ndata: line1\ndata: line2\n\n';
  const expected = [
    { event: "message_start", data: '{"a":"é"}' },
    { event: "ping", data: "{}" },
    { event: "message", data: "line1\nline2" },
  ];
  test("whole", async () => assert.deepEqual(await parse([wire]), expected));
  test("one byte at a time (a UTF-8 character split across chunks)", async () => {
    const bytes = new TextEncoder().encode(wire);
    assert.deepEqual(await parse(Array.from(bytes, (b) => Uint8Array.of(b))), expected);
  });
  test("CRLF and CR line ends, even split between chunks", async () => {
    assert.deepEqual(await parse(["event: a\r", "\ndata: 1\r\n\r", "\nevent: b\rdata: 2\r\r"]), [
      { event: "a", data: "1" },
      { event: "b", data: "2" },
    ]);
  });
  test("an event cut before its blank line never arrived", async () => {
    assert.deepEqual(await parse(["event: a\ndata: 1\n\nevent: b\ndata: 2\n"]), [{ event: "a", data: "1" }]);
  });
  test("encode → parse round trip, multi-line data included", async () => {
    const events = [
      { event: "content_block_delta", data: '{"x":1}' },
      { event: "error", data: "two\nlines" },
    ];
    assert.deepEqual(await parse([events.map(encodeSse).join("")]), events);
  });
});

describe("x-simulate directives", () => {
  test("parsed", () => {
    assert.deepEqual(parseDirectives("cut_after:3, chunk_delay_ms:40,overloaded"), { ok: true, value: { overloaded: true, error500: false, cutAfter: 3, chunkDelayMs: 40 } });
    assert.deepEqual(parseDirectives(undefined), { ok: true, value: { overloaded: false, error500: false } });
  });
  test("a typo is an error, not silently ignored", () => {
    assert.equal(parseDirectives("cut_afer:3").ok, false);
    assert.equal(parseDirectives("overloaded:1").ok, false);
  });
});
