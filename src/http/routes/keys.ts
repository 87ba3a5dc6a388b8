// An organization's API keys (secrets are shown once, at creation).

import { domainError } from "../../core/errors.js";
import { presentCreatedKey, presentKey } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { HttpError } from "../server.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

export const listKeys = typed({
  method: "GET",
  path: `${ORG}/api_keys`,
  summary: "List API keys (never their secrets).",
  tag: "API keys",
  auth: "manage",
  response: R.list(R.ApiKey),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.admin.listApiKeys(ctx.params.org_id)).map(presentKey) }),
});

export const createKey = typed({
  method: "POST",
  path: `${ORG}/api_keys`,
  summary: "Create an API key for a member; the secret is shown once.",
  tag: "API keys",
  auth: "manage",
  response: R.CreatedApiKey,
  body: S.CreateApiKey,
  success: 201,
  handler: async (ctx) => {
    const p = ctx.principal;
    const memberId = ctx.body.member_id ?? (p.kind === "member" ? p.memberId : undefined);
    if (!memberId) throw new HttpError(domainError("invalid_request", "member_id is required with a platform key.", { field: "member_id" }));
    const out = await ctx.services.admin.createApiKey(ctx.params.org_id, { memberId, name: ctx.body.name, surface: ctx.body.surface }, ctx.idempotency(presentCreatedKey));
    return ctx.reply(out, presentCreatedKey);
  },
});

export const revokeKey = typed({
  method: "POST",
  path: `${ORG}/api_keys/:key_id/revoke`,
  summary: "Revoke an API key at once.",
  tag: "API keys",
  auth: "manage",
  response: R.ApiKey,
  handler: async (ctx) => ctx.reply(await ctx.services.admin.revokeApiKey(ctx.params.org_id, ctx.params.key_id), presentKey),
});

export const keyRoutes = [listKeys, createKey, revokeKey];
