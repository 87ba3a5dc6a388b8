// The grant lifecycle: a grant is added (repaying the organization's debt first), voided (its
// remaining balance back to its funding source) or expired (what is left to breakage). Money going
// back to a grant after it died is settlement's (settlement.ts `returnToGrant`).

import type { BooksState } from "./books-state.js";
import { domainError, fail, ok, type Result } from "./errors.js";
import type { Grant } from "./grants.js";
import { ACCOUNTS } from "./model.js";

/**
 * A new grant. Every grant repays outstanding debt first, whatever its kind (monthly SDK credits
 * included) or restriction (one member, some surfaces): debt is the organization's and blocks
 * every grant until repaid, so a grant that did not repay it could not be spent anyway.
 */
export function addGrant(state: BooksState, grant: Grant, now: number): Grant {
  const org = state.mustOrg(grant.orgId);
  state.addGrant(grant);
  state.post(org.id, "grant", grant.id, now, [
    { account: ACCOUNTS.funding(grant.kind), amount: -grant.amount },
    { account: ACCOUNTS.grant(grant.id), amount: grant.amount },
  ]);
  if (org.debt > 0 && grant.remaining > 0) {
    const repay = Math.min(org.debt, grant.remaining);
    grant.remaining -= repay;
    org.debt -= repay;
    state.touchOrg(org.id);
    state.post(org.id, "debt_repayment", grant.id, now, [
      { account: ACCOUNTS.grant(grant.id), amount: -repay },
      { account: ACCOUNTS.debt(org.id), amount: repay },
    ]);
  }
  return grant;
}

/** Voids one grant: its remaining balance goes back to its funding source. Held amounts follow on release. */
export function voidGrant(state: BooksState, orgId: string, grantId: string, now: number): Result<Grant> {
  const grant = state.grant(orgId, grantId);
  if (!grant) return fail(domainError("not_found", `No grant ${grantId}.`));
  if (grant.status !== "active") {
    return fail(domainError("conflict", `Grant ${grantId} is already ${grant.status}.`, { status: grant.status }));
  }
  if (grant.remaining > 0) {
    state.post(orgId, "void", grantId, now, [
      { account: ACCOUNTS.grant(grantId), amount: -grant.remaining },
      { account: ACCOUNTS.funding(grant.kind), amount: grant.remaining },
    ]);
  }
  grant.remaining = 0;
  grant.status = "voided";
  state.touchGrant(grantId);
  return ok(grant);
}

/** Moves what is left of every loaded grant past its expiry to breakage. */
export function expireGrants(state: BooksState, now: number): Grant[] {
  const expired: Grant[] = [];
  for (const g of state.grants()) {
    if (g.status !== "active" || g.expiresAt === null || g.expiresAt > now) continue;
    if (g.remaining > 0) {
      state.post(g.orgId, "expire", g.id, now, [
        { account: ACCOUNTS.grant(g.id), amount: -g.remaining },
        { account: ACCOUNTS.breakage, amount: g.remaining },
      ]);
    }
    g.remaining = 0;
    g.status = "expired";
    state.touchGrant(g.id);
    expired.push(g);
  }
  return expired;
}
