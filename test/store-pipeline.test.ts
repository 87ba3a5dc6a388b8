// The SQLite writer thread's pipelining (issue 16): a transaction's BEGIN crosses with its first
// statements, and its COMMIT right behind its last writes, without waiting for their answers in
// between. Neither may ever let a statement run outside its transaction or commit a failed write:
// a write that fails among the last ones rolls the whole transaction back, and a BEGIN that fails
// makes every statement behind it fail until the attempt's ROLLBACK. On PostgreSQL, reads issued
// together cross as one statement (JSON subqueries) and the last writes are pipelined with the
// COMMIT behind them: the rows and their order are the same as read one by one, and a failed last
// write still rolls everything back (test/postgres-round-trips.test.ts holds the rest).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import { SqliteThread } from "../src/adapters/store/sqlite-thread.js";
import { pgSkipped, postgresBackend } from "./support/backends.js";

describe("SQLite writer pipelining", () => {
  const dir = mkdtempSync(join(tmpdir(), "uc-pipeline-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a write that fails among the last writes (sent with the COMMIT behind them) rolls back the whole transaction", async () => {
    const d = openSqlite(join(dir, "a.db"));
    try {
      await d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
      await d.transaction(async (q) => {
        await q.run("INSERT INTO t (id, v) VALUES (1, 'kept')");
      });
      const took: boolean[] = [];
      await assert.rejects(
        d.transaction(async (q) => {
          await q.run("INSERT INTO t (id, v) VALUES (2, 'early')");
          took.push(
            q.lastly?.(() => Promise.all([q.run("INSERT INTO t (id, v) VALUES (3, 'fine')"), q.run("INSERT INTO t (id, v) VALUES (1, 'duplicate')"), q.run("INSERT INTO t (id, v) VALUES (4, 'after')")])) ?? false,
          );
        }),
        (err: Error) => err.name === "UniqueViolation",
      );
      assert.deepEqual(took, [true], "the driver took the last writes");
      const rows = await d.read((q) => q.all("SELECT id, v FROM t ORDER BY id"));
      assert.deepEqual(rows, [{ id: 1, v: "kept" }], "nothing of the failed transaction was committed");
      // The writer goes on: the next transaction commits normally, its last writes too.
      await d.transaction(async (q) => {
        q.lastly?.(() => q.run("INSERT INTO t (id, v) VALUES (5, 'next')"));
      });
      assert.deepEqual((await d.read((q) => q.all("SELECT id FROM t ORDER BY id"))).map((r) => r["id"]), [1, 5]);
    } finally {
      await d.close();
    }
  });

  test("after a failed BEGIN, every statement behind it fails until the ROLLBACK: nothing runs outside a transaction", async () => {
    const file = join(dir, "b.db");
    const d = openSqlite(file);
    await d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    await d.close();
    const thread = SqliteThread.start({ file, role: "writer" });
    try {
      await thread.ready();
      await thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      // A second BEGIN inside the open transaction fails at once; what was sent behind it fails too.
      const begin = thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      const write = thread.call({ op: "run", sql: "INSERT INTO t (id) VALUES (1)", params: [] });
      const commit = thread.call({ op: "commit" });
      await assert.rejects(begin, /within a transaction/);
      await assert.rejects(write, /within a transaction/);
      await assert.rejects(commit, /within a transaction/);
      await thread.call({ op: "rollback" });
      assert.deepEqual(await thread.call({ op: "all", sql: "SELECT COUNT(*) AS n FROM t", params: [] }), [{ n: 0 }], "the write never ran");
      // After the ROLLBACK the connection works again.
      await thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      await thread.call({ op: "run", sql: "INSERT INTO t (id) VALUES (2)", params: [] });
      await thread.call({ op: "commit" });
      assert.deepEqual(await thread.call({ op: "all", sql: "SELECT id FROM t", params: [] }), [{ id: 2 }]);
    } finally {
      await thread.close();
    }
  });
});

if (!pgSkipped()) {
  describe("PostgreSQL: reads together in one statement, last writes with the COMMIT", () => {
    const backend = postgresBackend();
    after(() => backend.cleanup());

    test("combined reads return what separate reads return (types, NULLs, order, LIMIT); a failed last write rolls back the transaction", async () => {
      const d = openPostgres(await backend.createDatabase(), 2);
      try {
        await d.exec("CREATE TABLE p (id TEXT PRIMARY KEY, big BIGINT NOT NULL, small INTEGER, note TEXT)");
        await d.exec("CREATE TABLE c (id TEXT PRIMARY KEY, p_id TEXT NOT NULL REFERENCES p(id), v BIGINT NOT NULL)");
        // Parent and child written as the last writes of one transaction, in order: the foreign key holds.
        await d.transaction(async (q) => {
          q.lastly?.(() =>
            Promise.all([
              q.run("INSERT INTO p (id, big, small, note) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)", ["a", 9_007_199_254_740_991, 1, "it's", "b", 2, null, null, "c", -5, 0, "{\"j\":1}"]),
              q.run("INSERT INTO c (id, p_id, v) VALUES (?, ?, ?), (?, ?, ?)", ["c1", "a", 10, "c2", "b", 20]),
            ]),
          );
        });
        const one = async (sql: string, params: Array<string | number | null>) => d.read((q) => q.all(sql, params));
        const queries: Array<[string, Array<string | number | null>]> = [
          ["SELECT * FROM p ORDER BY big DESC", []],
          ["SELECT id, small FROM p WHERE id IN (?, ?) ORDER BY id", ["b", "c"]],
          ["SELECT * FROM p WHERE id = ?", ["none"]],
          ["SELECT p_id, SUM(v) AS total, COUNT(*) AS n FROM c GROUP BY p_id ORDER BY p_id LIMIT ?", [1]],
        ];
        const separate = [];
        for (const [sql, params] of queries) separate.push(await one(sql, params));
        const together = await d.read((q) => Promise.all(queries.map(([sql, params]) => q.all(sql, params))));
        assert.deepEqual(together.map((rows) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])))), separate.map((rows) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])))));
        assert.equal(Number(together[0]?.[0]?.["big"]), 9_007_199_254_740_991);
        assert.equal(together[0]?.[1]?.["note"], null);

        await assert.rejects(
          d.transaction(async (q) => {
            await q.run("INSERT INTO p (id, big) VALUES ('d', 1)");
            q.lastly?.(() => Promise.all([q.run("INSERT INTO c (id, p_id, v) VALUES ('c3', 'a', 1)"), q.run("INSERT INTO p (id, big) VALUES ('a', 2)")]));
          }),
          (err: Error) => err.name === "UniqueViolation",
        );
        assert.deepEqual((await one("SELECT id FROM p ORDER BY id", [])).map((r) => r["id"]), ["a", "b", "c"], "nothing of the failed transaction was committed");
        assert.deepEqual((await one("SELECT id FROM c ORDER BY id", [])).map((r) => r["id"]), ["c1", "c2"]);
      } finally {
        await d.close();
      }
    });
  });
}
