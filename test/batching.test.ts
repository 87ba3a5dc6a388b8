// Group commit gives exactly the results of one-at-a-time execution: the same seeded random
// concurrent workload is run with batches of up to 256 and with batches of 1, on both stores, and
// every refusal, hold, charge and final balance must match. Plus: an acknowledged operation survives
// `kill -9` of the server right after its reply.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { ManualClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { backends, openTestStore } from "./support/backends.js";
import { T0 } from "./support/harness.js";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));

type Op = { kind: "authorize"; org: number; amount: number } | { kind: "settle"; hold: number; amount: number } | { kind: "release"; hold: number };

/** Waves of operations; each wave is submitted all at once, so one batch holds many of them. */
function workload(seed: number): Op[][] {
  const rnd = fc.sample(
    fc.array(
      fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.record({ kind: fc.constant("authorize" as const), org: fc.nat(3), amount: fc.integer({ min: 1, max: 150_000 }) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant("settle" as const), hold: fc.nat(500), amount: fc.integer({ min: 0, max: 120_000 }) }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant("release" as const), hold: fc.nat(500) }) },
        ),
        { minLength: 20, maxLength: 80 },
      ),
      { minLength: 6, maxLength: 6 },
    ),
    { seed, numRuns: 1 },
  );
  return rnd[0] ?? [];
}

interface Run {
  readonly outcomes: string[];
  readonly balances: number[];
  readonly holds: string[];
  readonly batches: { batches: number; operations: number; largest: number; cached: number };
}

/** `cachedOrgs`: USAGE_CREDITS_ORG_CACHE ("0": every batch reads its snapshot); `stepMs`: the clock's advance per wave. */
async function execute(databaseUrl: string, maxBatch: number, waves: Op[][], cachedOrgs = "10000", stepMs = 1000): Promise<Run> {
  const clock = new ManualClock(T0);
  const app: App = await createApp(loadConfig({ USAGE_CREDITS_MAX_BATCH: String(maxBatch), USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_ORG_CACHE: cachedOrgs }, { database: databaseUrl }), {
    clock,
    log: silentLogger,
    store: await openTestStore(databaseUrl),
  });
  try {
    const { admin, engine } = app.services;
    const orgs: Array<{ orgId: string; memberId: string }> = [];
    for (let i = 0; i < 4; i++) {
      const out = await admin.createOrg({ name: `o${i}`, planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: `o${i}@eq.test`, name: "o" } });
      assert.ok(out.kind === "fresh" && out.result.ok);
      const org = out.result.value.org.id;
      orgs.push({ orgId: org, memberId: out.result.value.owner.id });
      await engine.createGrant({ orgId: org, kind: "purchase", amount: 1_500_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
      await engine.createGrant({ orgId: org, kind: "promotional", amount: 500_000, priority: 5, expiresAt: T0 + 3_600_000, surfaces: null, memberId: null, description: "" });
      // A daily limit on two orgs, so limit refusals are part of the workload too.
      if (i % 2 === 0) await admin.setLimit(org, { scope: "organization", scopeId: null, period: "daily", amount: 900_000 });
    }
    const holds: Array<{ orgId: string; id: string }> = [];
    const outcomes: string[] = [];
    const before = { ...engine.batcher.stats };
    for (const wave of waves) {
      clock.advance(stepMs);
      const known = holds.length;
      const results = await Promise.all(
        wave.map(async (op) => {
          if (op.kind === "authorize") {
            const o = orgs[op.org];
            assert.ok(o);
            const r = await engine.authorize({ orgId: o.orgId, memberId: o.memberId, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: op.amount } });
            return { op, r };
          }
          const h = holds[op.hold % Math.max(1, known)];
          if (!h) return { op, r: undefined };
          const r = op.kind === "settle" ? await engine.settle(h.orgId, h.id, { amount: op.amount }) : await engine.release(h.orgId, h.id);
          return { op, r };
        }),
      );
      // Record in submission order (the order the batcher applies them).
      for (const { op, r } of results) {
        if (!r) {
          outcomes.push("skip");
          continue;
        }
        assert.equal(r.kind, "fresh");
        const res = r.kind === "fresh" ? r.result : undefined;
        if (!res?.ok) {
          outcomes.push(`${op.kind}:${res?.error.code}`);
          continue;
        }
        const v = res.value as { hold: { id: string; orgId: string; amount: number; draws: ReadonlyArray<{ amount: number }> }; balance: number; charged?: number; debt?: number };
        if (op.kind === "authorize") holds.push({ orgId: v.hold.orgId, id: v.hold.id });
        outcomes.push(`${op.kind}:ok:${v.hold.amount}:${v.hold.draws.map((d) => d.amount).join("+")}:${v.charged ?? ""}:${v.debt ?? ""}:${v.balance}`);
      }
    }
    const balances: number[] = [];
    for (const o of orgs) {
      const s = await admin.usageSummary(o.orgId, o.memberId);
      assert.ok(s.ok);
      balances.push(s.value.balance);
    }
    const holdStates = await app.services.store.read(async (tx) => Promise.all(holds.map(async (h) => {
      const row = await tx.getHold(h.id);
      return `${row?.status}:${row?.settledAmount}`;
    })));
    assert.deepEqual((await admin.verify()).violations, []);
    const st = engine.batcher.stats;
    return { outcomes, balances, holds: holdStates, batches: { batches: st.batches - before.batches, operations: st.operations - before.operations, largest: st.largest, cached: st.cached - before.cached } };
  } finally {
    await app.close();
  }
}

