// Issue 16, acceptance 2: the event loop keeps answering /healthz within 5 ms while a large batch
// commits and while a 90-day breakdown of a large organization runs.
//
// - The large organization: 300,000 usage records over 90 days (3 models × 4 surfaces × 5 members
//   × 2 speeds, ~10,800 rollup cells), written straight into the SQLite file and rolled up by
//   migrations 12's and 16's own backfill statements. Its breakdown equals the records' sums.
// - The large batch: every COMMIT takes two seconds (test/support/slow-commit.ts, a disk whose
//   fsync is slow). One usage event starts a COMMIT; 300 more arrive meanwhile and wait, and the next
//   batch commits 256 of them at once. That second COMMIT is probed from 300 to 1,700 ms after it
//   began (every request has arrived and been decided by then: the main thread has nothing to do
//   but wait for the writer thread).
// - The load (breakdowns back to back, the burst) comes from a driver process, so this process
//   only probes.
//
// How "within 5 ms" is judged on a shared 2-core machine (other test files, other sessions, load
// averages above 10): a probe sends our /healthz and the same request to an idle bare node:http
// server in its own process (the control) at the same moment. Each probe's round trip is
// discounted by the time the server's main thread and this process's thread spent *waiting for a
// CPU* during it (runqueue wait, /proc/<pid>/task/<tid>/schedstat): that is the machine's stall,
// not our event loop's. What remains is the time our event loop took to answer: on a CPU running
// our code, or blocked (a COMMIT's fsync or a scan on the main thread shows here in full, since a
// thread sleeping in a syscall or running is not waiting for a CPU). In every window (one second of
// breakdowns, or one COMMIT) that is the p99 of the discounted round trips, and over 5 windows
// the median window's must be ≤ 5 ms, flat. A window in which even the idle control's p99 exceeded
// 20 ms is measured again (for up to a minute, then the least stalled of them make up the five):
// the machine was stalled beyond what runqueue accounting sees (page faults, reclaim, the kernel's
// loopback work, a core shared with a busy sibling thread running our code slower), and single
// windows then exceed the bound (seen at load averages of 15–20: 6–100 ms in a window among others
// ≤ 1 ms). A blocked event loop exceeds it in every window.
// Checked the other way round: with the COMMIT's wait or the breakdown's scan moved onto the main
// thread (temporary patches), every window fails by hundreds of milliseconds.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { usageDailyBackfill, usageHourlyBackfill } from "../src/adapters/store/usage-rollup-sql.js";
import { sqliteBackend } from "./support/backends.js";
import { setupTenants } from "./support/mixed-load.js";
import { prepareDatabase, spawnServer, type ServerProcess } from "./support/server-process.js";

const PRELOAD = fileURLToPath(new URL("./support/slow-commit.js", import.meta.url));
const DRIVER = fileURLToPath(new URL("./support/load-driver.js", import.meta.url));
const RECORDS = 300_000;
const DAY_MS = 86_400_000;
const BOUND_MS = 5;
/** The idle control's p99 above which the machine itself was stalled and a window is measured again. */
const STALLED_MS = 20;
/** Windows per phase, and the time allowed to find quiet ones on a busy machine. */
const WINDOWS = 5;
const BUDGET_MS = 60_000;

/** One GET on a keep-alive connection; resolves with the round trip in ms. */
function timedGet(agent: http.Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.once("end", () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`${url.href} answered ${res.statusCode}`))));
      })
      .once("error", reject);
  });
}

/** A process's main thread's time waiting for a CPU so far (ms): /proc/<pid>/task/<pid>/schedstat's second field. */
function runqueueWait(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
}

/** The idle control: a bare node:http server in its own process. */
async function startControl(): Promise<{ url: URL; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", `const s = require("node:http").createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () => console.log(s.address().port));`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve) => child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim())));
  return { url: new URL(`http://127.0.0.1:${port}/healthz`), child };
}

