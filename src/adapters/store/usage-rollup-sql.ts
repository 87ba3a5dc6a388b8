// Usage rollups (issue 16): per organization, model, surface, member, speed and payer, the count and
// sums of the usage records (cost, usage-credit cost, tokens), at two grains: `usage_daily` (UTC day,
// migration 12) and `usage_hourly` (UTC hour, migration 16). Both are written in the same
// transaction as the records (one set-based upsert of per-batch deltas each, see
// `writeUsageRollups`), backfilled by their migration, and read by the usage breakdown and the
// monthly statements (`usageSums`), so their cost grows with days × models × surfaces × members ×
// speeds, not with the number of requests. The raw usage_records stay for exports and audit.
//
// A range is covered grain by grain: whole days from usage_daily; each partial edge day from
// usage_hourly (whole hours) on whichever side of the edge is shorter, either adding the hours
// inside the range or taking the day and subtracting the hours outside it; and each partial edge
// hour the same way from the raw records. So at most half an hour of raw records is read at each
// edge (at 10 M records over 90 days, ~2,300 records rather than the ~55,000 of half a day). It is
// all ONE statement, so it is one snapshot on both engines.

import type { UsageRecord } from "../../core/model.js";
import type { BreakdownJson } from "../../ports/dashboard-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { largeText } from "./sql-values.js";

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

const DIMS = ["model", "surface", "member_id", "speed", "payer"] as const;
const SUMS = ["requests", "cost", "credit_cost", "input_tokens", "output_tokens"] as const;

/** One grain of the rollup: its table, the name of its time column (units since the epoch) and its unit. */
interface Grain {
  readonly table: string;
  readonly col: string;
  readonly unit: number;
  /** The UTC day of a row, from its time column. */
  readonly day: string;
}

/** Coarsest first: a range takes whole units of a grain and hands its partial edges to the next one. */
const GRAINS: readonly Grain[] = [
  { table: "usage_daily", col: "day", unit: DAY_MS, day: "day" },
  { table: "usage_hourly", col: "hour", unit: HOUR_MS, day: `hour / ${DAY_MS / HOUR_MS}` },
];
const [DAILY, HOURLY] = GRAINS as [Grain, Grain];

const ddl = (g: Grain) => `CREATE TABLE ${g.table} (
  org_id TEXT NOT NULL, ${g.col} INTEGER NOT NULL, model TEXT NOT NULL, surface TEXT NOT NULL, member_id TEXT NOT NULL,
  speed TEXT NOT NULL, payer TEXT NOT NULL, requests BIGINT NOT NULL, cost BIGINT NOT NULL, credit_cost BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  PRIMARY KEY (org_id, ${g.col}, model, surface, member_id, speed, payer))`;

/** `INSERT … SELECT … GROUP BY` from usage_records; `where` narrows it (tests and benches roll up one organization's records). */
const backfill = (g: Grain, where: string): string =>
  `INSERT INTO ${g.table} (org_id, ${g.col}, ${[...DIMS, ...SUMS].join(", ")}) ` +
  `SELECT org_id, at / ${g.unit}, ${DIMS.join(", ")}, COUNT(*), SUM(cost), SUM(credit_cost), SUM(input_tokens), SUM(output_tokens) ` +
  `FROM usage_records ${where} GROUP BY org_id, at / ${g.unit}, ${DIMS.join(", ")}`;

/** Migration 12's table and backfill. */
export const USAGE_DAILY_DDL = ddl(DAILY);
export const usageDailyBackfill = (where = ""): string => backfill(DAILY, where);
/** Migration 16's table and backfill. */
export const USAGE_HOURLY_DDL = ddl(HOURLY);
export const usageHourlyBackfill = (where = ""): string => backfill(HOURLY, where);

/**
 * A batch's usage records folded into one delta row per rollup key of `unit` (a day or an hour),
 * in key order (so two transactions never take the same rows' locks in opposite orders).
 */
