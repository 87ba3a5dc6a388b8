// One SQL implementation of the Store port, shared by SQLite and PostgreSQL. Writes of a batch
// are multi-row upserts (few round trips whatever the batch size); row locks are taken in id
// order where the engine has them.

import type { Changes } from "../../core/books.js";
import type { Draw, Grant, GrantKind, GrantStatus } from "../../core/grants.js";
import { earliestPeriodDay, type LimitPeriod, type LimitScope, type SpendLimit } from "../../core/limits.js";
import type { Hold, HoldStatus, LedgerKind, LedgerTransaction, Member, Organization, Role, Snapshot, SpendDay, UsageRecord, WindowRef, WindowUsage } from "../../core/model.js";
import type { CostInputs, LogEntry } from "../../core/operation-log.js";
import type { PlanDef, SeatTier, Surface } from "../../core/plans.js";
import type { PriceBookSpec } from "../../core/price-book.js";
import { ZERO_USAGE, type Speed } from "../../core/rating.js";
import type {
  ApiKeyRow,
  IdempotencyRecord,
  LedgerAggregates,
  LedgerQuery,
  SnapshotScope,
  Store,
  StoreTx,
  UsageQuery,
  Workspace,
} from "../../ports/store.js";
import type { Queryable, Row, SqlDriver, SqlValue } from "./driver.js";
import { migrate, schemaVersion } from "./migrations.js";
import { b, bit, marks, n, nOrNull, s, sOrNull } from "./sql-values.js";
import { BULK_CHUNK, inList, upsert } from "./sql-bulk.js";
import { SqlLegacyImportTx } from "./legacy-import-sql.js";
import type { LegacyImportTx } from "../../ports/legacy-import-store.js";
import { SqlMoneyInTx } from "./money-in-sql.js";
import type { MoneyInTx } from "../../ports/money-in-store.js";
import { SqlWebhooksTx } from "./webhooks-sql.js";
import { SqlMessageBatchesTx } from "./batches-sql.js";
import type { MessageBatchesTx } from "../../ports/batch-store.js";
import type { WebhooksTx } from "../../ports/webhooks-store.js";
import { SqlSdkCreditsTx } from "./sdk-credits-sql.js";
import type { SdkCreditsTx } from "../../ports/sdk-credit-store.js";
import { SqlStatementsTx } from "./statements-sql.js";
import { SqlLabTx } from "./lab-sql.js";
import type { LabTx } from "../../ports/lab-store.js";
import type { StatementsTx } from "../../ports/statement-store.js";
import { SqlAuditTx } from "./audit-sql.js";
import type { AuditTx } from "../../ports/audit-store.js";
import { SqlDashboardTx } from "./dashboard-sql.js";
import type { DashboardTx } from "../../ports/dashboard-store.js";



// ------------------------------------------------------------------ row mappers

export const orgFrom = (r: Row): Organization => ({
  id: s(r["id"]),
  name: s(r["name"]),
  planId: s(r["plan_id"]),
  usageCreditsEnabled: b(r["usage_credits_enabled"]),
  fastModeEnabled: b(r["fast_mode_enabled"]),
  fastModeFallback: b(r["fast_mode_fallback"]),
  weeklyAnchor: n(r["weekly_anchor"]),
  debt: n(r["debt"]),
  createdAt: n(r["created_at"]),
});
const orgCols = ["id", "name", "plan_id", "usage_credits_enabled", "fast_mode_enabled", "fast_mode_fallback", "weekly_anchor", "debt", "created_at"];
const orgRow = (o: Organization): SqlValue[] => [
  o.id, o.name, o.planId, bit(o.usageCreditsEnabled), bit(o.fastModeEnabled), bit(o.fastModeFallback), o.weeklyAnchor, o.debt, o.createdAt,
];

export const memberFrom = (r: Row): Member => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  email: s(r["email"]),
  name: s(r["name"]),
  role: s(r["role"]) as Role,
  seatTier: s(r["seat_tier"]) as SeatTier,
  workspaceId: sOrNull(r["workspace_id"]),
  usageCreditsEnabled: b(r["usage_credits_enabled"]),
  fastModeEnabled: b(r["fast_mode_enabled"] ?? 1),
  createdAt: n(r["created_at"]),
});
export const memberCols = ["id", "org_id", "email", "name", "role", "seat_tier", "workspace_id", "usage_credits_enabled", "fast_mode_enabled", "created_at"];
export const memberRow = (m: Member): SqlValue[] => [m.id, m.orgId, m.email, m.name, m.role, m.seatTier, m.workspaceId, bit(m.usageCreditsEnabled), bit(m.fastModeEnabled), m.createdAt];

