// Monthly SDK credits (DOMAIN.md §5): what a member's seat includes each billing cycle, when a cycle
// starts and ends, and how the pooled variant shares per-seat amounts under a cap. Pure: the app
// layer loads claims and this cycle's grants, asks here what to grant, and writes it in one
// transaction.
//
// Rules, each the vendor's unless said otherwise:
// - amounts come from the plan's seat (SeatDef.monthlySdkCredit: Pro $20, Max 5x $100, Max 20x $200,
//   Team Standard $20, Team Premium $100), editable with PUT /v1/plans/{id};
// - claimed once (opt-in), then refreshed every billing cycle; no rollover: a cycle's grant expires
//   at the cycle's end and the expiry sweep moves what is left to breakage;
// - only for eligible surfaces (the plan's credit-only surfaces: sdk, cli_headless, ci);
// - per member by default; the pooled variant (an org setting) pools the opted-in members' seat
//   amounts into org-level grants, at most `poolCap` per cycle ($500 by default, per org).
// - the billing cycle is the calendar month in UTC (our choice: the vendor bills per subscription
//   date, which we do not model; statements use the same months).

import { MICROS_PER_USD, type Micros } from "./money.js";
import { seatOf, type PlanDef, type SeatTier, type Surface } from "./plans.js";

/** The pooled variant's cap per organization and cycle unless the organization sets its own. */
export const DEFAULT_POOL_CAP: Micros = 500 * MICROS_PER_USD;

/** Monthly credits burn before every usage credit (usage-credit grants default to priority 5). */
export const SDK_CREDIT_PRIORITY = 0;

/** Eligible surfaces when a plan names no credit-only surfaces (never interactive chat). */
export const DEFAULT_ELIGIBLE_SURFACES: readonly Surface[] = ["sdk", "cli_headless", "ci"];

export interface Cycle {
  /** Inclusive start, epoch ms (00:00 UTC on the 1st). */
  readonly start: number;
  /** Exclusive end: the next cycle's start; the cycle's grants expire exactly here. */
  readonly end: number;
  /** "2026-03" */
  readonly label: string;
}

/** The billing cycle containing `now`: the calendar month in UTC. */
export function cycleOf(now: number): Cycle {
  const d = new Date(now);
  return monthCycle(d.getUTCFullYear(), d.getUTCMonth() + 1);
}

/** The cycle of a calendar month (month 1–12). */
export function monthCycle(year: number, month: number): Cycle {
  const start = Date.UTC(year, month - 1, 1);
  const end = Date.UTC(year, month, 1);
  return { start, end, label: `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}` };
}

/** "2026-03" → its cycle, or null if the text is not a month from 2000 on. */
export function parseMonth(text: string): Cycle | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 2000 || year > 9999) return null;
  return monthCycle(year, Number(m[2]));
}

/** What a member's seat includes per cycle (0: the plan includes none). */
export function seatAmount(plan: PlanDef, tier: SeatTier): Micros {
  return Math.max(0, seatOf(plan, tier).monthlySdkCredit);
}

export function eligibleSurfaces(plan: PlanDef): readonly Surface[] {
  return plan.creditOnlySurfaces.length > 0 ? plan.creditOnlySurfaces : DEFAULT_ELIGIBLE_SURFACES;
}

export interface SdkCreditSettings {
  readonly orgId: string;
  readonly pooled: boolean;
  readonly poolCap: Micros;
  readonly updatedAt: number;
}

export const defaultSettings = (orgId: string): SdkCreditSettings => ({ orgId, pooled: false, poolCap: DEFAULT_POOL_CAP, updatedAt: 0 });

/** A member's opt-in. Recorded once; every later cycle is granted from it. */
export interface SdkCreditClaim {
  readonly orgId: string;
  readonly memberId: string;
  readonly claimedAt: number;
  /** The member or the manager who claimed on the member's behalf (a member id, or "platform"). */
  readonly claimedBy: string;
}

/**
 * One member's credit for one cycle; at most one per (member, cycle), which is what makes the refresh
 * idempotent. Individual: `grantId` is the member's own grant. Pooled: `amount` is the member's
 * contribution to the org-level grant `grantId` (several members share one grant). 0 with a null
 * grant when the pool was already at its cap, or the seat includes no credit on the current plan.
 */
export interface SdkCreditCycle {
  readonly orgId: string;
  readonly memberId: string;
  readonly cycleStart: number;
  readonly cycleEnd: number;
  readonly pooled: boolean;
  readonly amount: Micros;
  readonly grantId: string | null;
  readonly createdAt: number;
}

export interface Claimant {
  readonly memberId: string;
  /** The member's seat amount this cycle (0 when the plan includes none). */
  readonly amount: Micros;
}

export interface CyclePlan {
  readonly pooled: boolean;
  /**
   * One record per claimant: individual mode, the member's own grant (none when 0); pooled mode, the
   * member's contribution to the one org-level grant of `poolAmount`. Zero shares are recorded too,
   * so a processed cycle is never looked at again.
   */
  readonly shares: readonly Claimant[];
  readonly poolAmount: Micros;
}

/**
 * What to grant this cycle to the claimants that have no record for it yet (in claim order).
 * Pooled: contributions fill the pool up to `cap` minus what this cycle's pool already holds, in
 * claim order; a member past the cap contributes 0.
 */
export function planCycle(input: { pooled: boolean; cap: Micros; pooledSoFar: Micros; claimants: readonly Claimant[] }): CyclePlan {
  const shares = input.claimants.map((c) => ({ memberId: c.memberId, amount: Math.max(0, c.amount) }));
  if (!input.pooled) return { pooled: false, shares, poolAmount: 0 };
  let room = Math.max(0, input.cap - input.pooledSoFar);
  const capped = shares.map((c) => {
    const take = Math.min(c.amount, room);
    room -= take;
    return { memberId: c.memberId, amount: take };
  });
  return { pooled: true, shares: capped, poolAmount: capped.reduce((t, c) => t + c.amount, 0) };
}
