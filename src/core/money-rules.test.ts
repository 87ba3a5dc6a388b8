// The money rules of docs/money-rules.md, one table per rule, decided by the books alone (no store,
// no HTTP): each test name starts with the rule's number (R1, R2, …) so the document can cite it.
// The same rules run end to end over HTTP on both stores in test/money-rules.test.ts.
// Over 400 lines: one table per rule of docs/money-rules.md, in one file the document cites.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Books, NO_TOKENS, type AuthorizeRequest } from "./books.js";
import { DEFAULT_PRICE_BOOK } from "./default-price-book.js";
import type { DomainError } from "./errors.js";
import type { Grant } from "./grants.js";
import { dayOf, type SpendLimit } from "./limits.js";
import type { Member, Organization, Snapshot } from "./model.js";
import { HOUR_MS, seatOf, utilization, type PlanDef } from "./plans.js";
import { bookInForce, parsePriceBook, type PriceBook } from "./price-book.js";
import { cacheWrites, rate, STANDARD, ZERO_USAGE } from "./rating.js";
import { seatAmount } from "./sdk-credits.js";

const USD = 1_000_000;
const T0 = Date.UTC(2026, 2, 2, 9); // a Monday
const PLAN: PlanDef = {
  id: "p",
  name: "P",
  seats: { standard: { windows: [{ key: "five_hour", kind: "session", durationMs: 5 * HOUR_MS, quota: 1 * USD }], monthlySdkCredit: 20 * USD } },
  creditOnlySurfaces: ["sdk"],
};
const TEAM: PlanDef = {
  id: "team",
  name: "Team",
  seats: {
    standard: { windows: [{ key: "five_hour", kind: "session", durationMs: 5 * HOUR_MS, quota: 1 * USD }], monthlySdkCredit: 20 * USD },
    premium: { windows: [{ key: "five_hour", kind: "session", durationMs: 5 * HOUR_MS, quota: 5 * USD }], monthlySdkCredit: 100 * USD },
  },
  creditOnlySurfaces: ["sdk"],
};
const NO_WINDOWS: PlanDef = { id: "usage", name: "Usage", seats: { standard: { windows: [], monthlySdkCredit: 0 } }, creditOnlySurfaces: [] };

interface WorldOptions {
  plan?: PlanDef;
  credits?: boolean;
  memberCredits?: boolean;
  fastMode?: boolean;
  debt?: number;
  seat?: "standard" | "premium";
  limits?: Array<Partial<SpendLimit> & Pick<SpendLimit, "amount">>;
}

/** One organization (org_1) with one member (mem_1) on `plan`; the Books instance is the whole store. */
function world(o: WorldOptions = {}) {
  const plan = o.plan ?? PLAN;
  const org: Organization = {
    id: "org_1",
    name: "Acme",
    planId: plan.id,
    usageCreditsEnabled: o.credits ?? true,
    fastModeEnabled: o.fastMode ?? true,
    fastModeFallback: false,
    weeklyAnchor: T0,
    debt: o.debt ?? 0,
    createdAt: T0,
  };
  const member: Member = {
    id: "mem_1",
    orgId: "org_1",
    email: "m@acme.test",
    name: "M",
    role: "owner",
    seatTier: o.seat ?? "standard",
    workspaceId: null,
    usageCreditsEnabled: o.memberCredits ?? true,
    fastModeEnabled: true,
    createdAt: T0,
  };
  const limits: SpendLimit[] = (o.limits ?? []).map((l, i) => ({ id: `spl_${i}`, orgId: "org_1", scope: "organization", scopeId: "org_1", period: "monthly", stopUsage: true, ...l }));
  const snap: Snapshot = {
    orgs: new Map([[org.id, org]]),
    plans: new Map([[plan.id, plan]]),
    members: new Map([[member.id, member]]),
    grants: new Map(),
    limits,
    windows: [],
    spendDays: [],
    holds: new Map(),
  };
  let n = 0;
  const books = new Books(snap, (kind) => `${kind}_${++n}`);
  let holds = 0;
  let grants = 0;
  const w = {
    books,
    org,
    member,
    snap,
    grant(amount: number, at = T0, over: Partial<Grant> = {}): Grant {
      const g: Grant = { id: `grant_${++grants}`, orgId: "org_1", kind: "purchase", amount, remaining: amount, priority: 5, expiresAt: null, surfaces: null, memberId: null, createdAt: at, status: "active", description: "", ...over };
      return books.addGrant(g, at);
    },
    authorize(estimate: number, at = T0, over: Partial<AuthorizeRequest> = {}) {
      const req: AuthorizeRequest = { holdId: `hold_${++holds}`, orgId: "org_1", memberId: "mem_1", surface: "interactive", model: "m", family: "sonnet", speed: "standard", estimate, ttlMs: 600_000, metadata: {}, ...over };
      return books.authorize(req, at);
    },
    /** Settled spend counted on the days of [from, to). */
    spentBetween(from: number, to: number, scopeKey = "org"): number {
      return books.changes().spendDays.filter((d) => d.scopeKey === scopeKey && d.day >= dayOf(from) && d.day < dayOf(to)).reduce((t, d) => t + d.spent, 0);
    },
  };
  return w;
}

