// Nothing scans on the event loop (issue 16): a 90-day usage breakdown of a large organization
// (300,000 usage records, written straight into the SQLite file) runs on a read thread, so the
// server keeps answering /healthz while it runs. Asserted by order, not by time: /healthz answers
// arrive, one after another, while the breakdown's answer is still outstanding (with the
// connection on the main thread, the scan held the event loop and none could). The event-loop
// delay the server measured meanwhile (/metrics) is reported; the bench holds the real figures.

import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { after, describe, test } from "node:test";
import { sqliteBackend } from "./support/backends.js";
import { setupTenants } from "./support/mixed-load.js";
import { prepareDatabase, spawnServer } from "./support/server-process.js";

const RECORDS = 300_000;
const DAY_MS = 86_400_000;

describe("the event loop while a large breakdown runs", () => {
  const backend = sqliteBackend();
  after(() => backend.cleanup());

  test(`/healthz is answered while a 90-day breakdown over ${RECORDS.toLocaleString("en-US")} usage records runs`, async (t) => {
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
        "INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, input_tokens, output_tokens, at) VALUES (?, ?, ?, NULL, ?, 'interactive', ?, 'standard', 'credits', ?, ?, 10, 1, ?)",
      );
      const now = Date.now();
      file.transaction(() => {
        for (let i = 0; i < RECORDS; i++) ins.run(`usage_el_${i}`, tenant.orgId, `member_el_${i % 5}`, `hold_el_${i}`, i % 2 ? "claude-haiku-4-5" : "claude-sonnet-4-5", 1000, 1000, now - 89 * DAY_MS + Math.floor((i / RECORDS) * 89 * DAY_MS));
      })();
      file.close();
      server = await spawnServer(db, { env });

      await (await fetch(`${server.url}/metrics`)).text(); // opens the event-loop window
      let done = false;
      const breakdown = fetch(`${server.url}/v1/organizations/${tenant.orgId}/usage/breakdown?days=90`, { headers: { "x-api-key": tenant.key } }).then(async (r) => {
        const body = (await r.json()) as { totals: { requests: number; cost: string } };
        done = true;
        return { status: r.status, body };
      });
      let answeredDuring = 0;
      while (!done) {
        const h = await fetch(`${server.url}/healthz`);
        await h.text();
        if (!done && h.status === 200) answeredDuring++;
      }
      const b = await breakdown;
      assert.equal(b.status, 200);
      assert.equal(b.body.totals.requests, RECORDS, "the breakdown counted every record");
      assert.equal(b.body.totals.cost, String(RECORDS * 1000), "and summed them exactly");
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const max = /usage_credits_event_loop_delay_seconds\{quantile="1"\} (\S+)/.exec(metrics)?.[1];
      t.diagnostic(`/healthz answered ${answeredDuring} times during the breakdown; event-loop delay max ${(Number(max) * 1000).toFixed(1)} ms meanwhile`);
      assert.ok(answeredDuring >= 5, `/healthz kept answering while the breakdown ran (${answeredDuring} answers)`);
    } finally {
      await server.stop();
    }
  });
});
