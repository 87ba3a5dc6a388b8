// Monthly SDK credit routes: a member's claim (opt-in) and status, the organization's pooled setting
// and overview. Registered by one line in routes.ts. The use case is built per request from the
// shared services (it holds no state of its own); the refresh job's instance lives in app.ts.

import { z } from "zod";
import { allows } from "../../app/auth.js";
import { sdkCreditsOf, type Actor } from "../../app/sdk-credits.js";

import { Micros } from "../../schemas/requests.js";
import type { AnyRoute } from "../server.js";
import { presentClaim, presentMemberSdkCredit, presentOrgSdkCredits } from "../../presenters/sdk-credits.js";
import { ORG, typed, type CallCtx } from "./define.js";
import * as R from "../../schemas/responses.js";


export const PutSdkCredits = z.strictObject({
  pooled: z.boolean().describe("true: the opted-in members' seat amounts are pooled into one org-level credit per cycle, up to pool_cap; false: per member."),
  pool_cap: Micros.optional().describe("Most the pool may hold per cycle, in micro-dollars (default $500, kept when omitted)."),
});


function actorOf(ctx: CallCtx, orgId: string): Actor {
  const p = ctx.principal;
  return p.kind === "platform" ? { kind: "platform" } : { kind: "member", memberId: p.memberId, canManage: allows(p, orgId, "manage") };
}

export function sdkCreditRoutes(): AnyRoute[] {
  return [
    typed({
      method: "POST",
      path: `${ORG}/members/:member_id/sdk_credits/claim`,
      summary: "Claim (opt in to) the member's monthly SDK credit: granted at once for this billing cycle and every cycle after. The member themselves, an owner or an admin.",
      tag: "SDK credits",
      auth: "read",
      response: R.SdkCreditClaim,
      handler: async (ctx) => {
        const orgId = ctx.params.org_id;
        const out = await sdkCreditsOf(ctx.services).claim(orgId, ctx.params.member_id, actorOf(ctx, orgId), ctx.idempotency(presentClaim));
        return ctx.reply(out, presentClaim);
      },
    }),
    typed({
      method: "GET",
      path: `${ORG}/members/:member_id/sdk_credits`,
      summary: "A member's monthly SDK credit: claimed or not, the seat's amount, this cycle's credit and what is left of it.",
      tag: "SDK credits",
      auth: "read",
      response: R.SdkCredit,
      handler: async (ctx) => ctx.reply(await sdkCreditsOf(ctx.services).memberSdkCredit(ctx.params.org_id, ctx.params.member_id), presentMemberSdkCredit),
    }),
    typed({
      method: "GET",
      path: `${ORG}/sdk_credits`,
      summary: "The organization's monthly SDK credits: pooled or per member, the pool's cap, opted-in members and this cycle's grants.",
      tag: "SDK credits",
      auth: "read",
      response: R.SdkCreditSettings,
      handler: async (ctx) => ctx.reply(await sdkCreditsOf(ctx.services).orgSdkCredits(ctx.params.org_id), presentOrgSdkCredits),
    }),
    typed({
      method: "PUT",
      path: `${ORG}/sdk_credits`,
      summary: "Pool the members' monthly SDK credits (capped) or keep them per member. Applies from the next grant: this cycle's grants stay.",
      tag: "SDK credits",
      auth: "manage",
      response: R.SdkCreditSettings,
      body: PutSdkCredits,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await sdkCreditsOf(ctx.services).configure(ctx.params.org_id, { pooled: b.pooled, poolCap: b.pool_cap === undefined ? null : Number(b.pool_cap) });
        return ctx.reply(out, presentOrgSdkCredits);
      },
    }),
  ];
}
