// Versioned, forward-only schema migrations for both engines. Each runs in one transaction
// (both engines have transactional DDL) together with its row in schema_migrations, so a
// migration is applied whole or not at all. A database newer than this code is refused.
// Never edit a released migration: add a new one.
// Over 400 lines: the released migrations, one declaration each, only ever appended to.

import type { Queryable, SqlDriver } from "./driver.js";
import { USAGE_DAILY_DDL, USAGE_HOURLY_DDL, usageDailyBackfill, usageHourlyBackfill } from "./usage-rollup-sql.js";
import { ORG_VERSION_MIGRATION } from "./org-versions-sql.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
  /** Engine-specific statements, keyed by driver capability name. */
  readonly engine?: Readonly<Record<string, readonly string[]>>;
}

const OPERATION_LOG_INDEXES = [`CREATE INDEX operation_log_at ON operation_log(at)`, `CREATE INDEX operation_log_org ON operation_log(org_id, seq)`];

const APPEND_ONLY_TABLES = ["ledger_transactions", "ledger_entries"];

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "core engine: organizations, members, keys, plans, price books, grants, limits, holds, ledger",
    statements: [
      `CREATE TABLE organizations (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, plan_id TEXT NOT NULL,
        usage_credits_enabled INTEGER NOT NULL, fast_mode_enabled INTEGER NOT NULL, fast_mode_fallback INTEGER NOT NULL,
        weekly_anchor BIGINT NOT NULL, debt BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL)`,
      `CREATE TABLE workspaces (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), name TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE INDEX workspaces_org ON workspaces(org_id)`,
      `CREATE TABLE members (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), email TEXT NOT NULL, name TEXT NOT NULL,
        role TEXT NOT NULL, seat_tier TEXT NOT NULL, workspace_id TEXT REFERENCES workspaces(id),
        usage_credits_enabled INTEGER NOT NULL, created_at BIGINT NOT NULL, UNIQUE (org_id, email))`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, org_id TEXT REFERENCES organizations(id), member_id TEXT REFERENCES members(id), name TEXT NOT NULL,
        surface TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)`,
      `CREATE INDEX api_keys_org ON api_keys(org_id)`,
      `CREATE TABLE plans (id TEXT PRIMARY KEY, name TEXT NOT NULL, definition TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE TABLE price_books (
        id TEXT NOT NULL, version INTEGER NOT NULL, effective_from BIGINT NOT NULL, spec TEXT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (id, version))`,
      `CREATE TABLE grants (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), kind TEXT NOT NULL, amount BIGINT NOT NULL,
        remaining BIGINT NOT NULL, priority INTEGER NOT NULL, expires_at BIGINT, surfaces TEXT, member_id TEXT,
        status TEXT NOT NULL, description TEXT NOT NULL, created_at BIGINT NOT NULL,
        CHECK (remaining >= 0 AND remaining <= amount))`,
      `CREATE INDEX grants_org_status ON grants(org_id, status)`,
      `CREATE TABLE spend_limits (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), scope TEXT NOT NULL, scope_id TEXT NOT NULL,
        period TEXT NOT NULL, amount BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        UNIQUE (org_id, scope, scope_id, period))`,
      `CREATE TABLE window_usage (
        member_id TEXT NOT NULL, window_key TEXT NOT NULL, period_start BIGINT NOT NULL,
        used BIGINT NOT NULL, held BIGINT NOT NULL, PRIMARY KEY (member_id, window_key))`,
      `CREATE TABLE spend_days (
        org_id TEXT NOT NULL, scope_key TEXT NOT NULL, day INTEGER NOT NULL, spent BIGINT NOT NULL, held BIGINT NOT NULL,
        PRIMARY KEY (org_id, scope_key, day))`,
      `CREATE TABLE holds (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, member_id TEXT NOT NULL, workspace_id TEXT, surface TEXT NOT NULL,
        model TEXT NOT NULL, speed TEXT NOT NULL, payer TEXT NOT NULL, amount BIGINT NOT NULL, draws TEXT NOT NULL,
        limited_amount BIGINT NOT NULL, windows TEXT NOT NULL, day INTEGER NOT NULL, created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL, status TEXT NOT NULL, settled_amount BIGINT NOT NULL, resolved_at BIGINT, metadata TEXT NOT NULL)`,
      `CREATE INDEX holds_pending ON holds(status, expires_at)`,
      `CREATE TABLE ledger_transactions (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX ledger_transactions_org ON ledger_transactions(org_id, at, id)`,
      `CREATE TABLE ledger_entries (
        tx_id TEXT NOT NULL REFERENCES ledger_transactions(id), idx INTEGER NOT NULL, org_id TEXT NOT NULL,
        account TEXT NOT NULL, amount BIGINT NOT NULL, PRIMARY KEY (tx_id, idx))`,
      `CREATE TABLE usage_records (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, member_id TEXT NOT NULL, workspace_id TEXT, hold_id TEXT NOT NULL,
        surface TEXT NOT NULL, model TEXT NOT NULL, speed TEXT NOT NULL, payer TEXT NOT NULL, cost BIGINT NOT NULL,
        credit_cost BIGINT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX usage_records_org_at ON usage_records(org_id, at)`,
      `CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL, response TEXT NOT NULL,
        created_at BIGINT NOT NULL, PRIMARY KEY (scope, key))`,
    ],
    engine: {
      // The ledger is append-only: corrections are new entries, never edits.
      sqlite: APPEND_ONLY_TABLES.flatMap((t) =>
        ["UPDATE", "DELETE"].map(
          (op) => `CREATE TRIGGER ${t}_no_${op.toLowerCase()} BEFORE ${op} ON ${t} BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END`,
        ),
      ),
      postgres: [
        `CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$`,
        ...APPEND_ONLY_TABLES.map((t) => `CREATE TRIGGER ${t}_append_only BEFORE UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ledger_append_only()`),
      ],
    },
  },
  {
    version: 2,
    name: "money in: payment methods, payments (exactly once), credit requests, auto-reload, events outbox",
    statements: [
      `CREATE TABLE payment_methods (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), provider TEXT NOT NULL, token TEXT NOT NULL,
        brand TEXT NOT NULL, last4 TEXT NOT NULL, created_at BIGINT NOT NULL, detached_at BIGINT)`,
      `CREATE INDEX payment_methods_org ON payment_methods(org_id, created_at)`,
      // One row per card charge. The idempotency key sent to the provider is unique; a payment
      // leaves pending once, and has a grant exactly when it succeeded.
      `CREATE TABLE payments (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), purpose TEXT NOT NULL, status TEXT NOT NULL,
        amount BIGINT NOT NULL, credit_amount BIGINT NOT NULL, currency TEXT NOT NULL, payment_method_id TEXT NOT NULL,
        bundle_id TEXT, idempotency_key TEXT NOT NULL UNIQUE, request_hash TEXT, provider_ref TEXT, failure_code TEXT,
        grant_id TEXT UNIQUE, created_by TEXT, credit_request_id TEXT, off_session INTEGER NOT NULL, attempts INTEGER NOT NULL,
        next_check_at BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, resolved_at BIGINT,
        CHECK (status IN ('pending', 'succeeded', 'failed')),
        CHECK (purpose IN ('purchase', 'credit_request', 'auto_reload')),
        CHECK (amount > 0 AND credit_amount > 0),
        CHECK ((status = 'succeeded') = (grant_id IS NOT NULL)))`,
      `CREATE INDEX payments_org ON payments(org_id, created_at)`,
      `CREATE INDEX payments_pending ON payments(status, next_check_at)`,
      // At most one auto-reload in flight per organization, whatever races.
      `CREATE UNIQUE INDEX payments_one_reload_in_flight ON payments(org_id) WHERE purpose = 'auto_reload' AND status = 'pending'`,
      `CREATE TABLE credit_requests (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), member_id TEXT NOT NULL, amount BIGINT NOT NULL,
        note TEXT NOT NULL, status TEXT NOT NULL, decided_by TEXT, decided_at BIGINT, decision_note TEXT NOT NULL,
        payment_id TEXT, created_at BIGINT NOT NULL)`,
      `CREATE INDEX credit_requests_org ON credit_requests(org_id, created_at)`,
      `CREATE TABLE auto_reload_settings (
        org_id TEXT PRIMARY KEY REFERENCES organizations(id), enabled INTEGER NOT NULL, threshold BIGINT NOT NULL, mode TEXT NOT NULL,
        amount BIGINT, target_balance BIGINT, payment_method_id TEXT, monthly_cap BIGINT, consecutive_failures INTEGER NOT NULL,
        suspended INTEGER NOT NULL, last_failure_at BIGINT, last_skip_reason TEXT, low_balance_notified INTEGER NOT NULL,
        updated_at BIGINT NOT NULL)`,
      `CREATE TABLE auto_reload_attempts (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, at BIGINT NOT NULL, outcome TEXT NOT NULL, reason TEXT, amount BIGINT NOT NULL,
        balance BIGINT NOT NULL, payment_id TEXT, failure_code TEXT, resolved_at BIGINT)`,
      `CREATE INDEX auto_reload_attempts_org ON auto_reload_attempts(org_id, at)`,
      `CREATE INDEX auto_reload_attempts_payment ON auto_reload_attempts(payment_id)`,
      `CREATE TABLE events (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE INDEX events_org ON events(org_id, created_at, id)`,
      // The expiry sweep looks for active grants past their expiry across all organizations.
      `CREATE INDEX grants_expiry ON grants(status, expires_at)`,
      // Scheduled jobs: the instance that inserts (job, slot) first runs that slot; the others skip it.
      `CREATE TABLE job_runs (job TEXT NOT NULL, slot BIGINT NOT NULL, claimed_at BIGINT NOT NULL, PRIMARY KEY (job, slot))`,
    ],
  },
  {
    version: 3,
    name: "webhooks: endpoints, deliveries from the events outbox, spend-limit threshold notices",
    statements: [
      `CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), url TEXT NOT NULL, event_types TEXT,
        secret TEXT NOT NULL, description TEXT NOT NULL, created_at BIGINT NOT NULL, deleted_at BIGINT)`,
      `CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id, created_at)`,
      // The outbox handoff: an event is marked dispatched in the transaction that creates its
      // deliveries. Events written before webhooks existed had no endpoint to go to.
      `ALTER TABLE events ADD COLUMN dispatched_at BIGINT`,
      `UPDATE events SET dispatched_at = created_at`,
      `CREATE INDEX events_undispatched ON events(created_at, id) WHERE dispatched_at IS NULL`,
      `CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
        event_id TEXT NOT NULL REFERENCES events(id), event_type TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
        next_attempt_at BIGINT, last_status INTEGER, last_error TEXT, last_attempt_at BIGINT, delivered_at BIGINT,
        replay_of TEXT, created_at BIGINT NOT NULL,
        CHECK (status IN ('pending', 'delivered', 'failed')),
        CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)))`,
      `CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending'`,
      `CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at, id)`,
      // An original delivery per (endpoint, event); replays are extra rows that name it.
      `CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries(endpoint_id, event_id) WHERE replay_of IS NULL`,
      // Once-per-period events: spend_limit.threshold once per limit, period and mark (50/75/90/100 %),
      // window.exhausted once per member window period, credits.depleted once per dip (row removed on recovery).
      `CREATE TABLE event_notices (
        subject TEXT NOT NULL, period_start BIGINT NOT NULL, mark INTEGER NOT NULL, org_id TEXT NOT NULL, at BIGINT NOT NULL,
        PRIMARY KEY (subject, period_start, mark))`,
    ],
  },
  {
    version: 4,
    name: "monthly SDK credits: per-org settings (pooled, cap), members' opt-ins, one record per member and billing cycle",
    statements: [
      `CREATE TABLE sdk_credit_settings (
        org_id TEXT PRIMARY KEY REFERENCES organizations(id), pooled INTEGER NOT NULL, pool_cap BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        CHECK (pool_cap >= 0))`,
      // Claimed once: one opt-in per member.
      `CREATE TABLE sdk_credit_claims (
        member_id TEXT PRIMARY KEY REFERENCES members(id), org_id TEXT NOT NULL REFERENCES organizations(id),
        claimed_at BIGINT NOT NULL, claimed_by TEXT NOT NULL)`,
      `CREATE INDEX sdk_credit_claims_org ON sdk_credit_claims(org_id, claimed_at)`,
      // Refreshed once per cycle: at most one record per (member, cycle); the refresh job inserts it
      // in the transaction that creates the cycle's grant, so a cycle is never granted twice.
      `CREATE TABLE sdk_credit_cycles (
        member_id TEXT NOT NULL, cycle_start BIGINT NOT NULL, cycle_end BIGINT NOT NULL, org_id TEXT NOT NULL REFERENCES organizations(id),
        pooled INTEGER NOT NULL, amount BIGINT NOT NULL, grant_id TEXT, created_at BIGINT NOT NULL,
        PRIMARY KEY (member_id, cycle_start), CHECK (amount >= 0))`,
      `CREATE INDEX sdk_credit_cycles_org ON sdk_credit_cycles(org_id, cycle_start)`,
    ],
  },
  {
    version: 5,
    name: "the rename: one record per legacy (extra usage) account imported, for idempotent re-runs",
    statements: [
      // digest: SHA-256 of the account's normalized legacy records; a re-run with another digest
      // for the same legacy id is a conflict, never a silent change.
      `CREATE TABLE legacy_imports (
        legacy_id TEXT PRIMARY KEY, org_id TEXT NOT NULL UNIQUE REFERENCES organizations(id), digest TEXT NOT NULL,
        imported_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 6,
    name: "dashboard: member passwords (scrypt), sign-in sessions, sign-in failure counters, token counts on usage records, fast mode per member",
    statements: [
      // One password per member (a membership signs in; the same email in two orgs has two).
      `CREATE TABLE member_passwords (
        member_id TEXT PRIMARY KEY REFERENCES members(id), hash TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      // Sessions live in the database so any instance can serve any request. Only the token's
      // SHA-256 is stored; the CSRF token is per session and sent back in a header.
      `CREATE TABLE dashboard_sessions (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, member_id TEXT NOT NULL REFERENCES members(id),
        csrf_token TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT)`,
      `CREATE INDEX dashboard_sessions_member ON dashboard_sessions(member_id)`,
      // Failed sign-ins per subject ("account:<email>", "ip:<address>") in a fixed window.
      `CREATE TABLE sign_in_failures (
        subject TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start BIGINT NOT NULL)`,
      // Token counts for the usage page (0 for records that were metered by amount, and before this version).
      `ALTER TABLE usage_records ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0`,
      `ALTER TABLE usage_records ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0`,
      // Fast mode per member (the organization's switch still applies to everyone).
      `ALTER TABLE members ADD COLUMN fast_mode_enabled INTEGER NOT NULL DEFAULT 1`,
    ],
  },
  {
    version: 7,
    name: "audit log: who changed money, limits, reload settings, roles and keys, when, before and after (append-only)",
    statements: [
      // No foreign key to organizations: the log outlives whatever it describes.
      `CREATE TABLE audit_log (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, at BIGINT NOT NULL,
        actor_type TEXT NOT NULL, actor_id TEXT, actor_member_id TEXT,
        action TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
        before_json TEXT, after_json TEXT, request_id TEXT)`,
      `CREATE INDEX audit_log_org ON audit_log(org_id, at, id)`,
      `CREATE INDEX audit_log_target ON audit_log(org_id, target_type, target_id, at)`,
    ],
    engine: {
      sqlite: ["UPDATE", "DELETE"].map(
        (op) => `CREATE TRIGGER audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
      ),
      postgres: [
        `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$`,
        `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
        // TRUNCATE skips row triggers; refuse it too.
        `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
      ],
    },
  },
  {
    version: 8,
    name: "message batches: the gateway's record of each batch and the hold of each request in it",
    statements: [
      `CREATE TABLE message_batches (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES organizations(id), member_id TEXT NOT NULL,
        upstream_id TEXT, status TEXT NOT NULL, request_count INTEGER NOT NULL,
        created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, ended_at BIGINT, cancel_initiated_at BIGINT,
        succeeded INTEGER NOT NULL, errored INTEGER NOT NULL, canceled INTEGER NOT NULL, expired INTEGER NOT NULL)`,
      `CREATE INDEX message_batches_org ON message_batches(org_id, id)`,
      `CREATE INDEX message_batches_open ON message_batches(status, created_at)`,
      `CREATE TABLE message_batch_requests (
        batch_id TEXT NOT NULL REFERENCES message_batches(id), idx INTEGER NOT NULL, custom_id TEXT NOT NULL,
        hold_id TEXT NOT NULL, estimate BIGINT NOT NULL, data_residency INTEGER NOT NULL, PRIMARY KEY (batch_id, idx))`,
    ],
  },
  {
    version: 9,
    name: "money safety: hold owner (the gateway's holds are its own), expired holds found per organization",
    statements: [
      // "gateway": only the gateway resolves the hold (and bills what it relayed); "api": the API.
      `ALTER TABLE holds ADD COLUMN owner TEXT NOT NULL DEFAULT 'api'`,
      // An organization's expired holds are unwound before its next admission decision: found by
      // (org, expiry) among pending holds only, so the index stays as small as the pending set.
      `CREATE INDEX holds_org_due ON holds(org_id, expires_at) WHERE status = 'pending'`,
    ],
  },
  {
    version: 10,
    name: "alert-only budgets: a spending limit may count and alert without ever refusing (stop_usage off)",
    statements: [
      // 1: a hard limit (refuses beyond it), as every limit before this version; 0: alert-only.
      `ALTER TABLE spend_limits ADD COLUMN stop_usage INTEGER NOT NULL DEFAULT 1`,
    ],
  },
  {
    version: 11,
    name: "pricing lab: every token class of a usage record, and an ordered log of every money operation (refusals included)",
    statements: [
      // Every token class that prices a request and the authorize inputs it was admitted on. NULL on
      // records written before this version: the lab replays those as input/output only.
      `ALTER TABLE usage_records ADD COLUMN fresh_input_tokens BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN cache_write_5m_tokens BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN cache_write_1h_tokens BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN cache_read_tokens BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN web_search_requests BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN batch INTEGER`,
      `ALTER TABLE usage_records ADD COLUMN data_residency INTEGER`,
      `ALTER TABLE usage_records ADD COLUMN estimate BIGINT`,
      `ALTER TABLE usage_records ADD COLUMN authorized_at BIGINT`,
    ],
    engine: {
      // seq: the order the operations were decided in (an organization's batches are serialized by
      // its lock, and a batch writes its operations in arrival order), so a replay is exact.
      sqlite: [`CREATE TABLE operation_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
        hold_id TEXT, member_id TEXT, workspace_id TEXT, surface TEXT, model TEXT, family TEXT, speed TEXT, micros BIGINT,
        rated INTEGER, input_tokens BIGINT, output_tokens BIGINT, cache_write_5m_tokens BIGINT, cache_write_1h_tokens BIGINT,
        cache_read_tokens BIGINT, web_search_requests BIGINT, batch INTEGER, data_residency INTEGER, ttl_ms BIGINT,
        owner TEXT, actor TEXT, code TEXT, data TEXT)`, ...OPERATION_LOG_INDEXES],
      postgres: [`CREATE TABLE operation_log (seq BIGSERIAL PRIMARY KEY, org_id TEXT NOT NULL, at BIGINT NOT NULL, kind TEXT NOT NULL,
        hold_id TEXT, member_id TEXT, workspace_id TEXT, surface TEXT, model TEXT, family TEXT, speed TEXT, micros BIGINT,
        rated INTEGER, input_tokens BIGINT, output_tokens BIGINT, cache_write_5m_tokens BIGINT, cache_write_1h_tokens BIGINT,
        cache_read_tokens BIGINT, web_search_requests BIGINT, batch INTEGER, data_residency INTEGER, ttl_ms BIGINT,
        owner TEXT, actor TEXT, code TEXT, data TEXT)`, ...OPERATION_LOG_INDEXES],
    },
  },
  {
    version: 12,
    name: "usage rollups: usage summed per organization, UTC day, model, surface, member, speed and payer, written with every charge",
    // The breakdown and the statements read this instead of scanning usage_records; the backfill
    // sums the records already there, in the migration's own transaction.
    statements: [USAGE_DAILY_DDL, usageDailyBackfill()],
  },
  {
    version: 14,
    name: "plan versions: a plan is a series of effective-dated definitions (plans keeps the ids and the latest version)",
    statements: [
      `CREATE TABLE plan_versions (
        plan_id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL, effective_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL, created_by TEXT NOT NULL, PRIMARY KEY (plan_id, version))`,
      // Every existing plan becomes its version 1, in force since the beginning (effective_at 0):
      // windows already running keep the quota they had.
      `INSERT INTO plan_versions (plan_id, version, definition, effective_at, created_at, created_by)
        SELECT id, 1, definition, 0, updated_at, 'migration' FROM plans`,
    ],
  },
  // Raised by triggers on every change to what a batch's snapshot reads (the per-organization cache checks it).
  { version: 15, name: "organization versions", ...ORG_VERSION_MIGRATION },
  {
    version: 16,
    name: "hourly usage rollup: usage summed per organization, UTC hour, model, surface, member, speed and payer, written with every charge",
    // A range's partial edge days are read from this instead of up to half a day of raw records
    // (≈ 55,000 records at 10 M a quarter); the backfill sums the records already there.
    statements: [USAGE_HOURLY_DDL, usageHourlyBackfill()],
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export class SchemaTooNew extends Error {
  /** Stable, for scripts: `serve`, `migrate` and every command exit with status 3 and print it. */
  readonly code = "schema_too_new";
  constructor(readonly found: number, readonly known: number) {
    super(`database schema version ${found} is newer than this server understands (${known}); upgrade the server, do not downgrade the database`);
    this.name = "SchemaTooNew";
  }
}

async function currentVersion(q: Queryable): Promise<number> {
  const rows = await q.all("SELECT MAX(version) AS v FROM schema_migrations");
  return Number(rows[0]?.["v"] ?? 0);
}

const SCHEMA_MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/**
 * The schema's version, read without the write lock (readiness probes): only for a database whose
 * schema_migrations table exists, which every store opened with its migrations has.
 */
export function readSchemaVersion(driver: SqlDriver): Promise<number> {
  return driver.read((q) => currentVersion(q));
}

/** Applies pending migrations (serialized across processes: advisory lock on PostgreSQL, write lock on SQLite). */
export async function migrate(driver: SqlDriver, target = LATEST_VERSION): Promise<{ from: number; to: number }> {
  let from = 0;
  let to = 0;
  await driver.transaction(async (q) => {
    // The lock comes first, even before the bookkeeping table is made: two instances starting at
    // once on a new PostgreSQL database would otherwise race on CREATE TABLE IF NOT EXISTS (one gets
    // a unique violation on pg_type) and one of them would fail to start.
    if (driver.migrationLock) await q.all(driver.migrationLock);
    await q.run(SCHEMA_MIGRATIONS_TABLE);
    from = await currentVersion(q);
    if (from > LATEST_VERSION) throw new SchemaTooNew(from, LATEST_VERSION);
    to = from;
    for (const m of MIGRATIONS) {
      if (m.version <= from || m.version > target) continue;
      for (const sql of [...m.statements, ...(m.engine?.[driver.capabilities.name] ?? [])]) await q.run(sql);
      await q.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
      to = m.version;
    }
  });
  return { from, to };
}

export async function schemaVersion(driver: SqlDriver): Promise<number> {
  return driver.transaction(async (q) => {
    if (driver.migrationLock) await q.all(driver.migrationLock);
    await q.run(SCHEMA_MIGRATIONS_TABLE);
    return currentVersion(q);
  });
}
