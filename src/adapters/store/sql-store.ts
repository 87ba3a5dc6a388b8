// One SQL implementation of the Store port, shared by SQLite and PostgreSQL. Writes of a batch
// are multi-row upserts (few round trips whatever the batch size); row locks are taken in id
// order where the engine has them.
// Over 400 lines: one class implements the core tables' half of the StoreTx port (snapshot load,
// change write, keys, idempotency); every feature's tables already live in their own *-sql.ts.

import type { Changes } from "../../core/books.js";
import type { Draw, Grant } from "../../core/grants.js";
import { earliestPeriodDay, type SpendLimit } from "../../core/limits.js";
import type { Hold, LedgerKind, LedgerTransaction, Member, Organization, Snapshot, SpendDay, UsageRecord, WindowUsage } from "../../core/model.js";
import { versionInForce, type PlanDef, type PlanVersion } from "../../core/plans.js";
import type { PriceBookSpec } from "../../core/price-book.js";
import type { LogEntry } from "../../core/operation-log.js";
import type {
  ApiKeyRow,
  FreshnessCheck,
  HotRead,
  IdempotencyRecord,
  LedgerAggregates,
  LedgerQuery,
  SnapshotScope,
  Store,
  StoreTx,
  UsageQuery,
  Workspace,
} from "../../ports/store.js";
import type { Queryable, ReadForBatchArgs, ReadForBatchResult, Row, SqlDriver, SqlValue } from "./driver.js";
import { migrate, readSchemaVersion, schemaVersion } from "./migrations.js";
import { b, bit, marks, n, nOrNull, s, sOrNull } from "./sql-values.js";
import { BULK_CHUNK, inList, updateIn, upsert } from "./sql-bulk.js";
import { writeUsageRollups } from "./usage-rollup-sql.js";
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
import { API_KEYS, GRANTS, PLAN_VERSIONS, IDEMPOTENCY_KEYS, SPEND_DAYS, WINDOW_USAGE, WORKSPACES, HOLDS, LIMIT_COLS, limitRow, MEMBERS, ORGANIZATIONS, SPEND_LIMITS, USAGE_RECORDS } from "./tables.js";

import { readOrgVersions } from "./org-versions-sql.js";
import { LOG_COLS, logRow, USAGE_CLASS_COLS, usageClasses } from "./operation-log-sql.js";

/**
 * A batch's reads (StoreTx.readForBatch): the orgs locked, the snapshot and the idempotency records
 * read together with it. Called in process, or by the SQLite writer thread on its own connection.
 */
export async function readForBatchOn(q: Queryable, args: ReadForBatchArgs, engine = "sqlite"): Promise<ReadForBatchResult> {
  const tx = new SqlStoreTx(q, args.rowLocks, engine);
  // Not awaited: the snapshot's first reads are issued right behind the lock (PostgreSQL pipelines
  // them: one round trip). They are a statement of their own after it, so under READ COMMITTED they
  // see everything the lock's previous holder committed.
  const locked = tx.lockOrgs(args.scope.orgIds);
  const [snapshot, hot, ...stored] = await Promise.all([
    tx.loadSnapshot(args.scope, locked),
    args.hot === true ? hotReadOn(q, args.scope.orgIds) : Promise.resolve(undefined),
    ...args.idempotency.map((i) => tx.getIdempotency(i.scope, i.keys)),
  ]);
  return { snapshot, records: stored.flat(), ...(hot ? { hot } : {}) };
}

/** What the per-organization cache needs beside a snapshot: the versions, and every pending hold. */
async function hotReadOn(q: Queryable, orgIds: readonly string[]): Promise<HotRead> {
  const [versions, holds] = await Promise.all([
    readOrgVersions(q, orgIds),
    // holds_pending (status, expires_at) or holds_org_due (org_id, status, expires_at) answer this.
    inList(q, (l) => `SELECT * FROM holds WHERE org_id IN (${l}) AND status = 'pending'`, orgIds),
  ]);
  return { versions, pendingHolds: holds.map(HOLDS.from) };
}

/**
 * Why a batch decided on cached state may not write (null: it may): an organization's version is
 * not the cached one, or an idempotency key it took as new is stored. Run first in the batch's
 * transaction (on SQLite by the writer thread, under the write lock).
 */
