// Dashboard page loads (`npm run bench:dashboard`, also the last section of `npm run bench`):
// one organization seeded with 90 days of usage (5,000 usage events over 5 members, 3 models,
// 4 surfaces, both speeds: 10,000 ledger transactions), then each page is loaded in Chromium
// and timed from navigation to its "page ready" marker (<body data-ready>), five times each;
// plus the slowest API call behind each page (the browser's resource timing) and the usage
// page switched to 90 days. The server runs in this process on a SQLite file with a manual
// clock (so 90 days of history can be written now).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { ManualClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";

export interface PageFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly p50?: number;
  readonly p99?: number;
  readonly target?: string;
}

const DAY = 86_400_000;
const EVENTS = 5_000;
const DAYS = 90;
const RUNS = 5;
const PASSWORD = "benchmark password";
const MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6"] as const;
const SURFACES = ["interactive", "sdk", "cli_headless", "ci"] as const;

async function json(url: string, key: string, method = "GET", body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method, headers: { "x-api-key": key, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const parsed = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

export async function dashboardBench(log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<PageFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "uc-dash-bench-"));
  const end = Date.parse("2026-06-01T12:00:00Z");
  const clock = new ManualClock(end - DAYS * DAY);
  const config = loadConfig({ USAGE_CREDITS_PORT: "0", USAGE_CREDITS_LOG: "error" }, { database: `sqlite:${join(dir, "bench.db")}` });
  const app = await createApp(config, { clock, log: silentLogger });
  const url = await app.listen();
  const figures: PageFigure[] = [];
  try {
    const platform = (await app.services.admin.createPlatformKey("bench")).secret;
    const org = await json(`${url}/v1/organizations`, platform, "POST", {
      name: "Bench Org",
      plan_id: "enterprise_usage",
      usage_credits_enabled: true,
      fast_mode_enabled: true,
      fast_mode_fallback: false,
      owner: { email: "owner@bench.test", name: "Owner" },
    });
    const orgId = String(org["id"]);
    const ownerId = String((org["owner"] as Record<string, unknown>)["id"]);
    const base = `${url}/v1/organizations/${orgId}`;
    await json(`${base}/grants`, platform, "POST", { kind: "promotional", amount: String(1_000_000 * 1_000_000), description: "bench" });
    const members = [ownerId];
    for (let i = 0; i < 4; i++) members.push(String((await json(`${base}/members`, platform, "POST", { email: `m${i}@bench.test`, name: `M${i}`, role: "member" }))["id"]));
    const set = await app.services.sessions.setPassword(orgId, ownerId, PASSWORD);
    if (!set.ok) throw new Error(set.error.message);

    // 90 days of usage: 50 waves of 100 concurrent usage events, the clock moving 1.8 days per wave.
    const seeded = Date.now();
    const waves = 50;
    for (let w = 0; w < waves; w++) {
      await Promise.all(
        Array.from({ length: EVENTS / waves }, (_, i) => {
          const n = w * (EVENTS / waves) + i;
          const model = MODELS[n % MODELS.length] ?? "claude-sonnet-4-6";
          return json(`${base}/usage_events`, platform, "POST", {
            event_id: `bench-${n}`,
            member_id: members[n % members.length],
            surface: SURFACES[n % SURFACES.length],
            model,
            speed: model === "claude-opus-4-6" && n % 2 === 0 ? "fast" : "standard",
            usage: { input_tokens: 2_000 + (n % 700) * 10, output_tokens: 300 + (n % 97) * 5, cache_read_input_tokens: 500 },
          });
        }),
      );
      clock.advance((DAYS * DAY) / waves);
    }
    const txs = await app.services.store.read((tx) => tx.statements.ledgerBetween(orgId, 0, clock.now() + 1));
    log(`seeded ${EVENTS} usage events over ${DAYS} days (${txs.length} ledger transactions) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    const browser = await chromium.launch({ executablePath: process.env["UC_CHROMIUM"] ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${url}/dashboard/`);
      await page.waitForSelector('body[data-ready="signin"]');
      await page.fill('input[name="email"]', "owner@bench.test");
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForSelector('body[data-ready="overview"]');
      let visit = 0;
      const time = async (p: Page, name: string): Promise<{ ms: number; api: number }> => {
        const t0 = performance.now();
        await p.goto(`${url}/dashboard/?v=${++visit}#/${name}`);
        await p.waitForSelector(`body[data-ready="${name}"]`, { timeout: 30_000 });
        const ms = performance.now() - t0;
        const api = Number(await p.evaluate(`Math.max(0, ...performance.getEntriesByType("resource").filter((e) => e.name.includes("/v1/")).map((e) => e.duration))`));
        return { ms, api };
      };
      for (const name of ["overview", "usage", "credits", "limits", "members", "webhooks", "audit"]) {
        await time(page, name); // warm-up: modules cached, statements prepared
        const runs: Array<{ ms: number; api: number }> = [];
        for (let i = 0; i < RUNS; i++) runs.push(await time(page, name));
        const ms = runs.map((r) => r.ms);
        const f: PageFigure = { name: `dashboard ${name}: navigation → page ready`, value: percentile(ms, 50), unit: "ms", p50: percentile(ms, 50), p99: Math.max(...ms), target: "< 1000" };
        figures.push(f);
        log(`${f.name.padEnd(48)} p50 ${f.value.toFixed(0).padStart(5)} ms  max ${Math.max(...ms).toFixed(0).padStart(5)} ms  slowest API call ${Math.max(...runs.map((r) => r.api)).toFixed(0)} ms`);
      }
      // The usage page switched to 90 days: the breakdown over every record, charts, table.
      const ninety: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) {
        await time(page, "usage");
        await page.selectOption('select[name="range"]', "90");
        await page.evaluate('delete document.body.dataset["ready"]');
        const t0 = performance.now();
        await page.click('button[type="submit"]');
        await page.waitForSelector('body[data-ready="usage"]');
        if (i > 0) ninety.push(performance.now() - t0);
      }
      const rows = await page.locator('[aria-label="Usage table"] tbody tr').count();
      const f: PageFigure = { name: "dashboard usage, 90 days (Show → ready)", value: percentile(ninety, 50), unit: "ms", p50: percentile(ninety, 50), p99: Math.max(...ninety), target: "< 1000" };
      figures.push(f);
      log(`${f.name.padEnd(48)} p50 ${f.value.toFixed(0).padStart(5)} ms  max ${Math.max(...ninety).toFixed(0).padStart(5)} ms  (${rows} table rows)`);
      // The API calls alone, from Node (no browser): the breakdown over 90 days and a page of transactions.
      for (const [label, path] of [
        ["GET usage/breakdown?days=90", "/usage/breakdown?days=90"],
        ["GET transactions?limit=50", "/transactions?limit=50"],
        ["GET statements/<this month>", `/statements/${new Date(clock.now()).toISOString().slice(0, 7)}`],
      ] as const) {
        const ms: number[] = [];
        for (let i = 0; i < RUNS + 1; i++) {
          const t0 = performance.now();
          await json(`${base}${path}`, platform);
          if (i > 0) ms.push(performance.now() - t0);
        }
        const g: PageFigure = { name: `API ${label}`, value: percentile(ms, 50), unit: "ms", p50: percentile(ms, 50), p99: Math.max(...ms) };
        figures.push(g);
        log(`${g.name.padEnd(48)} p50 ${g.value.toFixed(0).padStart(5)} ms  max ${Math.max(...ms).toFixed(0).padStart(5)} ms`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  dashboardBench().catch((err: unknown) => {
    process.stderr.write(`dashboard bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
