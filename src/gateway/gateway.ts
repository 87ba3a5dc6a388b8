// The gateway: a Messages-API-compatible proxy with the charge router in the request path.
// Per request: price the worst case (estimate.ts) → authorize a hold → forward to the Upstream →
// relay the answer unchanged → settle from the usage the upstream reported → release the rest.
// The request goes upstream as the client's own bytes (ctx.rawBody), never a re-serialization,
// except in the two cases where metering must change it (a web search tool without max_uses
// gets one; fast mode falling back to standard speed loses `speed`).
// Every hold resolves exactly once, in a `finally`: settled with the last usage the upstream
// reported, or released when it reported none (failed requests are not charged). A stream whose
// client goes away is cut at the upstream and settled with the usage reported up to then; a
// non-streaming request runs to the end (the provider bills it) and is settled in full.
//
// Fast mode (DOMAIN.md §5): `speed: "fast"` is priced with the fast modifier and never uses the
// plan (the charge router decides that). If credits cannot pay for it and the organization chose
// `fast_mode_fallback`, the request is held and served at standard speed instead (`speed` is
// removed before forwarding, and the answer's usage.speed says "standard"); if the organization
// disabled fast mode, it is refused with the vendor's message whatever the fallback setting.

import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { writeSse } from "../wire/sse.js";
import type { UsageSummary } from "../app/admin.js";
import { allows } from "../app/auth.js";
import type { Cost, Standing, StandingObserver } from "../app/engine.js";
import type { HoldActor } from "../core/books.js";
import { domainError, type DomainError, type ErrorCode, type Result } from "../core/errors.js";
import type { Hold } from "../core/model.js";
import type { Surface } from "../core/plans.js";
import type { Speed } from "../core/rating.js";
import type { Services } from "../app/services.js";
import { StoreUnavailable } from "../ports/store-errors.js";
import { errorReply, HttpError, serializedJson, type Ctx, type Reply } from "../http/route.js";
import { boundWebSearch, worstCase } from "./estimate.js";
import { rateLimitHeaders, type HeaderContext } from "./rate-limit-headers.js";
import { meteredSurface, SURFACE_HEADER } from "./client-surface.js";
import { PASS_BACK_RESPONSE_HEADERS, PASS_THROUGH_REQUEST_HEADERS, type SseEvent, type Upstream, type UpstreamResponse } from "../ports/upstream.js";
import { unknownModelError } from "../core/price-book.js";
import { dataResidencyOf, isRecord, mergeUsage, readUsage, toCoreUsage, vendorError, type CountTokensBody, type MessagesBody, type VendorUsage } from "../wire/messages.js";

export { SURFACE_HEADER } from "./client-surface.js";

export interface GatewayOptions {
  /** Hold lifetime: longer than the upstream timeout, so no hold expires under a live request. */
  readonly holdTtlMs: number;
}

export interface Caller {
  readonly orgId: string;
  readonly memberId: string;
  readonly surface: Surface;
}

/** Refusals meaning "credits cannot pay", after which fast mode may fall back to standard speed. */
const FALLBACK_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["insufficient_credits", "spend_limit_reached", "usage_credits_disabled"]);

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/** How long before its hold expires a stalled stream is cut (gateway holds live upstream timeout + 60 s). */
const RELAY_SAFETY_MS = 30_000;
/** Settle/release attempts when the database is briefly unavailable (200 ms, 400 ms, … apart). */
const SETTLE_ATTEMPTS = 5;
/**
 * Why the upstream exchange is cut once the request is done with it: the AbortError `abort()`
 * would make, made once (a DOMException captures a stack: ~15 µs on every request's `finally`).
 */
const DONE_WITH_UPSTREAM = new DOMException("This operation was aborted", "AbortError");

export class Gateway {
  constructor(
    private readonly services: Services,
    private readonly upstream: Upstream,
    private readonly options: GatewayOptions,
  ) {}

