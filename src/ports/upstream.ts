// The Upstream port: where the gateway sends a Messages API request. Two adapters implement it
// (src/adapters/upstream/): HttpUpstream, a real provider or anything speaking its wire format,
// and SimulatedUpstream, the embedded default. The gateway only ever sees these shapes, so it
// meters a real provider and the simulator by the same code.

export interface UpstreamRequest {
  /** The JSON body (`stream` included): what an in-process upstream reads. */
  readonly body: Readonly<Record<string, unknown>>;
  /**
   * The body's bytes as the client sent them, when the gateway forwards it unchanged: an HTTP
   * upstream sends exactly these (never a re-serialization of `body`), so fields, roles, block
   * types and key order the gateway does not know arrive as the client wrote them.
   */
  readonly raw?: Uint8Array | undefined;
  /** Headers passed through from the client (lower-case names): anthropic-version, anthropic-beta, x-simulate. */
  readonly headers: Readonly<Record<string, string>>;
}

/** One server-sent event as it appeared on the wire; `data` is kept verbatim so it can be relayed unchanged. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export type UpstreamResponse =
  /**
   * A whole JSON answer (a message, or a token count). `text`: the answer as it arrived over the
   * wire (an HTTP upstream), which the gateway relays as it is when it leaves the answer unchanged.
   */
  | { readonly kind: "json"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: Record<string, unknown>; readonly text?: string }
  /**
   * A stream of events. Iterating throws if the connection breaks before the stream ends (a cut),
   * or with the abort reason once the request's signal is aborted.
   */
  | { readonly kind: "stream"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly events: AsyncIterable<SseEvent> }
  /** The upstream refused or failed: its status and error body, passed to the client as they are. */
  | { readonly kind: "error"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: unknown };

export interface Upstream {
  /** "simulated", or the provider's base URL (for logs and /readyz-style reporting). */
  readonly name: string;
  /** POST /v1/messages. Throws UpstreamUnavailable when no answer arrives at all. */
  send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse>;
  /** POST /v1/messages/count_tokens (free: never charged). */
  countTokens(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse>;
}

/** The upstream could not be reached, or dropped the connection before answering (infrastructure, not a refusal). */
export class UpstreamUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UpstreamUnavailable";
  }
}

/** Request headers the gateway passes through to the upstream; the client's own API key never is. */
export const PASS_THROUGH_REQUEST_HEADERS = ["anthropic-version", "anthropic-beta", "x-simulate"] as const;

/** Upstream response headers the gateway passes back (its own rate-limit headers replace the upstream's). */
export const PASS_BACK_RESPONSE_HEADERS = ["retry-after", "x-should-retry", "x-simulated-upstream"] as const;

/**
 * The provider's Message Batches API (POST/GET /v1/messages/batches…), for upstreams that have it.
 * Answers are the provider's own: a batch object as JSON, or its error; results are the JSONL lines.
 */
export interface UpstreamBatches {
  create(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse>;
  retrieve(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamResponse>;
  cancel(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamResponse>;
  results(id: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamBatchResults>;
  /** GET /v1/messages/batches: the provider's batches, newest first (`limit`, `after_id` paging). */
  list(page: { readonly limit: number; readonly afterId?: string }, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<UpstreamResponse>;
}

export type UpstreamBatchResults =
  | { readonly kind: "results"; readonly lines: readonly string[] }
  | { readonly kind: "error"; readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: unknown };

/** An upstream that also runs Message Batches. */
export interface BatchingUpstream extends Upstream {
  readonly batches: UpstreamBatches;
}

export function hasBatches(u: Upstream): u is BatchingUpstream {
  return "batches" in u && typeof (u as { batches?: unknown }).batches === "object";
}
