// `npm run soak -- --minutes N`: mixed load and injected faults for N minutes, then the same checks
// as the crash suite, and a summary. Loopback only.
//
// Two server processes share one PostgreSQL database (the default; `--backend sqlite` runs one
// process on a SQLite file and kills nothing but payments and upstreams):
//   - the STEADY server is never killed: its resident memory is sampled every 5 s, and growth is
//     the median of the last minute against the median of the first minute after the warm-up (the
//     first minute, or a tenth of a shorter run);
//   - the VICTIM server is killed with SIGKILL every 30–90 s (seeded) and restarted.
// Both get the mixed load of test/support/mixed-load.ts (authorize/settle/release, purchases with
// good, timing-out and declined sandbox cards, auto-reload, gateway requests to the simulated
// upstream with injected 500/529 answers). At the end every acknowledged request is replayed with
// its Idempotency-Key, payments are checked for one grant per success, holds for none past TTL,
// and the ledger is verified. Exit status 1 if anything was lost or double-applied, an unexpected
// 5xx was answered, or memory grew by 10% or more.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { postgresBackend } from "../test/support/backends.js";
import { checkAcknowledged, checkPayments, eventually, MixedLoad, overdueHolds, rng, setupTenants, type Ack, type LoadCounts } from "../test/support/mixed-load.js";
import { prepareDatabase, spawnServer, type ServerProcess } from "../test/support/server-process.js";

const HELP = `npm run soak -- [options]

Mixed load with injected faults against real server processes, then checks and a summary.

Options:
  --minutes N        how long to run the load (default 10)
  --backend NAME     postgres (default: two servers on one database, one killed -9 periodically;
                     UC_TEST_PG_URL names the server, default postgres://postgres@127.0.0.1:5432/postgres)
                     or sqlite (one server on a temporary file; payment and upstream faults only)
  --seed N           seed of the load and of the kill schedule (default: time-based, printed)
  --concurrency N    request loops per server (default 6)
  --think-ms N       each loop pauses up to N ms between requests (default 40)
  -h, --help         this text

Exit status 0 when nothing acknowledged was lost, nothing was applied twice, no unexpected 5xx was
answered and the steady server's memory grew by less than 10% after the warm-up.
`;

const USD = 1_000_000;
const TTL_SECONDS = 5;
const ENV = {
  USAGE_CREDITS_SWEEP_SECONDS: "2",
  USAGE_CREDITS_DAILY_PURCHASE_CAP_USD: "100000000",
  USAGE_CREDITS_PURCHASE_MAX_USD: "1000000",
};

interface Sample {
  readonly at: number;
  readonly rss: number;
}

/** Preloaded into the steady server: SIGUSR2 → full GC → `heap-probe <heapUsed> …` on stderr. */
const HEAP_PROBE = fileURLToPath(new URL("./heap-probe.js", import.meta.url));

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

