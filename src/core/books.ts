// The books: the state of a set of organizations, changed by operations applied one at a time
// in arrival order. A store loads a Snapshot, the books decide, and the store writes `changes()`
// in one transaction. Nothing here does I/O; the result of a batch is by construction the result
// of applying its operations one at a time.
//
// This class is the one door the app uses; the work lives beside it:
// - router.ts: who pays for a request, or which refusal (pure, tested alone in router.test.ts);
// - books-state.ts: the loaded state and what a batch changed (the store writes only that);
// - settlement.ts: settle (with excess and debt), release, expire;
// - grant-lifecycle.ts: add (repaying debt), void, expire grants.

import { BooksState, type Changes, type NewId, type WindowStatus } from "./books-state.js";
import { domainError, fail, ok, type Result } from "./errors.js";
import type { Grant, GrantKind } from "./grants.js";
import { addGrant, expireGrants, voidGrant } from "./grant-lifecycle.js";
import type { Headroom } from "./limits.js";
import { dayOf } from "./limits.js";
import type { Micros } from "./money.js";
import { ACCOUNTS, type Hold, type HoldOwner, type LedgerEntry, type Member, type Organization, type Snapshot, type WindowRef } from "./model.js";
import type { PlanDef } from "./plans.js";
import { routeCharge, type Route, type RouteRequest } from "./router.js";
import { expireHolds, NO_TOKENS, releaseHold, settleHold, type HoldActor, type SettleOutcome, type Tokens } from "./settlement.js";

export type { Changes, NewId, WindowStatus } from "./books-state.js";
export { mayResolve, NO_TOKENS, tokensOf, type HoldActor, type SettleOutcome, type Tokens } from "./settlement.js";
export type { WindowRef, GrantKind };

export interface AuthorizeRequest extends RouteRequest {
  readonly holdId: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly model: string;
  readonly family: string;
  readonly ttlMs: number;
  readonly metadata: Record<string, string>;
  /** Who may resolve the hold (default "api"); the gateway takes "gateway" holds. */
  readonly owner?: HoldOwner;
}

export class Books {
  private readonly state: BooksState;

  constructor(snap: Snapshot, newId: NewId) {
    this.state = new BooksState(snap, newId);
  }

  // ---------------------------------------------------------------- reads

  org(id: string): Organization | undefined {
    return this.state.org(id);
  }

  member(orgId: string, id: string): Member | undefined {
    return this.state.member(orgId, id);
  }

  hold(orgId: string, id: string): Hold | undefined {
    return this.state.hold(orgId, id);
  }

  grant(orgId: string, id: string): Grant | undefined {
    return this.state.grant(orgId, id);
  }

  planOf(org: Organization): PlanDef {
    return this.state.planOf(org);
  }

  /** Every window of the member's seat, as it stands at `now`. */
  windowStatus(org: Organization, member: Member, now: number, family?: string): WindowStatus[] {
    return this.state.windowStatus(org, member, now, family);
  }

  /** Usage-credit balance of the org: unexpired active usage-credit grants minus debt. */
  balance(orgId: string, now: number): Micros {
    return this.state.balance(orgId, now);
  }

  /** The limits that apply to a member, with this period's spend and headroom. */
  headrooms(org: Organization, member: Member, now: number): Headroom[] {
    return this.state.headrooms(org, member, now);
  }

  // ---------------------------------------------------------------- holds

  /** Admits a request: the router decides who pays, and the books reserve it as a pending hold. */
  authorize(req: AuthorizeRequest, now: number): Result<Hold> {
    const state = this.state;
    const org = state.org(req.orgId);
    const member = state.member(req.orgId, req.memberId);
    if (!org || !member) return fail(domainError("not_found", "No such organization member."));
    // Expired holds never block: the org's (loaded) expired holds give their money back first.
    if (state.firstAdmission(org.id)) expireHolds(state, now, org.id);
    const route = routeCharge({
      request: req,
      org,
      member,
      creditOnlySurfaces: state.planOf(org).creditOnlySurfaces,
      windows: state.windowStatus(org, member, now, req.family),
      grants: state.grants(),
      limits: state.limits(),
      spend: state.spend(),
      now,
    });
    if (route.payer === "none") return fail(route.refusal);
    const hold = this.reserve(req, member, route, now);
    state.addHold(hold);
    return ok(hold);
  }

  /** Takes what the router chose: the estimate into each window, or out of each grant onto the hold. */
  private reserve(req: AuthorizeRequest, member: Member, route: Exclude<Route, { payer: "none" }>, now: number): Hold {
    const base = {
      id: req.holdId,
      orgId: member.orgId,
      memberId: member.id,
      workspaceId: member.workspaceId,
      surface: req.surface,
      model: req.model,
      speed: req.speed,
      amount: req.estimate,
      day: dayOf(now),
      createdAt: now,
      expiresAt: now + req.ttlMs,
      status: "pending" as const,
      settledAmount: 0,
      resolvedAt: null,
      metadata: req.metadata,
      owner: req.owner ?? "api",
    };
    if (route.payer === "plan") {
      for (const s of route.windows) this.state.windowRow(member.id, s.key, s.periodStart).held += req.estimate;
      return { ...base, payer: "plan", draws: [], limitedAmount: 0, windows: route.windows.map((s) => ({ key: s.key, periodStart: s.periodStart })) };
    }
    const entries: LedgerEntry[] = [];
    for (const d of route.draws) {
      this.state.changeGrant(d.grantId, -d.amount);
      entries.push({ account: ACCOUNTS.grant(d.grantId), amount: -d.amount });
    }
    entries.push({ account: ACCOUNTS.hold(req.holdId), amount: req.estimate });
    this.state.post(member.orgId, "hold", req.holdId, now, entries);
    this.state.addSpend(member, base.day, "held", route.limitedAmount);
    return { ...base, payer: "credits", draws: route.draws, limitedAmount: route.limitedAmount, windows: [] };
  }

  /** See settlement.ts `settleHold`. */
  settle(orgId: string, holdId: string, actual: Micros, now: number, tokens: Tokens = NO_TOKENS, actor?: HoldActor): Result<SettleOutcome> {
    return settleHold(this.state, orgId, holdId, actual, now, tokens, actor);
  }

  release(orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
    return releaseHold(this.state, orgId, holdId, now, actor);
  }

  /** Releases every loaded pending hold (of one org, if given) whose TTL has passed. */
  expireHolds(now: number, orgId?: string): Hold[] {
    return expireHolds(this.state, now, orgId);
  }

  // ---------------------------------------------------------------- grants

  /** See grant-lifecycle.ts `addGrant`: every grant repays outstanding debt first. */
  addGrant(grant: Grant, now: number): Grant {
    return addGrant(this.state, grant, now);
  }

  /** Voids one grant: its remaining balance goes back to its funding source. Held amounts follow on release. */
  voidGrant(orgId: string, grantId: string, now: number): Result<Grant> {
    return voidGrant(this.state, orgId, grantId, now);
  }

  /** Moves what is left of every loaded grant past its expiry to breakage. */
  expireGrants(now: number): Grant[] {
    return expireGrants(this.state, now);
  }

  /** What the operations so far changed, for the store to write in one transaction. */
  changes(): Changes {
    return this.state.changes();
  }
}
