// Response schemas: the JSON shapes the API answers with. The presenters (src/presenters) are typed
// to return exactly these, the OpenAPI document's responses are generated from them
// (src/http/openapi.ts), and the dashboard imports their types (web/src/wire.ts), so a shape is
// written once. This file imports only zod: web/tsconfig.json includes it for the types.
// Money is a string of integer micro-dollars; times are ISO 8601 strings (null: not set).
// Over 400 lines: declarations only (one zod object per response shape, no logic), kept in one file that web/tsconfig.json includes.

import { z } from "zod";

const Money = z.string().describe("Integer micro-dollars (1 USD = \"1000000\").");
const Time = z.string().describe("ISO 8601.");
const MoneyFormat = { currency: z.literal("USD"), decimal_places: z.literal(6) };

export const Org = z.object({
  id: z.string(),
  type: z.literal("organization"),
  name: z.string(),
  plan_id: z.string(),
  usage_credits_enabled: z.boolean(),
  fast_mode_enabled: z.boolean(),
  fast_mode_fallback: z.boolean(),
  weekly_reset_anchor: Time.nullable(),
  debt: Money,
  created_at: Time.nullable(),
});

export const Member = z.object({
  id: z.string(),
  type: z.literal("member"),
  org_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["owner", "admin", "billing", "member"]),
  seat_tier: z.enum(["standard", "premium"]),
  workspace_id: z.string().nullable(),
  usage_credits_enabled: z.boolean(),
  fast_mode_enabled: z.boolean(),
  created_at: Time.nullable(),
});

export const Workspace = z.object({ id: z.string(), type: z.literal("workspace"), org_id: z.string(), name: z.string(), created_at: Time.nullable() });

export const ApiKey = z.object({
  id: z.string(),
  type: z.literal("api_key"),
  org_id: z.string().nullable(),
  member_id: z.string().nullable(),
  name: z.string(),
  surface: z.string(),
  prefix: z.string(),
  created_at: Time.nullable(),
  revoked_at: Time.nullable(),
});

/** Only at creation: the secret, shown once. */
export const CreatedApiKey = ApiKey.extend({ secret: z.string() });

export const CreatedOrg = Org.extend({ owner: Member, api_key: CreatedApiKey });

export const Grant = z.object({
  id: z.string(),
  type: z.literal("grant"),
  org_id: z.string(),
  kind: z.enum(["purchase", "promotional", "monthly", "migrated", "adjustment"]),
  amount: Money,
  remaining: Money,
  priority: z.number(),
  expires_at: Time.nullable(),
  surfaces: z.array(z.string()).readonly().nullable(),
  member_id: z.string().nullable(),
  status: z.string(),
  description: z.string(),
  created_at: Time.nullable(),
  ...MoneyFormat,
});

export const Limit = z.object({
  id: z.string(),
  type: z.literal("spend_limit"),
  scope: z.enum(["organization", "workspace", "member"]),
  scope_id: z.string(),
  period: z.enum(["daily", "weekly", "monthly"]),
  amount: Money.nullable(),
  /** false: an alert-only budget (counts and alerts, never refuses). */
  stop_usage: z.boolean(),
  ...MoneyFormat,
});

export const Transaction = z.object({
  id: z.string(),
  type: z.literal("transaction"),
  kind: z.string(),
  ref: z.string(),
  created_at: Time.nullable(),
  entries: z.array(z.object({ account: z.string(), amount: Money })),
  ...MoneyFormat,
});

export const Payment = z.object({
  id: z.string(),
  type: z.literal("payment"),
  purpose: z.enum(["purchase", "credit_request", "auto_reload"]),
  status: z.enum(["pending", "succeeded", "failed"]),
  amount: Money,
  credit_amount: Money,
  bundle_id: z.string().nullable(),
  payment_method_id: z.string(),
  grant_id: z.string().nullable(),
  failure_code: z.string().nullable(),
  credit_request_id: z.string().nullable(),
  created_by: z.string().nullable(),
  provider_ref: z.string().nullable(),
  attempts: z.number(),
  created_at: Time.nullable(),
  resolved_at: Time.nullable(),
  ...MoneyFormat,
});

