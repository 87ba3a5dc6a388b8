// Database faults, with the real server process under mixed load:
//   - PostgreSQL (a private cluster, never the shared one) crashes (pg_ctl stop -m immediate) and is
//     shut down (-m fast) under load: while it is down every request is answered promptly with
//     503 service_unavailable and retry-after (no 500, no hang); when it is back the same server
//     process serves again, without a restart; nothing acknowledged is lost, nothing half-written.
//   - SQLite on a disk that fills up under load (a small tmpfs, or a file-size limit where mounting
//     is not allowed): 507 storage_full with retry-after, never a 500, reads still served; with space
//     freed the same process writes again. A read-only database (a read-only bind mount, or file
//     modes): the server refuses to start with a clear message and writes nothing. Afterwards
//     PRAGMA integrity_check is ok, the ledger verifies and every acknowledged operation is present.
//     (A file system cannot be made read-only under a process that has files open on it for
//     writing: Linux refuses the remount, so the read-only case is the start.)

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { checkAcknowledged, checkPayments, eventually, MixedLoad, rng, setupTenants, type Tenant } from "./support/mixed-load.js";
import { startPrivatePostgres, type PrivatePostgres } from "./support/private-postgres.js";
import { prepareDatabase, spawnServer, type ServerProcess } from "./support/server-process.js";

type Json = Record<string, unknown>;
const USD = 1_000_000;
const ENV = { USAGE_CREDITS_SWEEP_SECONDS: "1", USAGE_CREDITS_DAILY_PURCHASE_CAP_USD: "1000000", USAGE_CREDITS_PURCHASE_MAX_USD: "1000000" };
/** No request may hang while the database is away: each must be answered within this bound. */
const ANSWER_WITHIN_MS = 15_000;

async function probe(url: string, method: string, path: string, key: string | null, body?: unknown): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(key ? { "x-api-key": key } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

const errorCode = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];

async function ledgerOk(url: string, platformKey: string): Promise<void> {
  const v = await probe(url, "GET", "/v1/ledger/verify", platformKey);
  assert.deepEqual(v.body["violations"], [], "ledger verify");
  assert.equal(v.body["ok"], true);
}

describe("PostgreSQL restarted under load", () => {
  let pg: PrivatePostgres;
  let server: ServerProcess | undefined;
  before(async () => {
    pg = await startPrivatePostgres();
  });
  after(async () => {
    await server?.stop();
    await pg.destroy();
  });

  test("while it is down: 503 service_unavailable with retry-after, promptly; back up: the same server process recovers; nothing lost or half-written", async (t) => {
    const platformKey = await prepareDatabase(pg.url, async (app) => (await app.services.admin.createPlatformKey("db faults")).secret);
    server = await spawnServer(pg.url, { env: ENV });
    const url = server.url;
    const pid = server.child.pid;
    const tenants = await setupTenants(url, platformKey, 2, { credits: 100 * USD, autoReload: { threshold: 50 * USD, amount: 20 * USD } });
    const tenant = tenants[0] as Tenant;
    const load = new MixedLoad(tenants, rng(8), { concurrency: 6, ttlSeconds: 60, keyPrefix: "pgrestart" });
    const stop = new AbortController();
    const running = load.run(url, stop.signal);
    try {
      for (const mode of ["immediate", "fast"] as const) {
        const ackedBefore = load.counts.acknowledged;
        await eventually(async () => load.counts.acknowledged, (n) => n > ackedBefore + 50, 20_000, 50);
        await pg.stop(mode);
        // While it is down: what the load sees, and what a client probing sees.
        const down = [
          await probe(url, "POST", `/v1/organizations/${tenant.orgId}/authorize`, tenant.key, { model: "claude-haiku-4-5", amount: "10000" }),
          await probe(url, "GET", `/v1/organizations/${tenant.orgId}/usage_summary`, tenant.key),
          await probe(url, "POST", `/v1/organizations/${tenant.orgId}/purchases`, tenant.key, { amount: String(5 * USD), payment_method_id: tenant.card }),
          await probe(url, "GET", "/readyz", null),
        ];
        for (const r of down) {
          assert.equal(r.status, 503, `${mode} stop: ${JSON.stringify(r.body)}`);
          assert.equal(errorCode(r), "service_unavailable");
          assert.match(String((r.body["error"] as Json)["message"]), /database is unavailable/i);
          assert.ok(Number(r.headers.get("retry-after")) >= 1, "retry-after tells the client when to come back");
        }
        const unavailableBefore = load.counts.unavailable;
        await eventually(async () => load.counts.unavailable, (n) => n > unavailableBefore + 5, 10_000, 50);
        await pg.start();
        // The same process serves again (the pool reconnects): no restart.
        const ready = await eventually(() => probe(url, "GET", "/readyz", null), (r) => r.status === 200, 20_000);
        assert.equal(ready.status, 200, `ready again after the ${mode} stop: ${JSON.stringify(ready.body)}`);
        const again = await probe(url, "POST", `/v1/organizations/${tenant.orgId}/authorize`, tenant.key, { model: "claude-haiku-4-5", amount: "10000" });
        assert.equal(again.status, 201, JSON.stringify(again.body));
        assert.equal(server.child.pid, pid);
        assert.equal(server.child.exitCode, null, "the server never exited");
      }
    } finally {
      stop.abort();
      await running;
    }
    const c = load.counts;
    t.diagnostic(`faults injected: 2 database stops; sent ${c.sent}, acknowledged ${c.acknowledged}, 503 while down ${c.unavailable}, other 5xx ${c.serverErrors}`);
    assert.deepEqual(load.unexpected, [], `no 5xx other than 503 service_unavailable; the server logged:\n${server.output.filter((l) => l.includes("unhandled")).slice(0, 3).join("\n")}`);
    const payments = await eventually(() => checkPayments(pg.url, load.acks), (p) => p.pending === 0, 20_000);
    assert.equal(payments.pending, 0);
    assert.deepEqual([...payments.doubleGranted, ...payments.lostSuccesses], []);
    const { lost, doubleApplied } = await checkAcknowledged(url, load.acks, tenants);
    assert.deepEqual(lost, [], "every acknowledged operation survived the database restarts");
    assert.deepEqual(doubleApplied, []);
    await ledgerOk(url, platformKey);
  });
});

