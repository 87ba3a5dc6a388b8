// The provider's Message Batches API over HTTP (`{baseUrl}/v1/messages/batches…`), with the
// configured provider key: how the gateway forwards batches to the real provider, or to the
// simulated upstream served by wire-server.ts.

import { UpstreamUnavailable, type UpstreamBatches, type UpstreamBatchResults, type UpstreamRequest, type UpstreamResponse } from "../../ports/upstream.js";
import { isRecord, vendorError } from "../../wire/messages.js";

export interface HttpBatchesOptions {
  readonly base: string;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly defaultVersion: string;
}

export class HttpBatches implements UpstreamBatches {
  constructor(private readonly options: HttpBatchesOptions) {}

  async create(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.json(await this.call("POST", "/v1/messages/batches", request.headers, signal, JSON.stringify(request.body)), signal);
  }

  async retrieve(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.json(await this.call("GET", `/v1/messages/batches/${encodeURIComponent(id)}`, headers, signal), signal);
  }

  async cancel(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamResponse> {
    return this.json(await this.call("POST", `/v1/messages/batches/${encodeURIComponent(id)}/cancel`, headers, signal), signal);
  }

  async results(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamBatchResults> {
    const res = await this.call("GET", `/v1/messages/batches/${encodeURIComponent(id)}/results`, headers, signal);
    const text = await this.text(res, signal);
    if (res.ok) return { kind: "results", lines: text.split("\n").filter((l) => l.trim() !== "") };
    return { kind: "error", status: res.status, headers: headersOf(res), body: errorBody(text, res) };
  }

  private async call(method: string, path: string, passed: Readonly<Record<string, string>>, signal: AbortSignal, body?: string): Promise<Response> {
    const headers: Record<string, string> = { "anthropic-version": passed["anthropic-version"] ?? this.options.defaultVersion };
    for (const [k, v] of Object.entries(passed)) if (k !== "anthropic-version") headers[k] = v;
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.options.apiKey) headers["x-api-key"] = this.options.apiKey;
    try {
      return await fetch(`${this.options.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.options.base} did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  private async text(res: Response, signal: AbortSignal): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new UpstreamUnavailable(`The upstream at ${this.options.base} dropped the connection mid-answer.`, { cause: err });
    }
  }

  private async json(res: Response, signal: AbortSignal): Promise<UpstreamResponse> {
    const text = await this.text(res, signal);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && isRecord(body)) return { kind: "json", status: res.status, headers: headersOf(res), body };
    if (res.ok) throw new UpstreamUnavailable(`The upstream at ${this.options.base} answered ${res.status} with a body that is not a JSON object.`);
    return { kind: "error", status: res.status, headers: headersOf(res), body: errorBody(text, res) };
  }
}

function headersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, key) => {
    out[key] = value;
  });
  return out;
}

function errorBody(text: string, res: Response): unknown {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && body["type"] === "error") return body;
  } catch {
    // not JSON: described below
  }
  return vendorError("api_error", `The upstream answered ${res.status} ${res.statusText}.`);
}
