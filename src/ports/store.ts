// The store port: everything the application needs from persistence. Two real implementations
// (src/adapters/store: SQLite and PostgreSQL, one SQL store over two drivers) pass one shared suite.
//
// Money moves only inside `transaction`, after `lockOrgs`: on PostgreSQL that takes the rows'
// locks in id order (so concurrent batches from several instances never deadlock); on SQLite the
// transaction itself holds the single write lock. Hard limits therefore hold across processes.

import type { Changes } from "../core/books.js";
import type { Grant } from "../core/grants.js";
import type { LedgerAggregates } from "../core/ledger-verify.js";
import type { SpendLimit } from "../core/limits.js";
import type { Hold, LedgerTransaction, Member, Organization, Snapshot, UsageRecord } from "../core/model.js";
import type { LogEntry } from "../core/operation-log.js";
import type { PlanDef, PlanVersion, Surface } from "../core/plans.js";
import type { PriceBookSpec } from "../core/price-book.js";
import type { MoneyInTx } from "./money-in-store.js";
import type { WebhooksTx } from "./webhooks-store.js";
import type { MessageBatchesTx } from "./batch-store.js";
import type { SdkCreditsTx } from "./sdk-credit-store.js";
import type { StatementsTx } from "./statement-store.js";
import type { LabTx } from "./lab-store.js";
import type { AuditTx } from "./audit-store.js";
import type { LegacyImportTx } from "./legacy-import-store.js";
import type { DashboardTx } from "./dashboard-store.js";

export type { LedgerAggregates };

export interface StoreCapabilities {
  /** "sqlite" or "postgres": for logs and diagnostics only, never for business decisions. */
  readonly name: string;
  /** Row locks (SELECT … FOR UPDATE); without them a transaction is the single writer. */
  readonly rowLocks: boolean;
  /** Several processes may serve one database (PostgreSQL); false for an embedded file. */
  readonly multiProcess: boolean;
  /**
   * Group-commit batches that may be in flight at once (on disjoint organizations): 4 on PostgreSQL,
   * whose round trips overlap; 2 on SQLite, whose writer thread queues the next batch's BEGIN behind
   * the previous COMMIT's fsync, so the main thread prepares one batch while the other syncs.
   */
  readonly batchesInFlight: number;
  /**
   * A transaction may return with its last writes still unanswered: the COMMIT is sent behind them
   * and happens only if every one of them succeeded (otherwise the transaction is rolled back and
   * fails with that write's error). Saves the group commit one round trip per batch. SQLite's writer
   * thread: yes. PostgreSQL: no (a COMMIT after a failed statement rolls back without an error);
   * there the last writes (StoreTx.finalWrites) go as one statement that is awaited before COMMIT.
   */
  readonly pipelinedCommit?: boolean;
  /**
   * Organizations carry a version the database raises on every change to their money state
   * (migration 15's triggers), and a transaction can check versions and write in the same crossing
   * (StoreTx.checkFresh): the batcher may then decide a batch on its cached state before sending
   * anything. SQLite's writer thread: yes. PostgreSQL: not yet (every batch reads its snapshot).
   */
  readonly versionedOrgs?: boolean;
}

/** What a batch decided on cached state assumed; checked in its transaction before its writes. */
export interface FreshnessCheck {
  /** Each organization's version as cached: any other version and the batch is stale. */
  readonly versions: ReadonlyArray<readonly [orgId: string, version: number]>;
  /** Idempotency keys the decision took as not stored (a stored one must be replayed instead). */
  readonly idempotency: ReadonlyArray<{ readonly scope: string; readonly keys: readonly string[] }>;
}

/** With a batch's reads, for the per-organization cache: what a snapshot alone does not say. */
export interface HotRead {
  /** Each organization's version in this transaction (before the batch's writes). */
  readonly versions: ReadonlyMap<string, number>;
  /** Every pending hold of the organizations (due or not). */
  readonly pendingHolds: readonly Hold[];
}

