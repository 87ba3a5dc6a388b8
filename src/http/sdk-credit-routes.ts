// Monthly SDK credit routes: a member's claim (opt-in) and status, the organization's pooled setting
// and overview. Registered by one line in routes.ts. The use case is built per request from the
// shared services (it holds no state of its own); the refresh job's instance lives in app.ts.

import { z } from "zod";
import { allows } from "../app/auth.js";
import { SdkCredits, type Actor, type ClaimResult, type MemberSdkCredit, type OrgSdkCredits } from "../app/sdk-credits.js";
import type { Cycle } from "../core/sdk-credits.js";
import { MONEY_FORMAT, presentGrant } from "./presenters.js";
import { Micros } from "./schemas.js";
import { route, type AnyRoute, type Ctx, type Services } from "./server.js";

const ORG = "/v1/organizations/:org_id";

export const PutSdkCredits = z.strictObject({
  pooled: z.boolean().describe("true: the opted-in members' seat amounts are pooled into one org-level credit per cycle, up to pool_cap; false: per member."),
  pool_cap: Micros.optional().describe("Most the pool may hold per cycle, in micro-dollars (default $500, kept when omitted)."),
});

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const presentCycle = (c: Cycle) => ({ month: c.label, starts_at: iso(c.start), ends_at: iso(c.end) });

export const presentMemberSdkCredit = (s: MemberSdkCredit) => ({
  type: "sdk_credit",
  org_id: s.orgId,
  member_id: s.memberId,
  claimed: s.claim !== null,
  claimed_at: iso(s.claim?.claimedAt ?? null),
  claimed_by: s.claim?.claimedBy ?? null,
  seat_amount: String(s.seatAmount),
  surfaces: s.surfaces,
  pooled: s.settings.pooled,
  cycle: presentCycle(s.cycle),
  current_cycle: s.current
    ? {
        pooled: s.current.record.pooled,
        amount: String(s.current.record.amount),
        grant_id: s.current.record.grantId,
        grant: s.current.grant ? presentGrant(s.current.grant) : null,
      }
    : null,
  ...MONEY_FORMAT,
});

export const presentClaim = (r: ClaimResult) => ({ already_claimed: r.alreadyClaimed, ...presentMemberSdkCredit(r.status) });

export const presentOrgSdkCredits = (s: OrgSdkCredits) => {
  const pool = s.grants.filter((g) => g.memberId === null);
  return {
    type: "sdk_credit_settings",
    org_id: s.orgId,
    pooled: s.settings.pooled,
    pool_cap: String(s.settings.poolCap),
    cycle: presentCycle(s.cycle),
    members: s.members.map((m) => ({
      member_id: m.claim.memberId,
      claimed_at: iso(m.claim.claimedAt),
      seat_amount: String(m.seatAmount),
      current_cycle: m.record ? { pooled: m.record.pooled, amount: String(m.record.amount), grant_id: m.record.grantId } : null,
    })),
    pool: {
      granted: String(pool.reduce((t, g) => t + g.amount, 0)),
      remaining: String(pool.reduce((t, g) => t + g.remaining, 0)),
    },
    grants: s.grants.map(presentGrant),
    ...MONEY_FORMAT,
  };
};

/** The use case over the request's services (stateless, cheap to build). */
export const sdkCreditsOf = (s: Pick<Services, "store" | "admin" | "clock">): SdkCredits => new SdkCredits(s.store, s.admin, s.clock);

function actorOf(ctx: Ctx<unknown, unknown>, orgId: string): Actor {
  const p = ctx.principal;
  return p.kind === "platform" ? { kind: "platform" } : { kind: "member", memberId: p.memberId, canManage: allows(p, orgId, "manage") };
}

export function sdkCreditRoutes(): AnyRoute[] {
  return [
    route({
      method: "POST",
      path: `${ORG}/members/:member_id/sdk_credits/claim`,
      summary: "Claim (opt in to) the member's monthly SDK credit: granted at once for this billing cycle and every cycle after. The member themselves, an owner or an admin.",
      tag: "SDK credits",
      auth: "read",
      handler: async (ctx) => {
        const orgId = ctx.params["org_id"] ?? "";
        const out = await sdkCreditsOf(ctx.services).claim(orgId, ctx.params["member_id"] ?? "", actorOf(ctx as Ctx<unknown, unknown>, orgId), ctx.idempotency(presentClaim));
        return ctx.reply(out, presentClaim);
      },
    }),
    route({
      method: "GET",
      path: `${ORG}/members/:member_id/sdk_credits`,
      summary: "A member's monthly SDK credit: claimed or not, the seat's amount, this cycle's credit and what is left of it.",
      tag: "SDK credits",
      auth: "read",
      handler: async (ctx) => ctx.reply(await sdkCreditsOf(ctx.services).memberSdkCredit(ctx.params["org_id"] ?? "", ctx.params["member_id"] ?? ""), presentMemberSdkCredit),
    }),
    route({
      method: "GET",
      path: `${ORG}/sdk_credits`,
      summary: "The organization's monthly SDK credits: pooled or per member, the pool's cap, opted-in members and this cycle's grants.",
      tag: "SDK credits",
      auth: "read",
      handler: async (ctx) => ctx.reply(await sdkCreditsOf(ctx.services).orgSdkCredits(ctx.params["org_id"] ?? ""), presentOrgSdkCredits),
    }),
    route<z.infer<typeof PutSdkCredits>>({
      method: "PUT",
      path: `${ORG}/sdk_credits`,
      summary: "Pool the members' monthly SDK credits (capped) or keep them per member. Applies from the next grant: this cycle's grants stay.",
      tag: "SDK credits",
      auth: "manage",
      body: PutSdkCredits,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await sdkCreditsOf(ctx.services).configure(ctx.params["org_id"] ?? "", { pooled: b.pooled, poolCap: b.pool_cap === undefined ? null : Number(b.pool_cap) });
        return ctx.reply(out, presentOrgSdkCredits);
      },
    }),
  ];
}
