// The charge router alone (router.ts): plain data in, a decision out, no database, no store, no
// books. Table tests for each rule (burn order, every refusal code with its reset time, limits at
// each scope, surfaces, fast mode, debt, window exhausted vs credits) and property tests over
// seeded random worlds. The same rules run through the books in money-rules.test.ts and end to
// end on both stores in test/money-rules.test.ts.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ROUTER_REFUSAL_CODES, type RouterRefusalCode } from "./errors.js";
import { burnOrder, isIncluded, isSpendable, type Grant } from "./grants.js";
import { headroomsOf } from "./headroom.js";
import { dayOf, type LimitScope } from "./limits.js";
import { HOUR_MS, SURFACES } from "./plans.js";
import { grant, input, limit, MEM, ORG, randomWorld, spent, T0, USD, win, WRK, type World } from "./router.fixture.js";
import { routeCharge, type Route } from "./router.js";

const started = process.cpuUsage();
const startedAt = performance.now();

const WALLET = [grant("grant_paid", 50 * USD)];
const FULL_SESSION = win("five_hour", 1 * USD, 1 * USD, T0 + 2 * HOUR_MS);

function refusal(route: Route): { code: RouterRefusalCode; details: Record<string, unknown> } {
  assert.equal(route.payer, "none", `expected a refusal, got ${route.payer}`);
  if (route.payer !== "none") throw new Error("unreachable");
  return { code: route.refusal.code, details: route.refusal.details ?? {} };
}

// ---------------------------------------------------------------- every refusal code

interface RefusalCase {
  readonly name: string;
  readonly world: World;
  readonly code: RouterRefusalCode;
  /** The reset time in details.resets_at (ISO), or null when the refusal has none (no waiting helps). */
  readonly resetsAt: string | null;
  readonly details?: Record<string, unknown>;
}

const iso = (t: number) => new Date(t).toISOString();

