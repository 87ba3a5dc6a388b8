// The pricing lab's figures: spend by payer (and how a usage record adds to it), and the request
// of a usage record from before the operation log, as log entries (replayed input/output only).

import type { Micros } from "./money.js";
import { logEntry, type LogEntry } from "./operation-log.js";
import type { Surface } from "./plans.js";
import { ZERO_USAGE } from "./rating.js";

/** Spend of an organization or a member over a period, by payer, in micro-dollars. */
export interface Spend {
  /** Value of usage the plan windows paid (API-price value, no money moved). */
  planWindow: Micros;
  /** Paid by included surface credits (monthly SDK credits). */
  sdkCredits: Micros;
  /** Paid by usage credits (or owed as debt). */
  usageCredits: Micros;
  total: Micros;
  /** Posted to usage revenue (what credits of any kind paid, debt included). */
  revenue: Micros;
  /** Posted to breakage (credit that expired unused); organizations only. */
  breakage: Micros;
}

export const zeroSpend = (): Spend => ({ planWindow: 0, sdkCredits: 0, usageCredits: 0, total: 0, revenue: 0, breakage: 0 });

export function addSpend(into: Spend, add: Spend): Spend {
  into.planWindow += add.planWindow;
  into.sdkCredits += add.sdkCredits;
  into.usageCredits += add.usageCredits;
  into.total += add.total;
  into.revenue += add.revenue;
  into.breakage += add.breakage;
  return into;
}

export function diffSpend(a: Spend, b: Spend): Spend {
  return {
    planWindow: a.planWindow - b.planWindow,
    sdkCredits: a.sdkCredits - b.sdkCredits,
    usageCredits: a.usageCredits - b.usageCredits,
    total: a.total - b.total,
    revenue: a.revenue - b.revenue,
    breakage: a.breakage - b.breakage,
  };
}

/** Adds one usage record to a spend (what its payer paid). */
export function countUsage(into: Spend, payer: "plan" | "credits", cost: Micros, creditCost: Micros): void {
  if (payer === "plan") into.planWindow += cost;
  else {
    into.usageCredits += creditCost;
    into.sdkCredits += cost - creditCost;
    into.revenue += cost;
  }
  into.total += cost;
}

/** A usage record from before the operation log (no token classes): its request as log entries. */
export interface BareUsage {
  readonly orgId: string;
  readonly memberId: string;
  readonly holdId: string;
  readonly surface: string;
  readonly model: string;
  readonly family: string | null;
  readonly speed: string;
  readonly cost: Micros;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly at: number;
}

/**
 * The request of a record written before schema 11, replayed as input/output tokens only (every
 * input token, cache ones included, at the input rate), admitted and settled at its instant.
 */
export function bareEntries(r: BareUsage): LogEntry[] {
  const cost = { amount: null, usage: { ...ZERO_USAGE, input_tokens: r.inputTokens, output_tokens: r.outputTokens }, batch: false, dataResidency: false };
  const speed = r.speed === "fast" ? "fast" : "standard";
  return [
    logEntry(r.orgId, r.at, "authorize", { holdId: r.holdId, memberId: r.memberId, surface: r.surface as Surface, model: r.model, family: r.family, speed, micros: r.cost, cost, ttlMs: 86_400_000, owner: "api" }),
    logEntry(r.orgId, r.at, "settle", { holdId: r.holdId, micros: r.cost, cost, actor: "api" }),
  ];
}

