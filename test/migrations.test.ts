// Schema upgrades with data in them: for every schema version N, a database is built by the real
// migrations up to N and filled from the committed fixtures written for versions 1..N
// (test/fixtures/schema-vK.sql), then upgraded to the latest version on both engines. The ledger
// must verify and the data must have survived (balances, debts and every fixture row). A database
// from a newer version is refused, by the store and by `serve` (status 3, error schema_too_new).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { LATEST_VERSION, MIGRATIONS, migrate, SchemaTooNew } from "../src/adapters/store/migrations.js";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import { SqlStore } from "../src/adapters/store/sql-store.js";
import { verifyLedger } from "../src/core/ledger-verify.js";
import { backends } from "./support/backends.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (v: number): string[] =>
  readFileSync(`${ROOT}test/fixtures/schema-v${v}.sql`, "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("--"))
    .join("\n")
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/** The versions this code has up to `version` (a number reserved for a branch not merged yet is skipped, not faked). */
const versionsUpTo = (version: number): number[] => MIGRATIONS.map((m) => m.version).filter((v) => v <= version).sort((a, b) => a - b);

/**
 * A usage rollup must equal the raw records grouped by its grain (usage_daily by day: migration 12's
 * backfill; usage_hourly by hour: migration 16's; and every batch and fixture since).
 */
async function rollupMatchesRecords(d: SqlDriver, table: "usage_daily" | "usage_hourly"): Promise<void> {
  const [col, unit] = table === "usage_daily" ? ["day", 86_400_000] : ["hour", 3_600_000];
  await d.transaction(async (q) => {
    const norm = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.values(r).map(String).join("|")).sort();
    const rolled = norm(await q.all(`SELECT org_id, ${col}, model, surface, member_id, speed, payer, requests, cost, credit_cost, input_tokens, output_tokens FROM ${table}`));
    const raw = norm(
      await q.all(
        `SELECT org_id, at / ${unit} AS ${col}, model, surface, member_id, speed, payer, COUNT(*) AS requests, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, ` +
          `SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens FROM usage_records GROUP BY org_id, at / ${unit}, model, surface, member_id, speed, payer`,
      ),
    );
    assert.ok(raw.length >= 1);
    assert.deepEqual(rolled, raw, `${table} equals the usage records`);
  });
}

const driverFor = (url: string): SqlDriver => (url.startsWith("sqlite:") ? openSqlite(url.slice(7)) : openPostgres(url, 2));

/** What must survive an upgrade: grant balances per org, debts, and row counts of the fixture tables. */
async function snapshot(d: SqlDriver, version: number) {
  const tables = new Set<string>();
  for (const v of versionsUpTo(version)) for (const s of fixture(v)) {
    const table = /^INSERT INTO (\w+)/.exec(s)?.[1];
    if (table) tables.add(table); // fixtures may also UPDATE rows of earlier versions
  }
  return d.transaction(async (q) => {
    const balances = (await q.all("SELECT org_id, SUM(remaining) AS total FROM grants WHERE status = 'active' GROUP BY org_id ORDER BY org_id")).map((r) => `${String(r["org_id"])}=${Number(r["total"])}`);
    const debts = (await q.all("SELECT id, debt FROM organizations ORDER BY id")).map((r) => `${String(r["id"])}=${Number(r["debt"])}`);
    const counts: Record<string, number> = {};
    for (const t of [...tables].sort()) counts[t] = Number((await q.all(`SELECT COUNT(*) AS c FROM ${t}`))[0]?.["c"]);
    return { balances, debts, counts };
  });
}