const REFUSALS: readonly RefusalCase[] = [
  { name: "fast mode off for the organization", world: { fast: true, orgFast: false, grants: WALLET }, code: "fast_mode_disabled", resetsAt: null },
  { name: "fast mode off for the member", world: { fast: true, memberFast: false, grants: WALLET }, code: "fast_mode_disabled", resetsAt: null },
  { name: "usage credits off for the organization", world: { surface: "sdk", orgCredits: false, grants: WALLET }, code: "usage_credits_disabled", resetsAt: null, details: { org_enabled: false, member_enabled: true } },
  { name: "usage credits off for the member", world: { surface: "sdk", memberCredits: false, grants: WALLET }, code: "usage_credits_disabled", resetsAt: null, details: { org_enabled: true, member_enabled: false } },
  { name: "balance too low", world: { surface: "sdk", estimate: 3 * USD, grants: [grant("g", 2 * USD)] }, code: "insufficient_credits", resetsAt: null, details: { required: String(3 * USD), available: String(2 * USD), debt: "0" } },
  { name: "no grant at all", world: { surface: "sdk" }, code: "insufficient_credits", resetsAt: null, details: { required: String(USD), available: "0", debt: "0" } },
  { name: "debt blocks a full wallet", world: { surface: "sdk", debt: 5, grants: WALLET }, code: "insufficient_credits", resetsAt: null, details: { available: "0", debt: "5" } },
  { name: "debt wins over credits switched off", world: { surface: "sdk", debt: 5, orgCredits: false, grants: WALLET }, code: "insufficient_credits", resetsAt: null },
  {
    name: "monthly organization limit",
    world: { surface: "sdk", grants: WALLET, limits: [limit("organization", 10 * USD)], spend: [spent("org", 9_500_000)] },
    code: "spend_limit_reached",
    resetsAt: iso(Date.UTC(2026, 3, 1)),
    details: { scope: "organization", period: "monthly", spent: String(9_500_000), headroom: String(500_000), required: String(USD) },
  },
  {
    name: "weekly workspace limit",
    world: { surface: "sdk", grants: WALLET, limits: [limit("workspace", 2 * USD, { period: "weekly" })], spend: [spent(WRK, 1_500_000)] },
    code: "spend_limit_reached",
    resetsAt: iso(Date.UTC(2026, 2, 9)),
    details: { scope: "workspace", period: "weekly" },
  },
  {
    name: "daily member limit",
    world: { surface: "sdk", grants: WALLET, limits: [limit("member", 1_500_000, { period: "daily" })], spend: [spent(MEM, 1 * USD)] },
    code: "spend_limit_reached",
    resetsAt: iso(Date.UTC(2026, 2, 3)),
    details: { scope: "member", period: "daily" },
  },
  {
    name: "a pending hold takes headroom",
    world: { surface: "sdk", grants: WALLET, limits: [limit("member", 1_500_000, { period: "daily" })], spend: [spent(MEM, 0, dayOf(T0) - 1, 1 * USD)] },
    code: "spend_limit_reached",
    resetsAt: iso(Date.UTC(2026, 2, 3)),
    details: { spent: "0", headroom: String(500_000) },
  },
  {
    name: "the lowest headroom wins",
    world: { surface: "sdk", grants: WALLET, limits: [limit("organization", 100 * USD), limit("member", 500_000, { period: "weekly" })] },
    code: "spend_limit_reached",
    resetsAt: iso(Date.UTC(2026, 2, 9)),
    details: { scope: "member" },
  },
  {
    name: "window full, credits cannot pay: the window and its reset",
    world: { windows: [FULL_SESSION] },
    code: "window_exhausted",
    resetsAt: iso(T0 + 2 * HOUR_MS),
    details: { window: "five_hour", utilization: 100, credits: { code: "insufficient_credits", message: "Your credit balance is too low to cover this request.", required: String(USD), available: "0", debt: "0" } },
  },
  {
    name: "window full, credits switched off",
    world: { windows: [FULL_SESSION], grants: WALLET, orgCredits: false },
    code: "window_exhausted",
    resetsAt: iso(T0 + 2 * HOUR_MS),
  },
  {
    name: "window full, a spending limit stops credits",
    world: { windows: [FULL_SESSION], grants: WALLET, limits: [limit("organization", 0)] },
    code: "window_exhausted",
    resetsAt: iso(T0 + 2 * HOUR_MS),
  },
  {
    name: "two windows full: the one that blocks longest",
    world: { windows: [FULL_SESSION, win("seven_day", 10 * USD, 10 * USD, T0 + 96 * HOUR_MS)] },
    code: "window_exhausted",
    resetsAt: iso(T0 + 96 * HOUR_MS),
    details: { window: "seven_day" },
  },
  {
    name: "held amounts fill a window too",
    world: { windows: [win("seven_day_opus", 1 * USD, 500_000, T0 + HOUR_MS, 500_000)] },
    code: "window_exhausted",
    resetsAt: iso(T0 + HOUR_MS),
  },
];

describe("router: every refusal code, with its reset time", () => {
  for (const c of REFUSALS) {
    test(`${c.code}: ${c.name}`, () => {
      const r = refusal(routeCharge(input(c.world)));
      assert.equal(r.code, c.code);
      assert.equal(r.details["resets_at"] ?? null, c.resetsAt);
      for (const [k, v] of Object.entries(c.details ?? {})) assert.deepEqual(r.details[k], v, `details.${k}`);
    });
  }

  test("every code in errors.ts ROUTER_REFUSAL_CODES has a case, and the cases use no other code", () => {
    const covered = new Set(REFUSALS.map((c) => c.code));
    const missing = ROUTER_REFUSAL_CODES.filter((code) => !covered.has(code));
    assert.deepEqual(missing, [], `refusal codes without a case: ${missing.join(", ")}`);
    assert.equal(covered.size, ROUTER_REFUSAL_CODES.length);
    console.log(`router refusal codes covered: ${[...covered].join(", ")}`);
  });

  test("a $0 request faces the checks a 1 µ$ one would", () => {
    assert.equal(refusal(routeCharge(input({ surface: "sdk", estimate: 0 }))).code, "insufficient_credits");
    assert.equal(refusal(routeCharge(input({ surface: "sdk", estimate: 0, grants: WALLET, orgCredits: false }))).code, "usage_credits_disabled");
    assert.equal(refusal(routeCharge(input({ surface: "sdk", estimate: 0, grants: WALLET, limits: [limit("member", 0)] }))).code, "spend_limit_reached");
    const paid = routeCharge(input({ surface: "sdk", estimate: 0, grants: WALLET }));
    assert.deepEqual(paid, { payer: "credits", draws: [], limitedAmount: 0 }, "admitted, and nothing drawn");
  });
});

