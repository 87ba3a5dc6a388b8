// SQLite through better-sqlite3: WAL, synchronous=FULL (an acknowledged write survives power loss),
// BEGIN IMMEDIATE so a transaction holds the write lock from its first statement (across processes
// too), and an in-process queue because the connection is shared by concurrent async callers.

import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Queryable, Row, SqlDriver, SqlValue } from "./driver.js";
import { StoreUnavailable, UniqueViolation } from "./driver.js";

/**
 * SQLite's infrastructure failures as StoreUnavailable, so the edge answers 507 storage_full (disk
 * full) or 503 service_unavailable (read-only file system or file, I/O error, lock wait exceeded)
 * with retry-after instead of a 500. The failed transaction was rolled back: nothing is half-written.
 * Other errors (constraints, SQL bugs, corruption) pass through unchanged.
 */
export function translateSqliteError(err: unknown, file: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return err;
  const message = (err as Error).message;
  if (code === "SQLITE_FULL") return new StoreUnavailable(`SQLite database ${file}: the disk is full (${message})`, err, "full");
  if (code.startsWith("SQLITE_READONLY")) return new StoreUnavailable(`SQLite database ${file} is read-only (${message})`, err, "read_only");
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_BUSY") || code === "SQLITE_PROTOCOL") {
    return new StoreUnavailable(`SQLite database ${file}: ${message}`, err);
  }
  return err;
}

function queryable(db: Database.Database): Queryable {
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  return {
    all: async (sql, params = []) => {
      const st = prepare(sql);
      return st.reader ? (st.all(...(params as SqlValue[])) as Row[]) : (st.run(...(params as SqlValue[])), []);
    },
    run: async (sql, params = []) => prepare(sql).run(...(params as SqlValue[])).changes,
  };
}

export function openSqlite(file: string): SqlDriver {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 10000");
    db.pragma("foreign_keys = ON");
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? "");
    const hint = code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") ? " (usage-credits must be able to write the database file, its directory and its -wal/-shm files: is the file system or the file read-only?)" : "";
    throw new StoreUnavailable(`cannot open SQLite database ${file}: ${(err as Error).message}${hint}`, err, hint ? "read_only" : "unreachable");
  }
  const q = queryable(db);
  // The reader opens lazily: an in-memory database has no second connection to share.
  let reader: { db: Database.Database; q: Queryable } | undefined;
  const readQ = (): Queryable => {
    if (file === ":memory:") return q;
    if (!reader) {
      const rdb = new Database(file, { readonly: true });
      rdb.pragma("busy_timeout = 10000");
      reader = { db: rdb, q: queryable(rdb) };
    }
    return reader.q;
  };
  let tail: Promise<unknown> = Promise.resolve();
  let readTail: Promise<unknown> = Promise.resolve();
  return {
    capabilities: { name: "sqlite", rowLocks: false, multiProcess: false },
    migrationLock: null, // BEGIN IMMEDIATE already excludes other writers
    transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        try {
          db.exec("BEGIN IMMEDIATE");
        } catch (err) {
          throw translateSqliteError(err, file);
        }
        try {
          const result = await fn(q);
          db.exec("COMMIT");
          return result;
        } catch (err) {
          // A COMMIT refused for a full disk leaves the transaction open: roll it back so the next
          // one starts clean (SQLite may already have rolled back; then inTransaction is false).
          if (db.inTransaction) {
            try {
              db.exec("ROLLBACK");
            } catch {
              // the connection rolled back on its own
            }
          }
          const code = (err as { code?: string }).code;
          if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") throw new UniqueViolation((err as Error).message, err);
          throw translateSqliteError(err, file);
        }
      };
      const next = tail.then(run, run);
      tail = next.catch(() => undefined);
      return next;
    },
    read<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        try {
          const rq = readQ();
          const rdb = reader?.db ?? db;
          if (rdb === db) return await fn(rq);
          rdb.exec("BEGIN"); // one consistent snapshot for the whole read
          try {
            return await fn(rq);
          } finally {
            rdb.exec("COMMIT");
          }
        } catch (err) {
          throw translateSqliteError(err, file);
        }
      };
      const next = readTail.then(run, run);
      readTail = next.catch(() => undefined);
      return next;
    },
    async exec(sql) {
      try {
        db.exec(sql);
      } catch (err) {
        throw translateSqliteError(err, file);
      }
    },
    async close() {
      await tail;
      await readTail;
      if (!db.open) return; // idempotent
      reader?.db.close();
      db.close();
    },
  };
}
