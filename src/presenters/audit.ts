// An audit-log entry → the API's JSON; its before/after snapshots in each target's own shape.

import { PLATFORM_AUDIT_SCOPE, type AuditEntry, type AuditTargetType } from "../core/audit.js";
import type { Grant } from "../core/grants.js";
import type { SpendLimit } from "../core/limits.js";
import type { AutoReloadSettings, CreditRequest, Payment, PaymentMethod } from "../core/money-in-model.js";
import type { Member, Organization } from "../core/model.js";
import type { PlanVersion } from "../core/plans.js";
import type { SdkCreditClaim, SdkCreditSettings } from "../core/sdk-credits.js";
import type { WebhookEndpoint } from "../core/webhooks.js";
import type { ApiKeyRow, Workspace } from "../ports/store.js";
import { presentGrant, presentKey, presentLimit, presentMember, presentOrg, presentPlanVersion, presentWorkspace } from "./core.js";
import { iso } from "./format.js";
import type * as R from "../schemas/responses.js";
import { presentAutoReload, presentCreditRequest, presentPayment, presentPaymentMethod } from "./money-in.js";
import { presentWebhookEndpoint } from "./webhooks.js";

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

function shape(type: AuditTargetType, snapshot: unknown): Record<string, unknown> | null {
  if (snapshot === null) return null;
  return (SHAPES[type] as (v: unknown) => Record<string, unknown>)(snapshot);
}

export const presentAuditEntry = (e: AuditEntry): R.AuditEntry => ({
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