/** Fills the member's session window with a settled plan request of `amount`. */
function fillWindow(w: ReturnType<typeof world>, amount = 1 * USD, at = T0): void {
  const h = w.authorize(amount, at);
  assert.ok(h.ok && h.value.payer === "plan");
  assert.ok(w.books.settle("org_1", h.value.id, amount, at).ok);
}

const refusal = (r: { ok: boolean; error?: DomainError }): DomainError => {
  assert.equal(r.ok, false, "refused");
  assert.ok(r.error);
  return r.error;
};

describe("R1: an exhausted window with usage credits that cannot pay answers window_exhausted with the window's reset", () => {
  const cases: ReadonlyArray<[string, WorldOptions, (w: ReturnType<typeof world>) => void, string]> = [
    ["usage credits off", { credits: false }, () => {}, "usage_credits_disabled"],
    ["usage credits off for the member only", { memberCredits: false }, (w) => void w.grant(10 * USD), "usage_credits_disabled"],
    ["usage credits on, balance 0", {}, () => {}, "insufficient_credits"],
    ["usage credits on, balance below the estimate", {}, (w) => void w.grant(100_000), "insufficient_credits"],
    ["usage credits on, the organization in debt", { debt: 1 }, (w) => void w.grant(0), "insufficient_credits"],
    ["usage credits on, a hard spending limit reached", { limits: [{ amount: 100_000 }] }, (w) => void w.grant(10 * USD), "spend_limit_reached"],
  ];
  for (const [label, options, setup, creditCode] of cases) {
    test(`R1: ${label} → window_exhausted (credits: ${creditCode})`, () => {
      const w = world(options);
      setup(w);
      fillWindow(w);
      const e = refusal(w.authorize(500_000, T0 + HOUR_MS));
      assert.equal(e.code, "window_exhausted");
      assert.equal(e.details?.["window"], "five_hour");
      assert.equal(e.details?.["resets_at"], new Date(T0 + 5 * HOUR_MS).toISOString(), "the window's reset, not the limit's");
      assert.equal((e.details?.["credits"] as Record<string, unknown>)["code"], creditCode, "why credits could not pay rides along");
    });
  }
  test("R1: usage credits that can pay, pay (at API rates) once the window is full", () => {
    const w = world();
    w.grant(10 * USD);
    fillWindow(w);
    const h = w.authorize(500_000, T0 + HOUR_MS);
    assert.ok(h.ok);
    assert.equal(h.value.payer, "credits");
  });
  test("R1: where the plan could never pay (fast mode, credit-only surface, no windows), the credits' own refusal stands", () => {
    for (const [label, options, over] of [
      ["fast mode", {}, { speed: "fast" as const }],
      ["credit-only surface", {}, { surface: "sdk" as const }],
      ["plan without windows", { plan: NO_WINDOWS }, {}],
    ] as const) {
      const w = world(options);
      if (options.plan === undefined) fillWindow(w);
      assert.equal(refusal(w.authorize(500_000, T0 + HOUR_MS, over)).code, "insufficient_credits", label);
    }
  });
});

