// The pricing lab's replay, decided by the books alone (issue 18, acceptance 2): a hand-written
// operation log replayed under the book and plans in force, then under a proposed change, each
// with its difference computed by hand in the comments.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_PLANS } from "./default-plans.js";
import { DEFAULT_PRICE_BOOK } from "./default-price-book.js";
import type { Grant } from "./grants.js";
import { diffSpend, OrgReplay, zeroSpend, type OrgOpening, type OrgOutcome, type Scenario, type Spend } from "./lab.js";
import type { Member, Organization } from "./model.js";
import { logEntry, priceInputs, type CostInputs, type LogEntry } from "./operation-log.js";
import type { PlanDef } from "./plans.js";
import { findModel, parsePriceBook, type PriceBook, type PriceBookSpec } from "./price-book.js";
import { ZERO_USAGE, type Speed, type Usage } from "./rating.js";

const USD = 1_000_000;
const T0 = Date.UTC(2026, 10, 2, 9); // Monday 2 November 2026
const MINUTE = 60_000;

function book(spec: PriceBookSpec): PriceBook {
  const p = parsePriceBook(spec);
  if (!p.ok) throw new Error(p.problems.join("; "));
  return p.book;
}
const IN_FORCE = book(DEFAULT_PRICE_BOOK);
const PLANS = new Map<string, PlanDef>(DEFAULT_PLANS.map((p) => [p.id, p]));

function opening(planId: string, credits: Micros, usageCredits = true): OrgOpening {
  const org: Organization = { id: "org_1", name: "One", planId, usageCreditsEnabled: usageCredits, fastModeEnabled: true, fastModeFallback: false, weeklyAnchor: T0 - 24 * 3_600_000, debt: 0, createdAt: 0 };
  const member: Member = { id: "mem_1", orgId: "org_1", email: "a@b.c", name: "A", role: "owner", seatTier: "standard", workspaceId: null, usageCreditsEnabled: true, fastModeEnabled: true, createdAt: 0 };
  const grant: Grant = { id: "grant_1", orgId: "org_1", kind: "purchase", amount: credits, remaining: credits, priority: 5, expiresAt: null, surfaces: null, memberId: null, createdAt: 0, status: "active", description: "" };
  return { org, members: [member], grants: [grant], limits: [], windows: [], spendDays: [], holds: [] };
}
type Micros = number;

const tokens = (input: number, output: number): Usage => ({ ...ZERO_USAGE, input_tokens: input, output_tokens: output });

/** One request as the log keeps it: authorize (estimate = the usage) and settle, a minute apart. */
function request(n: number, at: number, model: string, speed: Speed, cost: CostInputs): LogEntry[] {
  const micros = priceInputs(IN_FORCE, model, speed, cost);
  if (micros === undefined) throw new Error(`no price for ${model}`);
  const holdId = `hold_${n}`;
  const family = findModel(IN_FORCE, model)?.family ?? null;
  return [
    logEntry("org_1", at, "authorize", { holdId, memberId: "mem_1", surface: "interactive", model, family, speed, micros, cost, ttlMs: 10 * MINUTE, owner: "api" }),
    logEntry("org_1", at + MINUTE, "settle", { holdId, micros, cost, actor: "api" }),
  ];
}
const rated = (usage: Usage): CostInputs => ({ amount: null, usage, batch: false, dataResidency: false });
const amount = (micros: Micros): CostInputs => ({ amount: micros, usage: null, batch: false, dataResidency: false });

function replay(open: OrgOpening, scenario: Scenario, log: readonly LogEntry[]): OrgOutcome {
  const r = new OrgReplay("org_1", open, scenario);
  for (const e of log) r.apply(e);
  return r.finish(T0 + 30 * 24 * 3_600_000);
}

function spend(partial: Partial<Spend>): Spend {
  return { ...zeroSpend(), ...partial };
}

