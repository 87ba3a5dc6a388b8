// The audit log over the API: an organization's entries, newest first, filtered by action or
// target. Owners, admins and billing members read it (the "audit" permission). Snapshots are shown
// in the same wire shapes as the objects' own endpoints (money as strings of micro-dollars).

import { z } from "zod";
import { AUDIT_ACTIONS, AUDIT_TARGETS, PLATFORM_AUDIT_SCOPE, type AuditEntry, type AuditTargetType } from "../core/audit.js";
import type { Grant } from "../core/grants.js";
import type { SpendLimit } from "../core/limits.js";
import type { AutoReloadSettings, CreditRequest, Payment, PaymentMethod } from "../core/money-in-model.js";
import type { Member, Organization } from "../core/model.js";
import type { PlanVersion } from "../core/plans.js";
import type { SdkCreditClaim, SdkCreditSettings } from "../core/sdk-credits.js";
import type { WebhookEndpoint } from "../core/webhooks.js";
import type { ApiKeyRow, Workspace } from "../ports/store.js";
import { presentAutoReload, presentCreditRequest, presentPayment, presentPaymentMethod } from "./money-routes.js";
import { cursor, parseCursor } from "./paging.js";
import { presentGrant, presentKey, presentLimit, presentMember, presentOrg, presentPlanVersion, presentWorkspace } from "./presenters.js";
import { Id } from "./schemas.js";
import { route, type AnyRoute, type Services } from "./server.js";
import { presentWebhookEndpoint } from "./webhook-routes.js";

const ORG = "/v1/organizations/:org_id";

export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().max(120).optional().describe("The `next_cursor` of the previous page."),
  action: z.enum(AUDIT_ACTIONS).optional().describe("Only entries of this action."),
  target_type: z.enum(AUDIT_TARGETS).optional().describe("Only entries about this kind of object."),
  target_id: Id.optional().describe("Only entries about this object."),
});

/** One page of an audit log (an organization's, or the platform's), newest first, with the next cursor. */
export async function auditPage(services: Services, orgId: string, q: z.infer<typeof AuditQuery>): Promise<{ data: unknown[]; next_cursor: string | null }> {
  const before = parseCursor(q.before);
  const rows = await services.admin.read((tx) =>
    tx.audit.list({
      orgId,
      limit: q.limit,
      ...(before ? { before } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.target_type ? { targetType: q.target_type } : {}),
      ...(q.target_id ? { targetId: q.target_id } : {}),
    }),
  );
  const last = rows[rows.length - 1];
  return { data: rows.map(presentAuditEntry), next_cursor: rows.length === q.limit && last ? cursor(last.at, last.id) : null };
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

const SHAPES: Readonly<Record<AuditTargetType, (v: never) => unknown>> = {
  organization: (v: Organization) => presentOrg(v),
  member: (v: Member) => presentMember(v),
  workspace: (v: Workspace) => presentWorkspace(v),
  api_key: (v: ApiKeyRow) => presentKey(v),
  spend_limit: (v: SpendLimit) => presentLimit(v),
  // A void by an operator keeps its reason beside the grant.
  grant: (v: Grant & { reason?: string }) => ({ ...presentGrant(v), ...(typeof v.reason === "string" ? { reason: v.reason } : {}) }),
  payment_method: (v: PaymentMethod) => presentPaymentMethod(v),
  payment: (v: Payment) => presentPayment(v),
  credit_request: (v: CreditRequest) => presentCreditRequest(v),
  auto_reload: (v: AutoReloadSettings) => presentAutoReload(v),
  sdk_credits: (v: SdkCreditSettings) => ({ type: "sdk_credit_settings", pooled: v.pooled, pool_cap: String(v.poolCap), updated_at: iso(v.updatedAt) }),
  sdk_credit_claim: (v: SdkCreditClaim) => ({ type: "sdk_credit_claim", member_id: v.memberId, claimed_at: iso(v.claimedAt), claimed_by: v.claimedBy }),
  webhook_endpoint: (v: WebhookEndpoint) => presentWebhookEndpoint(v),
  plan: (v: PlanVersion) => presentPlanVersion(v),
};

function shape(type: AuditTargetType, snapshot: unknown): unknown {
  if (snapshot === null) return null;
  return (SHAPES[type] as (v: unknown) => unknown)(snapshot);
}

export const presentAuditEntry = (e: AuditEntry) => ({
  id: e.id,
  type: "audit_entry",
  org_id: e.orgId === PLATFORM_AUDIT_SCOPE ? null : e.orgId, // the platform's own entries belong to no organization
  at: iso(e.at),
  actor: { type: e.actor.type, id: e.actor.id, member_id: e.actor.memberId },
  action: e.action,
  target: { type: e.targetType, id: e.targetId },
  before: shape(e.targetType, e.before),
  after: shape(e.targetType, e.after),
  request_id: e.requestId,
});

export function auditRoutes(): AnyRoute[] {
  return [
    route<undefined, z.infer<typeof AuditQuery>>({
      method: "GET",
      path: `${ORG}/audit_log`,
      summary:
        "The organization's audit log, newest first: every change to money, limits, reload settings, members and roles, org settings, API keys and webhook endpoints — who (key, member), when, the action, and the object before and after (owner, admin or billing).",
      tag: "Audit",
      auth: "audit",
      query: AuditQuery,
      handler: async (ctx) => {
        return { status: 200, body: await auditPage(ctx.services, ctx.params["org_id"] ?? "", ctx.query) };
      },
    }),
  ];
}
