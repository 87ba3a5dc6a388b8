// Plans and their usage windows. Every quota is the API-price value of usage in micro-dollars,
// so plans, credits and limits share one unit. Windows are per member (seat), as the vendor's are.

import type { Micros } from "./money.js";

export const SURFACES = ["interactive", "sdk", "cli_headless", "ci"] as const;
export type Surface = (typeof SURFACES)[number];

export const SEAT_TIERS = ["standard", "premium"] as const;
export type SeatTier = (typeof SEAT_TIERS)[number];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

export interface WindowDef {
  /** Reported name: "five_hour", "seven_day", "seven_day_opus", … */
  readonly key: string;
  /**
   * session: starts with the first request and ends `durationMs` later (5 h by default);
   * weekly: fixed 7-day periods anchored at the organization's reset anchor.
   */
  readonly kind: "session" | "weekly";
  readonly durationMs: number;
  readonly quota: Micros;
  /** Model families this window counts; undefined = every model. */
  readonly families?: readonly string[];
}

export interface SeatDef {
  readonly windows: readonly WindowDef[];
  /** Monthly SDK/API credit for this seat (claimed by opt-in; issue "money in"). */
  readonly monthlySdkCredit: Micros;
}

export interface PlanDef {
  readonly id: string;
  readonly name: string;
  /** Seat definitions; `standard` always exists, `premium` only on seat-tiered plans (Team). */
  readonly seats: { readonly standard: SeatDef; readonly premium?: SeatDef };
  /**
   * Surfaces whose usage never draws on the plan windows: it is paid by surface credits
   * (monthly SDK credits), then usage credits. Vendor rule since 2026: Agent SDK, headless CLI
   * and CI usage draws a separate monthly credit, then usage credits, else it is refused.
   */
  readonly creditOnlySurfaces: readonly Surface[];
}

export function seatOf(plan: PlanDef, tier: SeatTier): SeatDef {
  return (tier === "premium" ? plan.seats.premium : undefined) ?? plan.seats.standard;
}

export interface WindowPeriod {
  readonly start: number;
  readonly resetsAt: number;
}

/**
 * The period a window is in at `now`.
 * - session: the stored period if still open, else a new one starting now (first request).
 * - weekly: anchor + k·7d ≤ now < anchor + (k+1)·7d.
 */
export function windowPeriod(def: WindowDef, now: number, anchor: number, storedStart: number | undefined): WindowPeriod {
  if (def.kind === "session") {
    if (storedStart !== undefined && now < storedStart + def.durationMs) {
      return { start: storedStart, resetsAt: storedStart + def.durationMs };
    }
    return { start: now, resetsAt: now + def.durationMs };
  }
  const k = Math.floor((now - anchor) / def.durationMs);
  const start = anchor + k * def.durationMs;
  return { start, resetsAt: start + def.durationMs };
}

export function windowApplies(def: WindowDef, family: string): boolean {
  return def.families === undefined || def.families.includes(family);
}

/** Utilization 0–100 (integer percent, floored; 100 only when used ≥ quota). */
export function utilization(used: Micros, quota: Micros): number {
  if (quota <= 0) return 100;
  if (used >= quota) return 100;
  return Math.floor((used * 100) / quota);
}

/** One version of a plan: the definition in force from `effectiveAt` until a later version's. */
export interface PlanVersion {
  readonly planId: string;
  readonly version: number;
  readonly definition: PlanDef;
  readonly effectiveAt: number;
  readonly createdAt: number;
  /** Who created it: an API key id, "system" (seed, migration backfill). */
  readonly createdBy: string;
}

/**
 * The version in force at `at`: the latest `effectiveAt` ≤ `at` (the higher version number on a
 * tie). Before its first version takes effect a plan is its earliest version (a plan always has a
 * definition). `versions` are one plan's, in any order; undefined only when there are none.
 */
export function versionInForce(versions: readonly PlanVersion[], at: number): PlanVersion | undefined {
  let best: PlanVersion | undefined;
  let earliest: PlanVersion | undefined;
  for (const v of versions) {
    if (!earliest || v.effectiveAt < earliest.effectiveAt || (v.effectiveAt === earliest.effectiveAt && v.version < earliest.version)) earliest = v;
    if (v.effectiveAt > at) continue;
    if (!best || v.effectiveAt > best.effectiveAt || (v.effectiveAt === best.effectiveAt && v.version > best.version)) best = v;
  }
  return best ?? earliest;
}

/**
 * The quota a window has in the period that started at `periodStart` (money-rules.md, "a plan
 * changes"): a period keeps the quota of the version in force when it started, so a new version's
 * quota applies from each member's next window, never part-way through one. A window the older
 * version did not have starts with the new quota at once. `def` is the window as the version in
 * force now defines it (it decides which windows exist and how long their periods are).
 */
export function quotaForPeriod(versions: readonly PlanVersion[], tier: SeatTier, def: WindowDef, periodStart: number): Micros {
  const then = versionInForce(versions, periodStart);
  if (!then) return def.quota;
  const old = seatOf(then.definition, tier).windows.find((w) => w.key === def.key);
  return old ? old.quota : def.quota;
}
