// The audit log's model: who changed what, when, from what to what. An entry is written in the
// same transaction as the change it describes (so a committed change always has its entry and a
// rolled-back one never does) and is never edited or deleted (a database trigger refuses it).
// Snapshots are the domain objects as they were, with secrets and secret hashes removed first:
// an API key's hash, a webhook endpoint's signing secret and a card's provider token never reach it.

/** Every audited kind of change. Closed: the API filters on these and docs/security.md lists them. */
export const AUDIT_ACTIONS = [
  "organization.created",
  "organization.updated",
  "member.created",
  "member.updated",
  "member.password_set",
  "workspace.created",
  "api_key.created",
  "api_key.revoked",
  "operator_key.created",
  "operator_key.revoked",
  "spend_limit.set",
  "spend_limit.deleted",
  "grant.created",
  "grant.voided",
  "payment_method.created",
  "payment_method.removed",
  "payment.created",
  "payment.resolved",
  "credit_request.approved",
  "credit_request.declined",
  "auto_reload.updated",
  "sdk_credits.updated",
  "sdk_credits.claimed",
  "webhook_endpoint.created",
  "webhook_endpoint.deleted",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGETS = [
  "organization",
  "member",
  "workspace",
  "api_key",
  "spend_limit",
  "grant",
  "payment_method",
  "payment",
  "credit_request",
  "auto_reload",
  "sdk_credits",
  "sdk_credit_claim",
  "webhook_endpoint",
] as const;

export type AuditTargetType = (typeof AUDIT_TARGETS)[number];

/**
 * Who acted: an API key (its id, and the member it belongs to; a platform key has none), a
 * dashboard session, the CLI on the server's machine, or the system itself (sweeps, the payment
 * poller, auto-reload, provider webhooks).
 */
export interface AuditActor {
  readonly type: "api_key" | "platform_key" | "session" | "cli" | "system";
  readonly id: string | null;
  readonly memberId: string | null;
}

/**
 * The audit scope of changes to the platform itself (operator keys), which belong to no
 * organization: entries are stored under this id in place of an organization's (ids of
 * organizations all start with `org_`, so it can name none of them).
 */
export const PLATFORM_AUDIT_SCOPE = "platform";

export const SYSTEM_ACTOR: AuditActor = { type: "system", id: null, memberId: null };

/** What a use case records; the writer stamps id, time, actor and request id. */
export interface AuditDraft {
  readonly orgId: string;
  readonly action: AuditAction;
  readonly targetType: AuditTargetType;
  readonly targetId: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditEntry extends AuditDraft {
  readonly id: string;
  readonly at: number;
  readonly actor: AuditActor;
  readonly requestId: string | null;
}

/** Fields that never enter the audit log, whatever object they appear in. */
const SECRET_FIELDS = new Set(["hash", "secret", "token"]);

/** A snapshot safe to store: a deep copy without secret fields (null stays null). */
export function auditSnapshot(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(auditSnapshot);
  if (typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !SECRET_FIELDS.has(k)).map(([k, v]) => [k, auditSnapshot(v)]));
}

export function isAuditAction(v: string): v is AuditAction {
  return AUDIT_ACTIONS.some((a) => a === v);
}
