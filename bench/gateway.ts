// `npm run bench:gateway [-- --compare <checkout>] [--rounds N] [--seconds S] [--upstream http|simulated|both]`
//
// The gateway's overhead, like for like: this checkout's gateway and (with --compare) another
// checkout's built gateway (a git worktree of an older commit, `dist/` built, node_modules present)
// measured by the SAME load generator, in front of the SAME upstream, beside the SAME bare
// node:http pass-through proxy, in one run. The targets alternate within each round (the order
// rotates round by round) so that a noisy machine hurts every target alike; the report gives the
// median of the rounds and their spread (min–max).
//
// Upstreams: `http` = the simulated upstream in its own process, over loopback HTTP (what the
// proxy ceiling sits in front of); `simulated` = each gateway's in-process simulator (the old
// bench's method; no proxy ceiling, no network hop). Each checkout seeds its own SQLite file with
// its own code (100 organizations, $1M each), so a schema difference never matters.
// `--profile DIR` writes each gateway's V8 CPU profiles (main thread and SQLite threads) into
// DIR/<checkout>-<upstream>/; `node dist/bench/profile-summary.js FILE` lists where the time went.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cpuSeconds } from "./cpu.js";
import type { LoadResult, LoadSpec } from "./loadgen.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LOADGEN = join(ROOT, "dist/bench/loadgen.js");
const UPSTREAM = join(ROOT, "dist/bench/upstream-server.js");
const PROXY = join(ROOT, "dist/bench/proxy-server.js");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const COMPARE = arg("--compare") ?? arg("--gateway-compare");
const ROUNDS = Number(arg("--rounds") ?? 5);
const SECONDS = Number(arg("--seconds") ?? 4);
const UPSTREAM_MODE = arg("--upstream") ?? "both";
const CONNECTIONS = Number(arg("--connections") ?? 50);
/** Writes a V8 CPU profile of each gateway (every thread) into this folder (node --cpu-prof). */
const PROFILE = arg("--profile");
const MESSAGE = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "Say hello in five words." }] });

interface Started {
  readonly url: string;
  readonly child: ChildProcess;
}

