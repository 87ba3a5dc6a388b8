// The HTTP edge on node:http, as named stages. For every request:
//   match → authenticate → authorize → read and validate → idempotency → handler → envelope
// match: the route table (router.ts; a body-less GET may be a dashboard page instead), and a body
// declared (Content-Length) over the limit refused from the headers alone;
// authenticate (authenticate.ts): an API key or a session cookie, before any byte of the body is
// read; authorize: one permission decision (app/auth.ts decide); read and validate (body.ts): the
// body read, parsed and walked once, then the route's schemas; idempotency: the Idempotency-Key
// binding, its SHA-256 computed only when the header is sent; handler: the route's, in the caller's
// actor context (the audit log's "who"); envelope: the rename's old vocabulary for old-form
// requests, the one error envelope (statuses from error-status.ts, no stack trace ever leaves), the
// security headers, one access-log line and one sample of the request metrics. A handler may
// return a `write` function to stream its own body (the gateway's SSE).

import { createHash } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { actingAs } from "../app/audit.js";
import type { Access, Principal } from "../app/auth.js";
import type { Services } from "../app/services.js";
import { StoreUnavailable, type UnavailableReason } from "../ports/store-errors.js";
import { errorBody, errorReply, HttpError, RAW_MARK, serializedJson, type AnyRoute, type Auth, type Ctx, type Reply } from "./route.js";
import type { AuditActor } from "../core/audit.js";
import type { SecurityConfig } from "../config/security.js";
import { Authenticator, authorize } from "./authenticate.js";
import { readInput, refuseDeclaredOversize, type Input } from "./body.js";
import type { Idempotency, Outcome, Rendered } from "../app/batcher.js";
import { domainError, type Result } from "../core/errors.js";
import { isId, newId } from "../core/ids.js";
import { Router } from "./router.js";
import { ERROR_STATUS } from "./error-status.js";
import { deprecationHeaders, successorPath } from "./aliases.js";
import { toLegacyFields, withLegacyFields } from "../core/legacy-names.js";

export type { Services } from "../app/services.js";
export { errorBody, errorReply, HttpError, RETRY_SOON_SECONDS, route, type AnyRoute, type Auth, type Ctx, type Reply, type RouteDef } from "./route.js";

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

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A request's Idempotency-Key binding; its hash is computed only when a handler asks (a proxied body can be megabytes). */
interface IdempotencyKey {
  readonly key: string;
  readonly scope: string;
  requestHash(): string;
}

/**
 * The idempotency stage: the Idempotency-Key header checked, scoped and bound to the request. No
 * header, no binding (and no hash). Keys are scoped per organization (a platform key's too, per
 * organization it acts on), so the organization's row lock serializes requests that share a key,
 * and per caller (the API key, or the signed-in member): another member reusing your key and body
 * never gets your answer.
 */
function idempotencyOf(req: IncomingMessage, route: AnyRoute, principal: Principal, orgId: string | undefined, url: URL, body: unknown): IdempotencyKey | undefined {
  const header = req.headers["idempotency-key"];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new HttpError(domainError("invalid_request", "Idempotency-Key must be 1–255 printable ASCII characters."));
  const caller = idempotencyCaller(principal);
  const scope = principal.kind === "platform" ? `platform:${orgId ?? ""}` : `${principal.orgId}:${caller}`;
  let hash: string | undefined;
  const requestHash = () => (hash ??= createHash("sha256").update(`${caller}\n${route.method} ${url.pathname}\n${JSON.stringify(body ?? null)}`).digest("hex"));
  return { key, scope, requestHash };
}


/**
 * The answer when the database refuses service (driver.ts StoreUnavailable), with retry-after. A
 * full or read-only database wrote nothing; a connection lost during COMMIT may have committed, so
 * the advice is always to retry with the same Idempotency-Key, which is never applied twice.
 */
