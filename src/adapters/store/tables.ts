// Every SQL table the store maps to a domain value, declared once (table.ts): its columns, in the
// schema's order, and each column's kind. The SQL modules take their column lists, rows and row
// mappers from here (and so import no mapper from each other).

import type { AuditAction, AuditActor, AuditEntry, AuditTargetType } from "../../core/audit.js";
import type { Draw, Grant, GrantKind, GrantStatus } from "../../core/grants.js";
import type { LimitPeriod, LimitScope, SpendLimit } from "../../core/limits.js";
import type { Hold, HoldStatus, Member, Organization, Role, SpendDay, UsageRecord, WindowRef, WindowUsage } from "../../core/model.js";
import type {
  AutoReloadSettings,
  CreditRequest,
  CreditRequestStatus,
  EventType,
  OutboxEvent,
  Payment,
  PaymentMethod,
  PaymentPurpose,
  PaymentStatus,
  ReloadAttempt,
  ReloadAttemptOutcome,
  ReloadMode,
} from "../../core/money-in-model.js";
import type { SeatTier, Surface } from "../../core/plans.js";
import type { Speed } from "../../core/rating.js";
import type { SdkCreditClaim, SdkCreditCycle } from "../../core/sdk-credits.js";
import type { DeliveryStatus, WebhookDelivery, WebhookEndpoint } from "../../core/webhooks.js";
import type { BatchStatus, MessageBatchRequestRow, MessageBatchRow } from "../../ports/batch-store.js";
import type { SessionRow } from "../../ports/dashboard-store.js";
import type { LegacyImportRecord } from "../../ports/legacy-import-store.js";
import type { ApiKeyRow, IdempotencyRecord, Workspace } from "../../ports/store.js";
import type { SqlValue } from "./driver.js";
import { constant, flag, flagOr, group, int, intOr, intOrNull, json, jsonOrNull, named, table, text, textOrNull, word, type Field } from "./table.js";

/** Who holds a hold: only the gateway's are marked (older rows have no owner: the API's). */
const holdOwner: Field<Hold["owner"]> = {
  columns: () => ["owner"],
  write: (v) => [v],
  read: (r) => (r["owner"] === "gateway" ? "gateway" : "api"),
};

// ------------------------------------------------------------ the books (migration 1)

export const ORGANIZATIONS = table<Organization>("organizations", {
  id: text,
  name: text,
  planId: text,
  usageCreditsEnabled: flag,
  fastModeEnabled: flag,
  fastModeFallback: flag,
  weeklyAnchor: int,
  debt: int,
  createdAt: int,
});

export const MEMBERS = table<Member>("members", {
  id: text,
  orgId: text,
  email: text,
  name: text,
  role: word<Role>(),
  seatTier: word<SeatTier>(),
  workspaceId: textOrNull,
  usageCreditsEnabled: flag,
  fastModeEnabled: flagOr(true),
  createdAt: int,
});

export const GRANTS = table<Grant>("grants", {
  id: text,
  orgId: text,
  kind: word<GrantKind>(),
  amount: int,
  remaining: int,
  priority: int,
  expiresAt: intOrNull,
  surfaces: jsonOrNull<Surface[]>(),
  memberId: textOrNull,
  status: word<GrantStatus>(),
  description: text,
  createdAt: int,
});

export const HOLDS = table<Hold>("holds", {
  id: text,
  orgId: text,
  memberId: text,
  workspaceId: textOrNull,
  surface: word<Surface>(),
  model: text,
  speed: word<Speed>(),
  payer: word<Hold["payer"]>(),
  amount: int,
  draws: json<Draw[]>(),
  limitedAmount: int,
  windows: json<WindowRef[]>(),
  day: int,
  createdAt: int,
  expiresAt: int,
  status: word<HoldStatus>(),
  settledAmount: int,
  resolvedAt: intOrNull,
  metadata: json<Record<string, string>>(),
  owner: holdOwner,
});

