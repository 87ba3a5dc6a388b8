// Pure rules of monthly SDK credits: billing-cycle bounds and the pooled cap, table-driven.

import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_PLANS } from "./default-plans.js";
import { cycleOf, DEFAULT_POOL_CAP, parseMonth, planCycle, seatAmount } from "./sdk-credits.js";

const USD = 1_000_000;

test("the billing cycle is the calendar month in UTC, end exclusive", () => {
  const cases: Array<[string, string, string, string]> = [
    ["2026-03-02T09:00:00Z", "2026-03", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"],
    ["2026-03-31T23:59:59.999Z", "2026-03", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z"],
    ["2026-04-01T00:00:00Z", "2026-04", "2026-04-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"],
    ["2026-12-15T00:00:00Z", "2026-12", "2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"],
    ["2028-02-29T12:00:00Z", "2028-02", "2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z"],
  ];
  for (const [at, label, start, end] of cases) {
    const c = cycleOf(Date.parse(at));
    assert.deepEqual([c.label, new Date(c.start).toISOString(), new Date(c.end).toISOString()], [label, start, end], at);
  }
  assert.deepEqual(parseMonth("2026-12"), cycleOf(Date.parse("2026-12-31T00:00:00Z")));
  for (const bad of ["2026-13", "2026-00", "2026-1", "1999-12", "2026-01-01", ""]) assert.equal(parseMonth(bad), null, bad);
});

test("seat amounts are the DOMAIN.md §5 defaults", () => {
  const plan = (id: string) => {
    const p = DEFAULT_PLANS.find((x) => x.id === id);
    assert.ok(p, id);
    return p;
  };
  assert.equal(seatAmount(plan("pro"), "standard"), 20 * USD);
  assert.equal(seatAmount(plan("max_5x"), "standard"), 100 * USD);
  assert.equal(seatAmount(plan("max_20x"), "standard"), 200 * USD);
  assert.equal(seatAmount(plan("team"), "standard"), 20 * USD);
  assert.equal(seatAmount(plan("team"), "premium"), 100 * USD);
  assert.equal(seatAmount(plan("free"), "standard"), 0);
  assert.equal(seatAmount(plan("pro"), "premium"), 20 * USD, "a seat tier the plan lacks falls back to standard");
  assert.equal(DEFAULT_POOL_CAP, 500 * USD);
});

test("per member: every claimant gets their seat amount; pooled: contributions fill the cap in claim order", () => {
  const claimants = [100, 100, 20, 100, 100, 100, 0].map((usd, i) => ({ memberId: `m${i}`, amount: usd * USD }));
  const cases: Array<{ pooled: boolean; cap: number; soFar: number; shares: number[]; pool: number }> = [
    { pooled: false, cap: 500, soFar: 0, shares: [100, 100, 20, 100, 100, 100, 0], pool: 0 },
    { pooled: true, cap: 500, soFar: 0, shares: [100, 100, 20, 100, 100, 80, 0], pool: 500 },
    { pooled: true, cap: 500, soFar: 450, shares: [50, 0, 0, 0, 0, 0, 0], pool: 50 },
    { pooled: true, cap: 500, soFar: 500, shares: [0, 0, 0, 0, 0, 0, 0], pool: 0 },
    { pooled: true, cap: 500, soFar: 600, shares: [0, 0, 0, 0, 0, 0, 0], pool: 0 },
    { pooled: true, cap: 10_000, soFar: 0, shares: [100, 100, 20, 100, 100, 100, 0], pool: 520 },
  ];
  for (const c of cases) {
    const p = planCycle({ pooled: c.pooled, cap: c.cap * USD, pooledSoFar: c.soFar * USD, claimants });
    assert.deepEqual(p.shares.map((s) => s.amount / USD), c.shares, JSON.stringify(c));
    assert.equal(p.poolAmount, c.pool * USD);
    assert.ok(p.poolAmount + c.soFar * USD <= Math.max(c.cap * USD, c.soFar * USD), "never above the cap");
  }
});
