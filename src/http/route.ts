// The route kit: what a route declares (RouteDef, built with route()), what its handler is given
// (Ctx) and returns (Reply), and the one error envelope (errorReply, statuses from
// error-status.ts). The HTTP routes and the gateway's routes both build on it; the server
// (server.ts) runs the stages around it. Its own layer ("route" in docs/architecture.md): it
// imports the app and core only, never the server.

import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Access, Principal, Permission } from "../app/auth.js";
import type { Idempotency, Outcome } from "../app/batcher.js";
import type { Services } from "../app/services.js";
import type { DomainError, Result } from "../core/errors.js";
import { ERROR_STATUS } from "./error-status.js";

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /**
   * A body the route writes itself (a server-sent-event stream): the server sends the status and
   * headers, then hands `res` to `write`, which must end it. `body` is ignored.
   */
  readonly write?: (res: ServerResponse) => Promise<void>;
}

/** Marks a reply body that is already serialized JSON (see serializedJson). */
export const RAW_MARK = Symbol("raw");

/**
 * A reply body that is already serialized JSON, sent as it is: an idempotent replay's stored
 * answer, or an upstream answer the gateway relays unchanged (no parse-and-stringify round trip).
 */
export function serializedJson(json: string): { [RAW_MARK]: string } {
  return { [RAW_MARK]: json };
}

export interface Ctx<B, Q> {
  readonly params: Record<string, string>;
  readonly body: B;
  readonly query: Q;
  readonly principal: Principal;
  /** What the edge's one permission decision granted (whom the caller may act for). */
  readonly access: Access;
  readonly requestId: string;
  readonly services: Services;
  /** The request headers as received (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** The client's address: the socket's, or behind a trusted proxy the forwarded one (throttling). */
  readonly remoteAddress: string;
  /** The body's bytes as received (what a webhook signature is computed over). */
  readonly rawBody: Buffer;
  /** Aborted when the client goes away before the response is complete. */
  readonly signal: AbortSignal;
  /** An Idempotency-Key request binding, if the client sent the header. */
  idempotency<T>(present: (value: T) => unknown, status?: number): Idempotency<T> | undefined;
  /** Turns a use case's outcome into a reply (a stored replay is returned byte for byte). */
  reply<T>(outcome: Outcome<T> | Result<T>, present: (value: T) => unknown, status?: number): Reply;
}

export type Auth = Permission | "public" | "authenticated";

export interface RouteDef<B = unknown, Q = unknown> {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** Permission needed inside the organization named by :org_id (or platform-wide). */
  readonly auth: Auth;
  readonly body?: z.ZodType<B>;
  readonly query?: z.ZodType<Q>;
  readonly success?: number;
  /** The success answer's shape (src/schemas/responses.ts): the OpenAPI document's response schema. */
  readonly response?: z.ZodType;
  readonly deprecated?: boolean;
  /** A deprecated alias (http/aliases.ts): the current path pattern it serves, in the old names. */
  readonly successor?: string;
  /** The handler reads `ctx.rawBody` itself (signed webhooks): the body is neither parsed nor refused. */
  readonly rawBody?: boolean;
  /**
   * A proxied route (the gateway): the body is parsed and validated for what the handler needs,
   * but never translated (the rename's old field names apply to our own API only; a prompt may
   * well contain the words) nor refused for what only our store cannot hold, and the handler
   * forwards `ctx.rawBody` as received. Validation messages use the vendor's `path: message` form.
   */
  readonly proxy?: boolean;
  readonly handler: (ctx: Ctx<B, Q>) => Promise<Reply>;
}

/** A route with its body and query types erased, for the route table. */
export type AnyRoute = RouteDef<unknown, unknown>;

/** Declares a route with typed body and query; the handler sees the validated types. */
export function route<B = undefined, Q = Record<string, never>>(def: RouteDef<B, Q>): AnyRoute {
  return def as unknown as AnyRoute;
}

export class HttpError extends Error {
  constructor(readonly error: DomainError) {
    super(error.message);
  }
}

export function errorBody(error: DomainError, requestId: string) {
  const { type } = ERROR_STATUS[error.code];
  return { type: "error", error: { type, code: error.code, message: error.message, request_id: requestId, details: error.details ?? {} } };
}

/** A refusal that clears within this long is worth an automatic retry; one resetting later is not. */
export const RETRY_SOON_SECONDS = 60;
/**
 * Statuses worth retrying: the official SDKs' own list (408, 429, 5xx) without 409, which here is
 * always a domain conflict (a hold already resolved, an Idempotency-Key reused) that no retry clears.
 */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504, 529]);

/**
 * The error reply of a code: the one envelope, `retry-after` when the refusal names its reset
 * (`details.resets_at`), and `x-should-retry` on every refusal, so the official SDKs do not retry
 * what will not clear soon: a caller's mistake, or a 429 whose reset is more than
 * RETRY_SOON_SECONDS away (a spending limit that resets in days). A route may set both itself.
 */
export function errorReply(error: DomainError, requestId: string, now: number): Reply {
  const { status } = ERROR_STATUS[error.code];
  const headers: Record<string, string> = {};
  const resets = error.details?.["resets_at"];
  let wait: number | undefined;
  if (typeof resets === "string" && status === 429) {
    wait = Math.max(1, Math.ceil((Date.parse(resets) - now) / 1000));
    headers["retry-after"] = String(wait);
  }
  headers["x-should-retry"] = String(TRANSIENT.has(status) && (wait === undefined || wait <= RETRY_SOON_SECONDS));
  return { status, body: errorBody(error, requestId), headers };
}
