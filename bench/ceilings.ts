// The machine's own ceilings, measured in the same run as our figures:
// raw better-sqlite3 (conditional UPDATE + INSERT, synchronous=FULL) at 1, 100 and 1000 per
// transaction; PostgreSQL one op per transaction with a pool of 8, and set-based batches on one
// connection; Redis EVAL check-and-decrement without pipelining (redis-benchmark); bare node:http.

import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export function timeFor(seconds: number, step: () => number): number {
  // Runs step() (returns ops done) until `seconds` pass; returns ops/s.
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let ops = 0;
  while (performance.now() < end) ops += step();
  return ops / ((performance.now() - t0) / 1000);
}

export function sqliteCeiling(perTx: number, seconds: number): number {
  const dir = mkdtempSync(join(tmpdir(), "uc-bench-raw-"));
  const db = new Database(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE balances (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL); CREATE TABLE log (id INTEGER PRIMARY KEY, account INTEGER, amount INTEGER, at INTEGER)");
  const ins = db.prepare("INSERT INTO balances (id, balance) VALUES (?, ?)");
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) ins.run(i, 1e15);
  })();
  const upd = db.prepare("UPDATE balances SET balance = balance - ? WHERE id = ? AND balance >= ?");
  const log = db.prepare("INSERT INTO log (account, amount, at) VALUES (?, ?, ?)");
  let n = 0;
  const batch = db.transaction((count: number) => {
    for (let i = 0; i < count; i++) {
      const id = n++ % 1000;
      if (upd.run(7, id, 7).changes === 1) log.run(id, 7, n);
    }
  });
  const rate = timeFor(seconds, () => {
    batch(perTx);
    return perTx;
  });
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function pgSetup(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  await pool.query("DROP TABLE IF EXISTS bench_balances; DROP TABLE IF EXISTS bench_log");
  await pool.query("CREATE TABLE bench_balances (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL); CREATE TABLE bench_log (id BIGSERIAL PRIMARY KEY, account INTEGER, amount BIGINT)");
  await pool.query("INSERT INTO bench_balances SELECT g, 1000000000000000 FROM generate_series(0, 9999) g");
  return pool;
}

/** One op (conditional UPDATE + INSERT) per transaction, 8 connections in parallel. */
export async function pgNaiveCeiling(url: string, seconds: number): Promise<number> {
  const pool = await pgSetup(url);
  let ops = 0;
  let stop = false;
  const t0 = performance.now();
  const workers = Array.from({ length: 8 }, async (_, w) => {
    const c = await pool.connect();
    let i = w;
    while (!stop) {
      const id = (i += 8) % 10000;
      await c.query("BEGIN");
      const r = await c.query("UPDATE bench_balances SET balance = balance - 7 WHERE id = $1 AND balance >= 7", [id]);
      if (r.rowCount === 1) await c.query("INSERT INTO bench_log (account, amount) VALUES ($1, 7)", [id]);
      await c.query("COMMIT");
      ops++;
    }
    c.release();
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  await Promise.all(workers);
  const rate = ops / ((performance.now() - t0) / 1000);
  await pool.end();
  return rate;
}

/** The same work as one set-based statement per batch of 1000 on one connection. */
export async function pgBatchCeiling(url: string, seconds: number): Promise<number> {
  const pool = await pgSetup(url);
  const c = await pool.connect();
  let ops = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    const ids = Array.from({ length: 1000 }, () => n++ % 10000);
    await c.query("BEGIN");
    await c.query(
      `WITH v AS (SELECT unnest($1::int[]) AS id), u AS (
         UPDATE bench_balances b SET balance = b.balance - 7 FROM v WHERE b.id = v.id AND b.balance >= 7 RETURNING b.id)
       INSERT INTO bench_log (account, amount) SELECT id, 7 FROM u`,
      [ids],
    );
    await c.query("COMMIT");
    ops += 1000;
  }
  const rate = ops / ((performance.now() - t0) / 1000);
  c.release();
  await pool.query("DROP TABLE IF EXISTS bench_balances; DROP TABLE IF EXISTS bench_log");
  await pool.end();
  return rate;
}

/** Redis EVAL check-and-decrement, 50 clients, no pipelining; null when no Redis server answers. */
export function redisEvalCeiling(requests: number): number | null {
  try {
    execFileSync("redis-cli", ["-h", "127.0.0.1", "SET", "uc:bench:balance", "1000000000000000"], { stdio: "pipe", timeout: 5000 });
    const script = "local b = tonumber(redis.call('GET', KEYS[1])); if b >= tonumber(ARGV[1]) then return redis.call('DECRBY', KEYS[1], ARGV[1]) end return -1";
    const out = execFileSync("redis-benchmark", ["-h", "127.0.0.1", "-n", String(requests), "-c", "50", "-P", "1", "--csv", "EVAL", script, "1", "uc:bench:balance", "7"], {
      stdio: "pipe",
      timeout: 120_000,
    }).toString();
    execFileSync("redis-cli", ["-h", "127.0.0.1", "DEL", "uc:bench:balance"], { stdio: "pipe", timeout: 5000 });
    const line = out.trim().split("\n").pop() ?? "";
    // The test name (the script) contains commas: rps is the 7th field from the end.
    const fields = line.split('","');
    const rps = Number(fields[fields.length - 7]?.replace(/"/g, ""));
    return Number.isFinite(rps) ? rps : null;
  } catch {
    return null;
  }
}