/** Spend limits; the rows also carry created_at and updated_at, which the domain does not read. */
export const SPEND_LIMITS = table<SpendLimit>("spend_limits", {
  id: text,
  orgId: text,
  scope: word<LimitScope>(),
  scopeId: text,
  period: word<LimitPeriod>(),
  amount: intOrNull,
  stopUsage: flag,
});

export const USAGE_RECORDS = table<UsageRecord>("usage_records", {
  id: text,
  orgId: text,
  memberId: text,
  workspaceId: textOrNull,
  holdId: text,
  surface: word<Surface>(),
  model: text,
  speed: word<Speed>(),
  payer: word<UsageRecord["payer"]>(),
  cost: int,
  creditCost: int,
  inputTokens: intOr(0),
  outputTokens: intOr(0),
  at: int,
});

export const WORKSPACES = table<Workspace>("workspaces", {
  id: text,
  orgId: text,
  name: text,
  createdAt: int,
});

export const WINDOW_USAGE = table<WindowUsage>("window_usage", {
  memberId: text,
  key: named("window_key", text),
  periodStart: int,
  used: int,
  held: int,
});

export const SPEND_DAYS = table<SpendDay>("spend_days", {
  orgId: text,
  scopeKey: text,
  day: int,
  spent: int,
  held: int,
});

export const IDEMPOTENCY_KEYS = table<IdempotencyRecord>("idempotency_keys", {
  scope: text,
  key: text,
  requestHash: text,
  status: int,
  response: text,
  createdAt: int,
});

export const API_KEYS = table<ApiKeyRow>("api_keys", {
  id: text,
  orgId: textOrNull,
  memberId: textOrNull,
  name: text,
  surface: word<Surface>(),
  hash: text,
  prefix: text,
  createdAt: int,
  revokedAt: intOrNull,
});

// ------------------------------------------------------------ money-in (migration 2)

export const PAYMENTS = table<Payment>("payments", {
  id: text,
  orgId: text,
  purpose: word<PaymentPurpose>(),
  status: word<PaymentStatus>(),
  amount: int,
  creditAmount: int,
  currency: constant("USD"),
  paymentMethodId: text,
  bundleId: textOrNull,
  idempotencyKey: text,
  requestHash: textOrNull,
  providerRef: textOrNull,
  failureCode: textOrNull,
  grantId: textOrNull,
  createdBy: textOrNull,
  creditRequestId: textOrNull,
  offSession: flag,
  attempts: int,
  nextCheckAt: int,
  createdAt: int,
  updatedAt: int,
  resolvedAt: intOrNull,
});

export const PAYMENT_METHODS = table<PaymentMethod>("payment_methods", {
  id: text,
  orgId: text,
  provider: text,
  token: text,
  brand: text,
  last4: text,
  createdAt: int,
  detachedAt: intOrNull,
});

export const CREDIT_REQUESTS = table<CreditRequest>("credit_requests", {
  id: text,
  orgId: text,
  memberId: text,
  amount: int,
  note: text,
  status: word<CreditRequestStatus>(),
  decidedBy: textOrNull,
  decidedAt: intOrNull,
  decisionNote: text,
  paymentId: textOrNull,
  createdAt: int,
});

export const AUTO_RELOAD = table<AutoReloadSettings>("auto_reload_settings", {
  orgId: text,
  enabled: flag,
  threshold: int,
  mode: word<ReloadMode>(),
  amount: intOrNull,
  targetBalance: intOrNull,
  paymentMethodId: textOrNull,
  monthlyCap: intOrNull,
  consecutiveFailures: int,
  suspended: flag,
  lastFailureAt: intOrNull,
  lastSkipReason: textOrNull,
  lowBalanceNotified: flag,
  updatedAt: int,
});

