// Operator (platform) keys over the API, and the platform's own audit log (the changes to operator
// keys, which belong to no organization). Every route needs an operator key.

import { z } from "zod";
import { PLATFORM_AUDIT_SCOPE } from "../../core/audit.js";
import { OperatorKeys, type RotatedKey } from "../../app/operator-keys.js";
import type { CreatedKey } from "../../app/admin.js";
import { auditPage, AuditQuery } from "./audit.js";
import { presentCreatedKey, presentKey } from "../../presenters/core.js";
import type { AnyRoute } from "../server.js";
import { typed } from "./define.js";
import * as R from "../../schemas/responses.js";

const CreateOperatorKey = z.strictObject({
  name: z.string().min(1).max(200).default("Operator key").describe("A label, e.g. who or what uses the key."),
});

const presentRotated = (r: RotatedKey): R.RotatedApiKey => ({ ...presentCreatedKey(r.created), replaces: presentKey(r.revoked) });

export function operatorKeyRoutes(): AnyRoute[] {
  const keys = (admin: ConstructorParameters<typeof OperatorKeys>[0]) => new OperatorKeys(admin);
  return [
    typed({
      method: "GET",
      path: "/v1/operator_keys",
      summary: "List operator (platform) keys, revoked ones included (never their secrets).",
      tag: "Operator keys",
      auth: "platform",
      response: R.list(R.ApiKey),
      handler: async (ctx) => ctx.ok({ data: (await keys(ctx.services.admin).list()).map(presentKey) }),
    }),
    typed({
      method: "POST",
      path: "/v1/operator_keys",
      summary: "Create an operator (platform) key; the secret is shown once.",
      tag: "Operator keys",
      auth: "platform",
      response: R.CreatedApiKey,
      body: CreateOperatorKey,
      success: 201,
      handler: async (ctx) => ctx.reply(await keys(ctx.services.admin).create(ctx.body.name, ctx.idempotency<CreatedKey>(presentCreatedKey)), presentCreatedKey),
    }),
    typed({
      method: "POST",
      path: "/v1/operator_keys/:key_id/rotate",
      summary: "Replace an operator key in one step: a new key (secret shown once) and the old one revoked at the same moment.",
      tag: "Operator keys",
      auth: "platform",
      response: R.RotatedApiKey,
      success: 201,
      handler: async (ctx) => ctx.reply(await keys(ctx.services.admin).rotate(ctx.params.key_id, ctx.idempotency<RotatedKey>(presentRotated)), presentRotated),
    }),
    typed({
      method: "POST",
      path: "/v1/operator_keys/:key_id/revoke",
      summary: "Revoke an operator key (not the last active one: 409 conflict).",
      tag: "Operator keys",
      auth: "platform",
      response: R.ApiKey,
      handler: async (ctx) => ctx.reply(await keys(ctx.services.admin).revoke(ctx.params.key_id), presentKey),
    }),
    typed({
      method: "GET",
      path: "/v1/audit_log",
      summary: "The platform's own audit log, newest first: operator keys created and revoked (who, when, before and after; never a secret).",
      tag: "Operator keys",
      auth: "platform",
      response: R.page(R.AuditEntry),
      query: AuditQuery,
      handler: async (ctx) => {
        return ctx.ok(await auditPage(ctx.services, PLATFORM_AUDIT_SCOPE, ctx.query));
      },
    }),
  ];
}
