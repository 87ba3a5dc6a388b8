// Organizations and their usage-credits switch.

import { presentCreatedKey, presentCreditsStatus, presentMember, presentOrg } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import type { CreatedKey } from "../../app/admin.js";
import type { Member, Organization } from "../../core/model.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

const presentCreatedOrg = (v: { org: Organization; owner: Member; key: CreatedKey }) => ({
  ...presentOrg(v.org),
  owner: presentMember(v.owner),
  api_key: presentCreatedKey(v.key),
});

export const createOrg = typed({
  method: "POST",
  path: "/v1/organizations",
  summary: "Create an organization with its owner and the owner's API key (platform key).",
  tag: "Organizations",
  auth: "platform",
  response: R.CreatedOrg,
  body: S.CreateOrg,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.admin.createOrg(
      {
        name: b.name,
        planId: b.plan_id,
        usageCreditsEnabled: b.usage_credits_enabled,
        fastModeEnabled: b.fast_mode_enabled,
        fastModeFallback: b.fast_mode_fallback,
        owner: b.owner,
      },
      ctx.idempotency(presentCreatedOrg),
    );
    return ctx.reply(out, presentCreatedOrg);
  },
});

export const listOrgs = typed({
  method: "GET",
  path: "/v1/organizations",
  summary: "List organizations (platform key).",
  tag: "Organizations",
  auth: "platform",
  response: R.list(R.Org),
  query: S.ListQuery,
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listOrgs(ctx.query.limit, ctx.query.offset)).map(presentOrg) }),
});

export const getOrg = typed({
  method: "GET",
  path: ORG,
  summary: "Get an organization.",
  tag: "Organizations",
  auth: "read",
  response: R.Org,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.getOrg(ctx.params.org_id), presentOrg),
});

export const patchOrg = typed({
  method: "PATCH",
  path: ORG,
  summary: "Update name, plan and fast-mode settings.",
  tag: "Organizations",
  auth: "manage",
  response: R.Org,
  body: S.PatchOrg,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.admin.updateOrg(ctx.params.org_id, {
      name: b.name,
      planId: b.plan_id,
      fastModeEnabled: b.fast_mode_enabled,
      fastModeFallback: b.fast_mode_fallback,
    });
    return ctx.reply(out, presentOrg);
  },
});

export const getUsageCredits = typed({
  method: "GET",
  path: `${ORG}/usage_credits`,
  summary: "The organization's usage credits: enabled, balance, monthly limit (null: none) and this month's spend.",
  tag: "Usage credits",
  auth: "read",
  response: R.CreditsStatus,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.creditsStatus(ctx.params.org_id), presentCreditsStatus),
});

export const putUsageCredits = typed({
  method: "PUT",
  path: `${ORG}/usage_credits`,
  summary: "Enable or disable usage credits for the organization (billing rights).",
  tag: "Usage credits",
  auth: "billing",
  response: R.CreditsStatus,
  body: S.UsageCreditsToggle,
  handler: async (ctx) => {
    const out = await ctx.services.admin.updateOrg(ctx.params.org_id, { usageCreditsEnabled: ctx.body.is_enabled });
    return ctx.reply(out, (o) => ({ is_enabled: o.usageCreditsEnabled, organization: presentOrg(o) }));
  },
});

export const orgRoutes = [createOrg, listOrgs, getOrg, patchOrg, getUsageCredits, putUsageCredits];
