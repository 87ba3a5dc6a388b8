// Request schemas: the same definitions validate requests and generate the OpenAPI document.
// Money travels as strings of integer micro-dollars ("5000000" = $5.00) so no JSON parser turns it
// into a float; token counts are integers.

import { z } from "zod";
import { GRANT_KINDS } from "../core/grants.js";
import { LIMIT_PERIODS } from "../core/limits.js";
import { ROLES } from "../core/model.js";
import { MAX_MICROS } from "../core/money.js";
import { SEAT_TIERS, SURFACES, type PlanDef, type SeatDef } from "../core/plans.js";
import { MAX_USAGE_COUNT, parseInstant, TOKEN_CLASSES } from "../core/price-book.js";
import { SPEEDS } from "../core/rating.js";

export const Micros = z
  .string()
  .regex(/^\d{1,16}$/, "must be a string of digits: an integer amount of micro-dollars (1 USD = 1000000)")
  .refine((v) => Number(v) <= MAX_MICROS, `must be at most ${MAX_MICROS} micro-dollars`)
  .describe("Integer micro-dollars as a string (1 USD = \"1000000\").");

// Token counts a caller may report: at most MAX_USAGE_COUNT per class (price books are bounded so
// that the largest such usage stays within MAX_MICROS).
const Tokens = z.number().int().min(0).max(MAX_USAGE_COUNT);
export const Id = z.string().min(3).max(64).regex(/^[a-z]{2,5}_[0-9a-z]{8,40}$/, "is not a well-formed id");
const Name = z.string().trim().min(1).max(200);
export const Email = z.string().trim().max(254).regex(/^[^\s@]+@[^\s@]+$/, "is not an email address");
export const Surface = z.enum(SURFACES).describe("Where the request comes from: interactive, sdk, cli_headless, ci.");
const Speed = z.enum(SPEEDS);
const Role = z.enum(ROLES);
const SeatTier = z.enum(SEAT_TIERS);
const Metadata = z
  .record(z.string().max(64), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 metadata keys")
  .describe("Up to 20 string key/value pairs, stored with the hold.");
export const IsoTime = z.string().max(40).refine((v) => parseInstant(v) !== null, "is not an ISO 8601 date-time with a zone (e.g. 2026-01-31T00:00:00Z)");

/** The vendor's Messages API `usage` object. Thinking tokens are part of output_tokens. */
export const Usage = z
  .object({
    input_tokens: Tokens.default(0),
    output_tokens: Tokens.default(0),
    cache_creation_input_tokens: Tokens.optional(),
    cache_creation: z.object({ ephemeral_5m_input_tokens: Tokens.default(0), ephemeral_1h_input_tokens: Tokens.default(0) }).optional(),
    cache_read_input_tokens: Tokens.default(0),
    server_tool_use: z.object({ web_search_requests: Tokens.default(0) }).optional(),
  })
  .describe("Token usage in the Messages API shape. Cache writes: 1-hour writes are cache_creation.ephemeral_1h_input_tokens; 5-minute writes are the larger of cache_creation.ephemeral_5m_input_tokens and cache_creation_input_tokens minus the 1-hour writes (without a breakdown, every cache write is a 5-minute write).");

const exactlyOne = (a: string, b: string) => (v: Record<string, unknown>) => (v[a] === undefined) !== (v[b] === undefined);

export const CreateOrg = z.strictObject({
  name: Name,
  plan_id: z.string().min(1).max(64),
  usage_credits_enabled: z.boolean().default(false),
  fast_mode_enabled: z.boolean().default(true),
  fast_mode_fallback: z.boolean().default(false),
  owner: z.strictObject({ email: Email, name: Name }),
});

export const PatchOrg = z.strictObject({
  name: Name.optional(),
  plan_id: z.string().min(1).max(64).optional(),
  fast_mode_enabled: z.boolean().optional(),
  fast_mode_fallback: z.boolean().optional(),
});

export const UsageCreditsToggle = z.strictObject({ is_enabled: z.boolean() });

export const CreateMember = z.strictObject({
  email: Email,
  name: Name,
  role: Role.default("member"),
  seat_tier: SeatTier.default("standard"),
  workspace_id: Id.nullable().default(null),
  usage_credits_enabled: z.boolean().default(true),
  fast_mode_enabled: z.boolean().default(true).describe("May use fast mode (the organization must allow it too)."),
});

export const PatchMember = z.strictObject({
  name: Name.optional(),
  role: Role.optional(),
  seat_tier: SeatTier.optional(),
  workspace_id: Id.nullable().optional(),
  usage_credits_enabled: z.boolean().optional(),
  fast_mode_enabled: z.boolean().optional(),
});

export const CreateWorkspace = z.strictObject({ name: Name });

export const CreateApiKey = z.strictObject({
  member_id: Id.optional().describe("The member the key acts as; defaults to the caller."),
  name: Name,
  surface: Surface.default("interactive"),
});

export const CreateGrant = z.strictObject({
  kind: z.enum(GRANT_KINDS),
  amount: Micros.refine((v) => Number(v) > 0, "must be greater than zero"),
  priority: z.number().int().min(0).max(1000).optional().describe("Lower burns first. Default: 0 for monthly credits, 5 otherwise."),
  expires_at: IsoTime.nullable().default(null),
  surfaces: z.array(Surface).min(1).max(4).nullable().default(null),
  member_id: Id.nullable().default(null),
  description: z.string().max(500).default(""),
});

export const SetLimit = z.strictObject({
  scope: z.enum(["organization", "workspace", "member", "user"]).describe("\"user\" is accepted as the vendor's name for member."),
  scope_id: z.string().max(64).nullable().default(null),
  period: z.enum(LIMIT_PERIODS).default("monthly"),
  amount: Micros.nullable().describe("Micro-dollars per period, or null for explicitly unlimited."),
  stop_usage: z
    .boolean()
    .default(true)
    .describe("true (default): a hard limit, requests that would pass it are refused. false: an alert-only budget that counts spend and sends the 50/75/90/100 % and exceeded alerts but never refuses; a hard limit still applies wherever one does."),
});

export const Authorize = z
  .strictObject({
    member_id: Id.optional().describe("Defaults to the key's member; another member needs an owner/admin key."),
    surface: Surface.optional().describe("Defaults to the key's surface."),
    model: z.string().min(1).max(200),
    speed: Speed.default("standard"),
    estimated_usage: Usage.optional(),
    amount: Micros.optional().describe("A precomputed worst-case cost, instead of estimated_usage."),
    batch: z.boolean().default(false),
    data_residency: z.boolean().default(false),
    ttl_seconds: z.number().int().min(1).max(86_400).optional(),
    metadata: Metadata.default({}),
  })
  .refine(exactlyOne("estimated_usage", "amount"), "give exactly one of estimated_usage or amount");

export const Settle = z
  .strictObject({
    usage: Usage.optional(),
    amount: Micros.optional(),
    batch: z.boolean().default(false),
    data_residency: z.boolean().default(false),
  })
  .refine(exactlyOne("usage", "amount"), "give exactly one of usage or amount");

export const UsageEvent = z
  .strictObject({
    event_id: z.string().min(1).max(200).describe("Your unique id for this usage; resending it never charges twice."),
    member_id: Id.optional(),
    surface: Surface.optional(),
    model: z.string().min(1).max(200),
    speed: Speed.default("standard"),
    usage: Usage.optional(),
    amount: Micros.optional(),
    batch: z.boolean().default(false),
    data_residency: z.boolean().default(false),
    metadata: Metadata.default({}),
  })
  .refine(exactlyOne("usage", "amount"), "give exactly one of usage or amount");

const Modifier = z.strictObject({
  factor: z.string().regex(/^\d{1,9}(\.\d{1,9})?$/, "a positive decimal multiplier"),
  applies_to: z.array(z.enum(TOKEN_CLASSES)).max(5),
});
const Rate = z.string().regex(/^\d{1,9}(\.\d{1,6})?$/, "USD per million tokens, a decimal with at most 6 places");
export const PriceBookSpec = z.strictObject({
  id: z.string().regex(/^pb_[a-z0-9_]{1,40}$/),
  version: z.number().int().min(1).max(1_000_000),
  effective_from: IsoTime,
  models: z
    .array(
      z.strictObject({
        id: z.string().min(1).max(200),
        family: z.string().min(1).max(50),
        input: Rate,
        cache_write_5m: Rate,
        cache_write_1h: Rate,
        cache_read: Rate,
        output: Rate,
        display_name: z.string().min(1).max(200).optional(),
        created_at: IsoTime.optional(),
        aliases: z.array(z.string().min(1).max(200)).max(50).optional(),
        fast_factor: z.string().regex(/^\d{1,9}(\.\d{1,9})?$/, "a positive decimal multiplier").optional(),
        long_context: z
          .strictObject({
            above_input_tokens: z.number().int().min(1).max(100_000_000),
            input: Rate,
            cache_write_5m: Rate,
            cache_write_1h: Rate,
            cache_read: Rate,
            output: Rate,
          })
          .optional(),
      }),
    )
    .min(1)
    .max(500),
  modifiers: z.strictObject({ fast: Modifier, batch: Modifier, data_residency: Modifier }),
  web_search_per_1000: z.string().regex(/^\d{1,9}(\.\d{1,6})?$/),
  unknown_models: z
    .strictObject({
      policy: z.enum(["refuse", "family_default"]),
      family_defaults: z.record(z.string().min(1).max(50), z.string().min(1).max(200)).optional(),
    })
    .optional(),
});

const WindowSpec = z.strictObject({
  key: z.string().regex(/^[a-z0-9_]{1,40}$/),
  kind: z.enum(["session", "weekly"]),
  duration_seconds: z.number().int().min(60).max(90 * 86_400),
  quota: Micros,
  families: z.array(z.string().min(1).max(50)).min(1).max(10).optional(),
});
const SeatSpec = z.strictObject({ windows: z.array(WindowSpec).max(10), monthly_sdk_credit: Micros });
export const PlanSpec = z.strictObject({
  name: Name,
  seats: z.strictObject({ standard: SeatSpec, premium: SeatSpec.optional() }),
  credit_only_surfaces: z.array(Surface).max(4).default([]),
});

export const PlanVersionSpec = PlanSpec.extend({
  effective_at: IsoTime.optional().describe("When the version takes effect: now or later (default: now)."),
});

/** A plan as PUT /v1/plans/{plan_id} (and the pricing lab's proposed plans) give it, as the core's PlanDef. */
export function planFromSpec(id: string, spec: z.infer<typeof PlanSpec>): PlanDef {
  const seat = (s: z.infer<typeof PlanSpec>["seats"]["standard"]): SeatDef => ({
    windows: s.windows.map((w) => ({
      key: w.key,
      kind: w.kind,
      durationMs: w.duration_seconds * 1000,
      quota: Number(w.quota),
      ...(w.families ? { families: w.families } : {}),
    })),
    monthlySdkCredit: Number(s.monthly_sdk_credit),
  });
  return {
    id,
    name: spec.name,
    seats: { standard: seat(spec.seats.standard), ...(spec.seats.premium ? { premium: seat(spec.seats.premium) } : {}) },
    creditOnlySurfaces: spec.credit_only_surfaces,
  };
}

export const LabReplay = z.strictObject({
  period: z.string().regex(/^\d{4}-\d{2}$/, "a calendar month, YYYY-MM").describe("The calendar month (UTC) to replay, e.g. 2026-11."),
  org_ids: z.array(Id).min(1).max(10_000).optional().describe("Organizations to replay; every organization when absent."),
  price_book: PriceBookSpec.optional().describe("A proposed price book (the form POST /v1/price_books takes); every amount as it was rated when absent."),
  plans: z
    .record(z.string().regex(/^[a-z0-9_]{1,40}$/), PlanSpec)
    .optional()
    .describe("Proposed plans by plan id (each the form PUT /v1/plans/{plan_id} takes), replacing the plan of that id; the plans in force when absent."),
});

export const Paging = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().max(80).optional().describe("The `next_cursor` of the previous page."),
});

export const LEDGER_KINDS = ["grant", "hold", "settle", "release", "void", "expire", "debt_repayment", "relayed_charge"] as const;
export const TransactionsQuery = Paging.extend({
  kind: z.enum(LEDGER_KINDS).optional().describe("Only transactions of this kind (the dashboard's history filter)."),
});

export const UsageQuery = z.strictObject({
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  member_id: Id.optional(),
});

export const SummaryQuery = z.strictObject({ member_id: Id.optional() });
export const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).max(1_000_000).default(0) });
