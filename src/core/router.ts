// The charge router: who pays for a request, or which refusal (and when it resets). A pure function
// of plain data: no class state, no I/O, no clock (the caller passes `now`). The books gather its
// input from a Snapshot and apply its answer; its tests (router.test.ts) need no database.
//
// Consumption order (DOMAIN.md §4):
//   1. premium capabilities (fast mode) and credit-only surfaces skip the plan;
//   2. plan windows pay if every applicable window still has room;
//   3. included surface credits (monthly SDK credits) and 4. usage credits, drawn together in
//      burn order (grants.ts), usage credits only if enabled and within every hard spending limit;
//      no grant at all while the organization is in debt;
//   5. otherwise refuse, saying which window or limit and when it resets: the window whenever the
//      plan would have paid had it had room, else the credits' reason.
// Every rule, with its example and its tests: docs/money-rules.md.
//
// A plan window admits a request while it has room (used + held < quota) and the whole request
// counts against it, so the last request of a window may overshoot its quota (quotas are plan
// allowance, not money). Spending limits and balances are hard: a hold is admitted only if the
// whole estimate fits.

import type { WindowStatus } from "./books-state.js";
import { domainError, type DomainError, type RouterRefusalCode } from "./errors.js";
import { burnOrder, drawInOrder, isIncluded, isSpendable, type Draw, type Grant } from "./grants.js";
import { headroomsOf } from "./headroom.js";
import type { SpendLimit } from "./limits.js";
import type { Micros } from "./money.js";
import type { Member, Organization, SpendDay } from "./model.js";
import type { Surface } from "./plans.js";
import type { Speed } from "./rating.js";

/** What the router needs to know of a request. */
export interface RouteRequest {
  readonly surface: Surface;
  readonly speed: Speed;
  /** Worst-case cost, already rated. */
  readonly estimate: Micros;
}

export interface RouterInput {
  readonly request: RouteRequest;
  readonly org: Pick<Organization, "id" | "usageCreditsEnabled" | "fastModeEnabled" | "debt">;
  readonly member: Pick<Member, "id" | "workspaceId" | "usageCreditsEnabled" | "fastModeEnabled">;
  /** The plan's surfaces that never use its windows (they pay with credits). */
  readonly creditOnlySurfaces: readonly Surface[];
  /** The member's seat windows that apply to the request's model family, as they stand at `now`. */
  readonly windows: readonly WindowStatus[];
  /** Grants (any org, any state: the router picks the ones this member may spend here and now). */
  readonly grants: Iterable<Grant>;
  /** Spending limits (any org, any scope: the router picks the ones that apply to the member). */
  readonly limits: Iterable<SpendLimit>;
  /** Per-day spend counters the limits count (settled spend and pending holds); walked once per applicable limit, so an array or a re-iterable view. */
  readonly spend: Iterable<SpendDay>;
  readonly now: number;
}

/** A refusal the router may return: one of the router's codes (errors.ts ROUTER_REFUSAL_CODES). */
export interface RouterRefusal extends DomainError {
  readonly code: RouterRefusalCode;
}

export type Route =
  /** The plan pays; these windows each take the whole estimate. */
  | { readonly payer: "plan"; readonly windows: readonly WindowStatus[] }
  /** Credits pay: these draws in burn order; `limitedAmount` of them are usage credits (limits count them). */
  | { readonly payer: "credits"; readonly draws: readonly Draw[]; readonly limitedAmount: Micros }
  | { readonly payer: "none"; readonly refusal: RouterRefusal };

