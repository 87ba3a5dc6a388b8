// Database faults, with the real server process under mixed load:
//   - PostgreSQL (a private cluster, never the shared one) crashes (pg_ctl stop -m immediate) and is
//     shut down (-m fast) under load: while it is down every request is answered promptly with
//     503 service_unavailable and retry-after (no 500, no hang); when it is back the same server
//     process serves again, without a restart; nothing acknowledged is lost, nothing half-written.
//   - SQLite on a full disk (a tiny tmpfs, or a file-size limit where mounting is not allowed) and
//     on a file system that turns read-only under load: 507 storage_full / 503 service_unavailable,
//     never a 500; afterwards PRAGMA integrity_check is ok, the ledger verifies and every
//     acknowledged operation is present.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
    assert.equal(c.serverErrors, 0, "no 5xx other than 503 service_unavailable");
    const payments = await eventually(() => checkPayments(pg.url, load.acks), (p) => p.pending === 0, 20_000);
    assert.equal(payments.pending, 0);
    assert.deepEqual([...payments.doubleGranted, ...payments.lostSuccesses], []);
    const { lost, doubleApplied } = await checkAcknowledged(url, load.acks, tenants);
    assert.deepEqual(lost, [], "every acknowledged operation survived the database restarts");
    assert.deepEqual(doubleApplied, []);
    await ledgerOk(url, platformKey);
  });
});
