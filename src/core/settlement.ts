// Settlement: a pending hold resolves once, settled (charged what was used, the rest released),
// released, or expired past its TTL. Usage beyond a hold is charged from other grants, then as debt
// (the gateway's) or bounded by what admission would have allowed (an API settle's). Money given
// back to a grant that was voided or has expired follows it out at once. Every change goes through
// the books state (books-state.ts), which records it for the store.

import type { BooksState } from "./books-state.js";
import { domainError, fail, ok, type DomainError, type Result } from "./errors.js";
import { drawInOrder, isIncluded, type Draw, type Grant } from "./grants.js";
import { dayOf } from "./limits.js";
import type { Micros } from "./money.js";
import type { Usage } from "./rating.js";
import { ACCOUNTS, type Hold, type LedgerEntry, type Member } from "./model.js";

/** Token counts of a settled request, for usage reports (money never depends on them). */
export interface Tokens {
  readonly input: number;
  readonly output: number;
}
export const NO_TOKENS: Tokens = { input: 0, output: 0 };

/** Input (fresh, cache writes, cache reads) and output tokens of a usage. */
export function tokensOf(u: Usage | undefined): Tokens {
  if (!u) return NO_TOKENS;
  return { input: u.input_tokens + u.cache_creation_5m_input_tokens + u.cache_creation_1h_input_tokens + u.cache_read_input_tokens, output: u.output_tokens };
}

/**
 * Who asks to settle or release a hold. The gateway resolves only its own holds; an API caller
 * resolves "api" holds of its own member, or any member's with owner/admin/billing rights (or a
 * platform key: memberId null).
 */
export type HoldActor =
  | { readonly kind: "gateway" }
  | { readonly kind: "caller"; readonly memberId: string | null; readonly privileged: boolean };

/** Whether `actor` may resolve `hold`: undefined when it may, else the refusal. */
export function mayResolve(hold: Hold, actor: HoldActor): DomainError | undefined {
  if (actor.kind === "gateway") {
    return hold.owner === "gateway" ? undefined : domainError("forbidden", `Hold ${hold.id} was not taken by the gateway.`, { hold_id: hold.id });
  }
  if (hold.owner === "gateway") {
    return domainError("hold_owned_by_gateway", `Hold ${hold.id} belongs to a gateway request; the gateway settles it with the usage it relays.`, { hold_id: hold.id });
  }
  if (actor.memberId !== null && !actor.privileged && actor.memberId !== hold.memberId) {
    return domainError("hold_owned_by_other_member", `Hold ${hold.id} belongs to another member; only that member or an owner, admin or billing key may resolve it.`, { hold_id: hold.id });
  }
  return undefined;
}

export interface SettleOutcome {
  readonly hold: Hold;
  readonly charged: Micros;
  readonly released: Micros;
  /** Part of the charge beyond the hold that no balance could pay. */
  readonly debt: Micros;
  /**
   * Part of the reported usage beyond the hold that was not charged: an API settle may not add
   * more than admission would have allowed (see `chargeExcess`). Always 0 for the gateway.
   */
  readonly unbilled: Micros;
}

interface Excess {
  readonly limited: Micros;
  readonly debt: Micros;
  readonly unbilled: Micros;
}

/**
 * Charges `actual` against a pending hold and releases the rest; beyond the hold, see
 * `chargeExcess`. The gateway's settle of its own hold that expired (or was released) meanwhile
 * still bills what it relayed: a `relayed_charge` without a hold (see `chargeRelayed`).
 */
