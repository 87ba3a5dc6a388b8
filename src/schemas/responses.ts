// Response schemas: the JSON shapes the API answers with. The presenters (src/presenters) are typed
// to return exactly these, the OpenAPI document's responses are generated from them
// (src/http/openapi.ts), and the dashboard imports their types (web/src/wire.ts), so a shape is
// written once. This file imports only zod: web/tsconfig.json includes it for the types.
// Money is a string of integer micro-dollars; times are ISO 8601 strings (null: not set).

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

/** A list answer: `data`, and on paged lists the cursor of the next page (null: the last page). */
export const list = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });
export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });

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
