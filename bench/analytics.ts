// Two figures of issue 16 measured in process or against a server: expired holds swept per second,
// and a 90-day usage breakdown of one large organization with /healthz timed while it runs.
// `npm run bench` runs both (the breakdown at 1 M records, `UC_BENCH_BREAKDOWN_RECORDS`); the 10 M
// figure has its own command, `npm run bench:analytics` (this file run directly: seeding 10 M
// records takes minutes and a 3 GB file, too long for the main run).

import Database from "better-sqlite3";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { usageDailyBackfill, usageHourlyBackfill } from "../src/adapters/store/usage-rollup-sql.js";
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
 * One organization with `records` usage records over the 91 days up to now (3 models × 4 surfaces ×
 * 5 members × 2 speeds, written straight into SQLite: generating them through the API would take an
 * hour at 10 M, and rolled up with migrations 12's and 16's backfill statements), so both edges of
 * a 90-day range fall among records. Then a server on that file and, for a few seconds, 90-day
 * breakdowns one after another from this process while the load generator asks /healthz on one
 * connection. Returns the breakdown's median time, /healthz's latency, the server's event-loop
 * delay p99 meanwhile, and how long the seeding took. A file already seeded with as many records
 * (its `.seed.json` beside it) is reused.
 */
export async function breakdownBench(
  file: string,
  records: number,
  start: (args: string[], env: Record<string, string>) => Promise<{ url: string; child: ChildProcess }>,
): Promise<{ breakdownMs: number; healthz: LoadResult; loopP99: number; seedSeconds: number }> {
  const t0 = performance.now();
  const seeded = `${file}.seed.json`;
  let large = existsSync(seeded) && existsSync(file) ? (JSON.parse(readFileSync(seeded, "utf8")) as { orgId: string; secret: string; records: number }) : undefined;
  if (large?.records !== records) {
    rmSync(file, { force: true });
    large = { ...(await seedLarge(file, records)), records };
    writeFileSync(seeded, JSON.stringify(large));
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  const { orgId, secret } = large;

  const server = await start(["serve", "--port", "0", "--no-demo", "--database", `sqlite:${file}`], {});
  try {
    const get = (path: string) => fetch(`${server.url}${path}`, { headers: { "x-api-key": secret } });
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
      const t1 = performance.now();
      const r = await get(`/v1/organizations/${orgId}/usage/breakdown?days=90`);
      await r.text();
      times.push(performance.now() - t1);
    }
    const h = await healthz;
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const loop = /usage_credits_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)/.exec(text);
    times.sort((a, b) => a - b);
    return { breakdownMs: times[Math.floor(times.length / 2)] ?? Number.NaN, healthz: h, loopP99: loop?.[1] ? Number(loop[1]) * 1000 : Number.NaN, seedSeconds };
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => (server.child.exitCode !== null ? r(null) : server.child.once("exit", r)));
  }
}

/** Writes the large organization (through the store) and its records (straight into the file). */
async function seedLarge(file: string, records: number): Promise<{ orgId: string; secret: string }> {
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
  const span = 91 * DAY_MS;
  // In transactions of 1 M records: one of 10 M holds its whole write-ahead log until the end.
  for (let from = 0; from < records; from += 1_000_000) {
    db.transaction(() => {
      for (let i = from; i < Math.min(records, from + 1_000_000); i++) {
        const cost = 1000 + (i % 997);
        ins.run(`usage_bench_${i}`, orgId, members[i % 5] ?? "", `hold_bench_${i}`, surfaces[i % 4] ?? "", models[i % 3] ?? "", speeds[i % 2] ?? "", cost, cost, 100 + (i % 50), 10 + (i % 7), now - span + Math.floor((i / records) * span));
      }
    })();
  }
  // The rollups the batch writer would have kept, built by migrations 12's and 16's own backfill statements.
  db.transaction(() => {
    db.prepare(usageDailyBackfill("WHERE org_id = ?")).run(orgId);
    db.prepare(usageHourlyBackfill("WHERE org_id = ?")).run(orgId);
  })();
  db.close();
  return { orgId, secret: key.secret };
}

/** A server process of this build; resolves with its URL once it listens. */
function startServer(args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const main = fileURLToPath(new URL("../src/main.js", import.meta.url));
    const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, USAGE_CREDITS_LOG: "error", USAGE_CREDITS_METRICS_PUBLIC: "true", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => reject(new Error("the server did not start")), 120_000);
    child.once("exit", (code) => reject(new Error(`the server exited with ${String(code)}`)));
    if (!child.stdout) throw new Error("no stdout");
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

// `npm run bench:analytics`: the breakdown at UC_BENCH_BREAKDOWN_RECORDS (default 10 M). The file
// is kept in UC_BENCH_ANALYTICS_DB if set (and reused while it holds as many records), else in a
// temporary directory removed afterwards.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const records = Number(process.env["UC_BENCH_BREAKDOWN_RECORDS"] ?? 10_000_000);
  const keep = process.env["UC_BENCH_ANALYTICS_DB"];
  const dir = keep ? undefined : mkdtempSync(join(tmpdir(), "uc-analytics-"));
  const file = keep ?? join(dir ?? "", "breakdown.db");
  try {
    const r = await breakdownBench(file, records, startServer);
    const f = (x: number) => x.toFixed(2);
    process.stdout.write(
      `90-day usage breakdown, one organization with ${records.toLocaleString("en-US")} usage records: median ${f(r.breakdownMs)} ms (target ≤ 100 at 10 M)\n` +
        `  /healthz while breakdowns run back to back (1 connection): p50 ${f(r.healthz.p50)} ms, p99 ${f(r.healthz.p99)} ms (target p99 ≤ 5)\n` +
        `  server event-loop delay p99 meanwhile: ${f(r.loopP99)} ms\n` +
        `  seeding (or reusing) the records and rollups: ${r.seedSeconds.toFixed(0)} s\n`,
    );
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
