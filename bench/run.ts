// `npm run bench`: the machine's ceilings and our figures, measured side by side in one run, each
// printed with its ratio to the ceiling it should be compared with. Writes bench/results/latest.json
// and latest.md. Loopback only; every loop is bounded in time. Takes about two minutes; the last
// section (bench/dashboard.ts, also `npm run bench:dashboard` alone) times the dashboard in Chromium.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { benchApp, engineLoad, seed, type Tenant } from "./workload.js";
import { pgBatchCeiling, pgNaiveCeiling, redisEvalCeiling, sqliteCeiling } from "./ceilings.js";
import { runLoad, type LoadResult, type LoadSpec } from "./loadgen.js";
import { dashboardBench } from "./dashboard.js";
import { cpuBetween, sampleCpu } from "./cpu.js";
import { breakdownBench, sweepBench } from "./analytics.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/src/main.js");
const ECHO = join(ROOT, "dist/bench/echo-server.js");
const UPSTREAM = join(ROOT, "dist/bench/upstream-server.js");
const PROXY = join(ROOT, "dist/bench/proxy-server.js");
const PG_ADMIN = process.env["UC_BENCH_PG_URL"] ?? process.env["UC_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env["UC_BENCH_SECONDS"] ?? 5);
/** Sections to leave out while developing (comma-separated: gateway, sweep, analytics, pg, dashboard); a full run skips none. */
const SKIP = new Set((process.env["UC_BENCH_SKIP"] ?? "").split(",").filter(Boolean));
const BREAKDOWN_RECORDS = Number(process.env["UC_BENCH_BREAKDOWN_RECORDS"] ?? 1_000_000);

interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly p50?: number;
  readonly p99?: number;
  readonly ceiling?: string;
  readonly ratio?: number;
  readonly target?: string;
}
const figures: Figure[] = [];
const byName = (n: string) => figures.find((f) => f.name === n)?.value;

function record(f: Figure): void {
  figures.push(f);
  const lat = f.p50 !== undefined ? `  p50 ${f.p50.toFixed(2)} ms  p99 ${(f.p99 ?? 0).toFixed(2)} ms` : "";
  const ratio = f.ratio !== undefined ? `  = ${f.ratio.toFixed(2)}× ${f.ceiling}${f.target ? ` (target ${f.target})` : ""}` : "";
  process.stdout.write(`${f.name.padEnd(58)} ${Math.round(f.value).toLocaleString("en-US").padStart(9)} ${f.unit}${lat}${ratio}\n`);
}

// ------------------------------------------------------------------ processes

