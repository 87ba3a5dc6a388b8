// Property: for random sequences of grant / authorize / settle / release / expire / void, the
// ledger verifies after every step and the balance equals a simple in-test model's.
// Runs the real engine on a real SQLite file and a real PostgreSQL database.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { createApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { ManualClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { backends } from "./support/backends.js";
import { openTestStore } from "./support/backends.js";
import { T0 } from "./support/harness.js";

type Cmd =
  | { op: "grant"; amount: number; priority: number; kind: "purchase" | "promotional"; expiresIn: number | null }
  | { op: "authorize"; amount: number }
  | { op: "settle"; hold: number; actual: number }
  | { op: "release"; hold: number }
  | { op: "advance"; ms: number }
  | { op: "sweep" }
  | { op: "void"; grant: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    op: fc.constant("grant" as const),
    amount: fc.integer({ min: 1, max: 500 }),
    priority: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom("purchase" as const, "promotional" as const),
    expiresIn: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
  }),
  fc.record({ op: fc.constant("authorize" as const), amount: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant("authorize" as const), amount: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant("settle" as const), hold: fc.nat(20), actual: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ op: fc.constant("release" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 60 }) }),
  fc.constant({ op: "sweep" as const }),
  fc.record({ op: fc.constant("void" as const), grant: fc.nat(10) }),
);

// ---------------------------------------------------------------- the model
interface MGrant { id: string; kind: string; priority: number; expiresAt: number | null; createdAt: number; seq: number; remaining: number; status: "active" | "voided" | "expired" }
interface MHold { id: string; amount: number; expiresAt: number; draws: Array<[MGrant, number]>; status: "pending" | "done" }

class Model {
  grants: MGrant[] = [];
  holds: MHold[] = [];
  debt = 0;
  constructor(public now: number) {}
  live = (g: MGrant) => g.status === "active" && (g.expiresAt === null || g.expiresAt > this.now);
  order = (a: MGrant, b: MGrant) =>
    a.priority - b.priority ||
    (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) ||
    (a.kind === "purchase" ? 1 : 0) - (b.kind === "purchase" ? 1 : 0) ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : 1);
  spendable = () => this.grants.filter((g) => this.live(g) && g.remaining > 0).sort(this.order);
  balance = () => this.grants.filter(this.live).reduce((t, g) => t + g.remaining, 0) - this.debt;
  addGrant(g: MGrant) {
    this.grants.push(g);
    const repay = Math.min(this.debt, g.remaining);
    g.remaining -= repay;
    this.debt -= repay;
  }
  authorize(id: string, amount: number, ttl: number): boolean {
    if (this.debt > 0) return false;
    const list = this.spendable();
    if (list.reduce((t, g) => t + g.remaining, 0) < amount) return false;
    const draws: Array<[MGrant, number]> = [];
    let left = amount;
    for (const g of list) {
      const take = Math.min(g.remaining, left);
      if (take > 0) {
        g.remaining -= take;
        draws.push([g, take]);
        left -= take;
      }
    }
    this.holds.push({ id, amount, expiresAt: this.now + ttl, draws, status: "pending" });
    return true;
  }
  private giveBack(g: MGrant, amount: number) {
    if (g.status === "active" && (g.expiresAt === null || g.expiresAt > this.now)) g.remaining += amount;
  }
  unwind(h: MHold) {
    for (const [g, a] of h.draws) this.giveBack(g, a);
    h.status = "done";
  }
  /** Returns "ok", "expired" or "not_pending". */
  settle(h: MHold, actual: number): string {
    if (h.status !== "pending") return "not_pending";
    if (h.expiresAt <= this.now) {
      this.unwind(h);
      return "expired";
    }
    let left = actual;
    for (const [g, a] of h.draws) {
      const take = Math.min(a, left);
      left -= take;
      if (a - take > 0) this.giveBack(g, a - take);
    }
    for (const g of this.spendable()) {
      const take = Math.min(g.remaining, left);
      g.remaining -= take;
      left -= take;
    }
    this.debt += left;
    h.status = "done";
    return "ok";
  }
  sweep() {
    for (const h of this.holds) if (h.status === "pending" && h.expiresAt <= this.now) this.unwind(h);
    for (const g of this.grants) {
      if (g.status === "active" && g.expiresAt !== null && g.expiresAt <= this.now) {
        g.remaining = 0;
        g.status = "expired";
      }
    }
  }
}

const TTL = 50;

