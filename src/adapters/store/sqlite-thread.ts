// A better-sqlite3 connection that lives on its own worker thread (node:worker_threads), so the
// event loop never waits for SQLite: not for COMMIT's fsync (synchronous=FULL), not for a long
// scan. The main thread sends one message per statement and awaits the answer; the worker runs the
// messages strictly in arrival order, which is what makes a transaction (BEGIN … COMMIT) and the
// queue of transactions behind it safe without any lock on the main thread.
//
// This file is both sides: `SqliteThread` (main thread) and the worker's loop (run when the file is
// loaded as a worker). Errors cross as { name, message, code } and are rebuilt as Errors carrying
// SQLite's code, so sqlite-driver.ts translates them exactly as it did in process.

import Database from "better-sqlite3";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { Row, SqlValue } from "./driver.js";

export type Request =
  | { readonly op: "all"; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly op: "run"; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly op: "exec"; readonly sql: string }
  /**
   * BEGIN IMMEDIATE, sent without waiting for its answer together with the transaction's first
   * statements: if it fails, every statement after it fails with its error until the "rollback"
   * that ends the attempt, so nothing runs outside the transaction it was meant for.
   */
  | { readonly op: "begin" }
  /**
   * COMMIT; if it fails (disk full) the transaction is rolled back here, before any next message
   * runs. With `ifCleanSince`, the COMMIT was sent right behind the transaction's last writes
   * without waiting for their answers: if any statement from that id on failed, it rolls back
   * instead (and fails), so a failed write is never committed.
   */
  | { readonly op: "commit"; readonly ifCleanSince?: number }
  /** ROLLBACK if a transaction is open (SQLite may already have rolled back on its own). */
  | { readonly op: "rollback" }
  | { readonly op: "close" };

interface Envelope {
  readonly id: number;
  readonly request: Request;
}
/**
 * A statement as it crosses: its text only the first time, with the number both sides know it by
 * from then on (a batch's multi-row statements are kilobytes of text, cloned on every crossing).
 */
type Wire = Request | { readonly op: "all" | "run"; readonly sql?: string; readonly sqlId: number; readonly params: readonly SqlValue[] };
interface WireEnvelope {
  readonly id: number;
  readonly request: Wire;
}
/** Statement texts numbered per connection, at most this many (the rest cross as text). */
const MAX_NUMBERED = 1024;
/** What crosses to the worker: every statement the main thread issued in one turn, in order. */
type Batch = readonly WireEnvelope[];
type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: { name: string; message: string; code?: string } };

export interface ThreadOptions {
  readonly kind: "usage-credits-sqlite";
  readonly file: string;
  /** The writer: WAL, synchronous=FULL, foreign keys. A reader opens read-only. */
  readonly role: "writer" | "reader";
}

/** The main thread's handle on one connection in a worker. */
export class SqliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private next = 1;
  private dead: Error | undefined;
  /** The id the next statement will get (a COMMIT's `ifCleanSince`). */
  get nextId(): number {
    return this.next;
  }
  /** Messages sent and not yet answered (a reader pool picks the least busy thread). */
  get queued(): number {
    return this.pending.size;
  }

  private constructor(options: ThreadOptions) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: options });
    this.worker.unref(); // referenced only while a message is pending (see call): an idle store never holds the process open
    this.worker.on("message", (replies: readonly Reply[]) => {
      for (const reply of replies) {
        const p = this.pending.get(reply.id);
        if (!p) continue;
        this.pending.delete(reply.id);
        if (reply.ok) p.resolve(reply.value);
        else p.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, ...(reply.error.code !== undefined ? { code: reply.error.code } : {}) }));
      }
      if (this.pending.size === 0) this.worker.unref();
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(Object.assign(new Error(`the SQLite thread exited (code ${code})`), { code: "SQLITE_IOERR_THREAD_EXIT" })));
  }

  /** Starts the worker; `ready` rejects with SQLite's error if the connection cannot open. */
  static start(options: Omit<ThreadOptions, "kind">): SqliteThread {
    return new SqliteThread({ kind: "usage-credits-sqlite", ...options });
  }

  /** Resolves once the connection is open (the worker answers in order, so this is its first message). */
  ready(): Promise<unknown> {
    return this.call({ op: "exec", sql: "SELECT 1" });
  }

  /**
   * Sends one statement. Statements issued in the same turn of the event loop (independent
   * upserts, the parallel reads of a snapshot, or a COMMIT and the next BEGIN) cross in one
   * message: postMessage and its structured clone cost tens of microseconds of the main thread each.
   */
  call(request: Request): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, request });
      if (this.outbox.length === 1) queueMicrotask(this.flush);
    });
  }

  private outbox: Envelope[] = [];
  private readonly numbered = new Map<string, number>();
  private readonly flush = (): void => {
    const outbox = this.outbox;
    this.outbox = [];
    if (outbox.length === 0) return;
    if (this.dead) {
      for (const e of outbox) this.pending.get(e.id)?.reject(this.dead);
      return;
    }
    const batch: Batch = outbox.map((e) => {
      const r = e.request;
      if (r.op !== "all" && r.op !== "run") return e;
      const known = this.numbered.get(r.sql);
      if (known !== undefined) return { id: e.id, request: { op: r.op, sqlId: known, params: r.params } };
      if (this.numbered.size >= MAX_NUMBERED) return e;
      const sqlId = this.numbered.size + 1;
      this.numbered.set(r.sql, sqlId);
      return { id: e.id, request: { op: r.op, sql: r.sql, sqlId, params: r.params } };
    });
    this.worker.ref();
    this.worker.postMessage(batch);
  };

  async close(): Promise<void> {
    if (this.dead) return;
    await this.call({ op: "close" }).catch(() => undefined);
    await this.worker.terminate();
  }
}

