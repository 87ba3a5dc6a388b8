// The legacy importer's decide step: the rows one legacy account becomes (pure, no I/O) — an
// organization, its members, a migrated grant per lot with its ledger transaction, this month's
// spend, payment methods, auto-reload and the monthly limit.

import type { Changes } from "../core/books.js";
import type { Grant } from "../core/grants.js";
import { newId } from "../core/ids.js";
import { monthOf, type LegacyAccount } from "../core/legacy-export.js";
import { dayOf, periodBounds, type SpendLimit } from "../core/limits.js";
import type { AutoReloadSettings, PaymentMethod } from "../core/money-in-model.js";
import { ACCOUNTS, type LedgerTransaction, type Member, type Organization } from "../core/model.js";
import type { LegacyImportRecord } from "../ports/legacy-import-store.js";

/** Migrated lots burn with purchased credits (same default priority as purchases and API grants). */
const MIGRATED_PRIORITY = 5;

export const lotDescription = (lotId: string): string => `migrated from extra usage: lot ${lotId}`;

export interface Built {
  readonly account: LegacyAccount;
  readonly orgId: string;
  readonly changes: Changes;
  readonly members: Member[];
  readonly methods: PaymentMethod[];
  readonly autoReload: AutoReloadSettings | null;
  readonly limit: SpendLimit | null;
  readonly record: LegacyImportRecord;
}

/** Decide: the rows one legacy account becomes (no I/O). */
export function buildAccount(a: LegacyAccount, digest: string, now: number): Built {
  const orgId = newId("organization", now);
  const org: Organization = {
    id: orgId,
    name: a.name,
    planId: a.plan,
    usageCreditsEnabled: a.enabled,
    fastModeEnabled: true,
    fastModeFallback: false,
    weeklyAnchor: a.createdAt,
    debt: 0,
    createdAt: a.createdAt,
  };
  const members: Member[] = a.members.map((m) => ({
    id: newId("member", now),
    orgId,
    email: m.email,
    name: m.name,
    role: m.role,
    seatTier: "standard",
    workspaceId: null,
    usageCreditsEnabled: m.enabled,
    fastModeEnabled: true,
    createdAt: now,
  }));
  const { grants, ledger } = migratedLots(a, orgId, now);
  // This month's spend so far counts toward spending limits exactly as before: it is carried as
  // the organization's spend on the first day of the month (spend of an older period is not).
  const monthStart = periodBounds("monthly", now).start;
  const spent = a.periodSpend && a.periodSpend.period === monthOf(now) ? a.periodSpend.spent : 0;
  const spendDays = spent > 0 ? [{ orgId, scopeKey: "org", day: dayOf(monthStart), spent, held: 0 }] : [];
  const methods: PaymentMethod[] = a.paymentMethods.map((p) => ({
    id: newId("paymentMethod", now),
    orgId,
    provider: p.provider,
    token: p.token,
    brand: p.brand,
    last4: p.last4,
    createdAt: now,
    detachedAt: null,
  }));
  const methodId = (legacyId: string | null) => (legacyId === null ? null : (methods[a.paymentMethods.findIndex((p) => p.id === legacyId)]?.id ?? null));
  const autoReload = importedReload(a, orgId, methodId, now);
  const limit: SpendLimit | null = a.monthlyLimit
    ? { id: newId("spendLimit", now), orgId, scope: "organization", scopeId: orgId, period: "monthly", amount: a.monthlyLimit.amount, stopUsage: true }
    : null;
  return {
    account: a,
    orgId,
    changes: { orgs: [org], grants: [], newGrants: grants, holds: [], newHolds: [], windows: [], spendDays, ledger, usage: [] },
    members,
    methods,
    autoReload,
    limit,
    record: { legacyId: a.id, orgId, digest, importedAt: now },
  };
}

/** A migrated grant per lot with something left, each with its funding transaction. */
function migratedLots(a: LegacyAccount, orgId: string, now: number): { grants: Grant[]; ledger: LedgerTransaction[] } {
  const grants: Grant[] = [];
  const ledger: LedgerTransaction[] = [];
  for (const lot of a.lots) {
    if (lot.remaining === 0) continue; // nothing to carry
    const grant: Grant = {
      id: newId("grant", now),
      orgId,
      kind: "migrated",
      amount: lot.remaining,
      remaining: lot.remaining,
      priority: MIGRATED_PRIORITY,
      expiresAt: lot.expiresAt,
      surfaces: null,
      memberId: null,
      createdAt: lot.purchasedAt,
      status: "active",
      description: lotDescription(lot.id),
    };
    grants.push(grant);
    ledger.push({
      id: newId("transaction", now),
      orgId,
      kind: "grant",
      ref: grant.id,
      at: now,
      entries: [
        { account: ACCOUNTS.funding("migrated"), amount: -grant.amount },
        { account: ACCOUNTS.grant(grant.id), amount: grant.amount },
      ],
    });
  }
  return { grants, ledger };
}

/** The account's auto-reload, on the imported payment method it named. */
function importedReload(a: LegacyAccount, orgId: string, methodId: (legacyId: string | null) => string | null, now: number): AutoReloadSettings | null {
  if (!a.autoReload) return null;
  return {
    orgId,
    enabled: a.autoReload.enabled,
    threshold: a.autoReload.threshold,
    mode: "amount",
    amount: a.autoReload.amount,
    targetBalance: null,
    paymentMethodId: methodId(a.autoReload.paymentMethodId),
    monthlyCap: null,
    consecutiveFailures: 0,
    suspended: false,
    lastFailureAt: null,
    lastSkipReason: null,
    lowBalanceNotified: false,
    updatedAt: now,
  };
}
