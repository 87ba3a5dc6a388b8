// Nothing scans on the event loop, and analytics cost does not grow with request count (issue 16):
// a large organization (300,000 usage records over 90 days, 3 models × 4 surfaces × 5 members × 2
// speeds, written straight into the SQLite file and rolled up by migration 12's own backfill
// statement). Its 90-day breakdown comes from the rollups and equals the records' sums, and while
// breakdowns run back to back the server's event loop keeps answering /healthz: its delay p99
// stays within 5 ms (a stall would show as the breakdown's whole duration). On a loaded machine
// idle and busy windows alternate and the bound is 5 ms or, where the idle windows were already
// slower than that, twice their median (building and serializing the ~10,000 cells on the event
// loop measured 3.6× idle under load; the scan on the main thread stalled it ~0.8 s). /healthz's
// round trip is reported; `npm run bench` has the quieter machine's figure.

import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { after, describe, test } from "node:test";
import { usageDailyBackfill } from "../src/adapters/store/usage-rollup-sql.js";
import { sqliteBackend } from "./support/backends.js";
import { setupTenants } from "./support/mixed-load.js";
import { prepareDatabase, spawnServer } from "./support/server-process.js";

const RECORDS = 300_000;
const DAY_MS = 86_400_000;

describe("the event loop while a large breakdown runs", () => {
  const backend = sqliteBackend();
  after(() => backend.cleanup());

  test(`a 90-day breakdown over ${RECORDS.toLocaleString("en-US")} usage records comes from the rollups, equals their sums, and /healthz stays within 5 ms while breakdowns run back to back`, async (t) => {
    const db = await backend.createDatabase();
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("event loop")).secret);
    const env = { USAGE_CREDITS_METRICS_PUBLIC: "true" };
    let server = await spawnServer(db, { env });
    try {
      const [tenant] = await setupTenants(server.url, platformKey, 1, { credits: 1_000_000 });
      assert.ok(tenant);
      // The records are written with the server stopped: the insert blocks this process for
      // seconds, long enough for the server to close our idle keep-alive connections unnoticed.
      await server.stop();
      const file = new Database(db.slice("sqlite:".length));
      file.pragma("busy_timeout = 10000");
      const ins = file.prepare(
        "INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, input_tokens, output_tokens, at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 'credits', ?, ?, 10, 1, ?)",
      );
      const now = Date.now();
      const models = ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-6"];
      const surfaces = ["interactive", "sdk", "cli_headless", "ci"];
      file.transaction(() => {
        for (let i = 0; i < RECORDS; i++) {
          const at = now - 89 * DAY_MS + Math.floor((i / RECORDS) * 89 * DAY_MS);
          ins.run(`usage_el_${i}`, tenant.orgId, `member_el_${i % 5}`, `hold_el_${i}`, surfaces[i % 4], models[i % 3], i % 7 ? "standard" : "fast", 1000, 1000, at);
        }
        file.prepare(usageDailyBackfill("WHERE org_id = ?")).run(tenant.orgId);
      })();
      file.close();
      server = await spawnServer(db, { env });

      await (await fetch(`${server.url}/metrics`)).text(); // opens the event-loop window
      const key = { "x-api-key": tenant.key };
      const probe = async (ms: number): Promise<number[]> => {
        const times: number[] = [];
        const until = performance.now() + ms;
        while (performance.now() < until) {
          const t0 = performance.now();
          const h = await fetch(`${server.url}/healthz`);
          await h.text();
          assert.equal(h.status, 200);
          times.push(performance.now() - t0);
        }
        return times;
      };
      const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? 0;
      const loopP99 = async () => Number(/usage_credits_event_loop_delay_seconds\{quantile="0.99"\} (\S+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]) * 1000;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

      // Windows of 600 ms alternate: idle, then breakdowns back to back. A shared machine's load
      // drifts by the second, so each busy window is compared with the idle ones around it: the
      // medians over the windows of /healthz's p99 and of the server's own event-loop delay p99
      // (/metrics reports it since the previous scrape, taken at each window's edge).
      type Breakdown = { totals: { requests: number; cost: string; input_tokens: number } };
      let first: Breakdown | undefined;
      const breakdownMs: number[] = [];
      const window = async (busy: boolean): Promise<{ healthz: number; loop: number }> => {
        await loopP99();
        let running = busy;
        const load = (async () => {
          while (running) {
            const t0 = performance.now();
            const r = await fetch(`${server.url}/v1/organizations/${tenant.orgId}/usage/breakdown?days=90`, { headers: key });
            // Only the first answer is parsed: parsing 2 MB of JSON here would stall this process's
            // own /healthz probes and be counted against the server.
            const text = first ? (await r.arrayBuffer(), "") : await r.text();
            assert.equal(r.status, 200, text);
            breakdownMs.push(performance.now() - t0);
            first ??= JSON.parse(text) as Breakdown;
          }
        })();
        const healthz = p99(await probe(600));
        running = false;
        await load;
        return { healthz, loop: await loopP99() };
      };
      const idle: Array<{ healthz: number; loop: number }> = [];
      const busy: Array<{ healthz: number; loop: number }> = [];
      for (let i = 0; i < 6; i++) {
        idle.push(await window(false));
        busy.push(await window(true));
      }
      const b = first;
      assert.ok(b);
      assert.equal(b.totals.requests, RECORDS, "the breakdown counted every record");
      assert.equal(b.totals.cost, String(RECORDS * 1000), "and summed them exactly");
      assert.equal(b.totals.input_tokens, RECORDS * 10);
      const f = (x: number) => x.toFixed(2);
      const [hIdle, hBusy] = [median(idle.map((w) => w.healthz)), median(busy.map((w) => w.healthz))];
      const [lIdle, lBusy] = [median(idle.map((w) => w.loop)), median(busy.map((w) => w.loop))];
      t.diagnostic(
        `${breakdownMs.length} breakdowns (median ${f(median(breakdownMs))} ms); /healthz p99 ${f(hBusy)} ms while they ran (idle ${f(hIdle)} ms); server event-loop delay p99 ${f(lBusy)} ms (idle ${f(lIdle)} ms); medians over 6 windows each`,
      );
      assert.ok(breakdownMs.length >= 6, "breakdowns ran while /healthz was probed");
      // The server's own event-loop delay: 5 ms, or on a loaded machine (the idle windows already
      // slower than that) twice the idle figure. /healthz's round trip is reported, not asserted: on
      // two shared cores it also carries this process's and the read thread's competition for CPU.
      assert.ok(lBusy <= Math.max(5, 2 * lIdle), `server event-loop delay p99 ${f(lBusy)} ms while breakdowns ran (idle ${f(lIdle)} ms)`);
    } finally {
      await server.stop();
    }
  });
});
