// The SQLite writer thread's pipelined COMMIT (StoreCapabilities.pipelinedCommit): a transaction may
// return with its last writes unanswered, the COMMIT travels behind them in the same message, and it
// happens only if every one of them succeeded. A failed BEGIN fails every statement behind it (none
// runs in autocommit). These are the guarantees the group commit relies on to save a round trip.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import { SqliteThread } from "../src/adapters/store/sqlite-thread.js";
import { Worker } from "node:worker_threads";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { silentLogger } from "../src/ports/logger.js";
import { openTestStore } from "./support/backends.js";

describe("the SQLite writer thread's pipelined COMMIT", () => {
  let dir: string;
  let driver: SqlDriver;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "uc-pipeline-"));
    driver = openSqlite(join(dir, "p.db"));
    await driver.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  });
  after(async () => {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const rows = async () => (await driver.read((q) => q.all("SELECT id, v FROM t ORDER BY id"))).map((r) => `${String(r["id"])}:${String(r["v"])}`);

  test("the store says it commits behind unanswered writes", () => {
    assert.equal(driver.capabilities.pipelinedCommit, true);
  });

  test("writes left unanswered when the transaction returns are committed with it", async () => {
    await driver.transaction(async (q) => {
      void q.run("INSERT INTO t (id, v) VALUES (1, 'a')");
      void q.run("INSERT INTO t (id, v) VALUES (2, 'b')");
    });
    assert.deepEqual(await rows(), ["1:a", "2:b"]);
  });

  test("an unanswered write that fails rolls the whole transaction back, and the transaction fails with its error", async () => {
    const attempt = driver.transaction(async (q) => {
      q.run("INSERT INTO t (id, v) VALUES (3, 'c')").catch(() => undefined);
      q.run("INSERT INTO t (id, v) VALUES (1, 'duplicate')").catch(() => undefined); // primary key taken
      q.run("INSERT INTO t (id, v) VALUES (4, 'd')").catch(() => undefined);
    });
    await assert.rejects(attempt, (err: Error) => err.name === "UniqueViolation");
    assert.deepEqual(await rows(), ["1:a", "2:b"], "nothing of the failed transaction was committed");
    // The connection is usable again: the next transaction commits.
    await driver.transaction(async (q) => void (await q.run("INSERT INTO t (id, v) VALUES (5, 'e')")));
    assert.deepEqual(await rows(), ["1:a", "2:b", "5:e"]);
  });

  test("a write awaited and failed, then caught, does not stop the COMMIT (only unanswered writes guard it)", async () => {
    await driver.transaction(async (q) => {
      await assert.rejects(q.run("INSERT INTO t (id, v) VALUES (1, 'duplicate')"));
      await q.run("INSERT INTO t (id, v) VALUES (6, 'f')");
    });
    assert.deepEqual(await rows(), ["1:a", "2:b", "5:e", "6:f"]);
  });

  test("a statement sent after the transaction's COMMIT is refused, never run outside the transaction", async () => {
    let late: Promise<number> | undefined;
    await driver.transaction(async (q) => {
      await q.run("INSERT INTO t (id, v) VALUES (7, 'g')");
      // Issued only after the function returned (a bug): it must not run in autocommit.
      setImmediate(() => {
        late = q.run("INSERT INTO t (id, v) VALUES (8, 'late')");
        late.catch(() => undefined); // asserted below
      });
    });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.ok(late, "the late statement was sent");
    await assert.rejects(late, /after its transaction's COMMIT/);
    assert.deepEqual(await rows(), ["1:a", "2:b", "5:e", "6:f", "7:g"]);
  });

  test("on the thread: statements behind a failed BEGIN fail with its error until ROLLBACK, and nothing runs in autocommit", async () => {
    const thread = SqliteThread.start({ file: join(dir, "thread.db"), role: "writer" });
    try {
      await thread.call({ op: "exec", sql: "CREATE TABLE u (id INTEGER PRIMARY KEY)" });
      await thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      // A second BEGIN inside a transaction fails; what follows it in the same message must fail too.
      const begin = thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      const write = thread.call({ op: "run", sql: "INSERT INTO u (id) VALUES (1)", params: [] });
      const commit = thread.call({ op: "commit" });
      await assert.rejects(begin, /within a transaction/);
      await assert.rejects(write, /within a transaction/);
      await assert.rejects(commit, /within a transaction/);
      await thread.call({ op: "rollback" });
      assert.deepEqual(await thread.call({ op: "all", sql: "SELECT id FROM u", params: [] }), []);
      // After the ROLLBACK the connection works normally.
      await thread.call({ op: "exec", sql: "BEGIN IMMEDIATE" });
      const { id } = thread.send({ op: "run", sql: "INSERT INTO u (id) VALUES (2)", params: [] });
      await thread.call({ op: "commit", guard: [id] });
      assert.deepEqual(await thread.call({ op: "all", sql: "SELECT id FROM u", params: [] }), [{ id: 2 }]);
    } finally {
      await thread.close();
    }
  });

  test("a money operation crosses to the writer thread twice: BEGIN with the batch's reads, then the writes with the COMMIT", async () => {
    const db = `sqlite:${join(dir, "engine.db")}`;
    // The path every batch takes that is not decided on cached state (test/hot-orgs.test.ts: once).
    const app = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_ORG_CACHE: "0" }, { database: db }), { log: silentLogger, store: await openTestStore(db) });
    const post = Worker.prototype.postMessage;
    let messages = 0;
    try {
      const { admin, engine } = app.services;
      const out = await admin.createOrg({ name: "x", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: "x@x.test", name: "x" } });
      assert.ok(out.kind === "fresh" && out.result.ok);
      const { org, owner } = out.result.value;
      await engine.createGrant({ orgId: org.id, kind: "purchase", amount: 1_000_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
      Worker.prototype.postMessage = function (this: Worker, value: unknown, transfer?: readonly never[]) {
        messages++;
        return post.call(this, value, transfer);
      };
      const held = await engine.authorize({ orgId: org.id, memberId: owner.id, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: 1000 } });
      assert.ok(held.kind === "fresh" && held.result.ok);
      assert.equal(messages, 2, "authorize: two messages to the writer thread");
      messages = 0;
      const settled = await engine.settle(org.id, held.result.value.hold.id, { amount: 900 });
      assert.ok(settled.kind === "fresh" && settled.result.ok);
      assert.equal(messages, 2, "settle: two messages to the writer thread");
    } finally {
      Worker.prototype.postMessage = post;
      await app.close();
    }
  });
});
