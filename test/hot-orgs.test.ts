// The per-organization cache (issue 16, "read once"; src/app/hot-orgs.ts): a money batch decided on
// this instance's cached state crosses to the SQLite writer thread once (BEGIN, the version check,
// the writes, COMMIT), and it is never decided on state another writer changed. Instance A is an app
// in this process; B is a second process on the same database (test/support/hot-peer.ts: the code
// path of the CLI and of a second instance). Each scenario runs on both stores; on PostgreSQL
// (no cache yet: capabilities.versionedOrgs is off) the same money outcomes must hold.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { silentLogger } from "../src/ports/logger.js";
import { ORG_VERSION_TRIGGERS } from "../src/adapters/store/org-versions-sql.js";
import { verifyLedger } from "../src/core/ledger-verify.js";
import { backends, openTestStore } from "./support/backends.js";

const PEER = fileURLToPath(new URL("./support/hot-peer.js", import.meta.url));
const SLOW_COMMIT = fileURLToPath(new URL("./support/slow-commit.js", import.meta.url));
const USD = 1_000_000;

/** B: one operation in another process; its printed result. */
async function peer(db: string, op: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [PEER, db, op, JSON.stringify(input)], { timeout: 60_000 });
  const last = stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, unknown>;
}

async function openA(db: string, cache = "10000"): Promise<App> {
  return createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_ORG_CACHE: cache }, { database: db }), { log: silentLogger, store: await openTestStore(db, 4) });
}

/** An organization with one member and `credits` of usage credits. */
async function tenant(app: App, credits: number): Promise<{ orgId: string; memberId: string }> {
  const { admin, engine } = app.services;
  const out = await admin.createOrg({ name: "hot", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: `o${Math.random()}@x.test`, name: "o" } });
  assert.ok(out.kind === "fresh" && out.result.ok);
  const { org, owner } = out.result.value;
  const g = await engine.createGrant({ orgId: org.id, kind: "purchase", amount: credits, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
  assert.ok(g.kind === "fresh" && g.result.ok);
  return { orgId: org.id, memberId: owner.id };
}

function authorize(app: App, t: { orgId: string; memberId: string }, amount: number) {
  return app.services.engine.authorize({ orgId: t.orgId, memberId: t.memberId, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount } });
}

const granted = (o: Awaited<ReturnType<typeof authorize>>): string | null => (o.kind === "fresh" && o.result.ok ? o.result.value.hold.id : null);
const refusal = (o: Awaited<ReturnType<typeof authorize>>): string | null => (o.kind === "fresh" && !o.result.ok ? o.result.error.code : null);

async function ledgerVerifies(app: App): Promise<void> {
  assert.deepEqual(verifyLedger(await app.services.store.read((tx) => tx.ledgerAggregates())), []);
}

