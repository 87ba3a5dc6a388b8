// Durability off the event loop (issue 16), on SQLite: the write connection's COMMIT (its fsync)
// runs on the writer thread. With a deliberately slow COMMIT (test/support/slow-commit.ts, a disk
// whose fsync takes a second), the server is killed with -9 while a batch is syncing, again and
// again under mixed load. Each time, before the kill, /healthz is answered while that COMMIT is
// still under way (the event loop is not waiting for the disk). After the restarts every
// acknowledged operation is present and replays from its idempotency record, nothing is applied
// twice, and the ledger verifies.

import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { sqliteBackend } from "./support/backends.js";
import { checkAcknowledged, MixedLoad, rng, setupTenants } from "./support/mixed-load.js";
import { prepareDatabase, spawnServer, type ServerProcess } from "./support/server-process.js";

const PRELOAD = fileURLToPath(new URL("./support/slow-commit.js", import.meta.url));
const SEED = Number(process.env["UC_CRASH_SEED"] ?? Date.now() % 1_000_000);
const CYCLES = 3;
const USD = 1_000_000;

/** COMMITs begun and not yet ended, per the marker file. */
function syncing(marker: string): string[] {
  if (!existsSync(marker)) return [];
  const open = new Set<string>();
  for (const line of readFileSync(marker, "utf8").split("\n")) {
    const [what, id] = line.split(" ");
    if (what === "begin" && id) open.add(id);
    if (what === "end" && id) open.delete(id);
  }
  return [...open];
}

describe("the SQLite writer thread", () => {
  const backend = sqliteBackend();
  after(() => backend.cleanup());

  test(`kill -9 while a batch is syncing, ${CYCLES} times: /healthz answers during the sync, every acknowledged operation survives (seed ${SEED})`, async (t) => {
    t.diagnostic(`seed ${SEED} (replay with UC_CRASH_SEED=${SEED})`);
    const random = rng(SEED);
    const db = await backend.createDatabase();
    const marker = `${db.slice("sqlite:".length)}.commits`;
    const env = { UC_TEST_SLOW_COMMIT: marker, UC_TEST_SLOW_COMMIT_MS: "1000" };
    const start = () => spawnServer(db, { env, nodeArgs: ["--import", PRELOAD] });
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("writer thread")).secret);
    let server: ServerProcess = await start();
    try {
      const tenants = await setupTenants(server.url, platformKey, 4, { credits: 1_000 * USD });
      const load = new MixedLoad(tenants, random, { concurrency: 12, ttlSeconds: 3600, keyPrefix: `writer-${SEED}`, purchaseShare: 0.02 });
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const stop = new AbortController();
        const running = load.run(server.url, stop.signal);
        // Let some operations be acknowledged at full speed, then make COMMITs slow.
        await new Promise((r) => setTimeout(r, 300 + Math.floor(random() * 500)));
        writeFileSync(`${marker}.on`, "");
        let open: string[] = [];
        for (let i = 0; i < 500 && open.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 10));
          open = syncing(marker);
        }
        assert.ok(open.length > 0, `cycle ${cycle}: a batch is syncing`);
        const health = await fetch(`${server.url}/healthz`);
        assert.equal(health.status, 200);
        const stillSyncing = syncing(marker).filter((id) => open.includes(id));
        assert.ok(stillSyncing.length > 0, `cycle ${cycle}: /healthz was answered while COMMIT ${open.join(", ")} was still syncing`);
        const ackedBefore = load.counts.acknowledged;
        await server.kill9();
        rmSync(`${marker}.on`);
        stop.abort();
        await running;
        assert.ok(ackedBefore > 0, `cycle ${cycle}: operations were acknowledged before the kill`);
        server = await start();
      }
      const c = load.counts;
      t.diagnostic(`sent ${c.sent}, acknowledged ${c.acknowledged}, cut ${c.cut}, 5xx ${c.serverErrors}`);
      assert.equal(c.serverErrors, 0, "no 5xx");
      const { lost, doubleApplied } = await checkAcknowledged(server.url, load.acks, tenants);
      assert.deepEqual(lost, [], "every acknowledged operation is present");
      assert.deepEqual(doubleApplied, [], "no acknowledged operation was applied again");
      const verify = await fetch(`${server.url}/v1/ledger/verify`, { headers: { "x-api-key": platformKey } });
      const v = (await verify.json()) as { ok: boolean; violations: unknown[] };
      assert.deepEqual(v.violations, [], "ledger verify after the kills");
    } finally {
      await server.stop();
    }
  });
});