export const RELOAD_ATTEMPTS = table<ReloadAttempt>("auto_reload_attempts", {
  id: text,
  orgId: text,
  at: int,
  outcome: word<ReloadAttemptOutcome>(),
  reason: textOrNull,
  amount: int,
  balance: int,
  paymentId: textOrNull,
  failureCode: textOrNull,
  resolvedAt: intOrNull,
});

/** The outbox (written by every feature, read by the webhook dispatcher). */
export const EVENTS = table<OutboxEvent>("events", {
  id: text,
  orgId: text,
  type: word<EventType>(),
  data: json<Record<string, unknown>>(),
  createdAt: int,
});

// ------------------------------------------------------------ webhooks

export const WEBHOOK_ENDPOINTS = table<WebhookEndpoint>("webhook_endpoints", {
  id: text,
  orgId: text,
  url: text,
  eventTypes: jsonOrNull<string[]>(),
  secret: text,
  description: text,
  createdAt: int,
  deletedAt: intOrNull,
});

export const WEBHOOK_DELIVERIES = table<WebhookDelivery>("webhook_deliveries", {
  id: text,
  orgId: text,
  endpointId: text,
  eventId: text,
  eventType: word<EventType>(),
  status: word<DeliveryStatus>(),
  attempts: int,
  nextAttemptAt: intOrNull,
  lastStatus: intOrNull,
  lastError: textOrNull,
  lastAttemptAt: intOrNull,
  deliveredAt: intOrNull,
  replayOf: textOrNull,
  createdAt: int,
});

// ------------------------------------------------------------ the rest

export const MESSAGE_BATCHES = table<MessageBatchRow>("message_batches", {
  id: text,
  orgId: text,
  memberId: text,
  upstreamId: textOrNull,
  status: word<BatchStatus>(),
  requestCount: int,
  createdAt: int,
  expiresAt: int,
  endedAt: intOrNull,
  cancelInitiatedAt: intOrNull,
  counts: group("", { succeeded: int, errored: int, canceled: int, expired: int }),
});

export const MESSAGE_BATCH_REQUESTS = table<MessageBatchRequestRow>("message_batch_requests", {
  batchId: text,
  index: named("idx", int),
  customId: text,
  holdId: text,
  estimate: int,
  dataResidency: flag,
});

export const SDK_CREDIT_CLAIMS = table<SdkCreditClaim>("sdk_credit_claims", {
  memberId: text,
  orgId: text,
  claimedAt: int,
  claimedBy: text,
});

export const SDK_CREDIT_CYCLES = table<SdkCreditCycle>("sdk_credit_cycles", {
  memberId: text,
  cycleStart: int,
  cycleEnd: int,
  orgId: text,
  pooled: flag,
  amount: int,
  grantId: textOrNull,
  createdAt: int,
});

export const AUDIT_LOG = table<AuditEntry>("audit_log", {
  id: text,
  orgId: text,
  at: int,
  actor: group("actor_", { type: word<AuditActor["type"]>(), id: textOrNull, memberId: textOrNull }),
  action: word<AuditAction>(),
  targetType: word<AuditTargetType>(),
  targetId: text,
  before: named("before_json", jsonOrNull<unknown>()),
  after: named("after_json", jsonOrNull<unknown>()),
  requestId: textOrNull,
});

export const DASHBOARD_SESSIONS = table<SessionRow>("dashboard_sessions", {
  id: text,
  tokenHash: text,
  memberId: text,
  csrfToken: text,
  createdAt: int,
  expiresAt: int,
  revokedAt: intOrNull,
});

export const LEGACY_IMPORTS = table<LegacyImportRecord>("legacy_imports", {
  legacyId: text,
  orgId: text,
  digest: text,
  importedAt: int,
});

/** A spend limit's row: its declared columns, then created_at and updated_at (both `at` on write). */
export const LIMIT_COLS = [...SPEND_LIMITS.cols, "created_at", "updated_at"];
export const limitRow = (l: SpendLimit, at: number): SqlValue[] => [...SPEND_LIMITS.row(l), at, at];