/** Decides who pays for `input.request`, or why nobody may. */
export function routeCharge(input: RouterInput): Route {
  const { request: req, org, member } = input;
  if (req.speed === "fast" && !org.fastModeEnabled) {
    return refuse("fast_mode_disabled", "Fast mode has been disabled by your organization.");
  }
  if (req.speed === "fast" && !member.fastModeEnabled) {
    return refuse("fast_mode_disabled", "Fast mode is not allowed for you in this organization; ask an admin.");
  }

  // 1–2. The plan pays when the request may use it and every applicable window has room.
  const premium = req.speed === "fast";
  const usesPlan = !premium && !input.creditOnlySurfaces.includes(req.surface);
  let exhausted: WindowStatus | undefined;
  if (usesPlan && input.windows.length > 0) {
    const full = input.windows.filter((s) => s.used + s.held >= s.quota);
    if (full.length === 0) return { payer: "plan", windows: input.windows };
    // The window that blocks longest is the one to report.
    exhausted = full.reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a));
  }

  // 3–4. Credits: included surface credits and usage credits, in burn order. Debt blocks every
  // grant, included ones too (money-rules.md "Debt"): the next grant repays it first.
  const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled;
  const usable = org.debt > 0 ? [] : spendable(input).filter((g) => isIncluded(g) || creditsAllowed);
  // Admission is the same for every estimate: a $0 hold faces the checks a 1 µ$ one would
  // (credits disabled, debt, a spent limit), or it would open a hold that a settle could grow.
  const need = Math.max(req.estimate, 1);
  const probe = drawInOrder(usable, need);
  const creditRefusal = whyCreditsCannotPay(input, need, probe.unpaid, limitedPart(probe.draws, usable));
  if (creditRefusal) {
    // Precedence (money-rules.md "Which refusal wins"): when the plan would have paid had its
    // window had room, the answer is the window and its reset, whatever stopped the credits;
    // why the credits could not pay rides along in details.credits.
    if (!exhausted) return { payer: "none", refusal: creditRefusal };
    return refuse("window_exhausted", `You've hit your ${windowName(exhausted.key)} limit.`, {
      ...windowDetail(exhausted),
      credits: { code: creditRefusal.code, message: creditRefusal.message, ...(creditRefusal.details ?? {}) },
    });
  }
  const draws = need === req.estimate ? probe.draws : drawInOrder(usable, req.estimate).draws;
  return { payer: "credits", draws, limitedAmount: limitedPart(draws, usable) };
}

/** The grants the member may spend on this surface now, in burn order. */
function spendable(input: RouterInput): Grant[] {
  const out: Grant[] = [];
  for (const g of input.grants) {
    if (g.orgId === input.org.id && isSpendable(g, input.now, input.member.id, input.request.surface)) out.push(g);
  }
  return out.sort(burnOrder);
}

/** Of some draws from `grants`, the part drawn from usage credits (what spending limits count). */
function limitedPart(draws: readonly Draw[], grants: readonly Grant[]): Micros {
  let total = 0;
  for (const d of draws) {
    const g = grants.find((x) => x.id === d.grantId);
    if (g && !isIncluded(g)) total += d.amount;
  }
  return total;
}

/**
 * Why credits cannot pay `estimate` (undefined: they can). Checked in this order: debt (it blocks
 * every grant), usage credits switched off, balance, then the hard spending limits (alert-only
 * budgets never refuse) on the usage-credit part.
 * Every amount in details is a string of digits, like every amount on the wire.
 */
function whyCreditsCannotPay(input: RouterInput, estimate: Micros, unpaid: Micros, limitedAmount: Micros): RouterRefusal | undefined {
  const { org, member } = input;
  const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled;
  if (unpaid > 0) {
    if (!creditsAllowed && org.debt === 0) {
      return refusal("usage_credits_disabled", "Usage credits are not enabled for this member or organization.", {
        org_enabled: org.usageCreditsEnabled,
        member_enabled: member.usageCreditsEnabled,
      });
    }
    return refusal("insufficient_credits", org.debt > 0 ? "Your credit balance is negative (debt); add funds to repay it before using credits again." : "Your credit balance is too low to cover this request.", {
      required: String(estimate),
      available: String(estimate - unpaid),
      debt: String(org.debt),
    });
  }
  if (limitedAmount === 0) return undefined;
  const blocking = headroomsOf(org.id, input.limits, input.spend, member, input.now)
    .filter((h) => h.limit.stopUsage && h.headroom < limitedAmount)
    .sort((a, b) => a.headroom - b.headroom || a.resetsAt - b.resetsAt)[0];
  if (!blocking) return undefined;
  return refusal("spend_limit_reached", `The ${blocking.limit.period} ${blocking.limit.scope} spending limit has been reached.`, {
    limit_id: blocking.limit.id,
    scope: blocking.limit.scope,
    period: blocking.limit.period,
    amount: String(blocking.limit.amount),
    spent: String(blocking.spent),
    headroom: String(Math.max(0, blocking.headroom)),
    required: String(limitedAmount),
    resets_at: new Date(blocking.resetsAt).toISOString(),
  });
}

function refusal(code: RouterRefusalCode, message: string, details?: Record<string, unknown>): RouterRefusal {
  return { ...domainError(code, message, details), code };
}

function refuse(code: RouterRefusalCode, message: string, details?: Record<string, unknown>): Route {
  return { payer: "none", refusal: refusal(code, message, details) };
}

function windowName(key: string): string {
  if (key === "five_hour") return "session";
  if (key === "seven_day") return "weekly";
  return `${key.replace(/^seven_day_/, "")} weekly`;
}

function windowDetail(s: WindowStatus): Record<string, unknown> {
  return { window: s.key, resets_at: new Date(s.resetsAt).toISOString(), utilization: 100 };
}
