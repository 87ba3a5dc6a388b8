// Plan versions over real HTTP on SQLite and PostgreSQL: a plan is a series of effective-dated
// definitions (POST /v1/plans/:id/versions; PUT /v1/plans/:id is "a new version effective now").
// A window already running when a version takes effect keeps the quota it started with; the new
// quota applies from the member's next window (docs/money-rules.md R18). Versions are idempotent
// by key, never retroactive, and audited on the platform's log.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { HOUR_MS as HOUR } from "../src/core/plans.js";
import { createOrg, startHarness, T0, USD, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;
const SONNET = "claude-sonnet-4-5";
const plan = (quota: number, name = "Versioned") => ({
  name,
  seats: { standard: { windows: [{ key: "five_hour", kind: "session", duration_seconds: 5 * 3600, quota: String(quota) }], monthly_sdk_credit: "0" } },
});
const iso = (t: number) => new Date(t).toISOString();

for (const backend of backends()) {
  describe(`plan versions (${backend.name})`, () => {
    let h: Harness;
    let org: { orgId: string; ownerKey: string };
    before(async () => {
      h = await startHarness(await backend.createDatabase());
      const put = await h.request("PUT", "/v1/plans/pv", { body: plan(1 * USD) });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      org = await createOrg(h, { plan: "pv", usageCredits: false });
    });
    after(async () => {
      await h?.close();
      await backend.cleanup();
    });

    const versions = async (key?: string) => {
      const r = await h.request("GET", "/v1/plans/pv/versions", key ? { key } : {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body["data"] as Json[];
    };
    const summary = async () => (await h.request("GET", `/v1/organizations/${org.orgId}/usage_summary`, { key: org.ownerKey })).body["five_hour"] as Json;
    let events = 0;
    const use = (amount: number) => h.request("POST", `/v1/organizations/${org.orgId}/usage_events`, { key: org.ownerKey, body: { event_id: `pv-${++events}`, model: SONNET, amount: String(amount) } });

    test("R18: a version scheduled mid-window raises the quota from the member's next window, not the running one", async () => {
      assert.equal((await use(1 * USD)).status, 201, "09:00: the window starts under version 1 ($1) and is full");
      const body = { ...plan(3 * USD), effective_at: iso(T0 + HOUR) };
      const r = await h.request("POST", "/v1/plans/pv/versions", { body, headers: { "idempotency-key": "pv-raise" } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body["version"], 2);
      assert.equal(r.body["effective_at"], iso(T0 + HOUR));
      assert.deepEqual((await versions()).map((v) => [v["version"], v["status"]]), [[1, "current"], [2, "scheduled"]]);
      assert.equal(((await versions(org.ownerKey))[1]?.["definition"] as Json)["name"], "Versioned", "any key reads versions");

      h.clock.set(T0 + 2 * HOUR); // 11:00: version 2 in force, the 09:00 window still running
      assert.deepEqual((await versions()).map((v) => [v["version"], v["status"]]), [[1, "past"], [2, "current"]]);
      const plans = (await h.request("GET", "/v1/plans")).body["data"] as Json[];
      const pv = plans.find((p) => p["id"] === "pv") as { seats: { standard: { windows: Json[] } } };
      assert.equal(pv.seats.standard.windows[0]?.["quota"], String(3 * USD), "GET /v1/plans shows the version in force");
      assert.equal((await summary())["quota"], String(1 * USD), "the running window keeps $1");
      const refused = await use(500_000);
      assert.equal(refused.status, 429, JSON.stringify(refused.body));
      assert.equal((refused.body["error"] as Json)["code"], "window_exhausted");

      h.clock.set(T0 + 5 * HOUR + 60_000); // the 09:00 window ended: the next one has $3
      assert.equal((await summary())["quota"], String(3 * USD));
      const paid = await use(2 * USD);
      assert.equal(paid.status, 201, JSON.stringify(paid.body));
      assert.equal((paid.body["hold"] as Json)["payer"], "plan");
    });

    test("a version is idempotent by key: a retry answers the same version; the key with another body is a conflict", async () => {
      const body = { ...plan(4 * USD), effective_at: iso(h.clock.now() + 24 * HOUR) };
      const first = await h.request("POST", "/v1/plans/pv/versions", { body, headers: { "idempotency-key": "pv-once" } });
      const again = await h.request("POST", "/v1/plans/pv/versions", { body, headers: { "idempotency-key": "pv-once" } });
      assert.equal(first.status, 201);
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      const other = await h.request("POST", "/v1/plans/pv/versions", { body: { ...body, name: "Other" }, headers: { "idempotency-key": "pv-once" } });
      assert.equal(other.status, 409, JSON.stringify(other.body));
      assert.equal((await versions()).length, 3, "one version for two requests");
    });

    test("a version is never retroactive; an unknown plan, a bad body or a member's key is refused; nothing is stored", async () => {
      const past = await h.request("POST", "/v1/plans/pv/versions", { body: { ...plan(USD), effective_at: iso(h.clock.now() - 1000) } });
      assert.equal(past.status, 400);
      assert.equal((past.body["error"] as Json)["code"], "invalid_request");
      assert.equal(((past.body["error"] as Json)["details"] as Json)["field"], "effective_at");
      const unknown = await h.request("POST", "/v1/plans/nope/versions", { body: plan(USD) });
      assert.equal(unknown.status, 404);
      assert.equal((await h.request("GET", "/v1/plans/nope/versions")).status, 404);
      const negative = await h.request("POST", "/v1/plans/pv/versions", { body: plan(-1) });
      assert.equal(negative.status, 400);
      const member = await h.request("POST", "/v1/plans/pv/versions", { key: org.ownerKey, body: plan(USD) });
      assert.equal(member.status, 403);
      assert.equal((await versions()).length, 3);
    });

    test("PUT /v1/plans/:id stays: a new version effective now (the current one); every version is audited on the platform log", async () => {
      const put = await h.request("PUT", "/v1/plans/pv", { body: plan(6 * USD, "Versioned 2") });
      assert.equal(put.status, 200);
      const all = await versions();
      assert.deepEqual(all.map((v) => [v["version"], v["status"]]), [[1, "past"], [2, "past"], [3, "scheduled"], [4, "current"]]);
      assert.equal(all[3]?.["effective_at"], iso(h.clock.now()));
      const audit = await h.request("GET", "/v1/audit_log?action=plan_version.created");
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      const entries = (audit.body["data"] as Json[]).filter((e) => (e["target"] as Json)["id"] === "pv");
      assert.deepEqual(entries.map((e) => (e["after"] as Json)["version"]).sort(), [1, 2, 3, 4]);
      assert.ok(entries.every((e) => e["org_id"] === null && (e["target"] as Json)["type"] === "plan"));
      const raise = entries.find((e) => (e["after"] as Json)["version"] === 2) as Json;
      assert.equal((raise["before"] as Json)["version"], 1, "before: the version it replaces");
      assert.equal(((raise["after"] as Json)["definition"] as Json)["name"], "Versioned");
    });
  });
}