/** Every amount in a refusal's details is a string of digits; a JSON number there is a bug. */
function assertNoMoneyNumbers(details: unknown, path = "details"): void {
  if (typeof details === "number") assert.fail(`${path} is a JSON number (${details}); money travels as a string of digits`);
  if (details && typeof details === "object") {
    for (const [k, v] of Object.entries(details)) if (k !== "utilization") assertNoMoneyNumbers(v, `${path}.${k}`);
  }
}

describe("R2: money inside error details is a string of digits", () => {
  const cases: ReadonlyArray<[string, WorldOptions, (w: ReturnType<typeof world>) => void, number, string]> = [
    ["insufficient_credits", { plan: NO_WINDOWS }, (w) => void w.grant(300_000), 500_000, "insufficient_credits"],
    ["insufficient_credits in debt", { plan: NO_WINDOWS, debt: 42 }, () => {}, 500_000, "insufficient_credits"],
    ["spend_limit_reached", { plan: NO_WINDOWS, limits: [{ amount: 400_000 }] }, (w) => void w.grant(10 * USD), 500_000, "spend_limit_reached"],
    ["window_exhausted with the credits' reason", { limits: [{ amount: 400_000 }] }, (w) => (w.grant(10 * USD), fillWindow(w)), 500_000, "window_exhausted"],
  ];
  for (const [label, options, setup, estimate, code] of cases) {
    test(`R2: ${label}: every amount is a string of digits`, () => {
      const w = world(options);
      setup(w);
      const e = refusal(w.authorize(estimate, T0 + 1));
      assert.equal(e.code, code);
      assertNoMoneyNumbers(e.details);
    });
  }
  test("R2: the values themselves (balance 300,000 µ$ asked 500,000 µ$)", () => {
    const w = world({ plan: NO_WINDOWS });
    w.grant(300_000);
    const e = refusal(w.authorize(500_000));
    assert.deepEqual(e.details, { required: "500000", available: "300000", debt: "0" });
  });
});

describe("R3: debt is repaid first by every new grant, and blocks every grant until it is", () => {
  const cases: ReadonlyArray<[string, Partial<Grant>, number, number, number]> = [
    // [label, grant fields, grant amount, debt after, grant remaining after]
    ["a purchase larger than the debt", { kind: "purchase" }, 1 * USD, 0, 700_000],
    ["a monthly SDK credit larger than the debt", { kind: "monthly", priority: 0, surfaces: ["sdk"], memberId: "mem_1" }, 1 * USD, 0, 700_000],
    ["a monthly SDK credit smaller than the debt", { kind: "monthly", priority: 0, surfaces: ["sdk"] }, 200_000, 100_000, 0],
    ["a promotional grant restricted to another member", { kind: "promotional", memberId: "mem_other" }, 1 * USD, 0, 700_000],
    ["a grant restricted to one surface", { kind: "adjustment", surfaces: ["ci"] }, 250_000, 50_000, 0],
  ];
  for (const [label, fields, amount, debtAfter, remainingAfter] of cases) {
    test(`R3: debt 300,000 µ$, then ${label} of ${amount} µ$ → debt ${debtAfter}, grant ${remainingAfter}`, () => {
      const w = world({ debt: 300_000 });
      const g = w.grant(amount, T0, fields);
      assert.equal(w.org.debt, debtAfter);
      assert.equal(g.remaining, remainingAfter);
      const repayment = w.books.changes().ledger.find((t) => t.kind === "debt_repayment");
      assert.equal(repayment?.entries.find((e) => e.account === "debt:org_1")?.amount, 300_000 - debtAfter);
    });
  }
  test("R3: an organization in debt cannot spend its monthly SDK credit (nor any grant) until a grant repays the debt", () => {
    const w = world();
    w.grant(5 * USD, T0, { kind: "monthly", priority: 0, surfaces: ["sdk"] });
    w.org.debt = 100_000; // as a settle beyond its hold leaves it
    const e = refusal(w.authorize(10_000, T0 + 1, { surface: "sdk" }));
    assert.equal(e.code, "insufficient_credits");
    assert.equal(e.details?.["debt"], "100000");
    w.grant(100_000, T0 + 2); // a purchase of exactly the debt
    assert.equal(w.org.debt, 0);
    const h = w.authorize(10_000, T0 + 3, { surface: "sdk" });
    assert.ok(h.ok, "the monthly credit pays again");
  });
  test("R3: usage beyond a hold is charged to debt, never to an included grant, while the organization is in debt", () => {
    const w = world({ plan: NO_WINDOWS });
    const monthly = w.grant(5 * USD, T0, { kind: "monthly", priority: 0, surfaces: ["sdk"] });
    const h = w.authorize(100_000, T0, { surface: "sdk", owner: "gateway" });
    assert.ok(h.ok);
    w.org.debt = 1;
    // The gateway's settle: it relayed the usage, so the excess is owed (R16).
    const s = w.books.settle("org_1", h.value.id, 300_000, T0 + 1, NO_TOKENS, { kind: "gateway" });
    assert.ok(s.ok);
    assert.equal(s.value.debt, 200_000);
    assert.equal(w.org.debt, 200_001);
    assert.equal(monthly.remaining, 5 * USD - 100_000, "only the hold's own draw was taken from the monthly credit");
  });
  test("R16: an API settle beyond its hold while the organization is in debt adds nothing: the excess is unbilled", () => {
    const w = world({ plan: NO_WINDOWS });
    w.grant(5 * USD, T0, { kind: "monthly", priority: 0, surfaces: ["sdk"] });
    const h = w.authorize(100_000, T0, { surface: "sdk" });
    assert.ok(h.ok);
    w.org.debt = 1;
    const s = w.books.settle("org_1", h.value.id, 300_000, T0 + 1);
    assert.ok(s.ok);
    assert.equal(s.value.debt, 0);
    assert.equal(s.value.unbilled, 200_000);
    assert.equal(s.value.charged, 100_000);
    assert.equal(w.org.debt, 1);
  });
});

