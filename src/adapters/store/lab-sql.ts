// SQL for the pricing lab: the operation log in pages, the opening state of a period rebuilt from
// the ledger, the holds and the usage records, and the actual figures. Portable SQL for SQLite
// and PostgreSQL.

import { countUsage, zeroSpend, type OrgOpening, type Spend } from "../../core/lab.js";
import { isIncluded, type Grant } from "../../core/grants.js";
import { dayOf, type SpendLimit } from "../../core/limits.js";
import type { Hold, Member, Organization, SpendDay, WindowRef, WindowUsage } from "../../core/model.js";
import type { Micros } from "../../core/money.js";
import type { LogEntry } from "../../core/operation-log.js";
import { DAY_MS } from "../../core/plans.js";
import type { ActualFigures, BareRecord, LabTx, LogPageQuery } from "../../ports/lab-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { logFrom } from "./operation-log-sql.js";
import { GRANTS, HOLDS, MEMBERS, ORGANIZATIONS, SPEND_LIMITS } from "./tables.js";
import { inList } from "./sql-bulk.js";
import { marks, n, s, sOrNull } from "./sql-values.js";

/** Weekly windows are 7 days: plan holds of the 8 days before the period rebuild every open window. */
const WINDOW_LOOKBACK_MS = 8 * DAY_MS;
/** Spending-limit periods reach back a month at most (and a day for holds): 32 days of counters. */
const SPEND_LOOKBACK_DAYS = 32;

export class SqlLabTx implements LabTx {
  constructor(private readonly q: Queryable) {}

