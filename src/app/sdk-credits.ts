// Monthly SDK credits, the use cases: a member's claim (opt-in), the organization's pooled setting,
// status reads, and the refresh job that grants every opted-in member each new billing cycle.
//
// Each write reads as load → decide (core/sdk-credits.ts) → write in ONE transaction that holds the
// organization's lock: the cycle's grant goes through Books.addGrant (so the ledger posts it like
// any grant) together with its (member, cycle) records, whose primary key makes a second grant for
// the same cycle impossible — whichever of a claim, the job on another instance, or a retry comes
// second finds the records and grants nothing. The grants are kind "monthly", priority 0, limited
// to the plan's credit-only surfaces and expiring at the cycle's end; the existing expiry sweep
// turns what is left into breakage (no rollover).

import { LoggedBooks } from "../core/operation-log.js";
import { domainError, type Result } from "../core/errors.js";
import type { Grant } from "../core/grants.js";
import { newId } from "../core/ids.js";
import type { Member, Organization } from "../core/model.js";
import { formatUsd, type Micros } from "../core/money.js";
import type { PlanDef, Surface } from "../core/plans.js";
import {
  cycleOf,
  defaultSettings,
  eligibleSurfaces,
  planCycle,
  SDK_CREDIT_PRIORITY,
  seatAmount,
  type Cycle,
  type SdkCreditClaim,
  type SdkCreditCycle,
  type SdkCreditSettings,
} from "../core/sdk-credits.js";
import type { Clock } from "../ports/clock.js";
import type { Store, StoreTx } from "../ports/store.js";
import type { Admin } from "./admin.js";
import { appendAudit } from "./audit.js";
import type { Idempotency, Outcome } from "./batcher.js";

/** Who acts: a member of the organization, or the platform operator. */
export type Actor = { readonly kind: "member"; readonly memberId: string; readonly canManage: boolean } | { readonly kind: "platform" };

export interface MemberSdkCredit {
  readonly orgId: string;
  readonly memberId: string;
  readonly claim: SdkCreditClaim | null;
  /** What the member's seat includes per cycle on the current plan. */
  readonly seatAmount: Micros;
  readonly surfaces: readonly Surface[];
  readonly settings: SdkCreditSettings;
  readonly cycle: Cycle;
  /** This cycle's record and its grant (individual: the member's own; pooled: the shared one). */
  readonly current: { readonly record: SdkCreditCycle; readonly grant: Grant | null } | null;
}

export interface OrgSdkCredits {
  readonly orgId: string;
  readonly settings: SdkCreditSettings;
  readonly cycle: Cycle;
  readonly members: ReadonlyArray<{ readonly claim: SdkCreditClaim; readonly seatAmount: Micros; readonly record: SdkCreditCycle | null }>;
  /** This cycle's monthly grants (member and pooled). */
  readonly grants: readonly Grant[];
}

export interface ClaimResult {
  readonly alreadyClaimed: boolean;
  readonly status: MemberSdkCredit;
}

const fail = <T>(code: Parameters<typeof domainError>[0], message: string, details?: Record<string, unknown>): Result<T> => ({ ok: false, error: domainError(code, message, details) });

export class SdkCredits {
  constructor(
    private readonly store: Store,
    private readonly admin: Admin,
    private readonly clock: Clock,
  ) {}