  /** POST /v1/messages. */
  async messages(ctx: Ctx<MessagesBody, unknown>): Promise<Reply> {
    const caller = callerOf(ctx);
    const bounded = boundWebSearch(ctx.body);
    if (!bounded.ok) return this.refuse(ctx, caller, domainError("invalid_request", bounded.message, { field: "tools" }));
    const body = bounded.body;
    const geo = dataResidencyOf(body);
    if (!geo.ok) return this.refuse(ctx, caller, domainError("invalid_request", geo.message, { field: "inference_geo" }));
    const dataResidency = geo.value;
    const unchanged = body === ctx.body;
    const requested: Speed = body.speed === "fast" ? "fast" : "standard";
    let speed = requested;
    // The rate-limit headers come from the member's standing as each operation left it, computed
    // in the operation's own batch: no usage-summary read per response.
    let standing: Standing | undefined;
    const observer: StandingObserver = (s) => (standing = s);
    let held = await this.hold(caller, body, speed, ctx.requestId, dataResidency, observer);
    if (!held.ok && requested === "fast" && FALLBACK_CODES.has(held.error.code) && (standing ?? (await this.summary(caller)))?.org.fastModeFallback === true) {
      speed = "standard";
      held = await this.hold(caller, body, speed, ctx.requestId, dataResidency, observer);
    }
    if (!held.ok) return this.refuse(ctx, caller, held.error, {}, standing);

    const ticket = new Ticket(this.services, caller.orgId, held.value, ctx.requestId, { dataResidency }, observer);
    const upstreamAbort = new AbortController();
    let handedOff = false;
    try {
      const forward = speed === requested ? body : withoutSpeed(body);
      const raw = forward === ctx.body && unchanged ? ctx.rawBody : undefined;
      const streaming = body.stream === true;
      // A stream stops at the upstream when its reader leaves; a single answer is let finish.
      if (streaming) follow(ctx.signal, upstreamAbort);
      let answer: UpstreamResponse;
      try {
        answer = await this.upstream.send({ body: forward, raw, headers: passThrough(ctx.headers) }, upstreamAbort.signal);
      } catch (err) {
        await ticket.release();
        if (!ctx.signal.aborted) this.services.log.error("upstream unavailable", { request_id: ctx.requestId, upstream: this.upstream.name, error: String(err) });
        const e = domainError("service_unavailable", "The model provider did not answer; nothing was charged. Retry shortly.");
        return this.refuse(ctx, caller, e, { "retry-after": "2", "x-should-retry": "true" }, standing);
      }
      if (answer.kind === "error") {
        await ticket.release();
        // Known after a hold: the rate-limit headers without a turn of the event loop.
        return { status: answer.status, body: answer.body, headers: { ...(standing ? rateLimitHeaders(standing) : await this.headers(caller)), ...upstreamRefusal(answer.status, answer.headers) } };
      }
      const inUse = { creditsInUse: ticket.hold.limitedAmount };
      if (answer.kind === "json") {
        const usage = readUsage(answer.body["usage"]);
        // An answer delivered without usage is charged its authorized worst case, never free.
        await ticket.settle(usage ? { usage: toCoreUsage(usage) } : { amount: ticket.hold.amount });
        // Unchanged (the upstream reported the speed), the answer leaves as it arrived: no stringify.
        const body = reportSpeed(answer.body, speed) || answer.text === undefined ? answer.body : serializedJson(answer.text);
        return { status: 200, body, headers: { ...(standing ? rateLimitHeaders(standing, inUse) : await this.headers(caller, inUse)), ...passBack(answer.headers) } };
      }
      // Streams report the counters as they stand when the stream starts (the hold included).
      const headers = { ...(standing ? rateLimitHeaders(standing, inUse) : await this.headers(caller, inUse)), ...passBack(answer.headers), ...SSE_HEADERS };
      const events = answer.events;
      handedOff = true;
      return { status: 200, body: null, headers, write: (res) => this.relay(res, events, ticket, upstreamAbort, speed) };
    } finally {
      if (!handedOff) {
        upstreamAbort.abort(DONE_WITH_UPSTREAM);
        if (ticket.open) await ticket.release(); // not yet settled or released
      }
    }
  }

  /** POST /v1/messages/count_tokens: answered by the upstream, never charged. */
  async countTokens(ctx: Ctx<CountTokensBody, unknown>): Promise<Reply> {
    const caller = callerOf(ctx);
    const now = this.services.clock.now();
    if (!this.services.catalog.model(ctx.body.model, now)) return this.refuse(ctx, caller, unknownModelError(this.services.catalog.bookAtCached(now), ctx.body.model));
    let answer: UpstreamResponse;
    try {
      answer = await this.upstream.countTokens({ body: ctx.body, raw: ctx.rawBody, headers: passThrough(ctx.headers) }, ctx.signal);
    } catch (err) {
      if (!ctx.signal.aborted) this.services.log.error("upstream unavailable", { request_id: ctx.requestId, upstream: this.upstream.name, error: String(err) });
      return this.refuse(ctx, caller, domainError("service_unavailable", "The model provider did not answer. Retry shortly."), { "retry-after": "2", "x-should-retry": "true" });
    }
    if (answer.kind === "stream") return this.refuse(ctx, caller, domainError("internal_error", "The model provider answered count_tokens with a stream."));
    return { status: answer.status, body: answer.body, headers: { ...(await this.headers(caller)), ...passBack(answer.headers) } };
  }

