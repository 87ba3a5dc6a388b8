// Grants of usage credits and the order in which they burn (DOMAIN.md §4, as OpenMeter, Lago
// and Orb document it): lower priority number first, then soonest expiry (never-expiring last),
// then free/promotional before purchased, then oldest first; the id breaks the last tie.

import type { Micros } from "./money.js";
import type { Surface } from "./plans.js";

export const GRANT_KINDS = ["purchase", "promotional", "monthly", "migrated", "adjustment"] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

export type GrantStatus = "active" | "voided" | "expired";

export interface Grant {
  readonly id: string;
  readonly orgId: string;
  readonly kind: GrantKind;
  readonly amount: Micros;
  /** Cached; always equal to the ledger balance of the grant's account (ledger verify checks). */
  remaining: Micros;
  readonly priority: number;
  readonly expiresAt: number | null;
  /** Only these surfaces may spend it; null = any surface. */
  readonly surfaces: readonly Surface[] | null;
  /** Only this member may spend it; null = anyone in the organization. */
  readonly memberId: string | null;
  readonly createdAt: number;
  status: GrantStatus;
  readonly description: string;
}

/**
 * Included credits (monthly SDK credits) come with the plan: they are spendable even when usage
 * credits are disabled and do not count toward spending limits, which bound usage-credit spend.
 */
export function isIncluded(grant: Grant): boolean {
  return grant.kind === "monthly";
}

const isPaid = (g: Grant): number => (g.kind === "purchase" ? 1 : 0);

export function burnOrder(a: Grant, b: Grant): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ea = a.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const eb = b.expiresAt ?? Number.MAX_SAFE_INTEGER;
  if (ea !== eb) return ea - eb;
  if (isPaid(a) !== isPaid(b)) return isPaid(a) - isPaid(b);
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function isSpendable(g: Grant, now: number, memberId: string, surface: Surface): boolean {
  return (
    g.status === "active" &&
    g.remaining > 0 &&
    (g.expiresAt === null || g.expiresAt > now) &&
    (g.memberId === null || g.memberId === memberId) &&
    (g.surfaces === null || g.surfaces.includes(surface))
  );
}

export interface Draw {
  readonly grantId: string;
  readonly amount: Micros;
}

/** Takes `amount` from `grants` (already filtered and sorted) in order; returns the draws and what is left unpaid. */
export function drawInOrder(grants: readonly Grant[], amount: Micros): { draws: Draw[]; unpaid: Micros } {
  const draws: Draw[] = [];
  let left = amount;
  for (const g of grants) {
    if (left <= 0) break;
    const take = Math.min(g.remaining, left);
    if (take > 0) {
      draws.push({ grantId: g.id, amount: take });
      left -= take;
    }
  }
  return { draws, unpaid: left };
}