for (const backend of backends()) {
  describe(`schema upgrades with data (${backend.name})`, () => {
    after(() => backend.cleanup());

    for (const version of versionsUpTo(LATEST_VERSION)) {
      test(`a version ${version} database with data upgrades to ${LATEST_VERSION} and verifies`, async () => {
        assert.ok(MIGRATIONS.some((m) => m.version === version), `migration ${version} exists`);
        const url = await backend.createDatabase();
        const d = driverFor(url);
        assert.deepEqual(await migrate(d, version), { from: 0, to: version });
        for (const v of versionsUpTo(version)) {
          await d.transaction(async (q) => {
            for (const s of fixture(v)) await q.run(s);
          });
        }
        const before = await snapshot(d, version);
        assert.deepEqual(before.balances, ["org_fx1=" + (38_000_000 + (version >= 2 ? 20_000_000 : 0) + (version >= 4 ? 3_000_000 : 0))]);
        await d.close();

        const store = await SqlStore.open(driverFor(url));
        try {
          assert.equal(await store.schemaVersion(), LATEST_VERSION);
          const agg = await store.read((tx) => tx.ledgerAggregates());
          assert.deepEqual(verifyLedger(agg), [], "ledger verify passes after the upgrade");
          assert.ok(agg.transactionCount >= 7);
          // The normal read paths see the old data.
          const grants = await store.read((tx) => tx.listGrants("org_fx1"));
          assert.equal(grants.find((g) => g.id === "grant_fx1")?.remaining, 38_000_000);
          assert.equal((await store.read((tx) => tx.getOrg("org_fx2")))?.debt, 1_000_000);
          assert.equal((await store.read((tx) => tx.getHold("hold_fx2")))?.status, "pending");
          if (version >= 2) assert.equal((await store.read((tx) => tx.moneyIn.getAutoReload("org_fx1")))?.amount, 25_000_000);
        } finally {
          await store.close();
        }
        const d2 = driverFor(url);
        assert.deepEqual(await snapshot(d2, version), before, "every row and balance survived");
        // Migration 12 sums the records already there (from version 12 on, the fixtures are written
        // raw after the migration, so only the older databases show the backfill).
        if (version < 12) await rollupMatchesRecords(d2, "usage_daily");
        // Migration 16 sums them by hour (the records of every older version's fixtures, 12's and
        // 14's included, which wrote usage_daily beside their records but had no hourly table).
        if (version < 16) await rollupMatchesRecords(d2, "usage_hourly");
        await d2.close();
      });
    }

    test("a database from a newer version is refused, and nothing is changed", async () => {
      const url = await backend.createDatabase();
      const d = driverFor(url);
      await migrate(d);
      await d.transaction((q) => q.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [LATEST_VERSION + 1, "from the future", 0]));
      await d.close();
      await assert.rejects(SqlStore.open(driverFor(url)), (err: unknown) => err instanceof SchemaTooNew && err.code === "schema_too_new" && err.found === LATEST_VERSION + 1);
      // The server refuses to start: a stable error code and exit status 3.
      const r = spawnSync(process.execPath, [`${ROOT}dist/src/main.js`, "serve", "--database", url, "--port", "0", "--no-demo"], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /error schema_too_new: database schema version \d+ is newer than this server understands/);
      const d2 = driverFor(url);
      const versions = await d2.transaction((q) => q.all("SELECT MAX(version) AS v FROM schema_migrations"));
      assert.equal(Number(versions[0]?.["v"]), LATEST_VERSION + 1);
      await d2.close();
    });

    test("an upgrade is all or nothing: a failing migration leaves the old version and data", async () => {
      const url = await backend.createDatabase();
      const d = driverFor(url);
      await migrate(d, LATEST_VERSION - 1);
      for (const v of versionsUpTo(LATEST_VERSION - 1)) await d.transaction(async (q) => {
        for (const s of fixture(v)) await q.run(s);
      });
      // Make the latest migration fail half-way: the table or index it creates, or the column it adds,
      // is taken (tables and indexes share one namespace on both engines).
      const latest = MIGRATIONS.find((m) => m.version === LATEST_VERSION);
      const text = latest?.statements.join("\n") ?? "";
      const created = /CREATE (?:TABLE|INDEX) (\w+)/.exec(text)?.[1];
      const added = /ALTER TABLE (\w+) ADD COLUMN (\w+)/.exec(text);
      assert.ok(created ?? added, "the latest migration creates a table or an index, or adds a column");
      await d.transaction((q) => q.run(created ? `CREATE TABLE ${created} (x INTEGER)` : `ALTER TABLE ${added?.[1] ?? ""} ADD COLUMN ${added?.[2] ?? ""} INTEGER`));
      await assert.rejects(migrate(d));
      const v = await d.transaction((q) => q.all("SELECT MAX(version) AS v FROM schema_migrations"));
      assert.equal(Number(v[0]?.["v"]), versionsUpTo(LATEST_VERSION - 1).at(-1));
      await d.close();
    });

    test("migration 16 sums the usage records already there by UTC hour, the last and first millisecond of an hour apart", async () => {
      const url = await backend.createDatabase();
      const d = driverFor(url);
      await migrate(d, versionsUpTo(15).at(-1) ?? 0);
      const hour = 490_000 * 3_600_000;
      const records: Array<[string, number, number]> = [["use_a", hour - 1, 100], ["use_b", hour, 200], ["use_c", hour + 3_599_999, 300], ["use_d", hour + 3_600_000, 400]];
      await d.transaction(async (q) => {
        for (const [id, at, cost] of records) {
          await q.run(
            "INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, input_tokens, output_tokens, at) VALUES (?, 'org_h', 'mem_h', NULL, 'hold_h', 'sdk', 'claude-haiku-4-5', 'standard', 'credits', ?, ?, 10, 1, ?)",
            [id, cost, cost, at],
          );
        }
      });
      await migrate(d);
      const rows = await d.transaction((q) => q.all("SELECT hour, requests, cost, credit_cost, input_tokens, output_tokens FROM usage_hourly WHERE org_id = 'org_h' ORDER BY hour"));
      await d.close();
      assert.deepEqual(
        rows.map((r) => Object.values(r).map(Number)),
        [
          [489_999, 1, 100, 100, 10, 1],
          [490_000, 2, 500, 500, 20, 2],
          [490_001, 1, 400, 400, 10, 1],
        ],
      );
    });

    test("migration 14 makes every existing plan its version 1, in force since the beginning", async () => {
      const url = await backend.createDatabase();
      const d = driverFor(url);
      await migrate(d, versionsUpTo(13).at(-1) ?? 0);
      const definition = JSON.stringify({ id: "legacy", name: "Legacy", seats: { standard: { windows: [], monthlySdkCredit: 0 } }, creditOnlySurfaces: [] });
      await d.transaction((q) => q.run("INSERT INTO plans (id, name, definition, updated_at) VALUES (?, ?, ?, ?)", ["legacy", "Legacy", definition, 1767300000000]));
      await migrate(d);
      const rows = await d.transaction((q) => q.all("SELECT plan_id, version, definition, effective_at, created_at, created_by FROM plan_versions WHERE plan_id = 'legacy'"));
      await d.close();
      assert.deepEqual(
        rows.map((r) => [r["plan_id"], Number(r["version"]), r["definition"], Number(r["effective_at"]), Number(r["created_at"]), r["created_by"]]),
        [["legacy", 1, definition, 0, 1767300000000, "migration"]],
      );
    });
  });
}
