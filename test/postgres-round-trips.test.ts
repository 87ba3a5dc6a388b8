// PostgreSQL in few round trips (issue 16): the pool's clients pipeline, so BEGIN travels with a
// transaction's first statement and COMMIT with its last writes; set-based writes are `unnest`
// statements whose text does not depend on the row count, prepared once per connection. These
// tests hold the driver to that: round trips per batch, statements reused across batch sizes, rows
// through unnest equal to rows through multi-row VALUES, a write far past any chunk limit, and a
// failed write among the last ones rolling everything back.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { newId } from "../src/core/ids.js";
import type { Member, Organization } from "../src/core/model.js";
import type { Queryable, SqlDriver, SqlValue } from "../src/adapters/store/driver.js";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { BULK_CHUNK, updateIn, upsert } from "../src/adapters/store/sql-bulk.js";
import { SqlStore } from "../src/adapters/store/sql-store.js";
import { silentLogger } from "../src/ports/logger.js";
import { pgSkipped, postgresBackend } from "./support/backends.js";

/** The same Queryable without set-based writes: sql-bulk.ts falls back to multi-row VALUES. */
const valuesOnly = (q: Queryable): Queryable => ({ all: (s, p) => q.all(s, p), run: (s, p) => q.run(s, p) });

describe("PostgreSQL round trips", { skip: pgSkipped() }, () => {
  const backend = postgresBackend();
  let url = "";
  after(() => backend.cleanup());
  before(async () => {
    url = await backend.createDatabase();
  });

  describe("a batch of the engine", () => {
    let driver: SqlDriver;
    let app: App;
    const tenants: Array<{ orgId: string; memberId: string }> = [];
    before(async () => {
      // One connection, so the prepared statements below are all on the session we look at.
      driver = openPostgres(url, 1);
      const store = await SqlStore.open(driver);
      const config = loadConfig({ USAGE_CREDITS_MAX_BATCH: "256", USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_PORT: "0" }, { database: url });
      app = await createApp(config, { log: silentLogger, store });
      const now = Date.now();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 80; i++) {
          const org: Organization = { id: newId("organization"), name: `rt ${i}`, planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, weeklyAnchor: now, debt: 0, createdAt: now };
          const member: Member = { id: newId("member"), orgId: org.id, email: `o${i}@rt.test`, name: "o", role: "owner", seatTier: "standard", workspaceId: null, usageCreditsEnabled: true, fastModeEnabled: true, createdAt: now };
          await tx.insertOrg(org);
          await tx.insertMember(member);
          tenants.push({ orgId: org.id, memberId: member.id });
        }
      });
      for (const t of tenants) {
        await app.services.engine.createGrant({ orgId: t.orgId, kind: "purchase", amount: 1_000_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "rt" });
      }
    });
    after(() => app.close());

    /** authorize → settle for the first n tenants at once (one batch each way); the driver's counters per batch. */
    const round = async (n: number) => {
      const { engine } = app.services;
      const stats = driver.stats;
      assert.ok(stats, "the PostgreSQL driver counts its round trips");
      const b0 = { ...engine.batcher.stats };
      const s0 = { ...stats };
      const holds = await Promise.all(
        tenants.slice(0, n).map(async (t) => {
          const a = await engine.authorize({ orgId: t.orgId, memberId: t.memberId, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: 1000 } });
          assert.ok(a.kind === "fresh" && a.result.ok, JSON.stringify(a));
          return { t, id: a.result.value.hold.id };
        }),
      );
      await Promise.all(
        holds.map(async ({ t, id }) => {
          const s = await engine.settle(t.orgId, id, { amount: 900 });
          assert.ok(s.kind === "fresh" && s.result.ok, JSON.stringify(s));
        }),
      );
      const batches = engine.batcher.stats.batches - b0.batches;
      return { batches, roundTrips: (stats.roundTrips - s0.roundTrips) / batches, statements: (stats.statements - s0.statements) / batches, transactions: stats.transactions - s0.transactions };
    };

    // An authorize batch: BEGIN with the lock and the snapshot's first reads, the windows and spend,
    // the writes with COMMIT. A settle batch reads once more (the hold's member, which the operation
    // does not name). Before issue 16's pipelining: 6 and 7 (BEGIN, the lock and COMMIT alone).
    test("a batch costs at most 3.5 round trips on average (authorize 3, settle 4), however large", async () => {
      await round(1); // warm: the catalog's column types and the prepared statements
      for (const n of [1, 1, 40]) {
        const r = await round(n);
        assert.equal(r.transactions, r.batches, "one transaction per batch");
        assert.ok(r.roundTrips <= 3.5, `batches of ${n}: ${r.roundTrips} round trips per batch (${r.statements} statements)`);
      }
    });

    test("the write statements are prepared once per connection and reused whatever the batch size", async () => {
      const prepared = async () =>
        (await driver.read((q) => q.all("SELECT name, statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements WHERE name LIKE 'uc\\_%' ORDER BY name"))).map((r) => ({
          name: String(r["name"]),
          statement: String(r["statement"]),
          runs: Number(r["runs"]),
        }));
      // A batch of 1 writes its settled hold row-wise, larger ones with one UPDATE for holds settled
      // alike: two shapes. Past those, no batch size prepares anything new.
      await round(1);
      await round(3);
      const first = await prepared();
      assert.ok(first.some((p) => /INSERT INTO operation_log .* unnest\(/.test(p.statement)), "the operation log is written through a prepared unnest statement");
      assert.ok(first.some((p) => /INSERT INTO ledger_entries .* unnest\(/.test(p.statement)), "ledger entries too");
      for (const n of [17, 64, 2, 1]) await round(n);
      const later = await prepared();
      assert.deepEqual(
        later.map((p) => p.statement),
        first.map((p) => p.statement),
        "batches of 17, 64, 2 and 1 prepared no statement batches of 1 and 3 had not",
      );
      const log = (ps: typeof first) => ps.filter((p) => p.statement.includes("INSERT INTO operation_log")).reduce((t, p) => t + p.runs, 0);
      assert.ok(log(later) >= log(first) + 8, `the operation log's statements ran again for each batch (${log(first)} → ${log(later)})`);
      assert.ok(!later.some((p) => /VALUES \(/.test(p.statement)), "no prepared statement carries a row-count-dependent VALUES list");
    });
  });

  describe("set-based writes", () => {
    let driver: SqlDriver;
    before(async () => {
      driver = openPostgres(url, 2);
      await driver.exec(
        "CREATE TABLE bulk_a (id TEXT PRIMARY KEY, big BIGINT, small INTEGER NOT NULL, note TEXT, seq BIGSERIAL); CREATE TABLE bulk_b (LIKE bulk_a INCLUDING ALL)",
      );
    });
    after(() => driver.close());

    const rows: SqlValue[][] = [
      ["plain", 1, 0, "hello"],
      ["nulls", null, 1, null],
      ["max-safe", Number.MAX_SAFE_INTEGER, 2, ""],
      ["min-safe", -Number.MAX_SAFE_INTEGER, -2, "NULL"],
      ["unicode ünï 😀 ‰ 中文", 0, 3, "\u00e9\u0301 \u{1F600} \u200b"],
      ['quotes "double" \'single\'', 42, 4, 'a "quoted" \\ back\\slash, {braces}, (parens)'],
      ["json", 7, 5, JSON.stringify({ a: [1, "b\"c"], d: null, e: "\\n" })],
      ["spaces  ", 8, 6, "  leading and trailing  "],
      ["newline", 9, 7, "line\nbreak\ttab\r"],
    ];
    const read = (table: string) => driver.read((q) => q.all(`SELECT id, big, small, note FROM ${table} ORDER BY id`));

    test("rows through unnest equal rows through multi-row VALUES: nulls, the largest safe integers, unicode, quotes and backslashes", async () => {
      const cols = ["id", "big", "small", "note"];
      await driver.transaction(async (q) => {
        assert.ok(q.bulk, "the PostgreSQL driver writes set-based");
        await upsert(q, "bulk_a", cols, ["id"], rows, false);
        await upsert(valuesOnly(q), "bulk_b", cols, ["id"], rows, false);
      });
      const a = await read("bulk_a");
      assert.equal(a.length, rows.length);
      assert.deepEqual(a, await read("bulk_b"));
      assert.deepEqual(a.find((r) => r["id"] === "max-safe"), { id: "max-safe", big: Number.MAX_SAFE_INTEGER, small: 2, note: "" });
      assert.deepEqual(a.find((r) => r["id"] === "nulls"), { id: "nulls", big: null, small: 1, note: null });
      // Upserts that add and that replace, and a set-based UPDATE, the same both ways.
      const delta: SqlValue[][] = rows.map((r, i) => [r[0] ?? null, 10 + i, i, `v${i}`]);
      await driver.transaction(async (q) => {
        await upsert(q, "bulk_a", ["id", "small"], ["id"], delta.map((r) => [r[0] ?? null, r[2] ?? null]), "add");
        await upsert(valuesOnly(q), "bulk_b", ["id", "small"], ["id"], delta.map((r) => [r[0] ?? null, r[2] ?? null]), "add");
        await upsert(q, "bulk_a", ["id", "small", "note"], ["id"], delta.slice(0, 3).map((r) => [r[0] ?? null, r[1] ?? null, r[3] ?? null]), true);
        await upsert(valuesOnly(q), "bulk_b", ["id", "small", "note"], ["id"], delta.slice(0, 3).map((r) => [r[0] ?? null, r[1] ?? null, r[3] ?? null]), true);
        await updateIn(q, "bulk_a", ["big", "note"], [-1, "ü"], "id", ["plain", "json", "absent"]);
        await updateIn(valuesOnly(q), "bulk_b", ["big", "note"], [-1, "ü"], "id", ["plain", "json", "absent"]);
      });
      assert.deepEqual(await read("bulk_a"), await read("bulk_b"));
      assert.deepEqual((await read("bulk_a")).find((r) => r["id"] === "json"), { id: "json", big: -1, small: 5 + 6, note: "ü" });
    });

    test("a write far past every chunk limit is one statement, its rows in the order given (a generated key follows it)", async () => {
      const n = 70_000; // × 4 columns = 280,000 values: past BULK_CHUNK and PostgreSQL's 65,535 bound parameters
      assert.ok(n > BULK_CHUNK && n * 4 > 65_535);
      const many: SqlValue[][] = Array.from({ length: n }, (_, i) => [`r${String(n - i).padStart(6, "0")}`, i, i % 1000, i % 3 === 0 ? null : `n${i}`]);
      const stats = driver.stats;
      assert.ok(stats);
      const s0 = { ...stats };
      await driver.transaction(async (q) => {
        q.lastly?.(() => upsert(q, "bulk_a", ["id", "big", "small", "note"], ["id"], many, false));
      });
      // BEGIN, the write, COMMIT; the first write to a table also reads its column types once.
      assert.ok(stats.statements - s0.statements <= 3, `${stats.statements - s0.statements} statements`);
      assert.ok(stats.roundTrips - s0.roundTrips <= 2, `${stats.roundTrips - s0.roundTrips} round trips`);
      const back = await driver.read((q) => q.all("SELECT big FROM bulk_a WHERE id LIKE 'r%' ORDER BY seq"));
      assert.equal(back.length, n);
      assert.ok(
        back.every((r, i) => r["big"] === i),
        "seq follows the order of the rows given (operation_log relies on it)",
      );
    });

    test("a write that fails among the last ones (sent with COMMIT behind it) rolls the whole transaction back, and the connection goes on", async () => {
      const count = async () => Number((await driver.read((q) => q.all("SELECT COUNT(*) AS c FROM bulk_b")))[0]?.["c"]);
      const before = await count();
      await assert.rejects(
        driver.transaction(async (q) => {
          await q.run("INSERT INTO bulk_b (id, small) VALUES ('early', 1)");
          q.lastly?.(() =>
            Promise.all([
              upsert(q, "bulk_b", ["id", "small"], ["id"], [["fine", 1]], false),
              upsert(q, "bulk_b", ["id", "small"], ["id"], [["plain", 1]], false), // exists: unique violation
              upsert(q, "bulk_b", ["id", "small"], ["id"], [["after", 1]], false),
            ]),
          );
        }),
        (err: Error) => err.name === "UniqueViolation",
      );
      assert.equal(await count(), before, "nothing of the failed transaction was committed");
      for (let i = 0; i < 3; i++) {
        await driver.transaction(async (q) => {
          q.lastly?.(() => upsert(q, "bulk_b", ["id", "small"], ["id"], [[`next${i}`, i]], false));
        });
      }
      assert.equal(await count(), before + 3, "both connections of the pool still commit");
    });
  });
});