// ---------------------------------------------------------------- who pays

describe("router: the plan, or credits", () => {
  test("the plan pays while every window has room (the last request may overshoot)", () => {
    const windows = [win("five_hour", 1 * USD, 990_000, T0 + HOUR_MS), win("seven_day", 10 * USD, 0, T0 + 90 * HOUR_MS)];
    assert.deepEqual(routeCharge(input({ windows, estimate: 5 * USD })), { payer: "plan", windows });
  });

  test("a full window with credits: credits pay (window exhausted is only a refusal when they cannot)", () => {
    const r = routeCharge(input({ windows: [FULL_SESSION], grants: WALLET }));
    assert.deepEqual(r, { payer: "credits", draws: [{ grantId: "grant_paid", amount: USD }], limitedAmount: USD });
  });

  test("no window applies to the model family: credits pay", () => {
    assert.equal(routeCharge(input({ grants: WALLET })).payer, "credits");
  });

  test("a credit-only surface skips the plan even with room; an empty list leaves every surface on the plan", () => {
    const windows = [win("five_hour", 1 * USD, 0, T0 + HOUR_MS)];
    assert.equal(routeCharge(input({ surface: "sdk", windows, grants: WALLET })).payer, "credits");
    assert.equal(refusal(routeCharge(input({ surface: "ci", creditOnly: ["ci"], windows }))).code, "insufficient_credits", "never window_exhausted: the plan could not have paid");
    for (const surface of SURFACES) assert.equal(routeCharge(input({ surface, creditOnly: [], windows })).payer, "plan", surface);
  });

  test("fast mode skips the plan and pays with credits; refused for lack of them without naming a window", () => {
    const windows = [win("five_hour", 1 * USD, 0, T0 + HOUR_MS)];
    assert.equal(routeCharge(input({ fast: true, windows, grants: WALLET })).payer, "credits");
    assert.equal(refusal(routeCharge(input({ fast: true, windows: [FULL_SESSION] }))).code, "insufficient_credits");
  });

  test("grants restricted to a surface or a member pay only there", () => {
    const grants = [grant("g_sdk", 5 * USD, { surfaces: ["sdk"] }), grant("g_other", 5 * USD, { memberId: "mem_2" })];
    assert.equal(routeCharge(input({ surface: "sdk", grants })).payer, "credits");
    assert.equal(refusal(routeCharge(input({ surface: "ci", creditOnly: ["sdk", "ci"], grants }))).code, "insufficient_credits");
  });

  test("expired, voided, empty and other organizations' grants never pay", () => {
    const grants = [grant("g_exp", 5 * USD, { expiresAt: T0 }), grant("g_void", 5 * USD, { status: "voided" }), grant("g_empty", 0), grant("g_org2", 5 * USD, { orgId: "org_2" })];
    assert.deepEqual(refusal(routeCharge(input({ surface: "sdk", grants }))).details["available"], "0");
  });
});

describe("router: burn order", () => {
  const cases: ReadonlyArray<{ name: string; grants: Grant[]; estimate: number; draws: Array<[string, number]> }> = [
    { name: "lower priority number first", grants: [grant("b", 5, { priority: 5 }), grant("a", 5, { priority: 1 })], estimate: 7, draws: [["a", 5], ["b", 2]] },
    { name: "then soonest expiry, never-expiring last", grants: [grant("never", 5), grant("late", 5, { expiresAt: T0 + 9e6 }), grant("soon", 5, { expiresAt: T0 + 1e6 })], estimate: 12, draws: [["soon", 5], ["late", 5], ["never", 2]] },
    { name: "then free before purchased", grants: [grant("paid", 5), grant("promo", 5, { kind: "promotional" })], estimate: 6, draws: [["promo", 5], ["paid", 1]] },
    { name: "then oldest first", grants: [grant("new", 5, { createdAt: T0 - 10 }), grant("old", 5, { createdAt: T0 - 99 })], estimate: 6, draws: [["old", 5], ["new", 1]] },
    { name: "then the id", grants: [grant("g2", 5), grant("g1", 5)], estimate: 6, draws: [["g1", 5], ["g2", 1]] },
    { name: "monthly SDK credits (priority 0) before usage credits", grants: [grant("paid", 5), grant("sdk", 3, { kind: "monthly", priority: 0 })], estimate: 4, draws: [["sdk", 3], ["paid", 1]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = routeCharge(input({ surface: "sdk", estimate: c.estimate, grants: c.grants }));
      assert.equal(r.payer, "credits");
      if (r.payer !== "credits") return;
      assert.deepEqual(r.draws.map((d) => [d.grantId, d.amount]), c.draws);
    });
  }
});