export function settleHold(state: BooksState, orgId: string, holdId: string, actual: Micros, now: number, tokens: Tokens, actor?: HoldActor): Result<SettleOutcome> {
  const checked = pendingHold(state, orgId, holdId, now, actor);
  if (!checked.ok) {
    const late = state.hold(orgId, holdId);
    if (actor?.kind === "gateway" && late && (late.status === "expired" || late.status === "released")) return ok(chargeRelayed(state, late, actual, now, tokens));
    return checked;
  }
  const hold = checked.value;
  const member = state.holder(hold);
  let excess: Excess = { limited: 0, debt: 0, unbilled: 0 };
  let creditCost = 0;
  if (hold.payer === "plan") {
    for (const ref of hold.windows) {
      state.changeWindow(hold.memberId, ref.key, ref.periodStart, (row) => {
        row.held = Math.max(0, row.held - hold.amount);
        row.used += actual;
      });
    }
  } else {
    const entries: LedgerEntry[] = [];
    const { left, charged, limitedCharged } = chargeDraws(state, hold, actual, entries, now);
    entries.push({ account: ACCOUNTS.hold(hold.id), amount: -hold.amount });
    if (charged > 0) entries.push({ account: ACCOUNTS.usageRevenue, amount: charged });
    // The hold's reservation becomes spend before any excess is weighed against the limits. The
    // hold leaves the day it was authorized on; the charge counts on the day it settles
    // (money-rules.md "Which period a charge counts in"), the day its ledger posting carries.
    state.addSpend(member, hold.day, "held", -hold.limitedAmount);
    state.addSpend(member, dayOf(now), "spent", limitedCharged);
    if (left > 0) {
      excess = chargeExcess(state, hold, member, left, now, entries, actor?.kind !== "gateway");
      state.addSpend(member, dayOf(now), "spent", excess.limited);
    }
    state.post(orgId, "settle", hold.id, now, entries);
    creditCost = limitedCharged + excess.limited;
  }
  const billed = actual - excess.unbilled;
  state.resolve(hold, "settled", billed, now);
  state.recordUsage(hold, billed, creditCost, tokens, now);
  return ok({ hold, charged: billed, released: Math.max(0, hold.amount - actual), debt: excess.debt, unbilled: excess.unbilled });
}

/** Takes `actual` from the hold's draws in order; what a draw reserved beyond it goes back to its grant. */
function chargeDraws(state: BooksState, hold: Hold, actual: Micros, entries: LedgerEntry[], now: number): { left: Micros; charged: Micros; limitedCharged: Micros } {
  let left = actual;
  let limitedCharged = 0;
  let charged = 0;
  for (const d of hold.draws) {
    const grant = state.drawnGrant(hold, d.grantId);
    const take = Math.min(d.amount, left);
    left -= take;
    charged += take;
    if (!isIncluded(grant)) limitedCharged += take;
    const back = d.amount - take;
    if (back > 0) returnToGrant(state, grant, back, entries, now);
  }
  return { left, charged, limitedCharged };
}

/**
 * Usage the gateway relayed under a hold that expired (or was released) before it could settle:
 * billed all the same, as a plain charge without a hold (`relayed_charge`): spendable grants in
 * burn order, then debt. Nothing relayed goes uncharged, whatever happened to its hold.
 */
function chargeRelayed(state: BooksState, hold: Hold, actual: Micros, now: number, tokens: Tokens): SettleOutcome {
  const member = state.holder(hold);
  let excess: Excess = { limited: 0, debt: 0, unbilled: 0 };
  if (hold.payer === "plan") {
    // The plan was paying: the usage counts against the same windows (no money moves).
    for (const ref of hold.windows) {
      state.changeWindow(hold.memberId, ref.key, ref.periodStart, (row) => {
        row.used += actual;
      });
    }
  } else if (actual > 0) {
    const entries: LedgerEntry[] = [];
    excess = chargeExcess(state, hold, member, actual, now, entries, false);
    state.post(hold.orgId, "relayed_charge", hold.id, now, entries);
    state.addSpend(member, dayOf(now), "spent", excess.limited);
  }
  state.recordUsage(hold, actual, excess.limited, tokens, now);
  return { hold, charged: actual, released: 0, debt: excess.debt, unbilled: 0 };
}

/**
 * Usage beyond the hold. The gateway's (`bounded` false: it relayed it, so it is owed): first
 * from other spendable grants in burn order, then as debt (a negative balance that blocks usage
 * credits until the next grant repays it).
 *
 * An API settle (`bounded`) may add beyond its hold only what admission would have allowed:
 * included credits (monthly SDK credits) first, then usage credits and debt only while usage
 * credits are enabled for the org and the member, the org is not in debt, and within the
 * headroom left under every applicable spending limit. The rest is `unbilled`: not charged,
 * reported back, so a small hold never turns into unbounded debt or a passed limit.
 */
