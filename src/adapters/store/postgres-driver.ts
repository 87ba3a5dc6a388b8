// PostgreSQL through `pg`: a pool, `?` placeholders rewritten to $n, BIGINT parsed to numbers
// (every amount is bounded far inside 2^53, see core/money.ts), and transactions retried on
// serialization failures and deadlocks. Connection failures become StoreUnavailable (HTTP 503).

import pg from "pg";
import type { Queryable, Row, SqlDriver, SqlValue } from "./driver.js";
import { StoreUnavailable, UniqueViolation } from "./driver.js";

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

/** The table a write names (INSERT INTO t, UPDATE t, DELETE FROM t); the statement's text otherwise. */
function targetOf(sql: string): string {
  return /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)/i.exec(sql)?.[1]?.toLowerCase() ?? sql;
}

/** Bound parameters per statement (PostgreSQL allows 65,535). */
const MAX_PARAMS = 60_000;

/**
 * A transaction's last writes in one round trip: the statements `lastly` issues are collected
 * (each answers at once: nothing may read their results) and sent as ONE statement of
 * data-modifying CTEs, `WITH w0 AS (INSERT …), w1 AS (UPDATE …) … SELECT 1`, before COMMIT. Every
 * sub-statement sees the same snapshot and foreign keys are checked at the statement's end, so a
 * ledger transaction and its entries may be written together; a batch touches each row once.
 */
function lastWrites(base: Queryable): { q: Queryable; flush: () => Promise<void> } {
  let collecting: Array<{ sql: string; params: readonly SqlValue[] }> | undefined;
  let issued: Promise<unknown> | undefined;
  const statements: Array<{ sql: string; params: readonly SqlValue[] }> = [];
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
    lastly: (issue) => {
      collecting = statements;
      issued = issue().finally(() => (collecting = undefined));
      issued.catch(() => undefined);
      return true;
    },
  };
  const flush = async () => {
    if (!issued) return;
    await issued;
    for (let i = 0; i < statements.length; ) {
      const part: Array<{ sql: string; params: readonly SqlValue[] }> = [];
      let params = 0;
      const tables = new Set<string>();
      while (i < statements.length) {
        const st = statements[i];
        if (!st) break;
        const table = targetOf(st.sql);
        // A part never writes one table twice: the sub-statements of one WITH run in no promised
        // order and see the same snapshot, so chunks of one table (operation_log's seq order, a row
        // updated by two chunks) go in separate statements, in the order they were issued.
        if (part.length > 0 && (params + st.params.length > MAX_PARAMS || tables.has(table))) break;
        part.push(st);
        tables.add(table);
        params += st.params.length;
        i++;
      }
      const sql = part.length === 1 ? (part[0]?.sql ?? "") : `WITH ${part.map((st, k) => `w${k} AS (${st.sql})`).join(", ")} SELECT 1`;
      await base.run(sql, part.flatMap((st) => [...st.params]));
    }
  };
  return { q, flush };
}

export function openPostgres(url: string, poolSize = 8): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 5000 });
  pool.on("error", () => undefined); // idle-client errors surface on the next query instead
  // A session that dies while checked out (the database crashed or shut down) emits "error" on its
  // client, which the pool only listens to while the client is idle: without this listener that
  // event would be an uncaught exception and take the whole server down. The failure reaches the
  // query in flight (→ StoreUnavailable → 503); release(broken) then discards the client.
  pool.on("connect", (client) => client.on("error", () => undefined));
  // Statements issued at once (a batch's parallel reads and writes) are queued here and sent one
  // after another on the connection, each as soon as the previous answer arrives: pg deprecates
  // overlapping client.query() calls.
  const queryable = (client: pg.PoolClient): Queryable => {
    let tail: Promise<unknown> = Promise.resolve();
    const query = (sql: string, params: readonly SqlValue[]) => {
      const next = tail.then(() => client.query(toDollar(sql), params as SqlValue[]));
      tail = next.catch(() => undefined);
      return next;
    };
    // Reads issued in the same turn (a snapshot's parallel reads, the idempotency lookups beside
    // them) cross as ONE statement: each read becomes a scalar subquery returning its rows as JSON
    // text, `SELECT (SELECT COALESCE(json_agg(x), '[]') FROM (<read>) x)::text AS r0, …` — one round
    // trip instead of one per read, and one snapshot for all of them. Locking reads go alone.
    let pending: Array<{ sql: string; params: readonly SqlValue[]; resolve: (rows: Row[]) => void; reject: (e: unknown) => void }> = [];
    const flush = () => {
      const reads = pending;
      pending = [];
      if (reads.length === 0) return;
      if (reads.length === 1) {
        const [r] = reads;
        if (r) query(r.sql, r.params).then((res) => r.resolve(res.rows as Row[]), r.reject);
        return;
      }
      const sql = `SELECT ${reads.map((r, i) => `(SELECT COALESCE(json_agg(x), '[]'::json) FROM (${r.sql}) x)::text AS r${i}`).join(", ")}`;
      query(sql, reads.flatMap((r) => [...r.params])).then(
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
          return query(sql, params).then((res) => res.rows as Row[]);
        }
        return new Promise<Row[]>((resolve, reject) => {
          pending.push({ sql, params, resolve, reject });
          if (pending.length === 1) queueMicrotask(flush);
        });
      },
      run: async (sql, params = []) => {
        flush(); // statements keep the order they were issued in
        return (await query(sql, params)).rowCount ?? 0;
      },
    };
  };
  return {
    capabilities: { name: "postgres", rowLocks: true, multiProcess: true, batchesInFlight: 4 },
    migrationLock: "SELECT pg_advisory_xact_lock(724231)",
    async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          throw translate(err);
        }
        let broken = false;
        try {
          await client.query("BEGIN");
          const base = queryable(client);
          const last = lastWrites(base);
          const result = await fn(last.q);
          await last.flush();
          await client.query("COMMIT");
          return result;
        } catch (err) {
          try {
            await client.query("ROLLBACK");
          } catch {
            broken = true;
          }
          const code = (err as { code?: string }).code;
          if (code && RETRYABLE.has(code) && attempt < 5) continue;
          throw translate(err);
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
        return await fn(queryable(client));
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