export interface SnapshotScope {
  readonly orgIds: readonly string[];
  readonly memberIds: readonly string[];
  readonly holdIds: readonly string[];
  /** Grants named by the operations (whatever their status), e.g. the one being voided. */
  readonly grantIds?: readonly string[];
  /** Load every grant of the orgs (for expiry sweeps), not only those with a balance. */
  readonly allActiveGrants?: boolean;
  /**
   * Also load the orgs' pending holds past their TTL at `now` (oldest first): "all" before an
   * admission decision (expired holds never block), a chunk size for the sweep.
   */
  readonly dueHolds?: "all" | number;
  /** Load spend counters of every scope (reports), not only of scopes that have a limit. */
  readonly allSpend?: boolean;
  readonly now: number;
}

export interface ApiKeyRow {
  readonly id: string;
  /** null: a platform key (operators: may create organizations and act on any). */
  readonly orgId: string | null;
  readonly memberId: string | null;
  readonly name: string;
  readonly surface: Surface;
  readonly hash: string;
  readonly prefix: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface Workspace {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface IdempotencyRecord {
  readonly scope: string;
  readonly key: string;
  readonly requestHash: string;
  readonly status: number;
  readonly response: string;
  readonly createdAt: number;
}

export interface UsageQuery {
  readonly orgId: string;
  readonly from: number;
  readonly to: number;
  readonly memberId?: string;
}

export interface LedgerQuery {
  readonly orgId: string;
  readonly limit: number;
  /** Transactions strictly before this (at, id) position, for paging newest first. */
  readonly before?: { at: number; id: string };
  /** Only transactions of this kind. */
  readonly kind?: string;
  /** Hold transactions (hold, settle, release, relayed_charge) only of this member's holds. */
  readonly holdsOf?: string;
}

export interface StoreTx {
  // ---- money path
  /** Loads the orgs, locking their rows in id order unless `forUpdate` is false (reads). */
  lockOrgs(ids: readonly string[], forUpdate?: boolean): Promise<Organization[]>;
  loadSnapshot(scope: SnapshotScope, lockedOrgs: readonly Organization[]): Promise<Snapshot>;
  /** Writes a batch's changes, and its operation log (in order) when the books kept one. */
  writeChanges(changes: Changes & { readonly log?: readonly LogEntry[] }): Promise<void>;
  /** Appends entries to the operation log (a limit change: in the transaction that makes it). */
  appendOperationLog(entries: readonly LogEntry[]): Promise<void>;
  /**
   * Issues the transaction's last writes (nothing may follow them). Where the engine allows, its
   * COMMIT goes right behind them without waiting for their answers; a failed write still fails
   * and rolls back the whole transaction.
   */
  finalWrites(issue: () => Promise<unknown>): Promise<void>;
  getIdempotency(scope: string, keys: readonly string[]): Promise<IdempotencyRecord[]>;
  putIdempotency(records: readonly IdempotencyRecord[]): Promise<void>;
  /**
   * What a group-commit batch reads before deciding, in one call: lockOrgs(scope.orgIds), then
   * loadSnapshot and the idempotency records asked for. On SQLite all of it runs on the writer
   * thread in one message (one crossing instead of four); elsewhere it is those calls in turn.
   */
  readForBatch?(
    scope: SnapshotScope,
    idempotency: ReadonlyArray<{ readonly scope: string; readonly keys: readonly string[] }>,
    hot?: boolean,
  ): Promise<{ snapshot: Snapshot; records: IdempotencyRecord[]; hot?: HotRead }>;
  /**
   * Where the store has versionedOrgs: checks `check` first thing in this transaction, in the same
   * crossing as what follows. Not awaited: if it fails, nothing after it runs and the transaction
   * fails with StaleSnapshot (rolled back).
   */
  checkFresh?(check: FreshnessCheck): void;
  /** The organizations' versions as they stand in this transaction (after its writes, if issued after them). */
  orgVersions(orgIds: readonly string[]): Promise<ReadonlyMap<string, number>>;

  // ---- organizations, members, workspaces, keys
  insertOrg(org: Organization): Promise<void>;
  updateOrg(org: Organization): Promise<void>;
  getOrg(id: string): Promise<Organization | undefined>;
  listOrgs(limit: number, offset: number): Promise<Organization[]>;
  insertMember(m: Member): Promise<void>;
  updateMember(m: Member): Promise<void>;
  getMember(id: string): Promise<Member | undefined>;
  listMembers(orgId: string): Promise<Member[]>;
  insertWorkspace(w: Workspace): Promise<void>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  listWorkspaces(orgId: string): Promise<Workspace[]>;
  insertApiKey(k: ApiKeyRow): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(orgId: string): Promise<ApiKeyRow[]>;
  /**
   * The operators' (platform) keys, revoked ones included. `serialize`: hold a lock until the
   * transaction ends so two instances bootstrapping one database at once create one first key.
   */
  listPlatformKeys(serialize?: boolean): Promise<ApiKeyRow[]>;
  revokeApiKey(id: string, at: number): Promise<void>;

  // ---- catalog
  /**
   * Adds a version of `version.definition.id` (the next number; the plan is created on its first)
   * and keeps `plans` naming it. Returns the stored version.
   */
  addPlanVersion(version: Omit<PlanVersion, "version" | "planId">): Promise<PlanVersion>;
  /** Every version of the given plans (all plans when omitted), by plan then version. */
  listPlanVersions(planIds?: readonly string[]): Promise<PlanVersion[]>;
  /** Each plan as the version in force at `at` defines it. */
  listPlans(at: number): Promise<PlanDef[]>;
  insertPriceBook(spec: PriceBookSpec, effectiveFrom: number, at: number): Promise<void>;
  listPriceBooks(): Promise<PriceBookSpec[]>;
  /** Requests and cost per organization and model name (as clients sent it) since `since` (a price book's dry run). */
  modelUsageSince(since: number): Promise<Array<{ orgId: string; model: string; requests: number; cost: number }>>;

  // ---- limits, grants, holds, usage, ledger (reads)
  upsertLimit(limit: SpendLimit, at: number): Promise<void>;
  deleteLimit(id: string): Promise<void>;
  listLimits(orgId: string): Promise<SpendLimit[]>;
  listGrants(orgId: string): Promise<Grant[]>;
  getHold(id: string): Promise<Hold | undefined>;
  listUsage(q: UsageQuery): Promise<UsageRecord[]>;
  listLedger(q: LedgerQuery): Promise<LedgerTransaction[]>;
  /** Pending holds past their TTL and active grants past expiry: what sweeps must resolve. */
  dueForSweep(now: number, limit: number): Promise<{ holds: Array<{ id: string; orgId: string; memberId: string }>; grantOrgs: string[] }>;
  ledgerAggregates(): Promise<LedgerAggregates>;
  /** Holds not yet settled, released or expired, across all organizations (a metrics gauge). */
  pendingHoldCount(): Promise<number>;
  /** Claims one run of a scheduled job (job, slot); true for exactly one caller across all instances. */
  claimJobRun(job: string, slot: number, at: number): Promise<boolean>;

  // ---- money in: payments, payment methods, credit requests, auto-reload, events (same transaction)
  readonly moneyIn: MoneyInTx;
  // ---- webhooks: endpoints, deliveries, the outbox handoff (same transaction)
  readonly webhooks: WebhooksTx;
  // ---- monthly SDK credits: settings, opt-ins, one record per member and cycle (same transaction)
  readonly sdkCredits: SdkCreditsTx;
  // ---- statements: customer-side balances and a month of the ledger (reads)
  readonly statements: StatementsTx;
  // ---- the pricing lab: the operation log of a period, opening states, actual figures (reads)
  readonly lab: LabTx;
  // ---- the audit log: appended in the transaction of the change it describes
  readonly audit: AuditTx;
  // ---- the legacy ("extra usage") importer's records (same transaction as the imported account)
  readonly legacyImport: LegacyImportTx;
  // ---- dashboard: passwords, sessions, sign-in throttling, the usage breakdown
  readonly dashboard: DashboardTx;
  // ---- the gateway's Message Batches: each batch and the hold of each of its requests
  readonly messageBatches: MessageBatchesTx;
}

export interface Store {
  readonly capabilities: StoreCapabilities;
  /** Runs fn in one transaction; retried on serialization failures and deadlocks. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Runs a read-only fn without the write lock (see SqlDriver.read); never write inside it. */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
