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
import type { FreshnessCheck } from "../../ports/store.js";
import { StaleSnapshot } from "../../ports/store-errors.js";
import type { Queryable, ReadForBatchArgs, Row, SqlValue } from "./driver.js";

export type Request =
  | { readonly op: "all"; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly op: "run"; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly op: "exec"; readonly sql: string }
  /**
   * COMMIT; if it fails (disk full) the transaction is rolled back here, before any next message runs.
   * `guard`: statements of this transaction sent without waiting for their answers (they travel in
   * the same message): if any of them failed, the transaction is rolled back instead and the COMMIT
   * fails with that statement's error. So a caller may send its last writes and the COMMIT together.
   */
  | { readonly op: "commit"; readonly guard?: readonly number[] }
  /** ROLLBACK if a transaction is open (SQLite may already have rolled back on its own). */
  | { readonly op: "rollback" }
  /** A group-commit batch's reads, run here on this connection in one message (sql-store.ts readForBatchOn). */
  | { readonly op: "readForBatch"; readonly args: ReadForBatchArgs }
  /**
   * A batch decided on the main thread's cached state: are its organizations' versions still the
   * cached ones, and its idempotency keys unstored (sql-store.ts staleReasonOn)? If not, every later
   * statement of the transaction is refused unrun, and its COMMIT rolls back and fails with StaleSnapshot's code.
   */
  | { readonly op: "checkFresh"; readonly check: FreshnessCheck }
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
    return this.send(request).answer;
  }

  /**
   * `call`, with the statement's id (for a COMMIT's guard). The outbox is flushed on the next tick,
   * after the whole cascade of promise reactions of this turn: a transaction that sends its writes
   * and then, a few awaits later, its COMMIT, sends them in one message.
   */
  send(request: Request): { readonly id: number; readonly answer: Promise<unknown> } {
    const id = this.next++;
    if (this.dead) return { id, answer: Promise.reject(this.dead) };
    const answer = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.outbox.push({ id, request });
      if (this.outbox.length === 1) process.nextTick(this.flush);
    });
    return { id, answer };
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
  type ErrorShape = { name: string; message: string; code?: string };
  // Statements that failed in the open transaction (a COMMIT's guard refers to them), and a failed
  // BEGIN: until the ROLLBACK that follows it, every statement fails with BEGIN's error, so nothing
  // sent behind a BEGIN that did not happen runs outside a transaction (autocommit).
  const failed = new Map<number, ErrorShape>();
  let beginFailed: ErrorShape | undefined;
  // A failed checkFresh: the transaction is open, and nothing more of it may run.
  let refused: ErrorShape | undefined;
  const shape = (err: unknown): ErrorShape => {
    const e = err as { name?: unknown; message?: unknown; code?: unknown };
    return { name: typeof e.name === "string" ? e.name : "Error", message: typeof e.message === "string" ? e.message : String(err), ...(typeof e.code === "string" ? { code: e.code } : {}) };
  };
  const rethrow = (e: ErrorShape): never => {
    throw Object.assign(new Error(e.message), e);
  };
  const rollback = (conn: Database.Database): void => {
    if (conn.inTransaction) {
      try {
        conn.exec("ROLLBACK");
      } catch {
        // the connection rolled back on its own
      }
    }
  };
  const handle = (conn: Database.Database, r: Request): unknown => {
    if (beginFailed && r.op !== "rollback" && r.op !== "close") {
      const e = beginFailed;
      if (r.op === "commit") beginFailed = undefined;
      return rethrow(e);
    }
    if (refused && r.op !== "rollback" && r.op !== "close") {
      const e = refused;
      if (r.op === "commit") {
        refused = undefined;
        failed.clear();
        rollback(conn);
      }
      return rethrow(e);
    }
    switch (r.op) {
      case "all": {
        const st = prepare(conn, r.sql);
        if (st.reader) return st.all(...r.params) as Row[];
        st.run(...r.params);
        return [];
      }
      case "run":
        return prepare(conn, r.sql).run(...r.params).changes;
      case "exec":
        if (r.sql.startsWith("BEGIN")) {
          failed.clear();
          refused = undefined;
          try {
            conn.exec(r.sql);
          } catch (err) {
            beginFailed = shape(err);
            throw err;
          }
          return null;
        }
        conn.exec(r.sql);
        return null;
      case "commit": {
        const broken = r.guard?.map((id) => failed.get(id)).find((e) => e !== undefined);
        failed.clear();
        if (broken) {
          rollback(conn);
          return rethrow(broken);
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
      }
      case "rollback":
        failed.clear();
        beginFailed = undefined;
        refused = undefined;
        rollback(conn);
        return null;
      case "readForBatch":
        return readForBatch(conn, r.args);
      case "checkFresh":
        return checkFresh(conn, r.check);
      case "close":
        if (conn.open) conn.close();
        return null;
    }
  };
  // The store's own read code, on a Queryable answered synchronously by this connection: loaded on
  // first use (only the writer thread ever runs it), and every await in it resolves within the
  // same turn, so nothing else runs on this connection in between.
  let store: Promise<typeof import("./sql-store.js")> | undefined;
  const readForBatch = async (conn: Database.Database, args: ReadForBatchArgs): Promise<unknown> => {
    store ??= import("./sql-store.js");
    const q: Queryable = {
      all: async (sql, params = []) => handle(conn, { op: "all", sql, params: params as SqlValue[] }) as Row[],
      run: async (sql, params = []) => handle(conn, { op: "run", sql, params: params as SqlValue[] }) as number,
    };
    return (await store).readForBatchOn(q, args);
  };
  const checkFresh = async (conn: Database.Database, check: FreshnessCheck): Promise<null> => {
    store ??= import("./sql-store.js");
    const q: Queryable = { all: async (sql, params = []) => handle(conn, { op: "all", sql, params: params as SqlValue[] }) as Row[], run: async () => 0 };
    const reason = await (await store).staleReasonOn(q, check);
    if (reason === null) return null;
    refused = { name: "StaleSnapshot", message: reason, code: StaleSnapshot.code };
    return rethrow(refused);
  };
  // Statement texts by the number the main thread gave them (the Wire type).
  const byNumber = new Map<number, string>();
  const decode = (w: Wire): Request => {
    if ((w.op === "all" || w.op === "run") && "sqlId" in w) {
      if (w.sql !== undefined) byNumber.set(w.sqlId, w.sql);
      return { op: w.op, sql: byNumber.get(w.sqlId) ?? "", params: w.params };
    }
    return w as Request;
  };
  const transfer: ArrayBuffer[] = [];
  // Messages are handled strictly one after another (a batch's reads are async in form only).
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (batch: Batch) => {
    chain = chain.then(async () => {
      const replies: Reply[] = [];
      for (const { id, request } of batch) {
        try {
          if (!db) throw openError;
          const value = handle(db, decode(request));
          replies.push({ id, ok: true, value: moveLargeText(value instanceof Promise ? await value : value, transfer) });
        } catch (err) {
          const error = shape(err);
          failed.set(id, error);
          replies.push({ id, ok: false, error });
        }
      }
      port.postMessage(replies, transfer.splice(0));
    });
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