function add(a: LoadCounts, b: LoadCounts): LoadCounts {
  const out = { ...a };
  for (const k of Object.keys(b) as Array<keyof LoadCounts>) out[k] += b[k];
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string", default: "10" },
      backend: { type: "string", default: "postgres" },
      seed: { type: "string" },
      concurrency: { type: "string", default: "6" },
      "think-ms": { type: "string", default: "40" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const minutes = Number(values.minutes);
  const backend = values.backend;
  if (!(minutes > 0) || (backend !== "postgres" && backend !== "sqlite")) {
    process.stderr.write(`--minutes must be a positive number and --backend postgres or sqlite\n\n${HELP}`);
    return 2;
  }
  const seed = Number(values.seed ?? Date.now() % 1_000_000);
  const concurrency = Number(values.concurrency);
  const thinkMs = Number(values["think-ms"]);
  const random = rng(seed);
  const durationMs = minutes * 60_000;
  const warmupMs = Math.min(60_000, durationMs / 10);
  process.stdout.write(`soak: ${minutes} min on ${backend}, seed ${seed}, ${concurrency} loops per server, think ≤ ${thinkMs} ms, warm-up ${Math.round(warmupMs / 1000)} s\n`);

  const pg = backend === "postgres" ? postgresBackend() : undefined;
  const tmp = mkdtempSync(join(tmpdir(), "uc-soak-"));
  const db = pg ? await pg.createDatabase() : `sqlite:${join(tmp, "soak.db")}`;
  const servers: ServerProcess[] = [];
  try {
    const platformKey = await prepareDatabase(db, async (app) => (await app.services.admin.createPlatformKey("soak")).secret);
    const steady = await spawnServer(db, { env: ENV, nodeArgs: ["--expose-gc", "--import", HEAP_PROBE] });
    servers.push(steady);
    const tenants = await setupTenants(steady.url, platformKey, 8, { credits: 200 * USD, autoReload: { threshold: 50 * USD, amount: 100 * USD } });
    // Purchases at 2% keep buying roughly in step with spending, as in a real organization: at
    // 10% (the crash suite's mix) every organization piles up hundreds of live purchase grants,
    // and each authorization's snapshot (which loads them all) grows with the run.
    const options = { concurrency, ttlSeconds: TTL_SECONDS, thinkMs, gateway: true, purchaseShare: 0.02 };
    const steadyLoad = new MixedLoad(tenants, random, { ...options, keyPrefix: `soak-${seed}-s` });
    const victimLoad = new MixedLoad(tenants, random, { ...options, keyPrefix: `soak-${seed}-v` });
    const end = new AbortController();
    const started = Date.now();
    let kills = 0;
    setTimeout(() => end.abort(), durationMs).unref();

    // Memory of the steady server: RSS every 5 s; the live heap after a full GC every 30 s.
    const samples: Sample[] = [];
    const heap: Sample[] = [];
    const sampler = (async () => {
      for (let i = 0; !end.signal.aborted; i++) {
        samples.push({ at: Date.now() - started, rss: steady.rss() });
        if (i % 6 === 5) {
          const seen = steady.output.length;
          steady.child.kill("SIGUSR2");
          await sleep(500);
          const line = steady.output.slice(seen).find((l) => l.startsWith("heap-probe "));
          if (line) heap.push({ at: Date.now() - started, rss: Number(line.split(" ")[1]) });
        }
        await sleep(5_000, end.signal);
      }
    })();
    // Progress, every minute.
    const progress = (async () => {
      for (let m = 1; !end.signal.aborted; m++) {
        await sleep(60_000, end.signal);
        if (end.signal.aborted) break;
        const c = add(steadyLoad.counts, victimLoad.counts);
        process.stdout.write(`  ${m} min: sent ${c.sent}, acknowledged ${c.acknowledged}, kills ${kills}, 5xx ${c.serverErrors}, steady rss ${mib(steady.rss())}\n`);
      }
    })();

    // The victim: killed -9 at random moments, restarted at once (PostgreSQL only).
    const victim = (async () => {
      if (!pg) return;
      while (!end.signal.aborted) {
        const server = await spawnServer(db, { env: ENV });
        servers.push(server);
        const stop = new AbortController();
        const running = victimLoad.run(server.url, stop.signal);
        await sleep(30_000 + Math.floor(random() * 60_000), end.signal);
        if (!end.signal.aborted) {
          await server.kill9();
          kills++;
        }
        stop.abort();
        await running;
        if (end.signal.aborted) await server.stop();
        servers.splice(servers.indexOf(server), 1);
      }
    })();
    await steadyLoad.run(steady.url, end.signal);
    await Promise.all([victim, sampler, progress]);
    const elapsed = Date.now() - started;

    // Checks: after the poller and the sweep have had their turn.
    process.stdout.write("checking: payments, holds, acknowledged operations, ledger …\n");
    const acks: Ack[] = [...steadyLoad.acks, ...victimLoad.acks];
    const payments = await eventually(() => checkPayments(db, acks), (p) => p.pending === 0, 60_000, 1000);
    const overdue = await eventually(() => overdueHolds(db, Date.now(), 10_000), (o) => o.length === 0, 60_000, 1000);
    const replay = await checkAcknowledged(steady.url, acks, tenants, 16);
    const verify = (await (await fetch(`${steady.url}/v1/ledger/verify`, { headers: { "x-api-key": platformKey } })).json()) as { ok: boolean; violations: unknown[] };
    const c = add(steadyLoad.counts, victimLoad.counts);

    // RSS follows the garbage collector's sawtooth (±20% within a minute on this workload while the
    // live heap stays flat), so compare the median of the first minute after the warm-up with the
    // median of the last minute (a shorter run: its first and last fifth).
    const window = Math.min(60_000, (elapsed - warmupMs) / 5);
    const firstOf = (xs: Sample[]) => median(xs.filter((s) => s.at >= warmupMs && s.at < warmupMs + Math.max(window, 30_000)).map((s) => s.rss));
    const lastOf = (xs: Sample[]) => median(xs.filter((s) => s.at >= elapsed - Math.max(window, 30_000)).map((s) => s.rss));
    const first = firstOf(samples);
    const last = lastOf(samples);
    const growth = first > 0 ? ((last - first) / first) * 100 : 0;
    const heapFirst = firstOf(heap);
    const heapLast = lastOf(heap);
    const heapGrowth = heapFirst > 0 ? ((heapLast - heapFirst) / heapFirst) * 100 : 0;
    const peak = Math.max(...samples.map((s) => s.rss));
    const lost = replay.lost.length + payments.lostSuccesses.length + (payments.pending > 0 ? payments.pending : 0);
    const doubled = replay.doubleApplied.length + payments.doubleGranted.length;
    const faults = kills + c.paymentFaults + c.gatewayInjected;

    const rows: Array<[string, string]> = [
      ["duration", `${(elapsed / 60_000).toFixed(1)} min (${backend}${pg ? ", 2 server processes" : ""}), seed ${seed}`],
      ["requests sent", `${c.sent} (${Math.round(c.sent / (elapsed / 1000))}/s)`],
      ["operations acknowledged", String(c.acknowledged)],
      ["  replayed and checked", String(acks.length)],
      ["refused (4xx: out of credits, expired hold, declined card)", String(c.refused)],
      ["faults injected", `${faults} (${kills} kill -9, ${c.paymentFaults} payment faults, ${c.gatewayInjected} upstream 5xx)`],
      ["requests cut by a kill", String(c.cut)],
      ["payments (succeeded)", `${payments.payments} (${payments.succeeded})`],
      ["lost", String(lost)],
      ["double-applied", String(doubled)],
      ["unexpected 5xx", String(c.serverErrors)],
      ["holds pending past TTL", String(overdue.length)],
      ["ledger verify", verify.ok ? "ok" : `FAILED ${JSON.stringify(verify.violations).slice(0, 400)}`],
      ["steady server RSS after warm-up (median of a minute)", mib(first)],
      ["steady server RSS at the end (median of the last minute)", mib(last)],
      ["steady server RSS peak", mib(peak)],
      ["memory growth after warm-up (RSS)", `${growth.toFixed(1)}%`],
      ["live heap after a full GC: after warm-up → at the end", `${mib(heapFirst)} → ${mib(heapLast)} (${heapGrowth.toFixed(1)}%)`],
      ["live heap samples (every 30 s)", heap.map((h) => (h.rss / 2 ** 20).toFixed(1)).join(" ")],
    ];
    process.stdout.write(`\nsoak summary\n${rows.map(([k, v]) => `  ${k.padEnd(58)} ${v}`).join("\n")}\n`);
    for (const x of [...replay.lost, ...replay.doubleApplied, ...payments.doubleGranted, ...payments.lostSuccesses].slice(0, 20)) process.stdout.write(`  ! ${x}\n`);
    const okAll = lost === 0 && doubled === 0 && c.serverErrors === 0 && overdue.length === 0 && verify.ok && growth < 10;
    process.stdout.write(okAll ? "\nsoak: PASS\n" : "\nsoak: FAIL\n");
    return okAll ? 0 : 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await pg?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