// ---------------------------------------------------------------- limits and included credits

describe("router: spending limits at each scope", () => {
  const scopes: readonly LimitScope[] = ["organization", "workspace", "member"];
  for (const scope of scopes) {
    test(`${scope}: a hard limit refuses, an alert-only budget never does, a limit of someone else does not apply`, () => {
      const blocked = { surface: "sdk" as const, grants: WALLET, limits: [limit(scope, 500_000)] };
      assert.equal(refusal(routeCharge(input(blocked))).details["scope"], scope);
      assert.equal(routeCharge(input({ ...blocked, limits: [limit(scope, 500_000, { stopUsage: false })] })).payer, "credits");
      assert.equal(routeCharge(input({ ...blocked, limits: [limit(scope, null)] })).payer, "credits", "amount null: explicitly unlimited");
      if (scope !== "organization") assert.equal(routeCharge(input({ ...blocked, limits: [limit(scope, 500_000, { scopeId: "someone_else" })] })).payer, "credits");
      assert.equal(routeCharge(input({ ...blocked, limits: [limit(scope, 500_000, { orgId: "org_2" })] })).payer, "credits");
    });
  }

  test("exactly the headroom fits", () => {
    assert.equal(routeCharge(input({ surface: "sdk", grants: WALLET, limits: [limit("member", 3 * USD)], spend: [spent(MEM, 2 * USD)] })).payer, "credits");
  });

  test("spend of an earlier period does not count; a hold from yesterday does", () => {
    const limits = [limit("member", 1 * USD, { period: "daily" })];
    assert.equal(routeCharge(input({ surface: "sdk", grants: WALLET, limits, spend: [spent(MEM, 5 * USD, dayOf(T0) - 1)] })).payer, "credits");
    assert.equal(refusal(routeCharge(input({ surface: "sdk", grants: WALLET, limits, spend: [spent(MEM, 0, dayOf(T0) - 1, 1)] }))).code, "spend_limit_reached");
  });

  test("included credits do not count toward limits and pay when usage credits are off", () => {
    const grants = [grant("sdk", 5 * USD, { kind: "monthly", priority: 0 })];
    assert.deepEqual(routeCharge(input({ surface: "sdk", grants, limits: [limit("organization", 0)], orgCredits: false })), { payer: "credits", draws: [{ grantId: "sdk", amount: USD }], limitedAmount: 0 });
    const mixed = [...grants.map((g) => ({ ...g, remaining: 400_000 })), grant("paid", 5 * USD)];
    const r = routeCharge(input({ surface: "sdk", grants: mixed, limits: [limit("organization", 600_000)] }));
    assert.deepEqual(r, { payer: "credits", draws: [{ grantId: "sdk", amount: 400_000 }, { grantId: "paid", amount: 600_000 }], limitedAmount: 600_000 });
  });

  test("debt blocks included credits too", () => {
    assert.equal(refusal(routeCharge(input({ surface: "sdk", debt: 1, grants: [grant("sdk", 5 * USD, { kind: "monthly", priority: 0 })] }))).code, "insufficient_credits");
  });
});

// ---------------------------------------------------------------- properties

const WORLDS = 2000;