// ------------------------------------------------------------------ the worker side

function serve(options: ThreadOptions): void {
  const port = parentPort;
  if (!port) return;
  let db: Database.Database | undefined;
  let openError: unknown;
  try {
    if (options.role === "writer") {
      db = new Database(options.file);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("busy_timeout = 10000");
      db.pragma("foreign_keys = ON");
    } else {
      db = new Database(options.file, { readonly: true });
      db.pragma("busy_timeout = 10000");
    }
  } catch (err) {
    openError = err;
  }
  const statements = new Map<string, Database.Statement>();
  const prepare = (conn: Database.Database, sql: string): Database.Statement => {
    let st = statements.get(sql);
    if (!st) {
      st = conn.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  // A BEGIN that failed poisons the statements behind it until the attempt's ROLLBACK; the id of the
  // last statement that failed lets a pipelined COMMIT refuse to commit a failed write.
  let beginFailed: unknown;
  let lastFailed = 0;
  const byNumber = new Map<number, string>();
  const handle = (conn: Database.Database, w: Wire): unknown => {
    let r: Request;
    if ((w.op === "all" || w.op === "run") && "sqlId" in w) {
      if (w.sql !== undefined) byNumber.set(w.sqlId, w.sql);
      r = { op: w.op, sql: byNumber.get(w.sqlId) ?? "", params: w.params };
    } else r = w as Request;
    if (beginFailed !== undefined && r.op !== "rollback" && r.op !== "close") throw beginFailed;
    switch (r.op) {
      case "begin":
        try {
          conn.exec("BEGIN IMMEDIATE");
        } catch (err) {
          beginFailed = err;
          throw err;
        }
        return null;
      case "all": {
        const st = prepare(conn, r.sql);
        if (st.reader) return st.all(...r.params) as Row[];
        st.run(...r.params);
        return [];
      }
      case "run":
        return prepare(conn, r.sql).run(...r.params).changes;
      case "exec":
        conn.exec(r.sql);
        return null;
      case "commit":
        if (r.ifCleanSince !== undefined && lastFailed >= r.ifCleanSince) {
          if (conn.inTransaction) conn.exec("ROLLBACK");
          throw Object.assign(new Error("rolled back: a write of the transaction failed"), { code: "SQLITE_ABORT_ROLLBACK" });
        }
        try {
          conn.exec("COMMIT");
        } catch (err) {
          // A COMMIT refused (disk full) leaves the transaction open: roll back before anything else runs.
          if (conn.inTransaction) {
            try {
              conn.exec("ROLLBACK");
            } catch {
              // already rolled back
            }
          }
          throw err;
        }
        return null;
      case "rollback":
        beginFailed = undefined;
        if (conn.inTransaction) {
          try {
            conn.exec("ROLLBACK");
          } catch {
            // the connection rolled back on its own
          }
        }
        return null;
      case "close":
        if (conn.open) conn.close();
        return null;
    }
  };
  const transfer: ArrayBuffer[] = [];
  port.on("message", (batch: Batch) => {
    const replies: Reply[] = [];
    for (const { id, request } of batch) {
      try {
        if (!db) throw openError;
        replies.push({ id, ok: true, value: moveLargeText(handle(db, request), transfer) });
      } catch (err) {
        const e = err as { name?: unknown; message?: unknown; code?: unknown };
        const error = { name: typeof e.name === "string" ? e.name : "Error", message: typeof e.message === "string" ? e.message : String(err), ...(typeof e.code === "string" ? { code: e.code } : {}) };
        replies.push({ id, ok: false, error });
        lastFailed = id;
      }
    }
    port.postMessage(replies, transfer.splice(0));
  });
}

/**
 * Text values of LARGE_TEXT bytes or more (a report built by the database as one JSON text) cross
 * as UTF-8 bytes whose buffer is transferred, not copied: the main thread neither deserializes nor
 * re-encodes megabytes. Such a column arrives as a Buffer (`largeText` in sql-values.ts).
 */
const LARGE_TEXT = 64 * 1024;
function moveLargeText(value: unknown, transfer: ArrayBuffer[]): unknown {
  if (!Array.isArray(value)) return value;
  for (const row of value as Row[]) {
    for (const [k, v] of Object.entries(row)) {
      if (typeof v === "string" && v.length >= LARGE_TEXT) {
        const bytes = new TextEncoder().encode(v);
        transfer.push(bytes.buffer as ArrayBuffer);
        row[k] = bytes;
      }
    }
  }
  return value;
}


if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === "usage-credits-sqlite") serve(workerData as ThreadOptions);
