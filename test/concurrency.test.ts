// Hard limits under concurrency: 200 concurrent authorizations against credits (or a spending
// limit) that cover exactly 50 → exactly 50 succeed, nothing goes negative. On SQLite, on
// PostgreSQL, and on PostgreSQL with two separate server processes sharing the database.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { backends, pgSkipped, postgresBackend } from "./support/backends.js";
import { createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));
const EACH = 100_000; // $0.10 per request
const REQUESTS = 200;

async function fire(urls: string[], orgId: string, key: string): Promise<number[]> {
  return Promise.all(
    Array.from({ length: REQUESTS }, async (_, i) => {
      const res = await fetch(`${urls[i % urls.length]}/v1/organizations/${orgId}/authorize`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-haiku-4-5", amount: String(EACH) }),
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
}

const count = (statuses: number[], s: number) => statuses.filter((x) => x === s).length;

async function creditsScenario(h: Harness, urls: string[]) {
  const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
  await grant(h, orgId, { amount: String(50 * EACH) });
  const statuses = await fire(urls, orgId, ownerKey);
  assert.equal(count(statuses, 201), 50, `exactly 50 holds: ${JSON.stringify(statuses)}`);
  assert.equal(count(statuses, 400), REQUESTS - 50, "the rest refused with insufficient_credits (400)");
  const s = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key: ownerKey });
  assert.equal((s.body["usage_credits"] as Record<string, unknown>)["balance"], "0");
  assert.deepEqual((await verifyLedger(h)).violations, []);
}

async function limitScenario(h: Harness, urls: string[]) {
  const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
  await grant(h, orgId, { amount: String(100 * USD) });
  const lim = await h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { body: { scope: "organization", period: "daily", amount: String(50 * EACH) } });
  assert.equal(lim.status, 200);
  const statuses = await fire(urls, orgId, ownerKey);
  assert.equal(count(statuses, 201), 50, `exactly 50 within the limit: ${JSON.stringify(statuses)}`);
  assert.equal(count(statuses, 429), REQUESTS - 50, "the rest refused with spend_limit_reached (429)");
  const s = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key: ownerKey });
  const limits = (s.body["usage_credits"] as Record<string, unknown>)["limits"] as Array<Record<string, unknown>>;
  // Pending holds are `held`, settled spend is `spent` (docs/money-rules.md R4): together exactly the limit.
  assert.equal(limits[0]?.["held"], String(50 * EACH), "held spend equals the limit exactly, never more");
  assert.equal(limits[0]?.["spent"], "0", "nothing settled yet");
  assert.deepEqual((await verifyLedger(h)).violations, []);
}

for (const backend of backends()) {
  describe(`concurrency on ${backend.name} (one server)`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });
    test("200 concurrent authorizations against credits for exactly 50", () => creditsScenario(h, [h.url]));
    test("200 concurrent authorizations against a spending limit for exactly 50", () => limitScenario(h, [h.url]));
  });
}

/** Starts `usage-credits serve` as its own OS process and resolves with its URL. */
function serveProcess(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "serve", "--port", "0", "--no-demo", "--database", databaseUrl], {
      env: { ...process.env, USAGE_CREDITS_LOG: "error", USAGE_CREDITS_MAX_BATCH: "64" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const timer = setTimeout(() => reject(new Error("server process did not start in 30 s")), 30_000);
    child.once("exit", (code) => reject(new Error(`server process exited early (${code})`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

if (!pgSkipped()) {
  describe("concurrency on postgres with two server processes", () => {
    const backend = postgresBackend();
    let h: Harness;
    const children: ChildProcess[] = [];
    let urls: string[] = [];
    before(async () => {
      const db = await backend.createDatabase();
      h = await startHarness(db); // used for setup and reads only
      const servers = await Promise.all([serveProcess(db), serveProcess(db)]);
      children.push(...servers.map((s) => s.child));
      urls = servers.map((s) => s.url);
    });
    after(async () => {
      for (const c of children) {
        c.removeAllListeners("exit");
        c.kill("SIGTERM");
      }
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))));
      await h.close();
      await backend.cleanup();
    });
    test("200 concurrent authorizations split across two processes against credits for exactly 50", () => creditsScenario(h, urls));
    test("200 concurrent authorizations split across two processes against a spending limit for exactly 50", () => limitScenario(h, urls));
  });
}
