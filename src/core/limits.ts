// Spending limits: scopes organization / workspace / member, calendar periods in UTC
// (daily; weekly from Monday 00:00; monthly from the 1st). amount null = explicitly unlimited.
// Several limits apply to one request; the lowest remaining headroom wins. Alert-only budgets
// (stopUsage false) count and alert but never refuse. The rules: docs/money-rules.md.

import { DAY_MS } from "./plans.js";
import type { Micros } from "./money.js";

export const LIMIT_SCOPES = ["organization", "workspace", "member"] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];
export const LIMIT_PERIODS = ["daily", "weekly", "monthly"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

export interface SpendLimit {
  readonly id: string;
  readonly orgId: string;
  readonly scope: LimitScope;
  /** The org, workspace or member id the limit applies to. */
  readonly scopeId: string;
  readonly period: LimitPeriod;
  readonly amount: Micros | null;
  /**
   * true: a hard limit, a request that would take spend past it is refused. false: an alert-only
   * budget ("stop usage when the budget is reached" switched off, as Copilot and Vercel offer):
   * it counts spend and sends the threshold alerts but never refuses.
   */
  readonly stopUsage: boolean;
}

/** Day number since the epoch (UTC). Spend is counted per scope and day; periods sum days. */
export const dayOf = (t: number): number => Math.floor(t / DAY_MS);

export function periodBounds(period: LimitPeriod, now: number): { start: number; end: number } {
  const d = new Date(now);
  switch (period) {
    case "daily": {
      const start = dayOf(now) * DAY_MS;
      return { start, end: start + DAY_MS };
    }
    case "weekly": {
      const dow = (d.getUTCDay() + 6) % 7; // Monday = 0
      const start = (dayOf(now) - dow) * DAY_MS;
      return { start, end: start + 7 * DAY_MS };
    }
    case "monthly": {
      const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
      const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      return { start, end };
    }
  }
}

/** The first day any period containing `now` can start on (a month back at most). */
export function earliestPeriodDay(now: number): number {
  return Math.min(dayOf(periodBounds("monthly", now).start), dayOf(periodBounds("weekly", now).start));
}

export interface Headroom {
  readonly limit: SpendLimit;
  /** Settled spend in the period (charges count on the day they settle). */
  readonly spent: Micros;
  /** Pending holds of the scope, whatever day they were authorized on. */
  readonly held: Micros;
  /** amount − spent − held (negative once an alert-only budget is passed). */
  readonly headroom: Micros;
  readonly resetsAt: number;
}