  /** Holds the worst case of the request at `speed`. */
  private async hold(caller: Caller, body: MessagesBody, speed: Speed, requestId: string, dataResidency: boolean, observer?: StandingObserver): Promise<Result<Hold>> {
    const now = this.services.clock.now();
    const found = this.services.catalog.model(body.model, now);
    let worst: ReturnType<typeof worstCase>;
    try {
      worst = found ? worstCase(found.book, body, speed, { dataResidency }) : undefined;
    } catch (err) {
      // A book from before price books were bounded may still overflow: the caller's 400, never a 500.
      if (!(err instanceof RangeError)) throw err;
      return { ok: false, error: domainError("amount_out_of_range", "The worst-case cost of this request is beyond the largest amount the engine accepts.") };
    }
    if (worst === undefined) return { ok: false, error: unknownModelError(this.services.catalog.bookAtCached(now), body.model) };
    const estimate = worst.micros;
    const out = await this.services.engine.authorize({
      orgId: caller.orgId,
      memberId: caller.memberId,
      surface: caller.surface,
      model: body.model,
      speed,
      estimate: { amount: estimate },
      // What the worst case was computed from, for the pricing lab (it prices it again).
      estimateInputs: { amount: null, usage: worst.base, batch: false, dataResidency, worstCase: worst.cacheable ? "cache" : "plain" },
      ttlMs: this.options.holdTtlMs,
      metadata: { source: "gateway", request_id: requestId },
      // Only the gateway resolves this hold: it bills what it relays, whatever happens meanwhile.
      owner: "gateway",
    }, undefined, observer);
    if (out.kind !== "fresh") throw new Error("the gateway authorizes without an idempotency key, so it cannot get a replay");
    return out.result.ok ? { ok: true, value: out.result.value.hold } : out.result;
  }

  /**
   * Relays the upstream's events unchanged (message_start gets `usage.speed` only if the upstream
   * left it out), tracking the cumulative usage; then settles or releases, and only then ends the
   * response, so a client that saw the end also sees the charge.
   */
  private async relay(res: ServerResponse, events: AsyncIterable<SseEvent>, ticket: Ticket, upstream: AbortController, speed: Speed): Promise<void> {
    let usage: VendorUsage | undefined;
    let ended = false;
    let relayed = false;
    let failure: string | undefined;
    // A reader that stops reading must not outlast its hold (the sweep would release it and the
    // stream would be free): cut the response a safety margin before the hold expires.
    const watchdog = setInterval(() => {
      if (this.services.clock.now() < ticket.hold.expiresAt - RELAY_SAFETY_MS) return;
      upstream.abort();
      res.destroy();
    }, 1_000);
    watchdog.unref();
    try {
      for await (const e of events) {
        let data = e.data;
        if (e.event === "message_start" || e.event === "message_delta") {
          const parsed = parseJson(data);
          const message = e.event === "message_start" && isRecord(parsed) ? parsed["message"] : undefined;
          const reported = readUsage(isRecord(message) ? message["usage"] : isRecord(parsed) ? parsed["usage"] : undefined);
          if (reported) usage = mergeUsage(usage, reported);
          if (isRecord(message) && reportSpeed(message, speed)) data = JSON.stringify(parsed);
        } else if (e.event === "message_stop" || e.event === "error") {
          ended = true;
        } else if (e.event === "content_block_delta") {
          relayed = true;
        }
        if (!(await writeSse(res, { event: e.event, data }))) break; // the client is gone
      }
      if (!ended && !upstream.signal.aborted && !res.destroyed) failure = "The model provider's stream ended before message_stop.";
    } catch (err) {
      if (!upstream.signal.aborted) {
        failure = "The connection to the model provider broke mid-stream.";
        this.services.log.error("upstream stream broke", { request_id: ticket.requestId, upstream: this.upstream.name, error: String(err) });
      }
    } finally {
      clearInterval(watchdog);
      upstream.abort();
      // Content relayed without any usage report is charged its hold, as a single answer is: never free.
      await (usage ? ticket.settle({ usage: toCoreUsage(usage) }) : relayed ? ticket.settle({ amount: ticket.hold.amount }) : ticket.release());
      if (failure) await writeSse(res, { event: "error", data: JSON.stringify(vendorError("api_error", `${failure} You are charged only for the usage it reported.`)) });
      if (!res.destroyed) res.end();
    }
  }

  private async refuse(ctx: Ctx<unknown, unknown>, caller: Caller, error: DomainError, extra: Record<string, string> = {}, standing?: Standing): Promise<Reply> {
    const wire = error.code === "spend_limit_reached" ? { ...error, details: { ...error.details, error_code: "enforced_spend_limit_reached" } } : error;
    const reply = errorReply(wire, ctx.requestId, this.services.clock.now());
    return { ...reply, headers: { ...(await this.headers(caller, { refused: error.code }, standing)), ...reply.headers, ...extra } };
  }