  async organizations(orgIds: readonly string[] | null): Promise<Array<{ id: string; name: string }>> {
    const rows = orgIds === null ? await this.q.all("SELECT id, name FROM organizations ORDER BY id") : await inList(this.q, (l) => `SELECT id, name FROM organizations WHERE id IN (${l})`, orgIds);
    return rows.map((r) => ({ id: s(r["id"]), name: s(r["name"]) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async logRange(from: number, to: number): Promise<{ first: number; last: number } | null> {
    const r = (await this.q.all("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM operation_log WHERE at >= ? AND at < ?", [from, to]))[0];
    if (!r || r["lo"] === null || r["lo"] === undefined) return null;
    return { first: n(r["lo"]), last: n(r["hi"]) };
  }

  async logPage(p: LogPageQuery): Promise<Array<LogEntry & { readonly seq: number }>> {
    // Walked by sequence number (the primary key), never by time: "+at" keeps the planner off the
    // at index, which would sort the whole period for every page.
    const params: SqlValue[] = [p.afterSeq, p.lastSeq, p.from, p.to];
    let orgs = "";
    if (p.orgIds !== null) {
      orgs = ` AND org_id IN (${marks(p.orgIds.length)})`;
      params.push(...p.orgIds);
    }
    params.push(p.limit);
    const rows = await this.q.all(`SELECT * FROM operation_log WHERE seq > ? AND seq <= ? AND +at >= ? AND +at < ?${orgs} ORDER BY seq LIMIT ?`, params);
    return rows.map(logFrom);
  }

  async bareRecords(p: { from: number; to: number; orgIds: readonly string[] | null; afterAt: number; afterId: string; limit: number }): Promise<BareRecord[]> {
    const params: SqlValue[] = [p.from, p.to, p.afterAt, p.afterAt, p.afterId];
    let orgs = "";
    if (p.orgIds !== null) {
      orgs = ` AND org_id IN (${marks(p.orgIds.length)})`;
      params.push(...p.orgIds);
    }
    params.push(p.limit);
    const rows = await this.q.all(
      `SELECT id, org_id, member_id, hold_id, surface, model, speed, cost, input_tokens, output_tokens, at FROM usage_records
       WHERE at >= ? AND at < ? AND fresh_input_tokens IS NULL AND (at > ? OR (at = ? AND id > ?))${orgs} ORDER BY at, id LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: s(r["id"]),
      orgId: s(r["org_id"]),
      memberId: s(r["member_id"]),
      holdId: s(r["hold_id"]),
      surface: s(r["surface"]),
      model: s(r["model"]),
      speed: s(r["speed"]),
      cost: n(r["cost"]),
      inputTokens: n(r["input_tokens"] ?? 0),
      outputTokens: n(r["output_tokens"] ?? 0),
      at: n(r["at"]),
    }));
  }

  async openings(orgIds: readonly string[], from: number): Promise<OrgOpening[]> {
    if (orgIds.length === 0) return [];
    const q = this.q;
    const [settingsLog, orgRows, memberRows, limitRows, limitLog, grantRows, balances, voids, holdRows, planHolds, planUsage, creditUsage] = await Promise.all([
      inList(q, (l) => `SELECT kind, data FROM operation_log WHERE org_id IN (${l}) AND kind IN ('org_update', 'member_update') AND at >= ? ORDER BY seq`, orgIds, [from]),
      inList(q, (l) => `SELECT * FROM organizations WHERE id IN (${l})`, orgIds),
      inList(q, (l) => `SELECT * FROM members WHERE org_id IN (${l})`, orgIds),
      inList(q, (l) => `SELECT * FROM spend_limits WHERE org_id IN (${l})`, orgIds),
      inList(q, (l) => `SELECT org_id, data FROM operation_log WHERE org_id IN (${l}) AND kind IN ('limit_set', 'limit_delete') AND at >= ? ORDER BY seq`, orgIds, [from]),
      inList(q, (l) => `SELECT * FROM grants WHERE org_id IN (${l}) AND created_at < ?`, orgIds, [from]),
      // Grant and debt accounts at `from`, from the ledger (the grants table holds today's balances).
      inList(
        q,
        (l) => `SELECT e.account AS account, SUM(e.amount) AS amount FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id
                WHERE t.org_id IN (${l}) AND t.at < ? AND (e.account LIKE 'grant:%' OR e.account LIKE 'debt:%') GROUP BY e.account`,
        orgIds,
        [from],
      ),
      inList(q, (l) => `SELECT data FROM operation_log WHERE org_id IN (${l}) AND kind = 'void' AND code IS NULL AND at >= ?`, orgIds, [from]),
      inList(q, (l) => `SELECT * FROM holds WHERE org_id IN (${l}) AND created_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)`, orgIds, [from, from]),
      inList(q, (l) => `SELECT * FROM holds WHERE org_id IN (${l}) AND payer = 'plan' AND created_at >= ? AND created_at < ?`, orgIds, [from - WINDOW_LOOKBACK_MS, from]),
      inList(q, (l) => `SELECT hold_id, cost FROM usage_records WHERE org_id IN (${l}) AND payer = 'plan' AND at >= ? AND at < ?`, orgIds, [from - WINDOW_LOOKBACK_MS, from]),
      inList(
        q,
        (l) => `SELECT org_id, member_id, workspace_id, at, credit_cost FROM usage_records WHERE org_id IN (${l}) AND at >= ? AND at < ? AND credit_cost <> 0`,
        orgIds,
        [(dayOf(from) - SPEND_LOOKBACK_DAYS) * DAY_MS, from],
      ),
    ]);
    const sums = new Map<string, number>();
    for (const r of balances) sums.set(s(r["account"]), n(r["amount"]));
    const pending: Hold[] = holdRows.map((r) => ({ ...HOLDS.from(r), status: "pending", settledAmount: 0, resolvedAt: null }));
    const { orgBefore, memberBefore } = settingsBefore(settingsLog);
    const members = byOrg(memberRows.map(MEMBERS.from).map((m) => settingsOf(m, memberBefore.get(m.id), ["seatTier", "workspaceId", "usageCreditsEnabled", "fastModeEnabled", "role"])));
    const grantsBy = byOrg(grantsAt(grantRows, sums, voids, from));
    const holdsBy = byOrg(pending);
    const limitsBy = byOrg(limitsAt(limitRows, limitLog));
    const windowsBy = byOrg(windowsAt(planHolds, planUsage, from));
    const daysBy = byOrg(spendDaysAt(creditUsage, pending));
    return orgRows.map((r) => {
      const org = settingsOf(ORGANIZATIONS.from(r), orgBefore.get(s(r["id"])), ["planId", "usageCreditsEnabled", "fastModeEnabled", "fastModeFallback"]);
      return {
        org: { ...org, debt: -(sums.get(`debt:${org.id}`) ?? 0) },
        members: members.get(org.id) ?? [],
        grants: grantsBy.get(org.id) ?? [],
        limits: limitsBy.get(org.id) ?? [],
        windows: (windowsBy.get(org.id) ?? []).map(({ memberId, key, periodStart, used, held }) => ({ memberId, key, periodStart, used, held })),
        spendDays: daysBy.get(org.id) ?? [],
        holds: holdsBy.get(org.id) ?? [],
      };
    });
  }

  async actual(orgIds: readonly string[], from: number, to: number): Promise<ActualFigures> {
    const q = this.q;
    const [usage, revenue, accounts, grantRows] = await Promise.all([
      inList(
        q,
        (l) => `SELECT org_id, member_id, payer, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, COUNT(*) AS records,
                SUM(CASE WHEN fresh_input_tokens IS NULL THEN 1 ELSE 0 END) AS bare
                FROM usage_records WHERE org_id IN (${l}) AND at >= ? AND at < ? GROUP BY org_id, member_id, payer`,
        orgIds,
        [from, to],
      ),
      inList(
        q,
        (l) => `SELECT t.org_id AS org_id, e.account AS account, SUM(e.amount) AS amount FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id
                WHERE t.org_id IN (${l}) AND t.at >= ? AND t.at < ? AND e.account IN ('revenue:usage', 'revenue:breakage') GROUP BY t.org_id, e.account`,
        orgIds,
        [from, to],
      ),
      inList(
        q,
        (l) => `SELECT t.org_id AS org_id, e.account AS account, SUM(e.amount) AS amount FROM ledger_transactions t JOIN ledger_entries e ON e.tx_id = t.id
                WHERE t.org_id IN (${l}) AND t.at < ? AND (e.account LIKE 'grant:%' OR e.account LIKE 'debt:%') GROUP BY t.org_id, e.account`,
        orgIds,
        [to],
      ),
      inList(q, (l) => `SELECT * FROM grants WHERE org_id IN (${l})`, orgIds),
    ]);
    const spend = new Map<string, Spend>();
    const members = new Map<string, Map<string, Spend>>();
    let records = 0;
    let bare = 0;
    const orgSpend = (orgId: string): Spend => {
      let sp = spend.get(orgId);
      if (!sp) {
        sp = zeroSpend();
        spend.set(orgId, sp);
      }
      return sp;
    };
    for (const r of usage as Row[]) {
      const orgId = s(r["org_id"]);
      const memberId = s(r["member_id"]);
      const payer = s(r["payer"]) === "plan" ? "plan" : "credits";
      const cost = n(r["cost"]);
      const creditCost = n(r["credit_cost"]);
      records += n(r["records"]);
      bare += n(r["bare"]);
      let byMember = members.get(orgId);
      if (!byMember) {
        byMember = new Map();
        members.set(orgId, byMember);
      }
      let m = byMember.get(memberId);
      if (!m) {
        m = zeroSpend();
        byMember.set(memberId, m);
      }
      countUsage(m, payer, cost, creditCost);
      const o = orgSpend(orgId);
      const rev = o.revenue;
      countUsage(o, payer, cost, creditCost);
      o.revenue = rev;
    }
    for (const r of revenue) {
      const o = orgSpend(s(r["org_id"]));
      if (s(r["account"]) === "revenue:usage") o.revenue += n(r["amount"]);
      else o.breakage += n(r["amount"]);
    }
    // The balance as the books compute it: usage-credit grants active and unexpired at `to`, less debt.
    const counted = new Set<string>();
    for (const r of grantRows) {
      const g = GRANTS.from(r);
      if (!isIncluded(g) && g.status !== "voided" && (g.expiresAt === null || g.expiresAt > to)) counted.add(`grant:${g.id}`);
    }
    const closingBalance = new Map<string, Micros>();
    for (const r of accounts) {
      const account = s(r["account"]);
      if (!account.startsWith("debt:") && !counted.has(account)) continue;
      const orgId = s(r["org_id"]);
      closingBalance.set(orgId, (closingBalance.get(orgId) ?? 0) + n(r["amount"]));
    }
    return { spend, members, closingBalance, records, recordsWithoutClasses: bare };
  }
}

function byOrg<T extends { orgId: string }>(items: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const list = m.get(it.orgId) ?? [];
    list.push(it);
    m.set(it.orgId, list);
  }
  return m;
}

/** Limits at `from`: today's, with each limit changed since as it was before its first change. */
function limitsAt(limitRows: readonly Row[], limitLog: readonly Row[]): SpendLimit[] {
  const limits = new Map<string, SpendLimit>();
  for (const r of limitRows) {
    const l = SPEND_LIMITS.from(r);
    limits.set(l.id, l);
  }
  const seen = new Set<string>();
  for (const r of limitLog) {
    const { before, after } = JSON.parse(s(r["data"])) as { before: SpendLimit | null; after: SpendLimit | null };
    const id = (after ?? before)?.id;
    if (id === undefined || seen.has(id)) continue;
    seen.add(id);
    if (before) limits.set(id, before);
    else limits.delete(id);
  }
  return [...limits.values()];
}

/** Grants created before `from` with their balance then (from the ledger) and their status then. */
function grantsAt(grantRows: readonly Row[], sums: ReadonlyMap<string, number>, voids: readonly Row[], from: number): Grant[] {
  const voidedLater = new Set<string>();
  for (const r of voids) voidedLater.add((JSON.parse(s(r["data"])) as { grant_id: string }).grant_id);
  return grantRows.map((r) => {
    const g = GRANTS.from(r);
    const remaining = sums.get(`grant:${g.id}`) ?? 0;
    const voided = g.status === "voided" && !voidedLater.has(g.id);
    const expired = g.status === "expired" && remaining === 0 && g.expiresAt !== null && g.expiresAt <= from;
    return { ...g, remaining: voided ? 0 : remaining, status: voided ? "voided" : expired ? "expired" : "active" };
  });
}

/**
 * Window counters at `from`: per member and window, the latest period any plan hold reserved in,
 * with what its settled holds used and its pending holds hold.
 */
function windowsAt(planHolds: readonly Row[], planUsage: readonly Row[], from: number): Array<WindowUsage & { orgId: string }> {
  const planCost = new Map<string, number>();
  for (const r of planUsage) planCost.set(s(r["hold_id"]), (planCost.get(s(r["hold_id"])) ?? 0) + n(r["cost"]));
  const windows = new Map<string, WindowUsage & { orgId: string }>();
  const plan = planHolds.map(HOLDS.from);
  const latest = new Map<string, number>();
  for (const h of plan) for (const w of h.windows) latest.set(`${h.memberId}|${w.key}`, Math.max(latest.get(`${h.memberId}|${w.key}`) ?? -Infinity, w.periodStart));
  for (const h of plan) {
    const open = h.resolvedAt === null || h.resolvedAt >= from;
    for (const w of h.windows as readonly WindowRef[]) {
      const k = `${h.memberId}|${w.key}`;
      if (latest.get(k) !== w.periodStart) continue;
      let row = windows.get(k);
      if (!row) {
        row = { orgId: h.orgId, memberId: h.memberId, key: w.key, periodStart: w.periodStart, used: 0, held: 0 };
        windows.set(k, row);
      }
      row.used += planCost.get(h.id) ?? 0;
      if (open) row.held += h.amount;
    }
  }
  return [...windows.values()];
}

/** Spend counters at `from`: usage-credit spend per scope and settle day, and pending holds. */
function spendDaysAt(creditUsage: readonly Row[], pending: readonly Hold[]): SpendDay[] {
  const days = new Map<string, SpendDay>();
  const addDay = (orgId: string, scopeKey: string, day: number, field: "spent" | "held", amount: Micros): void => {
    const k = `${orgId}|${scopeKey}|${day}`;
    let d = days.get(k);
    if (!d) {
      d = { orgId, scopeKey, day, spent: 0, held: 0 };
      days.set(k, d);
    }
    d[field] += amount;
  };
  const scopes = (memberId: string, workspaceId: string | null): string[] => ["org", memberId, ...(workspaceId ? [workspaceId] : [])];
  for (const r of creditUsage) for (const sc of scopes(s(r["member_id"]), sOrNull(r["workspace_id"]))) addDay(s(r["org_id"]), sc, dayOf(n(r["at"])), "spent", n(r["credit_cost"]));
  for (const h of pending) if (h.payer === "credits" && h.limitedAmount !== 0) for (const sc of scopes(h.memberId, h.workspaceId)) addDay(h.orgId, sc, h.day, "held", h.limitedAmount);
  return [...days.values()];
}

/** Settings at `from`: each organization or member changed since, as it was before its first change. */
function settingsBefore(settingsLog: readonly Row[]): { orgBefore: Map<string, Organization>; memberBefore: Map<string, Member> } {
  const orgBefore = new Map<string, Organization>();
  const memberBefore = new Map<string, Member>();
  for (const r of settingsLog) {
    const { before } = JSON.parse(s(r["data"])) as { before: Organization & Member };
    if (s(r["kind"]) === "org_update") {
      if (!orgBefore.has(before.id)) orgBefore.set(before.id, before);
    } else if (!memberBefore.has(before.id)) memberBefore.set(before.id, before);
  }
  return { orgBefore, memberBefore };
}

function settingsOf<T extends { id: string }>(now: T, then: T | undefined, fields: ReadonlyArray<keyof T>): T {
  if (!then) return now;
  const out = { ...now };
  for (const f of fields) out[f] = then[f];
  return out;
}
