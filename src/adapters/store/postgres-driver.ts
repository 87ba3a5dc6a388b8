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
    return {
      all: async (sql, params = []) => (await query(sql, params)).rows as Row[],
      run: async (sql, params = []) => (await query(sql, params)).rowCount ?? 0,
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
          const result = await fn(queryable(client));
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