/** test/support/load-driver.ts in its own process; `done` resolves with its JSON result line. */
function driver(spec: unknown): { child: ChildProcess; line: () => Promise<string>; done: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [DRIVER, JSON.stringify(spec)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  const done = new Promise<Record<string, unknown>>((resolve, reject) =>
    child.once("exit", (code) => {
      const result = out.split("\n").filter((l) => l.startsWith("{")).at(-1);
      if (result) resolve(JSON.parse(result) as Record<string, unknown>);
      else reject(new Error(`the load driver exited with ${String(code)} and no result`));
    }),
  );
  done.catch(() => undefined); // awaited where it matters; a test that failed first stops the server under it
  return { child, line: () => new Promise((r) => child.stdout?.once("data", (d: Buffer) => r(d.toString()))), done };
}

/** The slow-commit marker file: COMMITs begun, in order, and ended. */
function commitLog(marker: string): { begun: string[]; ended: Set<string> } {
  const begun: string[] = [];
  const ended = new Set<string>();
  if (existsSync(marker)) {
    for (const line of readFileSync(marker, "utf8").split("\n")) {
      const [what, id] = line.split(" ");
      if (what === "begin" && id) begun.push(id);
      if (what === "end" && id) ended.add(id);
    }
  }
  return { begun, ended };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const p99 = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? Number.NaN;
const f = (x: number) => x.toFixed(2);

interface Window {
  /** p99 of our /healthz round trips, less the runqueue waits of the two threads involved. */
  readonly ours: number;
  /** p99 of our raw round trips, and of the idle control's. */
  readonly raw: number;
  readonly control: number;
  readonly samples: number;
}

describe("the event loop while a large batch commits and a large breakdown runs", () => {
  const backend = sqliteBackend();
  after(() => backend.cleanup());

  test(`/healthz within ${BOUND_MS} ms (p99, less the machine's runqueue stall) while 90-day breakdowns over ${RECORDS.toLocaleString("en-US")} records run, and while a batch of 256 operations spends two seconds in COMMIT`, async (t) => {
    const db = await backend.createDatabase();
    const marker = `${db.slice("sqlite:".length)}.commits`;
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("event loop")).secret);
    const env = { UC_TEST_SLOW_COMMIT: marker, UC_TEST_SLOW_COMMIT_MS: "2000", USAGE_CREDITS_METRICS_PUBLIC: "true" };
    const start = () => spawnServer(db, { env, nodeArgs: ["--import", PRELOAD] });
    let server: ServerProcess = await start();
    const control = await startControl();
    let loop: ReturnType<typeof driver> | undefined;
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })] as const;
    try {
      const [tenant] = await setupTenants(server.url, platformKey, 1, { credits: 1_000_000_000_000 });
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
        file.prepare(usageHourlyBackfill("WHERE org_id = ?")).run(tenant.orgId);
      })();
      file.close();
      server = await start();
      const pid = server.child.pid ?? 0;
      const ours = new URL(`${server.url}/healthz`);
      const key = { "x-api-key": tenant.key };

      /** Probes ours and the control at once, repeatedly, until `done()`. */
      const probeWindow = async (done: () => boolean): Promise<Window> => {
        const discounted: number[] = [];
        const raw: number[] = [];
        const idle: number[] = [];
        while (!done()) {
          const w0 = runqueueWait(pid) + runqueueWait(process.pid);
          const [o, c] = await Promise.all([timedGet(agents[0], ours), timedGet(agents[1], control.url)]);
          const waited = runqueueWait(pid) + runqueueWait(process.pid) - w0;
          discounted.push(o - waited);
          raw.push(o);
          idle.push(c);
        }
        return { ours: p99(discounted), raw: p99(raw), control: p99(idle), samples: raw.length };
      };

      /** Windows until WINDOWS of them count (the machine not stalled) or the budget is spent. */
      const measure = async (name: string, window: () => Promise<Window | "late">): Promise<void> => {
        const counted: Window[] = [];
        const stalled: Window[] = [];
        let late = 0;
        const until = performance.now() + BUDGET_MS;
        while (counted.length < WINDOWS && performance.now() < until) {
          const w = await window();
          if (w === "late") late++;
          else (w.control <= STALLED_MS ? counted : stalled).push(w);
        }
        const show = (ws: Window[]) => ws.map((w) => `${f(w.ours)} (raw ${f(w.raw)}, control ${f(w.control)}, ${w.samples} probes)`).join("; ") || "none";
        // Short of quiet windows, the least stalled of the others make up the number.
        const used = [...counted, ...[...stalled].sort((a, b) => a.control - b.control)].slice(0, WINDOWS);
        assert.equal(used.length, WINDOWS, `${name}: ${late} set-ups too late, no window measured`);
        const median = [...used].sort((a, b) => a.ours - b.ours)[Math.floor(WINDOWS / 2)]?.ours ?? Number.NaN;
        t.diagnostic(`${name}: /healthz p99 less runqueue waits, ms: ${show(used)}; median ${f(median)}. ${counted.length} quiet windows of ${counted.length + stalled.length}${late ? `; ${late} set-ups too late` : ""}`);
        assert.ok(median <= BOUND_MS, `${name}: /healthz p99 less runqueue waits ${f(median)} ms in the median window: ${show(used)}`);
      };

      // (b) 90-day breakdowns back to back, one second per window.
      type Breakdown = { totals: { requests: number; cost: string; input_tokens: number } };
      const first = (await (await fetch(`${server.url}/v1/organizations/${tenant.orgId}/usage/breakdown?days=90`, { headers: key })).json()) as Breakdown;
      assert.equal(first.totals.requests, RECORDS, "the breakdown counted every record");
      assert.equal(first.totals.cost, String(RECORDS * 1000), "and summed them exactly");
      assert.equal(first.totals.input_tokens, RECORDS * 10);
      loop = driver({ loop: { url: `${server.url}/v1/organizations/${tenant.orgId}/usage/breakdown?days=90`, headers: key } });
      await loop.line();
      await sleep(300); // the first breakdown is under way
      await measure("breakdowns", async () => {
        const until = performance.now() + 1000;
        return probeWindow(() => performance.now() >= until);
      });
      loop.child.kill("SIGTERM");
      const { times } = (await loop.done) as { times: number[] };
      times.sort((x, y) => x - y);
      assert.ok(times.length >= WINDOWS, "breakdowns ran while /healthz was probed");
      t.diagnostic(`${times.length} breakdowns, median ${f(times[Math.floor(times.length / 2)] ?? 0)} ms`);

      // (a) a large batch committing.
      let event = 0;
      const usage = () => ({
        url: `${server.url}/v1/organizations/${tenant.orgId}/usage_events`,
        headers: { ...key, "content-type": "application/json" },
        body: JSON.stringify({ event_id: `el-${event++}`, model: "claude-haiku-4-5", speed: "standard", usage: { input_tokens: 100, output_tokens: 10 } }),
      });
      const largeBatches = async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        return Number(/usage_credits_batch_size_count (\d+)/.exec(text)?.[1] ?? 0) - Number(/usage_credits_batch_size_bucket\{le="128"\} (\d+)/.exec(text)?.[1] ?? 0);
      };
      let measured = 0;
      const largeBefore = await largeBatches();
      await measure("a large batch committing", async () => {
        const burst = driver({ burst: Array.from({ length: 300 }, usage) });
        await burst.line(); // ready
        rmSync(marker, { force: true });
        writeFileSync(`${marker}.on`, "");
        const one = usage();
        const prime = fetch(one.url, { method: "POST", headers: one.headers, body: one.body });
        while (commitLog(marker).begun.length < 1) await sleep(2);
        const firstSeen = performance.now();
        const sent = burst.line();
        burst.child.stdin?.write("go\n");
        await sent;
        // The burst was sent while the first COMMIT had at least 600 ms to go: its requests wait for
        // the next batch, and the main thread has only to read and decide them meanwhile. (If this
        // process or the driver was later than that, the machine was stalled: not a window.)
        const early = performance.now() - firstSeen <= 1400;
        while (commitLog(marker).begun.length < 2) await sleep(2);
        // The COMMIT lasts at least 2,000 ms from its "begin" line: probe from 300 to 1,700 ms after it.
        const begun = performance.now();
        await sleep(300);
        const w = await probeWindow(() => performance.now() - begun >= 1700);
        // (A probe still waiting when the COMMIT ended waited ≥ 300 ms: the event loop was blocked,
        // or the machine stalled, which the control shows.)
        rmSync(`${marker}.on`);
        assert.equal((await prime).status, 201);
        for (const status of (await burst.done)["statuses"] as number[]) assert.equal(status, 201);
        if (!early) return "late";
        measured++;
        return w;
      });
      assert.ok((await largeBatches()) - largeBefore >= measured, "every measured COMMIT was a batch of more than 128 operations");
    } finally {
      loop?.child.kill("SIGTERM");
      for (const a of agents) a.destroy();
      control.child.kill();
      await server.stop();
    }
  });
});
