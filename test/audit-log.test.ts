// The audit log over real HTTP, on SQLite and on PostgreSQL: every audited change (money, limits,
// reload settings, members and roles, org settings, API keys, webhook endpoints) appears once, with
// who, the request id, and the object before → after in its wire shape; an idempotent replay adds
// nothing; a refused change adds nothing; secrets never reach the table; the database refuses
// UPDATE and DELETE; filters and paging work; only owner, admin and billing may read it.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import type { SqlDriver } from "../src/adapters/store/driver.js";
import { hashKey } from "../src/app/auth.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, startHarness, USD, type Harness, type Response } from "./support/harness.js";

type Json = Record<string, unknown>;

function rawDriver(url: string): SqlDriver {
  return url.startsWith("sqlite:") ? openSqlite(url.slice(7)) : openPostgres(url, 1);
}

for (const backend of backends()) {
  describe(`audit log on ${backend.name}`, () => {
    let h: Harness;
    let db: string;
    let org: { orgId: string; ownerId: string; ownerKey: string };
    let ownerKeyId: string;
    const secrets: string[] = [];

    before(async () => {
      db = await backend.createDatabase();
      h = await startHarness(db, { USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "false" });
      org = await createOrg(h, { plan: "pro" });
      secrets.push(org.ownerKey, hashKey(org.ownerKey));
      const keys = (await h.request("GET", `${base()}/api_keys`)).body["data"] as Json[];
      ownerKeyId = String(keys[0]?.["id"]);
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const base = () => `/v1/organizations/${org.orgId}`;
    const ok = async (method: string, path: string, options: Parameters<Harness["request"]>[2] = {}): Promise<Response> => {
      const r = await h.request(method, path, options);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r;
    };
    const log = async (query = ""): Promise<Json[]> => (await ok("GET", `${base()}/audit_log?limit=500${query}`)).body["data"] as Json[];
    /** The one entry of `action` on `targetId` (asserting there is exactly one). */
    const only = async (action: string, targetId: string): Promise<Json> => {
      const rows = (await log(`&action=${action}`)).filter((e) => (e["target"] as Json)["id"] === targetId);
      assert.equal(rows.length, 1, `one ${action} entry for ${targetId}: ${JSON.stringify(rows)}`);
      return rows[0] as Json;
    };
    const field = (e: Json, side: "before" | "after", name: string): unknown => (e[side] as Json | null)?.[name];

    test("creating an organization records the org, its owner and the owner's key, by the platform key", async () => {
      const created = await only("organization.created", org.orgId);
      assert.equal(created["before"], null);
      assert.equal(field(created, "after", "id"), org.orgId);
      assert.equal((created["actor"] as Json)["type"], "platform_key");
      await only("member.created", org.ownerId);
      const key = await only("api_key.created", ownerKeyId);
      assert.equal(field(key, "after", "secret"), undefined, "never the secret");
    });

    test("org settings, usage credits and fast mode: before → after, by the owner's key, with the request id", async () => {
      const r = await ok("PATCH", base(), { key: org.ownerKey, body: { name: "Renamed", fast_mode_enabled: false } });
      await ok("PUT", `${base()}/usage_credits`, { key: org.ownerKey, body: { is_enabled: true } });
      const updates = await log("&action=organization.updated");
      assert.equal(updates.length, 2);
      const [toggle, rename] = updates; // newest first
      assert.equal(field(rename as Json, "before", "name"), "Acme");
      assert.equal(field(rename as Json, "after", "name"), "Renamed");
      assert.equal(field(rename as Json, "before", "fast_mode_enabled"), true);
      assert.equal(field(rename as Json, "after", "fast_mode_enabled"), false);
      assert.equal((rename as Json)["request_id"], r.headers.get("request-id"));
      assert.deepEqual((rename as Json)["actor"], { type: "api_key", id: ownerKeyId, member_id: org.ownerId });
      assert.equal(field(toggle as Json, "before", "usage_credits_enabled"), false);
      assert.equal(field(toggle as Json, "after", "usage_credits_enabled"), true);
    });

    test("members and roles: created, role changed, usage-credits access changed; a refused change records nothing", async () => {
      const m = await ok("POST", `${base()}/members`, { key: org.ownerKey, body: { email: "ann@acme.test", name: "Ann", role: "member" } });
      const id = String(m.body["id"]);
      assert.equal(field(await only("member.created", id), "after", "role"), "member");
      await ok("PATCH", `${base()}/members/${id}`, { key: org.ownerKey, body: { role: "billing", usage_credits_enabled: false } });
      const changed = await only("member.updated", id);
      assert.deepEqual([field(changed, "before", "role"), field(changed, "after", "role")], ["member", "billing"]);
      assert.deepEqual([field(changed, "before", "usage_credits_enabled"), field(changed, "after", "usage_credits_enabled")], [true, false]);
      const count = (await log()).length;
      const refused = await h.request("PATCH", `${base()}/members/${org.ownerId}`, { key: org.ownerKey, body: { role: "member" } });
      assert.equal(refused.status, 409, "the only owner cannot be demoted");
      assert.equal((await log()).length, count, "a refused change writes no entry");
    });

    test("a dashboard password is recorded as set, never its hash; a change made in a signed-in session names the session", async () => {
      const m = await ok("POST", `${base()}/members`, { key: org.ownerKey, body: { email: "sam@acme.test", name: "Sam", role: "admin" } });
      const id = String(m.body["id"]);
      const password = "correct horse battery";
      await ok("PUT", `${base()}/members/${id}/password`, { key: org.ownerKey, body: { password } });
      const set = await only("member.password_set", id);
      assert.equal(field(set, "after", "id"), id);
      assert.doesNotMatch(JSON.stringify(set), /scrypt/);
      const signIn = await ok("POST", "/v1/dashboard/session", { key: null, body: { email: "sam@acme.test", password } });
      const cookie = String(signIn.headers.get("set-cookie")).split(";")[0] ?? "";
      const headers = { cookie, "x-csrf-token": String(signIn.body["csrf_token"]) };
      const ws = await ok("POST", `${base()}/workspaces`, { key: null, body: { name: "Via the dashboard" }, headers });
      const actor = (await only("workspace.created", String(ws.body["id"])))["actor"] as Json;
      assert.equal(actor["type"], "session");
      assert.equal(actor["member_id"], id);
      assert.match(String(actor["id"]), /^ses_/);
    });

    test("an Idempotency-Key replay of an admin write records nothing more", async () => {
      const headers = { "idempotency-key": "ws-once" };
      const first = await ok("POST", `${base()}/workspaces`, { key: org.ownerKey, body: { name: "Research" }, headers });
      const again = await ok("POST", `${base()}/workspaces`, { key: org.ownerKey, body: { name: "Research" }, headers });
      assert.equal(again.body["id"], first.body["id"]);
      await only("workspace.created", String(first.body["id"])); // one entry, whatever the retries
    });

    test("API keys: created (never the secret or its hash) and revoked", async () => {
      const k = await ok("POST", `${base()}/api_keys`, { key: org.ownerKey, body: { member_id: org.ownerId, name: "ci" } });
      const id = String(k.body["id"]);
      secrets.push(String(k.body["secret"]), hashKey(String(k.body["secret"])));
      const created = await only("api_key.created", id);
      assert.equal(field(created, "after", "name"), "ci");
      await ok("POST", `${base()}/api_keys/${id}/revoke`, { key: org.ownerKey });
      const revoked = await only("api_key.revoked", id);
      assert.equal(field(revoked, "before", "revoked_at"), null);
      assert.equal(typeof field(revoked, "after", "revoked_at"), "string");
      await ok("POST", `${base()}/api_keys/${id}/revoke`, { key: org.ownerKey });
      await only("api_key.revoked", id); // revoking again changes nothing and records nothing
    });

    test("spending limits: set (before null), changed (before → after), deleted (after null)", async () => {
      const set = await ok("POST", `${base()}/spend_limits`, { key: org.ownerKey, body: { scope: "organization", period: "monthly", amount: String(50 * USD) } });
      const id = String(set.body["id"]);
      await ok("POST", `${base()}/spend_limits`, { key: org.ownerKey, body: { scope: "organization", period: "monthly", amount: String(80 * USD) } });
      const sets = (await log("&action=spend_limit.set")).filter((e) => (e["target"] as Json)["id"] === id);
      assert.deepEqual(
        sets.map((e) => [field(e, "before", "amount") ?? null, field(e, "after", "amount")]),
        [[String(50 * USD), String(80 * USD)], [null, String(50 * USD)]],
      );
      await ok("DELETE", `${base()}/spend_limits/${id}`, { key: org.ownerKey });
      const deleted = await only("spend_limit.deleted", id);
      assert.equal(field(deleted, "before", "amount"), String(80 * USD));
      assert.equal(deleted["after"], null);
    });

    test("grants: created and voided through the batcher, each once; an Idempotency-Key replay records nothing more", async () => {
      const headers = { "idempotency-key": "grant-once" };
      const g = await ok("POST", `${base()}/grants`, { body: { kind: "promotional", amount: String(3 * USD) }, headers });
      const again = await ok("POST", `${base()}/grants`, { body: { kind: "promotional", amount: String(3 * USD) }, headers });
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      const id = String(g.body["id"]);
      const created = await only("grant.created", id);
      assert.equal(field(created, "after", "amount"), String(3 * USD));
      assert.equal(created["request_id"], g.headers.get("request-id"));
      await ok("POST", `${base()}/grants/${id}/void`, { headers: { "idempotency-key": "void-once" } });
      await ok("POST", `${base()}/grants/${id}/void`, { headers: { "idempotency-key": "void-once" } });
      const voided = await only("grant.voided", id);
      assert.deepEqual([field(voided, "before", "status"), field(voided, "after", "status")], ["active", "voided"]);
      assert.deepEqual([field(voided, "before", "remaining"), field(voided, "after", "remaining")], [String(3 * USD), "0"]);
    });

    test("money in: card, purchase (created, then resolved with its grant), credit requests approved and declined, auto-reload settings", async () => {
      const pm = await ok("POST", `${base()}/payment_methods`, { key: org.ownerKey, body: { card_number: "4242424242424242" } });
      const pmId = String(pm.body["id"]);
      const card = await only("payment_method.created", pmId);
      assert.equal(field(card, "after", "last4"), "4242");
      const headers = { "idempotency-key": "buy-once" };
      const buy = await ok("POST", `${base()}/purchases`, { key: org.ownerKey, body: { amount: String(10 * USD), payment_method_id: pmId }, headers });
      await ok("POST", `${base()}/purchases`, { key: org.ownerKey, body: { amount: String(10 * USD), payment_method_id: pmId }, headers });
      const payId = String(buy.body["id"]);
      const created = await only("payment.created", payId);
      assert.equal(field(created, "after", "status"), "pending");
      const resolved = await only("payment.resolved", payId);
      assert.deepEqual([field(resolved, "before", "status"), field(resolved, "after", "status")], ["pending", "succeeded"]);
      assert.equal(field(resolved, "after", "grant_id"), buy.body["grant_id"]);

      const member = await addMember(h, org.orgId, { role: "member" });
      const ask = async () => String((await ok("POST", `${base()}/credit_requests`, { key: member.key, body: { amount: String(5 * USD) } })).body["id"]);
      const approveId = await ask();
      await ok("POST", `${base()}/credit_requests/${approveId}/approve`, { key: org.ownerKey, body: { payment_method_id: pmId } });
      const approved = await only("credit_request.approved", approveId);
      assert.deepEqual([field(approved, "before", "status"), field(approved, "after", "status")], ["pending", "approved"]);
      const declineId = await ask();
      await ok("POST", `${base()}/credit_requests/${declineId}/decline`, { key: org.ownerKey });
      const declined = await only("credit_request.declined", declineId);
      assert.deepEqual([field(declined, "before", "status"), field(declined, "after", "status")], ["pending", "declined"]);

      await ok("PUT", `${base()}/auto_reload`, { key: org.ownerKey, body: { enabled: true, threshold: String(1 * USD), amount: String(10 * USD), payment_method_id: pmId } });
      await ok("PUT", `${base()}/auto_reload`, { key: org.ownerKey, body: { enabled: false, threshold: String(2 * USD), amount: String(10 * USD), payment_method_id: pmId } });
      const reload = await log("&target_type=auto_reload");
      assert.deepEqual(
        reload.map((e) => [field(e, "before", "threshold") ?? null, field(e, "after", "threshold"), field(e, "after", "enabled")]),
        [[String(1 * USD), String(2 * USD), false], [null, String(1 * USD), true]],
      );
      await ok("DELETE", `${base()}/payment_methods/${pmId}`, { key: org.ownerKey });
      assert.equal(typeof field(await only("payment_method.removed", pmId), "after", "detached_at"), "string");
      await h.app.services.moneyIn.idle();
    });

    test("SDK-credit settings and webhook endpoints (never their signing secret)", async () => {
      await ok("PUT", `${base()}/sdk_credits`, { key: org.ownerKey, body: { pooled: true } });
      const pooled = await only("sdk_credits.updated", org.orgId);
      assert.deepEqual([pooled["before"], field(pooled, "after", "pooled")], [null, true]);
      const e = await ok("POST", `${base()}/webhook_endpoints`, { key: org.ownerKey, body: { url: "http://127.0.0.1:9/hook" } });
      secrets.push(String(e.body["secret"]));
      const id = String(e.body["id"]);
      assert.equal(field(await only("webhook_endpoint.created", id), "after", "secret"), undefined);
      await ok("DELETE", `${base()}/webhook_endpoints/${id}`, { key: org.ownerKey });
      await only("webhook_endpoint.deleted", id);
    });

    test("monthly SDK credits: a claim and its grant by the member; the next cycle's grant by the system", async () => {
      await ok("POST", `${base()}/members/${org.ownerId}/sdk_credits/claim`, { key: org.ownerKey });
      const claimed = await only("sdk_credits.claimed", org.ownerId);
      assert.equal((claimed["actor"] as Json)["type"], "api_key");
      const grantsBefore = (await log("&action=grant.created")).length;
      h.clock.advance(31 * 86_400_000); // into the next calendar month
      assert.equal(await h.app.runJobs(), true);
      await h.app.services.moneyIn.idle();
      const grants = await log("&action=grant.created");
      assert.equal(grants.length, grantsBefore + 1, "the refresh job granted the new cycle once");
      assert.deepEqual(grants[0]?.["actor"], { type: "system", id: null, member_id: null });
      assert.equal(field(grants[0] as Json, "after", "kind"), "monthly");
    });

    test("filters and paging: by target, and newest-first pages that join up", async () => {
      const all = await log();
      assert.ok(all.length >= 20, `entries so far: ${all.length}`);
      const byTarget = await log(`&target_type=member&target_id=${org.ownerId}`);
      assert.ok(byTarget.length >= 1 && byTarget.every((e) => (e["target"] as Json)["id"] === org.ownerId));
      const paged: Json[] = [];
      let cursor: unknown = null;
      do {
        const r = await ok("GET", `${base()}/audit_log?limit=7${cursor ? `&before=${String(cursor)}` : ""}`);
        paged.push(...(r.body["data"] as Json[]));
        cursor = r.body["next_cursor"];
      } while (cursor);
      assert.deepEqual(paged.map((e) => e["id"]), all.map((e) => e["id"]));
      const bad = await h.request("GET", `${base()}/audit_log?action=money.stolen`);
      assert.equal(bad.status, 400);
    });

    test("owner, admin and billing read the log; a member may not; another organization sees 404", async () => {
      const roles = { admin: await addMember(h, org.orgId, { role: "admin" }), billing: await addMember(h, org.orgId, { role: "billing" }), member: await addMember(h, org.orgId, { role: "member" }) };
      assert.equal((await h.request("GET", `${base()}/audit_log`, { key: roles.admin.key })).status, 200);
      assert.equal((await h.request("GET", `${base()}/audit_log`, { key: roles.billing.key })).status, 200);
      assert.equal((await h.request("GET", `${base()}/audit_log`, { key: roles.member.key })).status, 403);
      const other = await createOrg(h);
      assert.equal((await h.request("GET", `${base()}/audit_log`, { key: other.ownerKey })).status, 404);
      const theirs = (await h.request("GET", `/v1/organizations/${other.orgId}/audit_log`, { key: other.ownerKey })).body["data"] as Json[];
      assert.ok(theirs.every((e) => e["org_id"] === other.orgId), "each organization sees only its own entries");
    });

    test("no secret, key hash or card token ever reaches the table, and the table refuses UPDATE and DELETE", async () => {
      const driver = rawDriver(db);
      try {
        const rows = await driver.transaction((q) => q.all("SELECT * FROM audit_log"));
        const text = JSON.stringify(rows);
        for (const secret of secrets) assert.ok(!text.includes(secret), `the audit table holds no secret (${secret.slice(0, 6)}…)`);
        assert.ok(!/"(hash|secret|token)"/.test(text), "no hash, secret or token field in any snapshot");
        await assert.rejects(driver.transaction((q) => q.run("UPDATE audit_log SET action = 'x'")), /append-only/);
        await assert.rejects(driver.transaction((q) => q.run("DELETE FROM audit_log")), /append-only/);
        const after = await driver.transaction((q) => q.all("SELECT COUNT(*) AS c FROM audit_log"));
        assert.equal(Number(after[0]?.["c"]), rows.length);
      } finally {
        await driver.close();
      }
    });
  });
}