export const PaymentMethod = z.object({
  id: z.string(),
  type: z.literal("payment_method"),
  provider: z.string(),
  brand: z.string(),
  last4: z.string(),
  created_at: Time.nullable(),
  detached_at: Time.nullable(),
});

export const CreditRequest = z.object({
  id: z.string(),
  type: z.literal("credit_request"),
  member_id: z.string(),
  amount: Money,
  note: z.string(),
  status: z.string(),
  decided_by: z.string().nullable(),
  decided_at: Time.nullable(),
  payment_id: z.string().nullable(),
  created_at: Time.nullable(),
  ...MoneyFormat,
});

export const WebhookEndpoint = z.object({
  id: z.string(),
  type: z.literal("webhook_endpoint"),
  url: z.string(),
  event_types: z.array(z.string()).readonly().nullable(),
  description: z.string(),
  created_at: Time.nullable(),
  deleted_at: Time.nullable(),
});

/** Only at creation: the signing secret (whsec_…). */
export const CreatedWebhookEndpoint = WebhookEndpoint.extend({ secret: z.string() });

export const Delivery = z.object({
  id: z.string(),
  type: z.literal("webhook_delivery"),
  endpoint_id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: z.string(),
  attempts: z.number(),
  next_attempt_at: Time.nullable(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  last_attempt_at: Time.nullable(),
  delivered_at: Time.nullable(),
  replay_of: z.string().nullable(),
  created_at: Time.nullable(),
});

export const Hold = z.object({
  id: z.string(),
  type: z.literal("hold"),
  status: z.string(),
  payer: z.string(),
  amount: Money,
  settled_amount: Money,
  member_id: z.string(),
  workspace_id: z.string().nullable(),
  surface: z.string(),
  model: z.string(),
  speed: z.string(),
  windows: z.array(z.object({ window: z.string(), period_start: Time.nullable() })),
  draws: z.array(z.object({ grant_id: z.string(), amount: Money })),
  created_at: Time.nullable(),
  expires_at: Time.nullable(),
  resolved_at: Time.nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  ...MoneyFormat,
});

/** POST …/authorize and …/release: the hold and the balance after it. */
export const Authorized = z.object({ hold: Hold, balance: Money, ...MoneyFormat });

/** POST …/settle: what was charged, released, left as debt or (beyond the hold) not billed. */
export const Settled = z.object({ hold: Hold, charged: Money, released: Money, debt: Money, unbilled: Money, balance: Money, ...MoneyFormat });
export const UsageEventSettled = Settled.extend({ event_id: z.string() });

/** A plan window's state in the usage summary. */
export const Window = z.object({
  utilization: z.number(),
  resets_at: Time.nullable(),
  used: Money,
  held: Money,
  quota: Money,
  status: z.enum(["idle", "allowed", "exhausted"]),
});

/** A spending limit with what it has counted, in the usage summary. */
export const LimitStatus = Limit.extend({ spent: Money, held: Money, headroom: Money, utilization: z.number(), resets_at: Time.nullable() });

/** GET …/usage_summary: one key per plan window (the default plans' are named), plus the usage-credits block. */
const SummaryFields = z.object({
  member_id: z.string(),
  plan_id: z.string(),
  five_hour: Window.optional(),
  seven_day: Window.optional(),
  seven_day_opus: Window.optional(),
  usage_credits: z.object({
    is_enabled: z.boolean(),
    monthly_limit: Money.nullable(),
    used_credits: Money,
    balance: Money,
    ...MoneyFormat,
    disabled_reason: z.enum(["org_level_disabled", "member_level_disabled", "out_of_credits"]).nullable(),
    spend_limit_reached: z.boolean(),
    limits: z.array(LimitStatus),
  }),
  fast_mode: z.object({ is_enabled: z.boolean(), fallback_to_standard: z.boolean() }),
});
// Other plans' windows are further keys of the Window shape; the catch-all is unknown because the
// rename's old names (extra_usage beside usage_credits) are sent as further keys too.
export const Summary = SummaryFields.catchall(z.unknown());

/** GET …/usage_credits. */
export const CreditsStatus = z.object({
  type: z.literal("usage_credits"),
  org_id: z.string(),
  is_enabled: z.boolean(),
  balance: Money,
  monthly_limit: Money.nullable(),
  used_this_month: Money,
  ...MoneyFormat,
});

export const UsageRecord = z.object({
  id: z.string(),
  hold_id: z.string().nullable(),
  member_id: z.string(),
  workspace_id: z.string().nullable(),
  surface: z.string(),
  model: z.string(),
  speed: z.string(),
  payer: z.string(),
  cost: Money,
  credit_cost: Money,
  paid_by: z.object({ plan_window: Money, sdk_credits: Money, usage_credits: Money }),
  created_at: Time.nullable(),
});

/** GET …/usage: settled usage records and their totals. */
export const UsageRecords = z.object({ data: z.array(UsageRecord), total_cost: Money, total_credit_cost: Money, ...MoneyFormat });

export const AutoReload = z.object({
  type: z.literal("auto_reload"),
  enabled: z.boolean(),
  threshold: Money.nullable(),
  mode: z.enum(["amount", "target"]).nullable(),
  amount: Money.nullable(),
  target_balance: Money.nullable(),
  payment_method_id: z.string().nullable(),
  monthly_cap: Money.nullable(),
  status: z.enum(["active", "disabled", "suspended"]),
  suspended_reason: z.literal("suspended_after_failures").nullable(),
  consecutive_failures: z.number(),
  last_failure_at: Time.nullable(),
  updated_at: Time.nullable(),
  ...MoneyFormat,
});

export const Attempt = z.object({
  id: z.string(),
  type: z.literal("auto_reload_attempt"),
  outcome: z.string(),
  reason: z.string().nullable(),
  amount: Money,
  balance: Money,
  payment_id: z.string().nullable(),
  failure_code: z.string().nullable(),
  created_at: Time.nullable(),
  resolved_at: Time.nullable(),
  ...MoneyFormat,
});

export const Bundle = z.object({ id: z.string(), credit_amount: Money, price: Money, discount_percent: z.number(), ...MoneyFormat });

/** GET /v1/bundles: the bundles and the purchase rules. */
export const Bundles = z.object({
  data: z.array(Bundle),
  minimum_amount: Money,
  maximum_amount: Money,
  confirm_above: Money,
  daily_purchase_cap: Money,
  credits_expire_after_days: z.number(),
  ...MoneyFormat,
});

export const Receipt = z.object({
  type: z.literal("receipt"),
  number: z.string(),
  sequence: z.number(),
  payment_id: z.string(),
  issued_at: Time,
  purpose: z.string(),
  description: z.string(),
  amount: Money,
  credit_amount: Money,
  discount: Money,
  payment_method: z.string(),
  provider_ref: z.string().nullable(),
  grant_id: z.string().nullable(),
  customer: z.object({ org_id: z.string(), name: z.string() }),
  seller: z.object({ name: z.string(), address: z.array(z.string()), email: z.string(), tax_id: z.string() }),
  ...MoneyFormat,
});

const Snapshot = z.record(z.string(), z.unknown()).nullable().describe("The target as it was (before) or became (after), in its own resource's shape.");

export const AuditEntry = z.object({
  id: z.string(),
  type: z.literal("audit_entry"),
  org_id: z.string().nullable(),
  at: Time.nullable(),
  actor: z.object({ type: z.enum(["api_key", "platform_key", "session", "cli", "system"]), id: z.string().nullable(), member_id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }),
  before: Snapshot,
  after: Snapshot,
  request_id: z.string().nullable(),
});

const Balances = z.object({ grants: Money, held: Money, debt: Money });
const Tally = { requests: z.number(), amount: Money };

export const Statement = z.object({
  type: z.literal("statement"),
  org_id: z.string(),
  month: z.string(),
  period_start: Time,
  period_end: Time,
  as_of: Time,
  complete: z.boolean(),
  opening_balance: Money,
  opening: Balances,
  lines: z.array(z.object({ category: z.string(), amount: Money, transactions: z.number() })),
  grants_by_kind: z.record(z.string(), Money),
  usage: z.object({
    total: Money,
    rows: z.array(z.object({ member_id: z.string(), model: z.string(), surface: z.string(), ...Tally, usage_credits: Money, included_credits: Money })),
    by_model: z.array(z.object({ model: z.string(), ...Tally })),
    by_surface: z.array(z.object({ surface: z.string(), ...Tally })),
    by_member: z.array(z.object({ member_id: z.string(), ...Tally })),
    plan_value: Money,
  }),
  debt_repaid: Money,
  closing_balance: Money,
  closing: Balances,
  ledger_balance: Money,
  reconciled: z.boolean(),
  ...MoneyFormat,
});

const Cycle = z.object({ month: z.string(), starts_at: Time.nullable(), ends_at: Time.nullable() });

/** GET …/members/:member_id/sdk_credits. */
export const SdkCredit = z.object({
  type: z.literal("sdk_credit"),
  org_id: z.string(),
  member_id: z.string(),
  claimed: z.boolean(),
  claimed_at: Time.nullable(),
  claimed_by: z.string().nullable(),
  seat_amount: Money,
  surfaces: z.array(z.string()).readonly(),
  pooled: z.boolean(),
  cycle: Cycle,
  current_cycle: z.object({ pooled: z.boolean(), amount: Money, grant_id: z.string().nullable(), grant: Grant.nullable() }).nullable(),
  ...MoneyFormat,
});

export const SdkCreditClaim = SdkCredit.extend({ already_claimed: z.boolean() });

/** GET …/sdk_credits: the organization's settings, its members' claims and the pool. */
export const SdkCreditSettings = z.object({
  type: z.literal("sdk_credit_settings"),
  org_id: z.string(),
  pooled: z.boolean(),
  pool_cap: Money,
  cycle: Cycle,
  members: z.array(
    z.object({
      member_id: z.string(),
      claimed_at: Time.nullable(),
      seat_amount: Money,
      current_cycle: z.object({ pooled: z.boolean(), amount: Money, grant_id: z.string().nullable() }).nullable(),
    }),
  ),
  pool: z.object({ granted: Money, remaining: Money }),
  grants: z.array(Grant),
  ...MoneyFormat,
});

/** A cell of the usage breakdown: one UTC day, model, surface, member and speed. */
export const UsageCell = z.object({
  day: z.string().describe("YYYY-MM-DD (UTC)."),
  model: z.string(),
  surface: z.string(),
  member_id: z.string(),
  speed: z.string(),
  requests: z.number(),
  cost: Money,
  credit_cost: Money,
  input_tokens: z.number(),
  output_tokens: z.number(),
});

/** GET …/usage/breakdown. */
export const Breakdown = z.object({
  type: z.literal("usage_breakdown"),
  from: Time,
  to: Time,
  data: z.array(UsageCell),
  totals: z.object({ requests: z.number(), cost: Money, credit_cost: Money, input_tokens: z.number(), output_tokens: z.number() }),
  ...MoneyFormat,
});

/** An organization in the operator console's customer list. */
export const Customer = Org.extend({ type: z.literal("customer"), balance: Money, month_spend: Money });
export const Customers = z.object({ data: z.array(Customer), server_time: Time, ...MoneyFormat });

const PreviewLine = z.object({ requests: z.number(), recorded: Money, current: Money, proposed: Money, difference: Money, unrated: z.number() });
export const PricePreview = z.object({
  type: z.literal("price_book_preview"),
  month: z.string(),
  rows: z.array(PreviewLine.extend({ model: z.string() })),
  totals: PreviewLine,
  ...MoneyFormat,
});

/** POST /v1/operator_keys/:key_id/rotate: the new key (secret shown once) and the one it replaces. */
export const RotatedApiKey = CreatedApiKey.extend({ replaces: ApiKey });

/** A list answer: `data`, and on paged lists the cursor of the next page (null: the last page). */
export const list = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });
export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });

