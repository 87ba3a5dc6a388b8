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
import type { LoadResult, LoadSpec } from "./loadgen.js";
import { dashboardBench } from "./dashboard.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/src/main.js");
const LOADGEN = join(ROOT, "dist/bench/loadgen.js");
const ECHO = join(ROOT, "dist/bench/echo-server.js");
const UPSTREAM = join(ROOT, "dist/bench/upstream-server.js");
const PG_ADMIN = process.env["UC_BENCH_PG_URL"] ?? process.env["UC_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SECONDS = Number(process.env["UC_BENCH_SECONDS"] ?? 5);

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
    const child = spawn(process.execPath, args, { env: { ...process.env, USAGE_CREDITS_LOG: "error", ...env }, stdio: ["ignore", "pipe", "inherit"] });
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

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOADGEN, "--child", JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", () => {
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch (err) {
        reject(err);
      }
    });
  });
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
    const echoLoad = await load({ targets: [{ url: `${echo.url}/`, headers: { "content-type": "application/json" } }], method: "POST", body: JSON.stringify({ model: "claude-haiku-4-5", amount: "1000" }), connections: 50, seconds: SECONDS, warmupSeconds: 1 });
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
    record({ name: `SQLite: group commit, 1000 requesters over 1,000 orgs (avg batch ${eng.batch.toFixed(0)})`, value: eng.ops, unit: "ops/s", ceiling: "raw SQLite @100/tx", ratio: eng.ops / raw100, target: "≥ 0.5" });
    if (redis !== null) record({ name: "  same, against Redis EVAL (not durable)", value: eng.ops, unit: "ops/s", ceiling: "Redis EVAL", ratio: eng.ops / redis, target: "≥ 1.5" });
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
    const httpLoad = await load(authorizeSpec([server.url], spread, 50));
    await stop([server.child]);
    record({ name: `SQLite: HTTP POST /authorize, 50 connections (${JSON.stringify(httpLoad.statuses)})`, value: httpLoad.rps, unit: "req/s", p50: httpLoad.p50, p99: httpLoad.p99, ceiling: "bare node:http", ratio: httpLoad.rps / echoLoad.rps, target: "≥ 0.6" });
    record({ name: "  p99 against the bare server's p99", value: httpLoad.p99, unit: "ms", ceiling: "bare p99", ratio: httpLoad.p99 / echoLoad.p99, target: "≤ 2" });

    // ---- the gateway: Messages API through usage credits vs the simulated upstream alone
    process.stdout.write("\nGateway — POST /v1/messages (non-streaming, max_tokens 64), SQLite\n");
    const message = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "Say hello in five words." }] });
    const upstream = await startProcess([UPSTREAM]);
    children.push(upstream.child);
    const upstreamLoad = await load({ targets: [{ url: `${upstream.url}/v1/messages`, headers: { "content-type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01" } }], method: "POST", body: message, connections: 50, seconds: SECONDS, warmupSeconds: 1 });
    await stop([upstream.child]);
    record({ name: `simulated upstream alone (${JSON.stringify(upstreamLoad.statuses)})`, value: upstreamLoad.rps, unit: "req/s", p50: upstreamLoad.p50, p99: upstreamLoad.p99 });
    const gateway = await startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", sqliteUrl], { USAGE_CREDITS_UPSTREAM: "simulated" });
    children.push(gateway.child);
    const gatewayLoad = await load({
      targets: spread.slice(0, 100).map((t) => ({ url: `${gateway.url}/v1/messages`, headers: { "content-type": "application/json", "x-api-key": t.key, "anthropic-version": "2023-06-01" } })),
      method: "POST",
      body: message,
      connections: 50,
      seconds: SECONDS,
      warmupSeconds: 1,
    });
    await stop([gateway.child]);
    record({ name: `gateway + simulated upstream, hold → forward → settle (${JSON.stringify(gatewayLoad.statuses)})`, value: gatewayLoad.rps, unit: "req/s", p50: gatewayLoad.p50, p99: gatewayLoad.p99, ceiling: "upstream alone", ratio: gatewayLoad.rps / upstreamLoad.rps });

    // ---- ours on PostgreSQL
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
      const oneLoad = await load(authorizeSpec([one.url], pTenants, 50));
      await stop([one.child]);
      record({ name: `PostgreSQL: HTTP authorize, 1 instance (${JSON.stringify(oneLoad.statuses)})`, value: oneLoad.rps, unit: "req/s", p50: oneLoad.p50, p99: oneLoad.p99 });
      const two = await Promise.all([startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", pgDb.url]), startProcess([MAIN, "serve", "--port", "0", "--no-demo", "--database", pgDb.url])]);
      children.push(...two.map((t) => t.child));
      const twoLoad = await load(authorizeSpec(two.map((t) => t.url), pTenants, 50));
      await stop(two.map((t) => t.child));
      record({ name: `PostgreSQL: HTTP authorize, 2 instances (${JSON.stringify(twoLoad.statuses)})`, value: twoLoad.rps, unit: "req/s", p50: twoLoad.p50, p99: twoLoad.p99, ceiling: "1 instance", ratio: twoLoad.rps / oneLoad.rps, target: "≥ 1.3" });
    } finally {
      await pgDb.drop();
    }

    // ---- the dashboard: page loads in Chromium with 10,000 transactions and 90 days of usage
    process.stdout.write("\nDashboard — page loads in Chromium (10,000 transactions, 90 days of usage), SQLite\n");
    for (const f of await dashboardBench((line) => process.stdout.write(`  ${line}\n`))) figures.push(f);
  } finally {
    await stop(children.filter((c) => c.exitCode === null));
    rmSync(tmp, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\nTotal time ${seconds.toFixed(0)} s\n`);
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