describe("R4: a charge counts in the period it settles in; a pending hold takes the headroom of every period it is pending in", () => {
  const JAN31 = Date.UTC(2026, 0, 31, 23, 30);
  const FEB1 = Date.UTC(2026, 1, 1, 0, 30);
  const MAR1 = Date.UTC(2026, 2, 1);
  for (const period of ["monthly", "daily"] as const) {
    test(`R4: ${period} $1.00 limit: a $0.70 hold from before midnight settled after it leaves $0.30 for the new period, never $1.10`, () => {
      const w = world({ plan: NO_WINDOWS, limits: [{ amount: 1 * USD, period }] });
      w.grant(10 * USD, JAN31 - HOUR_MS);
      const jan = w.authorize(700_000, JAN31, { ttlMs: 2 * HOUR_MS });
      assert.ok(jan.ok);
      const e = refusal(w.authorize(400_000, FEB1));
      assert.equal(e.code, "spend_limit_reached", "the January hold takes February's headroom too");
      assert.equal(e.details?.["headroom"], "300000");
      const feb = w.authorize(300_000, FEB1 + 1);
      assert.ok(feb.ok);
      assert.ok(w.books.settle("org_1", jan.value.id, 700_000, FEB1 + 2).ok);
      assert.ok(w.books.settle("org_1", feb.value.id, 300_000, FEB1 + 3).ok);
      assert.equal(w.spentBetween(Date.UTC(2026, 0, 1), Date.UTC(2026, 1, 1)), 0, "nothing settled in January");
      assert.equal(w.spentBetween(Date.UTC(2026, 1, 1), MAR1), 1 * USD, "February: exactly the limit");
    });
  }
  test("R4: a hold released after midnight gives its headroom back to the new period", () => {
    const w = world({ plan: NO_WINDOWS, limits: [{ amount: 1 * USD, period: "daily" }] });
    w.grant(10 * USD, JAN31 - HOUR_MS);
    const jan = w.authorize(700_000, JAN31, { ttlMs: 2 * HOUR_MS });
    assert.ok(jan.ok);
    assert.ok(w.books.release("org_1", jan.value.id, FEB1).ok);
    assert.ok(w.authorize(1 * USD, FEB1 + 1).ok);
  });
});

