// The shared store suite: one set of tests, run against every backend (a real SQLite file and a
// real PostgreSQL database): migrations, the newer-schema refusal, the append-only ledger, exact
// round trips of every row the money path writes, lock order, and idempotency records.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import { LATEST_VERSION, MIGRATIONS, migrate, SchemaTooNew, schemaVersion } from "../src/adapters/store/migrations.js";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import { SqlStore } from "../src/adapters/store/sql-store.js";
import type { Changes } from "../src/core/books.js";
import { DEFAULT_PLANS } from "../src/core/default-plans.js";
import type { Grant } from "../src/core/grants.js";
import { newId } from "../src/core/ids.js";
import { dayOf } from "../src/core/limits.js";
import type { Hold, LedgerTransaction, Member, Organization, SpendDay, WindowUsage } from "../src/core/model.js";
import type { IdempotencyRecord, Store } from "../src/ports/store.js";
import { backends, openTestStore } from "./support/backends.js";

const NOW = Date.parse("2026-03-04T10:15:00Z");
// Amounts beyond 32 bits: BIGINT columns must come back as the same exact numbers.
const BIG = 9_007_199_254; // $9,007.199254
const HUGE = 4_000_000_000_000; // $4,000,000

function openDriver(url: string): SqlDriver {
  return url.startsWith("sqlite:") ? openSqlite(url.slice("sqlite:".length)) : openPostgres(url, 2);
}

const noChanges = (): Changes => ({ orgs: [], grants: [], newGrants: [], holds: [], newHolds: [], windows: [], spendDays: [], ledger: [], usage: [] });

function org(id = newId("organization", NOW)): Organization {
  return { id, name: "Round Trip Ltd", planId: "pro", usageCreditsEnabled: true, fastModeEnabled: false, fastModeFallback: true, weeklyAnchor: NOW - 3 * 86_400_000 + 17, debt: 1234, createdAt: NOW - 1 };
}