  /**
   * The member opts in (once) and receives this cycle's credit at once. A second claim changes
   * nothing and answers the same status. The member themselves, an owner/admin, or the platform.
   */
  async claim(orgId: string, memberId: string, actor: Actor, idem?: Idempotency<ClaimResult>): Promise<Outcome<ClaimResult>> {
    if (actor.kind === "member" && actor.memberId !== memberId && !actor.canManage) {
      return { kind: "fresh", result: fail("forbidden", "Only the member themselves, an owner or an admin may claim a member's monthly SDK credit.", { field: "member_id" }) };
    }
    return this.admin.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const member = await tx.getMember(memberId);
      if (!member || member.orgId !== orgId) return fail("not_found", `No member ${memberId}.`);
      const plan = await planOf(tx, org, now);
      const existing = await tx.sdkCredits.getClaim(memberId);
      if (!existing) {
        const amount = seatAmount(plan, member.seatTier);
        if (amount <= 0) {
          return fail("conflict", `The ${plan.name} plan includes no monthly SDK credit for a ${member.seatTier} seat.`, { plan_id: plan.id, seat_tier: member.seatTier });
        }
        const claim = { orgId, memberId, claimedAt: now, claimedBy: actor.kind === "platform" ? "platform" : actor.memberId };
        await tx.sdkCredits.insertClaim(claim);
        audit.record({ orgId, action: "sdk_credits.claimed", targetType: "sdk_credit_claim", targetId: memberId, before: null, after: claim });
      }
      for (const g of await this.grantDue(tx, org, cycleOf(now), now)) {
        audit.record({ orgId, action: "grant.created", targetType: "grant", targetId: g.id, before: null, after: g });
      }
      return { ok: true, value: { alreadyClaimed: existing !== undefined, status: await this.memberStatus(tx, org, member, now) } };
    });
  }

  /**
   * Pooled or per member, and the pool's cap. Applies to members not yet granted this cycle (a later
   * claim) and to every member from the next cycle; this cycle's grants stay as they are.
   */
  async configure(orgId: string, input: { pooled: boolean; poolCap: Micros | null }): Promise<Outcome<OrgSdkCredits>> {
    return this.admin.write(undefined, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const prior = await tx.sdkCredits.getSettings(orgId);
      const current = prior ?? defaultSettings(orgId);
      const next = { orgId, pooled: input.pooled, poolCap: input.poolCap ?? current.poolCap, updatedAt: now };
      await tx.sdkCredits.putSettings(next);
      audit.record({ orgId, action: "sdk_credits.updated", targetType: "sdk_credits", targetId: orgId, before: prior ?? null, after: next });
      return { ok: true, value: await this.orgStatusIn(tx, org, now) };
    });
  }

  async memberSdkCredit(orgId: string, memberId: string): Promise<Result<MemberSdkCredit>> {
    return this.admin.read(async (tx, now) => {
      const org = await tx.getOrg(orgId);
      if (!org) return fail<MemberSdkCredit>("not_found", `No organization ${orgId}.`);
      const member = await tx.getMember(memberId);
      if (!member || member.orgId !== orgId) return fail<MemberSdkCredit>("not_found", `No member ${memberId}.`);
      return { ok: true, value: await this.memberStatus(tx, org, member, now) };
    });
  }

  async orgSdkCredits(orgId: string): Promise<Result<OrgSdkCredits>> {
    return this.admin.read(async (tx, now) => {
      const org = await tx.getOrg(orgId);
      if (!org) return fail<OrgSdkCredits>("not_found", `No organization ${orgId}.`);
      return { ok: true, value: await this.orgStatusIn(tx, org, now) };
    });
  }

  /**
   * The refresh job (run by `runJobs`): grants the current cycle's credit to every opted-in member
   * who has no record for it yet. Idempotent; a crash between organizations loses nothing (the next
   * tick finds the rest). Credits appear within one sweep interval of the cycle's start.
   */
  async refresh(limit = 200): Promise<{ orgs: number; grants: number }> {
    const now = this.clock.now();
    const cycle = cycleOf(now);
    const due = await this.store.read((tx) => tx.sdkCredits.orgsDue(cycle.start, limit));
    let grants = 0;
    for (const orgId of due) {
      grants += await this.store.transaction(async (tx) => {
        const [org] = await tx.lockOrgs([orgId]);
        if (!org) return 0;
        const granted = await this.grantDue(tx, org, cycle, now);
        await appendAudit(tx, granted.map((g) => ({ orgId, action: "grant.created" as const, targetType: "grant" as const, targetId: g.id, before: null, after: g })), now);
        return granted.length;
      });
    }
    return { orgs: due.length, grants };
  }

  // ------------------------------------------------------------ inside a transaction

  /** Grants the cycle's credit to every claimant of the (locked) org without a record for it. */
  private async grantDue(tx: StoreTx, org: Organization, cycle: Cycle, now: number): Promise<Grant[]> {
    const claims = await tx.sdkCredits.listClaims(org.id);
    const records = await tx.sdkCredits.listCycles(org.id, cycle.start);
    const done = new Set(records.map((r) => r.memberId));
    const waiting = claims.filter((c) => !done.has(c.memberId));
    if (waiting.length === 0) return [];
    const settings = (await tx.sdkCredits.getSettings(org.id)) ?? defaultSettings(org.id);
    const snap = await tx.loadSnapshot({ orgIds: [org.id], memberIds: waiting.map((c) => c.memberId), holdIds: [], now }, [org]);
    const plan = snap.plans.get(org.planId);
    if (!plan) throw new Error(`plan ${org.planId} of ${org.id} not found`);
    const decided = planCycle({
      pooled: settings.pooled,
      cap: settings.poolCap,
      pooledSoFar: records.filter((r) => r.pooled).reduce((t, r) => t + r.amount, 0),
      claimants: waiting.map((c) => {
        const m = snap.members.get(c.memberId);
        return { memberId: c.memberId, amount: m ? seatAmount(plan, m.seatTier) : 0 };
      }),
    });

    const books = new LoggedBooks(snap, (kind) => newId(kind, now));
    const base = { orgId: org.id, kind: "monthly" as const, priority: SDK_CREDIT_PRIORITY, expiresAt: cycle.end, surfaces: [...eligibleSurfaces(plan)], createdAt: now, status: "active" as const };
    const granted: Grant[] = [];
    const give = (amount: Micros, memberId: string | null, description: string): string => {
      const g: Grant = { ...base, id: newId("grant", now), amount, remaining: amount, memberId, description };
      granted.push(books.addGrant(g, now));
      return g.id;
    };
    const rows: SdkCreditCycle[] = [];
    const record = (memberId: string, amount: Micros, grantId: string | null): void => {
      rows.push({ orgId: org.id, memberId, cycleStart: cycle.start, cycleEnd: cycle.end, pooled: decided.pooled, amount, grantId, createdAt: now });
    };
    if (decided.pooled) {
      const contributors = decided.shares.filter((s) => s.amount > 0).length;
      const poolId = decided.poolAmount > 0 ? give(decided.poolAmount, null, `Pooled monthly SDK credit ${cycle.label} (${contributors} member${contributors === 1 ? "" : "s"}, cap ${formatUsd(settings.poolCap)})`) : null;
      for (const s of decided.shares) record(s.memberId, s.amount, s.amount > 0 ? poolId : null);
    } else {
      for (const s of decided.shares) record(s.memberId, s.amount, s.amount > 0 ? give(s.amount, s.memberId, `Monthly SDK credit ${cycle.label} for ${s.memberId}`) : null);
    }
    await tx.writeChanges(books.changes());
    await tx.sdkCredits.insertCycles(rows);
    return granted;
  }

  private async memberStatus(tx: StoreTx, org: Organization, member: Member, now: number): Promise<MemberSdkCredit> {
    const cycle = cycleOf(now);
    const plan = await planOf(tx, org, now);
    const record = (await tx.sdkCredits.listCycles(org.id, cycle.start)).find((r) => r.memberId === member.id) ?? null;
    const grant = record?.grantId ? ((await tx.listGrants(org.id)).find((g) => g.id === record.grantId) ?? null) : null;
    return {
      orgId: org.id,
      memberId: member.id,
      claim: (await tx.sdkCredits.getClaim(member.id)) ?? null,
      seatAmount: seatAmount(plan, member.seatTier),
      surfaces: eligibleSurfaces(plan),
      settings: (await tx.sdkCredits.getSettings(org.id)) ?? defaultSettings(org.id),
      cycle,
      current: record ? { record, grant } : null,
    };
  }

  private async orgStatusIn(tx: StoreTx, org: Organization, now: number): Promise<OrgSdkCredits> {
    const cycle = cycleOf(now);
    const plan = await planOf(tx, org, now);
    const members = new Map((await tx.listMembers(org.id)).map((m) => [m.id, m]));
    const records = new Map((await tx.sdkCredits.listCycles(org.id, cycle.start)).map((r) => [r.memberId, r]));
    const grantIds = new Set([...records.values()].map((r) => r.grantId).filter((id): id is string => id !== null));
    return {
      orgId: org.id,
      settings: (await tx.sdkCredits.getSettings(org.id)) ?? defaultSettings(org.id),
      cycle,
      members: (await tx.sdkCredits.listClaims(org.id)).map((claim) => {
        const m = members.get(claim.memberId);
        return { claim, seatAmount: m ? seatAmount(plan, m.seatTier) : 0, record: records.get(claim.memberId) ?? null };
      }),
      grants: (await tx.listGrants(org.id)).filter((g) => grantIds.has(g.id)),
    };
  }
}

async function planOf(tx: StoreTx, org: Organization, now: number): Promise<PlanDef> {
  const plan = (await tx.listPlans(now)).find((p) => p.id === org.planId);
  if (!plan) throw new Error(`plan ${org.planId} of ${org.id} not found`);
  return plan;
}

/** The use case over the app's services (stateless, cheap to build). */
export const sdkCreditsOf = (s: { readonly store: Store; readonly admin: Admin; readonly clock: Clock }): SdkCredits => new SdkCredits(s.store, s.admin, s.clock);