  private async summary(caller: Caller): Promise<UsageSummary | undefined> {
    const r = await this.services.admin.usageSummary(caller.orgId, caller.memberId);
    return r.ok ? r.value : undefined;
  }

  /** From the standing an operation of this request reported, else (no money operation yet) one read. */
  private async headers(caller: Caller, context: HeaderContext = {}, standing?: Standing): Promise<Record<string, string>> {
    const s = standing ?? (await this.summary(caller));
    return s ? rateLimitHeaders(s, context) : {};
  }
}

/**
 * A hold the gateway must resolve exactly once. Never throws: a failure to resolve is logged (the
 * sweep releases it at its TTL). Usage is settled with the modifier the hold was priced with
 * (US-only inference).
 */
const GATEWAY: HoldActor = { kind: "gateway" };

class Ticket {
  private unresolved = true;

  constructor(
    private readonly services: Services,
    private readonly orgId: string,
    readonly hold: Hold,
    readonly requestId: string,
    private readonly modifiers: { readonly dataResidency?: boolean } = {},
    private readonly observer?: StandingObserver,
  ) {}

  /** Not yet settled or released. */
  get open(): boolean {
    return this.unresolved;
  }

  // As the gateway: a settle after the hold expired still bills what was relayed (relayed_charge).
  async settle(cost: Cost): Promise<void> {
    const priced: Cost = cost.usage ? { ...cost, dataResidency: this.modifiers.dataResidency === true } : cost;
    await this.resolve("settle", () => this.services.engine.settle(this.orgId, this.hold.id, priced, undefined, GATEWAY, this.observer));
  }

  async release(): Promise<void> {
    await this.resolve("release", () => this.services.engine.release(this.orgId, this.hold.id, undefined, GATEWAY, this.observer));
  }

  private async resolve(what: string, run: () => Promise<{ kind: "fresh"; result: Result<unknown> } | { kind: "replay" }>): Promise<void> {
    if (!this.unresolved) return;
    this.unresolved = false;
    try {
      // A brief database outage must not make the usage free: retry a few times before giving up.
      let out: Awaited<ReturnType<typeof run>> | undefined;
      for (let attempt = 1; out === undefined; attempt++) {
        try {
          out = await run();
        } catch (err) {
          if (!(err instanceof StoreUnavailable) || attempt >= SETTLE_ATTEMPTS) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
      if (out.kind === "fresh" && !out.result.ok) {
        this.services.log.error(`gateway ${what} refused`, { request_id: this.requestId, hold_id: this.hold.id, code: out.result.error.code, message: out.result.error.message });
      }
    } catch (err) {
      this.services.log.error(`gateway ${what} failed`, { request_id: this.requestId, hold_id: this.hold.id, error: String(err) });
    }
  }
}

/** The member the request is metered for, from the API key, and the surface (client-surface.ts). */
export function callerOf(ctx: Ctx<unknown, unknown>): Caller {
  const p = ctx.principal;
  if (p.kind !== "member") {
    throw new HttpError(domainError("forbidden", "The gateway meters a member's usage: call it with a member's API key, not a platform key."));
  }
  if (!allows(p, p.orgId, "meter")) throw new HttpError(domainError("forbidden", "Your role may not make metered requests.", { needs: "meter" }));
  const metered = meteredSurface(p.surface, { declared: header(ctx.headers, SURFACE_HEADER), xApp: header(ctx.headers, "x-app"), userAgent: header(ctx.headers, "user-agent") });
  if (!metered.ok) throw new HttpError(metered.error);
  return { orgId: p.orgId, memberId: p.memberId, surface: metered.surface };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function passThrough(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_THROUGH_REQUEST_HEADERS) {
    const v = header(headers, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * The retry advice of an upstream refusal: the provider's own `retry-after` / `x-should-retry`
 * when it sent them, else the official SDKs' rule (retry 408, 409, 429 and 5xx), made explicit so
 * every refusal carries it.
 */
function upstreamRefusal(status: number, headers: Readonly<Record<string, string>>): Record<string, string> {
  const out = passBack(headers);
  out["x-should-retry"] ??= String(status === 408 || status === 409 || status === 429 || status >= 500);
  return out;
}

function passBack(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_BACK_RESPONSE_HEADERS) {
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  const id = headers["request-id"];
  if (id !== undefined) out["upstream-request-id"] = id;
  return out;
}

function withoutSpeed(body: MessagesBody): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...body };
  delete copy["speed"];
  return copy;
}

function follow(signal: AbortSignal, controller: AbortController): void {
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
}

/** Fills in `usage.speed` when the upstream left it out; true when it changed the message. */
function reportSpeed(message: Record<string, unknown>, speed: Speed): boolean {
  const usage = message["usage"];
  if (!isRecord(usage) || usage["speed"] === "standard" || usage["speed"] === "fast") return false;
  usage["speed"] = speed;
  return true;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
