// Crash safety: the real server process under mixed load (authorize / settle / release, purchases
// through the sandbox with good, timing-out and declined cards, auto-reload triggered by the settles)
// is killed with SIGKILL at random moments (a seeded RNG; the seed is printed, UC_CRASH_SEED replays
// it), restarted, and loaded again, for several cycles, on SQLite and on PostgreSQL. Afterwards:
//   - the ledger verifies;
//   - every acknowledged operation is present: its replay with the same Idempotency-Key is answered
//     from the record (same hold, same charge, same payment), never done again;
//   - every payment is granted at most once, every success exactly once (none left pending);
//   - no hold is still pending past its time to live (the sweep runs after the restarts).
// The legacy importer (a CLI process on the same database) is killed with SIGKILL as soon as its
// first batch of accounts has committed, then run again: every account ends up imported exactly
// once, the reconciliation shows zero differences, a third run changes nothing, the ledger verifies.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { generateLegacyExport } from "../bench/legacy-export.js";
import { backends } from "./support/backends.js";
import { checkAcknowledged, checkPayments, eventually, MixedLoad, overdueHolds, rng, setupTenants, sql } from "./support/mixed-load.js";
import { prepareDatabase, spawnServer, type ServerProcess } from "./support/server-process.js";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));
const IMPORT_ACCOUNTS = 2_000;

/** The CLI on `db`; resolves with its exit code and stdout, or is killed by `kill` once it resolves true. */
function importCli(db: string, file: string, kill?: () => Promise<boolean>): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "import", "extra-usage", file, "--database", db, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (kill) {
      void (async () => {
        while (child.exitCode === null && !(await kill())) await new Promise((r) => setTimeout(r, 10));
        child.kill("SIGKILL");
      })();
    }
  });
}

const SEED = Number(process.env["UC_CRASH_SEED"] ?? Date.now() % 1_000_000);
const CYCLES = 4;
const MIN_ACKS_PER_CYCLE = 150;
const TTL_SECONDS = 2;
const SWEEP_SECONDS = 1;
const USD = 1_000_000;
const ENV = {
  USAGE_CREDITS_SWEEP_SECONDS: String(SWEEP_SECONDS),
  USAGE_CREDITS_DAILY_PURCHASE_CAP_USD: "1000000",
  USAGE_CREDITS_PURCHASE_MAX_USD: "1000000",
};

