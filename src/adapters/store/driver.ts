// The small surface a SQL store needs from a database driver. SQL is written once with `?`
// placeholders and portable types (BIGINT epoch-ms, TEXT JSON, INTEGER booleans); what differs
// between engines is described as capabilities, never tested by name in business code.

import type { Snapshot } from "../../core/model.js";
import type { IdempotencyRecord, SnapshotScope, StoreCapabilities } from "../../ports/store.js";

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface Queryable {
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Where the driver can, inside a transaction: `issue` sends the transaction's LAST statements and
   * the driver sends COMMIT right behind them without waiting for their answers (one round trip
   * less per transaction); if any of them fails, the transaction rolls back and fails with that
   * error. Returns true if it took them; otherwise the caller issues and awaits them itself.
   */
  lastly?(issue: () => Promise<unknown>): boolean;
  /**
   * Where the connection lives on another thread (SQLite): runs a batch's reads there, in one
   * message (sql-store.ts readForBatchOn, called by the thread itself). Absent: run them here.
   */
  readForBatch?(args: ReadForBatchArgs): Promise<ReadForBatchResult>;
  /**
   * Where the driver can (PostgreSQL): a set-based write whose statement text does not depend on
   * the number of rows (`unnest` of one array per column), prepared once per connection. Issued at
   * once, like `run`. Absent: sql-bulk.ts sends multi-row VALUES / IN lists in chunks.
   */
  bulk?(w: BulkWrite): Promise<number>;
}

/** A set-based write (sql-bulk.ts): an upsert of rows, or one UPDATE of the rows whose key is in `ids`. */
export type BulkWrite =
  | {
      readonly kind: "upsert";
      readonly table: string;
      readonly cols: readonly string[];
      readonly key: readonly string[];
      readonly rows: readonly (readonly SqlValue[])[];
      /** true: overwrite the other columns on conflict; "add": add to them; false: insert only. */
      readonly update: boolean | "add";
    }
  | {
      readonly kind: "update";
      readonly table: string;
      /** Columns set, to `values` (in order). */
      readonly set: readonly string[];
      readonly values: readonly SqlValue[];
      readonly key: string;
      readonly ids: readonly string[];
    };

/** What a driver's transactions have sent since it opened (tests and measurements count round trips with it). */
export interface DriverStats {
  transactions: number;
  /** Statements sent, BEGIN and COMMIT included. */
  statements: number;
  /** Times a statement was sent on a connection with no answer outstanding: waits for the server. */
  roundTrips: number;
}

export interface ReadForBatchArgs {
  readonly scope: SnapshotScope;
  readonly idempotency: ReadonlyArray<{ readonly scope: string; readonly keys: readonly string[] }>;
  readonly rowLocks: boolean;
}

export interface ReadForBatchResult {
  readonly snapshot: Snapshot;
  readonly records: IdempotencyRecord[];
}

export interface SqlDriver {
  readonly capabilities: StoreCapabilities;
  /** A statement that serializes migrations across processes, where the engine needs one. */
  readonly migrationLock: string | null;
  /** Counters, where the driver keeps them (PostgreSQL). */
  readonly stats?: DriverStats;
  /** Runs fn as one transaction: BEGIN IMMEDIATE on SQLite, BEGIN … COMMIT on PostgreSQL, with retries. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs a read-only fn without taking the write lock: on SQLite a second, read-only connection
   * (WAL readers never wait for the writer and never see uncommitted batches); on PostgreSQL
   * autocommit statements on a pooled connection (statement-level consistency, no BEGIN round trips).
   */
  read<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Runs statements outside a transaction (migrations that manage their own). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export { StoreUnavailable, UniqueViolation, type UnavailableReason } from "../../ports/store-errors.js";
