// The HTTP edge: node:http with a small router. For every request: request id, body limit and
// content type, JSON parsing, schema validation, API-key authentication, organization scoping
// (another org's ids look exactly like missing ones), role checks, then the handler. Every error
// leaves in one envelope whose status comes from error-status.ts; no stack trace ever leaves.
// A handler may return a `write` function to stream its own body (the gateway's SSE).
// Every response carries the security headers; every request is one access-log line and one
// sample of the request metrics; handlers run in the caller's actor context (the audit log's "who").

import type { Receipts } from "../app/receipts.js";
import type { Operator } from "../app/operator.js";
import { createHash } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { z } from "zod";
import type { Admin } from "../app/admin.js";
import { actingAs } from "../app/audit.js";
import { allows, authenticate, canSeeOrg, type Permission, type Principal } from "../app/auth.js";
import type { Metrics } from "../app/metrics.js";
import type { AuditActor } from "../core/audit.js";
import type { SecurityConfig } from "../config/security.js";
import { AuthFailureLimiter } from "./auth-limiter.js";
import type { Idempotency, Outcome, Rendered } from "../app/batcher.js";
import type { Engine } from "../app/engine.js";
import type { MoneyIn } from "../app/money-in.js";
import type { Webhooks } from "../app/webhooks.js";
import { Sessions } from "../app/sessions.js";
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from "./cookies.js";
import { domainError, type DomainError, type Result } from "../core/errors.js";
import { isId, newId } from "../core/ids.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Store } from "../ports/store.js";
import type { Catalog } from "../app/catalog.js";
import { ERROR_STATUS } from "./error-status.js";
import { Router } from "./router.js";
import { deprecationHeaders, successorPath } from "./aliases.js";
import { fromLegacyFields, toLegacyFields, usesLegacyFields, withLegacyFields } from "../core/legacy-names.js";

export interface Services {
  readonly store: Store;
  readonly engine: Engine;
  readonly admin: Admin;
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly log: Logger;
  readonly moneyIn: MoneyIn;
  readonly webhooks: Webhooks;
  readonly metrics: Metrics;
  /** `draining` turns true when shutdown starts: /readyz answers 503 and connections close after their response. */
  readonly lifecycle: { draining: boolean };
  readonly sessions: Sessions;
  /** Receipts and statement PDFs, with the seller's details from configuration. */
  readonly receipts: Receipts;
  /** The operator console's use cases (customers, price-book preview). */
  readonly operator: Operator;
}

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

export interface Ctx<B, Q> {
  readonly params: Record<string, string>;
  readonly body: B;
  readonly query: Q;
  readonly principal: Principal;
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

export interface ServerOptions {
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly security: Pick<SecurityConfig, "authFailureLimit" | "authFailureWindowMs" | "trustProxy" | "hstsMaxAgeSeconds">;
  /**
   * Also send the old field names (extra_usage…) beside the new ones in current-form answers, so
   * clients that read old names on unchanged paths keep working during the deprecation period.
   */
  readonly legacyResponseFields?: boolean;
  /** Non-API responses (the dashboard's files) for a method and path, tried before the route table. */
  readonly pages?: (method: string, pathname: string) => Reply | undefined;
}

/** Headers on every response; a route's own headers (a dashboard page's caching, its CSP) win. */
export function securityHeaders(hstsMaxAgeSeconds: number): Record<string, string> {
  return {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    ...(hstsMaxAgeSeconds > 0 ? { "strict-transport-security": `max-age=${hstsMaxAgeSeconds}; includeSubDomains` } : {}),
  };
}

/** The client's address: the socket's, or behind one trusted proxy the last X-Forwarded-For entry. */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const fwd = req.headers["x-forwarded-for"];
  const last = trustProxy && typeof fwd === "string" ? fwd.split(",").pop()?.trim() : undefined;
  return last || req.socket.remoteAddress || "unknown";
}

function actorOf(p: Principal, auth: Auth): AuditActor {
  if (auth === "public") return { type: "system", id: null, memberId: null };
  if (p.kind === "platform") return { type: "platform_key", id: p.keyId, memberId: null };
  // A dashboard sign-in acts through its session (whose id stands where a key id would).
  return { type: isId("session", p.keyId) ? "session" : "api_key", id: p.keyId, memberId: p.memberId };
}