for (const backend of backends()) {
  describe(`crash safety on ${backend.name}`, () => {
    after(() => backend.cleanup());

    test(`kill -9 under mixed load, ${CYCLES} times: nothing acknowledged is lost, nothing applied twice, no hold outlives its TTL (seed ${SEED})`, async (t) => {
      t.diagnostic(`seed ${SEED} (replay with UC_CRASH_SEED=${SEED})`);
      const random = rng(SEED + (backend.name === "postgres" ? 1 : 0));
      const db = await backend.createDatabase();
      const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("crash suite")).secret);
      let server: ServerProcess = await spawnServer(db, { env: ENV });
      try {
        // Credits just above the reload threshold, and purchases rare enough that spending wins: the
        // first settles of every organization trigger auto-reloads, which the kills then interrupt.
        const tenants = await setupTenants(server.url, platformKey, 4, { credits: 25 * USD, autoReload: { threshold: 20 * USD, amount: 5 * USD } });
        const load = new MixedLoad(tenants, random, { concurrency: 12, ttlSeconds: TTL_SECONDS, keyPrefix: `crash-${SEED}-${backend.name}`, purchaseShare: 0.02 });
        for (let cycle = 0; cycle < CYCLES; cycle++) {
          const stop = new AbortController();
          const running = load.run(server.url, stop.signal);
          // Enough work first (on a loaded 2-core machine a fixed 0.7 s–2.5 s left PostgreSQL with a
          // few dozen operations, no settle and no purchase, and the checks below had nothing to
          // check), then a random moment: some requests are mid-batch, mid-charge or mid-reply when the kill lands.
          const cycleStart = load.counts.acknowledged;
          for (let waited = 0; load.counts.acknowledged - cycleStart < MIN_ACKS_PER_CYCLE && waited < 60_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
          await new Promise((r) => setTimeout(r, 700 + Math.floor(random() * 1800)));
          const ackedBefore = load.counts.acknowledged;
          await server.kill9();
          stop.abort();
          await running;
          assert.ok(ackedBefore > 0, `cycle ${cycle}: the load was acknowledged before the kill`);
          server = await spawnServer(db, { env: ENV });
        }
        const c = load.counts;
        t.diagnostic(`faults injected: ${CYCLES} kill -9, ${c.paymentFaults} payment faults; sent ${c.sent}, acknowledged ${c.acknowledged}, refused ${c.refused}, cut ${c.cut}, 5xx ${c.serverErrors}`);
        assert.equal(c.serverErrors, 0, "no 5xx under load");

        // After the last restart: the poller resolves payments left pending, the sweep expires holds.
        const payments = await eventually(() => checkPayments(db, load.acks), (p) => p.pending === 0, 20_000);
        assert.equal(payments.pending, 0, "every payment resolved after the restarts (no lost success)");
        const overdue = await eventually(() => overdueHolds(db, Date.now(), 3 * SWEEP_SECONDS * 1000), (o) => o.length === 0, 20_000);
        assert.deepEqual(overdue, [], "no hold pending past its time to live");

        const { lost, doubleApplied } = await checkAcknowledged(server.url, load.acks, tenants);
        const reloads = await sql(db, "SELECT count(*) AS n FROM payments WHERE purpose = 'auto_reload' AND status = 'succeeded'");
        t.diagnostic(`acknowledged ${load.acks.length}: lost ${lost.length}, double-applied ${doubleApplied.length + payments.doubleGranted.length}; payments ${payments.payments} (${payments.succeeded} succeeded, ${String(reloads[0]?.["n"])} auto-reloads)`);
        assert.deepEqual(lost, [], "every acknowledged operation is present");
        assert.deepEqual(doubleApplied, [], "no acknowledged operation was applied again");
        assert.deepEqual(payments.doubleGranted, [], "no payment granted twice");
        assert.deepEqual(payments.lostSuccesses, [], "no successful payment lost");
        assert.ok(load.acks.some((a) => a.op === "settle") && load.acks.some((a) => a.op === "purchase"), "the load settled and purchased");
        assert.ok(Number(reloads[0]?.["n"]) > 0, "the settles triggered auto-reloads");

        const verify = await fetch(`${server.url}/v1/ledger/verify`, { headers: { "x-api-key": platformKey } });
        const v = (await verify.json()) as { ok: boolean; violations: unknown[] };
        assert.deepEqual(v.violations, [], "ledger verify after the crashes");
        assert.equal(v.ok, true);
      } finally {
        await server.stop();
      }
    });

    test(`the importer killed -9 after its first committed batch, run again: every account exactly once, zero differences`, async (t) => {
      const db = await backend.createDatabase();
      await prepareDatabase(db, async () => undefined);
      const dir = mkdtempSync(join(tmpdir(), "uc-import-crash-"));
      try {
        const file = join(dir, "export.jsonl");
        writeFileSync(file, `${generateLegacyExport({ accounts: IMPORT_ACCOUNTS, now: Date.now(), format: "jsonl", idPrefix: "crash" }).join("\n")}\n`);
        const imported = async () => Number((await sql(db, "SELECT count(*) AS n FROM legacy_imports"))[0]?.["n"]);
        const orgs = async () => Number((await sql(db, "SELECT count(*) AS n FROM organizations"))[0]?.["n"]);
        const orgsBefore = await orgs();

        const killed = await importCli(db, file, async () => (await imported()) > 0);
        const atKill = await imported();
        t.diagnostic(`killed with ${atKill} of ${IMPORT_ACCOUNTS} accounts committed`);
        assert.equal(killed.signal, "SIGKILL", `the import was cut mid-run:\n${killed.stdout}${killed.stderr}`);
        assert.ok(atKill > 0 && atKill < IMPORT_ACCOUNTS, `the kill landed mid-import (${atKill} committed)`);
        assert.equal((await orgs()) - orgsBefore, atKill, "an account is all or nothing: no organization without its import record");

        const rerun = await importCli(db, file);
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        const r = JSON.parse(rerun.stdout) as Record<string, number>;
        assert.deepEqual([r["imported"], r["unchanged"], r["rejected"], r["conflicts"], r["failed"], r["differences"]], [IMPORT_ACCOUNTS - atKill, atKill, 0, 0, 0, 0]);
        assert.equal((await orgs()) - orgsBefore, IMPORT_ACCOUNTS, "every account exactly once");

        const third = JSON.parse((await importCli(db, file)).stdout) as Record<string, number>;
        assert.deepEqual([third["imported"], third["unchanged"], third["differences"]], [0, IMPORT_ACCOUNTS, 0], "a third run changes nothing");
        const verify = await prepareDatabase(db, (app) => app.services.admin.verify());
        assert.deepEqual(verify.violations, [], "ledger verify after the killed import");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