for (const backend of backends()) {
  describe(`store on ${backend.name}`, () => {
    after(() => backend.cleanup());

    describe("migrations", () => {
      test("a new database is brought to LATEST_VERSION; migrating again is a no-op", async () => {
        const driver = openDriver(await backend.createDatabase());
        try {
          assert.equal(await schemaVersion(driver), 0);
          assert.deepEqual(await migrate(driver), { from: 0, to: LATEST_VERSION });
          assert.equal(await schemaVersion(driver), LATEST_VERSION);
          const again = await migrate(driver);
          assert.deepEqual(again, { from: LATEST_VERSION, to: LATEST_VERSION });
          const rows = await driver.transaction((q) => q.all("SELECT version FROM schema_migrations ORDER BY version"));
          // Every migration, once, in order.
          assert.deepEqual(rows.map((r) => Number(r["version"])), MIGRATIONS.map((m) => m.version));
        } finally {
          await driver.close();
        }
        // And through the store: opening migrates, reopening changes nothing.
        const url = await backend.createDatabase();
        const a = await openTestStore(url);
        assert.equal(await a.schemaVersion(), LATEST_VERSION);
        await a.close();
        const b = await openTestStore(url);
        assert.equal(await b.schemaVersion(), LATEST_VERSION);
        await b.close();
      });

      test("a schema newer than this code is refused with SchemaTooNew", async () => {
        const url = await backend.createDatabase();
        const setup = openDriver(url);
        try {
          await migrate(setup);
          await setup.transaction((q) =>
            q.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [LATEST_VERSION + 1, "from the future", NOW]),
          );
        } finally {
          await setup.close();
        }
        // SqlStore.open closes its driver when it refuses the schema (no pool left running).
        await assert.rejects(SqlStore.open(openDriver(url)), (err: unknown) => {
          assert.ok(err instanceof SchemaTooNew, String(err));
          assert.equal(err.found, LATEST_VERSION + 1);
          assert.equal(err.known, LATEST_VERSION);
          assert.match(err.message, /newer than this server/);
          return true;
        });
        const driver = openDriver(url);
        try {
          await assert.rejects(migrate(driver), SchemaTooNew);
          // Refusing changed nothing.
          assert.equal(await schemaVersion(driver), LATEST_VERSION + 1);
        } finally {
          await driver.close();
        }
      });
    });

    describe("data", () => {
      let store: Store;
      let driver: SqlDriver;
      before(async () => {
        const url = await backend.createDatabase();
        store = await openTestStore(url);
        driver = openDriver(url); // a second connection for raw SQL
        await store.transaction(async (tx) => {
          for (const p of DEFAULT_PLANS) await tx.addPlanVersion({ definition: p, effectiveAt: 0, createdAt: NOW, createdBy: "system" });
        });
      });
      after(async () => {
        await driver?.close();
        await store?.close();
      });

      test("writeChanges then loadSnapshot round-trips an org, member, grant, hold, window, spend day and ledger transaction exactly", async () => {
        const o = org();
        const m: Member = { id: newId("member", NOW), orgId: o.id, email: "rt@example.test", name: "Round Trip", role: "billing", seatTier: "premium", workspaceId: null, usageCreditsEnabled: false, fastModeEnabled: false, createdAt: NOW - 2 };
        const g: Grant = {
          id: newId("grant", NOW),
          orgId: o.id,
          kind: "purchase",
          amount: HUGE,
          remaining: HUGE - BIG,
          priority: 7,
          expiresAt: NOW + 90 * 86_400_000,
          surfaces: ["sdk", "ci"],
          memberId: m.id,
          createdAt: NOW - 3,
          status: "active",
          description: "ünïcödé — 'quoted' \"twice\"",
        };
        const h: Hold = {
          id: newId("hold", NOW),
          orgId: o.id,
          memberId: m.id,
          workspaceId: null,
          surface: "sdk",
          model: "claude-sonnet-4-5",
          speed: "fast",
          payer: "credits",
          amount: BIG,
          draws: [{ grantId: g.id, amount: BIG }],
          limitedAmount: BIG,
          windows: [{ key: "five_hour", periodStart: NOW - 60_000 }],
          day: dayOf(NOW),
          createdAt: NOW,
          expiresAt: NOW + 600_000,
          status: "pending",
          settledAmount: 0,
          resolvedAt: null,
          metadata: { request_id: "req_1", note: "a b" },
          owner: "gateway",
        };
        const w: WindowUsage = { memberId: m.id, key: "seven_day", periodStart: NOW - 86_400_000, used: BIG, held: 42 };
        const d: SpendDay = { orgId: o.id, scopeKey: "org", day: dayOf(NOW), spent: 5_000_000, held: BIG };
        const grantTx: LedgerTransaction = {
          id: newId("transaction", NOW),
          orgId: o.id,
          kind: "grant",
          ref: g.id,
          at: NOW - 3,
          entries: [
            { account: "funding:purchase", amount: -HUGE },
            { account: `grant:${g.id}`, amount: HUGE },
          ],
        };
        const holdTx: LedgerTransaction = {
          id: newId("transaction", NOW),
          orgId: o.id,
          kind: "hold",
          ref: h.id,
          at: NOW,
          entries: [
            { account: `grant:${g.id}`, amount: -BIG },
            { account: `hold:${h.id}`, amount: BIG },
          ],
        };

        await store.transaction(async (tx) => {
          await tx.insertOrg(o);
          await tx.insertMember(m);
          await tx.writeChanges({ ...noChanges(), newGrants: [g], newHolds: [h], windows: [w], spendDays: [d], ledger: [grantTx, holdTx] });
        });

        const load = (s: Store) =>
          s.transaction(async (tx) => {
            const locked = await tx.lockOrgs([o.id]);
            const snap = await tx.loadSnapshot({ orgIds: [o.id], memberIds: [m.id], holdIds: [h.id], allSpend: true, now: NOW }, locked);
            return { locked, snap };
          });
        const { locked, snap } = await load(store);
        assert.deepEqual(locked, [o]);
        assert.deepEqual([...snap.orgs.values()], [o]);
        assert.deepEqual([...snap.members.values()], [m]);
        assert.deepEqual([...snap.grants.values()], [g]);
        assert.deepEqual([...snap.holds.values()], [h]);
        assert.deepEqual(snap.windows, [w]);
        assert.deepEqual(snap.spendDays, [d]);
        assert.deepEqual(snap.limits, []);
        assert.deepEqual(snap.plans.get("pro"), DEFAULT_PLANS.find((p) => p.id === "pro"));
        assert.deepEqual(await store.read((tx) => tx.listLedger({ orgId: o.id, limit: 10 })), [holdTx, grantTx]); // newest first
        const agg = await store.read((tx) => tx.ledgerAggregates());
        assert.deepEqual(agg.unbalancedTransactions, []);
        assert.deepEqual(agg.grants.find((x) => x.id === g.id)?.ledger, HUGE - BIG);

        // Updates: rows are replaced, spend days take deltas, ledger rows are only ever added.
        const settled: Hold = { ...h, status: "settled", settledAmount: BIG - 1, resolvedAt: NOW + 5 };
        const g2: Grant = { ...g, remaining: g.remaining + 1 };
        const w2: WindowUsage = { ...w, used: w.used + 7, held: 0 };
        await store.transaction(async (tx) => {
          await tx.writeChanges({
            ...noChanges(),
            orgs: [{ ...o, debt: 0, name: "Renamed" }],
            grants: [g2],
            holds: [settled],
            windows: [w2],
            spendDays: [{ ...d, spent: 3, held: -BIG }],
          });
        });
        const second = await load(store);
        assert.deepEqual(second.locked, [{ ...o, debt: 0, name: "Renamed" }]);
        assert.deepEqual([...second.snap.grants.values()], [g2]);
        assert.deepEqual(second.snap.holds.get(h.id), settled);
        assert.deepEqual(second.snap.windows, [w2]);
        assert.deepEqual(second.snap.spendDays, [{ ...d, spent: d.spent + 3, held: 0 }]);

        // The read path (a second, read-only connection on SQLite) sees the committed rows.
        assert.deepEqual(await store.read((tx) => tx.getHold(h.id)), settled);
      });

      test("the ledger tables refuse UPDATE and DELETE", async () => {
        const o = org();
        const t: LedgerTransaction = { id: newId("transaction", NOW), orgId: o.id, kind: "grant", ref: "grant_x", at: NOW, entries: [{ account: "funding:promotional", amount: -5 }, { account: "grant:grant_x", amount: 5 }] };
        await store.transaction(async (tx) => {
          await tx.insertOrg(o);
          await tx.writeChanges({ ...noChanges(), ledger: [t] });
        });
        for (const sql of [
          "UPDATE ledger_entries SET amount = amount + 1 WHERE tx_id = ?",
          "DELETE FROM ledger_entries WHERE tx_id = ?",
          "UPDATE ledger_transactions SET kind = 'void' WHERE id = ?",
          "DELETE FROM ledger_transactions WHERE id = ?",
        ]) {
          await assert.rejects(driver.transaction((q) => q.run(sql, [t.id])), /ledger is append-only/, sql);
        }
        assert.deepEqual(await store.read((tx) => tx.listLedger({ orgId: o.id, limit: 10 })), [t]);
        // Re-writing a ledger transaction through the store cannot change it either.
        await assert.rejects(store.transaction((tx) => tx.writeChanges({ ...noChanges(), ledger: [{ ...t, entries: [{ account: "x", amount: 0 }] }] })));
        assert.deepEqual(await store.read((tx) => tx.listLedger({ orgId: o.id, limit: 10 })), [t]);
      });

      test("lockOrgs returns the orgs sorted by id, each once, and only those that exist", async () => {
        const ids = [newId("organization", NOW + 3), newId("organization", NOW + 1), newId("organization", NOW + 2)];
        await store.transaction(async (tx) => {
          for (const id of ids) await tx.insertOrg(org(id));
        });
        const sorted = [...ids].sort();
        assert.notDeepEqual(ids, sorted);
        const missing = newId("organization", NOW);
        for (const forUpdate of [true, false]) {
          const got = await store.transaction((tx) => tx.lockOrgs([ids[0]!, missing, ids[1]!, ids[2]!, ids[0]!], forUpdate));
          assert.deepEqual(got.map((o) => o.id), sorted);
          assert.deepEqual(got[0], org(sorted[0]!));
        }
        assert.deepEqual(await store.transaction((tx) => tx.lockOrgs([])), []);
      });

      test("idempotency records round-trip; the (scope, key) primary key refuses a second insert", async () => {
        const scope = newId("organization", NOW);
        const rec = (key: string, status: number): IdempotencyRecord => ({ scope, key, requestHash: `sha256:${key}`, status, response: JSON.stringify({ key, ok: true, n: BIG }), createdAt: NOW + status });
        const a = rec("k-1", 201);
        const b = rec("k-2", 409);
        await store.transaction((tx) => tx.putIdempotency([a, b]));
        await store.transaction((tx) => tx.putIdempotency([{ ...a, scope: "other-scope" }])); // same key, other scope: fine
        const got = await store.transaction((tx) => tx.getIdempotency(scope, ["k-2", "k-1", "k-3"]));
        assert.deepEqual([...got].sort((x, y) => x.key.localeCompare(y.key)), [a, b]);
        assert.deepEqual(await store.transaction((tx) => tx.getIdempotency(scope, [])), []);
        assert.deepEqual(await store.transaction((tx) => tx.getIdempotency("other-scope", ["k-1"])), [{ ...a, scope: "other-scope" }]);

        await assert.rejects(store.transaction((tx) => tx.putIdempotency([{ ...a, requestHash: "sha256:other", status: 200, response: "{}" }])));
        // The failed transaction wrote nothing; the first record stands.
        assert.deepEqual(await store.transaction((tx) => tx.getIdempotency(scope, ["k-1"])), [a]);
        // The store stays usable after the failed transaction.
        await store.transaction((tx) => tx.putIdempotency([rec("k-3", 200)]));
        assert.equal((await store.transaction((tx) => tx.getIdempotency(scope, ["k-3"]))).length, 1);
      });
    });
  });
}
