// Monthly SDK credits over real HTTP, on SQLite and on PostgreSQL (issue 3, acceptance 4): claimed,
// drained first for an eligible surface, never for an ineligible one, gone at the cycle's end with a
// breakage entry, refreshed for the next cycle; the pooled variant respects its cap.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

const APRIL = Date.parse("2026-04-01T00:00:00Z");
const MAY = Date.parse("2026-05-01T00:00:00Z");
const HOUR = 3_600_000;

for (const backend of backends()) {
  describe(`monthly SDK credits on ${backend.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const claim = (orgId: string, memberId: string, key?: string) =>
      h.request("POST", `${base(orgId)}/members/${memberId}/sdk_credits/claim`, key === undefined ? {} : { key });
    const status = async (orgId: string, memberId: string) => (await h.request("GET", `${base(orgId)}/members/${memberId}/sdk_credits`)).body;
    const grants = async (orgId: string) => (await h.request("GET", `${base(orgId)}/grants`)).body["data"] as Json[];
    const monthly = async (orgId: string) => (await grants(orgId)).filter((g) => g["kind"] === "monthly");
    const authorize = (orgId: string, key: string, body: Json) => h.request("POST", `${base(orgId)}/authorize`, { key, body: { model: "claude-sonnet-4-5", ...body } });
    const hold = (r: { body: Json }) => r.body["hold"] as Json;
    const draws = (r: { body: Json }) => (hold(r)["draws"] as Json[]).map((d) => [d["grant_id"], d["amount"]]);
    const transactions = async (orgId: string) => (await h.request("GET", `${base(orgId)}/transactions?limit=500`)).body["data"] as Json[];
    /** Runs the scheduled jobs in a fresh tick (each tick runs once). */
    const tick = async () => {
      h.clock.advance(HOUR);
      assert.equal(await h.app.runJobs(), true, "this instance claimed the tick");
    };

    test("acceptance 4: claimed, drained first for sdk, never for interactive, expired to breakage at the cycle's end, refreshed for the next cycle", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: true });
      const usageGrant = await grant(h, orgId, { amount: String(50 * USD) }); // promotional, priority 5, no expiry
      const dev = await addMember(h, orgId, { role: "member" }, "sdk");
      const interactive = await h.request("POST", `${base(orgId)}/api_keys`, { body: { member_id: dev.memberId, name: "chat", surface: "interactive" } });
      assert.equal(interactive.status, 201);
      const chatKey = String(interactive.body["secret"]);
      const other = await addMember(h, orgId, { role: "member" });

      // Not claimed yet: nothing granted, the seat's amount is the Pro default ($20).
      const before0 = await status(orgId, dev.memberId);
      assert.equal(before0["claimed"], false);
      assert.equal(before0["seat_amount"], String(20 * USD));
      assert.equal(before0["current_cycle"], null);
      assert.equal((await monthly(orgId)).length, 0);

      // Another member may not claim for the developer; the developer can.
      const refused = await claim(orgId, dev.memberId, other.key);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      const claimed = await claim(orgId, dev.memberId, dev.key);
      assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
      assert.equal(claimed.body["already_claimed"], false);
      assert.equal(claimed.body["claimed"], true);
      const current = claimed.body["current_cycle"] as Json;
      assert.equal(current["amount"], String(20 * USD));
      const march = current["grant"] as Json;
      assert.equal(march["kind"], "monthly");
      assert.equal(march["priority"], 0);
      assert.equal(march["member_id"], dev.memberId);
      assert.deepEqual(march["surfaces"], ["sdk", "cli_headless", "ci"]);
      assert.equal(march["expires_at"], "2026-04-01T00:00:00.000Z", "the billing cycle is the calendar month in UTC");
      const marchId = String(march["id"]);

      // Claimed once: claiming again grants nothing more.
      const again = await claim(orgId, dev.memberId, dev.key);
      assert.equal(again.status, 200);
      assert.equal(again.body["already_claimed"], true);
      assert.deepEqual((await monthly(orgId)).map((g) => g["id"]), [marchId]);

      // Drained first for an eligible surface (sdk): the monthly grant before the usage credits.
      const a = await authorize(orgId, dev.key, { amount: String(1 * USD) });
      assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.equal(hold(a)["surface"], "sdk");
      assert.deepEqual(draws(a), [[marchId, String(1 * USD)]]);
      assert.equal((await h.request("POST", `${base(orgId)}/holds/${String(hold(a)["id"])}/settle`, { key: dev.key, body: { amount: String(1 * USD) } })).status, 200);
      // Beyond what is left of it ($19), the usage credits pay the rest.
      const big = await authorize(orgId, dev.key, { amount: String(25 * USD) });
      assert.deepEqual(draws(big), [[marchId, String(19 * USD)], [String(usageGrant["id"]), String(6 * USD)]]);
      assert.equal((await h.request("POST", `${base(orgId)}/holds/${String(hold(big)["id"])}/release`, { key: dev.key })).status, 200);

      // Never for an ineligible surface: interactive traffic uses the plan, and fast mode (paid from
      // credits) draws the usage credits only.
      const chat = await authorize(orgId, chatKey, { amount: "1000" });
      assert.equal(hold(chat)["payer"], "plan");
      const fast = await authorize(orgId, chatKey, { amount: String(2 * USD), speed: "fast" });
      assert.equal(fast.status, 201, JSON.stringify(fast.body));
      assert.deepEqual(draws(fast), [[String(usageGrant["id"]), String(2 * USD)]]);
      await h.request("POST", `${base(orgId)}/holds/${String(hold(fast)["id"])}/settle`, { key: chatKey, body: { amount: String(2 * USD) } });
      await h.request("POST", `${base(orgId)}/holds/${String(hold(chat)["id"])}/release`, { key: chatKey });

      // Included credits work with usage credits off; when they are not enough, the request is refused.
      assert.equal((await h.request("PUT", `${base(orgId)}/usage_credits`, { key: ownerKey, body: { is_enabled: false } })).status, 200);
      const off = await authorize(orgId, dev.key, { amount: String(1 * USD) });
      assert.equal(off.status, 201, JSON.stringify(off.body));
      assert.deepEqual(draws(off), [[marchId, String(1 * USD)]]);
      await h.request("POST", `${base(orgId)}/holds/${String(hold(off)["id"])}/settle`, { key: dev.key, body: { amount: String(1 * USD) } });
      const tooMuch = await authorize(orgId, dev.key, { amount: String(30 * USD) });
      assert.equal(tooMuch.status, 403);
      assert.equal((tooMuch.body["error"] as Json)["code"], "usage_credits_disabled");
      assert.equal((await h.request("PUT", `${base(orgId)}/usage_credits`, { key: ownerKey, body: { is_enabled: true } })).status, 200);
      const mid = await status(orgId, dev.memberId);
      assert.equal(((mid["current_cycle"] as Json)["grant"] as Json)["remaining"], String(18 * USD));

      // The cycle ends: what is left ($18) expires to breakage; the April credit is granted.
      h.clock.set(APRIL + 60_000);
      assert.equal(await h.app.runJobs(), true);
      const expired = (await grants(orgId)).find((g) => g["id"] === marchId);
      assert.equal(expired?.["status"], "expired");
      assert.equal(expired?.["remaining"], "0");
      const breakage = (await transactions(orgId)).filter((t) => t["kind"] === "expire" && t["ref"] === marchId);
      assert.equal(breakage.length, 1, "one breakage transaction for the March credit");
      assert.deepEqual(
        (breakage[0]?.["entries"] as Json[]).map((e) => [e["account"], e["amount"]]).sort(),
        [[`grant:${marchId}`, String(-18 * USD)], ["revenue:breakage", String(18 * USD)]].sort(),
      );
      const april = (await monthly(orgId)).filter((g) => g["status"] === "active");
      assert.equal(april.length, 1, "refreshed: exactly one active monthly grant");
      assert.equal(april[0]?.["amount"], String(20 * USD), "no rollover: a fresh $20, not $38");
      assert.equal(april[0]?.["expires_at"], "2026-05-01T00:00:00.000Z");
      assert.equal(april[0]?.["member_id"], dev.memberId);
      const aprilId = String(april[0]?.["id"]);
      const s = await status(orgId, dev.memberId);
      assert.equal(((s["current_cycle"] as Json)["grant"] as Json)["id"], aprilId);
      assert.equal((s["cycle"] as Json)["month"], "2026-04");

      // The refresh runs on every tick but grants once per cycle; the new credit is drained first again.
      await tick();
      await tick();
      assert.equal((await monthly(orgId)).length, 2, "March and April, nothing more");
      const next = await authorize(orgId, dev.key, { amount: String(3 * USD) });
      assert.deepEqual(draws(next), [[aprilId, String(3 * USD)]]);
      await h.request("POST", `${base(orgId)}/holds/${String(hold(next)["id"])}/release`, { key: dev.key });

      // And once more at the next boundary.
      h.clock.set(MAY + 60_000);
      assert.equal(await h.app.runJobs(), true);
      const active = (await monthly(orgId)).filter((g) => g["status"] === "active");
      assert.deepEqual(active.map((g) => g["expires_at"]), ["2026-06-01T00:00:00.000Z"]);
      assert.equal((await transactions(orgId)).filter((t) => t["kind"] === "expire" && t["ref"] === aprilId).length, 1);
      const v = await verifyLedger(h);
      assert.deepEqual(v.violations, []);
      assert.equal(v.ok, true);
    });

    test("pooled: the opted-in members' seat amounts pooled into org-level credit, never above the cap; a new cap applies from the next cycle", async () => {
      h.clock.set(Date.parse("2026-07-10T12:00:00Z"));
      const { orgId, ownerKey } = await createOrg(h, { plan: "team", usageCredits: false });
      const put = await h.request("PUT", `${base(orgId)}/sdk_credits`, { key: ownerKey, body: { pooled: true } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body["pooled"], true);
      assert.equal(put.body["pool_cap"], String(500 * USD), "the default cap: $500 per cycle");
      // Six premium seats ($100 each): $600 of seat amounts against a $500 cap.
      const premium = [];
      for (let i = 0; i < 6; i++) premium.push(await addMember(h, orgId, { role: "member", seat_tier: "premium" }, "sdk"));
      for (const m of premium) assert.equal((await claim(orgId, m.memberId, m.key)).status, 200);

      const july = await h.request("GET", `${base(orgId)}/sdk_credits`);
      assert.equal(july.status, 200);
      const pool = july.body["pool"] as Json;
      assert.equal(pool["granted"], String(500 * USD), "capped at $500");
      const shares = (july.body["members"] as Json[]).map((m) => String((m["current_cycle"] as Json)["amount"])).sort();
      assert.deepEqual(shares, ["0", ...Array(5).fill(String(100 * USD))], "the sixth claim found the pool full");
      const julyGrants = await monthly(orgId);
      assert.ok(julyGrants.every((g) => g["member_id"] === null), "pooled credit is not member-restricted");
      assert.equal(julyGrants.reduce((t, g) => t + Number(g["amount"]), 0), 500 * USD);

      // Any member's SDK traffic draws on the pool — also a member who did not claim (the owner).
      const ownerSdk = await h.request("POST", `${base(orgId)}/api_keys`, { key: ownerKey, body: { name: "owner sdk", surface: "sdk" } });
      const r = await authorize(orgId, String(ownerSdk.body["secret"]), { amount: String(1 * USD) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(julyGrants.some((g) => g["id"] === draws(r)[0]?.[0]));
      await h.request("POST", `${base(orgId)}/holds/${String(hold(r)["id"])}/settle`, { key: ownerKey, body: { amount: String(1 * USD) } });

      // A lower cap applies from the next cycle: one org-level grant of $250, this cycle's leftovers expire.
      assert.equal((await h.request("PUT", `${base(orgId)}/sdk_credits`, { key: ownerKey, body: { pooled: true, pool_cap: String(250 * USD) } })).status, 200);
      assert.equal(((await h.request("GET", `${base(orgId)}/sdk_credits`)).body["pool"] as Json)["granted"], String(500 * USD), "this cycle's grants stay");
      h.clock.set(Date.parse("2026-08-01T00:00:30Z"));
      assert.equal(await h.app.runJobs(), true);
      const august = (await monthly(orgId)).filter((g) => g["status"] === "active");
      assert.equal(august.length, 1, "one org-level grant per cycle");
      assert.equal(august[0]?.["amount"], String(250 * USD));
      assert.equal(august[0]?.["member_id"], null);
      const expiredJuly = (await transactions(orgId)).filter((t) => t["kind"] === "expire");
      assert.equal(expiredJuly.length, julyGrants.length);
      const broken = expiredJuly.flatMap((t) => t["entries"] as Json[]).filter((e) => e["account"] === "revenue:breakage").reduce((t, e) => t + Number(e["amount"]), 0);
      assert.equal(broken, 499 * USD, "July's $500 less the $1 spent went to breakage");
      await tick();
      assert.equal((await monthly(orgId)).filter((g) => g["status"] === "active").length, 1, "the refresh is idempotent");

      // Back to per member: from the next cycle each claimant gets their own seat amount.
      assert.equal((await h.request("PUT", `${base(orgId)}/sdk_credits`, { key: ownerKey, body: { pooled: false } })).status, 200);
      h.clock.set(Date.parse("2026-09-01T00:00:30Z"));
      assert.equal(await h.app.runJobs(), true);
      const september = (await monthly(orgId)).filter((g) => g["status"] === "active");
      assert.deepEqual(september.map((g) => g["member_id"]).sort(), premium.map((m) => m.memberId).sort());
      assert.ok(september.every((g) => g["amount"] === String(100 * USD)));
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });

    test("a plan without SDK credit cannot claim (409, nothing recorded); status and settings need the right roles", async () => {
      const { orgId, ownerId, ownerKey } = await createOrg(h, { plan: "free" });
      const r = await claim(orgId, ownerId, ownerKey);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal((r.body["error"] as Json)["code"], "conflict");
      assert.equal((await status(orgId, ownerId))["claimed"], false);
      const member = await addMember(h, orgId, { role: "member" });
      assert.equal((await h.request("PUT", `${base(orgId)}/sdk_credits`, { key: member.key, body: { pooled: true } })).status, 403);
      assert.equal((await h.request("GET", `${base(orgId)}/sdk_credits`, { key: member.key })).status, 200);
      // An owner claims for a member on a plan that has credit (the org upgrades).
      assert.equal((await h.request("PATCH", base(orgId), { key: ownerKey, body: { plan_id: "max_5x" } })).status, 200);
      const byOwner = await claim(orgId, member.memberId, ownerKey);
      assert.equal(byOwner.status, 200, JSON.stringify(byOwner.body));
      assert.equal(byOwner.body["claimed_by"], ownerId);
      assert.equal((byOwner.body["current_cycle"] as Json)["amount"], String(100 * USD), "Max 5x: $100");
    });
  });
}
