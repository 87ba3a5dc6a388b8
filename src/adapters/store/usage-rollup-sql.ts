// Usage rollups (issue 16): `usage_daily` holds, per organization, UTC day, model, surface, member,
// speed and payer, the count and sums of the usage records (cost, usage-credit cost, tokens). It is
// written in the same transaction as the records (one set-based upsert of per-batch deltas, see
// `writeUsageDaily`), backfilled by migration 12, and read by the usage breakdown and the monthly
// statements (`usageSums`), so their cost grows with days × models × surfaces × members × speeds,
// not with the number of requests. The raw usage_records stay for exports and audit.
//
// A range that does not fall on UTC day boundaries reads whole days from the rollup and corrects
// each partial edge day from the raw records, on whichever side of the edge is shorter: either the
// records inside the range are added, or the day's rollup is taken and the records outside the
// range are subtracted (for the usual range ending "now", that is the empty rest of today). It is
// all ONE statement, so it is one snapshot on both engines.

import type { UsageRecord } from "../../core/model.js";
import type { BreakdownJson } from "../../ports/dashboard-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { largeText } from "./sql-values.js";

export const DAY_MS = 86_400_000;

const KEY = ["org_id", "day", "model", "surface", "member_id", "speed", "payer"] as const;
const SUMS = ["requests", "cost", "credit_cost", "input_tokens", "output_tokens"] as const;

/** The rollup's table (migration 12) and its backfill from the usage records already written. */
export const USAGE_DAILY_DDL = `CREATE TABLE usage_daily (
  org_id TEXT NOT NULL, day INTEGER NOT NULL, model TEXT NOT NULL, surface TEXT NOT NULL, member_id TEXT NOT NULL,
  speed TEXT NOT NULL, payer TEXT NOT NULL, requests BIGINT NOT NULL, cost BIGINT NOT NULL, credit_cost BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  PRIMARY KEY (org_id, day, model, surface, member_id, speed, payer))`;

/** `INSERT … SELECT … GROUP BY` from usage_records; `where` narrows it (tests rebuild one organization's rollup). */
export const usageDailyBackfill = (where = ""): string =>
  `INSERT INTO usage_daily (${[...KEY, ...SUMS].join(", ")}) ` +
  `SELECT org_id, at / ${DAY_MS}, model, surface, member_id, speed, payer, COUNT(*), SUM(cost), SUM(credit_cost), SUM(input_tokens), SUM(output_tokens) ` +
  `FROM usage_records ${where} GROUP BY org_id, at / ${DAY_MS}, model, surface, member_id, speed, payer`;

/**
 * A batch's usage records folded into one delta row per rollup key, in key order (so two
 * transactions never take the same rows' locks in opposite orders).
 */
export function usageDailyDeltas(usage: readonly UsageRecord[]): SqlValue[][] {
  const byKey = new Map<string, SqlValue[]>();
  for (const u of usage) {
    const day = Math.floor(u.at / DAY_MS);
    const k = `${u.orgId}\n${day}\n${u.model}\n${u.surface}\n${u.memberId}\n${u.speed}\n${u.payer}`;
    const row = byKey.get(k);
    if (row) {
      row[7] = (row[7] as number) + 1;
      row[8] = (row[8] as number) + u.cost;
      row[9] = (row[9] as number) + u.creditCost;
      row[10] = (row[10] as number) + u.inputTokens;
      row[11] = (row[11] as number) + u.outputTokens;
    } else {
      byKey.set(k, [u.orgId, day, u.model, u.surface, u.memberId, u.speed, u.payer, 1, u.cost, u.creditCost, u.inputTokens, u.outputTokens]);
    }
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** Adds a batch's usage records to the rollup: one multi-row `ON CONFLICT … DO UPDATE SET x = x + excluded.x`. */
export function writeUsageDaily(q: Queryable, usage: readonly UsageRecord[]): Promise<void> {
  return upsert(q, "usage_daily", [...KEY, ...SUMS], KEY, usageDailyDeltas(usage), "add");
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

/** The pieces of one range: whole days from the rollup, partial edge days from the records (signed). */
function rangeParts(orgId: string, from: number, to: number): { parts: string[]; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const raw = (a: number, b: number, sign: 1 | -1) => {
    if (a >= b) return;
    const m = sign === 1 ? "" : "-";
    parts.push(
      `SELECT at / ${DAY_MS} AS day, model, surface, member_id, speed, payer, ${m}1 AS requests, ${m}cost AS cost, ${m}credit_cost AS credit_cost, ` +
        `${m}input_tokens AS input_tokens, ${m}output_tokens AS output_tokens FROM usage_records WHERE org_id = ? AND at >= ? AND at < ?`,
    );
    params.push(orgId, a, b);
  };
  const rolled = (d0: number, d1: number) => {
    if (d0 >= d1) return;
    parts.push(`SELECT day, model, surface, member_id, speed, payer, ${SUMS.join(", ")} FROM usage_daily WHERE org_id = ? AND day >= ? AND day < ?`);
    params.push(orgId, d0, d1);
  };
  const firstWhole = Math.ceil(from / DAY_MS);
  const endWhole = Math.floor(to / DAY_MS);
  if (from >= to) {
    // nothing
  } else if (firstWhole > endWhole) {
    // Inside one day: its records in range, or its rollup minus the records on either side.
    const dayStart = endWhole * DAY_MS;
    if (to - from <= DAY_MS / 2) raw(from, to, 1);
    else {
      rolled(endWhole, endWhole + 1);
      raw(dayStart, from, -1);
      raw(to, dayStart + DAY_MS, -1);
    }
  } else {
    let d0 = firstWhole;
    let d1 = endWhole;
    const leftDayStart = (firstWhole - 1) * DAY_MS;
    if (from < firstWhole * DAY_MS) {
      // The partial first day [from, firstWhole): add its records in range, or its rollup minus the ones before `from`.
      if (firstWhole * DAY_MS - from <= from - leftDayStart) raw(from, firstWhole * DAY_MS, 1);
      else {
        d0 = firstWhole - 1;
        raw(leftDayStart, from, -1);
      }
    }
    if (to > endWhole * DAY_MS) {
      const rightDayEnd = (endWhole + 1) * DAY_MS;
      if (to - endWhole * DAY_MS <= rightDayEnd - to) raw(endWhole * DAY_MS, to, 1);
      else {
        d1 = endWhole + 1;
        raw(to, rightDayEnd, -1);
      }
    }
    rolled(d0, d1);
  }
  return { parts, params };
}

/**
 * The organization's usage with from ≤ at < to, summed by `by` (dimensions not named come back
 * as "" / 0), in the order of `by`. Reads whole days from the rollup and only the shorter side of
 * each partial edge day from the raw records.
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
