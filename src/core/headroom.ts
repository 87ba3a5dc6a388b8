// Which spending limits apply to a member and how much room each has left this period. Pure: the
// limits and the per-day spend counters come in as data (the books hold them; the router and the
// router's tests pass them in). The rules: docs/money-rules.md.

import { dayOf, periodBounds, type Headroom, type SpendLimit } from "./limits.js";
import type { Micros } from "./money.js";
import type { Member, SpendDay } from "./model.js";

/** The spend-counter scope a limit counts for `member`, or undefined when it does not apply to them. */
export function scopeKeyOf(limit: SpendLimit, member: Pick<Member, "id" | "workspaceId">): string | undefined {
  switch (limit.scope) {
    case "organization":
      return "org";
    case "workspace":
      return member.workspaceId !== null && member.workspaceId === limit.scopeId ? limit.scopeId : undefined;
    case "member":
      return member.id === limit.scopeId ? member.id : undefined;
  }
}

/**
 * The limits of `orgId` that apply to `member` (explicitly unlimited ones left out), with this
 * period's spend and headroom. `spendDays` is walked once per applicable limit (pass an array or a
 * re-iterable view, not a one-shot iterator).
 */
export function headroomsOf(
  orgId: string,
  limits: Iterable<SpendLimit>,
  spendDays: Iterable<SpendDay>,
  member: Pick<Member, "id" | "workspaceId">,
  now: number,
): Headroom[] {
  const out: Headroom[] = [];
  for (const limit of limits) {
    if (limit.orgId !== orgId || limit.amount === null) continue;
    const scopeKey = scopeKeyOf(limit, member);
    if (scopeKey === undefined) continue;
    const { start, end } = periodBounds(limit.period, now);
    const { spent, held } = spentSince(spendDays, orgId, scopeKey, dayOf(start));
    out.push({ limit, spent, held, headroom: limit.amount - spent - held, resetsAt: end });
  }
  return out;
}

/**
 * Settled spend from `fromDay` on, and every pending hold of the scope whatever day it was
 * authorized on: a hold taken before the period started settles in this period, so it takes
 * this period's headroom too (holds live at most a day: the store loads a day more).
 */
function spentSince(days: Iterable<SpendDay>, orgId: string, scopeKey: string, fromDay: number): { spent: Micros; held: Micros } {
  let spent = 0;
  let held = 0;
  for (const d of days) {
    if (d.orgId !== orgId || d.scopeKey !== scopeKey) continue;
    if (d.day >= fromDay) spent += d.spent;
    held += d.held;
  }
  return { spent, held };
}
