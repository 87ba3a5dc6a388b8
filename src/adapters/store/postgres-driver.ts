// PostgreSQL through `pg`: a pool of pipelining clients, `?` placeholders rewritten to $n, BIGINT
// parsed to numbers (every amount is bounded far inside 2^53, see core/money.ts), set-based writes
// as prepared `unnest` statements, and transactions retried on serialization failures and
// deadlocks. Connection failures become StoreUnavailable (HTTP 503).

import pg from "pg";
import type { BulkWrite, DriverStats, Queryable, Row, SqlDriver, SqlValue } from "./driver.js";
import { StoreUnavailable, UniqueViolation } from "./driver.js";
import { bulkStatement, ColumnTypes, columnsOf, nameOf } from "./postgres-bulk.js";

const RETRYABLE = new Set(["40001", "40P01"]);
const UNAVAILABLE_CLASSES = ["08", "53", "57"]; // connection exception, insufficient resources, operator intervention

function toDollar(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (v: string) => Number.parseInt(v, 10); // int8
    return pg.types.getTypeParser(oid, format as "text");
  },
};

function translate(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === "23505") return new UniqueViolation((err as Error).message, err);
  if (code === "53100") return new StoreUnavailable(`PostgreSQL disk full: ${(err as Error).message}`, err, "full");
  if (code === "25006") return new StoreUnavailable(`PostgreSQL is read-only (a standby?): ${(err as Error).message}`, err, "read_only");
  if (typeof code === "string" && UNAVAILABLE_CLASSES.some((c) => code.startsWith(c))) {
    return new StoreUnavailable(`PostgreSQL unavailable: ${(err as Error).message}`, err);
  }
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT" || code === "EPIPE") {
    return new StoreUnavailable(`PostgreSQL unreachable: ${(err as Error).message}`, err);
  }
  // pg's own messages for a session that is gone: cut mid-query, or already broken when the next
  // statement of the transaction is sent ("Client has encountered a connection error and is not queryable").
  if (err instanceof Error && /Connection terminated|is not queryable|timeout exceeded when trying to connect/i.test(err.message)) {
    return new StoreUnavailable(`PostgreSQL unreachable: ${err.message}`, err);
  }
  return err;
}

const COMBINABLE = /^\s*SELECT\b/i;
/** Reads that lock (rows or an advisory lock) go alone, in order. */
const LOCKING = /\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|\bpg_advisory/i;

/** One statement to send: SQL text with `?` marks, or a set-based write (sql-bulk.ts). */
type Statement = { readonly sql: string; readonly params: readonly SqlValue[] } | { readonly bulk: BulkWrite };

/** The table a statement writes (INSERT INTO t, UPDATE t, DELETE FROM t); its text otherwise. */
function targetOf(st: Statement): string {
  if ("bulk" in st) return st.bulk.table;
  return /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)/i.exec(st.sql)?.[1]?.toLowerCase() ?? st.sql;
}

/** Bound parameters per statement (PostgreSQL allows 65,535). */
const MAX_PARAMS = 60_000;
const paramsOf = (st: Statement): number => ("bulk" in st ? columnsOf(st.bulk).length : st.params.length);

type Session = ReturnType<typeof session>;

/**
 * One checked-out connection. The pool's clients run in pipeline mode: a statement is written as
 * soon as it is issued, without waiting for the answers to those before it (they are answered in
 * order, each with its own Sync, so an error fails its own statement and the transaction, and every
 * later statement of the transaction fails with "current transaction is aborted"). So BEGIN travels
 * with the transaction's first statement and COMMIT with its last writes.
 */
