// SQLite through better-sqlite3, off the event loop: the write connection lives on its own worker
// thread (sqlite-thread.ts), and so do the read connections. WAL, synchronous=FULL (an acknowledged
// write survives power loss), BEGIN IMMEDIATE so a transaction holds the write lock from its first
// statement (across processes too).
//
// Why threads: better-sqlite3 is synchronous. On the main thread, a batch's COMMIT (its fsync) or a
// 90-day usage scan stopped every request of every customer for its whole duration. Now the event
// loop only sends statements and awaits answers; while the writer thread syncs batch N, the main
// thread parses, authenticates, relays and queues batch N+1, whose BEGIN is already waiting in the
// writer's queue (transactions are released when their COMMIT is *sent*; the thread runs messages in
// order, so the next transaction starts exactly when the previous one is durable). A caller is still
// answered only after its COMMIT returned. Reads go to a small pool of read-only connections, each
// on its own thread, so one long report does not hold up the short reads behind it.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Queryable, ReadForBatchResult, Row, SqlDriver, SqlValue } from "./driver.js";
import { StoreUnavailable, UniqueViolation } from "./driver.js";
import { StaleSnapshot } from "../../ports/store-errors.js";
import { SqliteThread, type Request } from "./sqlite-thread.js";

/** Read-only connections (threads): two, so a long report and the short reads never queue behind each other. */
const READERS = 2;

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

function queryable(thread: SqliteThread): Queryable {
  return {
    all: async (sql, params = []) => (await thread.call({ op: "all", sql, params: params as SqlValue[] })) as Row[],
    run: async (sql, params = []) => (await thread.call({ op: "run", sql, params: params as SqlValue[] })) as number,
  };
}

