// Usage rollups (issue 16): the usage breakdown and the monthly statements are read from
// `usage_daily` and `usage_hourly`, which every batch maintains in the charge's own transaction. On
// generated data — several organizations, members, models, surfaces, speeds, plan-paid and
// credit-paid usage, over two months with charges landing on the last and first millisecond of UTC
// days and of UTC hours, many of them in one batch — each rollup table equals the raw records
// grouped, and every breakdown (day-aligned, cut mid-day or mid-hour on either side, inside one day,
// inside one hour, across midnight and across the hour, 90 days) and every statement's usage equals
// the raw records' sums over the same range. On SQLite and PostgreSQL.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import type { UsageRecord } from "../src/core/model.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";
import { rng } from "./support/rng.js";

type Json = Record<string, unknown>;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.parse("2026-04-20T00:00:00Z");
const MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-6"];
const SURFACES = ["interactive", "sdk", "cli_headless"];

const cellKey = (c: { day: number; model: string; surface: string; memberId: string; speed: string }) => `${c.day}|${c.model}|${c.surface}|${c.memberId}|${c.speed}`;

/** The raw records grouped as the breakdown groups them. */
function breakdownOf(records: readonly UsageRecord[]): Map<string, { requests: number; cost: number; creditCost: number; input: number; output: number }> {
  const out = new Map<string, { requests: number; cost: number; creditCost: number; input: number; output: number }>();
  for (const r of records) {
    const k = cellKey({ day: Math.floor(r.at / DAY), model: r.model, surface: r.surface, memberId: r.memberId, speed: r.speed });
    const c = out.get(k) ?? { requests: 0, cost: 0, creditCost: 0, input: 0, output: 0 };
    c.requests++;
    c.cost += r.cost;
    c.creditCost += r.creditCost;
    c.input += r.inputTokens;
    c.output += r.outputTokens;
    out.set(k, c);
  }
  return out;
}

