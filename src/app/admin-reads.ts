// The read models behind the API and the cli: lists and lookups scoped to an organization, the
// usage summary, the ledger and its verification, the audit log and the dashboard's breakdown.
// Reads never take the write lock (they never queue behind a committing batch). Handlers call
// these by name; no edge holds a store transaction.

import type { AuditEntry } from "../core/audit.js";
import { Books } from "../core/books.js";
import { domainError, type Result } from "../core/errors.js";
import type { Grant } from "../core/grants.js";
import { verifyLedger, type Violation } from "../core/ledger-verify.js";
import { periodBounds, type SpendLimit } from "../core/limits.js";
import type { Hold, LedgerTransaction, Member, Organization, UsageRecord } from "../core/model.js";
import type { Micros } from "../core/money.js";
import type { AuditQuery } from "../ports/audit-store.js";
import type { Clock } from "../ports/clock.js";
import type { UsageCell } from "../ports/dashboard-store.js";
import type { ApiKeyRow, Store, StoreTx, Workspace } from "../ports/store.js";
import type { Standing } from "./engine.js";

export interface UsageSummary extends Standing {
  readonly monthSpent: Micros;
}

export interface CreditsStatus {
  readonly org: Organization;
  readonly balance: Micros;
  /** The organization-wide monthly spending limit, if one is set (amount null: explicitly unlimited). */
  readonly monthlyLimit: SpendLimit | null;
  readonly monthSpent: Micros;
}

const fail = <T>(code: Parameters<typeof domainError>[0], message: string): Result<T> => ({ ok: false, error: domainError(code, message) });

export class AdminReads {
  constructor(
    protected readonly store: Store,
    protected readonly clock: Clock,
  ) {}

  /** Reads without the write lock: they never queue behind a committing batch. */
  read<T>(fn: (tx: StoreTx, now: number) => Promise<T>): Promise<T> {
    return this.store.read((tx) => fn(tx, this.clock.now()));
  }

  // ------------------------------------------------------------ lists and lookups

  listOrgs(limit: number, offset: number): Promise<Organization[]> {
    return this.read((tx) => tx.listOrgs(limit, offset));
  }

  async getOrg(orgId: string): Promise<Result<Organization>> {
    const org = await this.read((tx) => tx.getOrg(orgId));
    return org ? { ok: true, value: org } : fail("not_found", `No organization ${orgId}.`);
  }

  listMembers(orgId: string): Promise<Member[]> {
    return this.read((tx) => tx.listMembers(orgId));
  }

  /** A member of this organization (another organization's member looks exactly like a missing one). */
  async getMember(orgId: string, memberId: string): Promise<Result<Member>> {
    const m = await this.read((tx) => tx.getMember(memberId));
    return m && m.orgId === orgId ? { ok: true, value: m } : fail("not_found", `No member ${memberId}.`);
  }

  listWorkspaces(orgId: string): Promise<Workspace[]> {
    return this.read((tx) => tx.listWorkspaces(orgId));
  }

  listApiKeys(orgId: string): Promise<ApiKeyRow[]> {
    return this.read((tx) => tx.listApiKeys(orgId));
  }

  listGrants(orgId: string): Promise<Grant[]> {
    return this.read((tx) => tx.listGrants(orgId));
  }

  listLimits(orgId: string): Promise<SpendLimit[]> {
    return this.read((tx) => tx.listLimits(orgId));
  }

  /** A hold of this organization; with `ownedBy`, only that member's (another's looks missing). */
  async getHold(orgId: string, holdId: string, ownedBy?: string): Promise<Result<Hold>> {
    const h = await this.read((tx) => tx.getHold(holdId));
    return h && h.orgId === orgId && (ownedBy === undefined || h.memberId === ownedBy) ? { ok: true, value: h } : fail("not_found", `No hold ${holdId}.`);
  }

  /** One page of an audit log (an organization's, or the platform's), newest first. */
  auditEntries(q: AuditQuery): Promise<AuditEntry[]> {
    return this.read((tx) => tx.audit.list(q));
  }

  /** The dashboard's usage cells (per day, model, surface, member) in [from, to). */
  usageBreakdown(orgId: string, from: number, to: number): Promise<UsageCell[]> {
    return this.read((tx) => tx.dashboard.usageBreakdown(orgId, from, to));
  }

  /** Holds not yet settled, released or expired (the /metrics gauge). */
  pendingHoldCount(): Promise<number> {
    return this.read((tx) => tx.pendingHoldCount());
  }

  // ------------------------------------------------------------ read models
  async usageSummary(orgId: string, memberId: string): Promise<Result<UsageSummary>> {
    return this.read(async (tx, now) => {
      const orgs = await tx.lockOrgs([orgId], false); // a read: no lock is taken inside read()
      const snap = await tx.loadSnapshot({ orgIds: [orgId], memberIds: [memberId], holdIds: [], now, allSpend: true }, orgs);
      const books = new Books(snap, () => "unused");
      const org = books.org(orgId);
      const member = books.member(orgId, memberId);
      if (!org || !member) return fail<UsageSummary>("not_found", `No member ${memberId}.`);
      const { start } = periodBounds("monthly", now);
      const monthSpent = snap.spendDays.filter((d) => d.scopeKey === "org" && d.day * 86_400_000 >= start).reduce((t, d) => t + d.spent, 0);
      return {
        ok: true,
        value: { member, org, windows: books.windowStatus(org, member, now), balance: books.balance(orgId, now), limits: books.headrooms(org, member, now), monthSpent },
      };
    });
  }

  /** The organization's usage credits: switch, balance, organization monthly limit and this month's spend. */
  async creditsStatus(orgId: string): Promise<Result<CreditsStatus>> {
    return this.read(async (tx, now) => {
      const orgs = await tx.lockOrgs([orgId], false);
      const snap = await tx.loadSnapshot({ orgIds: [orgId], memberIds: [], holdIds: [], now, allSpend: true }, orgs);
      const org = snap.orgs.get(orgId);
      if (!org) return fail<CreditsStatus>("not_found", `No organization ${orgId}.`);
      const { start } = periodBounds("monthly", now);
      const monthSpent = snap.spendDays.filter((d) => d.scopeKey === "org" && d.day * 86_400_000 >= start).reduce((t, d) => t + d.spent, 0);
      const monthlyLimit = snap.limits.find((l) => l.scope === "organization" && l.period === "monthly") ?? null;
      return { ok: true, value: { org, balance: new Books(snap, () => "unused").balance(orgId, now), monthlyLimit, monthSpent } };
    });
  }

  async usageRecords(orgId: string, from: number, to: number, memberId?: string): Promise<UsageRecord[]> {
    return this.read((tx) => tx.listUsage(memberId ? { orgId, from, to, memberId } : { orgId, from, to }));
  }

  /** The ledger newest first; with `holdsOf`, only the hold transactions of that member's holds. */
  async transactions(orgId: string, limit: number, before?: { at: number; id: string }, kind?: string, holdsOf?: string): Promise<LedgerTransaction[]> {
    return this.read((tx) =>
      tx.listLedger({ orgId, limit, ...(before ? { before } : {}), ...(kind !== undefined ? { kind } : {}), ...(holdsOf !== undefined ? { holdsOf } : {}) }),
    );
  }

  async verify(): Promise<{ transactions: number; violations: Violation[] }> {
    const agg = await this.read((tx) => tx.ledgerAggregates());
    return { transactions: agg.transactionCount, violations: verifyLedger(agg) };
  }}
