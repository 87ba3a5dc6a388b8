// `npm run bench:lab`: the pricing lab at scale (issue 18, acceptance 3). Generates a month
// (November 2026) of UC_BENCH_LAB_RECORDS usage records (default 10,000,000) directly into a fresh
// SQLite file with the store's own schema (migrated by the store, then bulk-inserted in large
// transactions): organizations on a windowed and a usage-based plan, members, purchased grants, and
// per request its operation-log entries (authorize, settle) and its usage record. Then replays the
// month in a child process — `usage-credits lab replay`'s code path, the log read in pages — and
// reports records replayed per second and the child's peak memory (maxRSS). Writes
// bench/results/lab.json. UC_BENCH_LAB_KEEP=1 keeps the database file.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import { SqlStore } from "../src/adapters/store/sql-store.js";
import { Lab } from "../src/app/lab.js";
import { DEFAULT_PLANS } from "../src/core/default-plans.js";
import { DEFAULT_PRICE_BOOK } from "../src/core/default-price-book.js";
import { findModel, parsePriceBook } from "../src/core/price-book.js";
import { rate, ZERO_USAGE } from "../src/core/rating.js";
import { rng } from "../test/support/rng.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SELF = join(ROOT, "dist", "bench", "lab.js");
const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);

async function replayChild(file: string): Promise<void> {
  const store = await SqlStore.open(openSqlite(file));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let last = t0;
  const out = await new Lab(store).replay({ period: "2026-11" }, (p) => {
    const now = performance.now();
    if (now - last < 5_000) return;
    last = now;
    process.stderr.write(`  ${p.entries.toLocaleString("en-US")} entries, ${Math.round(p.entries / ((now - t0) / 1000)).toLocaleString("en-US")}/s, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  if (!out.ok) throw new Error(out.error.message);
  const r = out.value;
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      // Every thread of the process (the SQLite reader thread included): on a shared machine the
      // wall clock measures the neighbours, CPU time measures the replay.
      cpu_seconds: (cpu.user + cpu.system) / 1e6,
      entries: r.entries,
      records: r.records,
      organizations: r.organizations.length,
      max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      heap_used_mb: Math.round(process.memoryUsage().heapUsed / 1e6),
      difference_total: r.totals.difference.total,
    })}\n`,
  );
}

async function generate(file: string, records: number): Promise<{ orgs: number; seconds: number }> {
  const t0 = performance.now();
  // The schema, plans and price book exactly as the store makes them.
  const store = await SqlStore.open(openSqlite(file));
  await store.transaction(async (tx) => {
    for (const p of DEFAULT_PLANS) await tx.addPlanVersion({ definition: p, effectiveAt: 0, createdAt: NOV - 86_400_000, createdBy: "system" });
  });
  await store.close();

  const parsed = parsePriceBook(DEFAULT_PRICE_BOOK);
  if (!parsed.ok) throw new Error(parsed.problems.join("; "));
  const book = parsed.book;
  const random = rng(2026);
  const orgs = Math.max(10, Math.min(5_000, Math.round(records / 2_000)));
  const membersPerOrg = 4;
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const insOrg = db.prepare("INSERT INTO organizations (id, name, plan_id, usage_credits_enabled, fast_mode_enabled, fast_mode_fallback, weekly_anchor, debt, created_at) VALUES (?, ?, ?, 1, 1, 0, ?, 0, ?)");
  const insMember = db.prepare("INSERT INTO members (id, org_id, email, name, role, seat_tier, workspace_id, usage_credits_enabled, fast_mode_enabled, created_at) VALUES (?, ?, ?, ?, ?, 'standard', NULL, 1, 1, ?)");
  const insGrant = db.prepare("INSERT INTO grants (id, org_id, kind, amount, remaining, priority, expires_at, surfaces, member_id, status, description, created_at) VALUES (?, ?, 'purchase', ?, ?, 5, NULL, NULL, NULL, 'active', '', ?)");
  const insTx = db.prepare("INSERT INTO ledger_transactions (id, org_id, kind, ref, at) VALUES (?, ?, 'grant', ?, ?)");
  const insEntry = db.prepare("INSERT INTO ledger_entries (tx_id, idx, org_id, account, amount) VALUES (?, ?, ?, ?, ?)");
  const before = NOV - 86_400_000;
  db.transaction(() => {
    for (let o = 0; o < orgs; o++) {
      const org = `org_b${o}`;
      insOrg.run(org, `Bench ${o}`, o % 2 === 0 ? "max_20x" : "enterprise_usage", NOV - 7 * 86_400_000, before);
      for (let m = 0; m < membersPerOrg; m++) insMember.run(`mem_b${o}_${m}`, org, `m${m}@b${o}.test`, `M${m}`, m === 0 ? "owner" : "member", before);
      const amount = 1_000_000_000_000; // $1M: the month never runs out of credit
      insGrant.run(`grant_b${o}`, org, amount, amount, before);
      insTx.run(`tx_b${o}`, org, `grant_b${o}`, before);
      insEntry.run(`tx_b${o}`, 0, org, "funding:purchase", -amount);
      insEntry.run(`tx_b${o}`, 1, org, `grant:grant_b${o}`, amount);
    }
  })();

  // A pool of priced requests: the generator draws from it (rating is not what is measured here).
  const models = ["claude-sonnet-4-5", "claude-opus-4-7", "claude-haiku-4-5"];
  const pool = Array.from({ length: 256 }, () => {
    const model = models[Math.floor(random() * models.length)] as string;
    const speed = random() < 0.1 ? "fast" : "standard";
    const usage = { ...ZERO_USAGE, input_tokens: 500 + Math.floor(random() * 20_000), output_tokens: 50 + Math.floor(random() * 2_000), cache_read_input_tokens: random() < 0.5 ? Math.floor(random() * 30_000) : 0 };
    const estimate = { ...usage, output_tokens: usage.output_tokens * 2 };
    const opts = { speed, batch: false, dataResidency: false } as const;
    return {
      model,
      family: findModel(book, model)?.family ?? "",
      speed,
      usage,
      estimate,
      estimateMicros: rate(book, model, estimate, opts)?.micros ?? 0,
      micros: rate(book, model, usage, opts)?.micros ?? 0,
    };
  });
  const LOG = `INSERT INTO operation_log (org_id, at, kind, hold_id, member_id, workspace_id, surface, model, family, speed, micros, rated,
    input_tokens, output_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests, batch, data_residency, ttl_ms, owner, actor, code, data)
    VALUES (?, ?, ?, ?, ?, NULL, 'interactive', ?, ?, ?, ?, 1, ?, ?, 0, 0, ?, 0, 0, 0, ?, ?, ?, NULL, NULL)`;
  const insLog = db.prepare(LOG);
  const insUsage = db.prepare(`INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, input_tokens, output_tokens, at,
    fresh_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, web_search_requests, batch, data_residency, estimate, authorized_at)
    VALUES (?, ?, ?, NULL, ?, 'interactive', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 0, 0, 0, ?, ?)`);
  const step = (DEC - NOV - 60_000) / records;
  const CHUNK = 100_000;
  for (let start = 0; start < records; start += CHUNK) {
    db.transaction(() => {
      for (let i = start; i < Math.min(records, start + CHUNK); i++) {
        const at = NOV + Math.floor(i * step);
        const o = Math.floor(random() * orgs);
        const org = `org_b${o}`;
        const member = `mem_b${o}_${Math.floor(random() * membersPerOrg)}`;
        const r = pool[Math.floor(random() * pool.length)] as (typeof pool)[number];
        const hold = `hold_b${i}`;
        insLog.run(org, at, "authorize", hold, member, r.model, r.family, r.speed, r.estimateMicros, r.estimate.input_tokens, r.estimate.output_tokens, r.estimate.cache_read_input_tokens, 600_000, "api", null);
        insLog.run(org, at, "settle", hold, null, null, null, null, r.micros, r.usage.input_tokens, r.usage.output_tokens, r.usage.cache_read_input_tokens, null, null, "api");
        const plan = o % 2 === 0 && r.speed === "standard";
        insUsage.run(`use_b${i}`, org, member, hold, r.model, r.speed, plan ? "plan" : "credits", r.micros, plan ? 0 : r.micros, r.usage.input_tokens + r.usage.cache_read_input_tokens, r.usage.output_tokens, at, r.usage.input_tokens, r.usage.cache_read_input_tokens, r.estimateMicros, at);
      }
    })();
    if ((start / CHUNK) % 10 === 9) process.stderr.write(`  generated ${(start + CHUNK).toLocaleString("en-US")} records\n`);
  }
  db.close();
  return { orgs, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--replay");
  if (i >= 0) return replayChild(process.argv[i + 1] ?? "");
  const records = Number(process.env["UC_BENCH_LAB_RECORDS"] ?? 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), "uc-bench-lab-"));
  const file = join(dir, "lab.db");
  process.stdout.write(`generating ${records.toLocaleString("en-US")} usage records (November 2026) into ${file}\n`);
  const gen = await generate(file, records);
  const bytes = statSync(file).size;
  process.stdout.write(`generated in ${gen.seconds.toFixed(1)} s: ${gen.orgs} organizations, ${(bytes / 1e9).toFixed(2)} GB\n`);
  const child = spawnSync(process.execPath, ["--max-old-space-size=4096", SELF, "--replay", file], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`replay exited ${child.status}: ${child.stdout}`);
  const r = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as { seconds: number; cpu_seconds: number; entries: number; records: number; max_rss_mb: number; heap_used_mb: number; organizations: number };
  const perSecond = Math.round(r.records / r.seconds);
  const perCpuSecond = Math.round(r.records / r.cpu_seconds);
  const result = {
    records: r.records,
    log_entries: r.entries,
    organizations: r.organizations,
    replay_seconds: Number(r.seconds.toFixed(1)),
    records_per_second: perSecond,
    replay_cpu_seconds: Number(r.cpu_seconds.toFixed(1)),
    records_per_cpu_second: perCpuSecond,
    load_average: loadavg().map((x) => Number(x.toFixed(1))),
    entries_per_second: Math.round(r.entries / r.seconds),
    peak_rss_mb: r.max_rss_mb,
    database_gb: Number((bytes / 1e9).toFixed(2)),
    generate_seconds: Number(gen.seconds.toFixed(1)),
    projected_10m_minutes: Number((10_000_000 / perSecond / 60).toFixed(1)),
    projected_10m_cpu_minutes: Number((10_000_000 / perCpuSecond / 60).toFixed(1)),
    measured_at: new Date().toISOString(),
  };
  process.stdout.write(
    `replayed ${r.records.toLocaleString("en-US")} records (${r.entries.toLocaleString("en-US")} log entries, ${r.organizations} organizations) in ${r.seconds.toFixed(1)} s: ` +
      `${perSecond.toLocaleString("en-US")} records/s wall, ${perCpuSecond.toLocaleString("en-US")} records per CPU second (${r.cpu_seconds.toFixed(1)} s CPU, load ${result.load_average.join(" ")}), peak RSS ${r.max_rss_mb} MB` +
      `${records === 10_000_000 ? "" : `; 10M records projected at ${result.projected_10m_minutes} min wall / ${result.projected_10m_cpu_minutes} min CPU (extrapolated, not measured)`}\n`,
  );
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", "lab.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (process.env["UC_BENCH_LAB_KEEP"] !== "1") rmSync(dir, { recursive: true, force: true });
}

await main();
