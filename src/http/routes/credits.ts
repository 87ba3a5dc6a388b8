// Usage-credit grants and spending limits of an organization.

import { z } from "zod";
import { presentGrant, presentLimit } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

/** Why an operator voided a grant (kept in the audit log entry). */
const VoidQuery = z.strictObject({ reason: z.string().max(500).optional() });

const iso = (v: string | null | undefined): number | null => (v ? Date.parse(v) : null);

export const listGrants = typed({
  method: "GET",
  path: `${ORG}/grants`,
  summary: "List usage-credit grants with their remaining balance.",
  tag: "Usage credits",
  auth: "read",
  response: R.list(R.Grant),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listGrants(ctx.params.org_id)).map(presentGrant) }),
});

export const createGrant = typed({
  method: "POST",
  path: `${ORG}/grants`,
  summary: "Grant usage credits (platform key): promotional, adjustment, migrated, monthly or purchase.",
  tag: "Usage credits",
  auth: "platform",
  response: R.Grant,
  body: S.CreateGrant,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.engine.createGrant(
      {
        orgId: ctx.params.org_id,
        kind: b.kind,
        amount: Number(b.amount),
        priority: b.priority ?? (b.kind === "monthly" ? 0 : 5),
        expiresAt: iso(b.expires_at),
        surfaces: b.surfaces,
        memberId: b.member_id,
        description: b.description,
      },
      ctx.idempotency(presentGrant),
    );
    return ctx.reply(out, presentGrant);
  },
});

export const voidGrant = typed({
  method: "POST",
  path: `${ORG}/grants/:grant_id/void`,
  summary: "Void one grant: its remaining balance returns to its source (platform key). `?reason=` is kept in the audit log.",
  tag: "Usage credits",
  auth: "platform",
  response: R.Grant,
  query: VoidQuery,
  handler: async (ctx) => ctx.reply(await ctx.services.engine.voidGrant(ctx.params.org_id, ctx.params.grant_id, ctx.idempotency(presentGrant), ctx.query.reason), presentGrant),
});

export const listLimits = typed({
  method: "GET",
  path: `${ORG}/spend_limits`,
  summary: "List spending limits.",
  tag: "Spending limits",
  auth: "read",
  response: R.list(R.Limit),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listLimits(ctx.params.org_id)).map(presentLimit) }),
});

export const setLimit = typed({
  method: "POST",
  path: `${ORG}/spend_limits`,
  summary: "Set the spending limit of a scope and period (replaces the existing one). amount null = unlimited; stop_usage false = an alert-only budget.",
  tag: "Spending limits",
  auth: "billing",
  response: R.Limit,
  body: S.SetLimit,
  handler: async (ctx) => {
    const b = ctx.body;
    const scope = b.scope === "user" ? "member" : b.scope;
    const out = await ctx.services.admin.setLimit(
      ctx.params.org_id,
      { scope, scopeId: b.scope_id, period: b.period, amount: b.amount === null ? null : Number(b.amount), stopUsage: b.stop_usage },
      ctx.idempotency(presentLimit),
    );
    return ctx.reply(out, presentLimit);
  },
});

export const deleteLimit = typed({
  method: "DELETE",
  path: `${ORG}/spend_limits/:limit_id`,
  summary: "Remove a spending limit.",
  tag: "Spending limits",
  auth: "billing",
  response: R.Limit,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.deleteLimit(ctx.params.org_id, ctx.params.limit_id), presentLimit),
});

export const creditRoutes = [listGrants, createGrant, voidGrant, listLimits, setLimit, deleteLimit];