export function openSqlite(file: string): SqlDriver {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const writer = SqliteThread.start({ file, role: "writer" });
  // Opening happens on the thread: its failure reaches the first statement, as the same
  // StoreUnavailable (with the hint) that opening on the main thread used to throw.
  const opened = writer.ready().then(
    () => undefined,
    (err: unknown) => {
      void writer.close();
      const code = String((err as { code?: unknown }).code ?? "");
      const hint = code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY") ? " (usage-credits must be able to write the database file, its directory and its -wal/-shm files: is the file system or the file read-only?)" : "";
      throw new StoreUnavailable(`cannot open SQLite database ${file}: ${(err as Error).message}${hint}`, err, hint ? "read_only" : "unreachable");
    },
  );
  opened.catch(() => undefined); // reported to whoever uses the store first
  const q = queryable(writer);

  // Readers start lazily (after the writer created the file and its WAL); an in-memory database has
  // no second connection to share, so its reads go to the writer.
  const readers: Array<{ thread: SqliteThread; q: Queryable; tail: Promise<unknown> }> = [];
  const reader = () => {
    if (readers.length < READERS) {
      const thread = SqliteThread.start({ file, role: "reader" });
      const r = { thread, q: queryable(thread), tail: Promise.resolve() as Promise<unknown> };
      readers.push(r);
      return r;
    }
    return readers.reduce((a, b) => (b.thread.queued < a.thread.queued ? b : a));
  };

  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    capabilities: { name: "sqlite", rowLocks: false, multiProcess: false, batchesInFlight: 2, pipelinedCommit: true, versionedOrgs: true },
    migrationLock: null, // BEGIN IMMEDIATE already excludes other writers
    transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      let committing!: () => void;
      const released = new Promise<void>((r) => (committing = r));
      const run = async (): Promise<T> => {
        try {
          await opened;
        } catch (err) {
          committing();
          throw translateSqliteError(err, file);
        }
        // BEGIN is not waited for: it crosses to the thread with the transaction's first statements
        // (if it fails, the thread fails them with its error, and the ROLLBACK below clears that).
        const begin = writer.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
        begin.catch(() => undefined);
        // Statements sent and not answered yet: the COMMIT's guard (pipelinedCommit, ports/store.ts).
        const unanswered = new Set<number>();
        let commitSent = false;
        const send = (request: Request): Promise<unknown> => {
          // A bug guard: the COMMIT went out behind the statements sent so far; a later one would run outside the transaction.
          if (commitSent) return Promise.reject(new Error("a statement was sent after its transaction's COMMIT (every write must be issued before the transaction function returns)"));
          const { id, answer } = writer.send(request);
          unanswered.add(id);
          const done = () => void unanswered.delete(id);
          answer.then(done, done);
          return answer;
        };
        const tq: Queryable = {
          all: async (sql, params = []) => (await send({ op: "all", sql, params: params as SqlValue[] })) as Row[],
          run: async (sql, params = []) => (await send({ op: "run", sql, params: params as SqlValue[] })) as number,
          // The batch's lock, snapshot and idempotency reads: one message, run by the thread.
          readForBatch: async (args) => (await send({ op: "readForBatch", args })) as ReadForBatchResult,
          // A batch decided on cached state: checked first, in the same message as its writes and COMMIT.
          checkFresh: async (check) => void (await send({ op: "checkFresh", check })),
          // The transaction's last writes: not waited for here; the COMMIT's guard covers them (all
          // their statements are sent before `issue` first yields: sql-bulk.ts).
          lastly: (issue) => {
            last = issue();
            last.catch(() => undefined);
            return true;
          },
        };
        let last: Promise<unknown> | undefined;
        try {
          const result = await fn(tq);
          // Not waiting for BEGIN's answer: a transaction that only wrote (a batch decided on cached
          // state) crosses as one message, BEGIN to COMMIT. If BEGIN failed, the thread refuses the
          // COMMIT with BEGIN's error (and rolls nothing back: there is no transaction).
          const commit = writer.call({ op: "commit", guard: [...unanswered] });
          commitSent = true;
          // The next transaction may queue its BEGIN behind this COMMIT now: the thread runs it only
          // once this one is durable (or rolled back by the thread itself, if the COMMIT fails).
          committing();
          await commit;
          await begin;
          // Surfaces a write refused for coming after the COMMIT (a bug, loud rather than silent).
          if (last) await last;
          return result;
        } catch (err) {
          if (!commitSent) {
            // Posted before the next transaction may start, so it cannot roll back anyone else's work.
            const rollback = writer.call({ op: "rollback" });
            committing();
            await rollback.catch(() => undefined);
          }
          const code = (err as { code?: string }).code;
          if (code === StaleSnapshot.code) throw new StaleSnapshot((err as Error).message);
          if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") throw new UniqueViolation((err as Error).message, err);
          throw translateSqliteError(err, file);
        }
      };
      const next = tail.then(run, run);
      tail = released;
      return next;
    },
    read<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      if (file === ":memory:") {
        return (async () => {
          await opened;
          try {
            return await fn(q);
          } catch (err) {
            throw translateSqliteError(err, file);
          }
        })();
      }
      const r = reader();
      const run = async (): Promise<T> => {
        await opened;
        // One consistent snapshot for the whole read. BEGIN is not awaited, so it crosses to the
        // thread in the same message as the read's first statements (a failed BEGIN fails the read
        // below), and the closing ROLLBACK is not waited for: the thread runs it before the next read.
        const begin = r.thread.call({ op: "exec", sql: "BEGIN" });
        begin.catch(() => undefined);
        try {
          const result = await fn(r.q);
          await begin;
          return result;
        } catch (err) {
          throw translateSqliteError(err, file);
        } finally {
          void r.thread.call({ op: "rollback" }).catch(() => undefined);
        }
      };
      const next = r.tail.then(run, run);
      r.tail = next.catch(() => undefined);
      return next;
    },
    async exec(sql) {
      await opened;
      try {
        await writer.call({ op: "exec", sql });
      } catch (err) {
        throw translateSqliteError(err, file);
      }
    },
    async close() {
      if (closed) return; // idempotent
      closed = true;
      await tail.catch(() => undefined);
      await Promise.all(readers.map((r) => r.tail.catch(() => undefined)));
      await Promise.all(readers.map((r) => r.thread.close()));
      await writer.close();
    },
  };
}