describe("R5: which refusal wins when several apply", () => {
  const cases: ReadonlyArray<[string, WorldOptions, (w: ReturnType<typeof world>) => void, Partial<AuthorizeRequest>, string, Record<string, unknown>?]> = [
    ["fast mode disabled beats everything", { fastMode: false, credits: false }, fillWindow, { speed: "fast" }, "fast_mode_disabled"],
    ["a full window beats every credit refusal (R1)", { credits: false, debt: 5 }, fillWindow, {}, "window_exhausted"],
    ["debt beats usage credits switched off", { plan: NO_WINDOWS, credits: false, debt: 5 }, () => {}, {}, "insufficient_credits", { debt: "5" }],
    ["usage credits off beats a low balance", { plan: NO_WINDOWS, credits: false }, () => {}, {}, "usage_credits_disabled"],
    ["a low balance beats a spending limit", { plan: NO_WINDOWS, limits: [{ amount: 1 }] }, (w) => void w.grant(100_000), {}, "insufficient_credits"],
    [
      "of two hard limits, the lower headroom wins",
      { plan: NO_WINDOWS, limits: [{ amount: 400_000, period: "monthly" }, { amount: 300_000, period: "daily" }] },
      (w) => void w.grant(10 * USD),
      {},
      "spend_limit_reached",
      { period: "daily", headroom: "300000" },
    ],
    [
      "of two hard limits with equal headroom, the sooner reset wins",
      { plan: NO_WINDOWS, limits: [{ amount: 300_000, period: "monthly" }, { amount: 300_000, period: "weekly" }, { amount: 300_000, period: "daily" }] },
      (w) => void w.grant(10 * USD),
      {},
      "spend_limit_reached",
      { period: "daily" },
    ],
    [
      "an alert-only budget never refuses; the hard limit beside it does",
      { plan: NO_WINDOWS, limits: [{ amount: 1, stopUsage: false }, { amount: 400_000, period: "daily" }] },
      (w) => void w.grant(10 * USD),
      {},
      "spend_limit_reached",
      { period: "daily" },
    ],
  ];
  for (const [label, options, setup, over, code, details] of cases) {
    test(`R5: ${label} → ${code}`, () => {
      const w = world(options);
      setup(w);
      const e = refusal(w.authorize(500_000, T0 + 1, over));
      assert.equal(e.code, code);
      for (const [k, v] of Object.entries(details ?? {})) assert.equal(e.details?.[k], v, k);
    });
  }
});

describe("R6: alert-only budgets count spend and never refuse", () => {
  test("R6: $1 alert-only member budget: $3 of requests pass, counted as spend, headroom −$2", () => {
    const w = world({ plan: NO_WINDOWS, limits: [{ amount: 1 * USD, stopUsage: false }] });
    w.grant(10 * USD);
    for (let i = 0; i < 3; i++) {
      const h = w.authorize(1 * USD, T0 + i);
      assert.ok(h.ok, `request ${i + 1}`);
      assert.ok(w.books.settle("org_1", h.value.id, 1 * USD, T0 + i).ok);
    }
    const [room] = w.books.headrooms(w.org, w.member, T0 + 10);
    assert.equal(room?.spent, 3 * USD);
    assert.equal(room?.headroom, -2 * USD);
  });
});

describe("R7: utilization is (used + held) × 100 ÷ quota, floored (the summary passes used + held); held usage blocks admission", () => {
  const cases: ReadonlyArray<[number, number, number]> = [
    [0, 1 * USD, 0],
    [9_999, 1 * USD, 0],
    [10_000, 1 * USD, 1],
    [994_999, 1 * USD, 99],
    [999_999, 1 * USD, 99],
    [1 * USD, 1 * USD, 100],
    [1_700_000, 1 * USD, 100],
    [5, 0, 100],
  ];
  for (const [used, quota, percent] of cases) test(`R7: used ${used} of ${quota} µ$ → ${percent} %`, () => assert.equal(utilization(used, quota), percent));
  test("R7: a pending hold is reported as held, not used, and a window with used + held ≥ quota admits nothing more", () => {
    const w = world();
    const h = w.authorize(600_000);
    assert.ok(h.ok);
    const [s] = w.books.windowStatus(w.org, w.member, T0 + 1);
    assert.equal(s?.used, 0);
    assert.equal(s?.held, 600_000);
    assert.ok(w.authorize(400_000, T0 + 1).ok, "used + held 600,000 < quota 1,000,000: admitted");
    assert.equal(refusal(w.authorize(1, T0 + 2)).code, "window_exhausted", "used + held 1,000,000 = quota: nothing more");
  });
});