/** A signed-in dashboard session (GET /v1/dashboard/session when the cookie is live). */
export const Session = z.object({
  type: z.literal("dashboard_session"),
  signed_in: z.literal(true),
  member: Member,
  organization: Org,
  permissions: z.array(z.string()),
  csrf_token: z.string(),
  expires_at: Time,
  server_time: Time,
});
/** GET /v1/dashboard/session: the session, or `signed_in: false` and nothing else. */
export const SessionAnswer = Session.partial().extend({ type: z.literal("dashboard_session"), signed_in: z.boolean() });

/** A plan window as the catalog states it (quota per window; `families` absent: every model). */
export const PlanWindow = z.object({
  key: z.string(),
  kind: z.enum(["session", "weekly"]),
  duration_seconds: z.number(),
  quota: Money,
  families: z.array(z.string()).readonly().optional(),
});
export const PlanSeat = z.object({ windows: z.array(PlanWindow).readonly(), monthly_sdk_credit: Money });

/** GET /v1/plans, PUT /v1/plans/:plan_id: a plan's definition (the version in force). */
export const Plan = z.object({
  id: z.string(),
  type: z.literal("plan"),
  name: z.string(),
  seats: z.object({ standard: PlanSeat, premium: PlanSeat.optional() }),
  credit_only_surfaces: z.array(z.string()).readonly(),
  ...MoneyFormat,
});

