// The small surface a SQL store needs from a database driver. SQL is written once with `?`
// placeholders and portable types (BIGINT epoch-ms, TEXT JSON, INTEGER booleans); what differs
// between engines is described as capabilities, never tested by name in business code.

import type { StoreCapabilities } from "../../ports/store.js";

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface Queryable {
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver {
  readonly capabilities: StoreCapabilities;
  /** A statement that serializes migrations across processes, where the engine needs one. */
  readonly migrationLock: string | null;
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
