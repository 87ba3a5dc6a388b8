// Monthly SDK credits (a member's claim, the organization's settings and pool) → the API's JSON.

import type { ClaimResult, MemberSdkCredit, OrgSdkCredits } from "../app/sdk-credits.js";
import type { Cycle } from "../core/sdk-credits.js";
import { presentGrant } from "./core.js";
import { iso, MONEY_FORMAT } from "./format.js";
import type * as R from "../schemas/responses.js";

const presentCycle = (c: Cycle) => ({ month: c.label, starts_at: iso(c.start), ends_at: iso(c.end) });

export const presentMemberSdkCredit = (s: MemberSdkCredit): R.SdkCredit => ({
  type: "sdk_credit",
  org_id: s.orgId,
  member_id: s.memberId,
  claimed: s.claim !== null,
  claimed_at: iso(s.claim?.claimedAt ?? null),
  claimed_by: s.claim?.claimedBy ?? null,
  seat_amount: String(s.seatAmount),
  surfaces: s.surfaces,
  pooled: s.settings.pooled,
  cycle: presentCycle(s.cycle),
  current_cycle: s.current
    ? {
        pooled: s.current.record.pooled,
        amount: String(s.current.record.amount),
        grant_id: s.current.record.grantId,
        grant: s.current.grant ? presentGrant(s.current.grant) : null,
      }
    : null,
  ...MONEY_FORMAT,
});

export const presentClaim = (r: ClaimResult): R.SdkCreditClaim => ({ already_claimed: r.alreadyClaimed, ...presentMemberSdkCredit(r.status) });

export const presentOrgSdkCredits = (s: OrgSdkCredits): R.SdkCreditSettings => {
  const pool = s.grants.filter((g) => g.memberId === null);
  return {
    type: "sdk_credit_settings",
    org_id: s.orgId,
    pooled: s.settings.pooled,
    pool_cap: String(s.settings.poolCap),
    cycle: presentCycle(s.cycle),
    members: s.members.map((m) => ({
      member_id: m.claim.memberId,
      claimed_at: iso(m.claim.claimedAt),
      seat_amount: String(m.seatAmount),
      current_cycle: m.record ? { pooled: m.record.pooled, amount: String(m.record.amount), grant_id: m.record.grantId } : null,
    })),
    pool: {
      granted: String(pool.reduce((t, g) => t + g.amount, 0)),
      remaining: String(pool.reduce((t, g) => t + g.remaining, 0)),
    },
    grants: s.grants.map(presentGrant),
    ...MONEY_FORMAT,
  };
};
