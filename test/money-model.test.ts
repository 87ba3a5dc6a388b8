// A reference model of the money rules (docs/money-rules.md), written independently of the books,
// replayed against the real engine on a real SQLite file and a real PostgreSQL database with a
// random stream of events and a manual clock that crosses session resets, weekly resets, midnights,
// month ends, hold TTLs and grant expiries. After every step the engine and the model must agree to
// the micro-dollar: the outcome of the operation (or its refusal code), which grants a hold drew,
// every grant's remaining balance, the balance, the debt, every window's used and held amounts, and
// every spending limit's spent, held and headroom; the ledger must verify.
//
// Covered: plan windows (session 5 h from the first request, weekly anchored), usage credits in burn
// order with member and surface restrictions, monthly SDK credits (claimed, refreshed each cycle,
// expired to breakage), hard limits (org monthly, org daily, member weekly) and an alert-only budget,
// the period rule for holds that cross a boundary, settles beyond the hold (excess and debt), debt
// repaid by every grant, TTL expiry and the sweep.
//
// Steps per store: UC_MODEL_STEPS (default 1500); seed: UC_MODEL_SEED. The longer form:
//   UC_MODEL_STEPS=100000 node scripts/run-tests.mjs money-model

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PlanDef } from "../src/core/plans.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, startHarness, type Harness } from "./support/harness.js";
import { rng } from "./support/rng.js";

const STEPS = Number(process.env["UC_MODEL_STEPS"] ?? 1500);
const SEED = Number(process.env["UC_MODEL_SEED"] ?? 20261205);

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const SESSION_QUOTA = 800;
const WEEKLY_QUOTA = 3_500;
const SDK_CREDIT = 700;

const PLAN: PlanDef = {
  id: "model_plan",
  name: "Model plan",
  seats: {
    standard: {
      windows: [
        { key: "five_hour", kind: "session", durationMs: 5 * HOUR, quota: SESSION_QUOTA },
        { key: "seven_day", kind: "weekly", durationMs: WEEK, quota: WEEKLY_QUOTA },
      ],
      monthlySdkCredit: SDK_CREDIT,
    },
  },
  creditOnlySurfaces: ["sdk"],
};