/** POST /v1/plans/:plan_id/versions: the version created. */
export const PlanVersion = z.object({
  type: z.literal("plan_version"),
  plan_id: z.string(),
  version: z.number(),
  effective_at: Time,
  created_at: Time,
  created_by: z.string().describe("The API key that created it, or \"system\"."),
  definition: Plan,
});
/** A version as listed, with its status at the server's time. */
export const ListedPlanVersion = PlanVersion.extend({ status: z.enum(["current", "scheduled", "past"]) });
/** GET /v1/plans/:plan_id/versions: oldest first. */
export const PlanVersions = z.object({ data: z.array(ListedPlanVersion), server_time: Time });

/** An event of the organization's outbox (what webhooks deliver). */
export const Event = z.object({ id: z.string(), type: z.string(), org_id: z.string(), data: z.record(z.string(), z.unknown()), created_at: Time.nullable() });

/** Spend by payer in the pricing lab; `difference` may be negative. */
export const LabSpend = z.object({ plan_window: Money, sdk_credits: Money, usage_credits: Money, total: Money, revenue: Money, breakage: Money });
const Refusals = z.record(z.string(), z.number()).describe("Refused requests by error code.");
const ActualReplayed = { actual: LabSpend, replayed: LabSpend };

/** An organization in a lab replay, actual beside replayed. */
export const LabOrg = z.object({
  org_id: z.string(),
  name: z.string(),
  ...ActualReplayed,
  difference: LabSpend,
  refusals: z.object({ actual: Refusals, replayed: Refusals }),
  windows_exhausted: z.array(z.object({ window: z.string(), at: Time })),
  closing_balance: z.object({ actual: Money, replayed: Money }),
  admitted_without_usage: z.number().describe("Requests the replay admitted that recorded no usage (held and released at once)."),
  dropped_settles: z.number().describe("Settles whose hold the replay had refused."),
  members: z.array(z.object({ member_id: z.string(), ...ActualReplayed })),
});