export const grantFrom = (r: Row): Grant => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  kind: s(r["kind"]) as GrantKind,
  amount: n(r["amount"]),
  remaining: n(r["remaining"]),
  priority: n(r["priority"]),
  expiresAt: nOrNull(r["expires_at"]),
  surfaces: r["surfaces"] === null ? null : (JSON.parse(s(r["surfaces"])) as Surface[]),
  memberId: sOrNull(r["member_id"]),
  status: s(r["status"]) as GrantStatus,
  description: s(r["description"]),
  createdAt: n(r["created_at"]),
});
const grantCols = ["id", "org_id", "kind", "amount", "remaining", "priority", "expires_at", "surfaces", "member_id", "status", "description", "created_at"];
const grantRow = (g: Grant): SqlValue[] => [
  g.id, g.orgId, g.kind, g.amount, g.remaining, g.priority, g.expiresAt, g.surfaces === null ? null : JSON.stringify(g.surfaces), g.memberId, g.status, g.description, g.createdAt,
];

export const holdFrom = (r: Row): Hold => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  memberId: s(r["member_id"]),
  workspaceId: sOrNull(r["workspace_id"]),
  surface: s(r["surface"]) as Surface,
  model: s(r["model"]),
  speed: s(r["speed"]) as Speed,
  payer: s(r["payer"]) as Hold["payer"],
  amount: n(r["amount"]),
  draws: JSON.parse(s(r["draws"])) as Draw[],
  limitedAmount: n(r["limited_amount"]),
  windows: JSON.parse(s(r["windows"])) as WindowRef[],
  day: n(r["day"]),
  createdAt: n(r["created_at"]),
  expiresAt: n(r["expires_at"]),
  status: s(r["status"]) as HoldStatus,
  settledAmount: n(r["settled_amount"]),
  resolvedAt: nOrNull(r["resolved_at"]),
  metadata: JSON.parse(s(r["metadata"])) as Record<string, string>,
  owner: r["owner"] === "gateway" ? "gateway" : "api",
});
const holdCols = ["id", "org_id", "member_id", "workspace_id", "surface", "model", "speed", "payer", "amount", "draws", "limited_amount", "windows", "day", "created_at", "expires_at", "status", "settled_amount", "resolved_at", "metadata", "owner"];
const holdRow = (h: Hold): SqlValue[] => [
  h.id, h.orgId, h.memberId, h.workspaceId, h.surface, h.model, h.speed, h.payer, h.amount, JSON.stringify(h.draws), h.limitedAmount,
  JSON.stringify(h.windows), h.day, h.createdAt, h.expiresAt, h.status, h.settledAmount, h.resolvedAt, JSON.stringify(h.metadata), h.owner,
];

export const limitFrom = (r: Row): SpendLimit => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  scope: s(r["scope"]) as LimitScope,
  scopeId: s(r["scope_id"]),
  period: s(r["period"]) as LimitPeriod,
  amount: nOrNull(r["amount"]),
  stopUsage: n(r["stop_usage"]) !== 0,
});

export const limitCols = ["id", "org_id", "scope", "scope_id", "period", "amount", "stop_usage", "created_at", "updated_at"];
export const limitRow = (l: SpendLimit, at: number): SqlValue[] => [l.id, l.orgId, l.scope, l.scopeId, l.period, l.amount, l.stopUsage ? 1 : 0, at, at];

export const usageFrom = (r: Row): UsageRecord => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  memberId: s(r["member_id"]),
  workspaceId: sOrNull(r["workspace_id"]),
  holdId: s(r["hold_id"]),
  surface: s(r["surface"]) as Surface,
  model: s(r["model"]),
  speed: s(r["speed"]) as Speed,
  payer: s(r["payer"]) as UsageRecord["payer"],
  cost: n(r["cost"]),
  creditCost: n(r["credit_cost"]),
  inputTokens: n(r["input_tokens"] ?? 0),
  outputTokens: n(r["output_tokens"] ?? 0),
  at: n(r["at"]),
});
const usageCols = ["id", "org_id", "member_id", "workspace_id", "hold_id", "surface", "model", "speed", "payer", "cost", "credit_cost", "input_tokens", "output_tokens", "at"];
const usageRow = (u: UsageRecord): SqlValue[] => [u.id, u.orgId, u.memberId, u.workspaceId, u.holdId, u.surface, u.model, u.speed, u.payer, u.cost, u.creditCost, u.inputTokens, u.outputTokens, u.at];