/** Checks every rule a route must satisfy in world `w`; returns a message for the first broken one. */
function checkRoute(w: World, r: Route): void {
  const i = input(w);
  const usesPlan = !w.fast && !i.creditOnlySurfaces.includes(i.request.surface) && i.windows.length > 0;
  const roomy = i.windows.every((s) => s.used + s.held < s.quota);
  const fastRefused = w.fast === true && (!i.org.fastModeEnabled || !i.member.fastModeEnabled);
  if (r.payer === "plan") {
    assert.ok(usesPlan && roomy && !fastRefused, "the plan pays only when it may and every window has room");
    assert.deepEqual(r.windows, i.windows);
    return;
  }
  assert.ok(!(usesPlan && roomy && !fastRefused), "when the plan may pay, it does");
  if (r.payer === "none") {
    assert.ok(ROUTER_REFUSAL_CODES.includes(r.refusal.code));
    if (fastRefused) return assert.equal(r.refusal.code, "fast_mode_disabled");
    if (r.refusal.code === "window_exhausted") {
      assert.ok(usesPlan && !roomy);
      const latest = Math.max(...i.windows.filter((s) => s.used + s.held >= s.quota).map((s) => s.resetsAt));
      assert.equal(r.refusal.details?.["resets_at"], iso(latest), "the window that blocks longest");
    } else assert.ok(!usesPlan || roomy, "a full window the plan would have used is the answer");
    return;
  }
  assert.ok(!fastRefused);
  const total = r.draws.reduce((t, d) => t + d.amount, 0);
  assert.equal(total, i.request.estimate, "credits pay the whole estimate");
  const allowed = [...i.grants].filter((g) => g.orgId === ORG && isSpendable(g, T0, MEM, i.request.surface) && (isIncluded(g) || (i.org.usageCreditsEnabled && i.member.usageCreditsEnabled))).sort(burnOrder);
  if (r.draws.length > 0) assert.equal(i.org.debt, 0, "no grant is drawn while in debt");
  r.draws.forEach((d, k) => {
    const g = allowed[k];
    assert.ok(g && g.id === d.grantId, "draws follow burn order over the grants the member may spend");
    assert.ok(d.amount > 0 && d.amount <= g.remaining);
    if (k < r.draws.length - 1) assert.equal(d.amount, g.remaining, "a grant is emptied before the next one is touched");
  });
  const limited = r.draws.reduce((t, d) => t + (isIncluded(allowed.find((g) => g.id === d.grantId) as Grant) ? 0 : d.amount), 0);
  assert.equal(r.limitedAmount, limited, "limits count exactly the usage-credit part");
  if (limited > 0) {
    for (const h of headroomsOf(ORG, i.limits, i.spend, i.member, T0)) if (h.limit.stopUsage) assert.ok(h.headroom >= limited, "never past a hard limit");
  }
}

describe("router: properties over seeded random worlds", () => {
  test(`${WORLDS} worlds: plan only with room, credits in burn order within every hard limit, refusals well-formed`, () => {
    for (let seed = 1; seed <= WORLDS; seed++) {
      const w = randomWorld(seed);
      try {
        checkRoute(w, routeCharge(input(w)));
      } catch (e) {
        throw new Error(`world seed ${seed}: ${(e as Error).message}`);
      }
    }
  });

  test("pure: the same input gives the same route, and the input is left untouched", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const w = randomWorld(seed);
      const before = JSON.stringify(input(w));
      const a = routeCharge(input(w));
      assert.deepEqual(routeCharge(input(w)), a, `seed ${seed}`);
      assert.equal(JSON.stringify(input(w)), before, `seed ${seed}`);
    }
  });

  test("monotone: what credits admit, they admit for less; what a plan window admits does not depend on the amount", () => {
    for (let seed = 1; seed <= WORLDS; seed++) {
      const w = randomWorld(seed);
      const r = routeCharge(input(w));
      if (r.payer === "none") continue;
      const less = routeCharge(input({ ...w, estimate: Math.floor((w.estimate ?? 0) / 2) }));
      assert.equal(less.payer, r.payer, `seed ${seed}`);
    }
  });

  test("the router's tests run in under a second of CPU (no database)", () => {
    const cpu = process.cpuUsage(started);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const wallMs = performance.now() - startedAt;
    console.log(`router tests: ${cpuMs.toFixed(0)} ms CPU, ${wallMs.toFixed(0)} ms wall`);
    assert.ok(cpuMs < 1000, `${cpuMs} ms`);
  });
});