export async function staleReasonOn(q: Queryable, check: FreshnessCheck): Promise<string | null> {
  const versions = await readOrgVersions(q, check.versions.map(([id]) => id));
  for (const [id, cached] of check.versions) {
    const now = versions.get(id);
    if (now !== cached) return `organization ${id} changed since it was cached (version ${cached}, now ${now ?? "gone"})`;
  }
  for (const i of check.idempotency) {
    const stored = await inList(q, (l) => `SELECT key FROM idempotency_keys WHERE key IN (${l}) AND scope = ?`, i.keys, [i.scope]);
    if (stored.length > 0) return `idempotency key ${JSON.stringify(s(stored[0]?.["key"]))} is already stored (a replay)`;
  }
  return null;
}

class SqlStoreTx implements StoreTx {
  constructor(
    private readonly q: Queryable,
    private readonly rowLocks: boolean,
    private readonly engine: string,
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
    return new SqlDashboardTx(this.q, this.engine);
  }

  async lockOrgs(ids: readonly string[], forUpdate = true): Promise<Organization[]> {
    const sorted = [...new Set(ids)].sort();
    const lock = this.rowLocks && forUpdate ? " FOR UPDATE" : "";
    const rows = await inList(this.q, (l) => `SELECT * FROM organizations WHERE id IN (${l}) ORDER BY id${lock}`, sorted);
    return rows.map(ORGANIZATIONS.from);
  }

  async loadSnapshot(scope: SnapshotScope, lockedOrgs: readonly Organization[] | Promise<Organization[]>): Promise<Snapshot> {
    // Three rounds of independent reads, each sent at once (Promise.all): the SQLite writer thread
    // gets each round as one message, and PostgreSQL gets them back to back on one connection.
    // Round 2 is empty in the common case (the holds' members and drawn grants are already loaded).
    // With the lock still on its way (readForBatchOn), round 1 names the scope's organizations and
    // their plans by subquery instead of the locked rows, so it crosses with the lock.
    const q = this.q;
    const behindLock = lockedOrgs instanceof Promise;
    const readOrgIds = behindLock ? [...new Set(scope.orgIds)] : lockedOrgs.map((o) => o.id);
    const planRead = behindLock
      ? inList(q, (l) => `SELECT * FROM plan_versions WHERE plan_id IN (SELECT plan_id FROM organizations WHERE id IN (${l})) ORDER BY plan_id, version`, readOrgIds)
      : inList(q, (l) => `SELECT * FROM plan_versions WHERE plan_id IN (${l}) ORDER BY plan_id, version`, [...new Set(lockedOrgs.map((o) => o.planId))]);
    const grantFilter = scope.allActiveGrants ? "status = 'active'" : "status = 'active' AND remaining > 0";
    // The orgs' pending holds past their TTL (holds_org_due), so the books unwind them first.
    const dueLimit = scope.dueHolds === "all" || scope.dueHolds === undefined ? "" : ` LIMIT ${Math.max(1, Math.floor(scope.dueHolds))}`;
    const [namedHolds, dueHolds, memberRows, planRows, grantRows, limitRows, lockedRows] = await Promise.all([
      inList(q, (l) => `SELECT * FROM holds WHERE id IN (${l})`, scope.holdIds),
      scope.dueHolds === undefined || readOrgIds.length === 0
        ? Promise.resolve([])
        : q.all(`SELECT * FROM holds WHERE org_id IN (${marks(readOrgIds.length)}) AND status = 'pending' AND expires_at <= ? ORDER BY expires_at${dueLimit}`, [...readOrgIds, scope.now]),
      inList(q, (l) => `SELECT * FROM members WHERE id IN (${l})`, [...new Set(scope.memberIds)]),
      planRead,
      inList(q, (l) => `SELECT * FROM grants WHERE org_id IN (${l}) AND ${grantFilter}`, readOrgIds),
      inList(q, (l) => `SELECT * FROM spend_limits WHERE org_id IN (${l})`, readOrgIds),
      lockedOrgs,
    ]);
    const orgs = new Map(lockedRows.map((o) => [o.id, o]));
    const orgIds = [...orgs.keys()];
    const named = new Set(scope.holdIds);
    const holdRows = [...namedHolds, ...dueHolds.filter((r) => !named.has(s(r["id"])))];
    const holds = new Map(holdRows.map(HOLDS.from).filter((h) => orgs.has(h.orgId)).map((h) => [h.id, h]));
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
    const byId = new Map([...memberRows, ...extraMembers].map(MEMBERS.from).map((m) => [m.id, m]));
    const members = new Map(memberIds.flatMap((id) => {
      const m = byId.get(id);
      return m && orgs.has(m.orgId) ? [[id, m] as const] : [];
    }));
    // Every version of each plan: the one in force now decides the windows; a window that started
    // under an earlier version keeps that version's quota until it resets (quotaForPeriod).
    const planVersions = new Map<string, PlanVersion[]>();
    for (const v of planRows.map(PLAN_VERSIONS.from)) planVersions.set(v.planId, [...(planVersions.get(v.planId) ?? []), v]);
    const plans = new Map<string, PlanDef>();
    for (const [id, versions] of planVersions) {
      const current = versionInForce(versions, scope.now);
      if (current) plans.set(id, current.definition);
    }
    const grants = new Map([...grantRows, ...extra].map(GRANTS.from).filter((g) => orgs.has(g.orgId)).map((g) => [g.id, g]));
    const limits = limitRows.map(SPEND_LIMITS.from);
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
    const windows: WindowUsage[] = windowRows.map(WINDOW_USAGE.from);
    const spendDays: SpendDay[] = spendRows.map(SPEND_DAYS.from).filter((d) => orgs.has(d.orgId));
    return { orgs, plans, planVersions, members, grants, limits, windows, spendDays, holds };
  }