function unavailableReply(reason: UnavailableReason, requestId: string, now: number): Reply {
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
  const authenticator = new Authenticator(services, options.security);
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
    // The client leaving before its answer is finished, as an AbortSignal made only when a handler
    // asks for it (an AbortController costs ~10 µs, and most requests never look).
    let left = false;
    let gone: AbortController | undefined;
    res.on("close", () => {
      if (res.writableFinished) return;
      left = true;
      gone?.abort();
    });
    const signal = (): AbortSignal => {
      if (!gone) {
        gone = new AbortController();
        if (left) gone.abort();
      }
      return gone.signal;
    };
    let reply: Reply;
    try {
      reply = await dispatch(req, requestId, signal, client, seen);
    } catch (err) {
      if (err instanceof HttpError) {
        reply = errorReply(err.error, requestId, services.clock.now());
      } else if (err instanceof StoreUnavailable) {
        services.log.error("store unavailable", { request_id: requestId, error: err.message });
        reply = unavailableReply(err.reason, requestId, services.clock.now());
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

  async function dispatch(req: IncomingMessage, requestId: string, signal: () => AbortSignal, client: string, seen: { route: string; keyId: string | null }): Promise<Reply> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const matched = match(req, url);
    if ("status" in matched) return matched;
    const { route, params } = matched;
    seen.route = route.path;
    refuseDeclaredOversize(req, options.maxBodyBytes);
    const principal = await authenticator.authenticate(req, route, client, requestId);
    if (route.auth !== "public") seen.keyId = principal.keyId;
    const orgId = params["org_id"];
    const access = authorize(principal, route, orgId);
    const input = await readInput(req, route, url, options.maxBodyBytes);
    const idem = idempotencyOf(req, route, principal, orgId, url, input.body);
    const ctx = context({ req, route, params, principal, access, requestId, client, signal, input, idem });
    const reply = await actingAs({ actor: actorOf(principal, route.auth), requestId }, () => route.handler(ctx));
    return envelope(reply, route, params, input.legacy || route.successor !== undefined);
  }

  /** The match stage: a dashboard page, or a route and its path parameters (else 404 or 405). */
  function match(req: IncomingMessage, url: URL): Reply | { route: AnyRoute; params: Record<string, string> } {
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
    if (found.match) return found.match;
    if (found.allowed.length > 0) {
      throw new HttpError(domainError("method_not_allowed", `${req.method} is not allowed here; use ${found.allowed.join(" or ")}.`, { allowed: found.allowed }));
    }
    throw new HttpError(domainError("not_found", `No route for ${req.method} ${url.pathname}.`));
  }

  /** The handler's context: the validated input, and the idempotency binding and reply helpers. */
  function context(c: { req: IncomingMessage; route: AnyRoute; params: Record<string, string>; principal: Principal; access: Access; requestId: string; client: string; signal: () => AbortSignal; input: Input; idem: IdempotencyKey | undefined }): Ctx<unknown, unknown> {
    const { route, requestId, idem } = c;
    const render = <T>(result: Result<T>, present: (v: T) => unknown, status: number): Rendered => {
      if (result.ok) return { status, body: JSON.stringify(present(result.value)) };
      const e = errorReply(result.error, requestId, services.clock.now());
      return { status: e.status, body: JSON.stringify(e.body) };
    };
    return {
      params: c.params,
      body: c.input.body,
      query: c.input.query,
      principal: c.principal,
      access: c.access,
      requestId,
      services,
      headers: c.req.headers,
      remoteAddress: c.client,
      rawBody: c.input.raw,
      get signal() {
        return c.signal();
      },
      idempotency<T>(present: (value: T) => unknown, status = route.success ?? 200): Idempotency<T> | undefined {
        if (idem === undefined || route.method !== "POST") return undefined;
        return { scope: idem.scope, key: idem.key, requestHash: idem.requestHash(), render: (r: Result<T>) => render(r, present, status) };
      },
      reply<T>(outcome: Outcome<T> | Result<T>, present: (value: T) => unknown, status = route.success ?? 200): Reply {
        if ("kind" in outcome) {
          if (outcome.kind === "replay") {
            return { status: outcome.rendered.status, body: serializedJson(outcome.rendered.body), headers: { "idempotent-replayed": "true" } };
          }
          return this.reply(outcome.result, present, status);
        }
        if (!outcome.ok) throw new HttpError(outcome.error);
        return { status, body: present(outcome.value) };
      },
    };
  }

  /** The envelope stage: an old-form request is answered in the old names, with Deprecation headers. */
  function envelope(reply: Reply, route: AnyRoute, params: Record<string, string>, legacy: boolean): Reply {
    if (reply.write) return reply;
    if (legacy) {
      return {
        ...reply,
        body: mapBody(reply.body, toLegacyFields),
        headers: { ...reply.headers, ...deprecationHeaders(successorPath(route.successor ?? route.path, params)) },
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

  return server;
}


/** Applies a field-name translation to a reply body, including a stored replay's serialized JSON. */
function mapBody(body: unknown, f: (v: unknown) => unknown): unknown {
  const raw = body as Record<symbol, unknown> | undefined;
  if (raw && typeof raw === "object" && RAW_MARK in raw) return serializedJson(JSON.stringify(f(JSON.parse(String(raw[RAW_MARK])))));
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
