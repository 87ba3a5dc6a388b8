// Dashboard sign-in and sessions over real HTTP, on SQLite and PostgreSQL: passwords (scrypt,
// never stored in the clear), the session cookie's attributes, the CSRF token on every change,
// roles enforced on cookie requests exactly as on API keys (a member replaying the dashboard's
// requests cannot move money or limits), sign-in throttling per account and per address (429 +
// Retry-After), sign-out and expiry, the dashboard's security headers, and the usage breakdown
// whose totals equal the usage records'.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { cookieRequest, setPassword, signIn } from "./support/dashboard.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

const PASSWORD = "correct horse battery";
const WINDOW_S = 600;

type Json = Record<string, unknown>;
const code = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];

for (const backend of backends()) {
  describe(`dashboard sign-in on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), {
        USAGE_CREDITS_SIGNIN_MAX_FAILURES: "3",
        USAGE_CREDITS_SIGNIN_MAX_ADDRESS_FAILURES: "8",
        USAGE_CREDITS_SIGNIN_WINDOW_SECONDS: String(WINDOW_S),
        USAGE_CREDITS_SESSION_HOURS: "2",
      });
    });
    after(async () => {
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, []);
      await h.close();
      await backend.cleanup();
    });

    const ownerOf = async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const owner = await h.request("GET", `/v1/organizations/${org.orgId}/members/${org.ownerId}`);
      return { ...org, email: String(owner.body["email"]) };
    };

    test("a password is stored only as a salted scrypt hash; the cookie is HttpOnly, SameSite=Strict; the session acts as the member", async () => {
      const { orgId, ownerId, email } = await ownerOf();
      const short = await h.request("PUT", `/v1/organizations/${orgId}/members/${ownerId}/password`, { body: { password: "short" } });
      assert.equal(short.status, 400);
      assert.equal(code(short), "invalid_request");
      await setPassword(h, orgId, ownerId, PASSWORD);
      await setPassword(h, orgId, ownerId, PASSWORD); // setting again replaces it
      const stored = await h.app.services.store.read((tx) => tx.dashboard.passwordsByEmail(email));
      assert.equal(stored.length, 1);
      assert.match(stored[0]?.hash ?? "", /^scrypt\$15\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
      assert.ok(!stored[0]?.hash.includes(PASSWORD));

      const s = await signIn(h, email.toUpperCase(), PASSWORD); // emails match case-insensitively
      assert.match(s.setCookie, /^uc_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=7200$/);
      const me = await s.request("GET", "/v1/dashboard/session");
      assert.equal(me.status, 200);
      assert.equal(me.body["signed_in"], true);
      assert.equal((me.body["member"] as Json)["id"], ownerId);
      assert.deepEqual(me.body["permissions"], ["read", "manage", "billing", "audit", "meter"]);
      assert.equal(me.body["csrf_token"], s.csrf);
      const summary = await s.request("GET", `/v1/organizations/${orgId}/usage_summary`);
      assert.equal(summary.status, 200);
      assert.equal(summary.body["member_id"], ownerId);
      // Another organization's data is not found, as with the member's API key.
      const other = await createOrg(h);
      assert.equal((await s.request("GET", `/v1/organizations/${other.orgId}`)).status, 404);
      // Without a cookie the probe answers 200 signed_in: false (the sign-in page loads cleanly).
      const anon = await cookieRequest(h, null, "GET", "/v1/dashboard/session");
      assert.equal(anon.status, 200);
      assert.equal(anon.body["signed_in"], false);
    });

    test("every cookie-authenticated change needs the session's CSRF token; GETs do not", async () => {
      const { orgId, ownerId, email } = await ownerOf();
      await setPassword(h, orgId, ownerId, PASSWORD);
      const s = await signIn(h, email, PASSWORD);
      const body = { scope: "organization", period: "monthly", amount: String(100 * USD) };
      for (const csrf of [null, "wrong-token", `${s.csrf}x`]) {
        const r = await s.request("POST", `/v1/organizations/${orgId}/spend_limits`, { body, csrf });
        assert.equal(r.status, 403, `csrf ${csrf}`);
        assert.equal(code(r), "csrf_token_invalid");
      }
      assert.equal(((await h.request("GET", `/v1/organizations/${orgId}/spend_limits`)).body["data"] as unknown[]).length, 0, "nothing was written");
      const ok = await s.request("POST", `/v1/organizations/${orgId}/spend_limits`, { body });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      // A token from another session does not fit this one.
      const again = await signIn(h, email, PASSWORD);
      const crossed = await s.request("DELETE", `/v1/organizations/${orgId}/spend_limits/${String(ok.body["id"])}`, { csrf: again.csrf });
      assert.equal(code(crossed), "csrf_token_invalid");
    });

    test("a member without billing rights cannot change money or limits by replaying the dashboard's requests", async () => {
      const { orgId, ownerKey } = await ownerOf();
      await grant(h, orgId, { amount: String(50 * USD) });
      const pm = await h.request("POST", `/v1/organizations/${orgId}/payment_methods`, { key: ownerKey, body: { card_number: "4242424242424242" } });
      assert.equal(pm.status, 201);
      const member = await addMember(h, orgId, { role: "member", email: "plain@acme.test" });
      await setPassword(h, orgId, member.memberId, PASSWORD, ownerKey);
      const s = await signIn(h, "plain@acme.test", PASSWORD);
      const me = await s.request("GET", "/v1/dashboard/session");
      assert.deepEqual(me.body["permissions"], ["read", "meter"]);
      const base = `/v1/organizations/${orgId}`;
      const attempts: Array<[string, string, unknown]> = [
        ["POST", `${base}/purchases`, { amount: String(20 * USD), payment_method_id: pm.body["id"] }],
        ["POST", `${base}/payment_methods`, { card_number: "4242424242424242" }],
        ["PUT", `${base}/auto_reload`, { enabled: true, threshold: String(10 * USD), mode: "amount", amount: String(20 * USD), payment_method_id: pm.body["id"] }],
        ["POST", `${base}/spend_limits`, { scope: "member", scope_id: member.memberId, period: "monthly", amount: null }],
        ["PUT", `${base}/usage_credits`, { is_enabled: true }],
        ["PATCH", `${base}/members/${member.memberId}`, { role: "owner" }],
        ["PUT", `${base}/members/${member.memberId}/password`, { password: "another long password" }],
        ["POST", `${base}/api_keys`, { name: "mine", surface: "interactive" }],
      ];
      for (const [method, path, body] of attempts) {
        const r = await s.request(method, path, { body });
        assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(code(r), "forbidden");
      }
      const summary = await s.request("GET", `${base}/usage_summary`);
      assert.equal((summary.body["usage_credits"] as Json)["balance"], String(50 * USD), "no money moved");
      assert.equal(((await h.request("GET", `${base}/spend_limits`)).body["data"] as unknown[]).length, 0, "no limit was set");
      // What a member may do: read, and ask for credits.
      const ask = await s.request("POST", `${base}/credit_requests`, { body: { amount: String(30 * USD), note: "for the demo" } });
      assert.equal(ask.status, 201, JSON.stringify(ask.body));
    });

    test("failed sign-ins are throttled per account (429 + Retry-After, even for the right password) until the window passes", async () => {
      const { orgId, ownerId, email } = await ownerOf();
      await setPassword(h, orgId, ownerId, PASSWORD);
      const attempt = (password: string) => cookieRequest(h, null, "POST", "/v1/dashboard/session", { body: { email, password } });
      for (let i = 0; i < 3; i++) {
        const r = await attempt("not the password");
        assert.equal(r.status, 401);
        assert.equal(code(r), "invalid_credentials");
      }
      const locked = await attempt(PASSWORD);
      assert.equal(locked.status, 429);
      assert.equal(code(locked), "too_many_sign_in_attempts");
      assert.equal(locked.headers.get("retry-after"), String(WINDOW_S));
      assert.equal(locked.headers.get("set-cookie"), null);
      h.clock.advance(WINDOW_S * 1000 + 1);
      const r = await attempt(PASSWORD);
      assert.equal(r.status, 201, "the window passed");
      // A success clears the account's count.
      assert.equal((await attempt("nope")).status, 401);
      assert.equal((await attempt(PASSWORD)).status, 201);
    });

    test("failed sign-ins are throttled per client address across accounts; unknown emails count too", async () => {
      h.clock.advance(WINDOW_S * 1000 + 1); // a fresh window for this loopback address
      const { orgId, ownerId, email } = await ownerOf();
      await setPassword(h, orgId, ownerId, PASSWORD);
      for (let i = 0; i < 8; i++) {
        const r = await cookieRequest(h, null, "POST", "/v1/dashboard/session", { body: { email: `nobody-${i}@acme.test`, password: "whatever it is" } });
        assert.equal(r.status, 401, `attempt ${i}`);
        assert.equal(code(r), "invalid_credentials", "an unknown email reads exactly like a wrong password");
      }
      const r = await cookieRequest(h, null, "POST", "/v1/dashboard/session", { body: { email, password: PASSWORD } });
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get("retry-after")) > 0);
      h.clock.advance(WINDOW_S * 1000 + 1);
    });

    test("sign-out ends the session everywhere; a password change ends the member's sessions; a session expires after its lifetime", async () => {
      const { orgId, ownerId, email } = await ownerOf();
      await setPassword(h, orgId, ownerId, PASSWORD);
      const s = await signIn(h, email, PASSWORD);
      const out = await s.request("DELETE", "/v1/dashboard/session");
      assert.equal(out.status, 200);
      assert.match(out.headers.get("set-cookie") ?? "", /^uc_session=; .*Max-Age=0/);
      const after = await s.request("GET", `/v1/organizations/${orgId}`);
      assert.equal(after.status, 401);
      assert.equal(code(after), "unauthenticated");

      // A new password ends the member's sessions.
      const before = await signIn(h, email, PASSWORD);
      await setPassword(h, orgId, ownerId, `${PASSWORD} 2`);
      assert.equal((await before.request("GET", `/v1/organizations/${orgId}`)).status, 401, "the old session ended with the password change");
      await setPassword(h, orgId, ownerId, PASSWORD);

      const t = await signIn(h, email, PASSWORD);
      assert.equal((await t.request("GET", `/v1/organizations/${orgId}`)).status, 200);
      h.clock.advance(2 * 3_600_000 + 1);
      assert.equal((await t.request("GET", `/v1/organizations/${orgId}`)).status, 401, "expired after USAGE_CREDITS_SESSION_HOURS");
    });

    test("fast mode is allowed per member as well as per organization", async () => {
      const { orgId, ownerKey } = await ownerOf();
      await grant(h, orgId, { amount: String(10 * USD) });
      const m = await addMember(h, orgId, { role: "member" });
      const fast = (speed: string) =>
        h.request("POST", `/v1/organizations/${orgId}/usage_events`, { key: m.key, body: { event_id: `f-${Math.random().toString(36).slice(2)}`, model: "claude-opus-4-6", speed, amount: "1000" } });
      assert.equal((await fast("fast")).status, 201, "allowed by default");
      const off = await h.request("PATCH", `/v1/organizations/${orgId}/members/${m.memberId}`, { key: ownerKey, body: { fast_mode_enabled: false } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body["fast_mode_enabled"], false);
      const refused = await fast("fast");
      assert.equal(refused.status, 403);
      assert.equal(code(refused), "fast_mode_disabled");
      assert.equal((await fast("standard")).status, 201, "standard speed is unaffected");
    });

    test("the dashboard's files carry a strict CSP (no inline script, never framed) and / leads to the dashboard", async () => {
      const root = await fetch(`${h.url}/`, { redirect: "manual" });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get("location"), "/dashboard/");
      const page = await fetch(`${h.url}/dashboard/`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
      const csp = page.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers.get("x-content-type-options"), "nosniff");
      assert.equal(page.headers.get("referrer-policy"), "no-referrer");
      const js = await fetch(`${h.url}/dashboard/js/web/src/main.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.equal((await fetch(`${h.url}/dashboard/js/../../package.json`)).status, 404);
      assert.equal((await fetch(`${h.url}/dashboard/nope.js`)).status, 404);
    });

    test("the usage breakdown sums per day, model, surface, member and speed to the usage records' totals, with tokens", async () => {
      const { orgId, ownerKey } = await ownerOf();
      await grant(h, orgId, { amount: String(100 * USD) });
      const m = await addMember(h, orgId, { role: "member" });
      const usage = (key: string, model: string, speed: string, input: number, output: number) =>
        h.request("POST", `/v1/organizations/${orgId}/usage_events`, {
          key,
          body: { event_id: `ev-${Math.random().toString(36).slice(2)}`, model, speed, usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: 10 } },
        });
      for (const [key, model, speed, i, o] of [
        [ownerKey, "claude-sonnet-4-6", "standard", 1000, 200],
        [ownerKey, "claude-sonnet-4-6", "standard", 3000, 100],
        [m.key, "claude-haiku-4-5", "standard", 500, 50],
        [ownerKey, "claude-opus-4-6", "fast", 100, 10],
      ] as const) {
        const r = await usage(key, model, speed, i, o);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        h.clock.advance(86_400_000);
      }
      const b = await h.request("GET", `/v1/organizations/${orgId}/usage/breakdown?days=30`, { key: ownerKey });
      assert.equal(b.status, 200, JSON.stringify(b.body));
      const cells = b.body["data"] as Json[];
      assert.equal(cells.length, 4, "one cell per day here");
      const records = await h.request("GET", `/v1/organizations/${orgId}/usage`, { key: ownerKey });
      const totals = b.body["totals"] as Json;
      assert.equal(totals["cost"], records.body["total_cost"]);
      assert.equal(totals["credit_cost"], records.body["total_credit_cost"]);
      assert.equal(totals["requests"], 4);
      assert.equal(totals["input_tokens"], 1010 + 3010 + 510 + 110);
      assert.equal(totals["output_tokens"], 360);
      assert.deepEqual(cells.map((c) => c["speed"]), ["standard", "standard", "standard", "fast"]);
      assert.match(String(cells[0]?.["day"]), /^\d{4}-\d{2}-\d{2}$/);
      const bad = await h.request("GET", `/v1/organizations/${orgId}/usage/breakdown?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z`, { key: ownerKey });
      assert.equal(code(bad), "invalid_request");
    });
  });
}
