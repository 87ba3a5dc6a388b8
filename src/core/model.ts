// Plain data the core works on. Rows are loaded by a store, changed by books.ts, written back.

import type { Micros } from "./money.js";
import type { Draw, Grant } from "./grants.js";
import type { PlanDef, SeatTier, Surface } from "./plans.js";
import type { SpendLimit } from "./limits.js";
import type { Speed } from "./rating.js";

export const ROLES = ["owner", "admin", "billing", "member"] as const;
export type Role = (typeof ROLES)[number];

export interface Organization {
  readonly id: string;
  name: string;
  planId: string;
  usageCreditsEnabled: boolean;
  fastModeEnabled: boolean;
  /** When fast mode cannot be paid, fall back to standard speed instead of refusing (gateway). */
  fastModeFallback: boolean;
  /** Weekly windows reset at anchor + k·7d (the vendor assigns each account a fixed day/time). */
  readonly weeklyAnchor: number;
  /** Usage delivered beyond holds and balance; blocks usage credits until repaid. Cached from the ledger. */
  debt: Micros;
  readonly createdAt: number;
}

export interface Member {
  readonly id: string;
  readonly orgId: string;
  email: string;
  name: string;
  role: Role;
  seatTier: SeatTier;
  workspaceId: string | null;
  usageCreditsEnabled: boolean;
  /** May use fast mode (when the organization allows it too). */
  fastModeEnabled: boolean;
  readonly createdAt: number;
}

export interface WindowUsage {
  readonly memberId: string;
  readonly key: string;
  periodStart: number;
  used: Micros;
  held: Micros;
}

/** Usage-credit spend (and holds) per scope per UTC day; periods are sums of days. */
export interface SpendDay {
  readonly orgId: string;
  /** "org", "wrk_…", or "mem_…" */
  readonly scopeKey: string;
  readonly day: number;
  spent: Micros;
  held: Micros;
}

export type HoldStatus = "pending" | "settled" | "released" | "expired";

export interface WindowRef {
  readonly key: string;
  readonly periodStart: number;
}

export interface Hold {
  readonly id: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly workspaceId: string | null;
  readonly surface: Surface;
  readonly model: string;
  readonly speed: Speed;
  readonly payer: "plan" | "credits";
  /** The reserved (estimated) cost. */
  readonly amount: Micros;
  /** Credits: what each grant reserved, in burn order. */
  readonly draws: readonly Draw[];
  /** Of `amount`, the part drawn from usage credits (counts toward spending limits). */
  readonly limitedAmount: Micros;
  /** Plan: the windows (and their periods) that reserved the amount. */
  readonly windows: readonly WindowRef[];
  readonly day: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  status: HoldStatus;
  settledAmount: Micros;
  resolvedAt: number | null;
  readonly metadata: Record<string, string>;
  /**
   * Who resolves the hold: "api" holds are settled or released over the API (by their member or
   * by owner/admin/billing); "gateway" holds only by the gateway that took them, which bills what
   * it relayed.
   */
  readonly owner: HoldOwner;
}

export type HoldOwner = "api" | "gateway";

export interface LedgerEntry {
  readonly account: string;
  readonly amount: Micros;
}

export type LedgerKind =
  | "grant"
  | "hold"
  | "settle"
  | "release"
  | "void"
  | "expire"
  | "debt_repayment"
  /** Usage the gateway relayed after its hold was already resolved (expired): billed without a hold. */
  | "relayed_charge";

export interface LedgerTransaction {
  readonly id: string;
  readonly orgId: string;
  readonly kind: LedgerKind;
  /** The hold, grant or request this transaction belongs to. */
  readonly ref: string;
  readonly at: number;
  readonly entries: readonly LedgerEntry[];
}

/** One record per settled request (plan or credits) for usage summaries and statements. */
export interface UsageRecord {
  readonly id: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly workspaceId: string | null;
  readonly holdId: string;
  readonly surface: Surface;
  readonly model: string;
  readonly speed: Speed;
  readonly payer: "plan" | "credits";
  readonly cost: Micros;
  /** Of `cost`, what usage credits paid (the rest: plan or included credits). */
  readonly creditCost: Micros;
  /** Input tokens (cache writes and reads included) and output tokens; 0 when metered by amount. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly at: number;
}

/** What a store loads for a batch of operations: everything they may read or change. */
export interface Snapshot {
  readonly orgs: Map<string, Organization>;
  readonly plans: Map<string, PlanDef>;
  readonly members: Map<string, Member>;
  /** Active grants with a balance, plus any grant a loaded hold drew from. */
  readonly grants: Map<string, Grant>;
  readonly limits: SpendLimit[];
  readonly windows: WindowUsage[];
  readonly spendDays: SpendDay[];
  readonly holds: Map<string, Hold>;
}

export const ACCOUNTS = {
  grant: (id: string) => `grant:${id}`,
  hold: (id: string) => `hold:${id}`,
  debt: (orgId: string) => `debt:${orgId}`,
  funding: (kind: string) => `funding:${kind}`,
  usageRevenue: "revenue:usage",
  breakage: "revenue:breakage",
} as const;