// ------------------------------------------------------------------ SQLite: full disk, read-only

const sh = promisify(execFile);
/**
 * Mounting needs root (CAP_SYS_ADMIN); without it the suite falls back to a file-size limit and
 * chmod. UC_TEST_NO_MOUNT=1 forces the fallback (to test it as root, where chmod does not bind).
 */
async function tryMount(args: string[]): Promise<boolean> {
  if (process.env["UC_TEST_NO_MOUNT"] === "1") return false;
  try {
    await sh("mount", args);
    return true;
  } catch {
    return false;
  }
}

/** Writes `file` until the file system is full (ENOSPC). */
function fillUp(file: string): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return String(db.pragma("integrity_check", { simple: true }));
  } finally {
    db.close();
  }
}

describe("SQLite on a full disk and on a read-only file system", () => {
  const dirs: string[] = [];
  const mounts: string[] = [];
  after(async () => {
    for (const m of mounts.reverse()) await sh("umount", ["-l", m]).catch(() => undefined);
    for (const d of dirs) {
      chmodSync(d, 0o755);
      rmSync(d, { recursive: true, force: true });
    }
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "uc-disk-"));
    dirs.push(d);
    return d;
  };

  test("disk full under load: 507 storage_full with retry-after, never a 500, reads still served; space freed: writes resume without a restart; integrity ok, nothing acknowledged lost", async (t) => {
    const dir = tempDir();
    const tmpfs = await tryMount(["-t", "tmpfs", "-o", "size=24m", "tmpfs", dir]);
    if (tmpfs) mounts.push(dir);
    const file = join(dir, "uc.db");
    const db = `sqlite:${file}`;
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("disk full")).secret);
    // Without a tmpfs: a file-size limit on the server process (SIGXFSZ ignored, so a write past it fails with EFBIG).
    const limitKb = Math.ceil(statSync(file).size / 1024) + 4096;
    let server = await spawnServer(db, { env: ENV, ...(tmpfs ? {} : { shellPrefix: `trap '' XFSZ; ulimit -f ${limitKb}` }) });
    const tenants = await setupTenants(server.url, platformKey, 2, { credits: 1000 * USD });
    const tenant = tenants[0] as Tenant;
    const load = new MixedLoad(tenants, rng(11), { concurrency: 6, ttlSeconds: 60, keyPrefix: "diskfull" });
    const stop = new AbortController();
    const running = load.run(server.url, stop.signal);
    const filler = join(dir, "filler");
    try {
      await eventually(async () => load.counts.acknowledged, (n) => n > 100, 20_000, 50);
      if (tmpfs) fillUp(filler);
      const full = await eventually(async () => load.counts.unavailable, (n) => n > 20, 30_000, 50);
      assert.ok(full > 20, `writes refused as the disk filled (${full})`);
      const w = await probe(server.url, "POST", `/v1/organizations/${tenant.orgId}/authorize`, tenant.key, { model: "claude-haiku-4-5", amount: "10000" });
      if (tmpfs) {
        assert.equal(w.status, 507, JSON.stringify(w.body));
        assert.equal(errorCode(w), "storage_full");
        assert.match(String((w.body["error"] as Json)["message"]), /disk is full/);
      } else {
        // A file-size limit fails writes with EFBIG, which SQLite reports as an I/O error, not as a full disk.
        assert.ok((w.status === 507 && errorCode(w) === "storage_full") || (w.status === 503 && errorCode(w) === "service_unavailable"), JSON.stringify(w.body));
      }
      assert.ok(Number(w.headers.get("retry-after")) >= 1);
      const r = await probe(server.url, "GET", `/v1/organizations/${tenant.orgId}/usage_summary`, tenant.key);
      assert.equal(r.status, 200, "reads are still served on a full disk");
      if (tmpfs) {
        // Space freed: the same process writes again.
        rmSync(filler);
        const again = await eventually(() => probe(server.url, "POST", `/v1/organizations/${tenant.orgId}/authorize`, tenant.key, { model: "claude-haiku-4-5", amount: "10000" }), (x) => x.status === 201, 20_000);
        assert.equal(again.status, 201, JSON.stringify(again.body));
      }
    } finally {
      stop.abort();
      await running;
      await server.stop();
    }
    const c = load.counts;
    t.diagnostic(`${tmpfs ? "tmpfs" : "file-size limit"}: sent ${c.sent}, acknowledged ${c.acknowledged}, 507 while full ${c.unavailable}, other 5xx ${c.serverErrors}`);
    assert.deepEqual(load.unexpected, [], "never a 500 on a full disk");
    rmSync(filler, { force: true });
    assert.equal(integrity(file), "ok", "PRAGMA integrity_check");
    server = await spawnServer(db, { env: ENV });
    try {
      const { lost, doubleApplied } = await checkAcknowledged(server.url, load.acks, tenants);
      assert.deepEqual(lost, [], "every acknowledged write survived the full disk");
      assert.deepEqual(doubleApplied, []);
      await ledgerOk(server.url, platformKey);
    } finally {
      await server.stop();
    }
  });

  test("read-only database: the server refuses to start with a clear message and changes nothing; writable again, everything acknowledged is there", async () => {
    const dir = tempDir();
    const file = join(dir, "uc.db");
    const db = `sqlite:${file}`;
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("read-only")).secret);
    let server = await spawnServer(db, { env: ENV });
    const tenants = await setupTenants(server.url, platformKey, 1, { credits: 100 * USD });
    const load = new MixedLoad(tenants, rng(12), { concurrency: 4, ttlSeconds: 600, keyPrefix: "readonly" });
    const stop = new AbortController();
    const running = load.run(server.url, stop.signal);
    await eventually(async () => load.counts.acknowledged, (n) => n > 50, 20_000, 50);
    stop.abort();
    await running;
    await server.stop();
    const before = readFileSync(file);

    // Read-only: the file system (a read-only bind mount), or without mounting rights the file and directory modes.
    const bound = (await tryMount(["--bind", dir, dir])) && (await tryMount(["-o", "remount,ro,bind", dir]));
    if (bound) mounts.push(dir);
    else {
      chmodSync(file, 0o444);
      chmodSync(dir, 0o555);
    }
    await assert.rejects(spawnServer(db, { env: ENV }), (err: Error) => {
      assert.match(err.message, /server exited before listening \(1\)/);
      assert.match(err.message, /cannot open SQLite database .*uc\.db/);
      assert.match(err.message, /read-only\?/);
      assert.doesNotMatch(err.message, /\n\s+at /, "a message, not a stack trace");
      return true;
    });
    if (bound) {
      await sh("umount", [dir]);
      mounts.pop();
    } else {
      chmodSync(dir, 0o755);
      chmodSync(file, 0o644);
    }
    assert.deepEqual(readFileSync(file), before, "the refused start wrote nothing");
    assert.equal(integrity(file), "ok");
    server = await spawnServer(db, { env: ENV });
    try {
      const { lost, doubleApplied } = await checkAcknowledged(server.url, load.acks, tenants);
      assert.deepEqual([...lost, ...doubleApplied], []);
      await ledgerOk(server.url, platformKey);
    } finally {
      await server.stop();
    }
  });
});