function chargeExcess(state: BooksState, hold: Hold, member: Member, amount: Micros, now: number, entries: LedgerEntry[], bounded: boolean): Excess {
  // The same usability rule as authorize: usage credits that are switched off (or behind debt) are
  // never drawn; what nothing may pay becomes debt.
  const org = state.mustOrg(hold.orgId);
  // Debt blocks every grant, included ones too, as in authorize.
  const creditsAllowed = org.usageCreditsEnabled && member.usageCreditsEnabled && org.debt === 0;
  const grants = org.debt > 0 ? [] : state.spendableGrants(hold.orgId, member.id, hold.surface, now).filter((g) => isIncluded(g) || creditsAllowed);
  let draws: Draw[];
  let unpaid: Micros;
  let unbilled = 0;
  if (!bounded) {
    ({ draws, unpaid } = drawInOrder(grants, amount));
  } else {
    const included = drawInOrder(grants.filter(isIncluded), amount);
    let room = creditsAllowed ? included.unpaid : 0;
    // Hard limits bound it; an alert-only budget never does (money-rules.md R6).
    for (const h of state.headrooms(org, member, now)) if (h.limit.stopUsage) room = Math.min(room, Math.max(0, h.headroom));
    const credits = drawInOrder(grants.filter((g) => !isIncluded(g)), room);
    draws = [...included.draws, ...credits.draws];
    unpaid = credits.unpaid;
    unbilled = included.unpaid - room;
  }
  for (const d of draws) {
    state.changeGrant(d.grantId, -d.amount);
    entries.push({ account: ACCOUNTS.grant(d.grantId), amount: -d.amount });
  }
  const fromGrants = amount - unbilled - unpaid;
  if (fromGrants > 0) entries.push({ account: ACCOUNTS.usageRevenue, amount: fromGrants });
  if (unpaid > 0) {
    org.debt += unpaid;
    state.touchOrg(org.id);
    entries.push({ account: ACCOUNTS.debt(org.id), amount: -unpaid }, { account: ACCOUNTS.usageRevenue, amount: unpaid });
  }
  return { limited: state.limitedPart(draws) + unpaid, debt: unpaid, unbilled };
}

export function releaseHold(state: BooksState, orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
  const checked = pendingHold(state, orgId, holdId, now, actor);
  if (!checked.ok) return checked;
  unwind(state, checked.value, "released", now);
  return ok(checked.value);
}

/** Releases every loaded pending hold (of one org, if given) whose TTL has passed. */
export function expireHolds(state: BooksState, now: number, orgId?: string): Hold[] {
  const expired: Hold[] = [];
  for (const h of state.holds()) {
    if (h.status === "pending" && h.expiresAt <= now && (orgId === undefined || h.orgId === orgId)) {
      unwind(state, h, "expired", now);
      expired.push(h);
    }
  }
  return expired;
}

function pendingHold(state: BooksState, orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
  const hold = state.hold(orgId, holdId);
  if (!hold) return fail(domainError("not_found", `No hold ${holdId}.`));
  const refused = actor ? mayResolve(hold, actor) : undefined;
  if (refused) return fail(refused);
  if (hold.status === "pending" && hold.expiresAt <= now) {
    // Past its TTL: the hold resolves as expired (its reservation released), deterministically.
    unwind(state, hold, "expired", now);
  }
  if (hold.status === "expired") {
    return fail(domainError("hold_expired", `Hold ${holdId} expired at ${new Date(hold.expiresAt).toISOString()}; its reservation was released.`, { hold_id: holdId }));
  }
  if (hold.status !== "pending") {
    return fail(domainError("hold_not_pending", `Hold ${holdId} is already ${hold.status}; a hold resolves once.`, { hold_id: holdId, status: hold.status }));
  }
  return ok(hold);
}

function unwind(state: BooksState, hold: Hold, status: "released" | "expired", now: number): void {
  if (hold.payer === "plan") {
    for (const ref of hold.windows) {
      state.changeWindow(hold.memberId, ref.key, ref.periodStart, (row) => {
        row.held = Math.max(0, row.held - hold.amount);
      });
    }
  } else {
    const member = state.holder(hold);
    const entries: LedgerEntry[] = [{ account: ACCOUNTS.hold(hold.id), amount: -hold.amount }];
    for (const d of hold.draws) returnToGrant(state, state.drawnGrant(hold, d.grantId), d.amount, entries, now);
    state.post(hold.orgId, "release", hold.id, now, entries);
    state.addSpend(member, hold.day, "held", -hold.limitedAmount);
  }
  state.resolve(hold, status, 0, now);
}

/**
 * Money going back to a grant. If the grant was voided or has expired meanwhile, the amount
 * follows it out at once (to its funding source, or to breakage), so dead grants stay at zero.
 */
function returnToGrant(state: BooksState, grant: Grant, amount: Micros, entries: LedgerEntry[], now: number): void {
  const expired = grant.expiresAt !== null && grant.expiresAt <= now;
  if (grant.status === "voided") {
    entries.push({ account: ACCOUNTS.funding(grant.kind), amount });
  } else if (grant.status === "expired" || expired) {
    entries.push({ account: ACCOUNTS.breakage, amount });
    if (grant.status === "active" && grant.remaining === 0) {
      grant.status = "expired";
      state.touchGrant(grant.id);
    }
  } else {
    state.changeGrant(grant.id, amount);
    entries.push({ account: ACCOUNTS.grant(grant.id), amount });
  }
}
