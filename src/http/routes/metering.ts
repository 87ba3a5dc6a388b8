// Metering: authorize (a hold), settle or release it, or report usage after the fact in one step.

import type { z } from "zod";
import type { Access, Principal } from "../../app/auth.js";
import type { HoldActor } from "../../core/books.js";
import { domainError } from "../../core/errors.js";
import type { Surface } from "../../core/plans.js";
import { cacheWrites, type Usage as CoreUsage } from "../../core/rating.js";
import { narrowSurface } from "../../core/surface-rule.js";
import { presentAuthorized, presentHold, presentSettled } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { errorReply, HttpError, idempotencyCaller } from "../server.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

export function toUsage(u: z.infer<typeof S.Usage>): CoreUsage {
  // The gateway's rule exactly (rating.ts cacheWrites): a total beyond the breakdown is never dropped.
  const { fiveMinutes, oneHour } = cacheWrites(u.cache_creation_input_tokens, u.cache_creation);
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_creation_5m_input_tokens: fiveMinutes,
    cache_creation_1h_input_tokens: oneHour,
    cache_read_input_tokens: u.cache_read_input_tokens,
    web_search_requests: u.server_tool_use?.web_search_requests ?? 0,
  };
}

/**
 * The member a metering call acts for (the key's own, or another one for owner/admin/platform
 * keys) and the surface it is metered on: the key's, or a narrower one the request declares
 * (core/surface-rule.ts, the gateway's rule too).
 */
function meteredMember(p: Principal, access: Access, requested: string | undefined, declared: string | undefined): { memberId: string; surface: Surface } {
  let memberId: string;
  if (p.kind === "platform") {
    if (!requested) throw new HttpError(domainError("invalid_request", "A platform key must name the member_id to meter for.", { field: "member_id" }));
    memberId = requested;
  } else {
    if (requested && requested !== p.memberId && !access.anyMember) {
      throw new HttpError(domainError("forbidden", "Only owner or admin keys may meter for another member.", { field: "member_id" }));
    }
    memberId = requested ?? p.memberId;
  }
  const surface = narrowSurface(p.kind === "platform" ? "any" : p.surface, declared);
  if (!surface.ok) throw new HttpError(surface.error);
  return { memberId, surface: surface.value };
}

/** Who resolves a hold over the API: its member, or owner/admin/billing and platform keys for anyone's. */
function holdActor(p: Principal, access: Access): HoldActor {
  return { kind: "caller", memberId: p.kind === "platform" ? null : p.memberId, privileged: access.anyHold };
}

/** A plain member sees hold ids of their own requests only (another's would let them resolve it). */
export function ownHoldsOnly(p: Principal, access: Access): string | undefined {
  return p.kind === "member" && !access.anyHold ? p.memberId : undefined;
}

/** The cost part of an authorize, settle or usage event: usage to rate, or an amount. */
const costOf = (b: { usage?: z.infer<typeof S.Usage> | undefined; amount?: string | undefined; batch: boolean; data_residency: boolean }) => ({
  ...(b.usage ? { usage: toUsage(b.usage) } : {}),
  ...(b.amount !== undefined ? { amount: Number(b.amount) } : {}),
  batch: b.batch,
  dataResidency: b.data_residency,
});

export const authorize = typed({
  method: "POST",
  path: `${ORG}/authorize`,
  summary: "Reserve the worst-case cost of a request: from the plan windows or from usage credits within every spending limit.",
  tag: "Metering",
  auth: "meter",
  response: R.Authorized,
  body: S.Authorize,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const who = meteredMember(ctx.principal, ctx.access, b.member_id, b.surface);
    const out = await ctx.services.engine.authorize(
      {
        orgId: ctx.params.org_id,
        memberId: who.memberId,
        surface: who.surface,
        model: b.model,
        speed: b.speed,
        estimate: costOf({ ...b, usage: b.estimated_usage }),
        ...(b.ttl_seconds ? { ttlMs: b.ttl_seconds * 1000 } : {}),
        metadata: b.metadata,
      },
      ctx.idempotency(presentAuthorized),
    );
    return ctx.reply(out, presentAuthorized);
  },
});

export const getHold = typed({
  method: "GET",
  path: `${ORG}/holds/:hold_id`,
  summary: "Get a hold.",
  tag: "Metering",
  auth: "read",
  response: R.Hold,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.getHold(ctx.params.org_id, ctx.params.hold_id, ownHoldsOnly(ctx.principal, ctx.access)), presentHold),
});

export const settle = typed({
  method: "POST",
  path: `${ORG}/holds/:hold_id/settle`,
  summary: "Charge the actual usage of a hold and release the rest. A hold resolves once.",
  tag: "Metering",
  auth: "meter",
  response: R.Settled,
  body: S.Settle,
  handler: async (ctx) => {
    const out = await ctx.services.engine.settle(ctx.params.org_id, ctx.params.hold_id, costOf(ctx.body), ctx.idempotency(presentSettled), holdActor(ctx.principal, ctx.access));
    return ctx.reply(out, presentSettled);
  },
});

export const release = typed({
  method: "POST",
  path: `${ORG}/holds/:hold_id/release`,
  summary: "Release a hold without charging (the request failed or was not made).",
  tag: "Metering",
  auth: "meter",
  response: R.Authorized,
  handler: async (ctx) =>
    ctx.reply(await ctx.services.engine.release(ctx.params.org_id, ctx.params.hold_id, ctx.idempotency(presentAuthorized), holdActor(ctx.principal, ctx.access)), presentAuthorized),
});

export const usageEvent = typed({
  method: "POST",
  path: `${ORG}/usage_events`,
  summary: "Report usage after the fact: admitted and charged in one step (or refused, charging nothing). Idempotent by event_id.",
  tag: "Metering",
  auth: "meter",
  response: R.UsageEventSettled,
  body: S.UsageEvent,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const who = meteredMember(ctx.principal, ctx.access, b.member_id, b.surface);
    const orgId = ctx.params.org_id;
    const present = (v: Parameters<typeof presentSettled>[0]) => ({ event_id: b.event_id, ...presentSettled(v) });
    // Who asked is part of the request: another key reusing an event id never gets this answer.
    const caller = idempotencyCaller(ctx.principal);
    const requestHash = JSON.stringify({ caller, body: b });
    const out = await ctx.services.engine.recordUsage(
      { orgId, memberId: who.memberId, surface: who.surface, model: b.model, speed: b.speed, cost: costOf(b), metadata: { ...b.metadata, event_id: b.event_id } },
      // The event id is the idempotency key, scoped to the organization and the caller (key or session).
      {
        scope: `usage_event:${orgId}:${caller}`,
        key: b.event_id,
        requestHash,
        render: (r) => {
          if (r.ok) return { status: 201, body: JSON.stringify(present(r.value)) };
          const e = errorReply(r.error, ctx.requestId, ctx.services.clock.now());
          return { status: e.status, body: JSON.stringify(e.body) };
        },
      },
    );
    return ctx.reply(out, present);
  },
});

export const meteringRoutes = [authorize, getHold, settle, release, usageEvent];