for (const backend of backends()) {
  const cached = backend.name === "sqlite"; // the stores with capabilities.versionedOrgs
  describe(`the per-organization cache (${backend.name})`, () => {
    after(() => backend.cleanup());

    test("the triggers that raise organizations.version exist (a rebuilt table must recreate them)", async () => {
      const db = await backend.createDatabase();
      const app = await openA(db);
      try {
        const names = await app.services.store.read(async (tx) => {
          const q = (tx as unknown as { q: { all: (sql: string) => Promise<Array<Record<string, unknown>>> } }).q;
          const sql = backend.name === "sqlite" ? "SELECT name FROM sqlite_master WHERE type = 'trigger'" : "SELECT DISTINCT tgname AS name FROM pg_trigger WHERE NOT tgisinternal";
          return (await q.all(sql)).map((r) => String(r["name"]));
        });
        for (const t of ORG_VERSION_TRIGGERS) assert.ok(names.includes(t), `trigger ${t} exists`);
      } finally {
        await app.close();
      }
    });

    test("another process spends and changes limits; this instance's next batches decide on its values (no overspend)", async () => {
      const db = await backend.createDatabase();
      const a = await openA(db);
      try {
        const t = await tenant(a, 10 * USD);
        assert.ok(granted(await authorize(a, t, 1 * USD)));
        const before = a.services.engine.batcher.stats.cached;
        assert.ok(granted(await authorize(a, t, 1 * USD)));
        if (cached) assert.equal(a.services.engine.batcher.stats.cached, before + 1, "the second authorize was decided on cached state");
        // B spends 6 of the 8 left: A's cached state still says 8.
        assert.equal((await peer(db, "authorize", { ...t, amount: 6 * USD })).ok, true);
        assert.equal(refusal(await authorize(a, t, 3 * USD)), "insufficient_credits", "A saw B's hold");
        if (cached) assert.ok(a.services.engine.batcher.stats.stale >= 1, "the cached decision was found stale and decided again");
        assert.ok(granted(await authorize(a, t, 2 * USD)), "exactly what is left");
        // B adds credits and sets a monthly limit of 13 USD (10 are already held): A must apply both.
        assert.equal((await peer(db, "grant", { orgId: t.orgId, amount: 20 * USD })).ok, true);
        assert.equal((await peer(db, "limit", { orgId: t.orgId, amount: 13 * USD })).ok, true);
        assert.equal(refusal(await authorize(a, t, 4 * USD)), "spend_limit_reached", "A saw B's limit");
        assert.ok(granted(await authorize(a, t, 3 * USD)), "A saw B's grant and the limit's headroom");
        await ledgerVerifies(a);
      } finally {
        await a.close();
      }
    });

    test("a settle of a hold another process created, then an idempotent replay that arrives on the cached path", async () => {
      const db = await backend.createDatabase();
      const a = await openA(db);
      try {
        const t = await tenant(a, 10 * USD);
        assert.ok(granted(await authorize(a, t, 1 * USD))); // A caches the organization
        const theirs = await peer(db, "authorize", { ...t, amount: 4 * USD });
        assert.equal(theirs.ok, true);
        const settled = await a.services.engine.settle(t.orgId, String(theirs["holdId"]), { amount: 3 * USD });
        assert.ok(settled.kind === "fresh" && settled.result.ok, "A settles B's hold");
        // 10 - 1 (held) - 3 (charged) = 6 left: 6 is granted, then nothing more.
        assert.ok(granted(await authorize(a, t, 6 * USD)));
        assert.equal(refusal(await authorize(a, t, 1)), "insufficient_credits");

        // An idempotent request, then its replay: the organization is cached, so the replay is decided
        // on cached state, and the writer thread finds its key stored and has it decided again: replayed.
        const u = await tenant(a, 10 * USD);
        const idem = { scope: `test:${u.orgId}`, key: "k1", requestHash: "h1", render: (r: { ok: boolean }) => ({ status: r.ok ? 201 : 402, body: JSON.stringify(r) }) };
        const input = { orgId: u.orgId, memberId: u.memberId, surface: "interactive" as const, model: "claude-haiku-4-5", speed: "standard" as const, estimate: { amount: 4 * USD } };
        const first = await a.services.engine.authorize(input, idem);
        assert.ok(granted(first));
        const stale = a.services.engine.batcher.stats.stale;
        const again = await a.services.engine.authorize(input, idem);
        assert.equal(again.kind, "replay", "the stored response is replayed");
        if (cached) assert.equal(a.services.engine.batcher.stats.stale, stale + 1, "the replay was first decided on cached state, then found stored");
        // Replayed, not held twice: 10 - 4 = 6 left.
        assert.ok(granted(await authorize(a, u, 6 * USD)));
        assert.equal(refusal(await authorize(a, u, 1)), "insufficient_credits");
        await ledgerVerifies(a);
      } finally {
        await a.close();
      }
    });

    test("a batch that fails leaves the cache deciding on committed state", async () => {
      const db = await backend.createDatabase();
      const a = await openA(db);
      try {
        const t = await tenant(a, 10 * USD);
        assert.ok(granted(await authorize(a, t, 1 * USD)));
        // A constraint failure on the batch's writes: holds of exactly 7.77 USD are refused by the database.
        await a.services.store.transaction(async (tx) => {
          const q = (tx as unknown as { q: { run: (sql: string) => Promise<number> } }).q;
          await q.run(
            backend.name === "sqlite"
              ? `CREATE TRIGGER test_refuse_777 BEFORE INSERT ON holds WHEN NEW.amount = 7770000 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`
              : `CREATE FUNCTION test_refuse_777() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.amount = 7770000 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
          );
          if (backend.name !== "sqlite") await q.run(`CREATE TRIGGER test_refuse_777 BEFORE INSERT ON holds FOR EACH ROW EXECUTE FUNCTION test_refuse_777()`);
        });
        await assert.rejects(authorize(a, t, 7.77 * USD), /refused by the test/);
        // Committed state: 9 left. A decision that kept the failed batch's hold would refuse this.
        assert.ok(granted(await authorize(a, t, 9 * USD)), "the failed batch's decision left nothing behind");
        assert.equal(refusal(await authorize(a, t, 1)), "insufficient_credits");
        await ledgerVerifies(a);
      } finally {
        await a.close();
      }
    });

    if (backend.name === "sqlite") {
      test("another process killed with -9 while its batch is syncing: this instance decides on what it committed", async () => {
        const db = await backend.createDatabase();
        const marker = `${db.slice("sqlite:".length)}.commits`;
        const a = await openA(db);
        try {
          const t = await tenant(a, 10 * USD);
          assert.ok(granted(await authorize(a, t, 1 * USD))); // cached: 9 left
          writeFileSync(`${marker}.on`, "");
          const b = spawn(process.execPath, ["--import", SLOW_COMMIT, PEER, db, "authorize", JSON.stringify({ ...t, amount: 6 * USD })], {
            env: { ...process.env, UC_TEST_SLOW_COMMIT: marker, UC_TEST_SLOW_COMMIT_MS: "4000" },
            stdio: "ignore",
          });
          const exited = new Promise((r) => b.once("exit", r));
          // Killed while its COMMIT is under way: before or after the moment it became durable.
          for (let i = 0; i < 3000 && !(existsSync(marker) && readFileSync(marker, "utf8").includes("begin")); i++) await new Promise((r) => setTimeout(r, 10));
          assert.ok(readFileSync(marker, "utf8").includes("begin"), "B's batch began its COMMIT");
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4000)));
          b.kill("SIGKILL");
          await exited;
          const theirs = await a.services.store.read(async (tx) => (await tx.listLedger({ orgId: t.orgId, limit: 100, kind: "hold" })).length);
          const committed = theirs === 2; // A's hold and, if it became durable, B's
          // 9 left, or 3 if B's hold committed: A decides on that, never on its cache alone.
          const big = await authorize(a, t, 5 * USD);
          if (committed) assert.equal(refusal(big), "insufficient_credits", "B's committed hold counts");
          else assert.ok(granted(big), "B's uncommitted hold does not count");
          await ledgerVerifies(a);
        } finally {
          await a.close();
        }
      });

      test("a money operation on a cached organization crosses to the writer thread once; with the cache off, twice", async () => {
        for (const cache of ["10000", "0"]) {
          const db = await backend.createDatabase();
          const app = await openA(db, cache);
          const post = Worker.prototype.postMessage;
          let messages = 0;
          try {
            const t = await tenant(app, 10 * USD);
            assert.ok(granted(await authorize(app, t, 1 * USD)));
            Worker.prototype.postMessage = function (this: Worker, value: unknown, transfer?: readonly never[]) {
              messages++;
              return post.call(this, value, transfer);
            };
            const held = await authorize(app, t, 1 * USD);
            const holdId = granted(held);
            assert.ok(holdId);
            assert.equal(messages, cache === "0" ? 2 : 1, `authorize, cache ${cache}`);
            messages = 0;
            const settled = await app.services.engine.settle(t.orgId, holdId, { amount: USD / 2 });
            assert.ok(settled.kind === "fresh" && settled.result.ok);
            assert.equal(messages, cache === "0" ? 2 : 1, `settle, cache ${cache}`);
            const stats = app.services.engine.batcher.stats;
            if (cache === "0") assert.equal(stats.cached, 0);
            else assert.ok(stats.cached >= 2 && stats.stale === 0, JSON.stringify(stats));
          } finally {
            Worker.prototype.postMessage = post;
            await app.close();
          }
        }
      });
    }
  });
}