function startProcess(args: string[], env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, USAGE_CREDITS_LOG: "error", USAGE_CREDITS_METRICS_PUBLIC: "true", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not start`)), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

async function stop(children: ChildProcess[]): Promise<void> {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
}

/** The server's event-loop delay p99 (seconds) since its previous /metrics scrape; NaN if unreadable. */
async function loopDelayP99(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /usage_credits_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)/.exec(text);
    return m?.[1] ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface Measured extends LoadResult {
  /** Worst event-loop delay p99 (ms) among the servers, over the measured window. */
  readonly loopP99: number;
  /** CPU microseconds per request: our server process(es), and PostgreSQL (all its processes). */
  readonly cpuServerUs: number;
  readonly cpuPostgresUs: number;
}

/**
 * Runs a load against our server(s) and measures, over the same window (after the warm-up), the
 * servers' event-loop delay p99 (from /metrics) and the CPU time the servers and PostgreSQL spent.
 */
async function measuredLoad(servers: ReadonlyArray<{ url: string; child: ChildProcess }>, spec: LoadSpec): Promise<Measured> {
  const pids = servers.map((s) => s.child.pid ?? 0);
  const running = runLoad(spec);
  // The load generator starts (≈0.2 s), warms up, then measures: open our window just after.
  await new Promise((r) => setTimeout(r, spec.warmupSeconds * 1000 + 300));
  await Promise.all(servers.map((s) => loopDelayP99(s.url)));
  const before = sampleCpu(pids);
  const result = await running;
  const after = sampleCpu(pids);
  const loop = await Promise.all(servers.map((s) => loopDelayP99(s.url)));
  const cpu = cpuBetween(before, after);
  const n = Math.max(1, result.requests);
  return { ...result, loopP99: Math.max(...loop) * 1000, cpuServerUs: (cpu.server / n) * 1e6, cpuPostgresUs: (cpu.postgres / n) * 1e6 };
}

// ------------------------------------------------------------------ databases and workloads

async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `uc_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function authorizeSpec(urls: string[], tenants: Tenant[], connections: number): LoadSpec {
  const targets = tenants.slice(0, 100).flatMap((t, i) => {
    const url = urls[i % urls.length] ?? "";
    return [{ url: `${url}/v1/organizations/${t.orgId}/authorize`, headers: { "x-api-key": t.key, "content-type": "application/json" } }];
  });
  return { targets, method: "POST", body: JSON.stringify({ model: "claude-haiku-4-5", amount: "1000", ttl_seconds: 3600 }), connections, seconds: SECONDS, warmupSeconds: 1 };
}

// ------------------------------------------------------------------ the run

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write(`usage-credits benchmark — ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n\n`);
  const tmp = mkdtempSync(join(tmpdir(), "uc-bench-"));
  const children: ChildProcess[] = [];
  try {
    // ---- ceilings
    process.stdout.write("Ceilings (this machine, this run)\n");
    record({ name: "raw SQLite UPDATE+INSERT, 1 per transaction (FULL)", value: sqliteCeiling(1, 3), unit: "ops/s" });
    record({ name: "raw SQLite UPDATE+INSERT, 100 per transaction (FULL)", value: sqliteCeiling(100, 3), unit: "ops/s" });
    record({ name: "raw SQLite UPDATE+INSERT, 1000 per transaction (FULL)", value: sqliteCeiling(1000, 3), unit: "ops/s" });
    const pgCeil = await pgDatabase();
    try {
      record({ name: "raw PostgreSQL, 1 op per transaction, pool of 8", value: await pgNaiveCeiling(pgCeil.url, 4), unit: "ops/s" });
      record({ name: "raw PostgreSQL, set-based batches of 1000, 1 conn", value: await pgBatchCeiling(pgCeil.url, 4), unit: "ops/s" });
    } finally {
      await pgCeil.drop();
    }
    const redis = redisEvalCeiling(200_000);
    if (redis !== null) record({ name: "Redis EVAL check-and-decrement, 50 clients, no pipelining", value: redis, unit: "ops/s" });
    else process.stdout.write("Redis: no server reachable at 127.0.0.1:6379; EVAL ceiling skipped\n");
    const echo = await startProcess([ECHO]);
    children.push(echo.child);
    const echoLoad = await runLoad({ targets: [{ url: `${echo.url}/`, headers: { "content-type": "application/json" } }], method: "POST", body: JSON.stringify({ model: "claude-haiku-4-5", amount: "1000" }), connections: 50, seconds: SECONDS, warmupSeconds: 1 });
    await stop([echo.child]);
    record({ name: "bare node:http JSON echo, 50 connections", value: echoLoad.rps, unit: "req/s", p50: echoLoad.p50, p99: echoLoad.p99 });
    const raw100 = byName("raw SQLite UPDATE+INSERT, 100 per transaction (FULL)") ?? 1;

    // ---- ours on SQLite, in process
    process.stdout.write("\nOurs — engine in process, SQLite, durable (synchronous=FULL), authorize+settle\n");
    const sqliteUrl = `sqlite:${join(tmp, "engine.db")}`;
    let app = await benchApp(sqliteUrl, 256);
    const spread = await seed(app, 10_000);
    const hot = spread.slice(0, 1);
    const eng = await engineLoad(app, spread.slice(0, 1000), 1000, SECONDS);
    record({ name: `SQLite: group commit, 1000 requesters over 1,000 orgs (avg batch ${eng.batch.toFixed(0)})`, value: eng.ops, unit: "ops/s", ceiling: "raw SQLite @100/tx", ratio: eng.ops / raw100, target: "≥ 0.15" });
    if (redis !== null) record({ name: "  same, against Redis EVAL (not durable)", value: eng.ops, unit: "ops/s", ceiling: "Redis EVAL", ratio: eng.ops / redis });
    const spreadLoad = await engineLoad(app, spread, 1000, SECONDS);
    record({ name: `SQLite spread: 1000 requesters over 10,000 orgs (avg batch ${spreadLoad.batch.toFixed(0)})`, value: spreadLoad.ops, unit: "ops/s" });
    const hotLoad = await engineLoad(app, hot, 1000, SECONDS);
    record({ name: `SQLite hot: 1000 requesters on one org (avg batch ${hotLoad.batch.toFixed(0)})`, value: hotLoad.ops, unit: "ops/s", ceiling: "spread", ratio: hotLoad.ops / spreadLoad.ops, target: "≥ 0.5" });
    await app.close();
    app = await benchApp(sqliteUrl, 1);
    const naive = await engineLoad(app, spread.slice(0, 1000), 1000, SECONDS);
    record({ name: "SQLite naive: one transaction per operation (max batch 1)", value: naive.ops, unit: "ops/s", ceiling: "raw SQLite @1/tx", ratio: naive.ops / (byName("raw SQLite UPDATE+INSERT, 1 per transaction (FULL)") ?? 1) });
    record({ name: "  SQLite: group commit vs naive", value: eng.ops, unit: "ops/s", ceiling: "naive", ratio: eng.ops / naive.ops });
    await app.close();

    // ---- ours over HTTP, SQLite
    process.stdout.write("\nOurs — HTTP authorize endpoint, SQLite, one server process\n");
    const server = await startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", sqliteUrl]);
    children.push(server.child);
    const httpLoad = await measuredLoad([server], authorizeSpec([server.url], spread, 50));
    await stop([server.child]);
    record({ name: `SQLite: HTTP POST /authorize, 50 connections (${JSON.stringify(httpLoad.statuses)})`, value: httpLoad.rps, unit: "req/s", p50: httpLoad.p50, p99: httpLoad.p99, ceiling: "bare node:http", ratio: httpLoad.rps / echoLoad.rps, target: "≥ 0.5" });
    record({ name: "  p99 against the bare server's p99", value: httpLoad.p99, unit: "ms", ceiling: "bare p99", ratio: httpLoad.p99 / echoLoad.p99, target: "≤ 2" });
    record({ name: "  server event-loop delay p99 under this load", value: httpLoad.loopP99, unit: "ms", target: "≤ 5" });
    record({ name: "  server CPU per authorize", value: httpLoad.cpuServerUs, unit: "µs" });

    // ---- the gateway: Messages API through usage credits vs a bare pass-through proxy, both in front
    // of the same simulated upstream process
    if (!SKIP.has("gateway")) {
    process.stdout.write("\nGateway — POST /v1/messages (non-streaming, max_tokens 64), SQLite, in front of the simulated upstream process\n");
    const message = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "Say hello in five words." }] });
    const upstream = await startProcess([UPSTREAM]);
    children.push(upstream.child);
    const upstreamSpec = (url: string, connections: number): LoadSpec => ({ targets: [{ url: `${url}/v1/messages`, headers: { "content-type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01" } }], method: "POST", body: message, connections, seconds: SECONDS, warmupSeconds: 1 });
    const upstreamLoad = await runLoad(upstreamSpec(upstream.url, 50));
    record({ name: `simulated upstream alone, 50 connections (${JSON.stringify(upstreamLoad.statuses)})`, value: upstreamLoad.rps, unit: "req/s", p50: upstreamLoad.p50, p99: upstreamLoad.p99 });
    const proxy = await startProcess([PROXY, upstream.url]);
    children.push(proxy.child);
    const proxyLoad = await runLoad(upstreamSpec(proxy.url, 50));
    const proxyOne = await runLoad(upstreamSpec(proxy.url, 1));
    await stop([proxy.child]);
    record({ name: `bare node:http pass-through proxy, 50 connections (${JSON.stringify(proxyLoad.statuses)})`, value: proxyLoad.rps, unit: "req/s", p50: proxyLoad.p50, p99: proxyLoad.p99, ceiling: "upstream alone", ratio: proxyLoad.rps / upstreamLoad.rps });
    record({ name: "bare pass-through proxy, 1 connection", value: proxyOne.rps, unit: "req/s", p50: proxyOne.p50, p99: proxyOne.p99 });
    const gateway = await startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", sqliteUrl], { USAGE_CREDITS_UPSTREAM: upstream.url });
    children.push(gateway.child);
    const gatewaySpec = (connections: number): LoadSpec => ({
      targets: spread.slice(0, 100).map((t) => ({ url: `${gateway.url}/v1/messages`, headers: { "content-type": "application/json", "x-api-key": t.key, "anthropic-version": "2023-06-01" } })),
      method: "POST",
      body: message,
      connections,
      seconds: SECONDS,
      warmupSeconds: 1,
    });
    const gatewayLoad = await measuredLoad([gateway], gatewaySpec(50));
    const gatewayOne = await runLoad(gatewaySpec(1));
    await stop([gateway.child, upstream.child]);
    record({ name: `gateway, hold → forward → settle, 50 connections (${JSON.stringify(gatewayLoad.statuses)})`, value: gatewayLoad.rps, unit: "req/s", p50: gatewayLoad.p50, p99: gatewayLoad.p99, ceiling: "bare proxy", ratio: gatewayLoad.rps / proxyLoad.rps, target: "≥ 0.6" });
    record({ name: "  gateway against the simulated upstream alone", value: gatewayLoad.rps, unit: "req/s", ceiling: "upstream alone", ratio: gatewayLoad.rps / upstreamLoad.rps });
    record({ name: "  server event-loop delay p99 under gateway load", value: gatewayLoad.loopP99, unit: "ms", target: "≤ 5" });
    record({ name: "  server CPU per gateway request", value: gatewayLoad.cpuServerUs, unit: "µs" });
    record({ name: "gateway, 1 connection", value: gatewayOne.rps, unit: "req/s", p50: gatewayOne.p50, p99: gatewayOne.p99 });
    record({ name: "  gateway added p50 at 1 connection (gateway p50 − bare proxy p50)", value: gatewayOne.p50 - proxyOne.p50, unit: "ms", target: "≤ 1" });
    }

    // ---- expired holds swept per second, in process
    if (!SKIP.has("sweep")) {
    process.stdout.write("\nSweep — expired holds released per second, in process\n");
    const swept = await sweepBench(`sqlite:${join(tmp, "sweep.db")}`, 20_000);
    record({ name: `SQLite: expired holds swept per second (${swept.holds.toLocaleString("en-US")} holds over ${swept.orgs} orgs)`, value: swept.perSecond, unit: "holds/s", target: "≥ 10,000" });
    }

    // ---- analytics on a large organization: the breakdown's time, and /healthz while it runs
    if (!SKIP.has("analytics")) {
    process.stdout.write("\nAnalytics — 90-day usage breakdown of one large organization, SQLite server\n");
    const bd = await breakdownBench(join(tmp, "breakdown.db"), BREAKDOWN_RECORDS, (args, env) => startProcess([MAIN, ...args], env));
    record({ name: `90-day usage breakdown, one organization with ${BREAKDOWN_RECORDS.toLocaleString("en-US")} usage records`, value: bd.breakdownMs, unit: "ms", target: `≤ 100 (at 10 M)` });
    record({ name: "  /healthz while 90-day breakdowns run back to back (1 connection)", value: bd.healthz.p99, unit: "ms", p50: bd.healthz.p50, p99: bd.healthz.p99, target: "p99 ≤ 5" });
    record({ name: "  server event-loop delay p99 while they run", value: bd.loopP99, unit: "ms", target: "≤ 5" });
    }

    // ---- ours on PostgreSQL
    if (!SKIP.has("pg")) {
    process.stdout.write("\nOurs — PostgreSQL backend\n");
    const pgDb = await pgDatabase();
    try {
      let papp = await benchApp(pgDb.url, 256);
      const pTenants = await seed(papp, 1000);
      const pEng = await engineLoad(papp, pTenants, 1000, SECONDS);
      await papp.close();
      papp = await benchApp(pgDb.url, 1);
      const pNaive = await engineLoad(papp, pTenants, 1000, SECONDS);
      await papp.close();
      record({ name: `PostgreSQL: engine in process, group commit (avg batch ${pEng.batch.toFixed(0)})`, value: pEng.ops, unit: "ops/s", ceiling: "raw PG set-based", ratio: pEng.ops / (byName("raw PostgreSQL, set-based batches of 1000, 1 conn") ?? 1) });
      record({ name: "PostgreSQL: engine in process, naive (one transaction per op)", value: pNaive.ops, unit: "ops/s", ceiling: "raw PG naive", ratio: pNaive.ops / (byName("raw PostgreSQL, 1 op per transaction, pool of 8") ?? 1) });
      record({ name: "  PostgreSQL: group commit vs naive", value: pEng.ops, unit: "ops/s", ceiling: "naive", ratio: pEng.ops / pNaive.ops, target: "≥ 5" });
      const one = await startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", pgDb.url]);
      children.push(one.child);
      const oneLoad = await measuredLoad([one], authorizeSpec([one.url], pTenants, 50));
      await stop([one.child]);
      const pgNaiveRaw = byName("raw PostgreSQL, 1 op per transaction, pool of 8") ?? 1;
      record({ name: `PostgreSQL: HTTP authorize, 1 instance (${JSON.stringify(oneLoad.statuses)})`, value: oneLoad.rps, unit: "req/s", p50: oneLoad.p50, p99: oneLoad.p99, ceiling: "raw PG naive", ratio: oneLoad.rps / pgNaiveRaw, target: "≥ 1.5" });
      record({ name: "  server event-loop delay p99 under this load", value: oneLoad.loopP99, unit: "ms", target: "≤ 5" });
      record({ name: "  CPU per authorize: our server", value: oneLoad.cpuServerUs, unit: "µs" });
      record({ name: "  CPU per authorize: PostgreSQL (all its processes)", value: oneLoad.cpuPostgresUs, unit: "µs" });
      // The projection BENCHMARKS.md explains: N instances, each given one core for its main
      // thread (its writer/reader threads are idle waiting on the database), and PostgreSQL given
      // P cores, serve at most min(N / server CPU per op, P / PostgreSQL CPU per op).
      for (const [n, p] of [[1, 1], [4, 2], [8, 4], [16, 8]] as const) {
        const projected = Math.min(n / (oneLoad.cpuServerUs / 1e6), p / (oneLoad.cpuPostgresUs / 1e6));
        record({ name: `  projection: ${n} instance(s) + PostgreSQL on ${p} core(s) (CPU model, not measured)`, value: projected, unit: "req/s" });
      }
      const two = await Promise.all([startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", pgDb.url]), startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", pgDb.url])]);
      children.push(...two.map((t) => t.child));
      const twoLoad = await measuredLoad(two, authorizeSpec(two.map((t) => t.url), pTenants, 50));
      await stop(two.map((t) => t.child));
      record({ name: `PostgreSQL: HTTP authorize, 2 instances (${JSON.stringify(twoLoad.statuses)})`, value: twoLoad.rps, unit: "req/s", p50: twoLoad.p50, p99: twoLoad.p99, ceiling: "1 instance", ratio: twoLoad.rps / oneLoad.rps, target: "≥ 1.3" });
    } finally {
      await pgDb.drop();
    }
    }

    // ---- the dashboard: page loads in Chromium with 10,000 transactions and 90 days of usage
    if (!SKIP.has("dashboard")) {
    process.stdout.write("\nDashboard — page loads in Chromium (10,000 transactions, 90 days of usage), SQLite\n");
    for (const f of await dashboardBench((line) => process.stdout.write(`  ${line}\n`))) figures.push(f);
    }
  } finally {
    await stop(children.filter((c) => c.exitCode === null));
    rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\nTotal time ${seconds.toFixed(0)} s\n`);
  if (SKIP.size > 0) return; // a partial run does not replace the recorded one
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const result = { at: new Date().toISOString(), machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, seconds, figures };
  writeFileSync(join(ROOT, "bench/results/latest.json"), `${JSON.stringify(result, null, 2)}\n`);
  const md = figures.map((f) => `| ${f.name} | ${Math.round(f.value).toLocaleString("en-US")} ${f.unit} | ${f.p50 !== undefined ? `${f.p50.toFixed(2)} / ${(f.p99 ?? 0).toFixed(2)}` : ""} | ${f.ratio !== undefined ? `${f.ratio.toFixed(2)}× ${f.ceiling}` : ""} | ${f.target ?? ""} |`);
  writeFileSync(join(ROOT, "bench/results/latest.md"), `| figure | value | p50 / p99 ms | ratio | target |\n|---|---|---|---|---|\n${md.join("\n")}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
