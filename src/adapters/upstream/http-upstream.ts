// The real provider behind the Upstream port: `POST {baseUrl}/v1/messages` (and count_tokens) with
// the configured provider key and `anthropic-version`. Also how the gateway talks to the simulated
// upstream served over HTTP (wire-server.ts), which speaks the same wire format.

import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { urlToHttpOptions } from "node:url";
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
  /** Connections kept open between requests (the provider and the simulator both allow keep-alive). */
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 256 });

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
    const body = request.raw ?? Buffer.from(JSON.stringify(request.body));
    headers["content-length"] = String(body.byteLength);
    const exchange = this.open(path, headers, body, signal);
    let res: IncomingMessage;
    try {
      res = await exchange.response;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.base} did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) out[key] = Array.isArray(value) ? value.join(", ") : value;
    const status = res.statusCode ?? 502;
    const ok = status >= 200 && status < 300;
    if (ok && /^text\/event-stream/i.test(out["content-type"] ?? "")) {
      // node:http keeps the response alive through its socket (unlike fetch, which cancels a body
      // whose Response was collected): the gateway may read the database before it starts relaying.
      return { kind: "stream", status, headers: out, events: parseSse(exchange.chunks(res)) };
    }
    let text: string;
    try {
      text = await exchange.text(res);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.base} dropped the connection mid-answer.`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (ok && isRecord(parsed)) return { kind: "json", status, headers: out, body: parsed, text };
    if (ok) throw new UpstreamUnavailable(`The upstream at ${this.base} answered ${status} with a body that is not a JSON object.`);
    return {
      kind: "error",
      status,
      headers: out,
      body: isRecord(parsed) && parsed["type"] === "error" ? parsed : vendorError("api_error", `The upstream answered ${status} ${res.statusMessage ?? ""}.`),
    };
  }

  /** Where a path's requests go, parsed once per path (not a URL parse per request). */
  private readonly targets = new Map<string, { readonly secure: boolean; readonly target: http.RequestOptions }>();
  private target(path: string): { readonly secure: boolean; readonly target: http.RequestOptions } {
    let t = this.targets.get(path);
    if (!t) {
      const url = new URL(`${this.base}${path}`);
      t = { secure: url.protocol === "https:", target: urlToHttpOptions(url) };
      this.targets.set(path, t);
    }
    return t;
  }

  /**
   * One POST over a keep-alive connection (node:http/https with an Agent: cheaper per request than
   * fetch, which the profile showed at several times the cost of a bare node:http proxy). The whole
   * exchange, a stream included, ends at the timeout or when `signal` aborts: the connection is
   * destroyed, so reading fails with the abort reason (or the timeout's UpstreamUnavailable).
   */
  private open(path: string, headers: Record<string, string>, body: Uint8Array, signal: AbortSignal) {
    const { secure, target } = this.target(path);
    const req = (secure ? https : http).request({ ...target, method: "POST", headers, agent: secure ? this.httpsAgent : this.httpAgent });
    // Why the exchange was cut (the abort reason or the timeout): what reading then throws, rather
    // than node's generic "aborted".
    let cut: unknown;
    const fail = (reason: unknown) => {
      cut ??= reason;
      req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    };
    const onAbort = () => fail(signal.reason);
    const timer = setTimeout(() => fail(new UpstreamUnavailable(`The upstream at ${this.base} did not finish within ${this.options.timeoutMs} ms.`)), this.options.timeoutMs);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    if (signal.aborted) fail(signal.reason);
    else signal.addEventListener("abort", onAbort, { once: true });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", (res) => {
        // A destroyed request destroys its response with the same reason: reading then throws it.
        res.once("close", done);
        resolve(res);
      });
      req.once("error", (err) => {
        done();
        reject(err);
      });
    });
    response.catch(() => undefined);
    req.end(body);
    return {
      response,
      text: async (res: IncomingMessage): Promise<string> => {
        const parts: Buffer[] = [];
        try {
          for await (const chunk of res) parts.push(chunk as Buffer);
        } catch (err) {
          throw cut ?? err;
        }
        return Buffer.concat(parts).toString("utf8");
      },
      /** The body's chunks; leaving early (the client went away) closes the connection, as fetch's cancel did. */
      chunks: async function* (res: IncomingMessage): AsyncGenerator<Uint8Array> {
        let finished = false;
        try {
          for await (const chunk of res) yield chunk as Buffer;
          finished = true;
        } catch (err) {
          throw cut ?? err;
        } finally {
          if (!finished) req.destroy();
        }
      },
    };
  }
}