const USAGE_CLASS_COLS = ["fresh_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "web_search_requests", "batch", "data_residency", "estimate", "authorized_at"];
function usageClasses(e: LogEntry | undefined, hold: Hold | undefined): SqlValue[] {
  // Logged with the settle (schema 11 on): the classes, zeros for a cost given as an amount.
  // NULL only on records from before it.
  const u = e?.cost ? (e.cost.usage ?? ZERO_USAGE) : null;
  return [
    u?.input_tokens ?? null, u?.cache_creation_5m_input_tokens ?? null, u?.cache_creation_1h_input_tokens ?? null, u?.cache_read_input_tokens ?? null, u?.web_search_requests ?? null,
    e?.cost ? bit(e.cost.batch) : null, e?.cost ? bit(e.cost.dataResidency) : null, hold?.amount ?? null, hold?.createdAt ?? null,
  ];
}

export const LOG_COLS = [
  "org_id", "at", "kind", "hold_id", "member_id", "workspace_id", "surface", "model", "family", "speed", "micros", "rated", "input_tokens", "output_tokens",
  "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "web_search_requests", "batch", "data_residency", "ttl_ms", "owner", "actor", "code", "data",
];
export function logRow(e: LogEntry): SqlValue[] {
  const c = e.cost;
  const u = c?.usage ?? null;
  return [
    e.orgId, e.at, e.kind, e.holdId, e.memberId, e.workspaceId, e.surface, e.model, e.family, e.speed, e.micros, c ? ratedCode(c) : null,
    u?.input_tokens ?? null, u?.output_tokens ?? null, u?.cache_creation_5m_input_tokens ?? null, u?.cache_creation_1h_input_tokens ?? null, u?.cache_read_input_tokens ?? null,
    u?.web_search_requests ?? null, c ? bit(c.batch) : null, c ? bit(c.dataResidency) : null, e.ttlMs, e.owner, e.actor, e.code, e.data === null ? null : JSON.stringify(e.data),
  ];
}
/** How a logged cost was priced: 0 an amount as given, 1 rated tokens, 2/3 the gateway's worst case (3: cache writes were candidates). */
function ratedCode(c: CostInputs): number {
  if (c.amount !== null) return 0;
  return c.worstCase === "cache" ? 3 : c.worstCase === "plain" ? 2 : 1;
}
export function logFrom(r: Row): LogEntry & { seq: number } {
  const rated = nOrNull(r["rated"]);
  const usage =
    r["input_tokens"] === null || r["input_tokens"] === undefined
      ? null
      : {
          input_tokens: n(r["input_tokens"]),
          output_tokens: n(r["output_tokens"]),
          cache_creation_5m_input_tokens: n(r["cache_write_5m_tokens"]),
          cache_creation_1h_input_tokens: n(r["cache_write_1h_tokens"]),
          cache_read_input_tokens: n(r["cache_read_tokens"]),
          web_search_requests: n(r["web_search_requests"]),
        };
  const micros = nOrNull(r["micros"]);
  return {
    seq: n(r["seq"]),
    orgId: s(r["org_id"]),
    at: n(r["at"]),
    kind: s(r["kind"]) as LogEntry["kind"],
    holdId: sOrNull(r["hold_id"]),
    memberId: sOrNull(r["member_id"]),
    workspaceId: sOrNull(r["workspace_id"]),
    surface: sOrNull(r["surface"]) as Surface | null,
    model: sOrNull(r["model"]),
    family: sOrNull(r["family"]),
    speed: sOrNull(r["speed"]) as Speed | null,
    micros,
    cost:
      rated === null
        ? null
        : {
            amount: rated === 0 ? micros : null,
            usage,
            batch: n(r["batch"]) === 1,
            dataResidency: n(r["data_residency"]) === 1,
            ...(rated >= 2 ? { worstCase: rated === 3 ? ("cache" as const) : ("plain" as const) } : {}),
          },
    ttlMs: nOrNull(r["ttl_ms"]),
    owner: sOrNull(r["owner"]),
    actor: sOrNull(r["actor"]),
    code: sOrNull(r["code"]),
    data: r["data"] === null || r["data"] === undefined ? null : (JSON.parse(s(r["data"])) as unknown),
  };
}

const keyFrom = (r: Row): ApiKeyRow => ({
  id: s(r["id"]),
  orgId: sOrNull(r["org_id"]),
  memberId: sOrNull(r["member_id"]),
  name: s(r["name"]),
  surface: s(r["surface"]) as Surface,
  hash: s(r["hash"]),
  prefix: s(r["prefix"]),
  createdAt: n(r["created_at"]),
  revokedAt: nOrNull(r["revoked_at"]),
});

class SqlStoreTx implements StoreTx {
  constructor(
    private readonly q: Queryable,
    private readonly rowLocks: boolean,
  ) {}

  get moneyIn(): MoneyInTx {
    return new SqlMoneyInTx(this.q);
  }

  get webhooks(): WebhooksTx {
    return new SqlWebhooksTx(this.q);
  }

  get sdkCredits(): SdkCreditsTx {
    return new SqlSdkCreditsTx(this.q);
  }

  get messageBatches(): MessageBatchesTx {
    return new SqlMessageBatchesTx(this.q);
  }

  get statements(): StatementsTx {
    return new SqlStatementsTx(this.q);
  }

  get lab(): LabTx {
    return new SqlLabTx(this.q);
  }

  get audit(): AuditTx {
    return new SqlAuditTx(this.q);
  }

  async pendingHoldCount(): Promise<number> {
    // holds_pending (status, expires_at) answers this from the index.
    return n((await this.q.all("SELECT COUNT(*) AS c FROM holds WHERE status = 'pending'"))[0]?.["c"] ?? 0);
  }

  get legacyImport(): LegacyImportTx {
    return new SqlLegacyImportTx(this.q);
  }

  get dashboard(): DashboardTx {
    return new SqlDashboardTx(this.q);
  }

  async lockOrgs(ids: readonly string[], forUpdate = true): Promise<Organization[]> {
    const sorted = [...new Set(ids)].sort();
    const lock = this.rowLocks && forUpdate ? " FOR UPDATE" : "";
    const rows = await inList(this.q, (l) => `SELECT * FROM organizations WHERE id IN (${l}) ORDER BY id${lock}`, sorted);
    return rows.map(orgFrom);
  }

  async loadSnapshot(scope: SnapshotScope, lockedOrgs: readonly Organization[]): Promise<Snapshot> {
    // Three rounds of independent reads, each sent at once (Promise.all): the SQLite writer thread
    // gets each round as one message, and PostgreSQL gets them back to back on one connection.
    // Round 2 is empty in the common case (the holds' members and drawn grants are already loaded).
    const q = this.q;
    const orgs = new Map(lockedOrgs.map((o) => [o.id, o]));
    const orgIds = [...orgs.keys()];
    const planIds = [...new Set(lockedOrgs.map((o) => o.planId))];
    const grantFilter = scope.allActiveGrants ? "status = 'active'" : "status = 'active' AND remaining > 0";
    // The orgs' pending holds past their TTL (holds_org_due), so the books unwind them first.
    const dueLimit = scope.dueHolds === "all" || scope.dueHolds === undefined ? "" : ` LIMIT ${Math.max(1, Math.floor(scope.dueHolds))}`;
    const [namedHolds, dueHolds, memberRows, planRows, grantRows, limitRows] = await Promise.all([
      inList(q, (l) => `SELECT * FROM holds WHERE id IN (${l})`, scope.holdIds),
      scope.dueHolds === undefined || orgIds.length === 0
        ? Promise.resolve([])
        : q.all(`SELECT * FROM holds WHERE org_id IN (${marks(orgIds.length)}) AND status = 'pending' AND expires_at <= ? ORDER BY expires_at${dueLimit}`, [...orgIds, scope.now]),
      inList(q, (l) => `SELECT * FROM members WHERE id IN (${l})`, [...new Set(scope.memberIds)]),
      inList(q, (l) => `SELECT definition FROM plans WHERE id IN (${l})`, planIds),
      inList(q, (l) => `SELECT * FROM grants WHERE org_id IN (${l}) AND ${grantFilter}`, orgIds),
      inList(q, (l) => `SELECT * FROM spend_limits WHERE org_id IN (${l})`, orgIds),
    ]);
    const named = new Set(scope.holdIds);
    const holdRows = [...namedHolds, ...dueHolds.filter((r) => !named.has(s(r["id"])))];
    const holds = new Map(holdRows.map(holdFrom).filter((h) => orgs.has(h.orgId)).map((h) => [h.id, h]));
    const loadedMembers = new Set(memberRows.map((r) => s(r["id"])));
    const moreMembers = [...new Set([...holds.values()].map((h) => h.memberId))].filter((id) => !loadedMembers.has(id));
    const drawn = [...new Set([...holds.values()].flatMap((h) => h.draws.map((d) => d.grantId)).concat(scope.grantIds ?? []))];
    const have = new Set(grantRows.map((r) => s(r["id"])));
    const [extraMembers, extra] = await Promise.all([
      inList(q, (l) => `SELECT * FROM members WHERE id IN (${l})`, moreMembers),
      inList(q, (l) => `SELECT * FROM grants WHERE id IN (${l})`, drawn.filter((id) => !have.has(id))),
    ]);
    // Members in the order the scope named them, then the holds' (as the snapshot always listed them).
    const memberIds = [...new Set([...scope.memberIds, ...[...holds.values()].map((h) => h.memberId)])];
    const byId = new Map([...memberRows, ...extraMembers].map(memberFrom).map((m) => [m.id, m]));
    const members = new Map(memberIds.flatMap((id) => {
      const m = byId.get(id);
      return m && orgs.has(m.orgId) ? [[id, m] as const] : [];
    }));
    const plans = new Map(
      planRows.map((r) => {
        const p = JSON.parse(s(r["definition"])) as PlanDef;
        return [p.id, p];
      }),
    );
    const grants = new Map([...grantRows, ...extra].map(grantFrom).filter((g) => orgs.has(g.orgId)).map((g) => [g.id, g]));
    const limits = limitRows.map(limitFrom);
    const scopeKeys = ["org", ...members.keys(), ...[...members.values()].map((m) => m.workspaceId).filter((w): w is string => w !== null)];
    // A day more than the earliest period start: a pending hold (it lives a day at most) authorized
    // the day before a period started still takes that period's headroom (money-rules.md).
    const fromDay = earliestPeriodDay(scope.now) - 1;
    // Only scopes that have a limit are ever read; their rows from the earliest period start on.
    const limited = new Set(limits.map((l) => (l.scope === "organization" ? "org" : l.scopeId)));
    const keys = [...new Set(scopeKeys)].filter((k) => limited.has(k));
    const [windowRows, spendRows] = await Promise.all([
      inList(q, (l) => `SELECT * FROM window_usage WHERE member_id IN (${l})`, [...members.keys()]),
      // org_id leads the primary key: without it this would scan every organization's counters.
      // allSpend (read models, alerts): every scope of the organization, so a member's or workspace's
      // limit is counted even when that member was not loaded.
      orgIds.length === 0
        ? Promise.resolve([])
        : scope.allSpend === true
          ? q.all(`SELECT * FROM spend_days WHERE org_id IN (${marks(orgIds.length)}) AND day >= ?`, [...orgIds, fromDay])
          : keys.length === 0
            ? Promise.resolve([])
            : q.all(`SELECT * FROM spend_days WHERE org_id IN (${marks(orgIds.length)}) AND scope_key IN (${marks(keys.length)}) AND day >= ?`, [...orgIds, ...keys, fromDay]),
    ]);
    const windows: WindowUsage[] = windowRows.map((r) => ({
      memberId: s(r["member_id"]),
      key: s(r["window_key"]),
      periodStart: n(r["period_start"]),
      used: n(r["used"]),
      held: n(r["held"]),
    }));
    const spendDays: SpendDay[] = spendRows
      .filter((r) => orgs.has(s(r["org_id"])))
      .map((r) => ({ orgId: s(r["org_id"]), scopeKey: s(r["scope_key"]), day: n(r["day"]), spent: n(r["spent"]), held: n(r["held"]) }));
    return { orgs, plans, members, grants, limits, windows, spendDays, holds };
  }

  async writeChanges(c: Changes & { readonly log?: readonly LogEntry[] }): Promise<void> {
    // Every write is issued at once, in this order (ledger transactions before their entries, for
    // the foreign key): one message to the SQLite writer thread; back to back on PostgreSQL's connection.
    const q = this.q;
    const writes: Array<Promise<void>> = [];
    if (c.orgs.length) writes.push(upsert(q, "organizations", orgCols, ["id"], c.orgs.map(orgRow)));
    const grants = [...c.newGrants, ...c.grants];
    if (grants.length) writes.push(upsert(q, "grants", grantCols, ["id"], grants.map(grantRow)));
    // A resolved hold changes only its status columns: holds resolved alike (a sweep's expiries)
    // are written by one set-based UPDATE per chunk, the others row by row in one multi-row upsert.
    const alike = new Map<string, Hold[]>();
    for (const h of c.holds) {
      const k = `${h.status}|${h.settledAmount}|${h.resolvedAt ?? ""}`;
      const list = alike.get(k) ?? [];
      list.push(h);
      alike.set(k, list);
    }
    const rowWise = [...c.newHolds];
    for (const group of alike.values()) {
      const first = group[0];
      if (group.length < 2 || !first) {
        rowWise.push(...group);
        continue;
      }
      const params = [first.status, first.settledAmount, first.resolvedAt];
      writes.push(inList(q, (l) => `UPDATE holds SET status = ?, settled_amount = ?, resolved_at = ? WHERE id IN (${l})`, group.map((h) => h.id), params, true).then(() => undefined));
    }
    if (rowWise.length) writes.push(upsert(q, "holds", holdCols, ["id"], rowWise.map(holdRow)));
    if (c.windows.length) {
      writes.push(
        upsert(
          q,
          "window_usage",
          ["member_id", "window_key", "period_start", "used", "held"],
          ["member_id", "window_key"],
          c.windows.map((w) => [w.memberId, w.key, w.periodStart, w.used, w.held]),
        ),
      );
    }
    if (c.spendDays.length) {
      writes.push(upsert(q, "spend_days", ["org_id", "scope_key", "day", "spent", "held"], ["org_id", "scope_key", "day"], c.spendDays.map((d) => [d.orgId, d.scopeKey, d.day, d.spent, d.held]), "add"));
    }
    if (c.ledger.length) {
      const txs = upsert(q, "ledger_transactions", ["id", "org_id", "kind", "ref", "at"], ["id"], c.ledger.map((t) => [t.id, t.orgId, t.kind, t.ref, t.at]), false);
      const entries = c.ledger.flatMap((t) => t.entries.map((e, i): SqlValue[] => [t.id, i, t.orgId, e.account, e.amount]));
      const writeEntries = () => upsert(q, "ledger_entries", ["tx_id", "idx", "org_id", "account", "amount"], ["tx_id", "idx"], entries, false);
      // Entries reference their transaction: when the transactions fit one statement (the common
      // case) it runs first and the entries follow in the same message; else they wait for all of them.
      writes.push(c.ledger.length <= BULK_CHUNK ? Promise.all([txs, writeEntries()]).then(() => undefined) : txs.then(writeEntries));
    }
    if (c.usage.length) {
      // Every token class and the authorize inputs of each record, from the batch's log and holds.
      const settled = new Map<string, LogEntry>();
      for (const e of c.log ?? []) if (e.kind === "settle" && e.holdId !== null && e.code === null) settled.set(e.holdId, e);
      const holds = new Map<string, Hold>();
      for (const h of [...c.newHolds, ...c.holds]) holds.set(h.id, h);
      const rows = c.usage.map((u) => [...usageRow(u), ...usageClasses(settled.get(u.holdId), holds.get(u.holdId))]);
      writes.push(upsert(q, "usage_records", [...usageCols, ...USAGE_CLASS_COLS], ["id"], rows, false));
    }
    if (c.log?.length) writes.push(this.appendOperationLog(c.log));
    await Promise.all(writes);
  }

  async appendOperationLog(entries: readonly LogEntry[]): Promise<void> {
    // One multi-row insert per chunk, in order: seq numbers follow the order the books decided in.
    await upsert(this.q, "operation_log", LOG_COLS, ["seq"], entries.map(logRow), false);
  }

  async getIdempotency(scope: string, keys: readonly string[]): Promise<IdempotencyRecord[]> {
    const rows = await inList(this.q, (l) => `SELECT * FROM idempotency_keys WHERE key IN (${l}) AND scope = ?`, keys, [scope]);
    return rows.map((r) => ({
      scope: s(r["scope"]),
      key: s(r["key"]),
      requestHash: s(r["request_hash"]),
      status: n(r["status"]),
      response: s(r["response"]),
      createdAt: n(r["created_at"]),
    }));
  }

  async putIdempotency(records: readonly IdempotencyRecord[]): Promise<void> {
    if (!records.length) return;
    await upsert(
      this.q,
      "idempotency_keys",
      ["scope", "key", "request_hash", "status", "response", "created_at"],
      ["scope", "key"],
      records.map((r) => [r.scope, r.key, r.requestHash, r.status, r.response, r.createdAt]),
      false,
    );
  }

  async insertOrg(org: Organization): Promise<void> {
    await upsert(this.q, "organizations", orgCols, ["id"], [orgRow(org)], false);
  }
  async updateOrg(org: Organization): Promise<void> {
    await upsert(this.q, "organizations", orgCols, ["id"], [orgRow(org)]);
  }
  async getOrg(id: string): Promise<Organization | undefined> {
    const r = (await this.q.all("SELECT * FROM organizations WHERE id = ?", [id]))[0];
    return r ? orgFrom(r) : undefined;
  }
  async listOrgs(limit: number, offset: number): Promise<Organization[]> {
    return (await this.q.all("SELECT * FROM organizations ORDER BY id LIMIT ? OFFSET ?", [limit, offset])).map(orgFrom);
  }
  async insertMember(m: Member): Promise<void> {
    await upsert(this.q, "members", memberCols, ["id"], [memberRow(m)], false);
  }
  async updateMember(m: Member): Promise<void> {
    await upsert(this.q, "members", memberCols, ["id"], [memberRow(m)]);
  }
  async getMember(id: string): Promise<Member | undefined> {
    const r = (await this.q.all("SELECT * FROM members WHERE id = ?", [id]))[0];
    return r ? memberFrom(r) : undefined;
  }
  async listMembers(orgId: string): Promise<Member[]> {
    return (await this.q.all("SELECT * FROM members WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(memberFrom);
  }
  async insertWorkspace(w: Workspace): Promise<void> {
    await this.q.run("INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)", [w.id, w.orgId, w.name, w.createdAt]);
  }
  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const r = (await this.q.all("SELECT * FROM workspaces WHERE id = ?", [id]))[0];
    return r ? { id: s(r["id"]), orgId: s(r["org_id"]), name: s(r["name"]), createdAt: n(r["created_at"]) } : undefined;
  }
  async listWorkspaces(orgId: string): Promise<Workspace[]> {
    const rows = await this.q.all("SELECT * FROM workspaces WHERE org_id = ? ORDER BY created_at, id", [orgId]);
    return rows.map((r) => ({ id: s(r["id"]), orgId: s(r["org_id"]), name: s(r["name"]), createdAt: n(r["created_at"]) }));
  }
  async insertApiKey(k: ApiKeyRow): Promise<void> {
    await this.q.run(
      "INSERT INTO api_keys (id, org_id, member_id, name, surface, hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [k.id, k.orgId, k.memberId, k.name, k.surface, k.hash, k.prefix, k.createdAt, k.revokedAt],
    );
  }
  async findApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.q.all("SELECT * FROM api_keys WHERE hash = ?", [hash]))[0];
    return r ? keyFrom(r) : undefined;
  }
  async listApiKeys(orgId: string): Promise<ApiKeyRow[]> {
    return (await this.q.all("SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(keyFrom);
  }
  async listPlatformKeys(serialize = false): Promise<ApiKeyRow[]> {
    // SQLite's BEGIN IMMEDIATE already excludes other writers; on PostgreSQL the newest schema
    // version's row is the one lock every bootstrapper takes (it exists once migrations ran).
    if (serialize && this.rowLocks) await this.q.all("SELECT version FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations) FOR UPDATE");
    return (await this.q.all("SELECT * FROM api_keys WHERE org_id IS NULL ORDER BY created_at, id")).map(keyFrom);
  }
  async revokeApiKey(id: string, at: number): Promise<void> {
    await this.q.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, id]);
  }

  async upsertPlan(plan: PlanDef, at: number): Promise<void> {
    await upsert(this.q, "plans", ["id", "name", "definition", "updated_at"], ["id"], [[plan.id, plan.name, JSON.stringify(plan), at]]);
  }
  async listPlans(): Promise<PlanDef[]> {
    return (await this.q.all("SELECT definition FROM plans ORDER BY id")).map((r) => JSON.parse(s(r["definition"])) as PlanDef);
  }
  async insertPriceBook(spec: PriceBookSpec, effectiveFrom: number, at: number): Promise<void> {
    await this.q.run("INSERT INTO price_books (id, version, effective_from, spec, created_at) VALUES (?, ?, ?, ?, ?)", [
      spec.id, spec.version, effectiveFrom, JSON.stringify(spec), at,
    ]);
  }
  async modelUsageSince(since: number): Promise<Array<{ orgId: string; model: string; requests: number; cost: number }>> {
    const rows = await this.q.all("SELECT org_id, model, COUNT(*) AS requests, SUM(cost) AS cost FROM usage_records WHERE at >= ? GROUP BY org_id, model ORDER BY org_id, model", [since]);
    return rows.map((r) => ({ orgId: s(r["org_id"]), model: s(r["model"]), requests: n(r["requests"]), cost: n(r["cost"]) }));
  }

  async listPriceBooks(): Promise<PriceBookSpec[]> {
    return (await this.q.all("SELECT spec FROM price_books ORDER BY effective_from, version")).map((r) => JSON.parse(s(r["spec"])) as PriceBookSpec);
  }

  async upsertLimit(l: SpendLimit, at: number): Promise<void> {
    await upsert(this.q, "spend_limits", limitCols, ["id"], [limitRow(l, at)]);
  }
  async deleteLimit(id: string): Promise<void> {
    await this.q.run("DELETE FROM spend_limits WHERE id = ?", [id]);
  }
  async listLimits(orgId: string): Promise<SpendLimit[]> {
    return (await this.q.all("SELECT * FROM spend_limits WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(limitFrom);
  }
  async listGrants(orgId: string): Promise<Grant[]> {
    return (await this.q.all("SELECT * FROM grants WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(grantFrom);
  }
  async getHold(id: string): Promise<Hold | undefined> {
    const r = (await this.q.all("SELECT * FROM holds WHERE id = ?", [id]))[0];
    return r ? holdFrom(r) : undefined;
  }
  async listUsage(u: UsageQuery): Promise<UsageRecord[]> {
    const member = u.memberId ? " AND member_id = ?" : "";
    const params: SqlValue[] = [u.orgId, u.from, u.to, ...(u.memberId ? [u.memberId] : [])];
    return (await this.q.all(`SELECT * FROM usage_records WHERE org_id = ? AND at >= ? AND at < ?${member} ORDER BY at, id`, params)).map(usageFrom);
  }
  async listLedger(lq: LedgerQuery): Promise<LedgerTransaction[]> {
    const before = lq.before ? " AND (at < ? OR (at = ? AND id < ?))" : "";
    const kind = lq.kind !== undefined ? " AND kind = ?" : "";
    const own =
      lq.holdsOf !== undefined
        ? " AND (kind NOT IN ('hold', 'settle', 'release', 'relayed_charge') OR EXISTS (SELECT 1 FROM holds h WHERE h.id = ledger_transactions.ref AND h.member_id = ?))"
        : "";
    const params: SqlValue[] = [
      lq.orgId,
      ...(lq.before ? [lq.before.at, lq.before.at, lq.before.id] : []),
      ...(lq.kind !== undefined ? [lq.kind] : []),
      ...(lq.holdsOf !== undefined ? [lq.holdsOf] : []),
      lq.limit,
    ];
    const txs = await this.q.all(`SELECT * FROM ledger_transactions WHERE org_id = ?${before}${kind}${own} ORDER BY at DESC, id DESC LIMIT ?`, params);
    const entries = await inList(this.q, (l) => `SELECT * FROM ledger_entries WHERE tx_id IN (${l}) ORDER BY tx_id, idx`, txs.map((t) => s(t["id"])));
    const byTx = new Map<string, Array<{ account: string; amount: number }>>();
    for (const e of entries) {
      const list = byTx.get(s(e["tx_id"])) ?? [];
      list.push({ account: s(e["account"]), amount: n(e["amount"]) });
      byTx.set(s(e["tx_id"]), list);
    }
    return txs.map((t) => ({
      id: s(t["id"]),
      orgId: s(t["org_id"]),
      kind: s(t["kind"]) as LedgerKind,
      ref: s(t["ref"]),
      at: n(t["at"]),
      entries: byTx.get(s(t["id"])) ?? [],
    }));
  }
  async dueForSweep(now: number, limit: number) {
    const holds = (await this.q.all("SELECT id, org_id, member_id FROM holds WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?", [now, limit])).map((r) => ({
      id: s(r["id"]),
      orgId: s(r["org_id"]),
      memberId: s(r["member_id"]),
    }));
    const grantOrgs = (await this.q.all("SELECT DISTINCT org_id FROM grants WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?", [now, limit])).map((r) => s(r["org_id"]));
    return { holds, grantOrgs };
  }

  async claimJobRun(job: string, slot: number, at: number): Promise<boolean> {
    const claimed = await this.q.run("INSERT INTO job_runs (job, slot, claimed_at) VALUES (?, ?, ?) ON CONFLICT (job, slot) DO NOTHING", [job, slot, at]);
    if (claimed === 1) await this.q.run("DELETE FROM job_runs WHERE job = ? AND claimed_at < ?", [job, at - 86_400_000]);
    return claimed === 1;
  }

  async ledgerAggregates(): Promise<LedgerAggregates> {
    const q = this.q;
    const count = n((await q.all("SELECT COUNT(*) AS c FROM ledger_transactions"))[0]?.["c"] ?? 0);
    const unbalanced = (await q.all("SELECT tx_id, SUM(amount) AS total FROM ledger_entries GROUP BY tx_id HAVING SUM(amount) <> 0")).map((r) => ({ id: s(r["tx_id"]), sum: n(r["total"]) }));
    const empty = (await q.all("SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.tx_id = t.id WHERE e.tx_id IS NULL")).map((r) => s(r["id"]));
    const balances = new Map<string, number>();
    for (const r of await q.all("SELECT account, SUM(amount) AS total FROM ledger_entries WHERE account LIKE 'grant:%' OR account LIKE 'hold:%' OR account LIKE 'debt:%' GROUP BY account")) {
      balances.set(s(r["account"]), n(r["total"]));
    }
    const seen = new Set<string>();
    const take = (account: string): number => {
      seen.add(account);
      return balances.get(account) ?? 0;
    };
    const grants = (await q.all("SELECT id, status, amount, remaining, expires_at FROM grants")).map((r) => ({
      id: s(r["id"]),
      status: s(r["status"]),
      amount: n(r["amount"]),
      remaining: n(r["remaining"]),
      expiresAt: nOrNull(r["expires_at"]),
      ledger: take(`grant:${s(r["id"])}`),
    }));
    const holds = (await q.all("SELECT id, status, payer, amount, draws FROM holds")).map((r) => ({
      id: s(r["id"]),
      status: s(r["status"]),
      payer: s(r["payer"]),
      amount: n(r["amount"]),
      draws: (JSON.parse(s(r["draws"])) as Draw[]).reduce((t, d) => t + d.amount, 0),
      ledger: take(`hold:${s(r["id"])}`),
    }));
    const debts = (await q.all("SELECT id, debt FROM organizations")).map((r) => ({ orgId: s(r["id"]), debt: n(r["debt"]), ledger: take(`debt:${s(r["id"])}`) }));
    const orphanAccounts = [...balances.keys()].filter((a) => !seen.has(a));
    const held = new Map<string, number>();
    for (const r of await q.all("SELECT org_id, SUM(held) AS total FROM spend_days WHERE scope_key = 'org' GROUP BY org_id")) held.set(s(r["org_id"]), n(r["total"]));
    const pending = new Map<string, number>();
    for (const r of await q.all("SELECT org_id, SUM(limited_amount) AS total FROM holds WHERE status = 'pending' GROUP BY org_id")) pending.set(s(r["org_id"]), n(r["total"]));
    const spendHeld = [...new Set([...held.keys(), ...pending.keys()])].map((orgId) => ({ orgId, held: held.get(orgId) ?? 0, pendingLimited: pending.get(orgId) ?? 0 }));
    return { transactionCount: count, unbalancedTransactions: unbalanced, emptyTransactions: empty, grants, holds, debts, orphanAccounts, spendHeld };
  }
}

export class SqlStore implements Store {
  private constructor(private readonly driver: SqlDriver) {}

  /** Opens a store on a driver and brings its schema up to date (refusing a newer one). */
  static async open(driver: SqlDriver, options: { migrate?: boolean } = {}): Promise<SqlStore> {
    if (options.migrate !== false) {
      try {
        await migrate(driver);
      } catch (err) {
        await driver.close(); // a refused schema must not leave a pool keeping the process alive
        throw err;
      }
    }
    return new SqlStore(driver);
  }

  get capabilities() {
    return this.driver.capabilities;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.driver.transaction((q) => fn(new SqlStoreTx(q, this.driver.capabilities.rowLocks)));
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.driver.read((q) => fn(new SqlStoreTx(q, false)));
  }

  schemaVersion(): Promise<number> {
    return schemaVersion(this.driver);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
