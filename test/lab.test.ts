// The pricing lab over real HTTP, on SQLite and on PostgreSQL (issue 18, acceptance 1): a generated
// month of mixed activity — four organizations on four plans, several members and surfaces, two
// models, fast mode, SDK credits, purchases, a grant that expires into breakage, a void, spending
// limits hit and changed mid-month, windows exhausted, holds released, left to expire and carried
// over from the previous month, concurrent requests decided in one batch, gateway requests — then
// a replay with the book and plans in force must reproduce every organization's charges, refusals
// and closing balance exactly. The month's own activity is checked to be that mixed.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { migrate } from "../src/adapters/store/migrations.js";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { SqlStore } from "../src/adapters/store/sql-store.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import { Lab } from "../src/app/lab.js";
import { DEFAULT_PLANS } from "../src/core/default-plans.js";
import { DEFAULT_PRICE_BOOK } from "../src/core/default-price-book.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";
import { rng } from "./support/rng.js";

type Json = Record<string, unknown>;

const FEB27 = Date.parse("2026-02-27T12:00:00Z");
const MAR1 = Date.parse("2026-03-01T00:00:00Z");
const APR1 = Date.parse("2026-04-01T00:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MODELS = ["claude-sonnet-4-5", "claude-opus-4-7", "claude-haiku-4-5"];

// The compiled test is dist/test/lab.test.js: the repository root is two levels up.
const MAIN = join(fileURLToPath(new URL("../../", import.meta.url)), "dist", "src", "main.js");

/** The command line as a user runs it, in a child process (no USAGE_CREDITS_* variable leaks in). */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_")) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

interface Actor {
  readonly orgId: string;
  readonly memberId: string;
  readonly key: string;
}

for (const backend of backends()) {
  describe(`pricing lab on ${backend.name}`, () => {
    let h: Harness;
    let database: string;
    let report: Json;
    const balancesAtEnd = new Map<string, string>();
    const orgIds: string[] = [];
    let platformRefusals = 0;

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const ok = async (method: string, path: string, body?: unknown, key?: string): Promise<Json> => {
      const r = await h.request(method, path, { ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { key } : {}) });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };

    before(async () => {
      database = await backend.createDatabase();
      h = await startHarness(database);
      h.clock.set(FEB27);
      const random = rng(18);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
      const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

      // ---- the organizations, before the month
      const a = await createOrg(h, { plan: "pro", usageCredits: true });
      const b = await createOrg(h, { plan: "team", usageCredits: true });
      const c = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const d = await createOrg(h, { plan: "free", usageCredits: false, fastMode: false });
      orgIds.push(a.orgId, b.orgId, c.orgId, d.orgId);
      const a1 = await addMember(h, a.orgId, { role: "member" });
      const a2 = await addMember(h, a.orgId, { role: "member" }, "sdk");
      const ws = await ok("POST", `${base(b.orgId)}/workspaces`, { name: "Research" });
      const b1 = await addMember(h, b.orgId, { role: "member", seat_tier: "premium", workspace_id: ws["id"] });
      const b2 = await addMember(h, b.orgId, { role: "member" }, "sdk");
      const c1 = await addMember(h, c.orgId, { role: "member" });
      const d1 = await addMember(h, d.orgId, { role: "member" }, "sdk");
      const actors: Actor[] = [
        { orgId: a.orgId, memberId: a.ownerId, key: a.ownerKey },
        { orgId: a.orgId, ...a1 },
        { orgId: a.orgId, ...a2 },
        { orgId: b.orgId, memberId: b.ownerId, key: b.ownerKey },
        { orgId: b.orgId, ...b1 },
        { orgId: b.orgId, ...b2 },
        { orgId: c.orgId, memberId: c.ownerId, key: c.ownerKey },
        { orgId: c.orgId, ...c1 },
        { orgId: d.orgId, memberId: d.ownerId, key: d.ownerKey },
        { orgId: d.orgId, ...d1 },
      ];
      await grant(h, a.orgId, { kind: "promotional", amount: String(3 * USD), expires_at: "2026-03-10T00:00:00Z" });
      await grant(h, a.orgId, { kind: "purchase", amount: String(20 * USD) });
      await grant(h, a.orgId, { kind: "monthly", amount: String(4 * USD), surfaces: ["sdk"], expires_at: "2026-04-01T00:00:00Z" });
      await grant(h, b.orgId, { kind: "purchase", amount: String(30 * USD) });
      await grant(h, b.orgId, { kind: "monthly", amount: String(5 * USD), surfaces: ["sdk"], expires_at: "2026-04-01T00:00:00Z" });
      await grant(h, c.orgId, { kind: "promotional", amount: String(6 * USD) });
      // Usage credits are off at d: this one expires unused mid-month (breakage at the next sweep).
      await grant(h, d.orgId, { kind: "promotional", amount: String(2 * USD), expires_at: "2026-03-15T00:00:00Z" });
      await ok("POST", `${base(b.orgId)}/spend_limits`, { scope: "organization", period: "monthly", amount: String(12 * USD) });
      await ok("POST", `${base(b.orgId)}/spend_limits`, { scope: "member", scope_id: b1.memberId, period: "daily", amount: String(2 * USD) });
      await ok("POST", `${base(a.orgId)}/spend_limits`, { scope: "member", scope_id: a2.memberId, period: "monthly", amount: String(1 * USD), stop_usage: false });

      const usage = (model: string, big: boolean) => ({
        input_tokens: big ? int(80_000, 190_000) : int(1_000, 30_000),
        output_tokens: big ? int(8_000, 30_000) : int(200, 4_000),
        cache_read_input_tokens: int(0, 1) === 1 ? int(0, 50_000) : 0,
        ...(model === "claude-sonnet-4-5" && int(0, 3) === 0 ? { cache_creation: { ephemeral_5m_input_tokens: int(0, 9_000), ephemeral_1h_input_tokens: int(0, 4_000) } } : {}),
      });
      const authorize = (x: Actor, model: string, speed: string, est: Json, ttl = 600) =>
        h.request("POST", `${base(x.orgId)}/authorize`, { key: x.key, body: { model, speed, estimated_usage: est, ttl_seconds: ttl } });
      const holdOf = (r: { status: number; body: Json }) => {
        if (process.env["LAB_DEBUG"]) process.stderr.write(`${r.status} ${r.status === 201 ? "" : JSON.stringify(r.body).slice(0, 200)}\n`);
        return r.status === 201 ? String((r.body["hold"] as Json)["id"]) : null;
      };

      // Activity before the month: window use, a hold carried over into March.
      for (let i = 0; i < 4; i++) {
        const r = await authorize(actors[0] as Actor, "claude-opus-4-7", "standard", usage("claude-opus-4-7", true));
        const id = holdOf(r);
        if (id) await h.request("POST", `${base(a.orgId)}/holds/${id}/settle`, { key: a.ownerKey, body: { usage: usage("claude-opus-4-7", false) } });
        h.clock.advance(3 * HOUR);
      }
      h.clock.set(MAR1 - 20 * MINUTE);
      const carried = holdOf(await authorize(actors[3] as Actor, "claude-sonnet-4-5", "standard", usage("claude-sonnet-4-5", true), 3_600));
      const carriedCredits = holdOf(await authorize(actors[6] as Actor, "claude-sonnet-4-5", "standard", usage("claude-sonnet-4-5", false), 3_600));
      h.clock.set(MAR1 + 5 * MINUTE);
      if (carried) await ok("POST", `${base(b.orgId)}/holds/${carried}/settle`, { usage: usage("claude-sonnet-4-5", false) }, b.ownerKey);
      if (carriedCredits) await ok("POST", `${base(c.orgId)}/holds/${carriedCredits}/settle`, { usage: usage("claude-sonnet-4-5", true) }, c.ownerKey);

      // ---- the month
      let event = 0;
      for (let step = 0; step < 420; step++) {
        h.clock.advance(pick([0, 0, MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR]));
        if (h.clock.now() >= APR1 - 2 * HOUR) break;
        if (step % 60 === 30) {
          // A member without usage credits runs through the plan's session window.
          const x = actors[8] as Actor;
          for (let i = 0; i < 5; i++) {
            const id = holdOf(await authorize(x, "claude-opus-4-7", "standard", usage("claude-opus-4-7", true)));
            if (id) await h.request("POST", `${base(x.orgId)}/holds/${id}/settle`, { key: x.key, body: { usage: usage("claude-opus-4-7", true) } });
          }
        }
        // Settings changed mid-month: the replay applies them when they happened.
        if (step === 100) await ok("PATCH", `${base(a.orgId)}/members/${a1.memberId}`, { fast_mode_enabled: false });
        if (step === 150) await ok("PUT", `${base(a.orgId)}/usage_credits`, { is_enabled: false });
        if (step === 230) await ok("PUT", `${base(a.orgId)}/usage_credits`, { is_enabled: true });
        if (step === 260) await ok("PATCH", base(d.orgId), { fast_mode_enabled: true, plan_id: "pro" });
        if (step === 300) await ok("PATCH", `${base(b.orgId)}/members/${b2.memberId}`, { usage_credits_enabled: false });
        const x = pick(actors);
        const model = pick(MODELS);
        const speed = random() < 0.2 ? "fast" : "standard";
        const roll = random();
        if (roll < 0.4) {
          const id = holdOf(await authorize(x, model, speed, usage(model, random() < 0.5)));
          if (id) await h.request("POST", `${base(x.orgId)}/holds/${id}/settle`, { key: x.key, body: { usage: usage(model, random() < 0.3) } });
        } else if (roll < 0.5) {
          const id = holdOf(await authorize(x, model, speed, usage(model, true)));
          if (id) await h.request("POST", `${base(x.orgId)}/holds/${id}/release`, { key: x.key });
        } else if (roll < 0.6) {
          await h.request("POST", `${base(x.orgId)}/usage_events`, { key: x.key, body: { event_id: `ev-${event++}`, model, speed, usage: usage(model, random() < 0.5) } });
        } else if (roll < 0.66) {
          // Left pending: it expires and is unwound by a later admission or a sweep.
          await authorize(x, model, speed, usage(model, true), 60);
        } else if (roll < 0.78) {
          // Concurrent requests of one organization: decided in one batch, at one instant.
          const same = actors.filter((y) => y.orgId === x.orgId);
          const holds = await Promise.all(same.map((y) => authorize(y, model, "standard", usage(model, true))));
          await Promise.all(
            holds.map((r, i) => {
              const id = holdOf(r);
              const y = same[i] as Actor;
              return id ? h.request("POST", `${base(y.orgId)}/holds/${id}/settle`, { key: y.key, body: { usage: usage(model, true) } }) : Promise.resolve();
            }),
          );
        } else if (roll < 0.86) {
          await h.request("POST", "/v1/messages", {
            key: x.key,
            headers: { "anthropic-version": "2023-06-01" },
            body: { model, max_tokens: int(200, 4_000), messages: [{ role: "user", content: "Summarize the quarter in a line. ".repeat(int(1, 40)) }] },
          });
        } else if (roll < 0.9) {
          await h.app.services.engine.sweep(h.app.services.store);
        } else if (roll < 0.94) {
          await grant(h, pick([a.orgId, b.orgId, c.orgId]), { kind: "purchase", amount: String(int(1, 8) * USD) });
        } else if (roll < 0.96) {
          const g = await grant(h, c.orgId, { kind: "promotional", amount: String(2 * USD) });
          await ok("POST", `${base(c.orgId)}/grants/${String(g["id"])}/void`);
        } else {
          await ok("POST", `${base(b.orgId)}/spend_limits`, { scope: "organization", period: "monthly", amount: String(int(8, 20) * USD) });
        }
      }
      h.clock.set(APR1 - MINUTE);
      await h.app.services.engine.sweep(h.app.services.store);
      for (const id of orgIds) balancesAtEnd.set(id, String((await ok("GET", `${base(id)}/usage_credits`))["balance"]));

      // ---- after the month: not part of the replay
      h.clock.set(APR1 + HOUR);
      for (const x of actors.slice(0, 4)) {
        const id = holdOf(await authorize(x, "claude-sonnet-4-5", "standard", usage("claude-sonnet-4-5", false)));
        if (id) await h.request("POST", `${base(x.orgId)}/holds/${id}/settle`, { key: x.key, body: { usage: usage("claude-sonnet-4-5", false) } });
      }

      const r = await h.request("POST", "/v1/lab/replays", { body: { period: "2026-03" } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      report = r.body;
      const refused = await h.request("POST", "/v1/lab/replays", { key: a.ownerKey, body: { period: "2026-03" } });
      if (refused.status === 403) platformRefusals++;
    });
    after(async () => {
      await h?.close();
      await backend.cleanup();
    });

    const orgsOf = () => report["organizations"] as Json[];
    const spendKeys = ["plan_window", "sdk_credits", "usage_credits", "total", "revenue", "breakage"];

    test("the month was mixed: plan windows, SDK credits, usage credits, breakage, and every kind of refusal", () => {
      const actual = (report["totals"] as Json)["actual"] as Json;
      for (const k of ["plan_window", "sdk_credits", "usage_credits", "revenue", "breakage"]) assert.ok(Number(actual[k]) > 0, `${k} is ${String(actual[k])}`);
      const codes = new Set(orgsOf().flatMap((o) => Object.keys((o["refusals"] as Json)["actual"] as Json)));
      for (const code of ["window_exhausted", "spend_limit_reached", "insufficient_credits", "fast_mode_disabled", "usage_credits_disabled"]) assert.ok(codes.has(code), `no ${code} refusal in ${[...codes].join(", ")}`);
      assert.ok(Number(report["records"]) > 150, `records: ${String(report["records"])}`);
      assert.equal(report["records_without_token_classes"], 0);
      assert.equal(orgsOf().length, 4);
    });

    test("a zero-change replay reproduces every organization's charges, refusals and closing balance exactly", () => {
      for (const o of orgsOf()) {
        const id = String(o["org_id"]);
        for (const k of spendKeys) {
          assert.equal((o["replayed"] as Json)[k], (o["actual"] as Json)[k], `${id} ${k}`);
          assert.equal((o["difference"] as Json)[k], "0", `${id} difference ${k}`);
        }
        const refusals = o["refusals"] as Json;
        assert.deepEqual(refusals["replayed"], refusals["actual"], `${id} refusals`);
        const closing = o["closing_balance"] as Json;
        assert.equal(closing["replayed"], closing["actual"], `${id} closing balance`);
        assert.equal(closing["actual"], balancesAtEnd.get(id), `${id}: the ledger's closing balance is the balance the API reported at the end of the month`);
        for (const m of o["members"] as Json[]) for (const k of spendKeys) assert.equal((m["replayed"] as Json)[k], (m["actual"] as Json)[k], `${id} member ${String(m["member_id"])} ${k}`);
        assert.equal(o["admitted_without_usage"], 0);
        assert.equal(o["dropped_settles"], 0);
      }
      for (const k of spendKeys) assert.equal(((report["totals"] as Json)["difference"] as Json)[k], "0");
      assert.deepEqual(report["histogram"], [{ from: "0", to: "0", organizations: 4 }]);
    });

    test("a proposed book that doubles fast mode changes only organizations that used fast mode, upward", async () => {
      const book = structuredClone((await ok("GET", "/v1/price_books"))["data"] as Json[]).at(-1) as Json;
      const models = (book["models"] as Json[]).map((m) => (m["fast_factor"] ? { ...m, fast_factor: String(Number(m["fast_factor"]) * 2) } : m));
      const modifiers = book["modifiers"] as Json;
      const fast = modifiers["fast"] as Json;
      const proposed = { ...book, id: "pb_lab_fast", version: 1, models, modifiers: { ...modifiers, fast: { ...fast, factor: String(Number(fast["factor"]) * 2) } } };
      const r = await h.request("POST", "/v1/lab/replays", { body: { period: "2026-03", price_book: proposed } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const orgs = r.body["organizations"] as Json[];
      const changed = orgs.filter((o) => (o["difference"] as Json)["total"] !== "0");
      assert.ok(changed.length > 0);
      // Sorted by the absolute change, largest first.
      const abs = orgs.map((o) => Math.abs(Number((o["difference"] as Json)["total"])));
      assert.deepEqual(abs, [...abs].sort((x, y) => y - x));
      // Free has fast mode off: nothing it did is priced differently.
      const free = orgs.find((o) => o["org_id"] === orgIds[3]) as Json;
      assert.equal((free["difference"] as Json)["total"], "0");
    });

    test("the CLI gives the API's report (JSON), a CSV, progress on stderr, and --help", async () => {
      const json = await cli(["lab", "replay", "--period", "2026-03", "--database", database, "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const out = JSON.parse(json.stdout) as Json;
      assert.deepEqual(out["organizations"], report["organizations"]);
      assert.deepEqual(out["totals"], report["totals"]);
      assert.match(json.stderr, /replayed \d+ operations in/);
      const one = await cli(["lab", "replay", "--period", "2026-03", "--database", database, "--csv", "--quiet", "--org", orgIds[0] ?? "", "--org", orgIds[1] ?? ""]);
      assert.equal(one.code, 0, one.stderr);
      assert.equal(one.stderr, "");
      const lines = one.stdout.trimEnd().split("\r\n");
      assert.equal(lines[0], "org_id,name,member_id,figure,plan_window,sdk_credits,usage_credits,total,revenue,breakage");
      assert.deepEqual([...new Set(lines.slice(4).map((l) => l.split(",")[0]))].sort(), [orgIds[0], orgIds[1]].sort());
      assert.ok(lines.some((l) => l.includes(",difference,0,0,0,0,0,0")));
      const help = await cli(["lab", "replay", "--help"]);
      assert.equal(help.code, 0);
      for (const flag of ["--period", "--price-book", "--plans", "--org", "--csv", "--json"]) assert.ok(help.stdout.includes(flag), flag);
      const bad = await cli(["lab", "replay", "--period", "November", "--database", database]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /period/);
    });

    test("bad input: a period that is not a month, an unknown organization, a key that is not the platform's", async () => {
      const bad = await h.request("POST", "/v1/lab/replays", { body: { period: "2026-13" } });
      assert.equal(bad.status, 400);
      assert.equal((bad.body["error"] as Json)["code"], "invalid_request");
      const missing = await h.request("POST", "/v1/lab/replays", { body: { period: "2026-03", org_ids: ["org_0000000000000000000000000000"] } });
      assert.equal(missing.status, 404);
      assert.equal(platformRefusals, 1);
    });
  });
}

// Usage records written before schema 11 have no token classes and no operation-log entries: the
// lab counts them and replays each as its input and output tokens, admitted and settled at its time.
const FEB = Date.parse("2026-02-01T00:00:00Z");
const driverFor = (url: string): SqlDriver => (url.startsWith("sqlite:") ? openSqlite(url.slice(7)) : openPostgres(url, 2));

for (const backend of backends()) {
  describe(`pricing lab over records from before schema 11 (${backend.name})`, () => {
    after(() => backend.cleanup());

    test("they are counted, replayed as input/output only, and reproduce the month exactly", async () => {
      const url = await backend.createDatabase();
      const old = driverFor(url);
      await migrate(old, 10);
      const t1 = FEB + 3 * 86_400_000;
      const t2 = t1 + 3_600_000;
      await old.transaction(async (q) => {
        for (const sql of [
          `INSERT INTO organizations (id, name, plan_id, usage_credits_enabled, fast_mode_enabled, fast_mode_fallback, weekly_anchor, debt, created_at) VALUES ('org_old', 'Old', 'enterprise_usage', 1, 1, 0, ${FEB}, 0, ${FEB - 86_400_000})`,
          `INSERT INTO members (id, org_id, email, name, role, seat_tier, workspace_id, usage_credits_enabled, created_at) VALUES ('mem_old', 'org_old', 'o@old.test', 'O', 'owner', 'standard', NULL, 1, ${FEB - 86_400_000})`,
          `INSERT INTO grants (id, org_id, kind, amount, remaining, priority, expires_at, surfaces, member_id, status, description, created_at) VALUES ('grant_old', 'org_old', 'purchase', 10000000, 9845000, 5, NULL, NULL, NULL, 'active', '', ${FEB - 86_400_000})`,
          `INSERT INTO ledger_transactions (id, org_id, kind, ref, at) VALUES ('tx_o1', 'org_old', 'grant', 'grant_old', ${FEB - 86_400_000}), ('tx_o2', 'org_old', 'hold', 'hold_o1', ${t1}), ('tx_o3', 'org_old', 'settle', 'hold_o1', ${t1}), ('tx_o4', 'org_old', 'hold', 'hold_o2', ${t2}), ('tx_o5', 'org_old', 'settle', 'hold_o2', ${t2})`,
          `INSERT INTO ledger_entries (tx_id, idx, org_id, account, amount) VALUES
            ('tx_o1', 0, 'org_old', 'funding:purchase', -10000000), ('tx_o1', 1, 'org_old', 'grant:grant_old', 10000000),
            ('tx_o2', 0, 'org_old', 'grant:grant_old', -45000), ('tx_o2', 1, 'org_old', 'hold:hold_o1', 45000),
            ('tx_o3', 0, 'org_old', 'hold:hold_o1', -45000), ('tx_o3', 1, 'org_old', 'revenue:usage', 45000),
            ('tx_o4', 0, 'org_old', 'grant:grant_old', -110000), ('tx_o4', 1, 'org_old', 'hold:hold_o2', 110000),
            ('tx_o5', 0, 'org_old', 'hold:hold_o2', -110000), ('tx_o5', 1, 'org_old', 'revenue:usage', 110000)`,
          // Sonnet 4.5, 10,000 in + 1,000 out = 30,000 + 15,000; Haiku 4.5, 100,000 in + 2,000 out = 100,000 + 10,000.
          `INSERT INTO usage_records (id, org_id, member_id, workspace_id, hold_id, surface, model, speed, payer, cost, credit_cost, at, input_tokens, output_tokens) VALUES
            ('use_o1', 'org_old', 'mem_old', NULL, 'hold_o1', 'interactive', 'claude-sonnet-4-5', 'standard', 'credits', 45000, 45000, ${t1}, 10000, 1000),
            ('use_o2', 'org_old', 'mem_old', NULL, 'hold_o2', 'interactive', 'claude-haiku-4-5', 'standard', 'credits', 110000, 110000, ${t2}, 100000, 2000)`,
        ])
          await q.run(sql);
      });
      await old.close();
      const store = await SqlStore.open(driverFor(url));
      try {
        await store.transaction(async (tx) => {
          for (const p of DEFAULT_PLANS) await tx.addPlanVersion({ definition: p, effectiveAt: 0, createdAt: FEB, createdBy: "system" });
        });
        const lab = new Lab(store);
        const same = await lab.replay({ period: "2026-02" });
        assert.ok(same.ok);
        assert.equal(same.value.records, 2);
        assert.equal(same.value.recordsWithoutTokenClasses, 2);
        const org = same.value.organizations[0];
        assert.ok(org);
        assert.deepEqual(org.replayed, org.actual);
        assert.equal(org.actual.usageCredits, 155_000);
        assert.equal(org.closingBalance.replayed, 9_845_000);
        assert.equal(org.closingBalance.actual, 9_845_000);
        // Sonnet's input at $6 instead of $3: 10,000 × 6 + 1,000 × 15 = 75,000, +30,000; Haiku unchanged.
        const dearer = { ...DEFAULT_PRICE_BOOK, models: DEFAULT_PRICE_BOOK.models.map((m) => (m.id === "claude-sonnet-4-5" ? { ...m, input: "6" } : m)) };
        const proposed = await lab.replay({ period: "2026-02", priceBook: dearer });
        assert.ok(proposed.ok);
        assert.equal(proposed.value.organizations[0]?.difference.usageCredits, 30_000);
        assert.equal(proposed.value.organizations[0]?.difference.total, 30_000);
      } finally {
        await store.close();
      }
    });
  });
}
