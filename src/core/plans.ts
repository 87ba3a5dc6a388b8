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
