// Server-sent events on the wire (the WHATWG event-stream format the Messages API streams in):
// `event:` and `data:` lines, a blank line ends an event, `:` lines are comments. The parser works
// on arbitrary chunk boundaries (a line, even a UTF-8 character, may be split across chunks).
// A leaf module: the upstream adapters (parse, encode) and the gateway (write) both use it.

import type { Writable } from "node:stream";
/** One event of a stream (structurally the Upstream port's SseEvent; the wire format is a leaf and imports no port). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Encodes one event; multi-line data becomes several `data:` lines, as the format requires. */
export function encodeSse(event: SseEvent): string {
  return `event: ${event.event}\n${event.data
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

/** Parses an event stream. An event left unterminated when the bytes end is dropped (it never arrived whole). */
export async function* parseSse(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let event = "";
  let data: string[] = [];
  const take = (line: string): SseEvent | undefined => {
    if (line === "") {
      const done = data.length > 0 ? { event: event || "message", data: data.join("\n") } : undefined;
      event = "";
      data = [];
      return done;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
    return undefined;
  };
  let buffer = "";
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines()) {
      const e = take(line);
      if (e) yield e;
    }
  }
  // At the end, a trailing "\r" is a whole line end.
  if (buffer.endsWith("\r")) {
    const e = take(buffer.slice(0, -1));
    if (e) yield e;
  }

  function* lines(): Generator<string> {
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone "\r" at the end of the buffer may be the first half of "\r\n": wait for more.
      if (buffer[nl] === "\r" && nl === buffer.length - 1) return;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
      yield line;
    }
  }
}

/**
 * Writes one event, waiting for the socket to drain when its buffer is full (a slow reader must
 * not make us buffer a whole answer). False once the reader is gone.
 */
export function writeSse(out: Writable, event: SseEvent): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  if (out.write(encodeSse(event))) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    out.on("drain", onDrain);
    out.on("close", onClose);
  });
}