describe("pricing lab: replays decided by the books alone", () => {
  test("a zero-change replay (recorded amounts, or the book in force re-rating the same tokens) gives the same outcome", () => {
    const log = [...request(1, T0, "claude-opus-4-7", "fast", rated(tokens(10_000, 2_000))), ...request(2, T0 + 5 * MINUTE, "claude-sonnet-4-5", "standard", rated(tokens(10_000, 1_000)))];
    const recorded = replay(opening("enterprise_usage", 10 * USD), { plans: PLANS, book: null }, log);
    const rerated = replay(opening("enterprise_usage", 10 * USD), { plans: PLANS, book: IN_FORCE }, log);
    assert.deepEqual(rerated.spend, recorded.spend);
    assert.equal(rerated.closingBalance, recorded.closingBalance);
    // 600,000 (opus fast 6x) + 45,000 (sonnet) paid by usage credits.
    assert.deepEqual(recorded.spend, spend({ usageCredits: 645_000, total: 645_000, revenue: 645_000 }));
    assert.equal(recorded.closingBalance, 10 * USD - 645_000);
  });

  const cases: Array<{ name: string; open: () => OrgOpening; log: LogEntry[]; scenario: Scenario; diff: Spend; closing: Micros; refusals?: Record<string, number>; exhausted?: Array<{ window: string; at: number }> }> = [
    {
      // Opus 4.7 at $5/$25 per MTok: 10,000 in + 2,000 out = 50,000 + 50,000 = 100,000 µ$; fast 6x = 600,000,
      // 12x = 1,200,000 (+600,000). Sonnet 4.5 standard: 30,000 + 15,000 = 45,000, unchanged. Sonnet 4.5
      // fast at the book's 2x = 90,000, at 4x = 180,000 (+90,000). Total +690,000, all usage credits.
      name: "doubling the fast-mode multiplier (the book's and each model's own)",
      open: () => opening("enterprise_usage", 10 * USD),
      log: [
        ...request(1, T0, "claude-opus-4-7", "fast", rated(tokens(10_000, 2_000))),
        ...request(2, T0 + 5 * MINUTE, "claude-sonnet-4-5", "standard", rated(tokens(10_000, 1_000))),
        ...request(3, T0 + 10 * MINUTE, "claude-sonnet-4-5", "fast", rated(tokens(10_000, 1_000))),
      ],
      scenario: {
        plans: PLANS,
        book: book({
          ...DEFAULT_PRICE_BOOK,
          models: DEFAULT_PRICE_BOOK.models.map((m) => (m.fast_factor ? { ...m, fast_factor: String(Number(m.fast_factor) * 2) } : m)),
          modifiers: { ...DEFAULT_PRICE_BOOK.modifiers, fast: { ...DEFAULT_PRICE_BOOK.modifiers.fast, factor: String(Number(DEFAULT_PRICE_BOOK.modifiers.fast.factor) * 2) } },
        }),
      },
      diff: spend({ usageCredits: 690_000, total: 690_000, revenue: 690_000 }),
      closing: -690_000,
    },
    {
      // Pro: session $5. Four $1 requests in one session: all plan (used 1, 2, 3, 4). Halved to $2.50:
      // the first three pass (used 0, 1, 2 < 2.5; the third overshoots to 3), the fourth finds the
      // window full and usage credits pay it: plan −$1, usage credits +$1.
      name: "halving a plan's session quota (usage credits take over)",
      open: () => opening("pro", 10 * USD),
      log: [0, 1, 2, 3].flatMap((i) => request(i, T0 + i * 2 * MINUTE, "claude-sonnet-4-5", "standard", amount(1 * USD))),
      scenario: { plans: halvedSession("pro"), book: null },
      diff: spend({ planWindow: -1 * USD, usageCredits: 1 * USD, revenue: 1 * USD }),
      closing: -1 * USD,
    },
    {
      // The same with usage credits off: the fourth request is refused (window_exhausted, at its
      // authorize instant) and its usage is not charged: plan −$1, nothing else.
      name: "halving a plan's session quota (no usage credits: refused)",
      open: () => opening("pro", 10 * USD, false),
      log: [0, 1, 2, 3].flatMap((i) => request(i, T0 + i * 2 * MINUTE, "claude-sonnet-4-5", "standard", amount(1 * USD))),
      scenario: { plans: halvedSession("pro"), book: null },
      diff: spend({ planWindow: -1 * USD, total: -1 * USD }),
      closing: 0,
      refusals: { window_exhausted: 1 },
      exhausted: [{ window: "five_hour", at: T0 + 6 * MINUTE }],
    },
    {
      // Haiku 4.5 ($1/$5) gets a long-context rate above 200,000 input tokens ($2/$10). 250,000 in +
      // 10,000 out: 250,000 + 50,000 = 300,000 → 500,000 + 100,000 = 600,000 (+300,000). 150,000 in +
      // 5,000 out stays under the threshold: 175,000 either way.
      name: "adding a long-context rate",
      open: () => opening("enterprise_usage", 10 * USD),
      log: [...request(1, T0, "claude-haiku-4-5", "standard", rated(tokens(250_000, 10_000))), ...request(2, T0 + 5 * MINUTE, "claude-haiku-4-5", "standard", rated(tokens(150_000, 5_000)))],
      scenario: {
        plans: PLANS,
        book: book({
          ...DEFAULT_PRICE_BOOK,
          models: DEFAULT_PRICE_BOOK.models.map((m) =>
            m.id === "claude-haiku-4-5" ? { ...m, long_context: { above_input_tokens: 200_000, input: "2", cache_write_5m: "2.50", cache_write_1h: "4", cache_read: "0.20", output: "10" } } : m,
          ),
        }),
      },
      diff: spend({ usageCredits: 300_000, total: 300_000, revenue: 300_000 }),
      closing: -300_000,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: the difference is exactly the hand-computed one`, () => {
      const actual = replay(c.open(), { plans: PLANS, book: null }, c.log);
      const proposed = replay(c.open(), c.scenario, c.log);
      assert.deepEqual(diffSpend(proposed.spend, actual.spend), c.diff);
      assert.equal(proposed.closingBalance - actual.closingBalance, c.closing);
      assert.deepEqual(proposed.refusals, c.refusals ?? {});
      assert.deepEqual(actual.refusals, {});
      assert.deepEqual(proposed.windowsExhausted, c.exhausted ?? []);
      assert.equal(proposed.droppedSettles, c.refusals ? 1 : 0);
    });
  }

  test("a request refused in reality but admitted by the replay is held and given back (its usage is unknown)", () => {
    const log = [
      ...request(1, T0, "claude-sonnet-4-5", "standard", amount(1 * USD)),
      logEntry("org_1", T0 + MINUTE, "refuse", { holdId: "hold_r", memberId: "mem_1", surface: "interactive", model: "claude-sonnet-4-5", family: "sonnet", speed: "standard", micros: 1 * USD, cost: amount(1 * USD), ttlMs: 600_000, owner: "api", code: "window_exhausted" }),
    ];
    const out = replay(opening("pro", 0, false), { plans: PLANS, book: null }, log);
    assert.deepEqual(out.refusalsActual, { window_exhausted: 1 });
    assert.deepEqual(out.refusals, {});
    assert.equal(out.admittedWithoutUsage, 1);
    assert.deepEqual(out.spend, spend({ planWindow: 1 * USD, total: 1 * USD }));
  });
});

function halvedSession(planId: string): Map<string, PlanDef> {
  const plans = new Map(PLANS);
  const p = plans.get(planId);
  if (!p) throw new Error(planId);
  const seat = p.seats.standard;
  plans.set(planId, { ...p, seats: { ...p.seats, standard: { ...seat, windows: seat.windows.map((w) => (w.key === "five_hour" ? { ...w, quota: w.quota / 2 } : w)) } } });
  return plans;
}