// ---------------------------------------------------------------- calendar (UTC), written afresh
const dayOf = (t: number) => Math.floor(t / DAY);
function periodStart(period: "daily" | "weekly" | "monthly", now: number): number {
  const d = new Date(now);
  if (period === "daily") return dayOf(now) * DAY;
  if (period === "weekly") return (dayOf(now) - ((d.getUTCDay() + 6) % 7)) * DAY;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
const monthEnd = (now: number) => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

// ---------------------------------------------------------------- the model
type Surface = "interactive" | "sdk";
interface MGrant { id: string; kind: string; priority: number; expiresAt: number | null; createdAt: number; remaining: number; status: "active" | "expired"; memberId: string | null; surfaces: Surface[] | null }
interface MWindow { periodStart: number; used: number; held: number }
interface MMember { id: string; surface: Surface; creditsEnabled: boolean; windows: Map<string, MWindow> }
interface MLimit { id: string; scope: "organization" | "member"; scopeKey: string; period: "daily" | "weekly" | "monthly"; amount: number | null; stopUsage: boolean }
interface MHold {
  id: string; member: MMember; payer: "plan" | "credits"; amount: number; expiresAt: number; day: number; status: "pending" | "done" | "expired";
  draws: Array<[MGrant, number]>; limited: number; windows: Array<[string, number]>;
}
type Outcome = { ok: true; payer?: string; draws?: Array<[string, number]>; debt?: number } | { ok: false; code: string };

class Model {
  now = 0;
  debt = 0;
  grants: MGrant[] = [];
  holds: MHold[] = [];
  limits: MLimit[] = [];
  /** scopeKey|day → spent, held */
  days = new Map<string, { spent: number; held: number }>();
  claimed: MMember | null = null;
  cyclesGranted = new Set<number>();
  constructor(readonly anchor: number, readonly members: MMember[]) {}

  // windows
  window(m: MMember, key: "five_hour" | "seven_day"): { start: number; resetsAt: number; used: number; held: number; quota: number } {
    const row = m.windows.get(key);
    let start: number;
    let dur: number;
    if (key === "five_hour") {
      dur = 5 * HOUR;
      start = row && this.now < row.periodStart + dur ? row.periodStart : this.now;
    } else {
      dur = WEEK;
      start = this.anchor + Math.floor((this.now - this.anchor) / WEEK) * WEEK;
    }
    const current = row !== undefined && row.periodStart === start;
    return { start, resetsAt: start + dur, used: current ? row.used : 0, held: current ? row.held : 0, quota: key === "five_hour" ? SESSION_QUOTA : WEEKLY_QUOTA };
  }
  private windowRow(m: MMember, key: string, start: number): MWindow {
    let row = m.windows.get(key);
    if (!row) m.windows.set(key, (row = { periodStart: start, used: 0, held: 0 }));
    else if (row.periodStart !== start) Object.assign(row, { periodStart: start, used: 0, held: 0 });
    return row;
  }

  // grants
  live = (g: MGrant) => g.status === "active" && (g.expiresAt === null || g.expiresAt > this.now);
  spendable(m: MMember, surface: Surface): MGrant[] {
    const paid = (g: MGrant) => (g.kind === "purchase" ? 1 : 0);
    return this.grants
      .filter((g) => this.live(g) && g.remaining > 0 && (g.memberId === null || g.memberId === m.id) && (g.surfaces === null || g.surfaces.includes(surface)))
      .sort((a, b) => a.priority - b.priority || (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || paid(a) - paid(b) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }
  balance = () => this.grants.filter((g) => this.live(g) && g.kind !== "monthly").reduce((t, g) => t + g.remaining, 0) - this.debt;
  addGrant(g: MGrant) {
    this.grants.push(g);
    const repay = Math.min(this.debt, g.remaining);
    g.remaining -= repay;
    this.debt -= repay;
  }
  private giveBack(g: MGrant, amount: number) {
    if (this.live(g)) g.remaining += amount;
  }

  // spend counters
  private addSpend(m: MMember, day: number, field: "spent" | "held", amount: number) {
    for (const scope of ["org", m.id]) {
      const k = `${scope}|${day}`;
      const row = this.days.get(k) ?? { spent: 0, held: 0 };
      row[field] += amount;
      this.days.set(k, row);
    }
  }
  headroom(l: MLimit): { spent: number; held: number; headroom: number } {
    // The store loads counters from a day before the earliest period start (a month or a week back).
    const loadedFrom = Math.min(dayOf(periodStart("monthly", this.now)), dayOf(periodStart("weekly", this.now))) - 1;
    const from = dayOf(periodStart(l.period, this.now));
    let spent = 0;
    let held = 0;
    for (const [k, v] of this.days) {
      const [scope, dayText] = k.split("|");
      const day = Number(dayText);
      if (scope !== l.scopeKey || day < loadedFrom) continue;
      if (day >= from) spent += v.spent;
      held += v.held;
    }
    return { spent, held, headroom: (l.amount ?? 0) - spent - held };
  }
  private applies = (l: MLimit, m: MMember) => l.amount !== null && (l.scope === "organization" || l.scopeKey === m.id);

  authorize(id: string, m: MMember, amount: number, ttl: number): Outcome {
    // Expired holds are unwound before the organization's next admission decision (money-safety.md).
    for (const h of this.holds) if (h.status === "pending" && h.expiresAt <= this.now) this.unwind(h, "expired");
    let exhausted: { resetsAt: number } | undefined;
    if (m.surface !== "sdk") {
      const ws = (["five_hour", "seven_day"] as const).map((k) => ({ key: k, ...this.window(m, k) }));
      const full = ws.filter((w) => w.used + w.held >= w.quota);
      if (full.length === 0) {
        for (const w of ws) this.windowRow(m, w.key, w.start).held += amount;
        this.holds.push({ id, member: m, payer: "plan", amount, expiresAt: this.now + ttl, day: dayOf(this.now), status: "pending", draws: [], limited: 0, windows: ws.map((w) => [w.key, w.start]) });
        return { ok: true, payer: "plan", draws: [] };
      }
      exhausted = full[0];
    }
    const creditsAllowed = m.creditsEnabled;
    const usable = this.debt > 0 ? [] : this.spendable(m, m.surface).filter((g) => g.kind === "monthly" || creditsAllowed);
    const draws: Array<[MGrant, number]> = [];
    let left = amount;
    for (const g of usable) {
      const take = Math.min(g.remaining, left);
      if (take > 0) draws.push([g, take]);
      left -= take;
      if (left === 0) break;
    }
    const limited = draws.filter(([g]) => g.kind !== "monthly").reduce((t, [, a]) => t + a, 0);
    let code: string | undefined;
    if (left > 0) code = !creditsAllowed && this.debt === 0 ? "usage_credits_disabled" : "insufficient_credits";
    else if (limited > 0 && this.limits.some((l) => l.stopUsage && this.applies(l, m) && this.headroom(l).headroom < limited)) code = "spend_limit_reached";
    if (code) return { ok: false, code: exhausted ? "window_exhausted" : code };
    for (const [g, a] of draws) g.remaining -= a;
    this.addSpend(m, dayOf(this.now), "held", limited);
    this.holds.push({ id, member: m, payer: "credits", amount, expiresAt: this.now + ttl, day: dayOf(this.now), status: "pending", draws, limited, windows: [] });
    return { ok: true, payer: "credits", draws: draws.map(([g, a]) => [g.id, a]) };
  }

  private unwind(h: MHold, status: "done" | "expired") {
    if (h.payer === "plan") {
      for (const [key, start] of h.windows) {
        const row = h.member.windows.get(key);
        if (row && row.periodStart === start) row.held = Math.max(0, row.held - h.amount);
      }
    } else {
      for (const [g, a] of h.draws) this.giveBack(g, a);
      this.addSpend(h.member, h.day, "held", -h.limited);
    }
    h.status = status;
  }
  private check(h: MHold): Outcome | undefined {
    if (h.status === "pending" && h.expiresAt <= this.now) this.unwind(h, "expired");
    if (h.status === "expired") return { ok: false, code: "hold_expired" };
    if (h.status !== "pending") return { ok: false, code: "hold_not_pending" };
    return undefined;
  }
  release(h: MHold): Outcome {
    const bad = this.check(h);
    if (bad) return bad;
    this.unwind(h, "done");
    return { ok: true };
  }
  settle(h: MHold, actual: number): Outcome {
    const bad = this.check(h);
    if (bad) return bad;
    let debt = 0;
    if (h.payer === "plan") {
      for (const [key, start] of h.windows) {
        const row = h.member.windows.get(key);
        if (row && row.periodStart === start) {
          row.held = Math.max(0, row.held - h.amount);
          row.used += actual;
        }
      }
    } else {
      let left = actual;
      let limited = 0;
      for (const [g, a] of h.draws) {
        const take = Math.min(a, left);
        left -= take;
        if (g.kind !== "monthly") limited += take;
        if (a - take > 0) this.giveBack(g, a - take);
      }
      // The hold's reservation becomes spend before any excess is weighed against the limits.
      this.addSpend(h.member, h.day, "held", -h.limited);
      this.addSpend(h.member, dayOf(this.now), "spent", limited);
      if (left > 0) {
        // An API settle adds beyond its hold only what admission would have allowed (money-rules.md
        // R16): included credits first; usage credits and debt only with credits on, no debt, and
        // within every hard limit's headroom. The rest is unbilled.
        const usable = this.debt > 0 ? [] : this.spendable(h.member, h.member.surface).filter((g) => g.kind === "monthly" || h.member.creditsEnabled);
        for (const g of usable.filter((x) => x.kind === "monthly")) {
          const take = Math.min(g.remaining, left);
          g.remaining -= take;
          left -= take;
        }
        let room = h.member.creditsEnabled && this.debt === 0 ? left : 0;
        for (const l of this.limits) if (l.stopUsage && this.applies(l, h.member)) room = Math.min(room, Math.max(0, this.headroom(l).headroom));
        let rest = room;
        let extra = 0;
        for (const g of usable.filter((x) => x.kind !== "monthly")) {
          const take = Math.min(g.remaining, rest);
          g.remaining -= take;
          rest -= take;
          extra += take;
        }
        this.debt += rest;
        debt = rest;
        this.addSpend(h.member, dayOf(this.now), "spent", extra + rest);
      }
    }
    h.status = "done";
    return { ok: true, debt };
  }
  sweep() {
    for (const h of this.holds) if (h.status === "pending" && h.expiresAt <= this.now) this.unwind(h, "expired");
    for (const g of this.grants) {
      if (g.status === "active" && g.expiresAt !== null && g.expiresAt <= this.now) {
        g.remaining = 0;
        g.status = "expired";
      }
    }
  }
}

// ---------------------------------------------------------------- the stream
for (const backend of backends()) {
  describe(`money model on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_SWEEP_SECONDS: "86400" });
      const put = await h.app.services.admin.putPlan(PLAN);
      assert.ok(put.kind === "fresh" && put.result.ok);
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    test(`${STEPS} random steps: engine and model agree to the micro-dollar after every step (seed ${SEED})`, { timeout: Math.max(600_000, STEPS * 400) }, async () => {
      const { engine, admin, store } = h.app.services;
      // The same seed on both stores: the same stream, so both must also agree with each other.
      const random = rng(SEED);
      const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

      const { orgId, ownerId } = await createOrg(h, { plan: PLAN.id, usageCredits: true });
      const chat = await addMember(h, orgId, { role: "member" }, "interactive");
      const sdk = await addMember(h, orgId, { role: "member" }, "sdk");
      const noCredits = await addMember(h, orgId, { role: "member", usage_credits_enabled: false }, "sdk");
      const orgRow = (await h.request("GET", `/v1/organizations/${orgId}`)).body;
      const anchor = Date.parse(String(orgRow["weekly_reset_anchor"]));
      const members: MMember[] = [
        { id: ownerId, surface: "interactive", creditsEnabled: true, windows: new Map() },
        { id: chat.memberId, surface: "interactive", creditsEnabled: true, windows: new Map() },
        { id: sdk.memberId, surface: "sdk", creditsEnabled: true, windows: new Map() },
        { id: noCredits.memberId, surface: "sdk", creditsEnabled: false, windows: new Map() },
      ];
      const model = new Model(anchor, members);

      const setLimit = async (scope: "organization" | "member", scopeKey: string, period: MLimit["period"], amount: number | null, stopUsage: boolean) => {
        const out = await admin.setLimit(orgId, { scope, scopeId: scope === "organization" ? null : scopeKey, period, amount, stopUsage });
        assert.ok(out.kind === "fresh" && out.result.ok, JSON.stringify(out));
        const id = out.result.value.id;
        const existing = model.limits.find((l) => l.id === id);
        if (existing) Object.assign(existing, { amount, stopUsage });
        else model.limits.push({ id, scope, scopeKey: scope === "organization" ? "org" : scopeKey, period, amount, stopUsage });
      };
      await setLimit("organization", "org", "monthly", 12_000, true);
      await setLimit("organization", "org", "daily", 3_000, true);
      await setLimit("member", chat.memberId, "weekly", 2_000, true);
      await setLimit("member", sdk.memberId, "monthly", 1_000, false);

      /** Adopts grants the engine created on its own (SDK claims and refreshes) into the model. */
      const adoptMonthly = async () => {
        for (const g of await admin.read((tx) => tx.listGrants(orgId))) {
          if (g.kind !== "monthly" || model.grants.some((x) => x.id === g.id)) continue;
          assert.equal(g.amount, SDK_CREDIT);
          assert.equal(g.expiresAt, monthEnd(g.createdAt), "a cycle's credit expires at the cycle's end");
          assert.equal(model.claimed?.id, g.memberId);
          const cycle = periodStart("monthly", g.createdAt);
          assert.ok(!model.cyclesGranted.has(cycle), "one credit per member and cycle");
          model.cyclesGranted.add(cycle);
          model.addGrant({ id: g.id, kind: "monthly", priority: g.priority, expiresAt: g.expiresAt, createdAt: g.createdAt, remaining: g.amount, status: "active", memberId: g.memberId, surfaces: ["sdk"] });
        }
      };

      const seen = new Map<string, number>();
      const outcome = (r: { ok: true } | { ok: false; error: { code: string } }): string => {
        const o = r.ok ? "ok" : r.error.code;
        seen.set(o, (seen.get(o) ?? 0) + 1);
        return o;
      };
      let checks = 0;
      let stepsInDebt = 0;
      const trail: string[] = [];
      for (let step = 0; step < STEPS; step++) {
        model.now = h.clock.now();
        const roll = random();
        let label = "";
        if (roll < 0.3) {
          const m = pick(members);
          const amount = int(1, 900);
          const ttl = pick([MIN, 30 * MIN, 2 * HOUR, 20 * HOUR, 20 * HOUR]);
          label = `authorize ${m.surface}${m.creditsEnabled ? "" : "(no credits)"} ${amount} ttl ${ttl / MIN}m`;
          const out = await engine.authorize({ orgId, memberId: m.id, surface: m.surface, model: "claude-sonnet-4-5", speed: "standard", estimate: { amount }, ttlMs: ttl });
          assert.ok(out.kind === "fresh");
          const r = out.result;
          const expected = model.authorize(r.ok ? r.value.hold.id : "refused", m, amount, ttl);
          assert.equal(outcome(r), expected.ok ? "ok" : expected.code, `${label}: ${JSON.stringify(r.ok ? r.value.hold : r.error)}`);
          if (r.ok && expected.ok) {
            assert.equal(r.value.hold.payer, expected.payer, label);
            assert.deepEqual(r.value.hold.draws.map((d) => [d.grantId, d.amount]), expected.draws, `${label}: draws in burn order`);
          }
        } else if (roll < 0.55) {
          const pending = model.holds.filter((x) => x.status === "pending");
          const hold = pending.length > 0 && random() < 0.9 ? pick(pending) : model.holds.length > 0 ? pick(model.holds) : undefined;
          if (!hold) continue;
          const actual = random() < 0.25 ? hold.amount + int(1, 3_000) : int(0, hold.amount);
          label = `settle ${hold.payer} ${hold.amount} → ${actual}`;
          const out = await engine.settle(orgId, hold.id, { amount: actual });
          assert.ok(out.kind === "fresh");
          const expected = model.settle(hold, actual);
          assert.equal(outcome(out.result), expected.ok ? "ok" : expected.code, label);
          if (out.result.ok && expected.ok) assert.equal(out.result.value.debt, expected.debt, `${label}: debt`);
        } else if (roll < 0.6) {
          const hold = model.holds.length > 0 ? pick(model.holds) : undefined;
          if (!hold) continue;
          label = `release ${hold.payer} ${hold.amount}`;
          const out = await engine.release(orgId, hold.id);
          assert.ok(out.kind === "fresh");
          const expected = model.release(hold);
          assert.equal(outcome(out.result), expected.ok ? "ok" : expected.code, label);
        } else if (roll < 0.63) {
          const kind = pick(["purchase", "promotional"] as const);
          const amount = int(50, 600);
          const priority = int(3, 6);
          const expiresAt = random() < 0.4 ? h.clock.now() + pick([HOUR, DAY, 10 * DAY]) : null;
          const memberId = random() < 0.15 ? pick(members).id : null;
          const surfaces: Surface[] | null = random() < 0.15 ? [pick(["interactive", "sdk"] as const)] : null;
          label = `grant ${kind} ${amount} p${priority}${memberId ? " member-only" : ""}${surfaces ? ` ${surfaces[0]}-only` : ""}`;
          const out = await engine.createGrant({ orgId, kind, amount, priority, expiresAt, surfaces, memberId, description: "" });
          assert.ok(out.kind === "fresh" && out.result.ok);
          const g = out.result.value;
          model.addGrant({ id: g.id, kind, priority, expiresAt, createdAt: g.createdAt, remaining: amount, status: "active", memberId, surfaces });
        } else if (roll < 0.88) {
          const r = random();
          const ms =
            r < 0.45 ? int(1, 120) * 1000
            : r < 0.75 ? int(5, 90) * MIN
            : r < 0.88 ? int(1, 8) * HOUR
            : r < 0.93 ? dayOf(h.clock.now()) * DAY + DAY - h.clock.now() - int(0, 30) * MIN + int(0, 1) * 45 * MIN // around midnight
            : r < 0.98 ? monthEnd(h.clock.now()) - h.clock.now() - int(1, 20) * MIN // just before a month ends
            : int(1, 3) * DAY;
          label = `advance ${ms} ms`;
          if (ms > 0) h.clock.advance(ms);
        } else if (roll < 0.94) {
          label = "jobs";
          model.now = h.clock.now();
          const ran = await h.app.runJobs();
          if (!ran) await engine.sweep(store);
          model.sweep();
          if (ran && model.claimed) await adoptMonthly();
        } else if (roll < 0.96) {
          if (model.claimed) continue;
          label = "claim SDK credit";
          const r = await h.request("POST", `/v1/organizations/${orgId}/members/${sdk.memberId}/sdk_credits/claim`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          model.claimed = members.find((m) => m.id === sdk.memberId) ?? null;
          await adoptMonthly();
        } else {
          const l = pick(model.limits);
          const amount = random() < 0.1 ? null : int(500, 8_000);
          label = `limit ${l.scope} ${l.period} → ${amount}`;
          await setLimit(l.scope, l.scopeKey, l.period, amount, l.stopUsage);
        }
        trail.push(`${step} ${new Date(h.clock.now()).toISOString()} ${label}`);
        if (trail.length > 12) trail.shift();
        model.now = h.clock.now();

        // ---- agree on everything, to the micro-dollar
        const where = () => `after step ${step} (${label})\n${trail.join("\n")}`;
        const stored = await admin.read((tx) => tx.listGrants(orgId));
        const liveRemaining = (g: { status: string; expiresAt: number | null; remaining: number }) => (g.status === "active" && (g.expiresAt === null || g.expiresAt > model.now) ? g.remaining : 0);
        assert.deepEqual(
          stored.map((g) => [g.id, liveRemaining(g)]).sort(),
          model.grants.map((g) => [g.id, model.live(g) ? g.remaining : 0]).sort(),
          `grants ${where()}`,
        );
        for (const m of members) {
          const s = await admin.usageSummary(orgId, m.id);
          assert.ok(s.ok);
          if (m === members[0]) {
            assert.equal(s.value.balance, model.balance(), `balance ${where()}`);
            assert.equal(s.value.org.debt, model.debt, `debt ${where()}`);
          }
          for (const w of s.value.windows) {
            const mw = model.window(m, w.key as "five_hour" | "seven_day");
            assert.deepEqual([w.key, w.used, w.held, w.resetsAt], [w.key, mw.used, mw.held, mw.resetsAt], `window ${w.key} of ${m.surface} ${where()}`);
          }
          for (const got of s.value.limits) {
            const ml = model.limits.find((l) => l.id === got.limit.id);
            assert.ok(ml);
            const want = model.headroom(ml);
            assert.deepEqual([got.spent, got.held, got.headroom], [want.spent, want.held, want.headroom], `limit ${ml.scope} ${ml.period} ${where()}`);
            checks++;
          }
          checks += 3;
        }
        checks += stored.length + 2;
        if (model.debt > 0) stepsInDebt++;
        if (step % 100 === 99) assert.deepEqual((await admin.verify()).violations, [], `ledger ${where()}`);
      }
      assert.deepEqual((await admin.verify()).violations, []);
      // Coverage: the stream must actually have reached the interesting states.
      assert.ok(model.holds.some((x) => x.payer === "plan") && model.holds.some((x) => x.payer === "credits"), "both payers");
      assert.ok(model.cyclesGranted.size >= (STEPS >= 1000 ? 2 : 0), `SDK credit refreshed across cycles (${model.cyclesGranted.size})`);
      console.log(`money model on ${backend.name}: ${STEPS} steps, ${checks} agreeing checks, ${model.holds.length} holds, ${model.grants.length} grants, clock ${new Date(h.clock.now()).toISOString()}, ${stepsInDebt} steps in debt, ${model.cyclesGranted.size} SDK cycles, outcomes ${JSON.stringify(Object.fromEntries(seen))}`);
      for (const code of ["ok", "window_exhausted", "insufficient_credits", "spend_limit_reached", "usage_credits_disabled", "hold_expired", "hold_not_pending"]) {
        if (STEPS >= 1000) assert.ok((seen.get(code) ?? 0) > 0, `the stream reached ${code}`);
      }
    });
  });
}