for (const backend of backends()) {
  describe(`group commit ≡ one at a time, on ${backend.name}`, () => {
    after(() => backend.cleanup());
    for (const seed of [1, 2, 3]) {
      test(`seed ${seed}: same refusals, holds, charges and balances`, async () => {
        const waves = workload(seed);
        const batched = await execute(await backend.createDatabase(), 256, waves);
        const single = await execute(await backend.createDatabase(), 1, waves);
        assert.ok(batched.batches.largest > 10, `the batched run really batched (largest ${batched.batches.largest})`);
        assert.equal(single.batches.largest, 1);
        assert.ok(batched.outcomes.some((o) => o.includes("insufficient_credits") || o.includes("spend_limit_reached")), "the workload reaches refusals");
        assert.deepEqual(batched.outcomes, single.outcomes);
        assert.deepEqual(batched.holds, single.holds);
        assert.deepEqual(batched.balances, single.balances);
      });
    }
  });
}

// Decided on this instance's cached state (app/hot-orgs.ts) ≡ decided on a snapshot read in the
// transaction: the same workload with the cache on and off, with 5 minutes between waves so holds
// (10-minute TTL) come due two waves later (their unwinding is decided on the cache too).
// Batches of 4, so many batches hold only pending holds (a settle of a resolved hold reads).
for (const backend of backends().filter((b) => b.name === "sqlite")) {
  describe(`cached state ≡ read in the transaction, on ${backend.name}`, () => {
    after(() => backend.cleanup());
    for (const seed of [1, 2, 3]) {
      test(`seed ${seed}: same refusals, holds, charges and balances`, async () => {
        const waves = workload(seed);
        const cached = await execute(await backend.createDatabase(), 4, waves, "10000", 5 * 60_000);
        const read = await execute(await backend.createDatabase(), 4, waves, "0", 5 * 60_000);
        assert.ok(cached.batches.cached >= cached.batches.batches / 5, `a good share of the batches were decided on cached state (${JSON.stringify(cached.batches)})`);
        assert.equal(read.batches.cached, 0);
        assert.ok(cached.outcomes.some((o) => o.includes("insufficient_credits") || o.includes("spend_limit_reached")), "the workload reaches refusals");
        assert.deepEqual(cached.outcomes, read.outcomes);
        assert.deepEqual(cached.holds, read.holds);
        assert.deepEqual(cached.balances, read.balances);
      });
    }
  });
}

// ------------------------------------------------------------------ durability

function serve(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "serve", "--port", "0", "--no-demo", "--database", databaseUrl], { env: { ...process.env, USAGE_CREDITS_LOG: "error" }, stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => reject(new Error("server did not start")), 30_000);
    createInterface({ input: child.stdout! }).on("line", (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

for (const backend of backends()) {
  describe(`durability on ${backend.name}`, () => {
    after(() => backend.cleanup());
    test("every acknowledged authorization is present after kill -9 right after the replies", async () => {
      const db = await backend.createDatabase();
      // Set up through the CLI path's store: an org with credits and an owner key.
      const setup = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400" }, { database: db }), { log: silentLogger, store: await openTestStore(db) });
      const out = await setup.services.admin.createOrg({ name: "d", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: "d@d.test", name: "d" } });
      assert.ok(out.kind === "fresh" && out.result.ok);
      const { org, key } = out.result.value;
      await setup.services.engine.createGrant({ orgId: org.id, kind: "purchase", amount: 1_000_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
      await setup.close();

      let server = await serve(db);
      const acknowledged: string[] = [];
      const killedAfter = 40;
      const requests = Array.from({ length: 300 }, async () => {
        try {
          const res = await fetch(`${server.url}/v1/organizations/${org.id}/authorize`, {
            method: "POST",
            headers: { "x-api-key": key.secret, "content-type": "application/json" },
            body: JSON.stringify({ model: "claude-haiku-4-5", amount: "1000", ttl_seconds: 3600 }),
          });
          const body = (await res.json()) as { hold?: { id: string } };
          if (res.status === 201 && body.hold) {
            acknowledged.push(body.hold.id);
            // kill -9 the moment enough replies have arrived: later batches may be mid-commit.
            if (acknowledged.length === killedAfter) server.child.kill("SIGKILL");
          }
        } catch {
          // connection cut by the kill: not acknowledged, may or may not be present
        }
      });
      await Promise.all(requests);
      await new Promise((r) => (server.child.exitCode !== null || server.child.signalCode !== null ? r(null) : server.child.once("exit", r)));
      assert.ok(acknowledged.length >= killedAfter, `at least ${killedAfter} replies before the kill`);

      server = await serve(db);
      try {
        for (const id of acknowledged) {
          const res = await fetch(`${server.url}/v1/organizations/${org.id}/holds/${id}`, { headers: { "x-api-key": key.secret } });
          assert.equal(res.status, 200, `acknowledged hold ${id} survived`);
        }
        const store = await openTestStore(db);
        try {
          const { verifyLedger } = await import("../src/core/ledger-verify.js");
          assert.deepEqual(verifyLedger(await store.read((tx) => tx.ledgerAggregates())), []);
        } finally {
          await store.close();
        }
      } finally {
        server.child.kill("SIGTERM");
        await new Promise((r) => server.child.once("exit", r));
      }
    });
  });
}