/** POST /v1/lab/replays: a period's recorded usage run again under a price book and plans (nothing written). */
export const LabReplay = z.object({
  object: z.literal("lab_replay"),
  period: z.object({ from: Time, to: Time }),
  records: z.number(),
  records_without_token_classes: z.number(),
  entries: z.number().describe("Operation-log entries replayed."),
  totals: z.object({ ...ActualReplayed, difference: LabSpend }),
  organizations: z.array(LabOrg).describe("Sorted by the absolute difference in total spend, largest first."),
  histogram: z.array(z.object({ from: Money, to: Money, organizations: z.number() })),
  ...MoneyFormat,
});

/** GET /v1/ledger/verify: every ledger invariant checked. */
export const LedgerCheck = z.object({
  ok: z.boolean(),
  transactions: z.number(),
  violations: z.array(z.object({ invariant: z.string(), subject: z.string(), detail: z.string() })),
});

export const Health = z.object({ status: z.literal("ok") });
/** GET /readyz when ready (503 with `status: "draining"` or the error envelope otherwise). */
export const Ready = z.object({ status: z.literal("ready"), store: z.string(), schema_version: z.number() });
/** GET /openapi.json: this document (its parts are described by the OpenAPI 3.1 specification). */
export const OpenApiDocument = z.object({
  openapi: z.string(),
  info: z.object({ title: z.string(), version: z.string(), description: z.string() }),
  servers: z.array(z.object({ url: z.string() })),
  security: z.array(z.record(z.string(), z.array(z.string()))),
  components: z.record(z.string(), z.record(z.string(), z.unknown())),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** POST /v1/dashboard/session: signed in (the session cookie is set). */
export const SignedIn = z.object({
  type: z.literal("dashboard_session"),
  member_id: z.string(),
  org_id: z.string(),
  role: Member.shape.role,
  csrf_token: z.string(),
  expires_at: Time,
});
/** DELETE /v1/dashboard/session: `signed_out` is false when no session cookie came with the request. */
export const SignedOut = z.object({ type: z.literal("dashboard_session"), signed_out: z.boolean() });
/** PUT …/members/:member_id/password. */
export const MemberPassword = z.object({ type: z.literal("member_password"), member_id: z.string(), is_set: z.literal(true) });

export type Org = z.output<typeof Org>;
export type Member = z.output<typeof Member>;
export type Workspace = z.output<typeof Workspace>;
export type ApiKey = z.output<typeof ApiKey>;
export type CreatedApiKey = z.output<typeof CreatedApiKey>;
export type CreatedOrg = z.output<typeof CreatedOrg>;
export type Grant = z.output<typeof Grant>;
export type Limit = z.output<typeof Limit>;
export type Transaction = z.output<typeof Transaction>;
export type Payment = z.output<typeof Payment>;
export type PaymentMethod = z.output<typeof PaymentMethod>;
export type CreditRequest = z.output<typeof CreditRequest>;
export type WebhookEndpoint = z.output<typeof WebhookEndpoint>;
export type CreatedWebhookEndpoint = z.output<typeof CreatedWebhookEndpoint>;
export type Delivery = z.output<typeof Delivery>;
export type Hold = z.output<typeof Hold>;
export type Authorized = z.output<typeof Authorized>;
export type Settled = z.output<typeof Settled>;
export type Window = z.output<typeof Window>;
export type LimitStatus = z.output<typeof LimitStatus>;
/** A plan's other windows are further keys (the index signature: TypeScript cannot say "every other key"). */
export type Summary = z.output<typeof SummaryFields> & { readonly [window: string]: unknown };
export type CreditsStatus = z.output<typeof CreditsStatus>;
export type UsageRecord = z.output<typeof UsageRecord>;
export type UsageRecords = z.output<typeof UsageRecords>;
export type AutoReload = z.output<typeof AutoReload>;
export type Attempt = z.output<typeof Attempt>;
export type Bundle = z.output<typeof Bundle>;
export type Bundles = z.output<typeof Bundles>;
export type Receipt = z.output<typeof Receipt>;
export type AuditEntry = z.output<typeof AuditEntry>;
export type Statement = z.output<typeof Statement>;
export type SdkCredit = z.output<typeof SdkCredit>;
export type SdkCreditClaim = z.output<typeof SdkCreditClaim>;
export type SdkCreditSettings = z.output<typeof SdkCreditSettings>;
export type UsageCell = z.output<typeof UsageCell>;
export type Breakdown = z.output<typeof Breakdown>;
export type Customer = z.output<typeof Customer>;
export type Customers = z.output<typeof Customers>;
export type PricePreview = z.output<typeof PricePreview>;
export type RotatedApiKey = z.output<typeof RotatedApiKey>;
export type Session = z.output<typeof Session>;
export type PlanWindow = z.output<typeof PlanWindow>;
export type PlanSeat = z.output<typeof PlanSeat>;
export type Plan = z.output<typeof Plan>;
export type PlanVersion = z.output<typeof PlanVersion>;
export type ListedPlanVersion = z.output<typeof ListedPlanVersion>;
export type PlanVersions = z.output<typeof PlanVersions>;
export type Event = z.output<typeof Event>;
export type LabSpend = z.output<typeof LabSpend>;
export type LabOrg = z.output<typeof LabOrg>;
export type LabReplay = z.output<typeof LabReplay>;
export type LedgerCheck = z.output<typeof LedgerCheck>;
export type OpenApiDocument = z.output<typeof OpenApiDocument>;
export type SignedIn = z.output<typeof SignedIn>;
export type SignedOut = z.output<typeof SignedOut>;
