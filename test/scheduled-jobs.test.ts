// Scheduled jobs run once per tick across instances: two instances on one database tick at the
// same moment; exactly one claims the slot and sweeps, the other skips it.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { ManualClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { backends, openTestStore } from "./support/backends.js";
import { T0 } from "./support/harness.js";

for (const backend of backends()) {
  describe(`scheduled jobs on ${backend.name}`, () => {
    const apps: App[] = [];
    after(async () => {
      for (const a of apps) await a.close();
      await backend.cleanup();
    });

    test("two instances, one tick: exactly one runs it; the next tick runs again", async () => {
      const db = await backend.createDatabase();
      const clock = new ManualClock(T0);
      // PostgreSQL: two instances with their own pools. SQLite serves one process (a second writer
      // in the same thread would wait on itself), so there the two instances share its store.
      const shared = await openTestStore(db);
      for (let i = 0; i < 2; i++) {
        const store = shared.capabilities.multiProcess && i > 0 ? await openTestStore(db) : shared;
        apps.push(await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "30" }, { database: db }), { clock, log: silentLogger, store }));
      }
      const [a, b] = apps;
      assert.ok(a && b);
      // A hold that expires, so the sweep has work to do exactly once.
      const out = await a.services.admin.createOrg({ name: "j", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: "j@j.test", name: "j" } });
      assert.ok(out.kind === "fresh" && out.result.ok);
      const { org, owner } = out.result.value;
      await a.services.engine.createGrant({ orgId: org.id, kind: "purchase", amount: 1_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
      const held = await a.services.engine.authorize({ orgId: org.id, memberId: owner.id, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: 500 }, ttlMs: 1000 });
      assert.ok(held.kind === "fresh" && held.result.ok);
      clock.advance(30_000);

      const ran = await Promise.all([a.runJobs(), b.runJobs(), a.runJobs(), b.runJobs()]);
      assert.equal(ran.filter(Boolean).length, 1, `exactly one claim: ${JSON.stringify(ran)}`);
      const hold = await a.services.store.read((tx) => tx.getHold(held.result.ok ? held.result.value.hold.id : ""));
      assert.equal(hold?.status, "expired");

      clock.advance(30_000);
      const next = await Promise.all([b.runJobs(), a.runJobs()]);
      assert.equal(next.filter(Boolean).length, 1, "the next tick is claimed once too");
      assert.deepEqual((await a.services.admin.verify()).violations, []);
    });
  });
}
