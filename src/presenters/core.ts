// Domain objects → the JSON the API returns. Money is a string of micro-dollars; times are ISO 8601.

import type { CreatedKey, CreditsStatus, UsageSummary } from "../app/admin.js";
import type { AuthorizeResult, SettleResult } from "../app/engine.js";
import type { WindowStatus } from "../core/books.js";
import type { Grant } from "../core/grants.js";
import type { SpendLimit } from "../core/limits.js";
import type { Hold, LedgerTransaction, Member, Organization, UsageRecord } from "../core/model.js";
import { utilization } from "../core/plans.js";
import type { PlanDef, PlanVersion } from "../core/plans.js";
import type { ApiKeyRow, Workspace } from "../ports/store.js";

import { iso, money, MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";

export { MONEY_FORMAT } from "./format.js";

export const presentOrg = (o: Organization): R.Org => ({
  id: o.id,
  type: "organization",
  name: o.name,
  plan_id: o.planId,
  usage_credits_enabled: o.usageCreditsEnabled,
  fast_mode_enabled: o.fastModeEnabled,
  fast_mode_fallback: o.fastModeFallback,
  weekly_reset_anchor: iso(o.weeklyAnchor),
  debt: money(o.debt),
  created_at: iso(o.createdAt),
});

export const presentMember = (m: Member): R.Member => ({
  id: m.id,
  type: "member",
  org_id: m.orgId,
  email: m.email,
  name: m.name,
  role: m.role,
  seat_tier: m.seatTier,
  workspace_id: m.workspaceId,
  usage_credits_enabled: m.usageCreditsEnabled,
  fast_mode_enabled: m.fastModeEnabled,
  created_at: iso(m.createdAt),
});

export const presentWorkspace = (w: Workspace): R.Workspace => ({ id: w.id, type: "workspace", org_id: w.orgId, name: w.name, created_at: iso(w.createdAt) });

export const presentKey = (k: ApiKeyRow): R.ApiKey => ({
  id: k.id,
  type: "api_key",
  org_id: k.orgId,
  member_id: k.memberId,
  name: k.name,
  surface: k.surface,
  prefix: k.prefix,
  created_at: iso(k.createdAt),
  revoked_at: iso(k.revokedAt),
});

export const presentCreatedKey = (c: CreatedKey): R.CreatedApiKey => ({ ...presentKey(c.key), secret: c.secret });

export const presentGrant = (g: Grant): R.Grant => ({
  id: g.id,
  type: "grant",
  org_id: g.orgId,
  kind: g.kind,
  amount: money(g.amount),
  remaining: money(g.remaining),
  priority: g.priority,
  expires_at: iso(g.expiresAt),
  surfaces: g.surfaces,
  member_id: g.memberId,
  status: g.status,
  description: g.description,
  created_at: iso(g.createdAt),
  ...MONEY_FORMAT,
});

export const presentLimit = (l: SpendLimit): R.Limit => ({
  id: l.id,
  type: "spend_limit",
  scope: l.scope,
  scope_id: l.scopeId,
  period: l.period,
  amount: l.amount === null ? null : money(l.amount),
  stop_usage: l.stopUsage,
  ...MONEY_FORMAT,
});

export const presentHold = (h: Hold): R.Hold => ({
  id: h.id,
  type: "hold",
  status: h.status,
  payer: h.payer,
  amount: money(h.amount),
  settled_amount: money(h.settledAmount),
  member_id: h.memberId,
  workspace_id: h.workspaceId,
  surface: h.surface,
  model: h.model,
  speed: h.speed,
  windows: h.windows.map((w) => ({ window: w.key, period_start: iso(w.periodStart) })),
  draws: h.draws.map((d) => ({ grant_id: d.grantId, amount: money(d.amount) })),
  created_at: iso(h.createdAt),
  expires_at: iso(h.expiresAt),
  resolved_at: iso(h.resolvedAt),
  metadata: h.metadata,
  ...MONEY_FORMAT,
});

export const presentAuthorized = (r: AuthorizeResult) => ({ hold: presentHold(r.hold), balance: money(r.balance), ...MONEY_FORMAT });

export const presentSettled = (r: SettleResult) => ({
  hold: presentHold(r.hold),
  charged: money(r.charged),
  released: money(r.released),
  debt: money(r.debt),
  // Usage reported beyond the hold that was not charged (see docs/money-safety.md): "0" normally.
  unbilled: money(r.unbilled),
  balance: money(r.balance),
  ...MONEY_FORMAT,
});

// Utilization counts what is in flight (held) as well as what is settled, as the gateway's
// rate-limit headers do (gateway/rate-limit-headers.ts), so the two always agree.
const presentWindow = (w: WindowStatus): R.Window => ({
  utilization: w.idle ? 0 : utilization(w.used + w.held, w.quota),
  resets_at: w.idle ? null : iso(w.resetsAt),
  used: money(w.used),
  held: money(w.held),
  quota: money(w.quota),
  status: w.idle ? "idle" : w.used + w.held >= w.quota ? "exhausted" : "allowed",
});

/** The vendor's usage summary: one key per window, plus the usage-credits block. */
export function presentSummary(s: UsageSummary): R.Summary {
  const windows = Object.fromEntries(s.windows.map((w) => [w.key, presentWindow(w)]));
  // Only hard limits stop usage; alert-only budgets are listed beside them (stop_usage false).
  const hard = s.limits.filter((l) => l.limit.stopUsage);
  const monthly = hard.filter((l) => l.limit.period === "monthly").sort((a, b) => a.headroom - b.headroom)[0];
  const reached = hard.some((l) => l.headroom <= 0);
  const disabledReason = !s.org.usageCreditsEnabled ? "org_level_disabled" : !s.member.usageCreditsEnabled ? "member_level_disabled" : s.balance <= 0 ? "out_of_credits" : null;
  return {
    member_id: s.member.id,
    plan_id: s.org.planId,
    ...windows,
    usage_credits: {
      is_enabled: s.org.usageCreditsEnabled && s.member.usageCreditsEnabled,
      monthly_limit: monthly ? money(monthly.limit.amount ?? 0) : null,
      used_credits: money(monthly ? monthly.spent : s.monthSpent),
      balance: money(s.balance),
      ...MONEY_FORMAT,
      disabled_reason: disabledReason,
      spend_limit_reached: reached,
      limits: s.limits.map((l) => ({
        ...presentLimit(l.limit),
        spent: money(l.spent),
        held: money(l.held),
        headroom: money(Math.max(0, l.headroom)),
        utilization: l.limit.amount === null ? 0 : utilization(l.spent, l.limit.amount),
        resets_at: iso(l.resetsAt),
      })),
    },
    fast_mode: { is_enabled: s.org.fastModeEnabled, fallback_to_standard: s.org.fastModeFallback },
  };
}

/** GET /usage_credits: the organization's switch, balance and monthly limit (old path: /extra_usage). */
export const presentCreditsStatus = (c: CreditsStatus): R.CreditsStatus => ({
  type: "usage_credits",
  org_id: c.org.id,
  is_enabled: c.org.usageCreditsEnabled,
  balance: money(c.balance),
  monthly_limit: c.monthlyLimit === null || c.monthlyLimit.amount === null ? null : money(c.monthlyLimit.amount),
  used_this_month: money(c.monthSpent),
  ...MONEY_FORMAT,
});

export const presentTransaction = (t: LedgerTransaction): R.Transaction => ({
  id: t.id,
  type: "transaction",
  kind: t.kind,
  ref: t.ref,
  created_at: iso(t.at),
  entries: t.entries.map((e) => ({ account: e.account, amount: money(e.amount) })),
  ...MONEY_FORMAT,
});

/**
 * Which payer paid how much of a usage record: the plan's windows, the member's monthly SDK credits
 * (included grants, spent first on the SDK, headless-CLI and CI surfaces) or usage credits
 * (`credit_cost`, which counts toward spending limits). The three always sum to `cost`.
 */
export function paidBy(u: Pick<UsageRecord, "payer" | "cost" | "creditCost">) {
  const plan = u.payer === "plan" ? u.cost : 0;
  return { plan_window: money(plan), sdk_credits: money(u.cost - plan - u.creditCost), usage_credits: money(u.creditCost) };
}

export const presentUsage = (u: UsageRecord): R.UsageRecord => ({
  id: u.id,
  hold_id: u.holdId,
  member_id: u.memberId,
  workspace_id: u.workspaceId,
  surface: u.surface,
  model: u.model,
  speed: u.speed,
  payer: u.payer,
  cost: money(u.cost),
  credit_cost: money(u.creditCost),
  paid_by: paidBy(u),
  created_at: iso(u.at),
});

export const presentPlan = (p: PlanDef): R.Plan => {
  const seat = (s: PlanDef["seats"]["standard"]): R.PlanSeat => ({
    windows: s.windows.map((w) => ({
      key: w.key,
      kind: w.kind,
      duration_seconds: w.durationMs / 1000,
      quota: money(w.quota),
      ...(w.families ? { families: w.families } : {}),
    })),
    monthly_sdk_credit: money(s.monthlySdkCredit),
  });
  return {
    id: p.id,
    type: "plan",
    name: p.name,
    seats: { standard: seat(p.seats.standard), ...(p.seats.premium ? { premium: seat(p.seats.premium) } : {}) },
    credit_only_surfaces: p.creditOnlySurfaces,
    ...MONEY_FORMAT,
  };
};

/** One version of a plan (as created, and as the audit log's snapshot). */
export const presentPlanVersion = (v: PlanVersion): R.PlanVersion => ({
  type: "plan_version",
  plan_id: v.planId,
  version: v.version,
  effective_at: new Date(v.effectiveAt).toISOString(),
  created_at: new Date(v.createdAt).toISOString(),
  created_by: v.createdBy,
  definition: presentPlan(v.definition),
});

/**
 * A version as listed, with its `status` at the server's time `now`: "current" is the version in
 * force (`current`), "scheduled" takes effect later, "past" was superseded.
 */
export const presentListedPlanVersion = (v: PlanVersion, current: PlanVersion | undefined, now: number): R.ListedPlanVersion => {
  const { definition, ...rest } = presentPlanVersion(v);
  return { ...rest, status: current?.version === v.version ? "current" : v.effectiveAt > now ? "scheduled" : "past", definition };
};