describe("R8: a window with room admits the whole request; the last one may overshoot the quota", () => {
  test("R8: used 990,000 of 1,000,000 µ$: a 200,000 µ$ request is admitted (the plan pays 1,190,000), the next is refused", () => {
    const w = world();
    fillWindow(w, 990_000);
    const h = w.authorize(200_000, T0 + 1);
    assert.ok(h.ok && h.value.payer === "plan");
    assert.ok(w.books.settle("org_1", h.value.id, 200_000, T0 + 2).ok);
    assert.equal(w.books.windowStatus(w.org, w.member, T0 + 3)[0]?.used, 1_190_000);
    assert.equal(refusal(w.authorize(1, T0 + 3)).code, "window_exhausted");
  });
});

describe("R9: a premium seat on a plan without premium quotas gets the standard seat", () => {
  test("R9: premium member on a plan with no premium seat: standard windows and standard monthly SDK credit", () => {
    assert.equal(seatOf(PLAN, "premium"), PLAN.seats.standard);
    assert.equal(seatAmount(PLAN, "premium"), 20 * USD);
    const w = world({ seat: "premium" });
    assert.equal(w.books.windowStatus(w.org, w.member, T0)[0]?.quota, 1 * USD);
  });
  test("R9: on a plan with a premium seat, the premium quotas and credit apply", () => {
    assert.equal(seatAmount(TEAM, "premium"), 100 * USD);
    const w = world({ plan: TEAM, seat: "premium" });
    assert.equal(w.books.windowStatus(w.org, w.member, T0)[0]?.quota, 5 * USD);
  });
});

describe("R10: a new price book replaces the old one whole", () => {
  const base = (() => {
    const r = parsePriceBook(DEFAULT_PRICE_BOOK);
    assert.ok(r.ok);
    return r.book;
  })();
  const MAR = Date.UTC(2026, 2, 1);
  const APR = Date.UTC(2026, 3, 1);
  const onlyOpus: PriceBook = { ...base, id: "apr", version: 1, effectiveFrom: APR, models: base.models.filter((m) => m.id.includes("opus")) };
  const books = [{ ...base, effectiveFrom: MAR }, onlyOpus];
  // 100,000 input tokens: below every long-context threshold of the shipped book (200,000).
  const usage = { ...ZERO_USAGE, input_tokens: 100_000 };
  test("R10: a model the new book omits has no price from its effective_from on (unknown_model), and keeps its old price before", () => {
    const before = bookInForce(books, APR - 1);
    const after = bookInForce(books, APR);
    assert.ok(before && after);
    assert.equal(rate(before, "claude-haiku-4-5", usage, STANDARD)?.micros, 100_000);
    assert.equal(rate(after, "claude-haiku-4-5", usage, STANDARD), undefined);
    assert.equal(rate(after, "claude-opus-4-6", usage, STANDARD)?.micros, 500_000);
  });
});

describe("R11: cache writes: the breakdown names the rate, the total is never charged short", () => {
  const cases: ReadonlyArray<[string, number | undefined, { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number } | undefined, number, number]> = [
    ["total only", 50, undefined, 50, 0],
    ["breakdown only", undefined, { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 40 }, 10, 40],
    ["total = breakdown", 50, { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 40 }, 10, 40],
    ["total beyond the breakdown: the rest at the 5-minute rate", 50, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 40 }, 10, 40],
    ["breakdown beyond the total: the breakdown", 20, { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 40 }, 10, 40],
    ["neither", undefined, undefined, 0, 0],
  ];
  for (const [label, total, breakdown, fiveMinutes, oneHour] of cases) {
    test(`R11: ${label} → 5m ${fiveMinutes}, 1h ${oneHour}`, () => assert.deepEqual(cacheWrites(total, breakdown), { fiveMinutes, oneHour }));
  }
});