for (const backend of backends()) {
  describe(`ledger property on ${backend.name}`, () => {
    let app: App;
    const clock = new ManualClock(T0);
    before(async () => {
      const url = await backend.createDatabase();
      app = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400" }, { database: url }), { clock, log: silentLogger, store: await openTestStore(url) });
    });
    after(async () => {
      await app.close();
      await backend.cleanup();
    });

    test("ledger verify holds after every step and balances equal the model", { timeout: 240_000 }, async () => {
      const { engine, admin, store } = app.services;
      let seq = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 25 }), async (cmds) => {
          const created = await admin.createOrg({
            name: "prop",
            planId: "enterprise_usage",
            usageCreditsEnabled: true,
            fastModeEnabled: true,
            fastModeFallback: false,
            owner: { email: `p${seq++}@prop.test`, name: "p" },
          });
          assert.ok(created.kind === "fresh" && created.result.ok);
          const { org, owner } = created.result.value;
          const model = new Model(clock.now());
          const holdIds: string[] = [];
          for (const c of cmds) {
            model.now = clock.now();
            switch (c.op) {
              case "grant": {
                const expiresAt = c.expiresIn === null ? null : clock.now() + c.expiresIn;
                const out = await engine.createGrant({ orgId: org.id, kind: c.kind, amount: c.amount, priority: c.priority, expiresAt, surfaces: null, memberId: null, description: "" });
                assert.ok(out.kind === "fresh" && out.result.ok);
                const g = out.result.value;
                model.addGrant({ id: g.id, kind: c.kind, priority: c.priority, expiresAt, createdAt: g.createdAt, seq: model.grants.length, remaining: c.amount, status: "active" });
                break;
              }
              case "authorize": {
                const out = await engine.authorize({ orgId: org.id, memberId: owner.id, surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: c.amount }, ttlMs: TTL });
                assert.equal(out.kind, "fresh");
                const r = out.kind === "fresh" ? out.result : undefined;
                const expected = model.authorize(r?.ok ? r.value.hold.id : "refused", c.amount, TTL);
                assert.equal(r?.ok, expected, `authorize ${c.amount}: engine ${JSON.stringify(r)} vs model ${expected}`);
                if (r?.ok) holdIds.push(r.value.hold.id);
                break;
              }
              case "settle":
              case "release": {
                const id = holdIds[c.hold % Math.max(1, holdIds.length)];
                if (!id) break;
                const h = model.holds.find((x) => x.id === id);
                assert.ok(h);
                const out = c.op === "settle" ? await engine.settle(org.id, id, { amount: c.actual }) : await engine.release(org.id, id);
                const r = out.kind === "fresh" ? out.result : undefined;
                const expected = c.op === "settle" ? model.settle(h, c.actual) : h.status !== "pending" ? "not_pending" : h.expiresAt <= model.now ? (model.unwind(h), "expired") : (model.unwind(h), "ok");
                const got = r?.ok ? "ok" : r?.error.code === "hold_expired" ? "expired" : r?.error.code === "hold_not_pending" ? "not_pending" : `?${JSON.stringify(r)}`;
                assert.equal(got, expected, `${c.op} ${id}`);
                break;
              }
              case "advance":
                clock.advance(c.ms);
                break;
              case "sweep":
                await engine.sweep(store);
                model.sweep();
                break;
              case "void": {
                const g = model.grants[c.grant % Math.max(1, model.grants.length)];
                if (!g) break;
                const out = await engine.voidGrant(org.id, g.id);
                const r = out.kind === "fresh" ? out.result : undefined;
                assert.equal(r?.ok, g.status === "active", `void ${g.id} (${g.status})`);
                if (g.status === "active") {
                  g.remaining = 0;
                  g.status = "voided";
                }
                break;
              }
            }
            model.now = clock.now();
            const verified = await admin.verify();
            assert.deepEqual(verified.violations, [], `after ${JSON.stringify(c)}`);
            const summary = await admin.usageSummary(org.id, owner.id);
            assert.ok(summary.ok);
            assert.equal(summary.value.balance, model.balance(), `balance after ${JSON.stringify(c)}`);
            // Per grant, so a wrong burn order shows at once (not only once an expiry or void reveals it).
            const stored = await admin.read((tx) => tx.listGrants(org.id));
            const live = (g: { status: string; expiresAt: number | null }) => g.status === "active" && (g.expiresAt === null || g.expiresAt > clock.now());
            assert.deepEqual(
              stored.map((g) => [g.id, live(g) ? g.remaining : 0]).sort(),
              model.grants.map((g) => [g.id, model.live(g) ? g.remaining : 0]).sort(),
              `grants after ${JSON.stringify(c)}`,
            );
          }
        }),
        { numRuns: backend.name === "sqlite" ? 60 : 15, seed: Number(process.env["UC_PROPERTY_SEED"] ?? 20261124) },
      );
    });
  });
}