for (const backend of backends()) {
  describe(`usage rollups on ${backend.name}`, () => {
    let h: Harness;
    let url: string;
    let driver: SqlDriver;
    const orgs: Array<{ orgId: string; members: Array<{ memberId: string; key: string }> }> = [];
    const random = rng(16_012);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

    before(async () => {
      url = await backend.createDatabase();
      h = await startHarness(url);
      driver = url.startsWith("sqlite:") ? openSqlite(url.slice(7)) : openPostgres(url, 2);
      h.clock.set(START - DAY);
      for (let o = 0; o < 4; o++) {
        const { orgId, ownerKey, ownerId } = await createOrg(h, { plan: o % 2 ? "pro" : "enterprise_usage", usageCredits: true, fastMode: true });
        await grant(h, orgId, { amount: String(100_000 * USD) });
        const members = [{ memberId: ownerId, key: ownerKey }];
        for (const surface of SURFACES.slice(1)) members.push(await addMember(h, orgId, { role: "member" }, surface));
        orgs.push({ orgId, members });
      }
      // 40 days: on each, a few instants, among them the day's first and last millisecond; at each
      // instant a burst of concurrent usage events over every organization (one batch holds many
      // records of the same rollup key).
      let event = 0;
      for (let d = 0; d < 40; d++) {
        const day = START + d * DAY;
        // And the first and last millisecond of a random hour (an edge of usage_hourly's rows).
        const hour = day + HOUR * (1 + Math.floor(random() * 22));
        const instants = [day, day + DAY - 1, day + Math.floor(random() * DAY), hour - 1, hour];
        for (const at of instants) {
          h.clock.set(at);
          const burst = [];
          for (let i = 0; i < 12; i++) {
            const org = pick(orgs);
            const m = pick(org.members);
            const body = {
              event_id: `ev-${event++}`,
              model: pick(MODELS),
              speed: random() < 0.2 ? "fast" : "standard",
              usage: { input_tokens: 1 + Math.floor(random() * 5000), output_tokens: Math.floor(random() * 2000), cache_read_input_tokens: Math.floor(random() * 300) },
            };
            burst.push(h.request("POST", `/v1/organizations/${org.orgId}/usage_events`, { key: m.key, body }));
          }
          for (const r of await Promise.all(burst)) assert.ok(r.status === 201 || r.status === 429 || r.status === 402, `usage event: ${r.status} ${JSON.stringify(r.body)}`);
        }
      }
    });
    after(async () => {
      await driver.close();
      await h.close();
      await backend.cleanup();
    });

    for (const [table, col, unit] of [["usage_daily", "day", DAY], ["usage_hourly", "hour", HOUR]] as const) {
      test(`${table} equals the raw usage records grouped by organization, UTC ${col}, model, surface, member, speed and payer`, async () => {
        const q = (sql: string) => driver.read((c) => c.all(sql));
        const norm = (rows: Json[]) => rows.map((r) => Object.values(r).map(String).join("|")).sort();
        const rolled = norm(await q(`SELECT org_id, ${col}, model, surface, member_id, speed, payer, requests, cost, credit_cost, input_tokens, output_tokens FROM ${table}`));
        const raw = norm(
          await q(
            `SELECT org_id, at / ${unit} AS ${col}, model, surface, member_id, speed, payer, COUNT(*) AS requests, SUM(cost) AS cost, SUM(credit_cost) AS credit_cost, ` +
              `SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens FROM usage_records GROUP BY org_id, at / ${unit}, model, surface, member_id, speed, payer`,
          ),
        );
        assert.ok(raw.length > 300, `generated data spans many cells (${raw.length})`);
        const counts = await q("SELECT COUNT(*) AS n, COUNT(DISTINCT payer) AS payers FROM usage_records");
        assert.ok(Number(counts[0]?.["n"]) > 1000, `many records (${String(counts[0]?.["n"])})`);
        assert.equal(Number(counts[0]?.["payers"]), 2, "plan-paid and credit-paid records");
        assert.deepEqual(rolled, raw);
      });
    }

    test("every breakdown equals the raw records' sums: day-aligned, cut mid-day or mid-hour on either side, inside one day or hour, across midnight and the hour, 90 days", async () => {
      h.clock.set(START + 40 * DAY - 1000);
      const now = h.clock.now();
      const ranges: Array<[number, number]> = [
        [START, START + 10 * DAY], // aligned
        [START + 3 * DAY + 1, START + 9 * DAY - 1], // one millisecond in on both sides
        [START + 2 * DAY + DAY / 4, START + 7 * DAY + (3 * DAY) / 4], // short left edge added, long right edge subtracted
        [START + 2 * DAY + (3 * DAY) / 4, START + 7 * DAY + DAY / 4], // and the other way round
        [START + 5 * DAY + 1000, START + 5 * DAY + DAY / 3], // inside one day, short
        [START + 5 * DAY + 1000, START + 6 * DAY - 1000], // inside one day, long: the day minus both sides
        [START + 5 * DAY - 1, START + 5 * DAY + 1], // across midnight: the last and first milliseconds
        [START + 3 * DAY + 5 * HOUR + 7 * 60_000, START + 8 * DAY + 19 * HOUR + 52 * 60_000], // edge days from hours, edge hours from records
        [START + 3 * DAY + 17 * HOUR + 50 * 60_000, START + 8 * DAY + 6 * HOUR + 10 * 60_000], // edge days: the day minus hours; edge hours: the hour minus records
        [START + 6 * DAY + 2 * HOUR + 1, START + 6 * DAY + 9 * HOUR - 1], // inside one day, a millisecond into hours on both sides
        [START + 6 * DAY + 2 * HOUR + 5 * 60_000, START + 6 * DAY + 2 * HOUR + 20 * 60_000], // inside one hour, short
        [START + 6 * DAY + 2 * HOUR + 1000, START + 6 * DAY + 3 * HOUR - 1000], // inside one hour, long: the hour minus both sides
        [START + 6 * DAY + 13 * HOUR + 1000, START + 7 * DAY - 1000], // inside one day, long: the day minus hours and records on both sides
        [START + 9 * DAY + 4 * HOUR - 1, START + 9 * DAY + 4 * HOUR + 1], // across the hour
        [START + 9 * DAY - 30 * 60_000, START + 9 * DAY + 30 * 60_000], // across midnight, half an hour each side
      ];
      // Every day's hour edges, where charges landed on the last and first millisecond of an hour.
      for (let d = 0; d < 40; d += 3) {
        const hourEdge = await h.app.services.admin.usageRecords(orgs[0]?.orgId ?? "", START + d * DAY + 1, START + (d + 1) * DAY - 1);
        const edge = hourEdge.find((r) => r.at % HOUR === 0);
        if (edge) ranges.push([edge.at - 1, edge.at + 1], [edge.at - HOUR / 2 - 1, edge.at], [edge.at, edge.at + (3 * HOUR) / 4]);
      }
      for (let i = 0; i < 12; i++) {
        const a = START - DAY + Math.floor(random() * 42 * DAY);
        ranges.push([a, a + 1 + Math.floor(random() * 20 * DAY)]);
      }
      for (const org of orgs) {
        for (const [from, to] of ranges) {
          const r = await h.request("GET", `/v1/organizations/${org.orgId}/usage/breakdown?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const got = new Map(
            (r.body["data"] as Json[]).map((c) => [
              cellKey({ day: Math.floor(Date.parse(String(c["date"] ?? c["day"])) / DAY), model: String(c["model"]), surface: String(c["surface"]), memberId: String(c["member_id"]), speed: String(c["speed"]) }),
              { requests: Number(c["requests"]), cost: Number(c["cost"]), creditCost: Number(c["credit_cost"]), input: Number(c["input_tokens"]), output: Number(c["output_tokens"]) },
            ]),
          );
          const want = breakdownOf(await h.app.services.admin.usageRecords(org.orgId, from, to));
          assert.deepEqual(got, want, `breakdown ${new Date(from).toISOString()} → ${new Date(to).toISOString()}`);
        }
        // The dashboard's default: the last 90 days up to now.
        const r = await h.request("GET", `/v1/organizations/${org.orgId}/usage/breakdown?days=90`);
        const records = await h.app.services.admin.usageRecords(org.orgId, now + 1 - 90 * DAY, now + 1);
        assert.ok(records.length > 100);
        const totals = r.body["totals"] as Json;
        assert.equal(totals["requests"], records.length);
        assert.equal(totals["cost"], String(records.reduce((t, x) => t + x.cost, 0)));
        assert.equal(totals["credit_cost"], String(records.reduce((t, x) => t + x.creditCost, 0)));
        assert.equal(totals["input_tokens"], records.reduce((t, x) => t + x.inputTokens, 0));
      }
    });

    test("every statement's usage equals the raw records of its month, by member, model and surface, and reconciles", async () => {
      for (const org of orgs) {
        for (const month of ["2026-04", "2026-05"]) {
          const r = await h.request("GET", `/v1/organizations/${org.orgId}/statements/${month}`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          const start = Date.parse(`${month}-01T00:00:00Z`);
          const end = month === "2026-04" ? Date.parse("2026-05-01T00:00:00Z") : Date.parse("2026-06-01T00:00:00Z");
          const records = await h.app.services.admin.usageRecords(org.orgId, start, end);
          const want = new Map<string, { requests: number; amount: number; usageCredits: number }>();
          let planValue = 0;
          for (const x of records) {
            if (x.payer === "plan") {
              planValue += x.cost;
              continue;
            }
            const k = `${x.memberId}|${x.model}|${x.surface}`;
            const c = want.get(k) ?? { requests: 0, amount: 0, usageCredits: 0 };
            c.requests++;
            c.amount += x.cost;
            c.usageCredits += x.creditCost;
            want.set(k, c);
          }
          const usage = r.body["usage"] as Json;
          const rows = usage["rows"] as Json[];
          const got = new Map(rows.map((u) => [`${String(u["member_id"])}|${String(u["model"])}|${String(u["surface"])}`, { requests: Number(u["requests"]), amount: Number(u["amount"]), usageCredits: Number(u["usage_credits"]) }]));
          assert.deepEqual(got, want, `statement ${month}`);
          assert.equal(Number(usage["plan_value"]), planValue);
          assert.equal(r.body["reconciled"], true);
        }
      }
    });
  });
}