  async writeChanges(c: Changes & { readonly log?: readonly LogEntry[] }): Promise<void> {
    // Every write is issued at once, in this order (ledger transactions before their entries, for
    // the foreign key): one message to the SQLite writer thread; back to back on PostgreSQL's connection.
    const q = this.q;
    const writes: Array<Promise<void>> = [];
    if (c.orgs.length) writes.push(upsert(q, "organizations", ORGANIZATIONS.cols, ["id"], c.orgs.map(ORGANIZATIONS.row)));
    const grants = [...c.newGrants, ...c.grants];
    if (grants.length) writes.push(upsert(q, "grants", GRANTS.cols, ["id"], grants.map(GRANTS.row)));
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
      writes.push(updateIn(q, "holds", ["status", "settled_amount", "resolved_at"], [first.status, first.settledAmount, first.resolvedAt], "id", group.map((h) => h.id)));
    }
    if (rowWise.length) writes.push(upsert(q, "holds", HOLDS.cols, ["id"], rowWise.map(HOLDS.row)));
    if (c.windows.length) {
      writes.push(upsert(q, WINDOW_USAGE.name, WINDOW_USAGE.cols, ["member_id", "window_key"], c.windows.map(WINDOW_USAGE.row)));
    }
    if (c.spendDays.length) {
      writes.push(upsert(q, SPEND_DAYS.name, SPEND_DAYS.cols, ["org_id", "scope_key", "day"], c.spendDays.map(SPEND_DAYS.row), "add"));
    }
    if (c.ledger.length) {
      const txs = upsert(q, "ledger_transactions", ["id", "org_id", "kind", "ref", "at"], ["id"], c.ledger.map((t) => [t.id, t.orgId, t.kind, t.ref, t.at]), false);
      const entries = c.ledger.flatMap((t) => t.entries.map((e, i): SqlValue[] => [t.id, i, t.orgId, e.account, e.amount]));
      const writeEntries = () => upsert(q, "ledger_entries", ["tx_id", "idx", "org_id", "account", "amount"], ["tx_id", "idx"], entries, false);
      // Entries reference their transaction: every transaction statement is sent first (upsert sends
      // all its chunks at once) and the entries follow, in order on the one connection.
      writes.push(Promise.all([txs, writeEntries()]).then(() => undefined));
    }
    if (c.usage.length) {
      // Every token class and the authorize inputs of each record, from the batch's log and holds.
      const settled = new Map<string, LogEntry>();
      for (const e of c.log ?? []) if (e.kind === "settle" && e.holdId !== null && e.code === null) settled.set(e.holdId, e);
      const holds = new Map<string, Hold>();
      for (const h of [...c.newHolds, ...c.holds]) holds.set(h.id, h);
      const rows = c.usage.map((u) => [...USAGE_RECORDS.row(u), ...usageClasses(settled.get(u.holdId), holds.get(u.holdId))]);
      writes.push(upsert(q, "usage_records", [...USAGE_RECORDS.cols, ...USAGE_CLASS_COLS], ["id"], rows, false));
      writes.push(writeUsageRollups(q, c.usage)); // the daily and hourly rollups, in the same transaction
    }
    if (c.log?.length) writes.push(this.appendOperationLog(c.log));
    await Promise.all(writes);
  }

  async appendOperationLog(entries: readonly LogEntry[]): Promise<void> {
    // One multi-row insert per chunk, in order: seq numbers follow the order the books decided in.
    await upsert(this.q, "operation_log", LOG_COLS, ["seq"], entries.map(logRow), false);
  }

  async finalWrites(issue: () => Promise<unknown>): Promise<void> {
    if (this.q.lastly?.(issue)) return; // the driver awaits them with its COMMIT
    await issue();
  }

  async readForBatch(scope: SnapshotScope, idempotency: ReadonlyArray<{ readonly scope: string; readonly keys: readonly string[] }>, hot = false): Promise<ReadForBatchResult> {
    const args = { scope, idempotency, rowLocks: this.rowLocks, ...(hot ? { hot } : {}) };
    return this.q.readForBatch ? this.q.readForBatch(args) : readForBatchOn(this.q, args, this.engine);
  }

  checkFresh(check: FreshnessCheck): void {
    // Only where the driver checks in the same crossing (capabilities.versionedOrgs); a bug otherwise.
    if (!this.q.checkFresh) throw new Error("this store cannot check a cached batch in its transaction (capabilities.versionedOrgs is off)");
    this.q.checkFresh(check).catch(() => undefined); // its failure fails the COMMIT
  }

  orgVersions(orgIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return readOrgVersions(this.q, orgIds);
  }

  async getIdempotency(scope: string, keys: readonly string[]): Promise<IdempotencyRecord[]> {
    const rows = await inList(this.q, (l) => `SELECT * FROM idempotency_keys WHERE key IN (${l}) AND scope = ?`, keys, [scope]);
    return rows.map(IDEMPOTENCY_KEYS.from);
  }

  async putIdempotency(records: readonly IdempotencyRecord[]): Promise<void> {
    if (!records.length) return;
    await upsert(this.q, IDEMPOTENCY_KEYS.name, IDEMPOTENCY_KEYS.cols, ["scope", "key"], records.map(IDEMPOTENCY_KEYS.row), false);
  }

  async insertOrg(org: Organization): Promise<void> {
    await upsert(this.q, "organizations", ORGANIZATIONS.cols, ["id"], [ORGANIZATIONS.row(org)], false);
  }
  async updateOrg(org: Organization): Promise<void> {
    await upsert(this.q, "organizations", ORGANIZATIONS.cols, ["id"], [ORGANIZATIONS.row(org)]);
  }
  async getOrg(id: string): Promise<Organization | undefined> {
    const r = (await this.q.all("SELECT * FROM organizations WHERE id = ?", [id]))[0];
    return r ? ORGANIZATIONS.from(r) : undefined;
  }
  async listOrgs(limit: number, offset: number): Promise<Organization[]> {
    return (await this.q.all("SELECT * FROM organizations ORDER BY id LIMIT ? OFFSET ?", [limit, offset])).map(ORGANIZATIONS.from);
  }
  async insertMember(m: Member): Promise<void> {
    await upsert(this.q, "members", MEMBERS.cols, ["id"], [MEMBERS.row(m)], false);
  }
  async updateMember(m: Member): Promise<void> {
    await upsert(this.q, "members", MEMBERS.cols, ["id"], [MEMBERS.row(m)]);
  }
  async getMember(id: string): Promise<Member | undefined> {
    const r = (await this.q.all("SELECT * FROM members WHERE id = ?", [id]))[0];
    return r ? MEMBERS.from(r) : undefined;
  }
  async listMembers(orgId: string): Promise<Member[]> {
    return (await this.q.all("SELECT * FROM members WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(MEMBERS.from);
  }
  async insertWorkspace(w: Workspace): Promise<void> {
    await upsert(this.q, WORKSPACES.name, WORKSPACES.cols, ["id"], [WORKSPACES.row(w)], false);
  }
  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const r = (await this.q.all("SELECT * FROM workspaces WHERE id = ?", [id]))[0];
    return r ? WORKSPACES.from(r) : undefined;
  }
  async listWorkspaces(orgId: string): Promise<Workspace[]> {
    const rows = await this.q.all("SELECT * FROM workspaces WHERE org_id = ? ORDER BY created_at, id", [orgId]);
    return rows.map(WORKSPACES.from);
  }
  async insertApiKey(k: ApiKeyRow): Promise<void> {
    await this.q.run(
      "INSERT INTO api_keys (id, org_id, member_id, name, surface, hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [k.id, k.orgId, k.memberId, k.name, k.surface, k.hash, k.prefix, k.createdAt, k.revokedAt],
    );
  }
  async findApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined> {
    const r = (await this.q.all("SELECT * FROM api_keys WHERE hash = ?", [hash]))[0];
    return r ? API_KEYS.from(r) : undefined;
  }
  async listApiKeys(orgId: string): Promise<ApiKeyRow[]> {
    return (await this.q.all("SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(API_KEYS.from);
  }
  async listPlatformKeys(serialize = false): Promise<ApiKeyRow[]> {
    // SQLite's BEGIN IMMEDIATE already excludes other writers; on PostgreSQL the newest schema
    // version's row is the one lock every bootstrapper takes (it exists once migrations ran).
    if (serialize && this.rowLocks) await this.q.all("SELECT version FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations) FOR UPDATE");
    return (await this.q.all("SELECT * FROM api_keys WHERE org_id IS NULL ORDER BY created_at, id")).map(API_KEYS.from);
  }
  async revokeApiKey(id: string, at: number): Promise<void> {
    await this.q.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [at, id]);
  }

  async addPlanVersion(v: Omit<PlanVersion, "version" | "planId">): Promise<PlanVersion> {
    const planId = v.definition.id;
    const last = await this.q.all("SELECT MAX(version) AS v FROM plan_versions WHERE plan_id = ?", [planId]);
    // Two writers racing for one number: the primary key refuses the second (UniqueViolation), whose
    // transaction is retried and takes the next number.
    const stored: PlanVersion = { ...v, planId, version: Number(last[0]?.["v"] ?? 0) + 1 };
    await this.q.run(`INSERT INTO plan_versions (${PLAN_VERSIONS.cols.join(", ")}) VALUES (${marks(PLAN_VERSIONS.cols.length)})`, PLAN_VERSIONS.row(stored));
    // plans: the registry of ids (organizations name one), with the latest version's definition.
    await upsert(this.q, "plans", ["id", "name", "definition", "updated_at"], ["id"], [[planId, v.definition.name, JSON.stringify(v.definition), v.createdAt]]);
    return stored;
  }
  async listPlanVersions(planIds?: readonly string[]): Promise<PlanVersion[]> {
    const rows = planIds === undefined ? await this.q.all("SELECT * FROM plan_versions ORDER BY plan_id, version") : await inList(this.q, (l) => `SELECT * FROM plan_versions WHERE plan_id IN (${l}) ORDER BY plan_id, version`, [...planIds]);
    return rows.map(PLAN_VERSIONS.from);
  }
  async listPlans(at: number): Promise<PlanDef[]> {
    const byPlan = new Map<string, PlanVersion[]>();
    for (const v of await this.listPlanVersions()) byPlan.set(v.planId, [...(byPlan.get(v.planId) ?? []), v]);
    return [...byPlan.values()].flatMap((vs) => {
      const v = versionInForce(vs, at);
      return v ? [v.definition] : [];
    });
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
    await upsert(this.q, "spend_limits", LIMIT_COLS, ["id"], [limitRow(l, at)]);
  }
  async deleteLimit(id: string): Promise<void> {
    await this.q.run("DELETE FROM spend_limits WHERE id = ?", [id]);
  }
  async listLimits(orgId: string): Promise<SpendLimit[]> {
    return (await this.q.all("SELECT * FROM spend_limits WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(SPEND_LIMITS.from);
  }
  async listGrants(orgId: string): Promise<Grant[]> {
    return (await this.q.all("SELECT * FROM grants WHERE org_id = ? ORDER BY created_at, id", [orgId])).map(GRANTS.from);
  }
  async getHold(id: string): Promise<Hold | undefined> {
    const r = (await this.q.all("SELECT * FROM holds WHERE id = ?", [id]))[0];
    return r ? HOLDS.from(r) : undefined;
  }
  async listUsage(u: UsageQuery): Promise<UsageRecord[]> {
    const member = u.memberId ? " AND member_id = ?" : "";
    const params: SqlValue[] = [u.orgId, u.from, u.to, ...(u.memberId ? [u.memberId] : [])];
    return (await this.q.all(`SELECT * FROM usage_records WHERE org_id = ? AND at >= ? AND at < ?${member} ORDER BY at, id`, params)).map(USAGE_RECORDS.from);
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
  private constructor(
    private readonly driver: SqlDriver,
    /** Opened with its migrations: the version table exists, so asking for the version only reads. */
    private readonly migrated: boolean,
  ) {}

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
    return new SqlStore(driver, options.migrate !== false);
  }

  get capabilities() {
    return this.driver.capabilities;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.driver.transaction((q) => fn(new SqlStoreTx(q, this.driver.capabilities.rowLocks, this.driver.capabilities.name)));
  }

  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.driver.read((q) => fn(new SqlStoreTx(q, false, this.driver.capabilities.name)));
  }

  /** /readyz asks this on every probe: a read, never a write transaction (unless the store was opened without migrating). */
  schemaVersion(): Promise<number> {
    return this.migrated ? readSchemaVersion(this.driver) : schemaVersion(this.driver);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
