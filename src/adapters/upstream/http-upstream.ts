// The real provider behind the Upstream port: `POST {baseUrl}/v1/messages` (and count_tokens) with
// the configured provider key and `anthropic-version`. Also how the gateway talks to the simulated
// upstream served over HTTP (wire-server.ts), which speaks the same wire format.

import { parseSse } from "../../wire/sse.js";
import { UpstreamUnavailable, type BatchingUpstream, type UpstreamRequest, type UpstreamResponse } from "../../ports/upstream.js";
import { HttpBatches } from "./http-batches.js";
import { isRecord, vendorError } from "../../wire/messages.js";

export interface HttpUpstreamOptions {
  /** e.g. https://api.anthropic.com (no trailing /v1). */
  readonly baseUrl: string;
  /** The provider key; never the client's key. */
  readonly apiKey: string | undefined;
  /** A request (a whole stream included) is aborted after this long. */
  readonly timeoutMs: number;
}

/** The API version sent when the client did not name one. */
export const DEFAULT_ANTHROPIC_VERSION = "2023-06-01";

export class HttpUpstream implements BatchingUpstream {
  readonly name: string;
  private readonly base: string;
  /** The provider's Message Batches API (http-batches.ts). */
  readonly batches: HttpBatches;

  constructor(private readonly options: HttpUpstreamOptions) {
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.name = this.base;
    this.batches = new HttpBatches({ base: this.base, apiKey: options.apiKey, timeoutMs: options.timeoutMs, defaultVersion: DEFAULT_ANTHROPIC_VERSION });
  }

  send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.post("/v1/messages", request, signal);
  }

  countTokens(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.post("/v1/messages/count_tokens", request, signal);
  }

  private async post(path: string, request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: request.body["stream"] === true ? "text/event-stream" : "application/json",
      "anthropic-version": request.headers["anthropic-version"] ?? DEFAULT_ANTHROPIC_VERSION,
    };
    for (const [k, v] of Object.entries(request.headers)) if (k !== "anthropic-version") headers[k] = v;
    if (this.options.apiKey) headers["x-api-key"] = this.options.apiKey;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method: "POST",
        headers,
        body: request.raw ?? JSON.stringify(request.body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.base} did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const out: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      out[key] = value;
    });
    const type = res.headers.get("content-type") ?? "";
    if (res.ok && res.body && /^text\/event-stream/i.test(type)) {
      // Lock the body now: fetch cancels an unlocked body once its Response is garbage-collected,
      // and the gateway reads the database before it starts relaying.
      return { kind: "stream", status: res.status, headers: out, events: parseSse(chunksOf(res.body.getReader())) };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.base} dropped the connection mid-answer.`, { cause: err });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && isRecord(body)) return { kind: "json", status: res.status, headers: out, body };
    if (res.ok) throw new UpstreamUnavailable(`The upstream at ${this.base} answered ${res.status} with a body that is not a JSON object.`);
    return {
      kind: "error",
      status: res.status,
      headers: out,
      body: isRecord(body) && body["type"] === "error" ? body : vendorError("api_error", `The upstream answered ${res.status} ${res.statusText}.`),
    };
  }
}

/** The chunks of an already-locked body; leaving early cancels the request, as for-await over the stream would. */
async function* chunksOf(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
  }
}
