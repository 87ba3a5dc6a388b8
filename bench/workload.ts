// Workloads shared by the benchmark and by profiling: seeded tenants and an in-process
// authorize → settle loop with many concurrent requesters.

import { createApp, openStore, type App } from "../src/app.js";
import { generateApiKey } from "../src/app/auth.js";
import { newId } from "../src/core/ids.js";
import type { Member, Organization } from "../src/core/model.js";
import { loadConfig } from "../src/config/config.js";
import { silentLogger } from "../src/ports/logger.js";

export interface Tenant {
  readonly orgId: string;
  readonly memberId: string;
  readonly key: string;
}

/** n organizations on the usage-based plan, each with an owner, a key and $1M of credits. */
export async function seed(app: App, n: number): Promise<Tenant[]> {
  const { store, engine } = app.services;
  const now = Date.now();
  const tenants: Tenant[] = [];
  for (let start = 0; start < n; start += 2000) {
    const part = Math.min(2000, n - start);
    await store.transaction(async (tx) => {
      for (let i = 0; i < part; i++) {
        const org: Organization = { id: newId("organization"), name: `bench ${start + i}`, planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, weeklyAnchor: now, debt: 0, createdAt: now };
        const member: Member = { id: newId("member"), orgId: org.id, email: `o${start + i}@bench.test`, name: "o", role: "owner", seatTier: "standard", workspaceId: null, usageCreditsEnabled: true, fastModeEnabled: true, createdAt: now };
        const k = generateApiKey();
        await tx.insertOrg(org);
        await tx.insertMember(member);
        await tx.insertApiKey({ id: newId("apiKey"), orgId: org.id, memberId: member.id, name: "bench", surface: "interactive", hash: k.hash, prefix: k.prefix, createdAt: now, revokedAt: null });
        tenants.push({ orgId: org.id, memberId: member.id, key: k.secret });
      }
    });
  }
  await Promise.all(
    tenants.map((t) => engine.createGrant({ orgId: t.orgId, kind: "purchase", amount: 1_000_000 * 1_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "bench" })),
  );
  return tenants;
}

export async function benchApp(databaseUrl: string, maxBatch: number): Promise<App> {
  const config = loadConfig({ USAGE_CREDITS_MAX_BATCH: String(maxBatch), USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_PORT: "0" }, { database: databaseUrl });
  return createApp(config, { log: silentLogger, store: await openStore(config) });
}

/** `requesters` concurrent loops of authorize → settle for `seconds`; returns operations per second. */
export async function engineLoad(app: App, tenants: Tenant[], requesters: number, seconds: number): Promise<{ ops: number; batch: number }> {
  const { engine } = app.services;
  let ops = 0;
  let stopAt = 0;
  const before = { ...engine.batcher.stats };
  const loop = async (i: number) => {
    let n = i;
    while (performance.now() < stopAt) {
      const t = tenants[(n += requesters) % tenants.length];
      if (!t) return;
      const a = await engine.authorize({ orgId: t.orgId, memberId: t.memberId, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: 1000 } });
      if (a.kind !== "fresh" || !a.result.ok) throw new Error(`authorize failed: ${JSON.stringify(a)}`);
      const s = await engine.settle(t.orgId, a.result.value.hold.id, { amount: 900 });
      if (s.kind !== "fresh" || !s.result.ok) throw new Error(`settle failed: ${JSON.stringify(s)}`);
      ops += 2;
    }
  };
  stopAt = performance.now() + 1000; // warm-up
  await Promise.all(Array.from({ length: requesters }, (_, i) => loop(i)));
  ops = 0;
  const t0 = performance.now();
  stopAt = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: requesters }, (_, i) => loop(i)));
  const elapsed = (performance.now() - t0) / 1000;
  const st = engine.batcher.stats;
  return { ops: ops / elapsed, batch: (st.operations - before.operations) / Math.max(1, st.batches - before.batches) };
}