function startProcess(args: string[], env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, USAGE_CREDITS_LOG: "error", ...env }, stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not start`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePromise({ url: m[1], child });
      }
    });
  });
}

function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [LOADGEN, "--child", JSON.stringify(spec)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", () => {
      try {
        resolvePromise(JSON.parse(out) as LoadResult);
      } catch (err) {
        reject(err);
      }
    });
  });
}

interface Checkout {
  readonly label: string;
  readonly root: string;
}

/** Seeds a fresh SQLite file with the checkout's own code; returns the database URL and the keys. */
async function seedWith(checkout: Checkout, dir: string): Promise<{ url: string; keys: string[] }> {
  const url = `sqlite:${join(dir, `${checkout.label}.db`)}`;
  const workload = (await import(pathToFileURL(join(checkout.root, "dist/bench/workload.js")).href)) as {
    benchApp(url: string, maxBatch: number): Promise<{ close(): Promise<void> }>;
    seed(app: unknown, n: number): Promise<Array<{ key: string }>>;
  };
  const app = await workload.benchApp(url, 256);
  const tenants = await workload.seed(app, 100);
  await app.close();
  return { url, keys: tenants.map((t) => t.key) };
}

interface Target {
  readonly name: string;
  readonly server: Started;
  /** Keys to spread the load over (one organization per key); ["bench"] for the bare proxy. */
  readonly keys: readonly string[];
}

const spec = (t: Target, connections: number): LoadSpec => ({
  targets: t.keys.map((key) => ({ url: `${t.server.url}/v1/messages`, headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" } })),
  method: "POST",
  body: MESSAGE,
  connections,
  seconds: SECONDS,
  warmupSeconds: 1,
});

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  one50: number;
  cpuUs: number;
  bad: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function main(): Promise<void> {
  const checkouts: Checkout[] = [{ label: "new", root: ROOT }];
  if (COMPARE) checkouts.push({ label: "old", root: resolve(COMPARE) });
  const tmp = mkdtempSync(join(tmpdir(), "uc-bench-gw-"));
  const children: ChildProcess[] = [];
  try {
    const upstream = await startProcess([UPSTREAM]);
    children.push(upstream.child);
    const targets: Target[] = [];
    if (UPSTREAM_MODE === "http" || UPSTREAM_MODE === "both") {
      const proxy = await startProcess([PROXY, upstream.url]);
      children.push(proxy.child);
      targets.push({ name: "bare proxy → upstream process", server: proxy, keys: ["bench"] });
    }
    for (const c of checkouts) {
      const modes = UPSTREAM_MODE === "both" ? ["http", "simulated"] : [UPSTREAM_MODE];
      for (const mode of modes) {
        const db = await seedWith({ ...c, label: `${c.label}-${mode}` }, tmp);
        const profile = PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${join(resolve(PROFILE), `${c.label}-${mode}`)}`] : [];
        const server = await startProcess([...profile, join(c.root, "dist/src/main.js"), "serve", "--port", "0", "--no-demo", "--database", db.url], {
          USAGE_CREDITS_UPSTREAM: mode === "http" ? upstream.url : "simulated",
          USAGE_CREDITS_METRICS_PUBLIC: "true",
        });
        children.push(server.child);
        targets.push({ name: `${c.label} gateway → ${mode === "http" ? "upstream process" : "in-process simulator"}`, server, keys: db.keys });
      }
    }
    process.stdout.write(`gateway compare: ${checkouts.map((c) => `${c.label}=${c.root}`).join("  ")}\n${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections and 1 connection, POST /v1/messages max_tokens 64\n`);
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
      for (const t of order) {
        const pid = t.server.child.pid ?? 0;
        const cpu0 = cpuSeconds(pid);
        const many = await load(spec(t, CONNECTIONS));
        const cpu1 = cpuSeconds(pid);
        const one = await load(spec(t, 1));
        const bad = Object.entries(many.statuses).reduce((n, [s, k]) => (s === "200" ? n : n + k), 0);
        // CPU over the whole load (warm-up included) per request answered, approximately.
        const perReq = ((cpu1 - cpu0) * 1e6) / Math.max(1, many.requests * ((SECONDS + 1) / SECONDS));
        samples.get(t.name)!.push({ rps: many.rps, p50: many.p50, p99: many.p99, one50: one.p50, cpuUs: perReq, bad });
        process.stdout.write(`round ${round + 1}  ${t.name.padEnd(40)} ${many.rps.toFixed(0).padStart(6)} req/s  p50 ${many.p50.toFixed(2)} ms  1-conn p50 ${one.p50.toFixed(2)} ms  cpu ${perReq.toFixed(0)} µs/req${bad ? `  NON-200: ${JSON.stringify(many.statuses)}` : ""}\n`);
      }
    }
    const proxyName = targets.find((t) => t.name.startsWith("bare proxy"))?.name;
    const proxyRps = proxyName ? median(samples.get(proxyName)!.map((s) => s.rps)) : Number.NaN;
    const proxyOne = proxyName ? median(samples.get(proxyName)!.map((s) => s.one50)) : Number.NaN;
    process.stdout.write(`\n| target | req/s @${CONNECTIONS} median (min–max) | × bare proxy | p50 @${CONNECTIONS} ms | p50 @1 ms median (min–max) | added p50 @1 vs proxy | CPU µs/req |\n|---|---|---|---|---|---|---|\n`);
    for (const t of targets) {
      const s = samples.get(t.name)!;
      const rps = s.map((x) => x.rps);
      const one = s.map((x) => x.one50);
      const ratio = proxyName && t.name !== proxyName ? (median(rps) / proxyRps).toFixed(2) : "";
      const added = proxyName && t.name !== proxyName && t.name.includes("upstream process") ? `+${(median(one) - proxyOne).toFixed(2)} ms` : "";
      process.stdout.write(
        `| ${t.name} | ${median(rps).toFixed(0)} (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}) | ${ratio} | ${median(s.map((x) => x.p50)).toFixed(2)} | ${median(one).toFixed(2)} (${Math.min(...one).toFixed(2)}–${Math.max(...one).toFixed(2)}) | ${added} | ${median(s.map((x) => x.cpuUs)).toFixed(0)} |\n`,
      );
    }
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once("exit", r)))));
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
