// Backups under load, restored into a fresh place: SQLite with `usage-credits backup` into a new
// data folder, PostgreSQL with pg_dump / pg_restore into a new database. The restored database
// passes `ledger verify`, and every idempotent request acknowledged before the backup's point in
// time is answered from its record when replayed with its Idempotency-Key against a server on the
// restored database (the same hold, the same charge, the same payment; nothing done twice).
//
// The point in time: for `usage-credits backup`, the `point_at` it reports (the copy is made under
// the write lock, so that is when it completes); for pg_dump, the moment it was started (its
// snapshot is taken as it begins; what is committed while it runs is not in the dump).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { checkAcknowledged, MixedLoad, rng, setupTenants } from "./support/mixed-load.js";
import { MAIN, prepareDatabase, spawnServer, type ServerProcess } from "./support/server-process.js";

const USD = 1_000_000;
const SEED = Number(process.env["UC_BACKUP_SEED"] ?? Date.now() % 1_000_000);
const ENV = { USAGE_CREDITS_DAILY_PURCHASE_CAP_USD: "1000000", USAGE_CREDITS_PURCHASE_MAX_USD: "1000000" };

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, USAGE_CREDITS_LOG: "error" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ledgerVerify(db: string): Promise<{ ok: boolean; transactions: number; violations: unknown[] }> {
  const r = await run(process.execPath, [MAIN, "ledger", "verify", "--database", db, "--json"]);
  assert.equal(r.code, 0, `ledger verify failed:\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as { ok: boolean; transactions: number; violations: unknown[] };
}

for (const backend of backends()) {
  describe(`backup and restore under load on ${backend.name}`, () => {
    const dirs: string[] = [];
    after(async () => {
      await backend.cleanup();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    test(`a backup taken under load, restored fresh, passes ledger verify and answers every acknowledged request from its record (seed ${SEED})`, async (t) => {
      const db = await backend.createDatabase();
      const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("backup suite")).secret);
      let server: ServerProcess | undefined = await spawnServer(db, { env: ENV });
      let restoredServer: ServerProcess | undefined;
      const work = mkdtempSync(join(tmpdir(), "uc-backup-"));
      dirs.push(work);
      try {
        const tenants = await setupTenants(server.url, platformKey, 3, { credits: 1000 * USD });
        const load = new MixedLoad(tenants, rng(SEED + (backend.name === "postgres" ? 1 : 0)), { concurrency: 8, ttlSeconds: 3600, keyPrefix: `backup-${SEED}-${backend.name}`, purchaseShare: 0.05 });
        const stop = new AbortController();
        const running = load.run(server.url, stop.signal);
        // Enough acknowledged before the backup: holds, settles and purchases (however slow the machine).
        const ready = () => load.acks.length >= 100 && load.acks.some((a) => a.op === "settle") && load.acks.some((a) => a.op === "purchase");
        for (let waited = 0; !ready() && waited < 60_000; waited += 100) await sleep(100);

        // The backup, while the load runs.
        let point: number;
        let restored: string;
        if (backend.name === "sqlite") {
          const folder = join(work, "restored-data");
          const target = join(folder, "usage-credits.db");
          mkdirSync(folder);
          const r = await run(process.execPath, [MAIN, "backup", "--database", db, "--to", target, "--json"]);
          assert.equal(r.code, 0, `backup failed:\n${r.stdout}${r.stderr}`);
          const out = JSON.parse(r.stdout) as { point_at: string; bytes: number; pause_ms: number; schema_version: number };
          point = Date.parse(out.point_at);
          t.diagnostic(`usage-credits backup: ${out.bytes} bytes, schema ${out.schema_version}, writes waited ${out.pause_ms} ms`);
          assert.ok(!existsSync(`${target}-wal`), "the backup is one self-contained file");
          assert.equal(statSync(target).size, out.bytes);
          restored = `sqlite:${target}`;
        } else {
          const dump = join(work, "usage-credits.dump");
          point = Date.now(); // pg_dump's snapshot is taken after this
          const r = await run("pg_dump", ["--format=custom", "--file", dump, "--dbname", db.replace(/^postgres:/, "postgresql:")]);
          assert.equal(r.code, 0, `pg_dump failed:\n${r.stderr}`);
          restored = await backend.createDatabase(); // a new, empty database
          const rr = await run("pg_restore", ["--no-owner", "--exit-on-error", "--dbname", restored.replace(/^postgres:/, "postgresql:"), dump]);
          assert.equal(rr.code, 0, `pg_restore failed:\n${rr.stderr}`);
        }
        // And the load goes on after it.
        const atBackup = load.acks.length;
        for (let waited = 0; load.acks.length < atBackup + 20 && waited < 60_000; waited += 100) await sleep(100);
        stop.abort();
        await running;
        await server.stop();
        server = undefined;

        const before = load.acks.filter((a) => a.at < point);
        const afterPoint = load.acks.length - before.length;
        t.diagnostic(`sent ${load.counts.sent}, acknowledged ${load.acks.length}: ${before.length} before the backup's point, ${afterPoint} after`);
        assert.equal(load.counts.serverErrors, 0, `no 5xx under load: ${load.unexpected.join("\n")}`);
        assert.ok(before.length >= 100 && afterPoint > 0, "the backup was taken under load");
        assert.ok(before.some((a) => a.op === "settle") && before.some((a) => a.op === "purchase"), "settles and purchases before the backup");

        const v1 = await ledgerVerify(restored);
        assert.deepEqual(v1.violations, [], "ledger verify on the restored database");
        restoredServer = await spawnServer(restored, { env: ENV });
        const { lost, doubleApplied } = await checkAcknowledged(restoredServer.url, before, tenants);
        t.diagnostic(`replayed ${before.length} acknowledged requests on the restored server: lost ${lost.length}, applied again ${doubleApplied.length}`);
        assert.deepEqual(lost, [], "every request acknowledged before the backup is in it");
        assert.deepEqual(doubleApplied, [], "each is answered from its record, not done again");
        await restoredServer.stop();
        restoredServer = undefined;
        const v2 = await ledgerVerify(restored);
        assert.equal(v2.ok, true);
        assert.equal(v2.transactions, v1.transactions, "the replays wrote nothing to the ledger");
      } finally {
        await server?.stop();
        await restoredServer?.stop();
      }
    });
  });
}
