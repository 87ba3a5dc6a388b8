// Members and workspaces of an organization.

import { presentMember, presentWorkspace } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

export const listMembers = typed({
  method: "GET",
  path: `${ORG}/members`,
  summary: "List members.",
  tag: "Members",
  auth: "read",
  response: R.list(R.Member),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listMembers(ctx.params.org_id)).map(presentMember) }),
});

export const createMember = typed({
  method: "POST",
  path: `${ORG}/members`,
  summary: "Add a member (role, seat tier, workspace).",
  tag: "Members",
  auth: "manage",
  response: R.Member,
  body: S.CreateMember,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.admin.createMember(
      ctx.params.org_id,
      { email: b.email, name: b.name, role: b.role, seatTier: b.seat_tier, workspaceId: b.workspace_id, usageCreditsEnabled: b.usage_credits_enabled, fastModeEnabled: b.fast_mode_enabled },
      ctx.idempotency(presentMember),
    );
    return ctx.reply(out, presentMember);
  },
});

export const getMember = typed({
  method: "GET",
  path: `${ORG}/members/:member_id`,
  summary: "Get a member.",
  tag: "Members",
  auth: "read",
  response: R.Member,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.getMember(ctx.params.org_id, ctx.params.member_id), presentMember),
});

export const patchMember = typed({
  method: "PATCH",
  path: `${ORG}/members/:member_id`,
  summary: "Change a member's role, seat tier, workspace or usage-credits access.",
  tag: "Members",
  auth: "manage",
  response: R.Member,
  body: S.PatchMember,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.admin.updateMember(ctx.params.org_id, ctx.params.member_id, {
      name: b.name,
      role: b.role,
      seatTier: b.seat_tier,
      workspaceId: b.workspace_id,
      usageCreditsEnabled: b.usage_credits_enabled,
      fastModeEnabled: b.fast_mode_enabled,
    });
    return ctx.reply(out, presentMember);
  },
});

export const listWorkspaces = typed({
  method: "GET",
  path: `${ORG}/workspaces`,
  summary: "List workspaces.",
  tag: "Members",
  auth: "read",
  response: R.list(R.Workspace),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listWorkspaces(ctx.params.org_id)).map(presentWorkspace) }),
});

export const createWorkspace = typed({
  method: "POST",
  path: `${ORG}/workspaces`,
  summary: "Create a workspace.",
  tag: "Members",
  auth: "manage",
  response: R.Workspace,
  body: S.CreateWorkspace,
  success: 201,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.createWorkspace(ctx.params.org_id, ctx.body.name, ctx.idempotency(presentWorkspace)), presentWorkspace),
});

export const memberRoutes = [listMembers, createMember, getMember, patchMember, listWorkspaces, createWorkspace];