function session(client: pg.PoolClient, types: ColumnTypes, stats?: DriverStats) {
  let outstanding = 0;
  /** Set while a catalog lookup runs: statements issued meanwhile queue behind it, in order. */
  let gate: Promise<unknown> | undefined;
  /**
   * The first statement to fail, in wire order: every statement behind it in the transaction fails
   * too ("current transaction is aborted"), and their rejections may reach a caller's Promise.all
   * first. The transaction reports this one (a UniqueViolation stays one, for the batcher's retry).
   */
  let firstError: unknown;
  const noteError = (err: unknown) => {
    firstError ??= err;
  };
  const sendNow = (text: string, values: unknown[], name?: string): Promise<pg.QueryResult> => {
    if (stats) {
      stats.statements++;
      if (outstanding === 0) stats.roundTrips++;
    }
    outstanding++;
    const done = client.query(name === undefined ? { text, values } : { name, text, values });
    done.catch(noteError); // registered first: runs in the order the answers arrive
    return done.finally(() => outstanding--);
  };
  /** Runs `go` now, or behind a catalog lookup still on its way (statements keep their order). */
  const enqueue = (go: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
    if (!gate) return go();
    const next = gate.then(go);
    const g = next.then(
      () => undefined,
      () => undefined,
    );
    gate = g;
    void g.then(() => {
      if (gate === g) gate = undefined;
    });
    return next;
  };
  const send = (text: string, values: unknown[], name?: string) => enqueue(() => sendNow(text, values, name));
  const sql = (text: string, params: readonly SqlValue[]) => send(toDollar(text), params as SqlValue[]);
  /**
   * Statements sent as ONE: alone, or as data-modifying CTEs `WITH w0 AS (…), w1 AS (…) SELECT 1`
   * (the caller never puts one table twice in it: the sub-statements run in no promised order and
   * see one snapshot; foreign keys are checked at its end). Set-based parts only: a named prepared
   * statement (its text depends on the tables and columns, not on the rows).
   */
  const write = (parts: readonly Statement[]): Promise<pg.QueryResult> => {
    const compose = () => {
      const texts: string[] = [];
      const values: unknown[] = [];
      for (const st of parts) {
        if ("bulk" in st) {
          const b = bulkStatement(st.bulk, types.known(st.bulk.table, columnsOf(st.bulk)) ?? new Map<string, string>(), values.length);
          texts.push(b.text);
          values.push(...b.values);
        } else {
          let n = values.length;
          texts.push(st.sql.replace(/\?/g, () => `$${++n}`));
          values.push(...st.params);
        }
      }
      const text = texts.length === 1 ? (texts[0] ?? "") : `WITH ${texts.map((t, k) => `w${k} AS (${t})`).join(", ")} SELECT 1`;
      return sendNow(text, values, parts.every((st) => "bulk" in st) ? nameOf(text) : undefined);
    };
    const missing = [...new Set(parts.flatMap((st) => ("bulk" in st && !types.known(st.bulk.table, columnsOf(st.bulk)) ? [st.bulk.table] : [])))];
    if (missing.length === 0) return enqueue(compose);
    // The lookups go on the wire now (ahead of anything issued later); the write is sent when their
    // answers arrive, and statements issued meanwhile wait behind it (the gate).
    let sent: Promise<pg.QueryResult> | undefined;
    const ready = (gate ?? Promise.resolve())
      .then(() => Promise.all(missing.map((t) => types.load(sendNow, t))))
      .then(() => {
        sent = compose();
      });
    const g = ready.catch(() => undefined);
    gate = g;
    void g.then(() => {
      if (gate === g) gate = undefined;
    });
    return ready.then(async () => {
      if (!sent) throw new Error("unreachable: the write was composed");
      return sent;
    });
  };
  const bulk = (w: BulkWrite): Promise<number> => write([{ bulk: w }]).then((r) => r.rowCount ?? 0);
  return { send, sql, write, bulk, firstError: () => firstError };
}

/**
 * The Queryable over a session. Reads issued in the same turn (a snapshot's parallel reads, the
 * idempotency lookups beside them) cross as ONE statement: each read becomes a scalar subquery
 * returning its rows as JSON text, `SELECT (SELECT COALESCE(json_agg(x), '[]') FROM (<read>) x)::text
 * AS r0, …` — one statement instead of one per read, and one snapshot for all of them. Locking reads
 * go alone, so a read issued after a lock sees what the lock's holder committed.
 */
function queryable(s: Session): Queryable & { flushReads(): void } {
  let pending: Array<{ sql: string; params: readonly SqlValue[]; resolve: (rows: Row[]) => void; reject: (e: unknown) => void }> = [];
  const flush = () => {
    const reads = pending;
    pending = [];
    if (reads.length === 0) return;
    if (reads.length === 1) {
      const [r] = reads;
      if (r) s.sql(r.sql, r.params).then((res) => r.resolve(res.rows as Row[]), r.reject);
      return;
    }
    const sql = `SELECT ${reads.map((r, i) => `(SELECT COALESCE(json_agg(x), '[]'::json) FROM (${r.sql}) x)::text AS r${i}`).join(", ")}`;
    s.sql(sql, reads.flatMap((r) => [...r.params])).then(
      (res) => {
        const row = (res.rows as Row[])[0] ?? {};
        reads.forEach((r, i) => r.resolve(JSON.parse(String(row[`r${i}`] ?? "[]")) as Row[]));
      },
      (err: unknown) => {
        for (const r of reads) r.reject(err);
      },
    );
  };
  return {
    all: (sql, params = []) => {
      if (!COMBINABLE.test(sql) || LOCKING.test(sql)) {
        flush(); // statements keep the order they were issued in
        return s.sql(sql, params).then((res) => res.rows as Row[]);
      }
      return new Promise<Row[]>((resolve, reject) => {
        pending.push({ sql, params, resolve, reject });
        if (pending.length === 1) queueMicrotask(flush);
      });
    },
    run: async (sql, params = []) => {
      flush(); // statements keep the order they were issued in
      return (await s.sql(sql, params)).rowCount ?? 0;
    },
    bulk: (w) => {
      flush();
      return s.bulk(w);
    },
    flushReads: flush,
  };
}