export function usageRollupDeltas(usage: readonly UsageRecord[], unit: number = DAY_MS): SqlValue[][] {
  const byKey = new Map<string, SqlValue[]>();
  for (const u of usage) {
    const t = Math.floor(u.at / unit);
    const k = `${u.orgId}\n${t}\n${u.model}\n${u.surface}\n${u.memberId}\n${u.speed}\n${u.payer}`;
    const row = byKey.get(k);
    if (row) {
      row[7] = (row[7] as number) + 1;
      row[8] = (row[8] as number) + u.cost;
      row[9] = (row[9] as number) + u.creditCost;
      row[10] = (row[10] as number) + u.inputTokens;
      row[11] = (row[11] as number) + u.outputTokens;
    } else {
      byKey.set(k, [u.orgId, t, u.model, u.surface, u.memberId, u.speed, u.payer, 1, u.cost, u.creditCost, u.inputTokens, u.outputTokens]);
    }
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/**
 * Adds a batch's usage records to both rollups: per grain, one multi-row
 * `ON CONFLICT … DO UPDATE SET x = x + excluded.x` (both are issued before the first await, so on
 * PostgreSQL they travel with the batch's other final writes).
 */
export async function writeUsageRollups(q: Queryable, usage: readonly UsageRecord[]): Promise<void> {
  await Promise.all(
    GRAINS.map((g) => upsert(q, g.table, ["org_id", g.col, ...DIMS, ...SUMS], ["org_id", g.col, ...DIMS], usageRollupDeltas(usage, g.unit), "add")),
  );
}

export type UsageDimension = "day" | "model" | "surface" | "member_id" | "speed" | "payer";

export interface UsageSum {
  readonly day: number;
  readonly model: string;
  readonly surface: string;
  readonly memberId: string;
  readonly speed: string;
  readonly payer: string;
  readonly requests: number;
  readonly cost: number;
  readonly creditCost: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * The pieces of one range, each a signed SELECT of (day, dimensions, sums): whole units of the
 * coarsest grain that fits, partial edges from the next grain down, and partial hours from the raw
 * records. At each edge the shorter side is read: the units inside the range are added, or the
 * enclosing unit is taken and the part outside the range subtracted.
 */
function rangeParts(orgId: string, from: number, to: number): { parts: string[]; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const neg = (sign: 1 | -1) => (sign === 1 ? "" : "-");
  const raw = (a: number, b: number, sign: 1 | -1) => {
    const m = neg(sign);
    parts.push(
      `SELECT at / ${DAY_MS} AS day, ${DIMS.join(", ")}, ${m}1 AS requests, ${m}cost AS cost, ${m}credit_cost AS credit_cost, ` +
        `${m}input_tokens AS input_tokens, ${m}output_tokens AS output_tokens FROM usage_records WHERE org_id = ? AND at >= ? AND at < ?`,
    );
    params.push(orgId, a, b);
  };
  const rolled = (g: Grain, u0: number, u1: number, sign: 1 | -1) => {
    if (u0 >= u1) return;
    const m = neg(sign);
    parts.push(`SELECT ${g.day} AS day, ${DIMS.join(", ")}, ${SUMS.map((c) => `${m}${c} AS ${c}`).join(", ")} FROM ${g.table} WHERE org_id = ? AND ${g.col} >= ? AND ${g.col} < ?`);
    params.push(orgId, u0, u1);
  };
  const flip = (sign: 1 | -1): 1 | -1 => (sign === 1 ? -1 : 1);
  /** [a, b) with `sign`, from grain `level` down. */
  const cover = (a: number, b: number, level: number, sign: 1 | -1): void => {
    if (a >= b) return;
    const g = GRAINS[level];
    if (!g) return raw(a, b, sign);
    const { unit } = g;
    const firstWhole = Math.ceil(a / unit);
    const endWhole = Math.floor(b / unit);
    if (firstWhole > endWhole) {
      // Inside one unit: its part in range from the grain below, or the unit minus both sides.
      const start = endWhole * unit;
      if (b - a <= unit / 2) cover(a, b, level + 1, sign);
      else {
        rolled(g, endWhole, endWhole + 1, sign);
        cover(start, a, level + 1, flip(sign));
        cover(b, start + unit, level + 1, flip(sign));
      }
      return;
    }
    let u0 = firstWhole;
    let u1 = endWhole;
    if (a < firstWhole * unit) {
      // The partial first unit: the part in range, or the whole unit minus the part before `a`.
      const leftStart = (firstWhole - 1) * unit;
      if (firstWhole * unit - a <= a - leftStart) cover(a, firstWhole * unit, level + 1, sign);
      else {
        u0 = firstWhole - 1;
        cover(leftStart, a, level + 1, flip(sign));
      }
    }
    if (b > endWhole * unit) {
      const rightEnd = (endWhole + 1) * unit;
      if (b - endWhole * unit <= rightEnd - b) cover(endWhole * unit, b, level + 1, sign);
      else {
        u1 = endWhole + 1;
        cover(b, rightEnd, level + 1, flip(sign));
      }
    }
    rolled(g, u0, u1, sign);
  };
  cover(from, to, 0, 1);
  return { parts, params };
}

/**
 * The organization's usage with from ≤ at < to, summed by `by` (dimensions not named come back
 * as "" / 0), in the order of `by`. Reads whole days and hours from the rollups and at most half an
 * hour of raw records at each edge.
 */
export async function usageSums(q: Queryable, orgId: string, from: number, to: number, by: readonly UsageDimension[]): Promise<UsageSum[]> {
  const { parts, params } = rangeParts(orgId, from, to);
  if (!parts.length) return [];
  const cols = by.length ? by.join(", ") : "";
  const sql =
    `SELECT ${cols ? `${cols}, ` : ""}SUM(requests) AS requests, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens ` +
    `FROM (${parts.join(" UNION ALL ")}) u ${cols ? `GROUP BY ${cols} ` : ""}HAVING SUM(requests) <> 0${cols ? ` ORDER BY ${cols}` : ""}`;
  return (await q.all(sql, params)).map(sumFrom);
}

const sumFrom = (r: Row): UsageSum => ({
  day: Number(r["day"] ?? 0),
  model: String(r["model"] ?? ""),
  surface: String(r["surface"] ?? ""),
  memberId: String(r["member_id"] ?? ""),
  speed: String(r["speed"] ?? ""),
  payer: String(r["payer"] ?? ""),
  requests: Number(r["requests"]),
  cost: Number(r["cost"]),
  creditCost: Number(r["credit_cost"]),
  inputTokens: Number(r["input_tokens"]),
  outputTokens: Number(r["output_tokens"]),
});


/**
 * The breakdown of from ≤ at < to per day, model, surface, member and speed, with its totals, as
 * ONE statement whose cells come back as a single JSON text: a 90-day breakdown has ~10,000 cells,
 * and turning them into objects, crossing them from the read thread and serializing them again
 * took tens of milliseconds of the event loop per request; the text crosses as one string.
 */
export async function usageBreakdownJson(q: Queryable, engine: string, orgId: string, from: number, to: number): Promise<BreakdownJson> {
  const { parts, params } = rangeParts(orgId, from, to);
  if (!parts.length) return { data: "[]", requests: 0, cost: 0, creditCost: 0, inputTokens: 0, outputTokens: 0 };
  const dims = "day, model, surface, member_id, speed";
  const pg = engine === "postgres";
  const cell = (obj: string, day: string, text: (c: string) => string) =>
    `${obj}('day', ${day}, 'model', model, 'surface', surface, 'member_id', member_id, 'speed', speed, 'requests', requests, ` +
    `'cost', ${text("cost")}, 'credit_cost', ${text("credit_cost")}, 'input_tokens', input_tokens, 'output_tokens', output_tokens)`;
  const data = pg
    ? `COALESCE(json_agg(${cell("json_build_object", "to_char(DATE '1970-01-01' + day::int, 'YYYY-MM-DD')", (c) => `${c}::text`)} ORDER BY ${dims})::text, '[]')`
    : `json_group_array(${cell("json_object", "date(day * 86400, 'unixepoch')", (c) => `CAST(${c} AS TEXT)`)} ORDER BY ${dims})`;
  const sql =
    `WITH cells AS (SELECT ${dims}, SUM(requests) AS requests, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, SUM(input_tokens) AS input_tokens, ` +
    `SUM(output_tokens) AS output_tokens FROM (${parts.join(" UNION ALL ")}) u GROUP BY ${dims} HAVING SUM(requests) <> 0) ` +
    `SELECT ${data} AS data, COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(cost), 0) AS cost, COALESCE(SUM(credit_cost), 0) AS credit_cost, ` +
    `COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens FROM cells`;
  const r = (await q.all(sql, params))[0] ?? {};
  return {
    data: largeText(r["data"] ?? "[]"),
    requests: Number(r["requests"] ?? 0),
    cost: Number(r["cost"] ?? 0),
    creditCost: Number(r["credit_cost"] ?? 0),
    inputTokens: Number(r["input_tokens"] ?? 0),
    outputTokens: Number(r["output_tokens"] ?? 0),
  };
}
