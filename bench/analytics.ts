// Two figures of issue 16 measured in process or against a server: expired holds swept per second,
// and a 90-day usage breakdown of one large organization with /healthz timed while it runs.

import Database from "better-sqlite3";
import type { ChildProcess } from "node:child_process";
import { usageDailyBackfill } from "../src/adapters/store/usage-rollup-sql.js";
import { createApp, openStore } from "../src/app.js";
import { generateApiKey } from "../src/app/auth.js";
import { loadConfig } from "../src/config/config.js";
import { newId } from "../src/core/ids.js";
import { ManualClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { runLoad, type LoadResult, type LoadSpec } from "./loadgen.js";
import { seed } from "./workload.js";

const DAY_MS = 86_400_000;

/**
 * `holds` holds over 200 organizations, all expired at once (a manual clock moves past their TTL),
 * then the engine's sweep is called until it finds none: holds released per second of sweeping.
 */
export async function sweepBench(databaseUrl: string, holds: number): Promise<{ holds: number; orgs: number; perSecond: number }> {
  const clock = new ManualClock(Date.now());
  const config = loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_PORT: "0" }, { database: databaseUrl });
  const app = await createApp(config, { log: silentLogger, store: await openStore(config), clock });
  try {
    const { engine, store } = app.services;
    const orgs = 200;
    const tenants = await seed(app, orgs);
    for (let start = 0; start < holds; start += 2000) {
      await Promise.all(
        Array.from({ length: Math.min(2000, holds - start) }, (_, i) => {
          const t = tenants[(start + i) % orgs];
          if (!t) throw new Error("no tenant");
          return engine.authorize({ orgId: t.orgId, memberId: t.memberId, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: 1000 }, ttlMs: 60_000 });
        }),
      );
    }
    clock.advance(61_000);
    const t0 = performance.now();
    let released = 0;
    for (;;) {
      const r = await engine.sweep(store);
      released += r.holds;
      if (r.holds === 0) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { holds: released, orgs, perSecond: released / seconds };
  } finally {
    await app.close();
  }
}

/**
 * One organization with `records` usage records over 90 days (3 models × 4 surfaces × 5 members ×
 * 2 speeds, written straight into SQLite: generating them through the API would take an hour at
 * 10 M, and rolled up with migration 12's backfill statement), a server on that file, then for a few seconds: breakdowns of 90 days one after another
 * from this process, while the load generator asks /healthz on one connection. Returns the
 * breakdown's median time, /healthz's latency and the server's event-loop delay p99 meanwhile.
 */
export async function breakdownBench(
  file: string,
  records: number,
  start: (args: string[], env: Record<string, string>) => Promise<{ url: string; child: ChildProcess }>,
): Promise<{ breakdownMs: number; healthz: LoadResult; loopP99: number }> {
  const config = loadConfig({ USAGE_CREDITS_PORT: "0" }, { database: `sqlite:${file}` });
  const app = await createApp(config, { log: silentLogger, store: await openStore(config) });
  const now = Date.now();
  const orgId = newId("organization");
  const members = Array.from({ length: 5 }, () => newId("member"));
  const key = generateApiKey();
  await app.services.store.transaction(async (tx) => {
    await tx.insertOrg({ id: orgId, name: "large", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, weeklyAnchor: now, debt: 0, createdAt: now });
    for (const [i, id] of members.entries()) {
      await tx.insertMember({ id, orgId, email: `m${i}@large.test`, name: `m${i}`, role: i === 0 ? "owner" : "member", seatTier: "standard", workspaceId: null, usageCreditsEnabled: true, fastModeEnabled: true, createdAt: now });
    }
    await tx.insertApiKey({ id: newId("apiKey"), orgId, memberId: members[0] ?? "", name: "bench", surface: "interactive", hash: key.hash, prefix: key.prefix, createdAt: now, revokedAt: null });
  });
  await app.close();

  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const ins = db.prepare(
    "INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, input_tokens, output_tokens, at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 'credits', ?, ?, ?, ?, ?)",
  );
  const models = ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-7"];
  const surfaces = ["interactive", "sdk", "cli", "ci"];
  const speeds = ["standard", "fast"];
  const span = 89 * DAY_MS;
  db.transaction(() => {
    for (let i = 0; i < records; i++) {
      const cost = 1000 + (i % 997);
      ins.run(`usage_bench_${i}`, orgId, members[i % 5] ?? "", `hold_bench_${i}`, surfaces[i % 4] ?? "", models[i % 3] ?? "", speeds[i % 2] ?? "", cost, cost, 100 + (i % 50), 10 + (i % 7), now - span + Math.floor((i / records) * span));
    }
    // The rollups the batch writer would have kept, built by migration 12's own backfill statement.
    db.prepare(usageDailyBackfill("WHERE org_id = ?")).run(orgId);
  })();
  db.close();

  const server = await start(["serve", "--port", "0", "--no-demo", "--database", `sqlite:${file}`], {});
  try {
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { "x-api-key": key.secret } });
    const first = await get(`/v1/organizations/${orgId}/usage/breakdown?days=90`);
    if (first.status !== 200) throw new Error(`breakdown answered ${first.status}: ${await first.text()}`);
    await first.text();
    await fetch(`${server.url}/metrics`).then((r) => r.text()); // resets the event-loop window
    const seconds = 5;
    const spec: LoadSpec = { targets: [{ url: `${server.url}/healthz`, headers: {} }], method: "GET", body: "", connections: 1, seconds, warmupSeconds: 0 };
    const healthz = runLoad(spec);
    const times: number[] = [];
    const until = performance.now() + (seconds + 0.5) * 1000;
    while (performance.now() < until) {
      const t0 = performance.now();
      const r = await get(`/v1/organizations/${orgId}/usage/breakdown?days=90`);
      await r.text();
      times.push(performance.now() - t0);
    }
    const h = await healthz;
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const loop = /usage_credits_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)/.exec(text);
    times.sort((a, b) => a - b);
    return { breakdownMs: times[Math.floor(times.length / 2)] ?? Number.NaN, healthz: h, loopP99: loop?.[1] ? Number(loop[1]) * 1000 : Number.NaN };
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => (server.child.exitCode !== null ? r(null) : server.child.once("exit", r)));
  }
}