/**
 * A transaction's last writes travel with its COMMIT: the statements `lastly` issues are collected
 * (each answers at once: nothing may read their results), then sent as few statements as can be,
 * COMMIT right behind them, without waiting in between: one round trip. Consecutive statements go
 * as ONE statement of data-modifying CTEs (Session.write) until a table would be written twice in it
 * (its sub-statements run in no promised order and see one snapshot: chunks of one table, an
 * operation_log written twice, go in separate statements, in the order issued) or the bound
 * parameters would pass 60,000. A batch's writes are set-based, so that statement is prepared once
 * per connection for each combination of tables written (a handful).
 */
function lastWrites(base: Queryable & { flushReads(): void }, s: Session): { q: Queryable; send: () => Promise<Array<Promise<unknown>>> } {
  let collecting: Statement[] | undefined;
  let issued: Promise<unknown> | undefined;
  const statements: Statement[] = [];
  const q: Queryable = {
    all: (sql, params = []) => {
      if (!collecting) return base.all(sql, params);
      collecting.push({ sql, params });
      return Promise.resolve([]);
    },
    run: (sql, params = []) => {
      if (!collecting) return base.run(sql, params);
      collecting.push({ sql, params });
      return Promise.resolve(0);
    },
    bulk: (w) => {
      if (!collecting) return s.bulk(w);
      collecting.push({ bulk: w });
      return Promise.resolve(0);
    },
    lastly: (issue) => {
      collecting = statements;
      issued = issue().finally(() => (collecting = undefined));
      issued.catch(() => undefined);
      return true;
    },
  };
  const send = async () => {
    if (!issued) return [];
    await issued;
    base.flushReads();
    const sent: Array<Promise<unknown>> = [];
    for (let i = 0; i < statements.length; ) {
      const part: Statement[] = [];
      let params = 0;
      const tables = new Set<string>();
      while (i < statements.length) {
        const st = statements[i];
        if (!st) break;
        const table = targetOf(st);
        if (part.length > 0 && (params + paramsOf(st) > MAX_PARAMS || tables.has(table))) break;
        part.push(st);
        tables.add(table);
        params += paramsOf(st);
        i++;
      }
      sent.push(s.write(part));
    }
    return sent;
  };
  return { q, send };
}

export function openPostgres(url: string, poolSize = 8): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 5000, pipeline: true } as pg.PoolConfig);
  pool.on("error", () => undefined); // idle-client errors surface on the next query instead
  // A session that dies while checked out (the database crashed or shut down) emits "error" on its
  // client, which the pool only listens to while the client is idle: without this listener that
  // event would be an uncaught exception and take the whole server down. The failure reaches the
  // query in flight (→ StoreUnavailable → 503); release(broken) then discards the client.
  pool.on("connect", (client) => client.on("error", () => undefined));
  const columnTypes = new ColumnTypes();
  const stats: DriverStats = { transactions: 0, statements: 0, roundTrips: 0 };
  return {
    capabilities: { name: "postgres", rowLocks: true, multiProcess: true, batchesInFlight: 4 },
    migrationLock: "SELECT pg_advisory_xact_lock(724231)",
    stats,
    async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          throw translate(err);
        }
        stats.transactions++;
        let broken = false;
        const s = session(client, columnTypes, stats);
        // Not awaited: BEGIN is written now and the transaction's first statement right behind it.
        const begin = s.send("BEGIN", []);
        begin.catch(() => undefined);
        try {
          const last = lastWrites(queryable(s), s);
          const result = await fn(last.q);
          // Anything written before BEGIN's answer ran inside it only if BEGIN succeeded: check
          // before committing (its answer arrived long ago, with the first statement's).
          await begin;
          const writes = await last.send();
          const commit = s.send("COMMIT", []);
          // The first failure in wire order wins (a write's error before the aborted COMMIT's).
          await Promise.all([...writes, commit]);
          // COMMIT of a transaction that failed answers ROLLBACK without an error: never report it as committed.
          if ((await commit).command !== "COMMIT") throw new Error("PostgreSQL rolled the transaction back at COMMIT");
          return result;
        } catch (err) {
          try {
            await s.send("ROLLBACK", []);
          } catch {
            broken = true;
          }
          const cause = s.firstError() ?? err;
          const code = (cause as { code?: string }).code;
          if (code && RETRYABLE.has(code) && attempt < 5) continue;
          throw translate(cause);
        } finally {
          client.release(broken);
        }
      }
    },
    async read<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translate(err);
      }
      try {
        return await fn(queryable(session(client, columnTypes)));
      } catch (err) {
        throw translate(err);
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      try {
        await pool.query(sql);
      } catch (err) {
        throw translate(err);
      }
    },
    async close() {
      if (!pool.ended) await pool.end(); // idempotent
    },
  };
}
