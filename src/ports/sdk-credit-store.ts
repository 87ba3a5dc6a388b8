// The store's monthly-SDK-credit part (reached as `tx.sdkCredits` inside any store transaction, so a
// claim, this cycle's grant and its (member, cycle) record commit together): per-org settings, the
// members' opt-ins, and one record per member and billing cycle (its primary key is what makes the
// refresh job idempotent).

import type { SdkCreditClaim, SdkCreditCycle, SdkCreditSettings } from "../core/sdk-credits.js";

export interface SdkCreditsTx {
  getSettings(orgId: string): Promise<SdkCreditSettings | undefined>;
  putSettings(settings: SdkCreditSettings): Promise<void>;
  getClaim(memberId: string): Promise<SdkCreditClaim | undefined>;
  insertClaim(claim: SdkCreditClaim): Promise<void>;
  /** An organization's opt-ins, in claim order. */
  listClaims(orgId: string): Promise<SdkCreditClaim[]>;
  /** The organization's records for one cycle. */
  listCycles(orgId: string, cycleStart: number): Promise<SdkCreditCycle[]>;
  /** Plain inserts: a second record for a (member, cycle) is a constraint violation, never an overwrite. */
  insertCycles(rows: readonly SdkCreditCycle[]): Promise<void>;
  /** Organizations with an opted-in member who has no record for this cycle yet (the refresh job's work). */
  orgsDue(cycleStart: number, limit: number): Promise<string[]>;
}