/**
 * Who asked, for idempotency: the API key, or for a dashboard sign-in the member behind it (a
 * retry after signing in again is the same caller; another member never is).
 */
export function idempotencyCaller(p: Principal): string {
  if (p.kind === "member" && isId("session", p.keyId)) return `member:${p.memberId}`;
  return `key:${p.keyId}`;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json\s*(?:;.*)?$/i;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

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

/**
 * The answer when the database refuses service (driver.ts StoreUnavailable), with retry-after. A
 * full or read-only database wrote nothing; a connection lost during COMMIT may have committed, so
 * the advice is always to retry with the same Idempotency-Key, which is never applied twice.
 */
function unavailableReply(reason: unknown, requestId: string, now: number): Reply {
  const retry = "retry with the same Idempotency-Key (never applied twice)";
  const [error, retryAfter] =
    reason === "full"
      ? [domainError("storage_full", `The database's disk is full; nothing was written. Once the operator frees space, ${retry}.`), "30"]
      : reason === "read_only"
        ? [domainError("service_unavailable", `The database is read-only; nothing was written. Once the operator makes it writable, ${retry}.`), "30"]
        : [domainError("service_unavailable", `The database is unavailable; ${retry} shortly.`), "2"];
  const reply = errorReply(error, requestId, now);
  return { ...reply, headers: { ...reply.headers, "retry-after": retryAfter } };
}

export function buildServer(routes: readonly AnyRoute[], services: Services, options: ServerOptions): Server {
  const router = new Router<AnyRoute>();
  for (const r of routes) router.add(r.method, r.path, r);
  const baseHeaders = securityHeaders(options.security.hstsMaxAgeSeconds);
  const limiter = new AuthFailureLimiter(options.security.authFailureLimit, options.security.authFailureWindowMs);
  const { metrics, log } = services;

  // Slow clients (slowloris): the headers must arrive within headersTimeoutMs and the whole request,
  // body included, within requestTimeoutMs, else 408 and the socket is closed. Node checks these
  // bounds every connectionsCheckingInterval (30 s by default: far too coarse for a 10 s bound).
  const server = createServer({ connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs / 2), requestTimeout: options.requestTimeoutMs, headersTimeout: options.headersTimeoutMs }, (req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  // What Node's HTTP parser refuses before any route sees it (malformed request lines or headers,
  // headers over 16 KiB, a request too slow to arrive) still leaves in the one error envelope.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const error =
      err.code === "HPE_HEADER_OVERFLOW"
        ? domainError("headers_too_large", "The request headers are too large (at most 16 KiB).")
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? domainError("request_timeout", `The request did not arrive in time (headers within ${options.headersTimeoutMs / 1000} s, the whole request within ${options.requestTimeoutMs / 1000} s).`)
          : domainError("invalid_request", "The request is not valid HTTP/1.1.");
    const { status } = ERROR_STATUS[error.code];
    const text = JSON.stringify(errorBody(error, newId("request")));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId("request");
    const started = performance.now();
    const client = clientAddress(req, options.security.trustProxy);
    // What dispatch learns, for the access log and the metrics.
    const seen: { route: string; keyId: string | null } = { route: "unmatched", keyId: null };
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    let reply: Reply;
    try {
      reply = await dispatch(req, requestId, gone.signal, client, seen);
    } catch (err) {
      if (err instanceof HttpError) {
        reply = errorReply(err.error, requestId, services.clock.now());
      } else if (err instanceof Error && err.name === "StoreUnavailable") {
        services.log.error("store unavailable", { request_id: requestId, error: err.message });
        reply = unavailableReply((err as { reason?: unknown }).reason, requestId, services.clock.now());
      } else {
        services.log.error("unhandled error", { request_id: requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        reply = errorReply(domainError("internal_error", "Something went wrong on our side; the request id identifies it in our logs."), requestId, services.clock.now());
      }
    }
    const headers = { ...baseHeaders, ...(services.lifecycle.draining ? { connection: "close" } : {}) };
    if (reply.write) await stream(res, reply, reply.write, requestId, headers);
    else send(res, reply, requestId, headers, req.method === "HEAD");
    const seconds = (performance.now() - started) / 1000;
    const method = METHODS.has(req.method ?? "") ? (req.method ?? "") : "OTHER";
    metrics.httpRequests.inc({ method, route: seen.route, status: String(reply.status) });
    metrics.httpDuration.observe(seconds, { method, route: seen.route });
    // The one access-log line of the request: never a header, a query string or a body (keys live there).
    log.info("request", {
      request_id: requestId,
      method: req.method,
      path: (req.url ?? "").split("?")[0],
      route: seen.route,
      status: reply.status,
      ms: Math.round(seconds * 10_000) / 10,
      client,
      key_id: seen.keyId,
    });
  }

  async function dispatch(req: IncomingMessage, requestId: string, signal: AbortSignal, client: string, seen: { route: string; keyId: string | null }): Promise<Reply> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (/%00/.test(url.pathname)) throw new HttpError(domainError("invalid_request", "The request path may not contain a NUL character (%00)."));
    // A page is a browser's body-less GET; anything carrying a body goes through the routes' checks.
    const hasBody = (req.headers["content-length"] ?? "0") !== "0" || req.headers["transfer-encoding"] !== undefined;
    const page = hasBody ? undefined : options.pages?.(req.method ?? "GET", url.pathname);
    if (page) return page;
    let found: ReturnType<typeof router.find>;
    try {
      // HEAD is GET without the body (RFC 9110 §9.3.2): clients probe with it (Claude Code's `HEAD /`).
      found = router.find(req.method === "HEAD" ? "GET" : (req.method ?? "GET"), url.pathname);
    } catch {
      throw new HttpError(domainError("invalid_request", "The request path is not valid URL encoding."));
    }
    const match = found.match;
    if (!match) {
      if (found.allowed.length > 0) {
        throw new HttpError(domainError("method_not_allowed", `${req.method} is not allowed here; use ${found.allowed.join(" or ")}.`, { allowed: found.allowed }));
      }
      throw new HttpError(domainError("not_found", `No route for ${req.method} ${url.pathname}.`));
    }
    const route = match.route;
    seen.route = route.path;
    const raw = await readBody(req, options.maxBodyBytes);

    const principal = route.auth === "public" ? ({ kind: "platform", keyId: "public" } as Principal) : await authenticateRequest(req, client, requestId);
    if (route.auth !== "public") seen.keyId = principal.keyId;
    const orgId = match.params["org_id"];
    if (route.auth !== "public" && route.auth !== "authenticated") {
      if (orgId !== undefined && !canSeeOrg(principal, orgId)) throw new HttpError(domainError("not_found", `No organization ${orgId}.`));
      if (!allows(principal, orgId ?? null, route.auth)) {
        throw new HttpError(domainError("forbidden", `Your role may not do this (needs the "${route.auth}" permission).`, { needs: route.auth }));
      }
    }

    // The old vocabulary (http/aliases.ts): an old path, or old field names in the body or query.
    let legacy = route.successor !== undefined;
    let body: unknown = undefined;
    if (route.body) {
      if (raw.length === 0) throw new HttpError(domainError("invalid_request", "This endpoint needs a JSON body."));
      const type = req.headers["content-type"] ?? "";
      if (!JSON_TYPE.test(type)) throw new HttpError(domainError("unsupported_media_type", "Send the body as JSON with Content-Type: application/json."));
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new HttpError(domainError("invalid_request", "The body is not valid JSON."));
      }
      if (route.proxy === true) {
        body = validate(route.body, parsed, "body", true);
      } else {
        // PostgreSQL text cannot hold NUL; refuse it for every store alike.
        if (hasNul(parsed)) throw new HttpError(domainError("invalid_request", "Strings in the body may not contain a NUL character (\\u0000)."));
        const oldNames = usesLegacyFields(parsed);
        legacy ||= oldNames;
        body = validate(route.body, oldNames ? fromLegacyFields(parsed) : parsed, "body");
      }
    } else if (raw.length > 0 && route.rawBody !== true) {
      throw new HttpError(domainError("invalid_request", "This endpoint takes no body."));
    }
    const rawQuery = Object.fromEntries(url.searchParams);
    const oldQuery = route.proxy !== true && usesLegacyFields(rawQuery);
    legacy ||= oldQuery;
    const query = route.query ? validate(route.query, oldQuery ? fromLegacyFields(rawQuery) : rawQuery, "query") : {};

    const idemHeader = req.headers["idempotency-key"];
    const idemKey = Array.isArray(idemHeader) ? idemHeader[0] : idemHeader;
    if (idemKey !== undefined && !IDEMPOTENCY_KEY.test(idemKey)) {
      throw new HttpError(domainError("invalid_request", "Idempotency-Key must be 1–255 printable ASCII characters."));
    }
    // Keys are scoped per organization (a platform key's too, per organization it acts on), so the
    // organization's row lock serializes requests that share a key, and per caller (the API key,
    // or the signed-in member): another member reusing your key and body never gets your answer.
    const caller = idempotencyCaller(principal);
    const scope = principal.kind === "platform" ? `platform:${orgId ?? ""}` : `${principal.orgId}:${caller}`;
    // Computed only for a request that uses a key (a proxied body can be megabytes).
    let hash: string | undefined;
    const requestHash = () => (hash ??= createHash("sha256").update(`${caller}\n${route.method} ${url.pathname}\n${JSON.stringify(body ?? null)}`).digest("hex"));

    const render = <T>(result: Result<T>, present: (v: T) => unknown, status: number): Rendered => {
      if (result.ok) return { status, body: JSON.stringify(present(result.value)) };
      const e = errorReply(result.error, requestId, services.clock.now());
      return { status: e.status, body: JSON.stringify(e.body) };
    };
    const ctx: Ctx<unknown, unknown> = {
      params: match.params,
      body,
      query,
      principal,
      requestId,
      services,
      headers: req.headers,
      remoteAddress: client,
      rawBody: raw,
      signal,
      idempotency<T>(present: (value: T) => unknown, status = route.success ?? 200): Idempotency<T> | undefined {
        if (idemKey === undefined || route.method !== "POST") return undefined;
        return { scope, key: idemKey, requestHash: requestHash(), render: (r: Result<T>) => render(r, present, status) };
      },
      reply<T>(outcome: Outcome<T> | Result<T>, present: (value: T) => unknown, status = route.success ?? 200): Reply {
        if ("kind" in outcome) {
          if (outcome.kind === "replay") {
            return { status: outcome.rendered.status, body: RAW(outcome.rendered.body), headers: { "idempotent-replayed": "true" } };
          }
          return this.reply(outcome.result, present, status);
        }
        if (!outcome.ok) throw new HttpError(outcome.error);
        return { status, body: present(outcome.value) };
      },
    };
    const reply = await actingAs({ actor: actorOf(principal, route.auth), requestId }, () => route.handler(ctx));
    if (reply.write) return reply;
    if (legacy) {
      return {
        ...reply,
        body: mapBody(reply.body, toLegacyFields),
        headers: { ...reply.headers, ...deprecationHeaders(successorPath(route.successor ?? route.path, match.params)) },
      };
    }
    // Duplicates only in the organizations' API (not in the OpenAPI document or proxied bodies).
    return options.legacyResponseFields && route.path.startsWith("/v1/organizations") ? { ...reply, body: mapBody(reply.body, withLegacyFields) } : reply;
  }

  async function stream(res: ServerResponse, reply: Reply, write: (res: ServerResponse) => Promise<void>, requestId: string, headers: Record<string, string>): Promise<void> {
    res.writeHead(reply.status, { ...headers, "request-id": requestId, ...reply.headers });
    res.flushHeaders();
    try {
      await write(res);
    } catch (err) {
      services.log.error("unhandled error while streaming", { request_id: requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      res.destroy();
    }
  }

  async function authenticateRequest(req: IncomingMessage, client: string, requestId: string): Promise<Principal> {
    const header = req.headers["x-api-key"];
    const auth = req.headers["authorization"];
    let secret = Array.isArray(header) ? header[0] : header;
    if (!secret && typeof auth === "string" && /^Bearer\s+/i.test(auth)) secret = auth.replace(/^Bearer\s+/i, "").trim();
    if (!secret) {
      const token = readCookie(req.headers["cookie"], SESSION_COOKIE);
      if (token) return sessionPrincipal(req, token);
      throw new HttpError(domainError("unauthenticated", "Send your API key in the x-api-key header (or Authorization: Bearer)."));
    }
    // A blocked address learns nothing, not even whether this key is valid.
    const now = services.clock.now();
    const wait = limiter.blockedFor(client, now);
    if (wait > 0) {
      metrics.authFailures.inc({ outcome: "blocked" });
      throw new HttpError(
        domainError("too_many_auth_failures", "Too many failed API-key attempts from your address; wait until resets_at.", { resets_at: new Date(now + wait).toISOString() }),
      );
    }
    const principal = await services.admin.authenticate(secret);
    if (!principal) {
      metrics.authFailures.inc({ outcome: "invalid" });
      const failures = limiter.fail(client, now);
      // Once per window, at the failure that blocks; never the key itself.
      if (failures === options.security.authFailureLimit) log.error("api key failures: address blocked", { request_id: requestId, client, failures });
      throw new HttpError(domainError("unauthenticated", "The API key is not valid or has been revoked."));
    }
    return principal;
  }

  /**
   * A dashboard session cookie yields the member's Principal, exactly as their API key would.
   * Every state change must also carry the session's CSRF token in a header, which a page on
   * another site can neither read nor set.
   */
  async function sessionPrincipal(req: IncomingMessage, token: string): Promise<Principal> {
    const found = await services.sessions.resolve(token);
    if (!found) throw new HttpError(domainError("unauthenticated", "Your dashboard session has ended; sign in again."));
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      const header = req.headers[CSRF_HEADER];
      if (!Sessions.csrfMatches(found.session, Array.isArray(header) ? header[0] : header)) {
        throw new HttpError(domainError("csrf_token_invalid", `A dashboard request that changes anything must send the session's CSRF token in the ${CSRF_HEADER} header.`));
      }
    }
    return found.principal;
  }

  return server;
}

/** A body that is already serialized JSON (idempotent replays). */
const RAW_MARK = Symbol("raw");
function RAW(json: string): { [RAW_MARK]: string } {
  return { [RAW_MARK]: json };
}

/** Applies a field-name translation to a reply body, including a stored replay's serialized JSON. */
function mapBody(body: unknown, f: (v: unknown) => unknown): unknown {
  const raw = body as Record<symbol, unknown> | undefined;
  if (raw && typeof raw === "object" && RAW_MARK in raw) return RAW(JSON.stringify(f(JSON.parse(String(raw[RAW_MARK])))));
  return f(body);
}

function send(res: ServerResponse, reply: Reply, requestId: string, headers: Record<string, string>, headOnly = false): void {
  const body = reply.body as Record<symbol, unknown> | undefined;
  const text = body && typeof body === "object" && RAW_MARK in body ? String(body[RAW_MARK]) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "request-id": requestId,
    ...reply.headers,
  });
  res.end(headOnly ? undefined : text);
}

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (depth > 64 || value === null || typeof value !== "object") return false;
  for (const [k, v] of Object.entries(value)) if (k.includes("\u0000") || hasNul(v, depth + 1)) return true;
  return false;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, where: "body" | "query", vendorForm = false): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
  const first = issues[0];
  const message = first ? `${vendorForm ? "" : `Invalid ${where}: `}${first.path}: ${first.message}` : `Invalid ${where}.`;
  throw new HttpError(domainError("invalid_request", message, { issues }));
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) {
      req.resume();
      reject(new HttpError(domainError("payload_too_large", `The body may be at most ${max} bytes.`, { max_bytes: max })));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(new HttpError(domainError("payload_too_large", `The body may be at most ${max} bytes.`, { max_bytes: max })));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) reject(e);
    });
  });
}
